"""Read-outs of the compositional CIFAR chapter (modscale_lib.chapters.compositional_cifar) on small synthetic
results whose answers are known by hand: seeds whose differences are all equal give an interval of that one value
(a clear verdict), and differences of -0.1 and +0.1 in turn give an interval about 0 ("no difference")."""

import numpy as np
import pytest

from modscale_lib.chapters import compositional_cifar as cr

NAN = np.nan
NAMES = ["mlp", "rand", "match", "rule"]
ROLES = {"monolithic": "mlp", "random": "rand", "matched": "match", "rule": "rule"}
SEEDS = 4
MIXED = np.array([-0.1, 0.1, -0.1, 0.1])  # mean 0: its interval holds 0


def _acc(rows):
    """(method, k, seed) from rows of per-k seed values: each entry a number (every seed) or a (seeds,) array."""
    return np.array(
        [[np.full(SEEDS, v, float) if np.ndim(v) == 0 else np.asarray(v, float) for v in row] for row in rows]
    )


# -- texts ------------------------------------------------------------------------------------------------
def test_ks_text_joins_the_ks_in_words():
    assert cr.ks_text([]) == "none"
    assert cr.ks_text([np.int64(3)]) == "3"
    assert cr.ks_text([1, 2]) == "1 and 2"
    assert cr.ks_text([1, 2, 4]) == "1, 2 and 4"
    with pytest.raises(ValueError, match="ks"):
        cr.ks_text([1.5])


def test_by_verdict_groups_the_ks_in_the_order_of_the_words():
    words = {"lower": "down", "higher": "up", "no difference": "level"}
    assert (
        cr.by_verdict(np.array(["higher", "lower", "higher", "n/a"]), [1, 2, 4, 8], words)
        == "down at k = 2; up at k = 1 and 4"
    )
    assert cr.by_verdict(["n/a", "n/a"], [1, 2], words) == "not measured"
    with pytest.raises(ValueError, match="verdict and ks"):
        cr.by_verdict(["higher"], [1, 2], words)


def test_at_k_leaves_out_the_k_not_measured():
    gain = (np.array([0.1, NAN, -0.25]), np.array([0.05, NAN, -0.3]), np.array([0.15, NAN, -0.2]))
    assert cr.at_k(gain, [1, 2, 4]) == "k = 1: 0.100 [0.050, 0.150]; k = 4: -0.250 [-0.300, -0.200]"
    with pytest.raises(ValueError, match="gain"):
        cr.at_k(gain, [1, 2])


def test_rows_where_and_distinct_row_drop_the_matched_twins():
    table = {"method": ["mlp", "match", "match", "rand"], "k": [1, 1, 2, 1]}
    kept = cr.rows_where(table, lambda row: cr.distinct_row(row, "match", [1]))
    assert kept == {"method": ["mlp", "match", "rand"], "k": [1, 2, 1]}
    pairs = {"comparison": ["match − mlp", "rand − mlp"], "k": [1, 1]}
    assert cr.rows_where(pairs, lambda row: cr.distinct_row(row, "match", [1])) == {
        "comparison": ["rand − mlp"],
        "k": [1],
    }
    with pytest.raises(ValueError, match="one length"):
        cr.rows_where({"a": [1, 2], "b": [1]}, lambda row: True)


def test_twin_ks_and_trained_ks():
    same_as = [{"method": "match", "k": 1}, {"method": "rule", "k": 4}, {"method": "match", "k": 2}]
    assert cr.twin_ks(same_as, "match") == [1, 2]
    acc = np.array([[0.5, 0.6], [0.5, NAN], [NAN, NAN]])  # (k, seed)
    assert cr.trained_ks(acc, [1, 2, 4]) == [1]
    with pytest.raises(ValueError, match="acc"):
        cr.trained_ks(acc, [1, 2])


def test_chapter_values():
    cfg = {"seeds": [0, 1, 2], "n_train": 1000, "noise_sigma": 0.1}
    out = cr.chapter_values(cfg, {"holdout_mod": 5}, [1, 2, 4])
    # 20 of the 100 class pairs sum to a multiple of 5
    assert out == {
        "k_list": "1, 2 and 4",
        "k_max": 4,
        "n_seeds": 3,
        "n_train": 1000,
        "noise_sigma": 0.1,
        "noise_grey": 0.1 * 255,
        "holdout_share": "20%",
    }
    assert type(out["k_max"]) is int and type(out["noise_sigma"]) is float


# -- the tuning's edges -----------------------------------------------------------------------------------
TCFG = {
    "mono_depths": [1, 2, 3],
    "module_widths": [16, 32, 64],
    "max_widen": 3,
    "flops_cap": 100e6,
    "validation_images": 500,
    "n_train": 2000,
    "n_val": 400,
    "batch_size": 64,
    "module_dim": 8,
}


def _mlp(width, depth):
    return {"family": "monolithic", "width": width, "depth": depth}


def _modular(n_modules, module_width):
    return {"family": "modular", "n_modules": n_modules, "module_dim": 8, "module_width": module_width}


def _flops(arch, k):
    # a cost that grows with the first layer and the depth: width * depth MFLOP (modular: M b * w / 16)
    if arch["family"] == "monolithic":
        return arch["width"] * arch["depth"] * 1e6 / 10
    return arch["n_modules"] * arch["module_dim"] * arch["module_width"] * 1e6 / 160


def test_arch_with_and_coordinate_value():
    assert cr.arch_with(_mlp(64, 2), "width", 128) == _mlp(128, 2)
    assert cr.arch_with(_modular(4, 32), "width", 64) == _modular(8, 32)
    assert cr.arch_with(_modular(4, 32), "depth", 16) == _modular(4, 16)
    assert cr.coordinate_value(_modular(4, 32), 0.1, "width") == 32
    assert cr.coordinate_value(_mlp(64, 2), 0.1, "depth") == 2
    assert cr.coordinate_value(_mlp(64, 2), 0.1, "step") == 0.1
    with pytest.raises(ValueError, match="coordinate"):
        cr.arch_with(_mlp(64, 2), "step", 1)
    with pytest.raises(ValueError, match="coordinate"):
        cr.coordinate_value(_mlp(64, 2), 0.1, "turn")


def _runs(method, archs, lrs, k=2):
    return [{"k": k, "method": method, "arch": a, "lr": lr} for a in archs for lr in lrs]


def test_edge_reasons_name_the_cap_the_widening_and_the_fewest_layers():
    runs = _runs("mlp", [_mlp(256, 1), _mlp(512, 1), _mlp(256, 3)], [0.01, 0.1])
    choice = {
        "k": 2,
        "method": "mlp",
        "arch": _mlp(512, 1),
        "lr": 0.1,
        "edges": {"width": True, "depth": True, "step": True},
    }
    # width 1024 is priced at the search depth (2): 1024 * 2 / 10 = 204.8 MFLOP, over the 100 MFLOP cap
    assert cr.edge_reasons(choice, runs, TCFG, _flops) == {
        "width": "1024 would cost 205 MFLOP, over the cap",
        "depth": "one hidden layer, the fewest an MLP has",
        "step": "the largest value tried after 3 widenings",
    }
    low = dict(choice, arch=_mlp(256, 3), lr=0.01)
    # depth 4 at width 256 costs 102.4 MFLOP, over the cap; width 256 is the smallest tried, the step too
    assert cr.edge_reasons(low, runs, TCFG, _flops) == {
        "width": "the smallest value tried after 3 widenings",
        "depth": "4 would cost 102 MFLOP, over the cap",
        "step": "the smallest value tried after 3 widenings",
    }
    cheap = dict(TCFG, flops_cap=1e9)
    assert cr.edge_reasons(choice, runs, cheap, _flops)["width"] == "the largest value tried after 3 widenings"
    assert cr.edge_reasons(dict(choice, edges={"width": False}), runs, TCFG, _flops) == {}
    with pytest.raises(ValueError, match="runs"):
        cr.edge_reasons(dict(choice, k=8), runs, TCFG, _flops)


def test_edge_reasons_of_a_modular_network_double_its_first_layer():
    runs = _runs("rand", [_modular(8, 32), _modular(16, 32)], [0.1])
    choice = {"k": 2, "method": "rand", "arch": _modular(16, 32), "lr": 0.1, "edges": {"width": True}}
    # 32 modules of 8 at the search width w = 32: 256 * 32 / 160 = 51.2 MFLOP, under the cap
    assert cr.edge_reasons(choice, runs, TCFG, _flops) == {"width": "the largest value tried after 3 widenings"}
    assert cr.edge_reasons(choice, runs, dict(TCFG, flops_cap=50e6), _flops) == {
        "width": "256 would cost 51 MFLOP, over the cap"
    }


def test_tuning_edges_and_values():
    runs = (
        _runs("mlp", [_mlp(256, 1), _mlp(512, 1), _mlp(256, 3)], [0.01, 0.1], k=1)
        + _runs("mlp", [_mlp(64, 1), _mlp(64, 3)], [0.01, 0.1], k=2)
        + _runs("rand", [_modular(8, 32), _modular(16, 32)], [0.1], k=1)
        + _runs("rand", [_modular(8, 32), _modular(16, 32)], [0.1], k=2)
    )
    choices = [
        {"k": 1, "method": "mlp", "arch": _mlp(512, 1), "lr": 0.1, "edges": {"width": True, "depth": True}},
        {"k": 2, "method": "mlp", "arch": _mlp(64, 1), "lr": 0.05, "edges": {"width": False}},
        {"k": 1, "method": "rand", "arch": _modular(8, 32), "lr": 0.1, "edges": {}},
        {"k": 2, "method": "rand", "arch": _modular(16, 32), "lr": 0.1, "edges": {"width": True, "step": True}},
    ]
    out = cr.tuning_edges(runs, choices, TCFG, [1, 2], _flops, "mlp", "rand")
    assert out == {
        "mono_width_edge_ks": "1",
        "mono_width_reason": "k = 1: width 1024 would cost 205 MFLOP, over the cap",
        "mono_width_by_cap": "the cost cap put it there",
        "mono_depth_edge_ks": "1 and 2",
        # both MLPs are shallower than the search depth; only k = 2's doubled width (128) fits the cap
        "mono_untried_ks": "2",
        "mono_untried_cost": "k = 2: 13 MFLOP",
        "mod_edges": "at k = 2, the first layer (M b) (the largest value tried after 3 widenings) and "
        "the step (the largest value tried after 3 widenings)",
    }
    with pytest.raises(ValueError, match="choices"):
        cr.tuning_edges(runs, choices[:3], TCFG, [1, 2], _flops, "mlp", "rand")
    values = cr.tuning_values(TCFG, runs, 120.0)
    assert values["mono_d0"] == 2 and values["cap_mflop"] == 100.0 and values["tuning_runs"] == len(runs)
    assert values["tuning_cpu_min"] == 2.0 and values["val_images"] == 500 and values["module_dim"] == 8


def test_rule_objectives():
    runs = [
        {"k": k, "method": m, "score": s}
        for k, m, s in [
            (1, "paper", -2.0),
            (1, "paper", -1.0),
            (1, "defl", -1.5),
            (2, "paper", -3.0),
            (2, "defl", -2.0),
        ]
    ]
    # objectives: paper 1.0 and 3.0, deflation 1.5 and 2.0
    assert cr.rule_objectives(runs, [1, 2], "paper", "defl") == {
        "paper_vs_deflation": "on validation its objective was lower than the deflation variant's at k = 1 and "
        "not lower at k = 2"
    }
    assert cr.rule_objectives(runs, [1], "paper", "defl")["paper_vs_deflation"].endswith("at k = 1")
    with pytest.raises(ValueError, match="runs"):
        cr.rule_objectives(runs, [1, 2, 4], "paper", "defl")


def test_full_values():
    class Full:
        n_images_grid, seeds, epochs = (1, 2, 4), (0, 1, 2, 3, 4), 3

    assert cr.full_values(Full) == {"full_k": "1, 2 and 4", "full_seeds": 5, "full_epochs": 3}


# -- accuracy ---------------------------------------------------------------------------------------------
K = [1, 2, 4]
#: mlp 0.5; random +0.1 at k = 1 and 2, level at k = 4; matched +0.05 at k = 2; the rule -0.1, not run at k = 4
ACC1 = _acc([[0.5, 0.5, 0.5], [0.6, 0.6, 0.5 + MIXED], [0.6, 0.55, 0.5], [0.4, 0.4, NAN]])
PER = np.array([[1.0, 1.0, 1.0], [0.5, 2.0, 3.0], [1.0, 1.0, 1.0], [4.0, 5.0, 6.0]])  # (method, k)


def test_accuracy_gains():
    out = cr.accuracy_gains(ACC1, PER, NAMES, K, [1, 2], ROLES)
    assert out["rand_mono_at_k"].startswith("k = 1: 0.100 [0.100, 0.100]; k = 2: 0.100 [0.100, 0.100]; k = 4: 0.000")
    assert out["rand_mono_verdicts"] == (
        "more accurate than the MLP at k = 1 and 2; not distinguishable from the MLP at k = 4"
    )
    assert out["ratio_random"] == "k = 1: 0.50; k = 2: 2.00; k = 4: 3.00"
    assert out["ratio_rule"] == "k = 1: 4.00; k = 2: 5.00"
    assert (out["better_cheaper_ks"], out["better_dearer_ks"]) == ("1", "2")  # random at 0.5 and 2 times the MLP
    level = _acc([[0.5] * 3, [0.5] * 3, [0.5] * 3, [0.5] * 3])
    out = cr.accuracy_gains(level, PER, NAMES, K, [], ROLES)
    assert (out["better_cheaper_ks"], out["better_dearer_ks"]) == ("none", "none")
    with pytest.raises(ValueError, match="per_composite"):
        cr.accuracy_gains(ACC1, PER[:, :2], NAMES, K, [], ROLES)
    with pytest.raises(ValueError, match="roles"):
        cr.accuracy_gains(ACC1, PER, NAMES, K, [], {"monolithic": "mlp"})
    with pytest.raises(ValueError, match="names"):
        cr.accuracy_gains(ACC1, PER, NAMES[:3], K, [], ROLES)


def test_lead_values():
    out = cr.lead_values(ACC1, PER, NAMES, K, [2], ROLES)
    assert out["match_mono_at_k"] == "k = 2: 0.050 [0.050, 0.050] (higher; compute ratio 1.00)"
    # the lead is 0.1 at k = 1 and 0 on average at k = 4, paired by seed: -0.2, 0, -0.2, 0
    assert (out["lead_growth"], out["lead_growth_word"]) == (
        "-0.100 [-0.200, 0.000]",
        "neither grows nor shrinks within the interval",
    )
    assert out["k_min"] == 1 and out["gain_monolithic_kmax"] == "0.000 [-0.100, 0.100]"
    assert out["gain_monolithic_kmax_verdict"] == "no difference"
    grows = _acc([[0.5, 0.5, 0.5], [0.5, 0.6, 0.7], [0.5, 0.5, 0.5], [0.5, 0.5, 0.5]])
    out = cr.lead_values(grows, PER, NAMES, K, [], ROLES)
    assert (out["lead_growth"], out["lead_growth_word"]) == ("0.200 [0.200, 0.200]", "grows")
    assert out["match_mono_at_k"] == "none" and out["gain_monolithic_kmax_verdict"] == "lower"


def _diag(**arrays):
    return {f"diag_{key}": _acc(rows) for key, rows in arrays.items()}


def test_objective_values():
    res = _diag(
        objective=[[2.0] * 3, [1.0] * 3, [1.0] * 3, [0.8, 1.0, NAN]],
        objective_slot_local=[[0.0] * 3, [1.2, 1.0 + MIXED, 0.9], [0.0] * 3, [0.0] * 3],
    )
    out = cr.objective_values(res, NAMES, K, ROLES)
    assert out["obj_rule_verdicts"] == "lower (better) at k = 1; not distinguishable at k = 2"
    assert out["obj_rule_at_k"] == "k = 1: -0.200 [-0.200, -0.200]; k = 2: 0.000 [0.000, 0.000]"
    assert out["obj_local_verdicts"] == (
        "lower (better) at k = 4; higher (worse) at k = 1; not distinguishable at k = 2"
    )


def test_locality_values():
    res = _diag(
        local_start=[[0.0] * 3, [0.5, 0.3, 0.25], [0.0] * 3, [0.9, 0.5, NAN]],
        local_end=[[0.0] * 3, [0.0] * 3, [0.0] * 3, [0.7, 0.5 + MIXED, NAN]],
        overlap_start=[[0.0] * 3, [0.1] * 3, [0.0] * 3, [0.1, 0.1, NAN]],
        moved_by_rule=[[0.0] * 3, [0.0] * 3, [0.0] * 3, [0.3, 0.2, NAN]],
        moved_by_training=[[0.0] * 3, [0.01, 0.02, 0.04], [0.0] * 3, [0.0] * 3],
    )
    out = cr.locality_values(res, NAMES, K, [1, 2], ROLES)
    assert out["loc_rule_at_k"] == (
        "k = 1: 0.900 [0.900, 0.900] (1/k = 1.000; random 0.500 [0.500, 0.500]); "
        "k = 2: 0.500 [0.500, 0.500] (1/k = 0.500; random 0.300 [0.300, 0.300])"
    )
    assert out["loc_rule_verdicts"] == "more local than random ones at k = 1 and 2"
    assert out["ovl_rule_verdicts"] == "overlap as much as random ones at k = 1 and 2"
    assert out["keep_loc_verdicts"] == "training lowers it at k = 1; training leaves it as it was at k = 2"
    assert out["loc_rule_excess"] == "0.000"  # 0.9 - 1 and 0.5 - 1/2: the largest is 0
    assert out["moved_rule_at_k"] == "k = 1: 0.300 [0.300, 0.300]; k = 2: 0.200 [0.200, 0.200]"
    assert out["moved_training_at_k"] == (
        "k = 1: 0.010 [0.010, 0.010]; k = 2: 0.020 [0.020, 0.020]; k = 4: 0.040 [0.040, 0.040]"
    )


def test_unseen_and_drop_values():
    seen = _acc([[0.8] * 3, [0.8] * 3, [0.8] * 3, [0.8, 0.8, NAN]])
    unseen = _acc([[0.5] * 3, [0.6, 0.6, 0.5], [0.6, 0.7, 0.5], [0.7, 0.5 + MIXED, NAN]])
    noise = _acc([[0.7] * 3, [0.7] * 3, [0.7] * 3, [0.7, 0.7, NAN]])
    occluded = _acc([[0.6] * 3, [0.7] * 3, [0.6] * 3, [0.6, 0.6, NAN]])
    res = {key: a[..., None] for key, a in (("acc_unseen", unseen), ("acc_noise", noise), ("acc_occluded", occluded))}
    out = cr.unseen_values(res, seen, NAMES, K, [4], ROLES)
    # at k = 2 and 4: random (2), matched at k = 2 only (k = 4 is a twin), the rule at k = 2 (not run at 4)
    assert (out["n_unseen_lead"], out["n_unseen_pairs"]) == (2, 4)
    assert out["unseen_lead_list"] == "rand at k = 2; match at k = 2"
    assert out["unseen_rand_mono"] == "above the MLP at k = 2; not distinguishable from the MLP at k = 4"
    # at k = 2, seen minus unseen: mlp 0.3, rand 0.2, rule 0.3 +- 0.1: their mean 0.267 per seed, about
    assert out["unseen_gap_k2"].startswith("0.267 [") and out["unseen_gap_k2_word"] == "harder"
    drops = cr.drop_values(res, seen, NAMES, K, ROLES)
    # the rule was not run at k = 4: the mean over the networks there is not measured
    assert drops["noise_drop"] == "n/a" and drops["occl_at_k"].endswith("k = 4: n/a")
    seen[3, 2], res = 0.8, {key: np.nan_to_num(a, nan=0.7) for key, a in res.items()}  # now it was
    drops = cr.drop_values(res, seen, NAMES, K, ROLES)
    assert drops["unseen_drop_verdicts"] == (
        "costs the random modular network less than the MLP at k = 2; costs both alike within the intervals at k = 4"
    )
    assert drops["noise_drop"] == "-0.100 [-0.100, -0.100]"
    assert drops["occl_drop_verdicts"] == (
        "costs the random modular network less than the MLP (or helps it more) at k = 2 and 4"
    )
    # occluded minus seen at k = 2: mlp -0.2, rand -0.1, rule -0.2; at k = 4 the rule's 0.7 - 0.8 also
    assert drops["occl_at_k"] == "k = 2: -0.167 [-0.167, -0.167]; k = 4: -0.133 [-0.133, -0.133]"
    with pytest.raises(ValueError, match="k_grid"):
        cr.unseen_values(res, seen, NAMES, [1, 3, 4], [], ROLES)


def test_epoch_values():
    acc = np.zeros((2, 2, SEEDS, 3))  # (method, k, seed, epoch)
    acc[0] = np.array([0.5, 0.6, 0.55])  # the MLP peaks at epoch 2
    acc[1, 0], acc[1, 1] = np.array([0.6, 0.7, 0.8]), np.array([0.6, 0.6, 0.6])  # random: epoch 3, then 1
    out = cr.epoch_values(acc, ["mlp", "rand"], [1, 2], 3, SEEDS, "mlp", "rand")
    assert out["q7_gain_min"] == "0.000 [0.000, 0.000]" and out["q7_gain_max"] == "0.200 [0.200, 0.200]"
    assert out["q7_gains"] == (
        "mlp at k = 1: 0.050 [0.050, 0.050]; mlp at k = 2: 0.050 [0.050, 0.050]; "
        "rand at k = 1: 0.200 [0.200, 0.200]; rand at k = 2: 0.000 [0.000, 0.000]"
    )
    assert (out["q7_peak_min"], out["q7_peak_max"], out["q7_peak_text"]) == ("1", "3", "between epoch 1 and epoch 3")
    assert (out["q7_k"], out["q7_epochs"], out["q7_seeds"]) == ("1 and 2", 3, SEEDS)
    assert out["q7_first"] == "k = 1: 0.100 [0.100, 0.100]; k = 2: 0.100 [0.100, 0.100] (higher, higher)"
    assert out["q7_last"] == "k = 1: 0.250 [0.250, 0.250]; k = 2: 0.050 [0.050, 0.050] (higher, higher)"
    assert out["q7_same_ranking"] == "the same"
    acc[1, 1, :, -1] = 0.4  # random ends below the MLP at k = 2
    assert cr.epoch_values(acc, ["mlp", "rand"], [1, 2], 3, SEEDS, "mlp", "rand")["q7_same_ranking"] == "not the same"
    with pytest.raises(ValueError, match="acc_seen"):
        cr.epoch_values(acc[..., :1], ["mlp", "rand"], [1, 2], 1, SEEDS, "mlp", "rand")
    with pytest.raises(ValueError, match="monolithic"):
        cr.epoch_values(acc, ["mlp", "rand"], [1, 2], 3, SEEDS, "MLP", "rand")


# -- conclusions: every value the chapter glues ---------------------------------------------------------------
def _glued_names() -> set:
    """The names the chapter's markdown glues (``{glue:text}`name``` and ``{glue:figure}`` names)."""
    import json
    import re
    from pathlib import Path

    book = Path(__file__).resolve().parent.parent / "book" / "compositional_cifar.ipynb"
    text = "".join("".join(c["source"]) for c in json.loads(book.read_text())["cells"] if c["cell_type"] == "markdown")
    return set(re.findall(r"\{glue:text\}`([A-Za-z0-9_]+)", text))


ROLE = cr.ROLE_METHODS
MONO, RAND, MATCH, RULE = ROLE["monolithic"], ROLE["random"], ROLE["matched"], ROLE["rule"]
DEFLATION = "modular, deflation rule"
S = 4  # seeds


def _record(experiment, config, arrays=None, values=None, cpu_s=60.0):
    from modscale_lib.store import Result

    return Result(experiment, 1, "key", config, values or {}, arrays or {}, {"cpu_time_s": cpu_s})


def _accuracy(mono_k1: float):
    """A synthetic main result at k = 1 and 2, four seeds that agree (so every interval is one value): the MLP
    at ``mono_k1`` (k = 1) and 0.5 (k = 2), the random network 0.1 above it, the matched one the random one at
    k = 1 and 0.05 above the MLP at k = 2, the rule's 0.05 below the random one and trained at k = 2 only."""
    names, ks = [MONO, RAND, MATCH, RULE], [1, 2]
    mono = np.array([mono_k1, 0.5])
    seen = np.stack([mono, mono + 0.1, np.array([mono[0] + 0.1, 0.55]), np.array([NAN, 0.55])])  # (method, k)
    seen = np.repeat(seen[:, :, None, None], S, axis=2)  # (method, k, seed, epoch)
    diag = {
        f"diag_{key}": np.full((4, 2, S), 0.5)
        for key in ("local_start", "local_end", "overlap_start", "moved_by_rule", "moved_by_training")
    }
    diag["diag_objective"] = np.repeat(np.array([10.0, 10.0, 10.0, 8.0])[:, None, None], 2, 1).repeat(S, 2)
    diag["diag_objective_slot_local"] = diag["diag_objective"] + 2.0
    for array in diag.values():
        array[3, 0] = NAN  # the rule's network is not trained at k = 1
    arch = {MONO: _mlp(512, 1), RAND: _modular(8, 32), MATCH: _modular(16, 32), RULE: _modular(8, 32)}
    config = {"methods": names, "n_images_grid": ks, "n_train": 1000, "epochs": 1, "seeds": list(range(S))}
    arrays = {
        "acc_seen": seen,
        "acc_unseen": seen - 0.05,
        "acc_noise": seen - 0.01,
        "acc_occluded": seen,
        "flops": np.array([[1e6, 1e6], [2e6, 2e6], [2e6, 2e6], [2e6, 2e6]]),
        "search_flops": np.array([[NAN, NAN], [NAN, NAN], [NAN, NAN], [NAN, 1e9]]),  # 1 MFLOP per composite
        **diag,
    }
    values = {
        "same_as": [{"method": MATCH, "k": 1, "as": RAND}],
        "settings": [{"k": k, "method": m, "arch": arch[m]} for k in ks for m in names],
    }
    return _record("compositional_accuracy", config | {"noise_sigma": 0.2}, arrays, values)


def _tuning():
    runs = [{"k": k, "method": m, "arch": a, "lr": 0.1} for k in (1, 2) for m, a in ((MONO, _mlp(512, 1)),)]
    runs += [{"k": k, "method": RAND, "arch": _modular(8, 32), "lr": 0.1} for k in (1, 2)]
    runs += [{"k": k, "method": m, "score": s} for k in (1, 2) for m, s in ((RULE, -5.0), (DEFLATION, -6.0))]
    choices = [
        {"k": k, "method": m, "arch": a, "lr": 0.1, "edges": {"width": False, "depth": False, "step": False}}
        for k in (1, 2)
        for m, a in ((MONO, _mlp(512, 1)), (RAND, _modular(8, 32)))
    ]
    return _record("compositional_tuning", TCFG | {"holdout_mod": 5}, values={"runs": runs, "choices": choices})


def _epochs():
    """Two epochs at k = 2: the random network below the MLP after the first, above it after the second."""
    acc = np.zeros((2, 1, S, 2))
    acc[0, 0, :, :], acc[1, 0, :, :] = [0.5, 0.55], [0.45, 0.6]
    config = {"methods": [MONO, RAND], "n_images_grid": [2], "epochs": 2, "seeds": list(range(S))}
    return _record("compositional_accuracy", config, {"acc_seen": acc})


def _checks():
    lossless = np.full((2, 1, S, 1), 0.5)
    config = {"methods": [MONO, RAND], "train_images": 4000}
    return {
        "lossless_check": _record("compositional_accuracy", config, {"acc_seen": lossless}),
        "jpeg_check": _record("compositional_accuracy", config, {"acc_seen": lossless + [[[[0.01]]], [[[-0.02]]]]}),
    }


class _Full:
    n_images_grid, seeds, epochs = (1, 2, 4, 8), tuple(range(10)), 5


def _conclusions(mono_k1=0.6, cap_min=10.0):
    return cr.conclusions(
        _accuracy(mono_k1), _tuning(), _epochs(), _checks(), roles=ROLE, flops=_flops, full=_Full, cap_min=cap_min
    )


def test_conclusions_on_a_synthetic_study_whose_answers_are_known():
    v = _conclusions()
    assert _glued_names() <= set(v)
    assert (v["k_list"], v["n_seeds"], v["twin_ks"], v["own_ks"], v["rule_ks"]) == ("1 and 2", 4, "1", "2", "2")
    assert (v["k1_vs_bar"], v["k1_consequence"], v["k1_mono"]) == (
        "lies above",
        "the baseline meets it",
        "0.600 [0.600, 0.600]",
    )
    assert v["authors_k1"] == 0.529  # the authors' MLP at k = 1
    assert v["rand_mono_verdicts"] == "more accurate than the MLP at k = 1 and 2"
    assert v["k1_rand_vs_mono"] == "above the MLP's, paired by seed (0.100 [0.100, 0.100])"
    assert (
        v["flops_takeaway"] == "above the MLP at k = 1 and 2, at 2.00 to 2.00 times the MLP's operations per composite"
    )
    assert v["ratio_rule"] == "k = 2: 3.00"  # 2 MFLOP of training and 1 of search per composite, against 1
    assert v["rule_rand_verdicts"] == "less accurate than random projections at k = 2"
    assert v["match_mono_at_k"] == "k = 2: 0.050 [0.050, 0.050] (higher; compute ratio 2.00)"
    assert (
        v["matched_archs"]
        == "at k = 2, 16 modules of 8, hidden 32 against 8 modules of 8, hidden 32 and an MLP, 1 x 512"
    )
    assert v["acc_k_falls"] == "for every network shown"
    assert (
        v["obj_rule_verdicts"] == "lower (better) at k = 2"
        and v["obj_local_verdicts"] == "higher (worse) at k = 1 and 2"
    )
    assert (v["unseen_gap_k2"], v["unseen_gap_k2_word"]) == ("0.050 [0.050, 0.050]", "harder")
    assert (v["n_unseen_lead"], v["n_unseen_pairs"]) == (3, 3)  # random, matched and the rule's, at k = 2
    assert v["noise_drop"] == "-0.010 [-0.010, -0.010]"
    assert (v["q7_first"], v["q7_last"]) == (
        "k = 2: -0.050 [-0.050, -0.050] (lower)",
        "k = 2: 0.050 [0.050, 0.050] (higher)",
    )
    assert v["q7_same_ranking"] == "not the same"
    assert (
        v["paper_vs_deflation"] == "on validation its objective was lower than the deflation variant's at k = 1 and 2"
    )
    assert v["jpeg_verdict"] == f"{MONO}: higher on JPEG; {RAND}: lower on JPEG"
    assert (v["check_images"], v["full_k"], v["full_seeds"]) == (4000, "1, 2, 4 and 8", 10)
    assert (v["cost_total_min"], v["cost_cap_min"], v["cost_within"]) == (5.0, 10.0, "within")


def test_conclusions_follow_the_baseline_and_the_cap():
    v = _conclusions(mono_k1=0.4, cap_min=4.0)
    assert v["k1_vs_bar"] == "lies below" and v["k1_consequence"].startswith("the baseline falls short of it")
    assert v["cost_within"] == "over"
    mixed = _accuracy(0.5)
    mixed.arrays["acc_seen"][0, 0, :, 0] = cr.BAR + MIXED  # the MLP's k = 1 interval about the bar
    v = cr.conclusions(mixed, _tuning(), _epochs(), _checks(), roles=ROLE, flops=_flops, full=_Full, cap_min=10.0)
    assert v["k1_vs_bar"] == "contains" and v["k1_consequence"] == "the data cannot tell whether the baseline meets it"


def test_conclusions_refuse_results_of_another_experiment_before_computing():
    with pytest.raises(ValueError, match="res must be a compositional_accuracy result"):
        cr.conclusions(_tuning(), _tuning(), _epochs(), _checks(), roles=ROLE, flops=_flops, full=_Full, cap_min=1.0)
    with pytest.raises(ValueError, match="checks"):
        cr.conclusions(_accuracy(0.6), _tuning(), _epochs(), {}, roles=ROLE, flops=_flops, full=_Full, cap_min=1.0)


def test_conclusions_on_the_stored_results():
    """The chapter's own read-out, on the stored results (read, not computed): every glued name, and the values
    that can be recomputed here from the stored arrays."""
    from modscale_lib import composite_training as ct, experiments, module_diagnostics as md
    from modscale_lib.store import chapter_config, load_or_run

    accuracy, tuning_exp = experiments.compositional_accuracy, experiments.compositional_tuning
    main = chapter_config(accuracy)
    tuning = load_or_run(tuning_exp, chapter_config(tuning_exp, main.tuning), mode="read")
    res = load_or_run(accuracy, main, mode="read")
    long = load_or_run(accuracy, accuracy.config("cpu_epochs"), mode="read")
    checks = {n: load_or_run(accuracy, accuracy.config(n), mode="read") for n in cr.CHECKS}
    full = accuracy.config("full")
    v = cr.conclusions(res, tuning, long, checks, roles=ROLE, flops=ct.training_flops, full=full, cap_min=150.0)
    assert _glued_names() <= set(v)
    names, ks = list(res.config["methods"]), [int(k) for k in res.config["n_images_grid"]]
    mono = np.asarray(res["acc_seen"])[names.index(MONO), ks.index(1), :, 0]
    mean, low, high = md.ci(mono)
    assert v["k1_mono"] == md.ci_text(mean, low, high)
    assert v["k1_vs_bar"] == ("lies above" if low > cr.BAR else "lies below" if high < cr.BAR else "contains")
    stored = [tuning, res, long, *checks.values()]
    assert v["cost_total_min"] == pytest.approx(sum(r.metadata["cpu_time_s"] for r in stored) / 60)
    assert v["cost_within"] == ("within" if v["cost_total_min"] <= 150.0 else "over")
    assert v["n_seeds"] == len(res.config["seeds"]) and v["k_max"] == ks[-1]
    twins = [k for k in ks if any(s["method"] == MATCH and s["k"] == k for s in res["same_as"])]
    assert v["twin_ks"] == cr.ks_text(twins) and v["own_ks"] == cr.ks_text([k for k in ks if k not in twins])
    assert v["check_images"] == checks["jpeg_check"].config["train_images"]
