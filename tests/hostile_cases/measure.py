"""Hostile cases of the measurement and read-out layers of the rule and the sample-complexity chapter:
analysis, growth, growth_tables, measure, module_diagnostics, kernels, learning_rule, methods,
newton, random_features."""

from __future__ import annotations

import numpy as np
import torch

#: Public names of these modules without a case yet (the coverage test in test_hostile.py reads it).
NOT_YET: dict[str, list[str]] = {}


NAN, INF, HUGE = float("nan"), float("inf"), 10**12
COUNT = [2.5, -1, 0, NAN, "3", True]  # whole numbers >= 1
SEED = [2.5, -1, NAN, "a", 2**70]
POS = [NAN, INF, -1.0, 0.0, "x"]  # real numbers > 0
CONFIDENCE = [NAN, 0.0, 1.0, 1.5, "x"]


def _rules(bad, good) -> None:
    """methods (the vocabulary of methods), learning_rule, kernels, newton, random_features."""
    from modscale_lib import methods, networks, rule

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

    L = "rule"
    bad(L, "resolve_variant", "variant", ["bogus", None, 3], lambda v: rule.resolve_variant(v, 2, 1, 4))
    bad(L, "resolve_variant", "n_modules", COUNT, lambda v: rule.resolve_variant("auto", v, 1, 4))
    bad(L, "resolve_variant", "n_modules", [0, NAN], lambda v: rule.resolve_variant("paper", v, 1, 4))
    bad(L, "resolve_variant", "module_dim", COUNT, lambda v: rule.resolve_variant("auto", 2, v, 4))
    bad(L, "resolve_variant", "input_dim", COUNT, lambda v: rule.resolve_variant("auto", 2, 1, v))
    bad(L, "resolve_variant", "target_columns", COUNT, lambda v: rule.resolve_variant("auto", 2, 1, 4, v))
    good(L, "resolve_variant", "auto", lambda: rule.resolve_variant("auto", 2.0, 1, 4) and 0)

    import torch

    KE = "rule"
    module = rule.ModuleAtInit(1, 8, 1, seed=0)
    z = torch.randn(6, 1, generator=torch.Generator().manual_seed(0))
    bad(KE, "kernel_matrix", "kernel", ["bogus", None, "RBF"], lambda v: rule.kernel_matrix(v, z, module))
    bad(
        KE,
        "kernel_matrix",
        "z",
        [torch.full((6, 1), NAN), torch.ones(6)],
        lambda v: rule.kernel_matrix("ntk", v, module),
    )
    bad(KE, "kernel_matrix", "module", [None, "net"], lambda v: rule.kernel_matrix("features", z, v))
    good(KE, "kernel_matrix", "numpy z", lambda: rule.kernel_matrix("rbf", z.numpy(), None))
    bad(KE, "cross_kernel", "kernel", ["bogus", None], lambda v: rule.cross_kernel(v, z, z[:3], module))
    bad(
        KE,
        "cross_kernel",
        "zs",
        [torch.ones(3, 2), z[:1], torch.full((3, 1), NAN), [["a"]]],
        lambda v: rule.cross_kernel("rbf", z, v, module),
    )
    bad(
        KE,
        "cross_kernel",
        "z",
        [torch.ones(6), torch.full((6, 1), INF)],
        lambda v: rule.cross_kernel("ntk", v, z, module),
    )
    bad(KE, "cross_kernel", "module", [None, 3], lambda v: rule.cross_kernel("features", z, z[:3], v))
    for kind in rule.KERNELS:
        good(KE, "cross_kernel", kind, lambda kind=kind: rule.cross_kernel(kind, z, z[:3], module))
    bad(
        KE,
        "as_float_tensor",
        "z",
        [[NAN], torch.tensor([True]), torch.ones(2, 2, 2), np.ones((2, 2, 2)), ["a"], torch.tensor([INF])],
        lambda v: rule.as_float_tensor(v, "z", ndim=(1, 2)),
    )
    good(KE, "as_float_tensor", "int tensor", lambda: rule.as_float_tensor(torch.arange(3), "z", ndim=1))

    NW = "rule"
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((40, 4)), rng.standard_normal(40)
    X_nan = X.copy()
    X_nan[0, 0] = NAN
    bad(
        NW,
        "newton_projections",
        "X",
        [X_nan, X[:10], X[:, 0], np.full((40, 4), "a")],
        lambda v: rule.newton_projections(v, y, 2, 1),
    )
    bad(NW, "newton_projections", "X", [np.ones((40, 4))], lambda v: rule.newton_projections(v, y, 2, 1))
    bad(
        NW,
        "newton_projections",
        "y",
        [y[:5], np.full(40, NAN), np.ones(40)],
        lambda v: rule.newton_projections(X, v, 2, 1),
    )
    bad(NW, "newton_projections", "n_modules", COUNT, lambda v: rule.newton_projections(X, y, v, 1))
    bad(NW, "newton_projections", "module_dim", COUNT + [3], lambda v: rule.newton_projections(X, y, 2, v))
    bad(NW, "newton_projections", "seed", SEED, lambda v: rule.newton_projections(X, y, 2, 1, seed=v))
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
        bad(NW, "newton_projections", knob, values, lambda v, k=knob: rule.newton_projections(X, y, 2, 1, **{k: v}))

    RF = "networks"
    bad(RF, "RandomFeatureRidge", "input_dim", COUNT, lambda v: networks.RandomFeatureRidge(v, 8, 0))
    bad(RF, "RandomFeatureRidge", "n_features", COUNT + [HUGE], lambda v: networks.RandomFeatureRidge(3, v, 0))
    bad(RF, "RandomFeatureRidge", "seed", SEED, lambda v: networks.RandomFeatureRidge(3, 8, v))
    bad(
        RF,
        "RandomFeatureRidge",
        "ridges",
        [[], [1.0, 0.1], [NAN], [-1.0], [[1.0]], "a"],
        lambda v: networks.RandomFeatureRidge(3, 8, 0, ridges=v),
    )
    rf = networks.RandomFeatureRidge(3, 8, 0)
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
    from modscale_lib import measure

    Q = "measure"
    n = [100.0, 200.0, 400.0, 800.0]
    curve = [1.0, 0.5, 0.3, 0.1]
    bad(
        Q,
        "monotone_envelope",
        "n_grid",
        [[NAN] * 4, [200.0, 100.0, 400.0, 800.0], [-1.0] * 4, [], "abcd"],
        lambda v: measure.monotone_envelope(v, curve),
    )
    bad(
        Q,
        "monotone_envelope",
        "losses",
        [[1.0, 0.5], [1.0, 0.5, 0.0, 0.1], [NAN] * 4, [[1.0] * 4]],
        lambda v: measure.monotone_envelope(n, v),
    )
    good(Q, "monotone_envelope", "tensor", lambda: measure.monotone_envelope(torch.tensor(n), torch.tensor(curve)))
    bad(Q, "samples_needed_monotone", "target", POS, lambda v: measure.samples_needed_monotone(n, curve, v))
    bad(
        Q,
        "samples_needed_monotone",
        "n_grid",
        [[NAN] * 4, [1.0]],
        lambda v: measure.samples_needed_monotone(v, curve, 0.2),
    )
    bad(
        Q, "samples_needed_monotone", "losses", [[NAN] * 4, [1.0]], lambda v: measure.samples_needed_monotone(n, v, 0.2)
    )
    good(Q, "samples_needed_monotone", "reached", lambda: measure.samples_needed_monotone(n, curve, 0.2)[0])
    rng = np.random.default_rng(0)
    m = np.arange(2, 6)
    n_star = 50 * 1.5**m * np.exp(0.1 * rng.standard_normal((6, m.size)))
    bad(
        Q,
        "growth_ci",
        "input_dims",
        [[2], [2, NAN, 4, 5], [[2, 3, 4, 5]], ["a"] * 4],
        lambda v: measure.growth_ci(v, n_star),
    )
    bad(
        Q,
        "growth_ci",
        "n_star",
        [n_star[0], n_star[:, :2], np.zeros((0, 4)), np.full((6, 4), "a")],
        lambda v: measure.growth_ci(m, v),
    )
    bad(Q, "growth_ci", "baseline", [n_star[:3], n_star[0]], lambda v: measure.growth_ci(m, n_star, baseline=v))
    bad(Q, "growth_ci", "confidence", CONFIDENCE, lambda v: measure.growth_ci(m, n_star, confidence=v))
    bad(Q, "growth_ci", "n_resamples", [0, 2.5, HUGE, "x"], lambda v: measure.growth_ci(m, n_star, n_resamples=v))
    bad(Q, "growth_ci", "seed", SEED, lambda v: measure.growth_ci(m, n_star, seed=v))
    good(Q, "growth_ci", "paired", lambda: measure.growth_ci(m, n_star, baseline=n_star * 2, n_resamples=200))


def _analysis(bad, good) -> None:
    from modscale_lib import analysis, experiments

    A = "analysis"
    cfg = experiments.LinearModelConfig.tiny()
    shape = (len(cfg.d_values), len(cfg.n_grid))
    res = {f"{s}_{t}{e}": np.ones(shape) for s in "np" for t in ("test", "train") for e in ("", "_se")}
    bad(
        A,
        "linear_model_agreement",
        "band",
        [NAN, -0.1, 2.0, "x"],
        lambda v: analysis.linear_model_agreement(res, cfg, v),
    )
    bad(
        A,
        "linear_model_agreement",
        "res",
        [None, [1, 2], {"n_test": np.ones(shape)}, {**res, "p_train": np.ones((3, 3))}, {**res, "n_test": "a"}],
        lambda v: analysis.linear_model_agreement(v, cfg),
    )
    bad(
        A,
        "linear_model_agreement",
        "config",
        [None, {"d_values": (1,)}],
        lambda v: analysis.linear_model_agreement(res, v),
    )
    good(A, "linear_model_agreement", "ones", lambda: analysis.linear_model_agreement(res, cfg))
    peer = {k: np.ones((1, 2, 3, 2)) for k in analysis.PEER_QUANTITIES + ("group_seconds",)}
    bad(
        A,
        "peer_summary",
        "res",
        [
            None,
            "res",
            {"union": np.ones((1, 2, 3, 2))},
            {**peer, "seconds": np.ones((1, 2))},
            {**peer, "union": [["a"]]},
        ],
        lambda v: analysis.peer_summary(v),
    )
    bad(A, "peer_summary", "seed_axis", [4, -5, 2.5, "x", None], lambda v: analysis.peer_summary(peer, v))
    bad(A, "peer_summary", "confidence", CONFIDENCE, lambda v: analysis.peer_summary(peer, confidence=v))
    good(A, "peer_summary", "ones", lambda: analysis.peer_summary(peer))
    bad(A, "format_ci", "mean", ["x", [1.0, 2.0], None], lambda v: analysis.format_ci(v, 0.1, 0.3))
    bad(A, "format_ci", "low", ["x", NAN, [0.1]], lambda v: analysis.format_ci(0.2, v, 0.3))
    bad(A, "format_ci", "high", [None, NAN], lambda v: analysis.format_ci(0.2, 0.1, v))
    bad(A, "format_ci", "fmt", [".3s", "d", 3, None, "%.2f"], lambda v: analysis.format_ci(0.2, 0.1, 0.3, v))
    good(A, "format_ci", "NaN mean", lambda: analysis.format_ci(NAN, NAN, NAN))
    good(A, "format_ci", "numpy", lambda: analysis.format_ci(np.float32(0.2), np.array(0.1), torch.tensor(0.3), ".1e"))
    ci = (0.5, 0.4, 0.6)
    bad(
        A, "distinguishable", "a", [(0.5, 0.4), "abc", None, (0.5, "a", 0.6)], lambda v: analysis.distinguishable(v, ci)
    )
    bad(A, "distinguishable", "b", [(1, 2, 3, 4), [[0.1, 0.2, 0.3]]], lambda v: analysis.distinguishable(ci, v))
    bad(A, "distinguishable", "tolerance", [NAN, -1.0, "x"], lambda v: analysis.distinguishable(ci, ci, v))
    good(A, "distinguishable", "arrays", lambda: analysis.distinguishable(np.array(ci), [0.9, 0.8, 1.0]))
    mean, low, high = [0.5, 0.7, NAN], [0.4, 0.6, NAN], [0.6, 0.8, NAN]
    names = ["a", "b", "c"]
    bad(
        A,
        "best_and_ties",
        "mean",
        [[NAN] * 3, [], [[0.5]], ["a", "b", "c"]],
        lambda v: analysis.best_and_ties(v, v, v, names),
    )
    bad(A, "best_and_ties", "low", [low[:2], "abc"], lambda v: analysis.best_and_ties(mean, v, high, names))
    bad(A, "best_and_ties", "high", [high + [1.0]], lambda v: analysis.best_and_ties(mean, low, v, names))
    bad(
        A,
        "best_and_ties",
        "names",
        [names[:2], "abc", [1, 2, 3], None],
        lambda v: analysis.best_and_ties(mean, low, high, v),
    )
    bad(
        A,
        "best_and_ties",
        "higher_is_better",
        ["yes", 1, None],
        lambda v: analysis.best_and_ties(mean, low, high, names, higher_is_better=v),
    )
    bad(
        A,
        "best_and_ties",
        "tolerance",
        [NAN, -1.0],
        lambda v: analysis.best_and_ties(mean, low, high, names, tolerance=v),
    )
    good(A, "best_and_ties", "lower", lambda: analysis.best_and_ties(mean, low, high, names, higher_is_better=False)[0])
    bad(A, "compare_ci", "a", [(0.5,), None], lambda v: analysis.compare_ci(v, ci))
    bad(A, "compare_ci", "b", ["abc"], lambda v: analysis.compare_ci(ci, v))
    bad(A, "compare_ci", "fmt", ["q", 2], lambda v: analysis.compare_ci(ci, ci, v))
    bad(A, "compare_ci", "words", [("above",), "ab", (1, 2)], lambda v: analysis.compare_ci(ci, ci, words=v))
    bad(A, "compare_ci", "names", [("a",), None, ("a", 2)], lambda v: analysis.compare_ci(ci, ci, names=v))
    bad(A, "compare_ci", "tolerance", [NAN, -0.1], lambda v: analysis.compare_ci(ci, ci, tolerance=v))
    good(A, "compare_ci", "apart", lambda: analysis.compare_ci(ci, (0.9, 0.8, 1.0), names=("a", "b")))


def _growth_tables(bad, good) -> None:
    from modscale_lib import growth_tables as gt

    T = "growth_tables"
    row = {"method": "x", "estimate": 1.05, "low": 1.04, "high": 1.06, "bound": "lower", "flat": False}
    bad(
        T,
        "growth_reading",
        "row",
        [None, "row", {"bound": "sideways"}, {"method": "x"}],
        lambda v: gt.growth_reading(v),
    )
    good(T, "growth_reading", "never", lambda: gt.growth_reading({"never": True}))
    bad(
        T, "growth_text", "row", [[1.05], {**row, "estimate": "x"}, {**row, "bound": None}], lambda v: gt.growth_text(v)
    )
    good(T, "growth_text", "bound", lambda: gt.growth_text(row))
    bad(
        T,
        "growth_table",
        "rows",
        [None, row, [row, None], [{"estimate": 1.0, "low": 1.0, "high": 1.0}]],
        lambda v: gt.growth_table(v),
    )
    bad(T, "growth_table", "name", [None, 3], lambda v: gt.growth_table([row], v))
    bad(T, "growth_table", "flat", ["yes", 1], lambda v: gt.growth_table([row], flat=v))
    good(T, "growth_table", "no rows", lambda: gt.growth_table([]))
    c = {
        "method": "a",
        "against": "b",
        "m": 32,
        "ratio_text": "1.0 [0.9, 1.1]",
        "growth": "alike",
        "level": (1.0, 0.9, 1.1),
        "level_bound": "",
        "level_word": "same",
        "question": "Q2",
    }
    bad(
        T,
        "comparison_table",
        "comparisons",
        [None, [], c, [{**c, "growth": "sideways"}], [{"method": "a"}], [{**c, "level": (1.0,)}]],
        lambda v: gt.comparison_table(v),
    )
    bad(T, "comparison_table", "first", ["bogus", 3], lambda v: gt.comparison_table([c], v))
    good(T, "comparison_table", "first", lambda: gt.comparison_table([c, {**c, "against": "d"}], "question"))
    bad(T, "growth_phrase", "c", [None, {}, {"growth": "sideways"}], lambda v: gt.growth_phrase(v))
    good(T, "growth_phrase", "alike", lambda: gt.growth_phrase({"growth": "alike"}))
    bad(T, "level_phrase", "c", [None, {"growth": "alike"}, {"level_word": 3}], lambda v: gt.level_phrase(v))
    good(T, "level_phrase", "same", lambda: gt.level_phrase(c))


def _module_diagnostics(bad, good) -> None:
    from modscale_lib import module_diagnostics as md

    D = "module_diagnostics"
    rng = np.random.default_rng(0)
    U = rng.standard_normal((2, 3072, 2))
    V = rng.standard_normal((2, 3072, 2))
    nan = U.copy()
    nan[0, 0, 0] = NAN
    rank = U.copy()
    rank[1, :, 1] = rank[1, :, 0]
    broken = [nan, np.zeros((3, 2)), np.ones(4), np.ones((2, 3)), np.full((3, 2), "a"), rank, np.zeros((0, 3, 2))]
    bad(D, "orthonormal_basis", "U", broken, lambda v: md.orthonormal_basis(v))
    good(D, "orthonormal_basis", "tensor", lambda: md.orthonormal_basis(torch.randn(2, 5, 2)))
    bad(D, "subspace_overlap", "U", broken[:3], lambda v: md.subspace_overlap(v, V))
    bad(D, "subspace_overlap", "V", [V[:1, :10], nan], lambda v: md.subspace_overlap(U, v))
    good(D, "subspace_overlap", "float32", lambda: md.subspace_overlap(U.astype(np.float32), V))
    bad(D, "movement", "start", [nan, U[0, :10]], lambda v: md.movement(v, V))
    bad(D, "movement", "end", [rank, None], lambda v: md.movement(U, v))
    bad(D, "pairwise_overlap", "U", [U[0], nan, rank], lambda v: md.pairwise_overlap(v))
    good(D, "pairwise_overlap", "two modules", lambda: md.pairwise_overlap(U))
    bad(D, "slot_of_feature", "k", [0, -1, 2.5, NAN, "2", HUGE], lambda v: md.slot_of_feature(v))
    bad(D, "slot_shares", "k", [0, 2.5, "x"], lambda v: md.slot_shares(U, v))
    bad(D, "slot_shares", "U", [U[:, :100], nan], lambda v: md.slot_shares(v, 1))
    bad(D, "locality", "U", [rank, U[:, :3000]], lambda v: md.locality(v, 1))
    bad(D, "locality", "k", [2, 0], lambda v: md.locality(U, v))
    good(D, "locality", "k = 2", lambda: md.locality(rng.standard_normal((2, 6144, 1)), 2))
    bad(D, "summarise", "start", [U[0], nan, rank, U[:1]], lambda v: md.summarise(v, V, 1))
    bad(D, "summarise", "end", [V[:, :10], None], lambda v: md.summarise(U, v, 1))
    bad(D, "summarise", "k", [2, 0, "1"], lambda v: md.summarise(U, V, v))
    good(D, "summarise", "k = 1", lambda: md.summarise(U, V, 1))
    acc = 0.5 + 0.01 * rng.standard_normal((3, 2, 5))  # (method, k, seed)
    bad(D, "ci", "values", [[], "abc", None], lambda v: md.ci(v))
    bad(D, "ci", "axis", [3, -4, 0.5, "x"], lambda v: md.ci(acc, v))
    good(D, "ci", "seeds", lambda: md.ci(acc))
    bad(D, "number", "x", ["a", None, NAN, [1.0]], lambda v: md.number(v))
    bad(D, "number", "digits", [-1, 2.5, 9, HUGE, "3"], lambda v: md.number(0.5, v))
    good(D, "number", "tiny", lambda: md.number(np.float32(1e-5)))
    bad(D, "ci_text", "mean", ["a", [0.5]], lambda v: md.ci_text(v, 0.4, 0.6))
    bad(D, "ci_text", "low", [NAN, "a"], lambda v: md.ci_text(0.5, v, 0.6))
    bad(D, "ci_text", "high", [None, NAN], lambda v: md.ci_text(0.5, 0.4, v))
    bad(D, "ci_text", "digits", [-1, 20, 1.5], lambda v: md.ci_text(0.5, 0.4, 0.6, v))
    good(D, "ci_text", "NaN", lambda: md.ci_text(NAN, NAN, NAN))
    bad(D, "paired_gain", "acc", [acc[0, 0], "abc", np.full((3, 2), "a")], lambda v: md.paired_gain(v, 0, 1))
    bad(D, "paired_gain", "better", [3, -1, 0.5, "a"], lambda v: md.paired_gain(acc, v, 1))
    bad(D, "paired_gain", "than", [5, None], lambda v: md.paired_gain(acc, 0, v))
    names, k_grid = ["monolithic", "random", "rule"], [1, 2]
    bad(D, "headline", "acc", [acc[0], acc[:2]], lambda v: md.headline(v, names, k_grid, 1, "rule"))
    bad(D, "headline", "names", [names[:2], "abc", [1, 2, 3]], lambda v: md.headline(acc, v, k_grid, 1, "rule"))
    bad(D, "headline", "k_grid", [[1], [1.5, 2], "ab"], lambda v: md.headline(acc, names, v, 1, "rule"))
    bad(D, "headline", "k", [3, 0, "1", NAN], lambda v: md.headline(acc, names, k_grid, v, "rule"))
    bad(D, "headline", "method", ["bogus", None], lambda v: md.headline(acc, names, k_grid, 1, v))
    good(D, "headline", "rule", lambda: md.headline(acc, names, k_grid, 2.0, "rule"))
    mlp = {"family": "monolithic", "depth": 2, "width": 1024}
    bad(
        D,
        "describe_arch",
        "arch",
        [None, "MLP", {"depth": 2}, {"family": "modular"}, [mlp]],
        lambda v: md.describe_arch(v),
    )
    good(
        D,
        "describe_arch",
        "modules",
        lambda: md.describe_arch({"family": "modular", "n_modules": 4, "module_dim": 8, "module_width": 64}),
    )

    class Stored(dict):
        config = {"n_train": 100, "epochs": 2}

    acc4 = acc[..., None] * np.ones(2)  # (method, k, seed, epoch)
    settings = [{"k": k, "method": n, "arch": mlp, "lr": 0.01} for k in k_grid for n in names]
    res = Stored(
        acc_seen=acc4,
        acc_unseen=acc4 - 0.1,
        flops=np.ones((3, 2)),
        search_flops=np.zeros((3, 2)),
        params=np.ones((3, 2)),
        settings=settings,
    )
    bad(
        D,
        "accuracy_table",
        "res",
        [None, dict(res), Stored(acc_seen=acc4), Stored(res, settings=[])],
        lambda v: md.accuracy_table(v, names, k_grid),
    )
    bad(D, "accuracy_table", "names", [names[:2], None], lambda v: md.accuracy_table(res, v, k_grid))
    bad(D, "accuracy_table", "k_grid", [[1, 2, 3], [0, 1]], lambda v: md.accuracy_table(res, names, v))
    bad(D, "accuracy_table", "key", ["acc_bogus", None], lambda v: md.accuracy_table(res, names, k_grid, v))
    bad(D, "accuracy_table", "epoch", [2, -3, 0.5, "x"], lambda v: md.accuracy_table(res, names, k_grid, epoch=v))
    good(D, "accuracy_table", "rows", lambda: md.accuracy_table(res, names, k_grid))
    pairs = [("rule", "random")]
    bad(D, "paired_table", "acc", [acc[0], "x"], lambda v: md.paired_table(v, names, k_grid, pairs))
    bad(
        D,
        "paired_table",
        "pairs",
        [None, [("rule", "bogus")], ["rule"], "ab"],
        lambda v: md.paired_table(acc, names, k_grid, v),
    )
    bad(D, "paired_table", "k_grid", [[1]], lambda v: md.paired_table(acc, names, v, pairs))
    good(D, "paired_table", "rows", lambda: md.paired_table(acc, names, k_grid, pairs))
    diag = {
        f"diag_{k}": acc
        for k in (
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
    bad(
        D,
        "diagnostics_table",
        "res",
        [None, {"diag_objective": acc}, {**diag, "diag_objective": acc[0]}],
        lambda v: md.diagnostics_table(v, names, k_grid, "random"),
    )
    bad(D, "diagnostics_table", "random", ["bogus", None], lambda v: md.diagnostics_table(diag, names, k_grid, v))
    bad(D, "diagnostics_table", "names", [names[:1]], lambda v: md.diagnostics_table(diag, v, k_grid, "random"))
    good(D, "diagnostics_table", "rows", lambda: md.diagnostics_table(diag, names, k_grid, "random"))
    choice = {"k": 1, "method": "monolithic", "arch": mlp, "lr": 0.01, "angle": None, "edges": {"lr": False}}
    run = {"k": 1, "method": "monolithic", "arch": mlp, "lr": 0.01, "score": 0.5}
    bad(
        D,
        "tuning_table",
        "choices",
        [None, choice, [{"k": 1}], [{**choice, "arch": None}]],
        lambda v: md.tuning_table(v, [run]),
    )
    bad(D, "tuning_table", "runs", [None, [{"k": 1}], [None]], lambda v: md.tuning_table([choice], v))
    good(D, "tuning_table", "one", lambda: md.tuning_table([choice], [run])["runs"])
    bad(D, "epoch_table", "acc", [acc, "x"], lambda v: md.epoch_table(v, names, k_grid))
    bad(D, "epoch_table", "names", [["a"], 3], lambda v: md.epoch_table(acc4, v, k_grid))
    bad(D, "epoch_table", "k_grid", [[1, 2, 4]], lambda v: md.epoch_table(acc4, names, v))
    good(D, "epoch_table", "rows", lambda: md.epoch_table(acc4, names, k_grid))
    tests = {"unseen": "acc_unseen"}
    bad(
        D,
        "robustness_table",
        "res",
        [None, {"acc_seen": acc4}, {**res, "acc_unseen": acc}],
        lambda v: md.robustness_table(v, names, k_grid, tests),
    )
    bad(
        D,
        "robustness_table",
        "tests",
        [None, ["acc_unseen"], {"unseen": 3}],
        lambda v: md.robustness_table(res, names, k_grid, v),
    )
    bad(D, "robustness_table", "epoch", [5, "x"], lambda v: md.robustness_table(res, names, k_grid, tests, v))
    good(D, "robustness_table", "rows", lambda: md.robustness_table(res, names, k_grid, tests))


def _growth(bad, good) -> None:
    from modscale_lib import growth, methods

    W = "growth"
    rng = np.random.default_rng(1)
    m = np.array([4, 8, 16, 32])
    flat = 100 * np.exp(rng.normal(0, 0.05, (4, 5)))
    steep = 100 * (1.15**m)[:, None] * np.exp(rng.normal(0, 0.05, (4, 5)))
    labels = [methods.MONOLITHIC, methods.ORACLE, "modular, backfit rule", methods.RANDOM]
    n_star = np.stack([steep, flat, flat * 1.5, flat * 3])[None]  # (K, method, m, seed)
    n_grid = np.array([64.0, 128.0, 256.0, 512.0])
    losses = np.array([[1.0, 0.5, 0.25, 0.1], [0.2, 0.1, 0.1, 0.1]])
    bad(
        W,
        "samples_needed_curves",
        "n_grid",
        [[NAN] * 4, [], [[64.0]]],
        lambda v: growth.samples_needed_curves(v, losses, 1.0, 0.3),
    )
    bad(
        W,
        "samples_needed_curves",
        "losses",
        [losses[:, :2], "x", np.full((2, 4), "a")],
        lambda v: growth.samples_needed_curves(n_grid, v, 1.0, 0.3),
    )
    bad(
        W,
        "samples_needed_curves",
        "variance",
        [0.0, NAN, [1.0, 1.0, 1.0], "x"],
        lambda v: growth.samples_needed_curves(n_grid, losses, v, 0.3),
    )
    bad(W, "samples_needed_curves", "target", POS, lambda v: growth.samples_needed_curves(n_grid, losses, 1.0, v))
    good(
        W,
        "samples_needed_curves",
        "tensor",
        lambda: growth.samples_needed_curves(torch.tensor(n_grid), losses[:1], 1.0, 0.3)[0],
    )
    seeds_by_m = flat.T
    bad(W, "growth_with_ci", "n_star", [flat[0], "x", np.zeros((0, 4))], lambda v: growth.growth_with_ci(m, v, 4096))
    bad(
        W,
        "growth_with_ci",
        "input_dims",
        [m[:2], [4, NAN, 8, 16]],
        lambda v: growth.growth_with_ci(v, seeds_by_m, 4096),
    )
    bad(W, "growth_with_ci", "n_max", POS, lambda v: growth.growth_with_ci(m, seeds_by_m, v))
    bad(
        W, "growth_with_ci", "n_min", [NAN, -1.0, 5000.0], lambda v: growth.growth_with_ci(m, seeds_by_m, 4096, n_min=v)
    )
    bad(
        W,
        "growth_with_ci",
        "baseline",
        [seeds_by_m[:2], "x"],
        lambda v: growth.growth_with_ci(m, seeds_by_m, 4096, baseline=v),
    )
    bad(
        W,
        "growth_with_ci",
        "confidence",
        CONFIDENCE,
        lambda v: growth.growth_with_ci(m, seeds_by_m, 4096, confidence=v),
    )
    good(W, "growth_with_ci", "flat", lambda: growth.growth_with_ci(m, seeds_by_m, 4096.0))
    bad(W, "growth_rows", "n_star", [n_star[0, 0], "x"], lambda v: growth.growth_rows(m, v, 4096, labels))
    bad(
        W,
        "growth_rows",
        "labels",
        [[], labels + ["x"], None, "abcd", [1, 2, 3, 4]],
        lambda v: growth.growth_rows(m, n_star[0], 4096, v),
    )
    bad(W, "growth_rows", "baseline", [4, -1, 0.5, "0"], lambda v: growth.growth_rows(m, n_star[0], 4096, labels, v))
    bad(W, "growth_rows", "n_max", [NAN, 0.0], lambda v: growth.growth_rows(m, n_star[0], v, labels))
    rows = growth.growth_rows(m, n_star[0], 4096, labels, baseline=0)
    good(
        W, "growth_rows", "baseline", lambda: [r["estimate"] for r in growth.growth_rows(m, n_star[0], 4096, labels, 0)]
    )
    bad(
        W,
        "growth_line",
        "row",
        [None, "row", {"method": "x"}, {**rows[0], "estimate": "x"}],
        lambda v: growth.growth_line(v),
    )
    good(W, "growth_line", "row", lambda: growth.growth_line(rows[1]))
    bad(W, "at_largest_n", "losses", [0.5, "x", np.zeros((2, 0)), [["a"]]], lambda v: growth.at_largest_n(v))
    good(W, "at_largest_n", "curves", lambda: growth.at_largest_n(losses))
    last = 0.1 + 0.01 * rng.random((1, 4, 4, 5))  # (K, method, m, seed)
    bad(W, "loss_table", "last", [last[0], "x"], lambda v: growth.loss_table(v, labels, (2,), m))
    bad(W, "loss_table", "labels", [labels + ["x"], None], lambda v: growth.loss_table(last, v, (2,), m))
    bad(W, "loss_table", "module_counts", [(2, 4), None, (0,)], lambda v: growth.loss_table(last, labels, v, m))
    bad(W, "loss_table", "input_dims", [m[:2], None], lambda v: growth.loss_table(last, labels, (2,), v))
    good(W, "loss_table", "table", lambda: growth.loss_table(last, labels, (2,), m)["K"])
    bad(
        W, "oracle_check", "labels", [["a", "b", "c", "d"], labels[2:]], lambda v: growth.oracle_check(last, v, (2,), m)
    )
    bad(W, "oracle_check", "last", [last[..., :0]], lambda v: growth.oracle_check(v, labels, (2,), m))
    good(W, "oracle_check", "count", lambda: growth.oracle_check(last, labels, (2,), m)[1])
    censored = np.where(np.isinf(n_star), "above", "")
    bad(
        W,
        "censoring_summary",
        "censored",
        [n_star, "x", censored[0]],
        lambda v: growth.censoring_summary(v, labels, (2,)),
    )
    bad(W, "censoring_summary", "labels", [labels * 2, None], lambda v: growth.censoring_summary(censored, v, (2,)))
    bad(
        W, "censoring_summary", "module_counts", [(2, 4), None], lambda v: growth.censoring_summary(censored, labels, v)
    )
    rel = np.stack([np.stack([np.stack([np.where(n_grid >= 100 + 10 * a, 0.05, 0.5)] * 5) for a in range(4)])] * 4)[
        None
    ]
    bad(
        W,
        "growth_across_targets",
        "targets",
        [[], [NAN], [-0.1], "x"],
        lambda v: growth.growth_across_targets(n_grid, m, rel, v, labels, (2,)),
    )
    bad(
        W,
        "growth_across_targets",
        "rel",
        [rel[0], "x"],
        lambda v: growth.growth_across_targets(n_grid, m, v, [0.1], labels, (2,)),
    )
    bad(
        W,
        "growth_across_targets",
        "n_grid",
        [[-1.0] * 4, [NAN] * 4],
        lambda v: growth.growth_across_targets(v, m, rel, [0.1], labels, (2,)),
    )
    bad(
        W,
        "growth_across_targets",
        "labels",
        [labels[:1] * 5],
        lambda v: growth.growth_across_targets(n_grid, m, rel, [0.1], v, (2,)),
    )
    bad(
        W, "flat_text", "rows_by_task", [None, [rows], {2: None}, {2: [{"method": "x"}]}], lambda v: growth.flat_text(v)
    )
    good(W, "flat_text", "one task", lambda: growth.flat_text({2: rows}))
    bad(
        W,
        "verdicts",
        "labels",
        [["a", "b", "c", "d"], labels[:3], None],
        lambda v: growth.verdicts(m, n_star, 1e6, v, (2,)),
    )
    bad(W, "verdicts", "n_star", [n_star[0], "x"], lambda v: growth.verdicts(m, v, 1e6, labels, (2,)))
    bad(W, "verdicts", "module_counts", [(2, 4), None], lambda v: growth.verdicts(m, n_star, 1e6, labels, v))
    bad(W, "verdicts", "n_max", [NAN, -1.0], lambda v: growth.verdicts(m, n_star, v, labels, (2,)))
    bad(
        W,
        "growth_across_targets",
        "rel",
        [rel[..., :2]],
        lambda v: growth.growth_across_targets(n_grid, m, v, [0.1], labels, (2,)),
    )
    ctl = labels + [methods.wrong_count("backfit", c) for c in ("K/2", "2K")]
    ctl += [methods.RANDOM_AVERAGED, methods.COMPUTE_MATCHED, methods.NO_PROJECTIONS]
    rel_ctl = np.concatenate([rel[0]] * 3)[: len(ctl)]  # (method, m, seed, N)
    bad(
        W, "control_rows", "every", [0, -1, 2.5, "x", 5], lambda v: growth.control_rows(n_grid, m, rel_ctl, ctl, v, 0.1)
    )
    bad(W, "control_rows", "target", POS, lambda v: growth.control_rows(n_grid, m, rel_ctl, ctl, 1, v))
    bad(
        W,
        "control_rows",
        "labels",
        [labels, ctl[:-1], ctl[:5] + ctl[6:]],
        lambda v: growth.control_rows(n_grid, m, rel_ctl, v, 1, 0.1),
    )
    bad(
        W, "control_rows", "rel", [rel, "x", rel_ctl[..., :2]], lambda v: growth.control_rows(n_grid, m, v, ctl, 1, 0.1)
    )
    bad(
        W,
        "control_rows",
        "input_dims",
        [m[:2], [4, 8, NAN, 32]],
        lambda v: growth.control_rows(n_grid, v, rel_ctl, ctl, 1, 0.1),
    )
    bad(W, "summary_texts", "rows_by_task", [None, {}, {2: None}], lambda v: growth.summary_texts(v, "flat", rows, 2))
    bad(W, "summary_texts", "flat_text", [None, 3], lambda v: growth.summary_texts({2: rows}, v, rows, 2))
    bad(W, "summary_texts", "control_rows_", [None, [None]], lambda v: growth.summary_texts({2: rows}, "flat", v, 2))
    good(W, "summary_texts", "texts", lambda: growth.summary_texts({2: rows}, "flat", rows, 2))
    for f in ("learned_levels", "learned_level_values"):
        call = getattr(growth, f)
        bad(W, f, "labels", [labels[1:], None, labels * 2], lambda v, c=call: c(m, n_star, 4096, v, (2,)))
        bad(W, f, "n_star", [n_star[0], "x"], lambda v, c=call: c(m, v, 4096, labels, (2,)))
        bad(W, f, "n_max", [NAN, 0.0], lambda v, c=call: c(m, n_star, v, labels, (2,)))
        bad(W, f, "module_counts", [(2, 4)], lambda v, c=call: c(m, n_star, 4096, labels, v))
    good(W, "learned_level_values", "levels", lambda: growth.learned_level_values(m, n_star, 4096, labels, (2,)))
    bad(W, "censoring_bound", "medians", [[], "x", [[100.0]], [NAN, 100.0]], lambda v: growth.censoring_bound(v, 4096))
    bad(W, "censoring_bound", "n_max", POS, lambda v: growth.censoring_bound([100.0, 200.0], v))
    bad(
        W,
        "censoring_bound",
        "n_min",
        [NAN, -1.0, 5000.0, "x"],
        lambda v: growth.censoring_bound([100.0, 200.0], 4096, v),
    )
    good(W, "censoring_bound", "lower", lambda: growth.censoring_bound(np.array([64.0, 200.0]), 4096, 64))
    bad(
        W,
        "flat_evidence",
        "method",
        ["bogus", None],
        lambda v: growth.flat_evidence(m, n_star, censored, 4096, 64, labels, (2,), v),
    )
    bad(
        W,
        "flat_evidence",
        "censored",
        [censored[0], n_star],
        lambda v: growth.flat_evidence(m, n_star, v, 4096, 64, labels, (2,)),
    )
    bad(
        W,
        "flat_evidence",
        "n_min",
        [NAN, 5000.0],
        lambda v: growth.flat_evidence(m, n_star, censored, 4096, v, labels, (2,)),
    )
    bad(
        W,
        "flat_evidence",
        "labels",
        [labels[1:]],
        lambda v: growth.flat_evidence(m, n_star, censored, 4096, 64, v, (2,)),
    )
    a, b = n_star[0, 2], n_star[0, 3]
    bad(W, "comparison", "a", [a[:2], a[0], "x"], lambda v: growth.comparison("a", "b", m, v, b, 4096))
    bad(W, "comparison", "b", [b[:, :2], None], lambda v: growth.comparison("a", "b", m, a, v, 4096))
    bad(W, "comparison", "input_dims", [m[:2], [4, 8, 16, NAN]], lambda v: growth.comparison("a", "b", v, a, b, 4096))
    bad(W, "comparison", "name_a", [None, 3], lambda v: growth.comparison(v, "b", m, a, b, 4096))
    bad(W, "comparison", "name_b", [["b"]], lambda v: growth.comparison("a", v, m, a, b, 4096))
    bad(W, "comparison", "n_max", [NAN, 0.0], lambda v: growth.comparison("a", "b", m, a, b, v))
    bad(W, "comparison", "n_min", [NAN, 1e5], lambda v: growth.comparison("a", "b", m, a, b, 4096, v))
    good(W, "comparison", "growth", lambda: growth.comparison("a", "b", m, a, b, 4096)["ratio"]["estimate"])


def register(bad, good) -> None:
    """Add this group's cases with ``bad(module, function, parameter, values, call)`` and ``good(...)``."""
    _growth(bad, good)
    _growth_tables(bad, good)
    _module_diagnostics(bad, good)
    _analysis(bad, good)
    _rules(bad, good)
    _metrics(bad, good)
