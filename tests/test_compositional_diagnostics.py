"""The projection diagnostics of modscale_lib.module_diagnostics: overlap, movement, pairwise overlap, locality."""

import numpy as np
import pytest

from modscale_lib import data, module_diagnostics as md


def _orthonormal(rng, *shape):
    return np.linalg.qr(rng.standard_normal(shape))[0]


def test_overlap_is_one_for_the_same_span_and_zero_for_orthogonal_spans():
    rng = np.random.default_rng(0)
    U = _orthonormal(rng, 20, 3)
    mixed = U @ _orthonormal(rng, 3, 3) * 4.0  # same span, other basis and scale
    assert md.subspace_overlap(U, mixed) == pytest.approx(1.0)
    eye = np.eye(20)
    assert md.subspace_overlap(eye[:, :3], eye[:, 3:6]) == pytest.approx(0.0)
    assert md.movement(eye[:, :3], eye[:, [0, 1, 5]]) == pytest.approx(1 / 3)


def test_random_spans_overlap_about_b_over_m():
    rng = np.random.default_rng(1)
    U = np.stack([_orthonormal(rng, 200, 4) for _ in range(400)])
    V = np.stack([_orthonormal(rng, 200, 4) for _ in range(400)])
    assert md.subspace_overlap(U, V).mean() == pytest.approx(4 / 200, rel=0.15)


def test_pairwise_overlap_lists_every_pair_once():
    eye = np.eye(6)
    U = np.stack([eye[:, [0, 1]], eye[:, [1, 2]], eye[:, [3, 4]]])
    np.testing.assert_allclose(md.pairwise_overlap(U), [0.5, 0.0, 0.0])
    assert md.pairwise_overlap(U[None]).shape == (1, 3)


def test_slots_follow_the_composite_layout():
    slots = md.slot_of_feature(3)
    images = np.zeros((3, 32, 32, 3), np.uint8)
    images[1] = 255  # the middle image
    joined = data.composite_features(data.image_features(images), np.array([[0, 1, 2]]))[0]
    lit = joined > 0
    assert set(slots[lit]) == {1} and set(slots[~lit]) == {0, 2}
    assert np.bincount(slots).tolist() == [3072] * 3


def test_locality_is_one_inside_a_slot_and_one_over_k_when_spread():
    k, m = 4, 3072 * 4
    slots = md.slot_of_feature(k)
    inside = np.zeros((m, 2))
    rows = np.flatnonzero(slots == 2)[:2]
    inside[rows, [0, 1]] = 1.0
    assert md.locality(inside, k) == pytest.approx(1.0)
    np.testing.assert_allclose(md.slot_shares(inside, k), [0, 0, 1, 0])
    spread = np.zeros((m, 1))
    spread[[np.flatnonzero(slots == s)[0] for s in range(k)], 0] = 0.5
    assert md.locality(spread, k) == pytest.approx(0.25)


def test_summarise_and_errors():
    rng = np.random.default_rng(2)
    start = np.stack([_orthonormal(rng, 3072 * 2, 3) for _ in range(2)])
    s = md.summarise(start, start, 2)
    assert s["moved"] == pytest.approx(0.0, abs=1e-12) and s["overlap_start"] == s["overlap_end"] < 0.01
    assert 0.5 <= s["local_end"] <= 1
    assert np.isnan(md.summarise(start[:1], start[:1], 2)["overlap_end"])
    with pytest.raises(ValueError, match="rows"):
        md.slot_shares(start[0], 3)
    with pytest.raises(ValueError, match="same shape"):
        md.subspace_overlap(start[0], start[0][:, :2])
    with pytest.raises(ValueError, match="finite"):
        md.orthonormal_basis(np.full((4, 2), np.nan))


# --- the chapter's read-outs -------------------------------------------------------------------------------------
def test_paired_gain_uses_the_seed_pairing():
    rng = np.random.default_rng(0)
    base = rng.uniform(0.2, 0.6, (1, 5))  # large spread over seeds, shared by both methods
    acc = np.stack([base, base + 0.01])
    mean, low, high, verdict = md.paired_gain(acc, 1, 0)
    assert mean[0] == pytest.approx(0.01) and verdict[0] == "higher"
    assert md.paired_gain(acc, 0, 0)[3][0] == "no difference"
    rows = md.paired_table(acc, ["a", "b"], [4], [("b", "a"), ("a", "b")])
    assert rows["comparison"] == ["b - a", "a - b"] and rows["verdict"] == ["higher", "lower"]
    assert rows["difference"][0] == "0.010 [0.010, 0.010]"


def test_number_never_shows_a_signed_zero_and_keeps_three_decimals_otherwise():
    assert md.number(0.4123) == "0.412" and md.number(-0.0123) == "-0.012" and md.number(0.0) == "0.000"
    assert md.number(-0.00022) == "-0.0002" and md.number(0.00038) == "0.0004" and md.number(0.00038, 4) == "0.0004"
    assert md.ci_text(-0.00022, -0.0033, 0.0023) == "-0.0002 [-0.003, 0.002]"
    assert md.ci_text(float("nan"), 0.0, 0.0) == "n/a"


def _result(E=1):
    from modscale_lib.store import Result

    names, grid, S = ["monolithic", "modular, random", "modular, paper rule"], [1, 4], 5
    rng = np.random.default_rng(4)
    acc = 0.4 + rng.uniform(0, 0.01, (3, 2, S, E))
    diag = {
        f"diag_{d}": np.where(np.arange(3)[:, None, None] == 0, np.nan, rng.uniform(0, 1, (3, 2, S)))
        for d in (
            "objective",
            "objective_slot_local",
            "local_start",
            "local_end",
            "overlap_start",
            "overlap_end",
            "moved_by_rule",
            "moved_by_training",
        )
    }
    mlp = {"family": "monolithic", "width": 64, "depth": 2}
    mod = {"family": "modular", "n_modules": 4, "module_dim": 8, "module_width": 16}
    settings = [
        {"k": k, "method": m, "arch": mlp if m == "monolithic" else mod, "lr": 1e-3, "angle": None}
        for k in grid
        for m in names
    ]
    arrays = {
        "acc_seen": acc,
        "params": np.full((3, 2), 1000),
        "flops": np.full((3, 2), 2e6),
        "search_flops": np.array([[0, 0], [0, 0], [4e9, 8e9]]),
        **diag,
    }
    return (
        Result("compositional_accuracy", 3, "key", {"n_train": 1000, "epochs": E}, {"settings": settings}, arrays, {}),
        names,
        grid,
    )


def test_accuracy_table_and_headline():
    res, names, grid = _result()
    rows = md.accuracy_table(res, names, grid)
    assert rows["k"] == [1, 1, 1, 4, 4, 4] and rows["network"][0] == "MLP, 2 x 64"
    assert rows["network"][1] == "4 modules of 8, hidden 16" and rows["MFLOP per composite"][0] == 2.0
    assert rows["rule's search (GFLOP)"][5] == 8.0 and rows["training in all (TFLOP)"][5] == pytest.approx(0.01)
    assert rows["test accuracy per image"][0] == md.ci_text(*md.ci(res["acc_seen"][0, 0, :, 0]))
    line = md.headline(res["acc_seen"][..., 0], names, grid, 1, "monolithic")
    mean, low, high = md.ci(res["acc_seen"][0, 0, :, 0])
    assert line == f"k=1 monolithic: {mean:.3f} [95% CI {low:.3f}, {high:.3f}]"


def test_diagnostics_table_skips_the_mlp_and_pairs_with_random():
    res, names, grid = _result()
    rows = md.diagnostics_table(res, names, grid, "modular, random")
    assert rows["method"] == ["modular, random"] * 2 + ["modular, paper rule"] * 2
    assert rows["objective minus random's"][:2] == ["n/a", "n/a"]
    gap = res["diag_objective"][2, 1] - res["diag_objective"][1, 1]
    assert rows["objective minus random's"][3] == md.ci_text(*md.ci(gap))


def test_a_method_not_trained_at_a_k_has_no_row_and_no_verdict():
    """A rule outside the config's rule_ks (here k = 1) is all NaN: the tables leave its row out, the verdict is
    n/a rather than "no difference"."""
    res, names, grid = _result()
    for key in [k for k in res.arrays if k.startswith(("acc_", "diag_"))] + ["params", "flops", "search_flops"]:
        res.arrays[key] = np.asarray(res.arrays[key], dtype=float)
        res.arrays[key][2, 0] = np.nan
    rows = md.accuracy_table(res, names, grid)
    assert list(zip(rows["k"], rows["method"])) == [(1, names[0]), (1, names[1])] + [(4, n) for n in names]
    assert md.diagnostics_table(res, names, grid, names[1])["k"] == [1, 4, 4]
    assert md.paired_gain(res["acc_seen"][..., 0], 2, 1)[3][0] == "n/a"
    assert md.paired_table(res["acc_seen"][..., 0], names, grid, [(names[2], names[1])])["difference"][0] == "n/a"


def test_tuning_table_names_the_edges():
    mlp = {"family": "monolithic", "width": 64, "depth": 2}
    choices = [
        {
            "k": 2,
            "method": "monolithic",
            "arch": mlp,
            "lr": 1e-3,
            "angle": None,
            "edges": {"width": True, "step": False, "depth": False},
        }
    ]
    runs = [{"k": 2, "method": "monolithic", "arch": mlp, "lr": lr, "score": s} for lr, s in ((1e-3, 0.4), (2e-3, 0.3))]
    rows = md.tuning_table(choices, runs)
    assert rows["validation accuracy"] == [0.4] and rows["runs"] == [2] and rows["at an edge"] == ["width"]
    rule = [{**choices[0], "method": "modular, paper rule", "angle": 0.03, "edges": {"turn": False}}]
    runs += [
        {"k": 2, "method": "modular, paper rule", "arch": mlp, "angle": a, "score": -s}
        for a, s in ((0.03, 90.0), (0.1, 95.0))
    ]
    rows = md.tuning_table(rule, runs)
    assert np.isnan(rows["validation accuracy"][0]) and rows["validation objective"] == [90.0]
    assert rows["turn"] == ["0.03"] and rows["at an edge"] == ["none"]


def test_epoch_table():
    rng = np.random.default_rng(3)
    acc = np.cumsum(rng.uniform(0.0, 0.02, (2, 2, 5, 3)), axis=-1) + 0.2  # (method, k, seed, epoch): rising
    table = md.epoch_table(acc, ["a", "b"], [2, 4])
    assert list(table) == ["method", "k", "epoch 1", "epoch 2", "epoch 3", "last-epoch gain"]
    assert table["method"] == ["a", "a", "b", "b"] and table["k"] == [2, 4, 2, 4]
    assert table["epoch 1"][0] == md.ci_text(*md.ci(acc[0, 0, :, 0]))
    assert table["last-epoch gain"][3] == md.ci_text(*md.ci(acc[1, 1, :, 2] - acc[1, 1, :, 1]))


def test_robustness_table_pairs_each_test_with_seen():
    res, names, grid = _result()
    res.arrays["acc_unseen"] = res["acc_seen"] - 0.05
    rows = md.robustness_table(res, names, grid, {"unseen": "acc_unseen"})
    assert rows["k"] == [4, 4, 4] and rows["unseen minus seen"] == ["-0.050 [-0.050, -0.050]"] * 3
