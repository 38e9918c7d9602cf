"""The read-out of the chapter *How classic dimension reduction compares* (``book/peers.ipynb``): every value its
prose glues, from the stored ``peer_comparison`` result.

:func:`measurements` reduces the result once (means over seeds with their bootstrap intervals, per task, ``n``
and method, :func:`modscale_lib.analysis.peer_summary`); :func:`conclusions` turns it into ``name -> value``, the
names that the chapter's markdown cites as ``{glue:text}`name```. Between them, :func:`versus` compares the best
of two groups of methods (:data:`GROUPS`), :func:`group_costs` reads the seconds per call, and
:func:`best_and_ties` finds, per task and ``n``, the best method and those not distinguishable from it. Numpy
only; the intervals and their verdicts are those of :mod:`modscale_lib.analysis`.
"""

from __future__ import annotations

import itertools

import numpy as np

from ... import analysis
from ...store import check_result

__all__ = [
    "GROUPS",
    "PAIRS",
    "WHEN",
    "QUANTITIES",
    "COMPARE_TOLERANCE",
    "TIE_TOLERANCE",
    "measurements",
    "checked",
    "conclusions",
    "interval",
    "best_in_group",
    "versus",
    "group_costs",
    "best_and_ties",
    "ahead",
]

#: The five groups the chapter compares: the moment methods (with the spectral rule's first stage), the classic
#: methods that fit a model, the rule's kernel searches, its ``grouped`` variant and its fast default ``newton``.
GROUPS = {
    "moment": ["sir", "save", "phd", "moment span"],
    "fitted": ["gkdr", "ppr", "rfm", "egop"],
    "kernel search": ["paper rule", "deflation rule", "backfit rule", "spectral rule"],
    "grouped": ["grouped rule"],
    "newton": ["newton rule"],
}
#: The comparisons the chapter glues, ``(a, b)``: the best of group ``a`` against the best of group ``b``.
PAIRS = (
    ("kernel search", "moment"),
    ("kernel search", "fitted"),
    ("grouped", "moment"),
    ("grouped", "fitted"),
    ("grouped", "kernel search"),
    ("newton", "moment"),
    ("newton", "fitted"),
    ("newton", "grouped"),
)
#: The two sample sizes the prose reads, ``(index into n_grid, word)``: the smallest and the largest.
WHEN = ((0, "small"), (-1, "large"))
#: The measures compared: union and grouped overlap (higher is better) and the frozen network's test loss (lower).
QUANTITIES = ("union", "grouped", "test_loss")
#: Half the precision the prose shows (``.3f``): intervals closer than this are not told apart in a comparison.
COMPARE_TOLERANCE = 0.0005
#: Half the precision the tables show per measure (overlaps ``.2f``, test loss ``.3f``), for the ties.
TIE_TOLERANCE = {"union": 0.005, "grouped": 0.005, "test_loss": 0.0005}


def measurements(res, config) -> dict:
    """What the chapter reads of the stored result, reduced once (a few seconds: the bootstrap intervals).

    ``res`` is the stored ``peer_comparison`` result and ``config`` its ``PeerComparisonConfig``. Returns a dict:
    ``res``, ``config``; ``names`` (the methods, in the result's order), ``references`` (``oracle``, ``random``:
    frozen networks on the true and on random projections, test loss only), ``tasks``, ``n_grid`` (an int
    array); ``summary``: :func:`~modscale_lib.analysis.peer_summary`, ``quantity -> (mean, low, high)``, each
    ``(task, n, method)`` (``test_loss`` has the references after the methods).
    """
    check_result(res, config, "peer_comparison")
    return {
        "res": res,
        "config": config,
        "names": [str(name) for name in res["methods"]],
        "references": [str(name) for name in res["references"]],
        "tasks": list(config.tasks),
        "n_grid": np.array(config.n_grid),
        "summary": analysis.peer_summary(res),
    }


def checked(measured) -> dict:
    """``measured`` itself, checked to be a dict of :func:`measurements` (every entry there, ``summary`` holding
    ``(mean, low, high)`` of one shape per quantity); a ``ValueError`` naming ``measured`` otherwise."""
    keys = {"res", "config", "names", "references", "tasks", "n_grid", "summary"}
    if not isinstance(measured, dict) or not keys <= set(measured) or not isinstance(measured["summary"], dict):
        raise ValueError("measured must be measurements(res, config) of the stored peer_comparison result")
    summary = measured["summary"]
    if not {*QUANTITIES, "seconds", "group_seconds"} <= set(summary):
        raise ValueError(f"measured['summary'] must hold {QUANTITIES} and the seconds, got {sorted(summary)}")
    return measured


def interval(measured: dict, quantity: str, task: int, n: int, name: str) -> tuple[float, float, float]:
    """``(mean, low, high)`` of ``quantity`` for the method (or reference) ``name`` on task index ``task`` at
    the ``n``-th sample size of the grid (negative indices count from the end)."""
    measured = checked(measured)
    summary = measured["summary"]
    if quantity not in summary:
        raise ValueError(f"quantity must be one of {sorted(summary)}, got {quantity!r}")
    columns = measured["names"] + (measured["references"] if quantity == "test_loss" else [])
    if name not in columns:
        raise ValueError(f"name must be one of {columns} for {quantity}, got {name!r}")
    shape = summary[quantity][0].shape
    for value, label, size in ((task, "task", shape[0]), (n, "n", shape[1])):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or not -size <= value < size:
            raise ValueError(f"{label} must be an index in [{-size}, {size - 1}], got {value!r}")
    return tuple(float(v[task, n, columns.index(name)]) for v in summary[quantity])


def best_in_group(measured: dict, quantity: str, task: int, n: int, group: str, higher: bool = True) -> str:
    """The method of ``group`` (a key of :data:`GROUPS`) with the best mean ``quantity`` (highest if ``higher``,
    lowest otherwise) on task index ``task`` at grid index ``n``."""
    if group not in GROUPS:
        raise ValueError(f"group must be one of {list(GROUPS)}, got {group!r}")
    means = [interval(measured, quantity, task, n, name)[0] for name in GROUPS[group]]
    return GROUPS[group][int(np.argmax(means) if higher else np.argmin(means))]


def versus(measured: dict, quantity: str, task: int, n: int, a: str, b: str, fmt: str = ".3f") -> str:
    """``"A mean [ci], above / below / not distinguishable from B mean [ci]"``: the best of ``a`` against the
    best of ``b`` (each a group of :data:`GROUPS` or a method), on task index ``task`` at grid index ``n``;
    intervals closer than :data:`COMPARE_TOLERANCE` are not told apart. The best is the highest overlap or the
    lowest test loss."""
    names = checked(measured)["names"]
    for value, label in ((a, "a"), (b, "b")):
        if value not in GROUPS and value not in names:
            raise ValueError(f"{label} must be a group of {list(GROUPS)} or a method of {names}, got {value!r}")
    higher = quantity != "test_loss"
    na, nb = (best_in_group(measured, quantity, task, n, g, higher) if g in GROUPS else g for g in (a, b))
    return analysis.compare_ci(
        interval(measured, quantity, task, n, na),
        interval(measured, quantity, task, n, nb),
        fmt,
        names=(na, nb),
        tolerance=COMPARE_TOLERANCE,
    )


def group_costs(measured: dict) -> dict:
    """Per group of :data:`GROUPS`, ``(lowest, highest)`` mean seconds per call at the largest ``n``, over the
    group's methods and the tasks; and under ``"grouping"`` the largest mean seconds of the grouping step and
    under ``"rfm"`` RFM's largest mean seconds, each ``(value, value)``."""
    measured = checked(measured)
    names, summary = measured["names"], measured["summary"]
    seconds = summary["seconds"][0][:, -1]  # (task, method)
    spread = {g: [seconds[:, names.index(name)] for name in GROUPS[g]] for g in GROUPS}
    out = {g: (float(np.min(s)), float(np.max(s))) for g, s in spread.items()}
    grouping = float(np.max(summary["group_seconds"][0][:, -1]))
    rfm = float(np.max(seconds[:, names.index("rfm")]))
    return {**out, "grouping": (grouping, grouping), "rfm": (rfm, rfm)}


def best_and_ties(measured: dict) -> list[dict]:
    """Per task and ``n`` (tasks outer), ``{"task", "n", quantity: (best, ties)}`` for each of :data:`QUANTITIES`:
    the method with the best mean and those whose interval overlaps its interval or comes within
    :data:`TIE_TOLERANCE` of it (:func:`modscale_lib.analysis.best_and_ties`)."""
    measured = checked(measured)
    names, summary, n_grid = measured["names"], measured["summary"], measured["n_grid"]
    rows = []
    for (c, task), i in itertools.product(enumerate(measured["tasks"]), range(len(n_grid))):
        row = {"task": task, "n": int(n_grid[i])}
        for q in QUANTITIES:
            mean, low, high = (v[c, i, : len(names)] for v in summary[q])
            row[q] = analysis.best_and_ties(
                mean, low, high, names, higher_is_better=q != "test_loss", tolerance=TIE_TOLERANCE[q]
            )
        rows.append(row)
    return rows


def _comparisons(measured: dict) -> dict:
    out = {}
    for (c, task), (i, when), q, (a, b) in itertools.product(enumerate(measured["tasks"]), WHEN, QUANTITIES, PAIRS):
        out[f"{q}_{when}_{task}_{a}_vs_{b}".replace(" ", "_")] = versus(measured, q, c, i, a, b)
    return out


def _references(measured: dict) -> dict:
    out = {}
    for (c, task), (i, when) in itertools.product(enumerate(measured["tasks"]), WHEN):
        for ref in measured["references"]:
            out[f"{ref}_{when}_{task}"] = analysis.format_ci(*interval(measured, "test_loss", c, i, ref), ".3f")
        for q in ("union", "grouped"):
            out[f"paper_{q}_{when}_{task}"] = analysis.format_ci(*interval(measured, q, c, i, "paper rule"))
    n_grid = measured["n_grid"]
    return {**out, "n_small": int(n_grid[0]), "n_large": int(n_grid[-1]), "n_seeds": len(measured["config"].seeds)}


def _costs(measured: dict) -> dict:
    cost = group_costs(measured)
    out = {f"cost_{g.replace(' ', '_')}": f"{cost[g][0]:.2g} to {cost[g][1]:.2g} s" for g in GROUPS}
    out["cost_grouping"] = f"{cost['grouping'][1]:.2g} s"
    out["cost_rfm"] = f"{cost['rfm'][1]:.2g} s"
    out["cost_ratio"] = f"{cost['kernel search'][0] / max(cost['moment'][1], 1e-9):.0f}"
    return out


def ahead(measured: dict) -> dict:
    """``method -> ["<measure> on <task> at n = <n>", ...]``: where a method is ahead of every other beyond the
    intervals (best, with no ties in :func:`best_and_ties`), in the order of the tasks, ``n`` and measures."""
    out = {}
    for row, q in itertools.product(best_and_ties(measured), QUANTITIES):
        top, ties = row[q]
        if not ties:
            out.setdefault(top, []).append(f"{q.replace('_', ' ')} on {row['task']} at n = {row['n']}")
    return out


#: The groups whose wins the prose counts, by the key of their glue names.
_WINNERS = (("grouped", GROUPS["grouped"]), ("newton", GROUPS["newton"]), ("kernel", GROUPS["kernel search"]))


def _wins(measured: dict) -> dict:
    """How many (task, n) cells each group is the best in or tied with, and where a rule variant is alone ahead."""
    rows, wins = best_and_ties(measured), {}
    for row, q in itertools.product(rows, QUANTITIES):
        for name in [row[q][0], *row[q][1]]:
            wins[name, q] = wins.get((name, q), 0) + 1
    out = {}
    for q, (key, group) in itertools.product(QUANTITIES, (*_WINNERS, ("rfm", ["rfm"]))):
        out[f"{key}_wins_{q}"] = f"{max(wins.get((name, q), 0) for name in group)} of {len(rows)}"
    alone = ahead(measured)
    for key in ("grouped", "newton"):
        out[f"{key}_alone"] = "; ".join(alone.get(f"{key} rule", [])) or "nowhere"
    return out


def conclusions(res, config, *, measured: dict | None = None) -> dict:
    """Every value the chapter glues, ``name -> value``, from the stored result ``res`` and its ``config``;
    ``measured`` is :func:`measurements` of them, computed when not given.

    The names are those the chapter's markdown cites: the comparisons ``<quantity>_<small|large>_<task>_<a>_vs_<b>``
    (:func:`versus` for each pair of :data:`PAIRS`), the references ``oracle_*`` and ``random_*`` and Algorithm 1's
    overlaps ``paper_<quantity>_*``, the sizes ``n_small``, ``n_large``, ``n_seeds``, the costs ``cost_*``, and
    how often a group is best or tied (``<group>_wins_<quantity>``, ``"<count> of <cells>"``) and where a rule
    variant is alone ahead (``grouped_alone``, ``newton_alone``; ``"nowhere"`` if nowhere).
    """
    if measured is None:
        measured = measurements(res, config)
    else:
        check_result(res, config, "peer_comparison")
        if not isinstance(measured, dict) or measured.get("res") is not res or measured.get("config") != config:
            raise ValueError("measured must be measurements(res, config) of the same res and config")
    return {**_comparisons(measured), **_references(measured), **_costs(measured), **_wins(measured)}
