"""Samples needed and how they grow with the input dimension, with censoring and confidence intervals.

Numpy only, like :mod:`modscale_lib.analysis`: the chapter *Sample complexity against dimension* turns the
stored sweep into ``n*`` per learning curve (on its monotone envelope), fits the growth of ``n*`` per added
dimension with a bootstrap interval over seeds, and states which methods are flat and which differ, only
where the intervals say so.
"""
from __future__ import annotations

import numpy as np

from . import methods, metrics, validation
from .analysis import format_ci

__all__ = ["samples_needed_curves", "growth_with_ci", "growth_rows", "growth_line", "at_largest_n",
           "loss_table", "oracle_check", "censoring_summary", "growth_across_targets", "flat_text", "verdicts",
           "control_rows", "summary_texts", "learned_levels"]


def samples_needed_curves(n_grid, losses, variance, target: float) -> tuple[np.ndarray, np.ndarray]:
    """``n*`` of every learning curve on its monotone envelope (:func:`modscale_lib.metrics.samples_needed_monotone`).

    n_grid : (N,). losses : (..., N), NaN where a curve was not measured (those grid points are left out).
    variance : ``Var(y)``, broadcastable to ``losses.shape[:-1]``. target : the loss target as a fraction of
    ``Var(y)``. Returns ``(n_star, censored)`` of shape ``losses.shape[:-1]``: ``n_star`` is ``inf`` where the
    target is not reached on the grid (``censored == "above"``), the smallest measured ``n`` where it is
    already reached there (``"below"``), NaN where no point was measured; ``censored`` is ``""`` otherwise.
    """
    n_grid = validation.real_array(n_grid, "n_grid", low=0, low_open=True, ndim=1, min_size=1)
    losses = validation.array(losses, "losses", finite=False)
    target = validation.real(target, "target", low=0.0, low_open=True)
    if losses.shape[-1] != n_grid.size:
        raise ValueError(f"losses must end with one entry per n ({n_grid.size}), got shape {losses.shape}")
    variance = np.broadcast_to(validation.real_array(variance, "variance", low=0.0, low_open=True), losses.shape[:-1])
    n_star = np.full(losses.shape[:-1], np.nan)
    censored = np.full(losses.shape[:-1], "", dtype=object)
    for idx in np.ndindex(n_star.shape):
        ok = np.isfinite(losses[idx])
        if ok.any():
            n_star[idx], censored[idx] = metrics.samples_needed_monotone(n_grid[ok], losses[idx][ok],
                                                                         target * variance[idx])
    return n_star, censored


def _clip(x, n_max: float) -> np.ndarray:
    """``n*`` with targets not reached (``inf``) counted at the grid's end ``n_max``."""
    return np.where(np.isinf(x), n_max, x)


def growth_with_ci(input_dims, n_star, n_max: float, *, baseline=None, confidence: float = 0.95) -> dict:
    """Growth of ``n*`` per added dimension with its bootstrap CI over seeds (:func:`modscale_lib.metrics.growth_ci`).

    n_star : (seed, m), ``inf`` where the target was not reached. Such seeds are counted at ``n_max`` (the
    grid's end), so where the median over seeds is censored the growth, and its interval, are lower bounds
    (``lower_bound``). baseline : another method's (seed, m) on the same seeds: the result is then the ratio
    of the two growths, resampled in pairs (``censored`` says whether either median was censored).
    Returns a dict ``estimate, low, high, lower_bound, censored``.
    """
    a = validation.array(n_star, "n_star", ndim=2, finite=False)
    n_max = validation.real(n_max, "n_max", low=0, low_open=True)
    censored = bool(np.any(np.median(a, axis=0) >= n_max))
    b = None
    if baseline is not None:
        b = validation.array(baseline, "baseline", shape=a.shape, finite=False)
        censored = censored or bool(np.any(np.median(b, axis=0) >= n_max))
        b = _clip(b, n_max)
    est, low, high = metrics.growth_ci(input_dims, _clip(a, n_max), baseline=b, confidence=confidence)
    return {"estimate": est, "low": low, "high": high, "lower_bound": censored and baseline is None,
            "censored": censored}


def growth_rows(input_dims, n_star, n_max: float, labels, baseline: int | None = None) -> list[dict]:
    """:func:`growth_with_ci` for every method of ``n_star`` (method, m, seed) that was measured, with its
    ratio to method ``baseline`` (key ``"ratio"``: below 1 means it grows slower than the baseline).
    Each row: ``method``, ``estimate``, ``low``, ``high``, ``lower_bound``, ``censored``, ``flat`` (the interval
    contains 1 and is not a lower bound), and ``ratio`` (a dict like the row's own, or ``None``)."""
    n_star = validation.array(n_star, "n_star", ndim=3, finite=False)
    rows = []
    for i, label in enumerate(labels):
        seeds_by_m = n_star[i].T
        if np.isnan(seeds_by_m).any():
            continue
        row = {"method": label, **growth_with_ci(input_dims, seeds_by_m, n_max)}
        row["never"] = bool(np.all(np.median(seeds_by_m, axis=0) >= n_max))
        row["flat"] = bool(not row["lower_bound"] and row["low"] <= 1.0 <= row["high"])
        row["ratio"] = (None if baseline is None or i == baseline
                        else growth_with_ci(input_dims, seeds_by_m, n_max, baseline=n_star[baseline].T))
        rows.append(row)
    return rows


def growth_line(row: dict) -> str:
    """``"growth per dimension <g>x [95% CI <lo>, <hi>]"``, with ``>=`` before a lower bound; a method that
    reaches the target at no m has no growth to state."""
    if row.get("never"):
        return "growth per dimension: none (the target is reached at no m of the grid)"
    sign = ">= " if row.get("lower_bound") else ""
    return (f"growth per dimension {sign}{row['estimate']:.3f}x [95% CI {sign}{row['low']:.3f}, "
            f"{row['high']:.3f}]")


def _short(row: dict) -> str:
    if row.get("never"):
        return "target reached at no m"
    sign = ">= " if row.get("lower_bound") else ""
    return f"{sign}{row['estimate']:.3f} [{row['low']:.3f}, {row['high']:.3f}]"


def at_largest_n(losses) -> np.ndarray:
    """The loss at the largest ``n`` each curve was measured at: (..., N) -> (...), NaN if never measured."""
    a = validation.array(losses, "losses", finite=False)
    ok = np.isfinite(a)
    last = np.where(ok.any(-1), a.shape[-1] - 1 - np.argmax(ok[..., ::-1], axis=-1), 0)
    out = np.take_along_axis(a, last[..., None], axis=-1)[..., 0]
    return np.where(ok.any(-1), out, np.nan)


def loss_table(last, labels, module_counts, input_dims) -> dict:
    """Columns ``K, m`` and one per method: ``mean [low, high]`` over seeds of ``last`` (K, method, m, seed)."""
    mean, low, high = metrics.bootstrap_ci(last, axis=-1)
    cells = [(k, a) for k in range(len(module_counts)) for a in range(len(input_dims))]
    table = {"K": [module_counts[k] for k, _ in cells], "m": [int(input_dims[a]) for _, a in cells]}
    for i, label in enumerate(labels):
        table[label] = [format_ci(mean[k, i, a], low[k, i, a], high[k, i, a], ".4f") for k, a in cells]
    return table


def oracle_check(last, labels, module_counts, input_dims) -> tuple[dict, int]:
    """:func:`loss_table` of ``last`` (K, method, m, seed) for every method, and the number of (K, m) where
    the oracle's interval lies entirely above the monolithic network's (the oracle is then distinguishably
    worse)."""
    table = loss_table(last, labels, module_counts, input_dims)
    _, low, high = metrics.bootstrap_ci(last, axis=-1)
    o, mono = labels.index(methods.ORACLE), labels.index(methods.MONOLITHIC)
    worse = int(np.sum(low[:, o] > high[:, mono]))
    return table, worse


def censoring_summary(censored, labels, module_counts) -> str:
    """One line per task: how many of each method's (m, seed) curves are censored below and above."""
    lines = []
    for k, K in enumerate(module_counts):
        parts = [f"{label}: {np.sum(censored[k, i] == 'below')} below, {np.sum(censored[k, i] == 'above')} above"
                 for i, label in enumerate(labels)]
        lines.append(f"K = {K}, censored n* of {censored[k, 0].size} (m, seed) curves per method: " + "; ".join(parts))
    return "\n".join(lines)


def growth_across_targets(n_grid, input_dims, rel, targets, labels, module_counts) -> dict:
    """A table: one row per (K, method), one column per target, ``growth [low, high]`` (``>=`` when censored).
    rel : losses / Var(y), (K, method, m, seed, N)."""
    table = {"K": [], "method": []}
    for t in targets:
        n_star, _ = samples_needed_curves(n_grid, rel, 1.0, t)
        for k, K in enumerate(module_counts):
            rows = growth_rows(input_dims, n_star[k, :len(labels)], n_grid[-1], labels)
            if t == targets[0]:
                table["K"] += [K] * len(rows)
                table["method"] += [r["method"] for r in rows]
            table.setdefault(f"target {t:g} Var(y)", []).extend(_short(r) for r in rows)
    return table


def _level(a, b, n_max: float) -> tuple[float, float, float]:
    """The factor ``n*_a / n*_b`` at one dimension, geometric mean over seeds with its bootstrap interval
    (unreached targets counted at ``n_max``). a, b : (seed,)."""
    mean, low, high = metrics.bootstrap_ci(np.log(_clip(a, n_max) / _clip(b, n_max)))
    return float(np.exp(mean)), float(np.exp(low)), float(np.exp(high))


def _compare(name_a: str, name_b: str, input_dims, a, b, n_max: float) -> str:
    """A sentence comparing methods ``a`` and ``b`` ((m, seed) each): growth ratio and level at the largest m.

    A median not reached on the grid is counted at ``n_max``: it makes a method's growth, and its ``n*`` at
    the largest m, lower bounds. So "grows more slowly" is said only when ``a``'s medians are all reached
    (the censoring of ``b`` can only make the true ratio smaller), "faster" only when ``b``'s are, and a level
    is "at least" (or "at most") where ``a`` (or ``b``) is censored there."""
    reached = lambda x: bool(np.all(np.median(x, axis=-1) < n_max))
    r = growth_with_ci(input_dims, a.T, n_max, baseline=b.T)
    if not reached(a) and not np.any(np.median(a, axis=-1) < n_max):
        g = "never reaches the target on the grid"
    elif r["high"] < 1 and reached(a):
        g = f"grows more slowly than {name_b} (ratio of growths {_short(r)})"
    elif r["low"] > 1 and reached(b):
        g = f"grows faster than {name_b} (ratio of growths {_short(r)})"
    elif r["censored"]:
        g = f"is not ordered against {name_b} by the growth ratio {_short(r)}, which rests on censored medians"
    else:
        g = f"grows like {name_b} within the interval (ratio of growths {_short(r)})"
    lv = _level(a[-1], b[-1], n_max)
    a_cens, b_cens = np.median(a[-1]) >= n_max, np.median(b[-1]) >= n_max
    if a_cens and b_cens:
        return f"{name_a} {g}; at m = {int(input_dims[-1])} neither reaches the target on the grid"
    bound = "at least " if a_cens else "at most " if b_cens else ""
    if lv[2] < 1:
        word = "fewer"
    elif lv[1] > 1:
        word = "more"
    else:
        word = "not distinguishably different"
    return (f"{name_a} {g}; at m = {int(input_dims[-1])} it needs {bound}{lv[0]:.2f}x [{lv[1]:.2f}, {lv[2]:.2f}] "
            f"the samples of {name_b} ({word})")


def flat_text(rows_by_task: dict) -> str:
    """The methods flat in m (their interval contains 1), per task: ``{K: growth_rows(...)}`` -> a sentence."""
    parts = []
    for K, rows in rows_by_task.items():
        names = [r["method"] for r in rows if r["flat"]]
        parts.append(f"K = {K}: {', '.join(names) if names else 'none'}")
    return "; ".join(parts) + "."


def verdicts(input_dims, n_star, n_max: float, labels, module_counts) -> dict:
    """What the intervals say at one target. n_star : (K, method, m, seed) for ``labels`` (which include the
    monolithic network, random starts and one rule). Returns ``lines`` (one comparison per line) and ``glue``:
    ``rule_vs_random``, ``modular_vs_mono``."""
    labels = list(labels)
    mono, random = labels.index(methods.MONOLITHIC), labels.index(methods.RANDOM)
    rule = next(i for i, lab in enumerate(labels) if lab.endswith(" rule"))
    rule_random, vs_mono = [], []
    for k, K in enumerate(module_counts):
        text = _compare(labels[rule], labels[random], input_dims, n_star[k, rule], n_star[k, random], n_max)
        rule_random.append(f"K = {K}: {text}")
        for i, label in enumerate(labels):
            if i != mono:
                vs_mono.append(f"K = {K}: " + _compare(label, labels[mono], input_dims, n_star[k, i], n_star[k, mono], n_max))
    return {"lines": rule_random + vs_mono,
            "glue": {"rule_vs_random": "; ".join(rule_random) + ".", "modular_vs_mono": "; ".join(vs_mono) + "."}}


def control_rows(n_grid, input_dims, rel, labels, every: int, target: float) -> dict:
    """The controls of one task against the main methods, all on the controls' grid (every ``every``-th n).

    rel : losses / Var(y), (method, m, seed, N). Returns ``rows`` (:func:`growth_rows` of every method on that
    grid), ``table`` (median ``n*`` per m and growth), ``lines`` and ``glue`` (``q2`` .. ``q5``: each control
    compared with the rule and with the method it stands in for)."""
    labels = list(labels)
    sub = np.arange(0, len(n_grid), every)
    n_sub = np.asarray(n_grid, dtype=float)[sub]
    n_star, _ = samples_needed_curves(n_sub, np.asarray(rel)[..., sub], 1.0, target)
    rows = growth_rows(input_dims, n_star, n_sub[-1], labels)
    table = {"method": [r["method"] for r in rows]}
    for a, m in enumerate(input_dims):
        table[f"n* m={int(m)}"] = [float(np.median(n_star[labels.index(r["method"]), a])) for r in rows]
    table["growth per dimension"] = [_short(r) for r in rows]
    rule = next(lab for lab in labels if lab.endswith(" rule"))
    variant = methods.rule_variant(rule)
    questions = {  # each control, with the method it stands in for; every control is also set beside the rule
        "q2": ((methods.wrong_count(variant, "K/2"), rule), (methods.wrong_count(variant, "2K"), rule)),
        "q3": ((methods.RANDOM_AVERAGED, methods.RANDOM),),
        "q4": ((methods.COMPUTE_MATCHED, methods.MONOLITHIC),),
        "q5": ((methods.NO_PROJECTIONS, methods.MONOLITHIC),),
    }
    glue, lines = {}, []
    for q, pairs in questions.items():
        parts = []
        for control, partner in pairs:
            for other in dict.fromkeys((rule, partner)):
                i, j = labels.index(control), labels.index(other)
                parts.append(_compare(control, other, input_dims, n_star[i], n_star[j], n_sub[-1]))
        lines += [f"{q.upper()}: {p}" for p in parts]
        glue[q] = "; ".join(parts) + "."
    return {"rows": rows, "table": table, "lines": lines, "glue": glue}


def summary_texts(rows_by_task: dict, flat_text: str, control_rows_: list[dict], control_task) -> dict:
    """Sentences for a chapter's summary, built from :func:`growth_rows` per task (``{K: rows}``),
    :func:`flat_text` and the controls' rows: ``headline``, ``summary_mono``, ``summary_modular``,
    ``summary_controls``."""
    def said(row):
        return f"{row['method']} {_short(row)}"

    per_task = {K: {r["method"]: r for r in rows} for K, rows in rows_by_task.items()}
    largest = max(per_task)
    headline = (f"at K = {largest} the samples needed grow per added dimension by "
                + "; ".join(said(r) for r in rows_by_task[largest])
                + f" (growth and 95% interval). Flat in m by the intervals: {flat_text}")
    mono = "; ".join(f"K = {K}: {_short(rows[methods.MONOLITHIC])}" for K, rows in per_task.items()
                     if methods.MONOLITHIC in rows)
    modular = "; ".join(f"K = {K}: " + ", ".join(said(r) for name, r in rows.items() if name != methods.MONOLITHIC)
                        for K, rows in per_task.items())
    controls = "; ".join(said(r) for r in control_rows_ if r["method"] in methods.CONTROLS)
    return {"headline": headline,
            "summary_mono": f"The monolithic network's samples grow per dimension by {mono}.",
            "summary_modular": f"The modular networks' growth per dimension: {modular}.",
            "summary_controls": f"The controls at K = {control_task} (on their coarser grid): {controls}."}


def learned_levels(input_dims, n_star, n_max: float, labels, module_counts) -> str:
    """For each task and each modular method whose projections are learned (not the oracle): its ``n*`` at the
    largest m as a multiple of the monolithic network's: geometric mean over seeds and its interval ("at
    most" where the monolithic network never reaches the target there). n_star : (K, method, m, seed)."""
    labels = list(labels)
    mono = labels.index(methods.MONOLITHIC)
    parts = []
    for k, K in enumerate(module_counts):
        for i, label in enumerate(labels):
            if label in (methods.MONOLITHIC, methods.ORACLE):
                continue
            lv = _level(n_star[k, i, -1], n_star[k, mono, -1], n_max)
            bound = "at most " if np.median(n_star[k, mono, -1]) >= n_max else ""
            parts.append(f"K = {K}, {label}: {bound}{lv[0]:.2f}x [{lv[1]:.2f}, {lv[2]:.2f}]")
    return "; ".join(parts) + "."
