"""What the chapter *How classic dimension reduction compares* shows of its measurements: the figure against the
number of samples, the HTML tables and the lines its cells print. Each takes ``measured``, the dict of
:func:`~modscale_lib.chapters.peers.measurements`, and draws or formats what it holds; nothing here computes a
measurement (the comparisons come from the read-out)."""

from __future__ import annotations

import itertools

import matplotlib.pyplot as plt
import numpy as np

from ... import analysis, core, peers, present
from ...experiments.peers import make_task
from .readout import GROUPS, QUANTITIES, ahead, best_and_ties, checked, group_costs

__all__ = [
    "setup_lines",
    "task_labels",
    "task_table",
    "dimension_lines",
    "samples_figure",
    "peer_table",
    "cost_table",
    "best_table",
    "ahead_lines",
]

_KINDS = {"SineWaveTask": "sine-wave", "NonSeparableTask": "non-separable"}
_AXES = {"union": "union overlap", "grouped": "grouped overlap", "test_loss": "test loss / Var(y)"}


def setup_lines(measured: dict) -> str:
    """Where the stored result comes from, and the sweep's sizes and settings."""
    res, config = checked(measured)["res"], measured["config"]
    return (
        f"{res.provenance()} \nn = {config.n_grid}, {len(config.seeds)} seeds; rule: {config.rule_steps} Adam "
        f"steps per search, minibatch {config.rule_batch}; grouping: {config.group_features} random features; "
        f"networks: {config.module_width} units per module, {config.steps} steps, {config.n_test} test samples"
    )


def _drawn(measured: dict) -> list:
    return [make_task(t, 0) for t in checked(measured)["tasks"]]


def task_labels(measured: dict) -> list[str]:
    """One label per task: its kind, ``m``, ``K`` and, for modules of more than one dimension, ``b``."""
    return [
        f"{_KINDS[type(t).__name__]} task, m = {t.input_dim}, K = {t.n_modules}"
        + (f", b = {t.module_dim}" if t.module_dim > 1 else "")
        for t in _drawn(measured)
    ]


def task_table(measured: dict):
    """The tasks, with ``m``, ``K`` and ``b``."""
    drawn = _drawn(measured)
    columns = {
        "task": task_labels(measured),
        "m": [t.input_dim for t in drawn],
        "K": [t.n_modules for t in drawn],
        "b": [t.module_dim for t in drawn],
    }
    return present.table(columns, caption="the tasks")


def dimension_lines(measured: dict) -> str:
    """The tasks whose modules have one dimension, and those whose modules have two or more."""
    drawn = _drawn(measured)
    b1 = [task for task, t in zip(measured["tasks"], drawn) if t.module_dim == 1]
    b2 = [task for task, t in zip(measured["tasks"], drawn) if t.module_dim >= 2]
    return f"b = 1: {b1} ; b = 2: {b2}"


def _styles(names: list[str]) -> dict:
    """One style per method: span methods solid with circles, the rule's variants dashed with squares."""
    span = [name for name in names if "rule" not in name]
    colour = dict(zip(span, plt.cm.Dark2(np.arange(len(span)) % 8)))
    style = {
        name: dict(
            ls="--" if "rule" in name else "-",
            marker="s" if "rule" in name else "o",
            ms=3,
            color=colour.get(name, present.METHOD_COLOURS.get(f"modular, {name}", "#b5338a")),
        )
        for name in names
    }
    style.update(oracle=dict(ls=":", color="k"), random=dict(ls="-.", color="grey"))
    return style


def samples_figure(measured: dict):
    """Union overlap, grouped overlap and the frozen network's test loss (rows) against ``n``, per task
    (columns), every method and rule variant with its 95% interval (the references on the test loss)."""
    names, tasks, n_grid, summary = (checked(measured)[k] for k in ("names", "tasks", "n_grid", "summary"))
    style = _styles(names)
    fig, axes = present.subplots(3, len(tasks), width=3.0, height=2.5, sharex=True, sharey="row", squeeze=False)
    for (r, q), (c, task) in itertools.product(enumerate(QUANTITIES), enumerate(tasks)):
        mean, low, high = (v[c] for v in summary[q])
        shown = names + measured["references"] if q == "test_loss" else names
        for j, name in enumerate(shown):
            yerr = [mean[:, j] - low[:, j], high[:, j] - mean[:, j]]
            x = n_grid * 1.03 ** (j - 7)  # spread the markers so that the intervals do not hide one another
            axes[r, c].errorbar(x, mean[:, j], yerr=yerr, lw=1, elinewidth=0.7, label=name, **style[name])
        axes[0, c].set_title(task, fontsize=9)
        axes[r, 0].set_ylabel(_AXES[q])
        axes[-1, c].set(xscale="log", xlabel="samples n")
    axes[-1, 0].set_yscale("log")
    for ax in axes[-1]:
        ax.set_xticks(n_grid, [f"{n:,}" for n in n_grid])
        ax.minorticks_off()
    fig.legend(*axes[-1, 0].get_legend_handles_labels(), loc="outside lower center", ncol=3, fontsize=9)
    return fig


def peer_table(measured: dict, task: int, n: int):
    """Every method's union and grouped overlap, seconds per call (and of grouping its span) and frozen
    network's test loss, with 95% intervals, on task index ``task`` at grid index ``n``; then the references."""
    names, references, summary = (checked(measured)[k] for k in ("names", "references", "summary"))
    size = summary["union"][0].shape
    task = core.whole(task, "task", low=-size[0], high=size[0] - 1)
    n = core.whole(n, "n", low=-size[1], high=size[1] - 1)

    def cell(q, j, fmt=".2f"):
        return analysis.format_ci(*(v[task, n, j] for v in summary[q]), fmt)

    J, blank = range(len(names)), [""] * len(references)
    rows = [peers.LABELS.get(name, name) for name in names] + references
    columns = {
        "method": rows,
        "union": [cell("union", j) for j in J] + blank,
        "grouped": [cell("grouped", j) for j in J] + blank,
        "seconds": [cell("seconds", j, ".2g") for j in J] + blank,
        "grouping s": [cell("group_seconds", j, ".2g") if "rule" not in names[j] else "" for j in J] + blank,
        "test loss": [cell("test_loss", j, ".3f") for j in range(len(rows))],
    }
    return present.table(columns, caption=f"{task_labels(measured)[task]}, n = {measured['n_grid'][n]}")


def cost_table(measured: dict):
    """Per group of methods, the lowest and highest mean seconds per call at the largest ``n``."""
    cost = group_costs(measured)
    columns = {
        "group": list(GROUPS),
        "methods": [", ".join(GROUPS[g]) for g in GROUPS],
        f"seconds per call, n = {int(measured['n_grid'][-1])}": [
            f"{cost[g][0]:.2g} to {cost[g][1]:.2g}" for g in GROUPS
        ],
    }
    caption = "mean seconds per call at the largest n, lowest and highest over the group's methods and tasks"
    return present.table(columns, caption=caption)


def best_table(measured: dict):
    """Per task and ``n``, the best method of each measure and those not distinguishable from it."""
    rows = best_and_ties(measured)
    columns = {"task": [r["task"] for r in rows], "n": [r["n"] for r in rows]}
    for q in QUANTITIES:
        columns[q] = [f"{r[q][0]} (ties: {', '.join(r[q][1]) or 'none'})" for r in rows]
    return present.table(columns, caption="best mean, and the methods not distinguishable from it (intervals overlap)")


def ahead_lines(measured: dict) -> str:
    """The methods ahead of every other beyond the intervals, and where (:func:`~modscale_lib.chapters.peers.ahead`)."""
    text = "; ".join(f"{name}: {', '.join(where)}" for name, where in ahead(measured).items()) or "none"
    return f"ahead of every other method, beyond the intervals: {text}"
