"""Hostile cases of the measurement and read-out layers of the rule, the sample-complexity and grouping chapters:
analysis, growth, growth_tables, metrics, module_diagnostics, grouping_readout, kernels, learning_rule, methods,
newton, random_features."""

from __future__ import annotations

import numpy as np
import torch

#: Public names of these modules without a case yet (the coverage test in test_hostile.py reads it).
NOT_YET: dict[str, list[str]] = {
    "analysis": [
        "linear_model_agreement",
        "peer_summary",
        "format_ci",
        "distinguishable",
        "best_and_ties",
        "compare_ci",
    ],
    "growth": [
        "samples_needed_curves",
        "growth_with_ci",
        "growth_rows",
        "growth_line",
        "at_largest_n",
        "loss_table",
        "oracle_check",
        "censoring_summary",
        "growth_across_targets",
        "flat_text",
        "verdicts",
        "control_rows",
        "summary_texts",
        "learned_levels",
        "censoring_bound",
        "flat_evidence",
        "learned_level_values",
        "comparison",
    ],
    "growth_tables": [
        "growth_reading",
        "growth_text",
        "growth_table",
        "comparison_table",
        "growth_phrase",
        "level_phrase",
    ],
    "module_diagnostics": [
        "orthonormal_basis",
        "subspace_overlap",
        "movement",
        "pairwise_overlap",
        "slot_of_feature",
        "slot_shares",
        "locality",
        "summarise",
        "ci",
        "number",
        "ci_text",
        "paired_gain",
        "headline",
        "describe_arch",
        "accuracy_table",
        "paired_table",
        "diagnostics_table",
        "tuning_table",
        "epoch_table",
        "robustness_table",
    ],
    "grouping_readout": [
        "paired_difference",
        "compared",
        "verdict_counts",
        "counts_text",
        "difference_text",
        "failures",
        "failure_rows",
        "last_finite",
        "line_at",
        "cost_per_call",
        "cell_label",
        "newton_grouped_table",
        "task_label",
        "comparison_table",
        "default_verdict",
    ],
}


NAN, INF, HUGE = float("nan"), float("inf"), 10**12
COUNT = [2.5, -1, 0, NAN, "3", True]  # whole numbers >= 1
SEED = [2.5, -1, NAN, "a", 2**70]
POS = [NAN, INF, -1.0, 0.0, "x"]  # real numbers > 0
CONFIDENCE = [NAN, 0.0, 1.0, 1.5, "x"]


def _rules(bad, good) -> None:
    """methods (the vocabulary of methods), learning_rule, kernels, newton, random_features."""
    from modscale_lib import kernels, learning_rule, methods, newton, random_features

    M = "methods"
    bad(M, "rule", "variant", ["bogus", None, 3, ["paper"]], lambda v: methods.rule(v))
    good(M, "rule", "paper", lambda: methods.rule("paper"))
    for f in ("rule_variant", "is_modular", "describe"):
        bad(M, f, "label", ["bogus", None, 3, "Monolithic"], lambda v, f=f: getattr(methods, f)(v))
        good(M, f, "every label", lambda f=f: [getattr(methods, f)(label) for label in methods.ALL] and 0)
    bad(M, "wrong_count", "variant", ["bogus", None], lambda v: methods.wrong_count(v, "2K"))
    bad(M, "wrong_count", "count", ["3K", None, 2], lambda v: methods.wrong_count("paper", v))
    bad(M, "module_count", "label", ["bogus", None], lambda v: methods.module_count(v, 2))
    bad(M, "module_count", "n_modules", COUNT, lambda v: methods.module_count(methods.RANDOM, v))
    good(M, "module_count", "2.0", lambda: methods.module_count(methods.wrong_count("paper", "K/2"), 2.0))

    L = "learning_rule"
    bad(L, "resolve_variant", "variant", ["bogus", None, 3], lambda v: learning_rule.resolve_variant(v, 2, 1, 4))
    bad(L, "resolve_variant", "n_modules", COUNT, lambda v: learning_rule.resolve_variant("auto", v, 1, 4))
    bad(L, "resolve_variant", "n_modules", [0, NAN], lambda v: learning_rule.resolve_variant("paper", v, 1, 4))
    bad(L, "resolve_variant", "module_dim", COUNT, lambda v: learning_rule.resolve_variant("auto", 2, v, 4))
    bad(L, "resolve_variant", "input_dim", COUNT, lambda v: learning_rule.resolve_variant("auto", 2, 1, v))
    bad(L, "resolve_variant", "target_columns", COUNT, lambda v: learning_rule.resolve_variant("auto", 2, 1, 4, v))
    good(L, "resolve_variant", "auto", lambda: learning_rule.resolve_variant("auto", 2.0, 1, 4) and 0)

    import torch

    KE = "kernels"
    module = kernels.ModuleAtInit(1, 8, 1, seed=0)
    z = torch.randn(6, 1, generator=torch.Generator().manual_seed(0))
    bad(KE, "kernel_matrix", "kernel", ["bogus", None, "RBF"], lambda v: kernels.kernel_matrix(v, z, module))
    bad(
        KE,
        "kernel_matrix",
        "z",
        [torch.full((6, 1), NAN), torch.ones(6)],
        lambda v: kernels.kernel_matrix("ntk", v, module),
    )
    bad(KE, "kernel_matrix", "module", [None, "net"], lambda v: kernels.kernel_matrix("features", z, v))
    good(KE, "kernel_matrix", "numpy z", lambda: kernels.kernel_matrix("rbf", z.numpy(), None))
    bad(KE, "cross_kernel", "kernel", ["bogus", None], lambda v: kernels.cross_kernel(v, z, z[:3], module))
    bad(
        KE,
        "cross_kernel",
        "zs",
        [torch.ones(3, 2), z[:1], torch.full((3, 1), NAN), [["a"]]],
        lambda v: kernels.cross_kernel("rbf", z, v, module),
    )
    bad(
        KE,
        "cross_kernel",
        "z",
        [torch.ones(6), torch.full((6, 1), INF)],
        lambda v: kernels.cross_kernel("ntk", v, z, module),
    )
    bad(KE, "cross_kernel", "module", [None, 3], lambda v: kernels.cross_kernel("features", z, z[:3], v))
    for kind in kernels.KERNELS:
        good(KE, "cross_kernel", kind, lambda kind=kind: kernels.cross_kernel(kind, z, z[:3], module))
    bad(
        KE,
        "as_float_tensor",
        "z",
        [[NAN], torch.tensor([True]), torch.ones(2, 2, 2), np.ones((2, 2, 2)), ["a"], torch.tensor([INF])],
        lambda v: kernels.as_float_tensor(v, "z", ndim=(1, 2)),
    )
    good(KE, "as_float_tensor", "int tensor", lambda: kernels.as_float_tensor(torch.arange(3), "z", ndim=1))

    NW = "newton"
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((40, 4)), rng.standard_normal(40)
    X_nan = X.copy()
    X_nan[0, 0] = NAN
    bad(
        NW,
        "newton_projections",
        "X",
        [X_nan, X[:10], X[:, 0], np.full((40, 4), "a")],
        lambda v: newton.newton_projections(v, y, 2, 1),
    )
    bad(NW, "newton_projections", "X", [np.ones((40, 4))], lambda v: newton.newton_projections(v, y, 2, 1))
    bad(
        NW,
        "newton_projections",
        "y",
        [y[:5], np.full(40, NAN), np.ones(40)],
        lambda v: newton.newton_projections(X, v, 2, 1),
    )
    bad(NW, "newton_projections", "n_modules", COUNT, lambda v: newton.newton_projections(X, y, v, 1))
    bad(NW, "newton_projections", "module_dim", COUNT + [3], lambda v: newton.newton_projections(X, y, 2, v))
    bad(NW, "newton_projections", "seed", SEED, lambda v: newton.newton_projections(X, y, 2, 1, seed=v))
    for knob, values in {
        "kernel_points": [10, 2.5, HUGE],
        "select_points": [0, NAN],
        "module_features": [0, HUGE],
        "polish_features": [-1, "x"],
        "max_points": [5, HUGE],
        "rounds": [0, 100],
        "max_steps": [-1, 2.5],
        "tol": [0.0, 1.0, NAN],
        "n_points": [0, HUGE],
        "return_loss": ["yes", 1],
    }.items():
        bad(NW, "newton_projections", knob, values, lambda v, k=knob: newton.newton_projections(X, y, 2, 1, **{k: v}))

    RF = "random_features"
    bad(RF, "RandomFeatureRidge", "input_dim", COUNT, lambda v: random_features.RandomFeatureRidge(v, 8, 0))
    bad(RF, "RandomFeatureRidge", "n_features", COUNT + [HUGE], lambda v: random_features.RandomFeatureRidge(3, v, 0))
    bad(RF, "RandomFeatureRidge", "seed", SEED, lambda v: random_features.RandomFeatureRidge(3, 8, v))
    bad(
        RF,
        "RandomFeatureRidge",
        "ridges",
        [[], [1.0, 0.1], [NAN], [-1.0], [[1.0]], "a"],
        lambda v: random_features.RandomFeatureRidge(3, 8, 0, ridges=v),
    )
    rf = random_features.RandomFeatureRidge(3, 8, 0)
    Xr, yr = rng.standard_normal((30, 3)), rng.standard_normal(30)
    bad(RF, "RandomFeatureRidge.losses", "n", [0, 31, 2.5, NAN], lambda v: rf.losses(Xr, yr, v, Xr, yr, Xr, yr))
    bad(
        RF,
        "RandomFeatureRidge.losses",
        "X",
        [Xr[:, :2], np.full((30, 3), NAN)],
        lambda v: rf.losses(v, yr, 5, Xr, yr, Xr, yr),
    )
    bad(RF, "RandomFeatureRidge.losses", "y", [yr[:5], np.full(30, NAN)], lambda v: rf.losses(Xr, v, 5, Xr, yr, Xr, yr))
    bad(
        RF,
        "RandomFeatureRidge.losses",
        "X_val",
        [Xr[:, :2], np.full((30, 3), NAN)],
        lambda v: rf.losses(Xr, yr, 5, v, yr, Xr, yr),
    )
    bad(
        RF,
        "RandomFeatureRidge.losses",
        "y_val",
        [yr[:5], yr[:1], np.full(30, NAN)],
        lambda v: rf.losses(Xr, yr, 5, Xr, v, Xr, yr),
    )
    bad(RF, "RandomFeatureRidge.losses", "X_test", [Xr[:, :2]], lambda v: rf.losses(Xr, yr, 5, Xr, yr, v, yr))
    bad(RF, "RandomFeatureRidge.losses", "y_test", [yr[:5], yr[:1]], lambda v: rf.losses(Xr, yr, 5, Xr, yr, Xr, v))
    good(RF, "RandomFeatureRidge.losses", "n = 20", lambda: rf.losses(Xr, yr, 20.0, Xr, yr, Xr, yr))


def _metrics(bad, good) -> None:
    from modscale_lib import metrics

    Q = "metrics"
    n = [100.0, 200.0, 400.0, 800.0]
    curve = [1.0, 0.5, 0.3, 0.1]
    bad(
        Q,
        "monotone_envelope",
        "n_grid",
        [[NAN] * 4, [200.0, 100.0, 400.0, 800.0], [-1.0] * 4, [], "abcd"],
        lambda v: metrics.monotone_envelope(v, curve),
    )
    bad(
        Q,
        "monotone_envelope",
        "losses",
        [[1.0, 0.5], [1.0, 0.5, 0.0, 0.1], [NAN] * 4, [[1.0] * 4]],
        lambda v: metrics.monotone_envelope(n, v),
    )
    good(Q, "monotone_envelope", "tensor", lambda: metrics.monotone_envelope(torch.tensor(n), torch.tensor(curve)))
    bad(Q, "samples_needed_monotone", "target", POS, lambda v: metrics.samples_needed_monotone(n, curve, v))
    bad(
        Q,
        "samples_needed_monotone",
        "n_grid",
        [[NAN] * 4, [1.0]],
        lambda v: metrics.samples_needed_monotone(v, curve, 0.2),
    )
    bad(
        Q, "samples_needed_monotone", "losses", [[NAN] * 4, [1.0]], lambda v: metrics.samples_needed_monotone(n, v, 0.2)
    )
    good(Q, "samples_needed_monotone", "reached", lambda: metrics.samples_needed_monotone(n, curve, 0.2)[0])
    rng = np.random.default_rng(0)
    m = np.arange(2, 6)
    n_star = 50 * 1.5**m * np.exp(0.1 * rng.standard_normal((6, m.size)))
    bad(
        Q,
        "growth_ci",
        "input_dims",
        [[2], [2, NAN, 4, 5], [[2, 3, 4, 5]], ["a"] * 4],
        lambda v: metrics.growth_ci(v, n_star),
    )
    bad(
        Q,
        "growth_ci",
        "n_star",
        [n_star[0], n_star[:, :2], np.zeros((0, 4)), np.full((6, 4), "a")],
        lambda v: metrics.growth_ci(m, v),
    )
    bad(Q, "growth_ci", "baseline", [n_star[:3], n_star[0]], lambda v: metrics.growth_ci(m, n_star, baseline=v))
    bad(Q, "growth_ci", "confidence", CONFIDENCE, lambda v: metrics.growth_ci(m, n_star, confidence=v))
    bad(Q, "growth_ci", "n_resamples", [0, 2.5, HUGE, "x"], lambda v: metrics.growth_ci(m, n_star, n_resamples=v))
    bad(Q, "growth_ci", "seed", SEED, lambda v: metrics.growth_ci(m, n_star, seed=v))
    good(Q, "growth_ci", "paired", lambda: metrics.growth_ci(m, n_star, baseline=n_star * 2, n_resamples=200))


def register(bad, good) -> None:
    """Add this group's cases with ``bad(module, function, parameter, values, call)`` and ``good(...)``."""
    _rules(bad, good)
    _metrics(bad, good)
