"""Read-outs of the grouping chapter (modscale_lib.grouping_readout, and span_start_overlap of its experiment
module) on small synthetic arrays whose answers are known by hand."""

import dataclasses
import re

import numpy as np
import pytest

from modscale_lib import grouping_readout as readout
from modscale_lib.experiments.grouping_modules import ModuleGroupingConfig, paired_difference, span_start_overlap
from modscale_lib.learning_rule import moment_span
from modscale_lib.modular_tasks import NonSeparableTask
from modscale_lib.subspaces import union_overlap

NAN, INF = np.nan, np.inf
V = np.array([["better", "", "worse"], ["not distinguishable", "worse", ""]])


def _d(mean, low, high, verdict):
    return {
        "mean": np.asarray(mean, float),
        "low": np.asarray(low, float),
        "high": np.asarray(high, float),
        "verdict": np.asarray(verdict),
    }


# -- verdicts ---------------------------------------------------------------------------------------------
def test_compared_lists_cells_in_c_order():
    assert readout.compared(V) == [(0, 0), (0, 2), (1, 0), (1, 1)]
    assert readout.compared(V, only="worse") == [(0, 2), (1, 1)]
    assert readout.compared(V, only="better") == [(0, 0)]
    assert readout.compared(np.full((2, 2), "")) == []
    assert all(type(i) is int for idx in readout.compared(V) for i in idx)


def test_verdict_counts_and_their_text():
    counts = readout.verdict_counts(V)
    assert counts == {"better": 1, "not distinguishable": 1, "worse": 2, "of": 4}
    assert readout.counts_text(counts) == "better in 1, not distinguishable in 1 and worse in 2 of 4"
    assert readout.verdict_counts(np.array(["", ""])) == {"better": 0, "not distinguishable": 0, "worse": 0, "of": 0}


def test_difference_text_reads_one_cell():
    d = _d([[0.1234, NAN]], [[0.1, NAN]], [[0.15, NAN]], [["better", ""]])
    assert readout.difference_text(d, (0, 0)) == "0.123 [0.100, 0.150] (better)"
    assert readout.difference_text(d, (0, 1)) == "n/a"
    assert readout.difference_text(d, [0, 0], fmt=".1f") == "0.1 [0.1, 0.1] (better)"


def test_difference_text_of_a_paired_difference():
    """A constant difference of 0.1 over seeds: its interval is the point 0.1, beyond the tolerance."""
    old = np.array([[0.5, 0.6, 0.7], [0.5, 0.6, 0.7]])
    new = old + np.array([[0.1], [0.0]])
    d = paired_difference(new, old, tolerance=0.01)
    assert readout.difference_text(d, (0,)) == "0.100 [0.100, 0.100] (better)"
    assert readout.difference_text(d, (1,)) == "0.000 [0.000, 0.000] (not distinguishable)"


# -- failures ---------------------------------------------------------------------------------------------
def test_failures_sort_runs_by_the_union_overlap():
    grouped = np.array([[0.95, 0.5, 0.6, 0.8], [NAN, NAN, NAN, NAN], [0.99, 0.3, NAN, 0.91]])
    union = np.array([[0.99, 0.99, 0.90, NAN], [NAN, NAN, NAN, NAN], [0.99, 0.94, NAN, 0.99]])
    f = readout.failures(grouped, union, level=0.9, span_level=0.95)
    np.testing.assert_array_equal(f["ran"], [True, False, True])
    np.testing.assert_array_equal(f["runs"], [4, 0, 3])
    np.testing.assert_array_equal(f["failed"], [3, 0, 1])
    np.testing.assert_array_equal(f["span_missed"], [1, 0, 1])  # union 0.90 and 0.94
    np.testing.assert_array_equal(f["grouping_wrong"], [1, 0, 0])  # union 0.99; a NaN union counts in neither
    g = readout.failures(grouped, union, level=0.55, span_level=0.5)
    np.testing.assert_array_equal(g["failed"], [1, 0, 1])
    np.testing.assert_array_equal(g["grouping_wrong"], [1, 0, 1])


def _grouping_result():
    """A module_grouping-shaped result: 2 kinds, 1 setting, 2 variants, 2 n, 3 seeds."""
    grouped = np.full((2, 1, 2, 2, 3), 0.95)
    union = np.full_like(grouped, 0.99)
    grouped[0, 0, 0, 0] = [0.5, 0.6, 0.97]  # newton, kind a, n = 500: two fail
    union[0, 0, 0, 0] = [0.99, 0.8, 0.99]  # one with the union found, one not
    grouped[1, 0, :, 1] = NAN  # kind b was not run at n = 1000
    union[1, 0, :, 1] = NAN
    cpu = np.arange(8, dtype=float).reshape(2, 1, 2, 2, 1) * np.ones(3)
    return {
        "kinds": ["a", "b"],
        "settings": [[3, 2, 12]],
        "variants": ["newton", "grouped"],
        "n": [500, 1000],
        "grouped": grouped,
        "union": union,
        "cpu_seconds": cpu,
    }


def test_failure_rows_one_record_per_cell_run():
    res = _grouping_result()
    rows = readout.failure_rows(res, "newton")
    assert [(r["kind"], r["K"], r["n"]) for r in rows] == [("a", 3, 500), ("a", 3, 1000), ("b", 3, 500)]
    assert rows[0] == {
        "kind": "a",
        "K": 3,
        "n": 500,
        "seeds": 3,
        "runs": 3,
        "failed": 2,
        "span_missed": 1,
        "grouping_wrong": 1,
    }
    assert all(r["failed"] == 0 for r in rows[1:])
    assert sum(r["failed"] for r in readout.failure_rows(res, "grouped")) == 0


# -- cost ---------------------------------------------------------------------------------------------------
def test_last_finite_and_line_at():
    n = np.array([500, 1000, 2000, 4000])
    t = np.array([1.0, 2.0, 4.0, NAN])
    assert readout.last_finite(n, t) == (2000, 4.0)
    assert readout.line_at(n, t, 6000) == pytest.approx(12.0)  # t = n / 500 exactly
    assert readout.line_at(n, 3 * n + 7.0, 0) == pytest.approx(7.0)
    noisy = np.array([1.0, 3.0, 2.0, 4.0])  # least squares: slope 0.000771..., not a chord
    slope, intercept = np.polyfit(n, noisy, 1)
    assert readout.line_at(n, noisy, 6000) == pytest.approx(slope * 6000 + intercept)


def test_cost_per_call_means_over_settings():
    seconds = np.array(
        [[[1.0, 10.0], [2.0, 20.0], [5.0, NAN]], [[3.0, 30.0], [4.0, 40.0], [7.0, NAN]]]
    )  # (setting, variant, n)
    assert readout.cost_per_call(seconds, ["a", "b", "random"], 1) == {"a": 20.0, "b": 30.0}
    assert readout.cost_per_call(seconds, ["a", "b", "c"], 0, skip=()) == {"a": 2.0, "b": 3.0, "c": 6.0}


# -- tables and the verdict --------------------------------------------------------------------------------
def test_newton_grouped_table_columns():
    res = _grouping_result()
    pairs = {
        name: paired_difference(res[name][:, :, 0], res[name][:, :, 1], tolerance=0.01) for name in ("grouped", "union")
    }
    cols = readout.newton_grouped_table(res, pairs)
    assert list(cols) == [
        "task (K, b, m)",
        "n",
        "grouped overlap, newton − grouped [95% CI]",
        "union overlap, newton − grouped [95% CI]",
        "CPU s/call newton",
        "CPU s/call grouped",
    ]
    assert cols["task (K, b, m)"] == ["a (3, 2, 12)", "a (3, 2, 12)", "b (3, 2, 12)"]
    assert cols["n"] == [500, 1000, 500]
    assert cols["grouped overlap, newton − grouped [95% CI]"][1:] == ["0.000 [0.000, 0.000] (not distinguishable)"] * 2
    assert cols["grouped overlap, newton − grouped [95% CI]"][0].startswith("-0.260 [")
    assert cols["CPU s/call newton"] == [0.0, 1.0, 4.0] and cols["CPU s/call grouped"] == [2.0, 3.0, 6.0]


def _comparison_result():
    """A rule_comparison-shaped result: 2 tasks, variants (newton, grouped), 1 m, 2 n, 4 seeds."""
    grouped = np.full((2, 2, 1, 2, 4), 0.9)
    grouped[:, 0] = 0.95  # newton better by 0.05 everywhere
    grouped[0, 1] = NAN  # grouped does not apply to task 0 (b = 1)
    cpu = np.ones_like(grouped)
    cpu[:, 1] = 3.0
    cpu[0, 1] = NAN
    return {
        "tasks": [["sine", 2, 1], ["bump_ridge", 2, 2]],
        "variants": ["newton", "grouped"],
        "m": [8],
        "n": [128, 512],
        "grouped": grouped,
        "union": grouped.copy(),
        "cpu_seconds": cpu,
    }


def test_comparison_table_and_default_verdict():
    cmp = _comparison_result()
    diff = {
        (name, "grouped"): paired_difference(cmp[name][:, 0], cmp[name][:, 1], tolerance=0.01)
        for name in ("grouped", "union")
    }
    cols = readout.comparison_table(cmp, diff)
    assert list(cols) == [
        "task (kind, K, b)",
        "m",
        "n",
        "newton [95% CI]",
        "newton − grouped [95% CI]",
        "CPU s newton",
        "CPU s grouped",
    ]
    assert cols["task (kind, K, b)"] == ["sine (2, 1)"] * 2 + ["bump_ridge (2, 2)"] * 2
    assert cols["m"] == [8] * 4 and cols["n"] == [128, 512, 128, 512]
    assert cols["newton [95% CI]"] == ["0.950 [0.950, 0.950]"] * 4
    assert cols["newton − grouped [95% CI]"] == ["n/a", "n/a"] + ["0.050 [0.050, 0.050] (better)"] * 2
    assert cols["CPU s newton"] == [1.0] * 4
    assert np.isnan(cols["CPU s grouped"][:2]).all() and cols["CPU s grouped"][2:] == [3.0, 3.0]
    assert readout.default_verdict(diff) == {"comparisons": 2, "worse": 0}
    worse = {
        ("grouped", "x"): _d([-0.1, -0.2], [-0.2, -0.3], [-0.05, -0.1], ["worse", "worse"]),
        ("union", "x"): _d([-0.1, 0.0], [-0.2, 0.0], [-0.05, 0.0], ["worse", "not distinguishable"]),
    }
    pairs = {"grouped": _d([0.0], [0.0], [0.0], ["not distinguishable"]), "union": _d([NAN], [NAN], [NAN], [""])}
    assert readout.default_verdict(pairs, diff, worse) == {"comparisons": 5, "worse": 3}


# -- the moment span's start ---------------------------------------------------------------------------------
def test_span_start_overlap_on_the_experiments_training_sets():
    cfg = dataclasses.replace(ModuleGroupingConfig.tiny(), n_grid=(100, 20_000), seeds=(0, 1))
    start = span_start_overlap(cfg, 0)
    assert start.shape == (2, 2)
    K, b, m = cfg.settings()[0]
    for i, n in enumerate(cfg.n_grid):
        for j, seed in enumerate(cfg.seeds):
            task = NonSeparableTask(m, K, b, module_kind="bump_ridge", noise=cfg.noise, seed=seed)
            X, y = task.sample(n, seed=100 + seed)
            expected = union_overlap(task.projections, moment_span(np.asarray(X, float), np.asarray(y, float), K * b))
            assert start[i, j] == expected
    assert (start[1] > 0.99).all() and (start[1] >= start[0]).all()  # the moment estimate converges with n


# -- bad input ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "call,name",
    [
        (lambda: readout.compared(np.array([1.0, 2.0])), "verdict"),
        (lambda: readout.compared(np.array(["better", "great"])), "verdict"),
        (lambda: readout.compared(V, only="bad"), "only"),
        (lambda: readout.counts_text({"better": 1}), "counts"),
        (
            lambda: readout.counts_text({"better": -1, "not distinguishable": 0, "worse": 0, "of": 1}),
            "counts['better']",
        ),
        (lambda: readout.difference_text(_d([0.1], [0.0], [0.2], ["better"]), (3,)), "index[0]"),
        (lambda: readout.difference_text(_d([0.1], [0.0], [0.2], ["better"]), (0, 0)), "index"),
        (lambda: readout.difference_text({"mean": 1}, (0,)), "d"),
        (lambda: readout.failures(np.ones((2, 3)), np.ones((2, 4))), "union"),
        (lambda: readout.failures(np.ones((2, 3)), np.ones((2, 3)), level=NAN), "level"),
        (lambda: readout.failures(np.ones((2, 3)), np.ones((2, 3)), span_level=1.5), "span_level"),
        (lambda: readout.failure_rows(_grouping_result(), "paper"), "variant"),
        (lambda: readout.last_finite([1, 2], [NAN, NAN]), "values"),
        (lambda: readout.last_finite([1, 2], [1.0]), "values"),
        (lambda: readout.line_at([1, 2, 3], [1.0, NAN, NAN], 5), "values"),
        (lambda: readout.line_at([1, 2], [1.0, 2.0], INF), "at"),
        (lambda: readout.cost_per_call(np.ones((1, 2, 3)), ["a"], 0), "variants"),
        (lambda: readout.cost_per_call(np.ones((1, 2, 3)), ["a", "b"], 3), "index"),
        (lambda: readout.cell_label(_grouping_result(), 2, 0), "kind"),
        (lambda: readout.newton_grouped_table(_grouping_result(), {}, new="fast"), "new"),
        (lambda: readout.default_verdict({("spread", "x"): _d([0.0], [0.0], [0.0], [""])}), "overlap name"),
        (lambda: readout.default_verdict([1, 2]), "comparisons"),
        (lambda: span_start_overlap(ModuleGroupingConfig.tiny(), 1), "setting"),
        (lambda: span_start_overlap(ModuleGroupingConfig.tiny(), 0, kind="sine"), "kind"),
        (lambda: span_start_overlap({"n_grid": (10,)}, 0), "cfg"),
    ],
)
def test_bad_input_names_the_parameter(call, name):
    with pytest.raises((TypeError, ValueError), match=re.escape(name)):
        call()
