"""Hostile cases of the CIFAR-10 chapter, and the figures: cifar_readout, cifar_rule, composite_training,
cifar_figures, plotting."""

from __future__ import annotations

import numpy as np

from modscale_lib import cifar_readout as cr

NAN, INF = float("nan"), float("inf")

#: Public names of these modules without a case yet (the coverage test in test_hostile.py reads it).
NOT_YET: dict[str, list[str]] = {
    "cifar_rule": [
        "module_kernels",
        "search_projections",
        "held_out_objective",
        "slot_local_projections",
        "search_flops",
    ],
    "composite_training": [
        "check_architecture",
        "build_network",
        "n_params",
        "training_flops",
        "forward_flops",
        "CompositeTable",
        "train_members",
        "accuracy",
    ],
    "cifar_figures": ["colour", "layout_figure", "tuning_figure", "accuracy_against_k", "accuracy_against_flops"],
    "plotting": [
        "use_style",
        "setup_notebook",
        "table",
        "composite_schematic",
        "subplots",
        "panel_grid",
        "theory_and_simulation",
        "linear_model_axes",
        "modular_theory_figure",
        "sine_module_figure",
        "modules_against_target",
        "recovery_scatter",
        "projection_training_figure",
        "learning_curves_grid",
        "samples_needed_figure",
        "similarity_figure",
        "smallest_text_pt",
    ],
}


# -- small synthetic results (no CIFAR-10 data): four methods, k in (1, 2, 4), four seeds ----------------
NAMES = ["mlp", "rand", "match", "rule"]
ROLES = {"monolithic": "mlp", "random": "rand", "matched": "match", "rule": "rule"}
K = [1, 2, 4]
_rng = np.random.default_rng(0)
ACC1 = 0.5 + 0.05 * _rng.standard_normal((4, 3, 4))  # (method, k, seed)
ACC1[3, 2] = NAN  # the rule not trained at k = 4
PER = np.array([[1.0, 1.0, 1.0], [0.5, 2.0, 3.0], [1.0, 1.0, 1.0], [4.0, 5.0, 6.0]])  # (method, k)
GAIN = (np.array([0.1, NAN, -0.2]), np.array([0.0, NAN, -0.3]), np.array([0.2, NAN, -0.1]))
WORDS = {"higher": "up", "lower": "down"}
CFG = {"seeds": [0, 1, 2], "n_train": 1000, "noise_sigma": 0.1}
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
MLP = {"family": "monolithic", "width": 512, "depth": 1}
CHOICE = {"k": 2, "method": "mlp", "arch": MLP, "lr": 0.1, "edges": {"width": True, "depth": True, "step": True}}
RUNS = [{"k": 2, "method": "mlp", "arch": dict(MLP, width=w), "lr": lr} for w in (256, 512) for lr in (0.01, 0.1)]
SCORED = [{"k": 1, "method": m, "score": s} for m, s in (("p", -1.0), ("p", -2.0), ("d", -1.5))]
DIAG = {
    f"diag_{key}": 0.5 + 0.05 * _rng.standard_normal((4, 3, 4))
    for key in ("objective", "objective_slot_local", "local_start", "local_end", "overlap_start")
    + ("moved_by_rule", "moved_by_training")
}
TESTS = {key: 0.5 + 0.05 * _rng.standard_normal((4, 3, 4, 1)) for key in ("acc_unseen", "acc_noise", "acc_occluded")}


def FLOPS(arch, k):
    return arch["width"] * arch["depth"] * 1e6 / 10 if arch["family"] == "monolithic" else 1e6


def _readout_cases(bad, good) -> None:
    R = "cifar_readout"
    bad(R, "ks_text", "ks", [[1.5], [NAN], ["2"], [-1], 4, None], lambda v: cr.ks_text(v))
    good(R, "ks_text", "numpy ks", lambda: cr.ks_text(np.array([1, 2, 4])))
    bad(R, "by_verdict", "ks", [[1], [1, 2, 3], [1.5, 2]], lambda v: cr.by_verdict(["higher", "lower"], v, WORDS))
    bad(R, "by_verdict", "words", [["higher"], {"higher": 3}, None], lambda v: cr.by_verdict(["higher"], [1], v))
    good(R, "by_verdict", "array verdicts", lambda: cr.by_verdict(np.array(["higher", "n/a"]), [1, 2], WORDS))
    bad(R, "at_k", "gain", [GAIN[:2], (GAIN[0][:2], *GAIN[1:]), (["a"] * 3,) * 3, None], lambda v: cr.at_k(v, K))
    bad(R, "at_k", "ks", [[1, 2], [1, 2.5, 4]], lambda v: cr.at_k(GAIN, v))
    bad(R, "rows_where", "table", [{"a": [1, 2], "b": [1]}, [[1, 2]], {"a": 3}], lambda v: cr.rows_where(v, bool))
    bad(R, "rows_where", "keep", [None, "method"], lambda v: cr.rows_where({"a": [1]}, v))
    bad(R, "distinct_row", "row", [{"method": "m"}, None, ["m", 1]], lambda v: cr.distinct_row(v, "m", [1]))
    bad(R, "distinct_row", "twins", [3, [1.5], None], lambda v: cr.distinct_row({"method": "m", "k": 1}, "m", v))
    bad(R, "distinct_row", "matched", [None, 3], lambda v: cr.distinct_row({"method": "m", "k": 1}, v, [1]))
    bad(R, "twin_ks", "same_as", [[{"k": 1}], [3], None], lambda v: cr.twin_ks(v, "m"))
    bad(R, "trained_ks", "acc", [np.ones(3), np.ones((2, 2)), [["a"]] * 3], lambda v: cr.trained_ks(v, K))
    bad(R, "trained_ks", "k_grid", [[], [0, 1, 2], [1, 1, 2], [1, 2.5, 4]], lambda v: cr.trained_ks(np.ones((3, 2)), v))
    bad(
        R,
        "chapter_values",
        "cfg",
        [{}, {**CFG, "n_train": 0}, {**CFG, "noise_sigma": NAN}, {**CFG, "seeds": []}],
        lambda v: cr.chapter_values(v, {"holdout_mod": 5}, K),
    )
    bad(R, "chapter_values", "tcfg", [{}, None], lambda v: cr.chapter_values(CFG, v, K))
    bad(R, "chapter_values", "k_grid", [[], [0]], lambda v: cr.chapter_values(CFG, {"holdout_mod": 5}, v))
    good(R, "chapter_values", "tuple grid", lambda: cr.chapter_values(CFG, {"holdout_mod": 5}, (1, 2)))
    bad(R, "search_depth", "tcfg", [{}, {**TCFG, "mono_depths": []}], lambda v: cr.search_depth(v, "monolithic"))
    bad(R, "search_depth", "family", ["cnn", None], lambda v: cr.search_depth(TCFG, v))
    bad(
        R,
        "arch_with",
        "arch",
        [{}, {"family": "monolithic", "width": 4}, MLP | {"width": 0}],
        lambda v: cr.arch_with(v, "width", 8),
    )
    bad(R, "arch_with", "value", [0, -1, 2.5, NAN, "8"], lambda v: cr.arch_with(MLP, "width", v))
    bad(R, "arch_with", "coordinate", ["step", None], lambda v: cr.arch_with(MLP, v, 8))
    bad(R, "coordinate_value", "arch", [{}, None], lambda v: cr.coordinate_value(v, 0.1, "width"))
    bad(R, "coordinate_value", "lr", [NAN, 0.0, -1.0, "x"], lambda v: cr.coordinate_value(MLP, v, "step"))
    bad(R, "coordinate_value", "coordinate", ["turn"], lambda v: cr.coordinate_value(MLP, 0.1, v))
    bad(
        R,
        "edge_reasons",
        "choice",
        [{}, CHOICE | {"edges": {"speed": True}}, CHOICE | {"arch": {}}],
        lambda v: cr.edge_reasons(v, RUNS, TCFG, FLOPS),
    )
    bad(
        R,
        "edge_reasons",
        "runs",
        [[{"k": 2}], None, [CHOICE | {"k": 8}]],
        lambda v: cr.edge_reasons(CHOICE, v, TCFG, FLOPS),
    )
    bad(R, "edge_reasons", "tcfg", [{}, {**TCFG, "flops_cap": NAN}], lambda v: cr.edge_reasons(CHOICE, RUNS, v, FLOPS))
    bad(R, "edge_reasons", "flops", [None, 3.0], lambda v: cr.edge_reasons(CHOICE, RUNS, TCFG, v))
    good(R, "edge_reasons", "at the edges", lambda: cr.edge_reasons(CHOICE, RUNS, TCFG, FLOPS))
    bad(R, "tuning_values", "cpu_time_s", [NAN, -1.0, "x"], lambda v: cr.tuning_values(TCFG, RUNS, v))
    bad(R, "tuning_values", "tcfg", [{}, {**TCFG, "n_train": -1}], lambda v: cr.tuning_values(v, RUNS, 1.0))
    bad(R, "tuning_values", "runs", [None, 3], lambda v: cr.tuning_values(TCFG, v, 1.0))
    bad(
        R,
        "tuning_edges",
        "choices",
        [[], [CHOICE]],
        lambda v: cr.tuning_edges(RUNS, v, TCFG, [2], FLOPS, "mlp", "rand"),
    )
    bad(R, "tuning_edges", "k_grid", [[], [0]], lambda v: cr.tuning_edges(RUNS, [CHOICE], TCFG, v, FLOPS, "mlp", "mlp"))
    bad(R, "tuning_edges", "flops", [None], lambda v: cr.tuning_edges(RUNS, [CHOICE], TCFG, [2], v, "mlp", "mlp"))
    bad(R, "tuning_edges", "monolithic", [None], lambda v: cr.tuning_edges(RUNS, [CHOICE], TCFG, [2], FLOPS, v, "mlp"))
    good(R, "tuning_edges", "one method", lambda: cr.tuning_edges(RUNS, [CHOICE], TCFG, [2], FLOPS, "mlp", "mlp"))
    bad(
        R,
        "rule_objectives",
        "runs",
        [[], [{"k": 1, "method": "p", "score": NAN}], [{"k": 1, "method": "p"}], None],
        lambda v: cr.rule_objectives(v, [1], "p", "d"),
    )
    bad(R, "rule_objectives", "k_grid", [[], [1.5]], lambda v: cr.rule_objectives(SCORED, v, "p", "d"))
    good(R, "rule_objectives", "scored runs", lambda: cr.rule_objectives(SCORED, [1], "p", "d"))
    bad(R, "full_values", "full", [None, {"seeds": (0,)}], lambda v: cr.full_values(v))
    bad(
        R,
        "accuracy_gains",
        "acc1",
        [ACC1[:, :2], ACC1[..., 0], ACC1 * INF],
        lambda v: cr.accuracy_gains(v, PER, NAMES, K, [1], ROLES),
    )
    bad(
        R,
        "accuracy_gains",
        "per_composite",
        [PER[:, :2], PER * 0, PER * INF],
        lambda v: cr.accuracy_gains(ACC1, v, NAMES, K, [1], ROLES),
    )
    bad(
        R, "accuracy_gains", "k_grid", [[1, 2], [1, 2, 2]], lambda v: cr.accuracy_gains(ACC1, PER, NAMES, v, [1], ROLES)
    )
    bad(
        R,
        "accuracy_gains",
        "names",
        [NAMES[:3], "mlp", [1, 2, 3, 4]],
        lambda v: cr.accuracy_gains(ACC1, PER, v, K, [1], ROLES),
    )
    bad(
        R,
        "accuracy_gains",
        "roles",
        [{"monolithic": "mlp"}, None],
        lambda v: cr.accuracy_gains(ACC1, PER, NAMES, K, [1], v),
    )
    good(R, "accuracy_gains", "valid", lambda: cr.accuracy_gains(ACC1, PER, NAMES, K, [1], ROLES))
    bad(R, "lead_values", "acc1", [ACC1[:2], ACC1[..., 0]], lambda v: cr.lead_values(v, PER, NAMES, K, [2], ROLES))
    bad(R, "lead_values", "own_ks", [None, [1.5]], lambda v: cr.lead_values(ACC1, PER, NAMES, K, v, ROLES))
    bad(R, "lead_values", "per_composite", [-PER], lambda v: cr.lead_values(ACC1, v, NAMES, K, [2], ROLES))
    good(R, "lead_values", "valid", lambda: cr.lead_values(ACC1, PER, NAMES, K, [2], ROLES))
    bad(
        R,
        "objective_values",
        "res",
        [{}, {"diag_objective": ACC1}, DIAG | {"diag_objective": ACC1[:, :2]}],
        lambda v: cr.objective_values(v, NAMES, K, ROLES),
    )
    bad(R, "objective_values", "roles", [{"monolithic": "x"}], lambda v: cr.objective_values(DIAG, NAMES, K, v))
    good(R, "objective_values", "valid", lambda: cr.objective_values(DIAG, NAMES, K, ROLES))
    bad(
        R,
        "locality_values",
        "res",
        [{}, DIAG | {"diag_local_end": ACC1[..., 0]}],
        lambda v: cr.locality_values(v, NAMES, K, [1], ROLES),
    )
    bad(R, "locality_values", "rule_ks", [[], [3], [1.5]], lambda v: cr.locality_values(DIAG, NAMES, K, v, ROLES))
    good(R, "locality_values", "valid", lambda: cr.locality_values(DIAG, NAMES, K, [1, 2], ROLES))
    bad(R, "unseen_values", "res", [{}, {"acc_unseen": ACC1}], lambda v: cr.unseen_values(v, ACC1, NAMES, K, [], ROLES))
    bad(R, "unseen_values", "k_grid", [[1, 3, 4]], lambda v: cr.unseen_values(TESTS, ACC1, NAMES, v, [], ROLES))
    bad(R, "unseen_values", "acc1", [ACC1[:, :1], "x"], lambda v: cr.unseen_values(TESTS, v, NAMES, K, [], ROLES))
    bad(R, "unseen_values", "twin_ks", [None, [1.5]], lambda v: cr.unseen_values(TESTS, ACC1, NAMES, K, v, ROLES))
    good(R, "unseen_values", "valid", lambda: cr.unseen_values(TESTS, ACC1, NAMES, K, [4], ROLES))
    bad(R, "drop_values", "res", [{}, {**TESTS, "acc_noise": ACC1}], lambda v: cr.drop_values(v, ACC1, NAMES, K, ROLES))
    bad(R, "drop_values", "acc1", [ACC1[:, :, :, None]], lambda v: cr.drop_values(TESTS, v, NAMES, K, ROLES))
    good(R, "drop_values", "valid", lambda: cr.drop_values(TESTS, ACC1, NAMES, K, ROLES))
    EPOCHS = np.full((2, 2, 4, 3), 0.5)
    bad(
        R,
        "epoch_values",
        "acc_seen",
        [EPOCHS[..., :1], EPOCHS[0], EPOCHS[:, :1]],
        lambda v: cr.epoch_values(v, ["mlp", "rand"], [1, 2], 3, 4, "mlp", "rand"),
    )
    bad(
        R,
        "epoch_values",
        "epochs",
        [0, 2.5, NAN],
        lambda v: cr.epoch_values(EPOCHS, ["mlp", "rand"], [1, 2], v, 4, "mlp", "rand"),
    )
    bad(
        R,
        "epoch_values",
        "n_seeds",
        [0, -1],
        lambda v: cr.epoch_values(EPOCHS, ["mlp", "rand"], [1, 2], 3, v, "mlp", "rand"),
    )
    bad(
        R,
        "epoch_values",
        "monolithic",
        ["MLP", None],
        lambda v: cr.epoch_values(EPOCHS, ["mlp", "rand"], [1, 2], 3, 4, v, "rand"),
    )
    bad(
        R,
        "epoch_values",
        "names",
        [["mlp", "mlp"], ["mlp"]],
        lambda v: cr.epoch_values(EPOCHS, v, [1, 2], 3, 4, "mlp", "rand"),
    )
    good(R, "epoch_values", "valid", lambda: cr.epoch_values(EPOCHS, ["mlp", "rand"], [1, 2], 3, 4, "mlp", "rand"))


def register(bad, good) -> None:
    """Add this group's cases with ``bad(module, function, parameter, values, call)`` and ``good(...)``."""
    _readout_cases(bad, good)
