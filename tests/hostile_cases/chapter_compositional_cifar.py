"""Hostile cases of the package of *Compositional CIFAR-10* (``modscale_lib.chapters.compositional_cifar``): its
read-outs (every value the chapter glues) on small synthetic results, :func:`conclusions` and the figures and
tables that take the stored results, refused anything but those results before computing."""

from __future__ import annotations

import functools

import numpy as np

from modscale_lib.chapters import compositional_cifar as cr

NAN, INF = float("nan"), float("inf")
M = "chapters.compositional_cifar"

#: Public names of this chapter's package without a case yet (the coverage test in test_hostile.py reads it).
NOT_YET: dict[str, list[str]] = {}


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
    R = M
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


def _closed(make):
    """Call ``make()``, close every figure it opened, and return what it returned (a figure: 0)."""
    import matplotlib.pyplot as plt

    before = set(plt.get_fignums())
    try:
        out = make()
    finally:
        for num in set(plt.get_fignums()) - before:
            plt.close(num)
    return 0 if hasattr(out, "savefig") or out is None else out


def _figure_cases(bad, good) -> None:
    import matplotlib

    matplotlib.use("Agg")

    cf = cr

    def fbad(module, func, name, values, call):
        bad(module, func, name, values, lambda v: _closed(lambda: call(v)))

    def fgood(module, func, what, call):
        good(module, func, what, lambda: _closed(call))

    F = M
    fbad(F, "colour", "method", [None, ["mlp"], 3], lambda v: cf.colour(v))
    fgood(F, "colour", "an unknown method", lambda: len(cf.colour("a new method")))
    fbad(F, "layout_figure", "classes", [(3, 10), (), (1.5,), (-1, 2), [0] * 17, "386"], lambda v: cf.layout_figure(v))
    fbad(F, "layout_figure", "class_names", [["cat"], "abcdefghij"], lambda v: cf.layout_figure((1, 2), v))
    fgood(F, "layout_figure", "numpy classes", lambda: cf.layout_figure(np.array([1, 2])))
    runs = [
        {"k": 1, "method": m, "arch": MLP, "lr": lr, "flops": 2e6 * (1 + lr), "score": 0.5 + lr}
        for m in ("monolithic", "modular, random")
        for lr in (0.01, 0.1)
    ]
    choices = [{"k": 1, "method": m, "arch": MLP, "lr": 0.1} for m in ("monolithic", "modular, random")]
    fbad(F, "tuning_figure", "choices", [choices[:1], [], None], lambda v: cf.tuning_figure(runs, v, [1]))
    fbad(
        F,
        "tuning_figure",
        "runs",
        [runs[:1], [dict(r, score=NAN) for r in runs], None],
        lambda v: cf.tuning_figure(v, choices, [1]),
    )
    fbad(F, "tuning_figure", "k_grid", [[], [0], [1, 1]], lambda v: cf.tuning_figure(runs, choices, v))
    fbad(F, "tuning_figure", "families", ["monolithic", ()], lambda v: cf.tuning_figure(runs, choices, [1], v))
    fgood(F, "tuning_figure", "one k", lambda: cf.tuning_figure(runs, choices, [1]))
    fbad(
        F,
        "accuracy_against_k",
        "acc",
        [ACC1[:, :2], ACC1[..., 0], ACC1 * INF],
        lambda v: cf.accuracy_against_k(v, NAMES, K, {}),
    )
    fbad(F, "accuracy_against_k", "k_grid", [[1, 2], [0, 1, 2]], lambda v: cf.accuracy_against_k(ACC1, NAMES, v, {}))
    fbad(
        F,
        "accuracy_against_k",
        "authors",
        [{"mlp": ([1, 2], [0.5])}, [1]],
        lambda v: cf.accuracy_against_k(ACC1, NAMES, K, v),
    )
    fgood(
        F,
        "accuracy_against_k",
        "with the authors",
        lambda: cf.accuracy_against_k(ACC1, NAMES, K, {"mlp": ([1, 2], [0.5, 0.4])}),
    )
    fbad(
        F,
        "accuracy_against_flops",
        "flops",
        [PER[:, :2], -PER, PER * INF],
        lambda v: cf.accuracy_against_flops(ACC1, v, NAMES, K),
    )
    fbad(F, "accuracy_against_flops", "names", [NAMES[:2], "mlp"], lambda v: cf.accuracy_against_flops(ACC1, PER, v, K))
    fgood(F, "accuracy_against_flops", "valid", lambda: cf.accuracy_against_flops(ACC1, PER * 1e6, NAMES, K))


@functools.cache
def _stored():
    """The stored results the chapter reads (tuning, accuracy, cpu_epochs, the two checks), read once."""
    from modscale_lib import experiments
    from modscale_lib.store import chapter_config, load_or_run

    accuracy, tuning = experiments.compositional_accuracy, experiments.compositional_tuning
    main = chapter_config(accuracy)
    return (
        load_or_run(tuning, chapter_config(tuning, main.tuning), mode="read"),
        load_or_run(accuracy, main, mode="read"),
        load_or_run(accuracy, accuracy.config("cpu_epochs"), mode="read"),
        {n: load_or_run(accuracy, accuracy.config(n), mode="read") for n in cr.CHECKS},
    )


def _conclusions(**changed):
    """:func:`conclusions` on the stored results, with the arguments in ``changed`` replaced."""
    from modscale_lib import composite_training as ct, experiments

    tuning, res, long, checks = _stored()
    arguments = {
        "res": res,
        "tuning": tuning,
        "long": long,
        "checks": checks,
        "roles": cr.ROLE_METHODS,
        "flops": ct.training_flops,
        "full": experiments.compositional_accuracy.config("full"),
        "cap_min": 150.0,
    } | changed
    return cr.conclusions(**arguments)


def _stored_cases(bad, good) -> None:
    """The functions that take the stored results: anything else is refused, naming the argument."""
    tuning = lambda: _stored()[0]  # noqa: E731
    res = lambda: _stored()[1]  # noqa: E731
    not_results = [None, {}, np.ones(3), "compositional_accuracy"]
    bad(M, "conclusions", "res", not_results, lambda v: _conclusions(res=v))
    bad(M, "conclusions", "res", ["tuning"], lambda v: _conclusions(res=tuning()))
    bad(M, "conclusions", "tuning", [None, "accuracy"], lambda v: _conclusions(tuning=v and res()))
    bad(M, "conclusions", "long", [None, "tuning"], lambda v: _conclusions(long=v and tuning()))
    bad(M, "conclusions", "checks", [None, {}, ["jpeg_check"]], lambda v: _conclusions(checks=v))
    bad(M, "conclusions", "checks", ["tuning"], lambda v: _conclusions(checks=dict.fromkeys(cr.CHECKS, tuning())))
    bad(M, "conclusions", "roles", [None, {}, {"monolithic": "monolithic"}], lambda v: _conclusions(roles=v))
    bad(M, "conclusions", "roles", [{**cr.ROLE_METHODS, "rule": "a rule"}], lambda v: _conclusions(roles=v))
    bad(M, "conclusions", "flops", [None, 3.0], lambda v: _conclusions(flops=v))
    bad(M, "conclusions", "full", [None, {"seeds": (0,)}], lambda v: _conclusions(full=v))
    bad(M, "conclusions", "cap_min", [0.0, -1.0, NAN, "150"], lambda v: _conclusions(cap_min=v))
    good(M, "conclusions", "the stored results", lambda: _conclusions())
    bad(M, "study", "res", not_results, lambda v: cr.study(v, ROLES))
    bad(M, "study", "res", ["tuning"], lambda v: cr.study(tuning(), ROLES))
    bad(M, "study", "roles", [{}, None, ROLES], lambda v: cr.study(res(), v))
    good(M, "study", "the stored result", lambda: len(cr.study(res(), cr.ROLE_METHODS)["own_ks"]))
    bad(M, "authors_numbers", "roles", [None, {"monolithic": "mlp"}, ["monolithic"]], cr.authors_numbers)
    good(M, "authors_numbers", "the chapter's roles", lambda: cr.authors_numbers(cr.ROLE_METHODS))
    good(M, "authors_numbers", "roles the authors lack", lambda: cr.authors_numbers(ROLES))
    figures = ("accuracy_table", "accuracy_k_figure", "flops_figure", "gain_table", "rule_table")
    figures += ("diagnostics_tables", "robustness_table")
    for name in figures:
        show = getattr(cr, name)
        bad(M, name, "res", [None, "tuning"], lambda v, show=show: _closed(lambda: show(v and tuning())))
        bad(M, name, "roles", [{}, ROLES], lambda v, show=show: _closed(lambda: show(res(), v)))
        good(M, name, "the stored result", lambda show=show: _closed(lambda: show(res())))
    bad(M, "tuning_table", "tuning", [None, "accuracy"], lambda v: cr.tuning_table(v and res()))
    good(M, "tuning_table", "the stored tuning", lambda: len(cr.tuning_table(tuning()).data))
    for name in ("epoch_table", "epoch_gain_table"):
        show = getattr(cr, name)
        bad(M, name, "long", [None, "tuning", {}], lambda v, show=show: show(v and tuning()))
        good(M, name, "the stored epochs", lambda show=show: len(show(_stored()[2]).data))
    bad(M, "jpeg_table", "checks", [None, {}, {"jpeg_check": 1}], cr.jpeg_table)
    good(M, "jpeg_table", "the stored checks", lambda: len(cr.jpeg_table(_stored()[3]).data))
    bad(M, "cost_table", "tuning", [None], lambda v: cr.cost_table(v, *_stored()[1:]))
    bad(M, "cost_table", "res", ["tuning"], lambda v: cr.cost_table(tuning(), tuning(), *_stored()[2:]))
    bad(M, "cost_table", "checks", [{}], lambda v: cr.cost_table(*_stored()[:3], v))
    good(M, "cost_table", "the stored results", lambda: len(cr.cost_table(*_stored()).data))
    bad(M, "examples_figure", "holdout_mod", [0, -1, 2.5, NAN, "5"], lambda v: _closed(lambda: cr.examples_figure(v)))
    bad(
        M,
        "examples_figure",
        "examples",
        [(), ((1, 2), (3,)), ((10, 1),), "386"],
        lambda v: _closed(lambda: cr.examples_figure(5, v)),
    )
    good(M, "examples_figure", "numpy examples", lambda: _closed(lambda: cr.examples_figure(5, np.eye(3, dtype=int))))


def register(bad, good) -> None:
    """Add this group's cases with ``bad(module, function, parameter, values, call)`` and ``good(...)``."""
    _readout_cases(bad, good)
    _figure_cases(bad, good)
    _stored_cases(bad, good)
