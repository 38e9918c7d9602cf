"""Samples needed and how they grow with the input dimension, with censoring and confidence intervals.

Numpy only, like :mod:`modscale_lib.analysis`: the chapter *Sample complexity against dimension* turns the
stored sweep into ``n*`` per learning curve (on its monotone envelope), fits the growth of ``n*`` per added
dimension with a bootstrap interval over seeds, and states which methods are flat and which differ, only
where the intervals say so.
"""

from __future__ import annotations

import numpy as np

from . import core, measure, methods
from .analysis import format_ci

__all__ = [
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
]


# The checks of this module's arguments ------------------------------------------------------------------------
_N_MAX = core.Real(0.0, low_open=True)  # the grid's largest n
_N_MIN = core.OrNone(core.Real(0.0, lambda a: a["n_max"], low_open=True))  # the grid's first n, <= n_max
_STUDY = core.Array(ndim=4, finite=False)  # (K, method, m, seed)
_CONTROLS = (methods.RANDOM_AVERAGED, methods.COMPUTE_MATCHED, methods.NO_PROJECTIONS)  # and the rule's wrong counts


def _labels(array: str, axis: int, needs: tuple = (), rule: bool = False) -> core.Check:
    """The method labels of ``array``'s axis ``axis``: strings, at most one per method there (they name the first
    methods), holding the labels ``needs`` (and a rule's label, ``"... rule"``, if ``rule``)."""

    def check(value, name, arguments):
        if isinstance(value, (str, bytes)) or not isinstance(value, (list, tuple, np.ndarray)):
            raise TypeError(f"{name} must be a sequence of method labels, got {type(value).__name__}")
        labels, size = list(value), arguments[array].shape[axis]
        if not labels or len(labels) > size or not all(isinstance(v, str) for v in labels):
            raise ValueError(
                f"{name} must hold 1 to {size} labels (strings), one per method of {array}, got {labels!r}"
            )
        missing = [n for n in needs if n not in labels] + (
            ["a rule"] if rule and not any(v.endswith(" rule") for v in labels) else []
        )
        if missing:
            raise ValueError(f"{name} must include {missing}, got {labels!r}")
        return labels

    return core.Check(check)


def _per(array: str, axis: int, whole: bool = True) -> core.Check:
    """One value per index of ``array``'s axis ``axis`` (the tasks' module counts, or the input dimensions)."""

    def check(value, name, arguments):
        out = core.whole_array(value, name, low=1, ndim=1) if whole else core.real_array(value, name, ndim=1)
        if out.size != arguments[array].shape[axis]:
            raise ValueError(
                f"{name} must hold one value per index of axis {axis} of {array} "
                f"({arguments[array].shape[axis]}), got {out.size}"
            )
        return out

    return core.Check(check)


def samples_needed_curves(n_grid, losses, variance, target: float) -> tuple[np.ndarray, np.ndarray]:
    """``n*`` of every learning curve on its monotone envelope (:func:`modscale_lib.measure.samples_needed_monotone`).

    n_grid : (N,). losses : (..., N), NaN where a curve was not measured (those grid points are left out).
    variance : ``Var(y)``, broadcastable to ``losses.shape[:-1]``. target : the loss target as a fraction of
    ``Var(y)``. Returns ``(n_star, censored)`` of shape ``losses.shape[:-1]``: ``n_star`` is ``inf`` where the
    target is not reached on the grid (``censored == "above"``), the smallest measured ``n`` where it is
    already reached there (``"below"``), NaN where no point was measured; ``censored`` is ``""`` otherwise.
    """
    n_grid = core.real_array(n_grid, "n_grid", low=0, low_open=True, ndim=1, min_size=1)
    losses = core.array(losses, "losses", finite=False)
    target = core.real(target, "target", low=0.0, low_open=True)
    if losses.shape[-1] != n_grid.size:
        raise ValueError(f"losses must end with one entry per n ({n_grid.size}), got shape {losses.shape}")
    variance = core.real_array(variance, "variance", low=0.0, low_open=True)
    try:
        variance = np.broadcast_to(variance, losses.shape[:-1])
    except ValueError as exc:
        raise ValueError(
            f"variance must broadcast to losses' shape without its last axis {losses.shape[:-1]}, got {variance.shape}"
        ) from exc
    n_star = np.full(losses.shape[:-1], np.nan)
    censored = np.full(losses.shape[:-1], "", dtype=object)
    for idx in np.ndindex(n_star.shape):
        ok = np.isfinite(losses[idx])
        if ok.any():
            n_star[idx], censored[idx] = measure.samples_needed_monotone(
                n_grid[ok], losses[idx][ok], target * variance[idx]
            )
    return n_star, censored


def _clip(x, n_max: float) -> np.ndarray:
    """``n*`` with targets not reached (``inf``) counted at the grid's end ``n_max``."""
    return np.where(np.isinf(x), n_max, x)


def _medians(value, name: str) -> np.ndarray:
    """Medians of ``n*`` over m: a non-empty 1-D array, ``inf`` allowed (not reached), NaN not."""
    out = core.array(value, name, ndim=1, finite=False, min_rows=1)
    if np.isnan(out).any():
        raise ValueError(f"{name} must not hold NaN (a median of n* is a number or inf), got {out.tolist()}")
    return out


def _run(mask: np.ndarray, leading: bool) -> bool:
    """Whether ``mask`` (over m, ascending) is one run of True at the start (``leading``) or at the end."""
    k = int(mask.sum())
    order = np.arange(mask.size)
    return bool(np.array_equal(mask, order < k if leading else order >= mask.size - k))


@core.validated(medians=core.Check(lambda v, name, a: _medians(v, name)), n_max=_N_MAX, n_min=_N_MIN)
def censoring_bound(medians, n_max: float, n_min: float | None = None) -> str:
    """What censored medians of ``n*`` (over m, ascending) make of the growth fitted through them.

    A median at or above ``n_max`` (not reached on the grid) is counted at ``n_max``: the truth is larger. One
    at or below ``n_min`` (the grid's first ``n``, reached already there) is counted at ``n_min``: the truth
    is smaller. So censoring above at the largest m, or below at the smallest, can only flatten the fitted
    growth (``"lower"``: the growth is a lower bound), and the reverse only steepen it (``"upper"``). Returns
    ``""`` (nothing censored), ``"lower"``, ``"upper"``, ``"mixed"`` (no bound either way) or ``"all"`` (every
    median censored: no growth is measured)."""
    med = medians
    above = med >= n_max
    below = med <= n_min if n_min is not None else np.zeros(med.shape, dtype=bool)
    if not (above | below).any():
        return ""
    if (above | below).all():
        return "all"
    if _run(below, True) and _run(above, False):
        return "lower"
    if _run(below, False) and _run(above, True):
        return "upper"
    return "mixed"


def growth_with_ci(
    input_dims, n_star, n_max: float, *, baseline=None, confidence: float = 0.95, n_min: float | None = None
) -> dict:
    """Growth of ``n*`` per added dimension with its bootstrap CI over seeds (:func:`modscale_lib.measure.growth_ci`).

    n_star : (seed, m), ``inf`` where the target was not reached. Such seeds are counted at ``n_max`` (the
    grid's end); seeds that reach the target already at the grid's first ``n`` (``n_min``, if given) sit at
    ``n_min``. Where the median over seeds is censored, :func:`censoring_bound` says what the growth and its
    interval are: ``bound`` is ``"lower"`` (then ``lower_bound``), ``"upper"`` (``upper_bound``), ``"mixed"``
    or ``"all"``. baseline : another method's (seed, m) on the same seeds: the result is then the ratio of
    the two growths, resampled in pairs, with ``bound_a`` and ``bound_b`` of each (``censored`` says whether
    either median was censored). Returns a dict ``estimate, low, high, bound, lower_bound, upper_bound,
    censored``.
    """
    a = core.array(n_star, "n_star", ndim=2, finite=False, min_rows=1)
    n_max = core.real(n_max, "n_max", low=0, low_open=True)
    if n_min is not None:
        n_min = core.real(n_min, "n_min", low=0, low_open=True, high=n_max)
    bound = censoring_bound(np.median(a, axis=0), n_max, n_min)
    out = {"bound": bound, "censored": bound != ""}
    b = None
    if baseline is not None:
        b = core.array(baseline, "baseline", shape=a.shape, finite=False)
        out.update(bound_a=bound, bound_b=censoring_bound(np.median(b, axis=0), n_max, n_min), bound="")
        out["censored"] = out["bound_a"] != "" or out["bound_b"] != ""
        b = _clip(b, n_max)
    out["estimate"], out["low"], out["high"] = measure.growth_ci(
        input_dims, _clip(a, n_max), baseline=b, confidence=confidence
    )
    out["lower_bound"], out["upper_bound"] = out["bound"] == "lower", out["bound"] == "upper"
    return out


@core.validated(
    n_star=core.Array(ndim=3, finite=False),
    labels=_labels("n_star", 0),
    n_max=_N_MAX,
    baseline=core.OrNone(core.Whole(0, lambda a: len(a["labels"]) - 1)),
    n_min=_N_MIN,
)
def growth_rows(
    input_dims, n_star, n_max: float, labels, baseline: int | None = None, n_min: float | None = None
) -> list[dict]:
    """:func:`growth_with_ci` for every method of ``n_star`` (method, m, seed) that was measured, with its
    ratio to method ``baseline`` (key ``"ratio"``: below 1 means it grows slower than the baseline).
    Each row: ``method``, ``estimate``, ``low``, ``high``, ``bound``, ``lower_bound``, ``upper_bound``,
    ``censored``, ``never`` (no median reached on the grid), ``always`` (every median reached at ``n_min``),
    ``flat`` (nothing censored and the interval contains 1), and ``ratio`` (a dict, or ``None``)."""
    rows = []
    for i, label in enumerate(labels):
        seeds_by_m = n_star[i].T
        if np.isnan(seeds_by_m).any():
            continue
        row = {"method": label, **growth_with_ci(input_dims, seeds_by_m, n_max, n_min=n_min)}
        med = np.median(seeds_by_m, axis=0)
        row["never"] = bool(np.all(med >= n_max))
        row["always"] = bool(n_min is not None and np.all(med <= n_min))
        row["flat"] = bool(not row["censored"] and row["low"] <= 1.0 <= row["high"])
        row["ratio"] = (
            None
            if baseline is None or i == baseline
            else growth_with_ci(input_dims, seeds_by_m, n_max, baseline=n_star[baseline].T, n_min=n_min)
        )
        rows.append(row)
    return rows


def _sign(row: dict) -> str:
    return ">= " if row.get("lower_bound") else "<= " if row.get("upper_bound") else ""


def _note(row: dict) -> str:
    return " (rests on censored medians; no bound)" if row.get("bound") == "mixed" else ""


def _flat_rows(value: dict, name: str) -> dict:
    for K, rows in value.items():
        _rows(rows, f"{name}[{K!r}]", ("method", "flat"))
    return value


def _row(row, name: str, arguments: dict | None = None):
    """A :func:`growth_rows` row: a dict that, where it states a growth, holds ``estimate``, ``low`` and ``high``."""
    if not hasattr(row, "get") or not hasattr(row, "keys"):
        raise TypeError(f"{name} must be a growth_rows row (a dict), got {type(row).__name__}")
    if not (row.get("never") or row.get("always") or row.get("bound") == "all"):
        for key in ("estimate", "low", "high"):
            if key not in row:
                raise ValueError(f"{name} must hold {key!r} (a growth_rows row), got the keys {sorted(row)}")
            core.array(row[key], f"{name}[{key!r}]", ndim=0, finite=False)
    return row


@core.validated(row=core.Check(_row))
def growth_line(row: dict) -> str:
    """``"growth per dimension <g>x [95% CI <lo>, <hi>]"``, with ``>=`` before a lower bound and ``<=`` before
    an upper bound (:func:`censoring_bound`); a method that reaches the target at no m, or at the grid's
    first ``n`` at every m, has no growth to state."""
    if row.get("never"):
        return "growth per dimension: none (the target is reached at no m of the grid)"
    if row.get("always") or row.get("bound") == "all":
        return "growth per dimension: not measured (every median is censored: reached at the grid's first n)"
    sign = _sign(row)
    return (
        f"growth per dimension {sign}{row['estimate']:.3f}x [95% CI {sign}{row['low']:.3f}, "
        f"{row['high']:.3f}]{_note(row)}"
    )


def _short(row: dict) -> str:
    if row.get("never"):
        return "target reached at no m"
    if row.get("always") or row.get("bound") == "all":
        return "reached at the first n at every m"
    sign = _sign(row)
    return f"{sign}{row['estimate']:.3f} [{row['low']:.3f}, {row['high']:.3f}]{_note(row)}"


def at_largest_n(losses) -> np.ndarray:
    """The loss at the largest ``n`` each curve was measured at: (..., N) -> (...), NaN if never measured."""
    a = core.array(losses, "losses", finite=False)
    if a.ndim < 1 or a.shape[-1] < 1:
        raise ValueError(f"losses must have a last axis of at least one n, got shape {a.shape}")
    ok = np.isfinite(a)
    last = np.where(ok.any(-1), a.shape[-1] - 1 - np.argmax(ok[..., ::-1], axis=-1), 0)
    out = np.take_along_axis(a, last[..., None], axis=-1)[..., 0]
    return np.where(ok.any(-1), out, np.nan)


@core.validated(
    last=core.Array(ndim=4, finite=False),
    labels=_labels("last", 1),
    module_counts=_per("last", 0),
    input_dims=_per("last", 2),
)
def loss_table(last, labels, module_counts, input_dims) -> dict:
    """Columns ``K, m`` and one per method: ``mean [low, high]`` over seeds of ``last`` (K, method, m, seed)."""
    if last.shape[-1] < 1:
        raise ValueError(f"last must have at least one seed, got shape {last.shape}")
    mean, low, high = core.bootstrap_ci(last, axis=-1)
    cells = [(k, a) for k in range(len(module_counts)) for a in range(len(input_dims))]
    table = {"K": [module_counts[k] for k, _ in cells], "m": [int(input_dims[a]) for _, a in cells]}
    for i, label in enumerate(labels):
        table[label] = [format_ci(mean[k, i, a], low[k, i, a], high[k, i, a], ".4f") for k, a in cells]
    return table


@core.validated(
    last=core.Array(ndim=4, finite=False),
    labels=_labels("last", 1, (methods.ORACLE, methods.MONOLITHIC)),
    module_counts=_per("last", 0),
    input_dims=_per("last", 2),
)
def oracle_check(last, labels, module_counts, input_dims) -> tuple[dict, int]:
    """:func:`loss_table` of ``last`` (K, method, m, seed) for every method, and the number of (K, m) where
    the oracle's interval lies entirely above the monolithic network's (the oracle is then distinguishably
    worse)."""
    table = loss_table(last, labels, module_counts, input_dims)
    _, low, high = core.bootstrap_ci(last, axis=-1)
    o, mono = labels.index(methods.ORACLE), labels.index(methods.MONOLITHIC)
    worse = int(np.sum(low[:, o] > high[:, mono]))
    return table, worse


def _censored(value, name: str, arguments: dict | None = None, shape: tuple | None = None) -> np.ndarray:
    """Censoring marks (K, method, m, seed), of ``shape`` if given: ``""``, ``"below"`` or ``"above"``."""
    out = np.asarray(core.as_numpy(value))
    if out.dtype.kind not in "UO" or out.ndim != 4 or (shape is not None and out.shape != shape):
        raise TypeError(
            f"{name} must be a (K, method, m, seed) array of censoring marks of shape {shape or '(any)'}, "
            f"got {out.dtype} {out.shape}"
        )
    unknown = sorted({str(x) for x in out.ravel()} - {"", "below", "above"})
    if unknown:
        raise ValueError(f"{name} must hold only '', 'below' or 'above', got {unknown}")
    return out


@core.validated(censored=core.Check(_censored), labels=_labels("censored", 1), module_counts=_per("censored", 0))
def censoring_summary(censored, labels, module_counts) -> str:
    """One line per task: how many of each method's (m, seed) curves are censored below and above."""
    lines = []
    for k, K in enumerate(module_counts):
        parts = [
            f"{label}: {np.sum(censored[k, i] == 'below')} below, {np.sum(censored[k, i] == 'above')} above"
            for i, label in enumerate(labels)
        ]
        lines.append(f"K = {K}, censored n* of {censored[k, 0].size} (m, seed) curves per method: " + "; ".join(parts))
    return "\n".join(lines)


@core.validated(
    n_grid=core.RealArray(0.0, low_open=True, ndim=1, min_size=1),
    rel=core.Array(ndim=5, finite=False, shape=lambda a: (None,) * 4 + (a["n_grid"].size,)),
    input_dims=_per("rel", 2, whole=False),
    targets=core.Reals(0.0, low_open=True),
    labels=_labels("rel", 1),
    module_counts=_per("rel", 0),
)
def growth_across_targets(n_grid, input_dims, rel, targets, labels, module_counts) -> dict:
    """A table: one row per (K, method), one column per target, ``growth [low, high]`` (``>=`` or ``<=`` where
    censoring makes it a bound, :func:`censoring_bound`).
    rel : losses / Var(y), (K, method, m, seed, N)."""
    table = {"K": [], "method": []}
    for t in targets:
        n_star, _ = samples_needed_curves(n_grid, rel, 1.0, t)
        for k, K in enumerate(module_counts):
            rows = growth_rows(input_dims, n_star[k, : len(labels)], n_grid[-1], labels, n_min=n_grid[0])
            if t == targets[0]:
                table["K"] += [K] * len(rows)
                table["method"] += [r["method"] for r in rows]
            table.setdefault(f"target {t:g} Var(y)", []).extend(_short(r) for r in rows)
    return table


def _level(a, b, n_max: float) -> tuple[float, float, float]:
    """The factor ``n*_a / n*_b`` at one dimension, geometric mean over seeds with its bootstrap interval
    (unreached targets counted at ``n_max``). a, b : (seed,)."""
    mean, low, high = core.bootstrap_ci(np.log(_clip(a, n_max) / _clip(b, n_max)))
    return float(np.exp(mean)), float(np.exp(low)), float(np.exp(high))


def _ratio_bound(bound_a: str, bound_b: str) -> str:
    """What the growth ratio ``a / b`` is, given what each growth is (:func:`censoring_bound`): ``""`` (both
    exact), ``"upper"`` (``a`` exact or too steep, ``b`` exact or too flat), ``"lower"`` (the reverse) or
    ``"mixed"``."""
    if bound_a == bound_b == "":
        return ""
    if bound_a in ("", "upper") and bound_b in ("", "lower"):
        return "upper"
    if bound_a in ("", "lower") and bound_b in ("", "upper"):
        return "lower"
    return "mixed"


def _level_bound(a, b, n_max: float, n_min: float | None) -> str:
    """``"at least"``, ``"at most"`` or ``""``: what censoring at the largest m makes of the level ``n*_a / n*_b``
    (a median not reached, at ``n_max``, is too small; one reached at the first ``n``, ``n_min``, too large).
    a, b : (seed,)."""
    up = lambda x: bool(np.median(x) >= n_max)
    low = lambda x: n_min is not None and bool(np.median(x) <= n_min)
    at_least, at_most = up(a) or low(b), low(a) or up(b)
    return "" if at_least == at_most else "at least" if at_least else "at most"


def _name(value, name: str, arguments: dict) -> str:
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a method's name (a string), got {type(value).__name__}")
    return value


@core.validated(
    name_a=core.Check(_name),
    name_b=core.Check(_name),
    a=core.Array(ndim=2, finite=False, min_rows=1),
    b=core.Array(ndim=2, finite=False, shape=lambda a: a["a"].shape),
    input_dims=_per("a", 0, whole=False),
    n_max=_N_MAX,
    n_min=_N_MIN,
)
def comparison(name_a: str, name_b: str, input_dims, a, b, n_max: float, n_min: float | None = None) -> dict:
    """Methods ``a`` and ``b`` ((m, seed) each) compared: the ratio of their growths and the level at the largest m.

    Censored medians (not reached on the grid, counted at ``n_max``; or reached at the grid's first ``n``,
    ``n_min``) make each growth a bound (:func:`censoring_bound`). So ``growth`` is ``"slower"`` only when
    ``a``'s growth is exact or an upper bound and ``b``'s exact or a lower bound, ``"faster"`` only in the
    reverse case; otherwise a censored comparison is ``"unordered"`` and an exact one ``"alike"`` (or
    ``"never"``: ``a`` reaches the target at no m; ``"first"``: at the grid's first n at every m). At the
    largest m (``m``) the level ``n*_a / n*_b`` (``level``: mean, low, high; ``None`` where both medians are
    censored at the same end) is ``"at least"`` or ``"at most"`` (``level_bound``) where censoring bounds it,
    and ``level_word`` is ``"fewer"`` or ``"more"`` only where the bound allows it, else ``"neither way"``
    (a bound), ``"same"`` (not distinguishable), ``"neither"`` (neither reaches the target) or ``"both"``
    (both at the first n). ``ratio``: :func:`growth_with_ci` of the pair; ``ratio_text``: it in short."""
    ma, mb = np.median(a, axis=-1), np.median(b, axis=-1)
    r = growth_with_ci(input_dims, a.T, n_max, baseline=b.T, n_min=n_min)
    ratio = _ratio_bound(r["bound_a"], r["bound_b"])
    below = lambda x: n_min is not None and bool(np.all(x <= n_min))
    if np.all(ma >= n_max):
        g = "never"
    elif below(ma):
        g = "first"
    elif r["high"] < 1 and ratio in ("", "upper"):
        g = "slower"
    elif r["low"] > 1 and ratio in ("", "lower"):
        g = "faster"
    else:
        g = "unordered" if r["censored"] else "alike"
    out = {
        "method": name_a,
        "against": name_b,
        "m": int(input_dims[-1]),
        "growth": g,
        "ratio": r,
        "ratio_text": _short(r),
        "level": None,
        "level_bound": "",
    }
    if ma[-1] >= n_max and mb[-1] >= n_max:
        return {**out, "level_word": "neither"}
    if below(ma[-1]) and below(mb[-1]):
        return {**out, "level_word": "both"}
    lv = _level(a[-1], b[-1], n_max)
    bound = _level_bound(a[-1], b[-1], n_max, n_min)
    word = (
        "fewer"
        if lv[2] < 1 and bound != "at least"
        else "more"
        if lv[1] > 1 and bound != "at most"
        else "neither way"
        if bound
        else "same"
    )
    return {**out, "level": lv, "level_bound": bound, "level_word": word}


_GROWTH_SAID = {
    "never": "never reaches the target on the grid",
    "first": "reaches the target at the grid's first n at every m",
    "slower": "grows more slowly than {b} (ratio of growths {r})",
    "faster": "grows faster than {b} (ratio of growths {r})",
    "unordered": "is not ordered against {b} by the growth ratio {r}, which rests on censored medians",
    "alike": "grows like {b} within the interval (ratio of growths {r})",
}
_LEVEL_SAID = {
    "fewer": "fewer",
    "more": "more",
    "neither way": "a bound that orders neither",
    "same": "not distinguishably different",
}


def _compare(name_a: str, name_b: str, input_dims, a, b, n_max: float, n_min: float | None = None) -> str:
    """:func:`comparison` as a sentence: growth ratio and level at the largest m."""
    c = comparison(name_a, name_b, input_dims, a, b, n_max, n_min)
    g = _GROWTH_SAID[c["growth"]].format(b=name_b, r=c["ratio_text"])
    if c["level_word"] == "neither":
        return f"{name_a} {g}; at m = {c['m']} neither reaches the target on the grid"
    if c["level_word"] == "both":
        return f"{name_a} {g}; at m = {c['m']} both reach the target at the grid's first n"
    said = f"{c['level_bound']} " if c["level_bound"] else ""
    lv = c["level"]
    return (
        f"{name_a} {g}; at m = {c['m']} it needs {said}{lv[0]:.2f}x [{lv[1]:.2f}, {lv[2]:.2f}] "
        f"the samples of {name_b} ({_LEVEL_SAID[c['level_word']]})"
    )


def _rows_by_task(value, name: str, arguments: dict) -> dict:
    """``{K: growth_rows(...)}``: a non-empty dict of lists of rows, each with ``method`` and ``flat``."""
    if not hasattr(value, "items") or not value:
        raise TypeError(f"{name} must be a non-empty dict {{K: growth_rows rows}}, got {value!r}"[:300])
    for K, rows in value.items():
        _rows(rows, f"{name}[{K!r}]", ("method",))
    return value


def _rows(rows, name: str, keys: tuple) -> list:
    if isinstance(rows, (str, bytes)) or not isinstance(rows, (list, tuple)):
        raise TypeError(f"{name} must be a list of growth_rows rows, got {type(rows).__name__}")
    for i, row in enumerate(rows):
        _row(row, f"{name}[{i}]")
        missing = [k for k in keys if k not in row]
        if missing:
            raise ValueError(f"{name}[{i}] must hold {missing} (a growth_rows row), got the keys {sorted(row)}")
    return list(rows)


@core.validated(rows_by_task=core.Check(lambda v, name, a: _rows_by_task(v, name, a) and _flat_rows(v, name)))
def flat_text(rows_by_task: dict) -> str:
    """The methods flat in m (no median censored, and the interval contains 1), per task: ``{K: growth_rows(...)}``
    -> a sentence."""
    parts = []
    for K, rows in rows_by_task.items():
        names = [r["method"] for r in rows if r["flat"]]
        parts.append(f"K = {K}: {', '.join(names) if names else 'none'}")
    return "; ".join(parts) + "."


@core.validated(
    n_star=_STUDY,
    labels=_labels("n_star", 1, (methods.MONOLITHIC, methods.RANDOM), rule=True),
    module_counts=_per("n_star", 0),
    input_dims=_per("n_star", 2, whole=False),
    n_max=_N_MAX,
    n_min=_N_MIN,
)
def verdicts(input_dims, n_star, n_max: float, labels, module_counts, n_min: float | None = None) -> dict:
    """What the intervals say at one target. n_star : (K, method, m, seed) for ``labels`` (which include the
    monolithic network, random starts and one rule); ``n_min``: the grid's first ``n`` (censoring below).
    Returns ``lines`` (one comparison per line), ``comparisons`` (the same as :func:`comparison` dicts, each
    with its ``K``; the rule against random starts first) and ``glue``: ``rule_vs_random``,
    ``modular_vs_mono``."""
    labels = list(labels)
    mono, random = labels.index(methods.MONOLITHIC), labels.index(methods.RANDOM)
    rule = next(i for i, lab in enumerate(labels) if lab.endswith(" rule"))
    pairs = [(k, rule, random) for k in range(len(module_counts))]
    pairs += [(k, i, mono) for k in range(len(module_counts)) for i in range(len(labels)) if i != mono]
    args = lambda k, i, j: (labels[i], labels[j], input_dims, n_star[k, i], n_star[k, j], n_max, n_min)
    comparisons = [{"K": module_counts[k], **comparison(*args(k, i, j))} for k, i, j in pairs]
    lines = [f"K = {module_counts[k]}: {_compare(*args(k, i, j))}" for k, i, j in pairs]
    split = len(module_counts)
    return {
        "lines": lines,
        "comparisons": comparisons,
        "glue": {"rule_vs_random": "; ".join(lines[:split]) + ".", "modular_vs_mono": "; ".join(lines[split:]) + "."},
    }


@core.validated(
    n_grid=core.RealArray(0.0, low_open=True, ndim=1, min_size=1),
    rel=core.Array(ndim=4, finite=False, shape=lambda a: (None, None, None, a["n_grid"].size)),
    input_dims=_per("rel", 1, whole=False),
    labels=_labels("rel", 0, (methods.RANDOM, methods.MONOLITHIC, *_CONTROLS), rule=True),
    every=core.Whole(1, lambda a: a["n_grid"].size),
    target=core.Real(0.0, low_open=True),
)
def control_rows(n_grid, input_dims, rel, labels, every: int, target: float) -> dict:
    """The controls of one task against the main methods, all on the controls' grid (every ``every``-th n).

    rel : losses / Var(y), (method, m, seed, N). Returns ``rows`` (:func:`growth_rows` of every method on that
    grid), ``table`` (median ``n*`` per m and growth), ``lines`` and ``glue`` (``q2`` .. ``q5``: each control
    compared with the rule and with the method it stands in for), and ``comparisons`` (the same as
    :func:`comparison` dicts, each with its ``question``)."""
    labels = list(labels)
    sub = np.arange(0, len(n_grid), every)
    n_sub = np.asarray(n_grid, dtype=float)[sub]
    n_star, _ = samples_needed_curves(n_sub, np.asarray(rel)[..., sub], 1.0, target)
    rows = growth_rows(input_dims, n_star, n_sub[-1], labels, n_min=n_sub[0])
    table = {"method": [r["method"] for r in rows]}
    for a, m in enumerate(input_dims):
        table[f"n* m={int(m)}"] = [float(np.median(n_star[labels.index(r["method"]), a])) for r in rows]
    table["growth per dimension"] = [_short(r) for r in rows]
    rule = next(lab for lab in labels if lab.endswith(" rule"))
    variant = methods.rule_variant(rule)
    missing = [c for c in (methods.wrong_count(variant, "K/2"), methods.wrong_count(variant, "2K")) if c not in labels]
    if missing:
        raise ValueError(f"labels must include the controls {missing}, got {labels!r}")
    questions = {  # each control, with the method it stands in for; every control is also set beside the rule
        "q2": ((methods.wrong_count(variant, "K/2"), rule), (methods.wrong_count(variant, "2K"), rule)),
        "q3": ((methods.RANDOM_AVERAGED, methods.RANDOM),),
        "q4": ((methods.COMPUTE_MATCHED, methods.MONOLITHIC),),
        "q5": ((methods.NO_PROJECTIONS, methods.MONOLITHIC),),
    }
    glue, lines, comparisons = {}, [], []
    for q, pairs in questions.items():
        parts = []
        for control, partner in pairs:
            for other in dict.fromkeys((rule, partner)):
                args = (
                    control,
                    other,
                    input_dims,
                    n_star[labels.index(control)],
                    n_star[labels.index(other)],
                    n_sub[-1],
                    n_sub[0],
                )
                parts.append(_compare(*args))
                comparisons.append({"question": q.upper(), **comparison(*args)})
        lines += [f"{q.upper()}: {p}" for p in parts]
        glue[q] = "; ".join(parts) + "."
    return {"rows": rows, "table": table, "lines": lines, "glue": glue, "comparisons": comparisons}


@core.validated(
    rows_by_task=core.Check(_rows_by_task),
    flat_text=core.Check(_name),
    control_rows_=core.Check(lambda v, name, a: _rows(v, name, ("method",))),
)
def summary_texts(rows_by_task: dict, flat_text: str, control_rows_: list[dict], control_task) -> dict:
    """Sentences for a chapter's summary, built from :func:`growth_rows` per task (``{K: rows}``),
    :func:`flat_text` and the controls' rows: ``headline``, ``summary_mono``, ``summary_modular``,
    ``summary_controls``."""

    def said(row):
        return f"{row['method']} {_short(row)}"

    per_task = {K: {r["method"]: r for r in rows} for K, rows in rows_by_task.items()}
    largest = max(per_task)
    headline = (
        f"at K = {largest} the samples needed grow per added dimension by "
        + "; ".join(said(r) for r in rows_by_task[largest])
        + f" (growth and 95% interval). Flat in m by the intervals: {flat_text}"
    )
    mono = "; ".join(
        f"K = {K}: {_short(rows[methods.MONOLITHIC])}" for K, rows in per_task.items() if methods.MONOLITHIC in rows
    )
    modular = "; ".join(
        f"K = {K}: " + ", ".join(said(r) for name, r in rows.items() if name != methods.MONOLITHIC)
        for K, rows in per_task.items()
    )
    controls = "; ".join(said(r) for r in control_rows_ if r["method"] in methods.CONTROLS)
    return {
        "headline": headline,
        "summary_mono": f"The monolithic network's samples grow per dimension by {mono}.",
        "summary_modular": f"The modular networks' growth per dimension: {modular}.",
        "summary_controls": f"The controls at K = {control_task} (on their coarser grid): {controls}.",
    }


@core.validated(
    n_star=_STUDY,
    labels=_labels("n_star", 1, (methods.MONOLITHIC,)),
    module_counts=_per("n_star", 0),
    input_dims=_per("n_star", 2, whole=False),
    n_max=_N_MAX,
    n_min=_N_MIN,
)
def learned_level_values(
    input_dims, n_star, n_max: float, labels, module_counts, n_min: float | None = None
) -> list[dict]:
    """For each task and each modular method whose projections are learned (not the oracle): its ``n*`` at the
    largest m as a multiple of the monolithic network's, geometric mean over seeds with its interval, and
    ``bound``: "at most" where the monolithic network never reaches the target there or the method reaches it
    at the grid's first ``n_min``, "at least" in the reverse cases, else "". n_star : (K, method, m, seed).
    Each entry: ``K``, ``method``, ``mean``, ``low``, ``high``, ``bound``."""
    labels = list(labels)
    mono = labels.index(methods.MONOLITHIC)
    out = []
    for k, K in enumerate(module_counts):
        for i, label in enumerate(labels):
            if label in (methods.MONOLITHIC, methods.ORACLE):
                continue
            a, b = n_star[k, i, -1], n_star[k, mono, -1]
            mean, low, high = _level(a, b, n_max)
            bound = _level_bound(a, b, n_max, n_min)
            out.append({"K": K, "method": label, "mean": mean, "low": low, "high": high, "bound": bound})
    return out


@core.validated(
    n_star=_STUDY,
    labels=_labels("n_star", 1, (methods.MONOLITHIC,)),
    module_counts=_per("n_star", 0),
    input_dims=_per("n_star", 2, whole=False),
    n_max=_N_MAX,
    n_min=_N_MIN,
)
def learned_levels(input_dims, n_star, n_max: float, labels, module_counts, n_min: float | None = None) -> str:
    """:func:`learned_level_values` as a sentence: ``"K = 2, <method>: at most 0.15x [0.11, 0.22]; ..."``."""
    values = learned_level_values(input_dims, n_star, n_max, labels, module_counts, n_min)
    return (
        "; ".join(
            f"K = {v['K']}, {v['method']}: {v['bound'] + ' ' if v['bound'] else ''}{v['mean']:.2f}x "
            f"[{v['low']:.2f}, {v['high']:.2f}]"
            for v in values
        )
        + "."
    )


def _ratio_text(r: dict) -> str:
    """A growth ratio ``a / b`` with ``<=`` or ``>=`` where the two growths' bounds fix its direction."""
    sign = {"upper": "<= ", "lower": ">= "}.get(_ratio_bound(r.get("bound_a", ""), r.get("bound_b", "")), "")
    note = " (rests on censored medians)" if r["censored"] and not sign else ""
    return f"{sign}{r['estimate']:.3f} [{r['low']:.3f}, {r['high']:.3f}]{note}"


@core.validated(
    n_star=_STUDY,
    censored=core.Check(lambda v, name, a: _censored(v, name, a, shape=a["n_star"].shape)),
    labels=_labels("n_star", 1, (methods.MONOLITHIC,)),
    module_counts=_per("n_star", 0),
    input_dims=_per("n_star", 2, whole=False),
    n_max=_N_MAX,
    n_min=core.Real(0.0, lambda a: a["n_max"], low_open=True),
    method=core.Check(lambda v, name, a: core.choice(v, name, a["labels"])),
)
def flat_evidence(
    input_dims, n_star, censored, n_max: float, n_min: float, labels, module_counts, method: str = methods.ORACLE
) -> str:
    """How flat ``method`` is, per task, in words: its growth line, the most its interval allows over the whole
    m range (an interval that contains 1 still allows growth), how many of its curves are censored, and its
    growth as a ratio of the monolithic network's (or, where that ratio rests on censored medians, the
    monolithic network's own growth line). n_star, censored : (K, method, m, seed)."""
    labels, m = list(labels), np.asarray(input_dims, dtype=float)
    i, mono = labels.index(method), labels.index(methods.MONOLITHIC)
    parts = []
    for k, K in enumerate(module_counts):
        rows = growth_rows(input_dims, n_star[k], n_max, labels, baseline=mono, n_min=n_min)
        row = rows[i]
        cens = int(np.sum(censored[k, i] != ""))
        span = (
            f", at most {row['high'] ** (m[-1] - m[0]):.2f}x more samples from m = {int(m[0])} to {int(m[-1])}"
            if not (row["never"] or row["always"])
            else ""
        )
        other = (
            f"its growth over the monolithic network's {_ratio_text(row['ratio'])}"
            if not row["ratio"]["censored"]
            else f"the monolithic network's {growth_line(rows[mono])}"
        )
        parts.append(f"K = {K}: {growth_line(row)}{span} ({cens} of {censored[k, i].size} curves censored); {other}")
    return "; ".join(parts) + "."
