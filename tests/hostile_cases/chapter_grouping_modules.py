"""Hostile cases of the package of *Modules of more than one dimension* (``modscale_lib.chapters.grouping_modules``):
``measurements`` takes the two stored results with their configs and refuses anything else before computing;
``conclusions`` and the figures take its dict and refuse anything else; the read-out's smaller functions (paired
differences, verdicts, failures, costs, table columns) get small synthetic results."""

from __future__ import annotations

import functools

import numpy as np

#: Public names of this chapter's package without a case yet (the coverage test in test_hostile.py reads it).
NOT_YET: dict[str, list[str]] = {}

M = "chapters.grouping_modules"
NAN, INF = float("nan"), float("inf")


@functools.cache
def _stored():
    """The stored ``module_grouping`` and ``rule_comparison`` results with their configs, read once, and a span
    overlap of the right shape (the figures and conclusions do not depend on its values being the recomputed ones)."""
    from modscale_lib import experiments, store

    config = store.chapter_config(experiments.module_grouping)
    cmp_config = store.chapter_config(experiments.rule_comparison)
    res = store.load_or_run(experiments.module_grouping, config, mode="read")
    cmp = store.load_or_run(experiments.rule_comparison, cmp_config, mode="read")
    return res, config, cmp, cmp_config, np.full((len(config.n_grid), len(config.seeds)), 0.8)


def _rule():
    from modscale_lib.rule import DEFAULTS, resolve_variant

    return {"rule_defaults": DEFAULTS, "resolve": resolve_variant}


@functools.cache
def _measured():
    from modscale_lib.chapters import grouping_modules as gm

    return gm.measurements(*_stored(), **_rule())


def _measurements(bad, good) -> None:
    """measurements refuses results, configs, span overlaps and rule defaults that are not the chapter's."""
    import dataclasses

    from modscale_lib import experiments
    from modscale_lib.chapters import grouping_modules as gm

    def call(i, value, **rule):
        args = list(_stored())
        args[i] = value
        return gm.measurements(*args, **{**_rule(), **rule})

    bad(M, "measurements", "res", [None, {}, np.ones(3), "module_grouping"], lambda v: call(0, v))
    bad(
        M,
        "measurements",
        "res",
        ["rule_comparison"],
        lambda v: call(0, dataclasses.replace(_stored()[0], experiment=v)),
    )
    tiny = experiments.ModuleGroupingConfig.tiny()
    bad(M, "measurements", "config", [None, {}, tiny, experiments.ModuleGroupingConfig], lambda v: call(1, v))
    bad(M, "measurements", "cmp", [None, {"tasks": []}], lambda v: call(2, v))
    bad(
        M,
        "measurements",
        "cmp",
        ["module_grouping"],
        lambda v: call(2, dataclasses.replace(_stored()[2], experiment=v)),
    )
    cmp_tiny = experiments.RuleComparisonConfig.tiny()
    bad(M, "measurements", "cmp_config", [None, cmp_tiny, _stored()[1]], lambda v: call(3, v))
    start = _stored()[4]
    nan = start.copy()
    nan[0, 0] = NAN
    bad(
        M,
        "measurements",
        "span_start",
        [None, start[:1], start[..., None], nan, np.full(start.shape, "a")],
        lambda v: call(4, v),
    )
    bad(
        M,
        "measurements",
        "rule_defaults",
        [None, {}, {"variant": "auto"}, {"variant": 3, "steps": 300}, {"variant": "auto", "steps": 0}],
        lambda v: call(4, start, rule_defaults=v),
    )
    bad(M, "measurements", "resolve", [None, "newton"], lambda v: call(4, start, resolve=v))
    good(M, "measurements", "stored", lambda: gm.measurements(*_stored(), **_rule())["defaults"])


def _conclusions(bad, good) -> None:
    """conclusions, the functions between, and every figure, table and line refuse a dict that is not measured."""
    from modscale_lib.chapters import grouping_modules as gm

    not_measured = [None, {}, {"res": None}, [1, 2], "measured"]
    takes_measured = [
        "conclusions",
        "check_measured",
        "default_reach",
        "search_overlaps",
        "comparison_cpu",
        *gm.figures.__all__,
    ]
    for name in takes_measured:
        bad(M, name, "measured", not_measured, lambda v, name=name: getattr(gm, name)(v))
    bad(M, "default_reach", "level", [NAN, 0.0, 1.5, "x"], lambda v: gm.default_reach(_measured(), v))
    good(M, "conclusions", "stored", lambda: gm.conclusions(_measured()))
    good(M, "default_reach", "level 0.99", lambda: gm.default_reach(_measured(), 0.99))
    for name in takes_measured[2:]:
        if name != "overlap_figure":
            good(M, name, "stored", lambda name=name: getattr(gm, name)(_measured()))


def _readout(bad, good) -> None:
    """The paired differences, verdicts, failures, costs and table columns, on small synthetic results."""
    from modscale_lib.chapters import grouping_modules as gr

    G = M
    grouped = np.full((2, 1, 2, 2, 3), 0.95)
    grouped[0, 0, 0, 0] = [0.5, 0.6, 0.97]
    res = {
        "kinds": ["a", "b"],
        "settings": [[3, 2, 12]],
        "variants": ["newton", "grouped"],
        "n": [500, 1000],
        "grouped": grouped,
        "union": np.full_like(grouped, 0.99),
        "cpu_seconds": np.ones_like(grouped),
    }
    new, old = grouped[:, :, 0], grouped[:, :, 1]
    bad(
        G,
        "paired_difference",
        "new",
        [np.full(new.shape, "a"), old[..., :2], None],
        lambda v: gr.paired_difference(v, old),
    )
    bad(G, "paired_difference", "old", [[["x"]], old[0]], lambda v: gr.paired_difference(new, v))
    bad(G, "paired_difference", "axis", [5, 2.5, "x"], lambda v: gr.paired_difference(new, old, axis=v))
    bad(G, "paired_difference", "tolerance", [NAN, -1.0, "x"], lambda v: gr.paired_difference(new, old, tolerance=v))
    good(G, "paired_difference", "lists", lambda: gr.paired_difference([[0.5, 0.6]], [[0.4, 0.4]])["mean"])
    d = gr.paired_difference(new, old)
    verdicts = np.array(["better", "", "worse"])
    bad(G, "compared", "verdict", [np.array([1, 2]), np.array(["best"]), [None]], lambda v: gr.compared(v))
    bad(G, "compared", "only", ["best", 1, ""], lambda v: gr.compared(verdicts, v))
    good(G, "compared", "better", lambda: gr.compared(verdicts, "better"))
    bad(G, "verdict_counts", "verdict", [np.array([0.5]), ["good"]], lambda v: gr.verdict_counts(v))
    good(G, "verdict_counts", "none", lambda: gr.verdict_counts(np.array([], dtype=str)))
    counts = gr.verdict_counts(verdicts)
    bad(
        G,
        "counts_text",
        "counts",
        [None, {"better": 1}, {**counts, "of": -1}, {**counts, "of": 2.5}, {**counts, "worse": "x"}],
        lambda v: gr.counts_text(v),
    )
    bad(
        G,
        "difference_text",
        "d",
        [None, {"mean": 1}, {**d, "verdict": np.full(d["mean"].shape, "x")}],
        lambda v: gr.difference_text(v, (0, 0, 0)),
    )
    bad(G, "difference_text", "index", [(0, 0), (0, 0, 5), (0, 0, -1), (0, 0, 0.5)], lambda v: gr.difference_text(d, v))
    bad(G, "difference_text", "fmt", ["q", 3], lambda v: gr.difference_text(d, (0, 0, 0), v))
    good(G, "difference_text", "one cell", lambda: gr.difference_text(d, [0, 0, 0]))
    g2, u2 = grouped[:, :, 0], res["union"][:, :, 0]
    bad(G, "failures", "grouped", [np.float64(0.5), [["a"]]], lambda v: gr.failures(v, v))
    bad(G, "failures", "union", [u2[..., :2], "x"], lambda v: gr.failures(g2, v))
    bad(G, "failures", "level", [NAN, 0.0, 1.5, "x"], lambda v: gr.failures(g2, u2, v))
    bad(G, "failures", "span_level", [NAN, -1.0, 2.0], lambda v: gr.failures(g2, u2, span_level=v))
    good(G, "failures", "counts", lambda: gr.failures(g2, u2))
    bad(
        G,
        "failure_rows",
        "res",
        [None, [1], {"variants": ["newton"]}, {k: v for k, v in res.items() if k != "union"}],
        lambda v: gr.failure_rows(v, "newton"),
    )
    bad(G, "failure_rows", "variant", ["fast", None, 0], lambda v: gr.failure_rows(res, v))
    bad(G, "failure_rows", "level", [NAN, 0.0], lambda v: gr.failure_rows(res, "newton", v))
    good(G, "failure_rows", "newton", lambda: gr.failure_rows(res, "newton"))
    grid, values = [10.0, 20.0, 40.0], [0.5, 0.6, NAN]
    bad(G, "last_finite", "n", [[NAN, 1.0, 2.0], [[10.0]], "abc"], lambda v: gr.last_finite(v, values))
    bad(G, "last_finite", "values", [values[:2], [NAN] * 3, ["a"] * 3], lambda v: gr.last_finite(grid, v))
    good(G, "last_finite", "grid", lambda: gr.last_finite(grid, values))
    bad(G, "line_at", "values", [[0.5, NAN, NAN], values[:1]], lambda v: gr.line_at(grid, v, 30.0))
    bad(G, "line_at", "n", [[10.0, 10.0, 10.0], [1.0]], lambda v: gr.line_at(v, [0.5, 0.6, 0.7], 30.0))
    bad(G, "line_at", "at", [NAN, INF, "x", None], lambda v: gr.line_at(grid, values, v))
    good(G, "line_at", "extrapolate", lambda: gr.line_at(grid, values, 80))
    seconds = np.ones((2, 3, 2))
    bad(G, "cost_per_call", "seconds", [np.ones((2, 3)), "x", None], lambda v: gr.cost_per_call(v, ["a", "b", "c"], 0))
    bad(G, "cost_per_call", "variants", [["a", "b"], None, "abc"], lambda v: gr.cost_per_call(seconds, v, 0))
    bad(G, "cost_per_call", "index", [2, -1, 0.5, "x"], lambda v: gr.cost_per_call(seconds, ["a", "b", "c"], v))
    bad(G, "cost_per_call", "skip", [3, None], lambda v: gr.cost_per_call(seconds, ["a", "b", "c"], 0, skip=v))
    good(G, "cost_per_call", "means", lambda: gr.cost_per_call(seconds, ("a", "b", "random"), 1.0))
    bad(G, "cell_label", "kind", [2, -1, 0.5, "a"], lambda v: gr.cell_label(res, v, 0))
    bad(G, "cell_label", "setting", [1, NAN], lambda v: gr.cell_label(res, 0, v))
    bad(G, "cell_label", "res", [None, [1, 2], {"kinds": ["a"]}], lambda v: gr.cell_label(v, 0, 0))
    good(G, "cell_label", "first", lambda: gr.cell_label(res, 0, 0))
    pairs = {"grouped": d, "union": d}
    bad(
        G,
        "newton_grouped_table",
        "res",
        [None, {"variants": ["newton", "grouped"]}],
        lambda v: gr.newton_grouped_table(v, pairs),
    )
    bad(
        G,
        "newton_grouped_table",
        "pairs",
        [None, {"grouped": d}, {"grouped": d, "union": None}, [d, d]],
        lambda v: gr.newton_grouped_table(res, v),
    )
    bad(G, "newton_grouped_table", "new", ["fast", None], lambda v: gr.newton_grouped_table(res, pairs, new=v))
    bad(G, "newton_grouped_table", "old", ["slow", 1], lambda v: gr.newton_grouped_table(res, pairs, old=v))
    good(G, "newton_grouped_table", "columns", lambda: gr.newton_grouped_table(res, pairs))
    cmp_grouped = np.full((2, 2, 1, 2, 4), 0.9)
    cmp = {
        "tasks": [["sine", 2, 1], ["bump_ridge", 2, 2]],
        "variants": ["newton", "grouped"],
        "m": [8],
        "n": [128, 512],
        "grouped": cmp_grouped,
        "union": cmp_grouped.copy(),
        "cpu_seconds": np.ones_like(cmp_grouped),
    }
    bad(G, "task_label", "task", [2, -1, 0.5, None], lambda v: gr.task_label(cmp, v))
    bad(G, "task_label", "cmp", [None, {"tasks": [["sine", 2]]}, {"variants": []}], lambda v: gr.task_label(v, 0))
    good(G, "task_label", "second", lambda: gr.task_label(cmp, 1.0))
    cd = gr.paired_difference(cmp_grouped[:, 0], cmp_grouped[:, 1])
    diff = {("grouped", "grouped"): cd, ("union", "grouped"): cd}
    bad(
        G,
        "comparison_table",
        "cmp",
        [None, {"variants": ["newton"]}, {**cmp, "grouped": np.ones(3)}],
        lambda v: gr.comparison_table(v, diff),
    )
    bad(
        G,
        "comparison_table",
        "diff",
        [
            None,
            [cd],
            {("grouped", "fast"): cd},
            {("grouped", "grouped"): None},
            {("grouped", "grouped"): gr.paired_difference([[1.0]], [[1.0]])},
        ],
        lambda v: gr.comparison_table(cmp, v),
    )
    bad(G, "comparison_table", "new", ["fast", None], lambda v: gr.comparison_table(cmp, diff, v))
    good(G, "comparison_table", "columns", lambda: gr.comparison_table(cmp, diff))
    bad(
        G,
        "default_verdict",
        "comparisons",
        [None, [d], {"grouped": None}, {"spread": d}, {"grouped": {"mean": 1}}],
        lambda v: gr.default_verdict(v),
    )
    good(G, "default_verdict", "two groups", lambda: gr.default_verdict(diff, pairs))


def register(bad, good) -> None:
    """Add this group's cases with ``bad(module, function, parameter, values, call)`` and ``good(...)``."""
    _measurements(bad, good)
    _conclusions(bad, good)
    _readout(bad, good)
