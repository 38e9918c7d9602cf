"""The read-out of the chapter *Modules of more than one dimension* (``book/grouping_modules.ipynb``): every value
its prose glues, from the stored ``module_grouping`` and ``rule_comparison`` results.

:func:`measurements` computes once what the chapter measures (the overlaps' intervals, the paired differences of
``newton`` from the variants it replaced, the failed runs sorted by cause); :func:`conclusions` turns it into
``name -> value``, the names that the chapter's markdown cites as ``{glue:text}`name```. The functions between
them read one quantity each: which cells a paired comparison decided and how, how the runs below an overlap level
failed, what a call cost, and the chapter's two comparison tables as columns (drawn by
:mod:`modscale_lib.chapters.grouping_modules.figures`).

Values only (numbers, arrays, lists of indices, columns of a table and short labels); the paired differences
themselves are :func:`paired_difference`'s, whose output (a dict of ``mean``, ``low``, ``high`` and ``verdict``
arrays) the functions here take as ``d``. Numpy only: the rule's defaults, which live beside torch in
:mod:`modscale_lib.rule`, are passed in.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np

from ...analysis import format_ci
from ...core import array, bootstrap_ci, choice, entries, real, whole
from ...store import check_result

__all__ = [
    "TOLERANCE",
    "LEVEL",
    "SPAN_LEVEL",
    "KIND",
    "measurements",
    "conclusions",
    "check_measured",
    "default_reach",
    "search_overlaps",
    "comparison_cpu",
    "HORIZON",
    "paired_difference",
    "VERDICTS",
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
]


def _strings(value, name: str) -> list[str]:
    """A sequence of strings (a list, tuple or array, not one string) as a list."""
    if isinstance(value, (str, bytes)) or not isinstance(value, (list, tuple, np.ndarray)):
        raise TypeError(f"{name} must be a sequence of names, got {type(value).__name__}")
    if not all(isinstance(v, str) for v in value):
        raise TypeError(f"{name} must hold names (strings), got {list(value)!r}"[:300])
    return list(value)


#: The verdicts of ``paired_difference``, in the order the counts are read; ``""`` marks a cell not compared.
VERDICTS = ("better", "not distinguishable", "worse")


def paired_difference(new, old, axis: int = -1, tolerance: float = 0.0) -> dict:
    """The per-seed difference ``new - old`` along ``axis`` (the seeds): its mean and 95% bootstrap interval
    (:func:`modscale_lib.core.bootstrap_ci`), and a verdict per slice: ``"better"`` (the interval lies above
    ``tolerance``), ``"worse"`` (below ``-tolerance``) or ``"not distinguishable"``; ``""`` where either side
    was not run (NaN).

    new, old : arrays of the same shape, e.g. (..., seeds), paired by seed. tolerance : >= 0, a difference
    too small to matter (0: any interval that excludes 0 decides). Returns a dict of ``mean``, ``low``,
    ``high`` (the shape without ``axis``) and ``verdict`` (a numpy array of strings of that shape).
    """
    new, old = array(new, "new", finite=False), array(old, "old", finite=False)
    if new.shape != old.shape:
        raise ValueError(f"new and old must have the same shape, got {new.shape} and {old.shape}")
    tolerance = real(tolerance, "tolerance", low=0.0)
    diff = np.where(np.isfinite(new) & np.isfinite(old), new - old, np.nan)
    mean, low, high = bootstrap_ci(diff, axis=axis)
    verdict = np.where(
        ~np.isfinite(mean),
        "",
        np.where(low > tolerance, "better", np.where(high < -tolerance, "worse", "not distinguishable")),
    )
    return {"mean": mean, "low": low, "high": high, "verdict": verdict}


def _verdicts(verdict, name: str = "verdict") -> np.ndarray:
    """``verdict`` as a numpy array of strings, each ``""`` or one of :data:`VERDICTS`."""
    v = np.asarray(verdict)
    if v.dtype.kind not in "UO":
        raise TypeError(f"{name} must be an array of verdict strings, got dtype {v.dtype}")
    unknown = sorted({str(x) for x in v.ravel()} - set(VERDICTS) - {""})
    if unknown:
        raise ValueError(f"{name} must hold only '' or {VERDICTS}, got {unknown}")
    return v.astype(str)


def _difference(d, name: str = "d") -> dict:
    """``d`` checked to be a ``paired_difference`` result: ``mean``, ``low``, ``high`` and ``verdict`` of one shape."""
    if not hasattr(d, "keys") or not {"mean", "low", "high", "verdict"} <= set(d.keys()):
        raise TypeError(f"{name} must be a paired_difference result (mean, low, high, verdict), got {type(d).__name__}")
    verdict = _verdicts(d["verdict"], f"{name}['verdict']")
    out = {k: array(d[k], f"{name}[{k!r}]", shape=verdict.shape, finite=False) for k in ("mean", "low", "high")}
    return dict(out, verdict=verdict)


def compared(verdict, only: str | None = None) -> list[tuple[int, ...]]:
    """The index tuples of the cells that hold a verdict (not ``""``), or only the verdict ``only`` (one of
    :data:`VERDICTS`), in C order (last axis fastest).

    verdict : array of verdict strings of any shape, e.g. (kind, setting, n). Returns tuples of Python ints."""
    v = _verdicts(verdict)
    keep = v != "" if only is None else v == choice(only, "only", VERDICTS)
    return [tuple(int(i) for i in idx) for idx in zip(*np.nonzero(keep))]


def verdict_counts(verdict) -> dict[str, int]:
    """How many cells got each verdict: ``{"better": int, "not distinguishable": int, "worse": int, "of": int}``,
    ``of`` the number of cells compared (cells holding ``""`` are left out). verdict : array of any shape."""
    v = _verdicts(verdict)
    v = v[v != ""]
    return {**{name: int(np.sum(v == name)) for name in VERDICTS}, "of": int(v.size)}


def counts_text(counts: dict) -> str:
    """``"better in a, not distinguishable in b and worse in c of n"`` for counts of :func:`verdict_counts`."""
    if not hasattr(counts, "keys") or set(counts.keys()) != set(VERDICTS) | {"of"}:
        raise ValueError(f"counts must be a dict of {VERDICTS + ('of',)} (verdict_counts), got {counts!r}")
    c = {k: whole(counts[k], f"counts[{k!r}]", low=0) for k in counts}
    return (
        f"better in {c['better']}, not distinguishable in {c['not distinguishable']} and worse in {c['worse']} "
        f"of {c['of']}"
    )


def difference_text(d: dict, index, fmt: str = ".3f") -> str:
    """One cell of a paired difference ``d``: ``"mean [low, high] (verdict)"``, or ``"n/a"`` where the cell was
    not compared. index : a tuple indexing ``d``'s arrays (e.g. (kind, setting, n))."""
    d = _difference(d)
    index = tuple(index) if isinstance(index, (tuple, list)) else (index,)
    if len(index) != d["verdict"].ndim:
        raise ValueError(f"index must have {d['verdict'].ndim} entries (d's dimensions), got {index!r}")
    index = tuple(whole(i, f"index[{j}]", low=0, high=d["verdict"].shape[j] - 1) for j, i in enumerate(index))
    if d["verdict"][index] == "":
        return "n/a"
    return format_ci(d["mean"][index], d["low"][index], d["high"][index], fmt) + f" ({d['verdict'][index]})"


def failures(grouped, union, level: float = 0.9, span_level: float = 0.95) -> dict[str, np.ndarray]:
    """Which runs end below ``level`` in grouped overlap, and why: the span step missed part of the union
    (union overlap below ``span_level``), or the union was found and grouped wrongly (at or above it).

    grouped, union : arrays of the same shape (..., seeds); NaN where a run did not happen. level, span_level :
    in (0, 1]. Returns arrays of the shape (...): ``ran`` (bool: any run there), ``runs`` (finite runs),
    ``failed`` (runs below ``level``), ``span_missed`` and ``grouping_wrong`` (its two kinds; a failed run whose
    union overlap is NaN counts in neither)."""
    g = array(grouped, "grouped", finite=False)
    u = array(union, "union", shape=g.shape, finite=False)
    if g.ndim < 1:
        raise ValueError(f"grouped must have a seed axis, got shape {g.shape}")
    level = real(level, "level", low=0.0, high=1.0, low_open=True)
    span_level = real(span_level, "span_level", low=0.0, high=1.0, low_open=True)
    failed = g < level  # NaN compares False: a run not made never fails
    return {
        "ran": np.isfinite(g).any(axis=-1),
        "runs": np.isfinite(g).sum(axis=-1),
        "failed": failed.sum(axis=-1),
        "span_missed": (failed & (u < span_level)).sum(axis=-1),
        "grouping_wrong": (failed & (u >= span_level)).sum(axis=-1),
    }


def _grouping_result(res, name: str) -> dict:
    """A ``module_grouping`` result's entries, checked: ``grouped``, ``union`` and ``cpu_seconds`` (kind,
    setting, variant, n, seed) as float arrays (NaN: not run), along ``kinds``, ``settings``, ``variants``
    and ``n``."""
    out = entries(res, ("kinds", "settings", "variants", "n", "grouped", "union", "cpu_seconds"), name)
    lengths = tuple(len(out[k]) for k in ("kinds", "settings", "variants", "n"))
    for key in ("grouped", "union", "cpu_seconds"):
        out[key] = array(out[key], f"{name}[{key!r}]", ndim=5, finite=False)
        if out[key].shape[:4] != lengths:
            raise ValueError(
                f"{name}[{key!r}] must have shape (kind, setting, variant, n, seed) with (kind, "
                f"setting, variant, n) = {lengths}, got {out[key].shape}"
            )
    out["variants"] = _strings(out["variants"], f"{name}['variants']")
    return out


def failure_rows(res, variant: str, level: float = 0.9, span_level: float = 0.95) -> list[dict]:
    """:func:`failures` of one variant of a ``module_grouping`` result, one record per (kind, setting, n) where it
    ran, in C order: ``kind`` (str), ``K``, ``n``, ``seeds`` (the seeds axis' length), ``runs``, ``failed``,
    ``span_missed`` and ``grouping_wrong`` (ints)."""
    res = _grouping_result(res, "res")
    v = list(res["variants"]).index(choice(variant, "variant", list(res["variants"])))
    grouped, union = (res[name][:, :, v] for name in ("grouped", "union"))  # (kind, setting, n, s)
    f = failures(grouped, union, level, span_level)
    seeds = int(np.shape(res["grouped"])[-1])
    return [
        {
            "kind": str(res["kinds"][k]),
            "K": int(res["settings"][s][0]),
            "n": int(res["n"][i]),
            "seeds": seeds,
            **{c: int(f[c][k, s, i]) for c in ("runs", "failed", "span_missed", "grouping_wrong")},
        }
        for k, s, i in zip(*np.nonzero(f["ran"]))
    ]


def _curve(n, values) -> tuple[np.ndarray, np.ndarray]:
    """``n`` (N,) and ``values`` (N,) as float arrays, with only the points where ``values`` is finite."""
    n = array(n, "n", ndim=1)
    values = array(values, "values", ndim=1, finite=False)
    if values.shape != n.shape:
        raise ValueError(f"n and values must have one length, got {n.size} and {values.size}")
    ok = np.isfinite(values)
    return n[ok], values[ok]


def last_finite(n, values) -> tuple[int, float]:
    """``(n, value)`` at the last finite entry of ``values``: the largest ``n`` a variant ran at and its value.

    n : (N,) the grid (ascending). values : (N,), NaN where not run. Raises ValueError if none is finite."""
    n, values = _curve(n, values)
    if not n.size:
        raise ValueError("values must hold at least one finite entry")
    return int(n[-1]), float(values[-1])


def line_at(n, values, at: float) -> float:
    """The least-squares straight line through the finite ``(n, values)`` points, evaluated at ``at``.

    n : (N,). values : (N,), NaN where not run; at least two finite points at different ``n``."""
    n, values = _curve(n, values)
    at = real(at, "at")
    if np.unique(n).size < 2:
        raise ValueError(f"values must be finite at two different n at least, got {n.size} point(s)")
    slope, intercept = np.polyfit(n, values, 1)
    return float(slope * at + intercept)


def cost_per_call(seconds, variants, index: int, skip=("random",)) -> dict[str, float]:
    """The mean over settings of the seconds per call at one ``n``: ``{variant: seconds}`` in ``variants``' order,
    without those in ``skip``.

    seconds : (setting, variant, n), e.g. the means over seeds of one task kind. variants : the names of axis 1.
    index : the ``n`` position."""
    t = array(seconds, "seconds", ndim=3, finite=False)
    variants, skip = _strings(variants, "variants"), _strings(skip, "skip")
    if len(variants) != t.shape[1]:
        raise ValueError(f"variants must name the {t.shape[1]} variants of seconds' axis 1, got {len(variants)}")
    index = whole(index, "index", low=0, high=t.shape[2] - 1)
    return {name: float(np.mean(t[:, v, index])) for v, name in enumerate(variants) if name not in skip}


def cell_label(res, kind: int, setting: int) -> str:
    """``"bump_ridge (3, 2, 12)"``: a task kind and its ``(K, b, m)`` setting in a ``module_grouping`` result."""
    res = entries(res, ("kinds", "settings"), "res")
    kind = whole(kind, "kind", low=0, high=len(res["kinds"]) - 1)
    setting = whole(setting, "setting", low=0, high=len(res["settings"]) - 1)
    return f"{res['kinds'][kind]} {tuple(res['settings'][setting])}"


def newton_grouped_table(res, pairs: dict, new: str = "newton", old: str = "grouped") -> dict[str, list]:
    """The paired comparison of two variants on a ``module_grouping`` result, as table columns, one row per
    compared (kind, setting, n) cell: ``task (K, b, m)``, ``n``, the grouped and the union overlap's difference
    ``new − old`` (:func:`difference_text`) and each variant's process CPU seconds per call (mean over seeds).

    pairs : ``{"grouped": d, "union": d}``, paired differences of shape (kind, setting, n)."""
    res = _grouping_result(res, "res")
    variants = res["variants"]
    vn, vo = (variants.index(choice(v, name, variants)) for v, name in ((new, "new"), (old, "old")))
    d = {name: _difference(v, f"pairs[{name!r}]") for name, v in entries(pairs, ("grouped", "union"), "pairs").items()}
    for name, v in d.items():
        if v["verdict"].shape != res["grouped"].shape[:2] + res["grouped"].shape[3:4]:
            raise ValueError(f"pairs[{name!r}] must have shape (kind, setting, n), got {v['verdict'].shape}")
    seconds = res["cpu_seconds"].mean(axis=-1)  # (kind, setting, variant, n)
    cells, ns = compared(d["grouped"]["verdict"]), np.asarray(res["n"])
    return {
        "task (K, b, m)": [cell_label(res, k, s) for k, s, _ in cells],
        "n": [int(ns[i]) for _, _, i in cells],
        **{
            f"{name} overlap, {new} − {old} [95% CI]": [difference_text(d[name], r) for r in cells]
            for name in ("grouped", "union")
        },
        **{f"CPU s/call {variants[v]}": [float(seconds[k, s, v, i]) for k, s, i in cells] for v in (vn, vo)},
    }


def task_label(cmp, task: int) -> str:
    """``"sine (2, 1)"``: task ``task`` of a ``rule_comparison`` result as ``kind (K, b)``."""
    tasks = entries(cmp, ("tasks",), "cmp")["tasks"]
    entry = tasks[whole(task, "task", low=0, high=len(tasks) - 1)]
    if isinstance(entry, (str, bytes)) or len(entry) != 3:
        raise ValueError(f"cmp['tasks'] must hold (kind, K, b) per task, got {entry!r}")
    kind, K, b = entry
    return f"{kind} ({K}, {b})"


def _comparison_result(cmp, name: str) -> dict:
    """A ``rule_comparison`` result's entries, checked: ``grouped`` and ``cpu_seconds`` (task, variant, m, n,
    seed) as float arrays along ``tasks``, ``variants``, ``m`` and ``n``."""
    out = entries(cmp, ("tasks", "variants", "m", "n", "grouped", "cpu_seconds"), name)
    lengths = tuple(len(out[k]) for k in ("tasks", "variants", "m", "n"))
    for key in ("grouped", "cpu_seconds"):
        out[key] = array(out[key], f"{name}[{key!r}]", ndim=5, finite=False)
        if out[key].shape[:4] != lengths:
            raise ValueError(
                f"{name}[{key!r}] must have shape (task, variant, m, n, seed) with (task, variant, "
                f"m, n) = {lengths}, got {out[key].shape}"
            )
    out["variants"] = _strings(out["variants"], f"{name}['variants']")
    return out


def _diff(diff, shape: tuple) -> dict:
    """``diff`` of :func:`comparison_table`, checked: ``{(name, variant): d}``, each ``d`` of ``shape``."""
    if not hasattr(diff, "items"):
        raise TypeError(f"diff must be a dict {{(name, variant): paired difference}}, got {type(diff).__name__}")
    for key, d in diff.items():
        if not isinstance(key, tuple) or len(key) != 2:
            raise ValueError(f"diff's keys must be (name, variant) pairs, got {key!r}")
        if _difference(d, f"diff[{key!r}]")["verdict"].shape != shape:
            raise ValueError(f"diff[{key!r}] must have shape (task, m, n) = {shape}, got {np.shape(d['verdict'])}")
    return diff


def comparison_table(cmp, diff: dict, new: str = "newton") -> dict[str, list]:
    """The comparison of ``new`` with the other variants on a ``rule_comparison`` result, as table columns, one
    row per (task, m, n): the task, ``m``, ``n``, ``new``'s grouped overlap (mean over seeds [95% interval]),
    its difference from each other variant in grouped overlap (:func:`difference_text`, ``"n/a"`` where that
    variant does not apply) and every variant's process CPU seconds per call (mean over seeds; NaN: not run).

    diff : ``{("grouped", v): d}`` (other keys are ignored), paired differences ``new − v`` of shape
    (task, m, n), for the variants ``v`` shown, in column order."""
    cmp = _comparison_result(cmp, "cmp")
    variants, grouped = cmp["variants"], cmp["grouped"]  # grouped: (task, variant, m, n, seed)
    diff = _diff(diff, grouped.shape[:1] + grouped.shape[2:4])
    others = [v for name, v in diff if name == "grouped"]
    for v in [new] + others:
        choice(v, "new" if v == new else "a variant of diff", variants)
    ci = bootstrap_ci(grouped[:, variants.index(new)], axis=-1)  # each (task, m, n)
    cpu = cmp["cpu_seconds"].mean(axis=-1)  # (task, variant, m, n)
    rows = list(np.ndindex(ci[0].shape))
    return {
        "task (kind, K, b)": [task_label(cmp, t) for t, _, _ in rows],
        "m": [int(cmp["m"][i]) for _, i, _ in rows],
        "n": [int(cmp["n"][j]) for _, _, j in rows],
        f"{new} [95% CI]": [format_ci(*(c[r] for c in ci), ".3f") for r in rows],
        **{f"{new} − {v} [95% CI]": [difference_text(diff[("grouped", v)], r) for r in rows] for v in others},
        **{f"CPU s {v}": [float(cpu[t, variants.index(v), i, j]) for t, i, j in rows] for v in [new] + others},
    }


def default_verdict(*comparisons: dict) -> dict[str, int]:
    """How many comparisons there were and in how many the new variant did worse, over groups of paired
    differences: ``{"comparisons": int, "worse": int}``.

    comparisons : dicts ``{name: d}`` or ``{(name, variant): d}`` with ``name`` ``"grouped"`` or ``"union"``
    (the overlap). ``comparisons`` counts the cells compared by grouped overlap; ``worse`` counts the
    ``"worse"`` verdicts by either overlap."""
    out = {"comparisons": 0, "worse": 0}
    for group in comparisons:
        if not hasattr(group, "items"):
            raise TypeError(f"comparisons must be dicts of paired differences, got {type(group).__name__}")
        for key, d in group.items():
            name = key[0] if isinstance(key, tuple) else key
            v = _difference(d, f"comparisons[{key!r}]")["verdict"]
            out["comparisons"] += (
                int(np.sum(v != ""))
                if choice(name, "the overlap name of a key of comparisons", ("grouped", "union")) == "grouped"
                else 0
            )
            out["worse"] += int(np.sum(v == "worse"))
    return out


# ---------------------------------------------------------------------------------------------------------
# The chapter's measurements, once
# ---------------------------------------------------------------------------------------------------------
#: A difference in overlap too small to matter: a paired difference decides only beyond it.
TOLERANCE = 0.01
#: A run "finds the modules" at this grouped overlap; below it, it failed.
LEVEL = 0.9
#: A failed run whose union overlap is below this missed part of the span; at or above it, grouped it wrongly.
SPAN_LEVEL = 0.95
#: The module kind measured on every grid, by every variant (the first kind of the experiment's config).
KIND = "bump_ridge"
#: The largest ``n`` the chapter's question asks about (and where the cost of ``grouped`` is extrapolated to).
HORIZON = 6000
#: The variants that are not kernel searches: the grouping variants and the chance level.
NOT_SEARCHES = ("grouped", "newton", "random")


def _defaults(rule_defaults, resolve) -> dict:
    """The rule's default ``variant`` and ``steps`` from ``rule_defaults``, and ``resolve`` checked callable."""
    if not isinstance(rule_defaults, Mapping):
        raise TypeError(f"rule_defaults must be the rule's DEFAULTS mapping, got {type(rule_defaults).__name__}")
    out = entries(rule_defaults, ("variant", "steps"), "rule_defaults")
    if not isinstance(out["variant"], str):
        raise TypeError(f"rule_defaults['variant'] must be a variant name, got {out['variant']!r}")
    out["steps"] = whole(out["steps"], "rule_defaults['steps']", low=1)
    if not callable(resolve):
        raise TypeError(f"resolve must be the rule's resolve_variant (a callable), got {type(resolve).__name__}")
    return out


def measurements(res, config, cmp, cmp_config, span_start, *, rule_defaults, resolve: Callable) -> dict:
    """What the chapter measures, computed once (seconds: bootstrap intervals).

    res, config : the stored ``module_grouping`` result and its ``ModuleGroupingConfig``. cmp, cmp_config : the
    stored ``rule_comparison`` result and its ``RuleComparisonConfig``. span_start : (len(config.n_grid),
    len(config.seeds)), the moment span's union overlap on the last setting's :data:`KIND` tasks
    (``experiments.grouping_modules.span_start_overlap``). rule_defaults, resolve : ``rule.DEFAULTS``
    and ``rule.resolve_variant`` (the rule lives beside torch; read-outs do not import it).

    Returns a dict: the inputs; ``ns``, ``kinds``, ``variants``, ``settings`` (lists of ``(K, b, m)``);
    ``ci`` (``"union"``/``"grouped"`` -> (mean, low, high), each (kind, setting, variant, n)); ``seconds``
    (process CPU seconds per call, mean over seeds, (kind, setting, variant, n)); ``pairs`` (``newton − grouped``
    per overlap, each (kind, setting, n)); ``others`` and ``diff`` (``(overlap, v) -> newton − v`` on ``cmp``,
    each (task, m, n)); ``fails`` (variant -> :func:`failure_rows`); ``defaults`` (the default variant per
    setting) and ``rule`` (the rule's default ``variant`` and ``steps``)."""
    check_result(res, config, "module_grouping")
    check_result(cmp, cmp_config, "rule_comparison", name="cmp")
    rule = _defaults(rule_defaults, resolve)
    g = _grouping_result(res, "res")
    cmp_arrays = _comparison_result(cmp, "cmp")
    span_start = array(span_start, "span_start", shape=(len(config.n_grid), len(config.seeds)))
    variants, cv = g["variants"], cmp_arrays["variants"]
    for v in NOT_SEARCHES:
        choice(v, "a variant of res", variants)
    choice(KIND, "a module kind of res", list(g["kinds"]))
    choice("newton", "a variant of cmp", cv)
    settings = [tuple(int(x) for x in s) for s in g["settings"]]
    vn, vg = variants.index("newton"), variants.index("grouped")
    others = [v for v in cv if v not in ("newton", "random")]
    cmp_union = array(cmp["union"], "cmp['union']", shape=cmp_arrays["grouped"].shape, finite=False)
    by_name = {"grouped": cmp_arrays["grouped"], "union": cmp_union}
    return {
        "res": res,
        "config": config,
        "cmp": cmp,
        "cmp_config": cmp_config,
        "span_start": span_start,
        "ns": [int(n) for n in g["n"]],
        "kinds": [str(k) for k in g["kinds"]],
        "variants": variants,
        "settings": settings,
        "ci": {name: bootstrap_ci(g[name], axis=-1) for name in ("union", "grouped")},
        "seconds": g["cpu_seconds"].mean(axis=-1),
        "pairs": {
            name: paired_difference(g[name][:, :, vn], g[name][:, :, vg], tolerance=TOLERANCE)
            for name in ("grouped", "union")
        },
        "others": others,
        "diff": {
            (name, v): paired_difference(
                by_name[name][:, cv.index("newton")], by_name[name][:, cv.index(v)], tolerance=TOLERANCE
            )
            for name in ("grouped", "union")
            for v in others
        },
        "fails": {name: failure_rows(res, name, LEVEL, SPAN_LEVEL) for name in ("grouped", "newton")},
        "defaults": [resolve(rule["variant"], K, b, m) for K, b, m in settings],
        "rule": rule,
    }


def check_measured(measured) -> dict:
    """``measured`` checked to be :func:`measurements`' dict (a TypeError otherwise); returned as it is."""
    keys = ("res", "config", "cmp", "cmp_config", "ci", "seconds", "pairs", "diff", "fails", "defaults", "rule")
    if not isinstance(measured, dict) or not set(keys) <= set(measured):
        raise TypeError(f"measured must be the dict of measurements(...), got {type(measured).__name__}")
    return measured


# ---------------------------------------------------------------------------------------------------------
# One quantity per section
# ---------------------------------------------------------------------------------------------------------
def default_reach(measured: dict, level: float = LEVEL) -> list[dict]:
    """At each setting, the smallest ``n <= HORIZON`` at which the rule's default variant reaches a mean grouped
    overlap of ``level`` on the :data:`KIND` tasks: one dict per setting of ``K``, ``b``, ``m``, ``variant``
    (the default resolved there), ``n`` (an int, or None where it is not reached) and ``interval`` (the mean,
    low and high of the grouped overlap there, or None)."""
    measured = check_measured(measured)
    level = real(level, "level", low=0.0, high=1.0, low_open=True)
    ns, variants, k = measured["ns"], measured["variants"], measured["kinds"].index(KIND)
    out = []
    for s, (K, b, m) in enumerate(measured["settings"]):
        variant = measured["defaults"][s]
        mean, low, high = (c[k, s, variants.index(variant)] for c in measured["ci"]["grouped"])
        hits = [i for i, n in enumerate(ns) if n <= HORIZON and np.isfinite(mean[i]) and mean[i] >= level]
        i = hits[0] if hits else None
        interval = None if i is None else (float(mean[i]), float(low[i]), float(high[i]))
        out.append(dict(K=K, b=b, m=m, variant=variant, n=None if i is None else ns[i], interval=interval))
    return out


def search_overlaps(measured: dict) -> dict:
    """At the largest ``n`` where every variant ran, on the :data:`KIND` tasks: ``n`` and, per setting's ``K``,
    the best union and grouped overlap of the kernel searches (means over seeds), the search with the best
    grouped overlap, and the grouped overlap of ``grouped``, ``newton`` and ``random``."""
    measured = check_measured(measured)
    ns, variants, k = measured["ns"], measured["variants"], measured["kinds"].index(KIND)
    i = ns.index(max(measured["config"].search_n_grid))
    search = [variants.index(v) for v in variants if v not in NOT_SEARCHES]
    out = {"n": ns[i]}
    for s, (K, _, _) in enumerate(measured["settings"]):
        g, u = measured["ci"]["grouped"][0][k, s], measured["ci"]["union"][0][k, s]  # means, (variant, n)
        out[K] = {
            "search_grouped_max": float(np.max(g[search, i])),
            "search_union_max": float(np.max(u[search, i])),
            "best_search": variants[search[int(np.argmax(g[search, i]))]],
            **{v: float(g[variants.index(v), i]) for v in NOT_SEARCHES},
        }
    return out


def _worse_cells(measured: dict, name: str) -> list[str]:
    """The (kind, setting, n) cells where ``newton`` is worse than ``grouped`` in overlap ``name``."""
    res, ns = measured["res"], measured["ns"]
    return [
        f"{cell_label(res, k, s)} at n = {ns[i]}"
        for k, s, i in compared(measured["pairs"][name]["verdict"], only="worse")
    ]


def _comparison_worse(measured: dict) -> list[str]:
    """The (overlap, variant, task, m, n) cells of the comparison where ``newton`` is worse."""
    cmp = measured["cmp"]
    return [
        f"{name} overlap against {v}, {cmp['tasks'][t][0]} K = {cmp['tasks'][t][1]}, m = {cmp['m'][i]}, n = "
        f"{cmp['n'][j]}"
        for (name, v), d in measured["diff"].items()
        for t, i, j in compared(d["verdict"], "worse")
    ]


def comparison_cpu(measured: dict) -> dict[str, tuple[float, float]]:
    """``variant -> (lowest, highest)`` process CPU seconds per call on the comparison's cells (means over seeds),
    for ``newton`` and the variants it is compared with."""
    measured = check_measured(measured)
    cmp = measured["cmp"]
    cv, cpu = list(cmp["variants"]), np.asarray(cmp["cpu_seconds"]).mean(axis=-1)  # (task, variant, m, n)
    return {
        v: (float(np.nanmin(cpu[:, cv.index(v)])), float(np.nanmax(cpu[:, cv.index(v)])))
        for v in ["newton"] + measured["others"]
    }


# ---------------------------------------------------------------------------------------------------------
# The glued values, section by section
# ---------------------------------------------------------------------------------------------------------
def _setup_values(measured: dict) -> dict:
    config = measured["config"]
    return {
        "noise": float(config.noise),
        "n_seeds": len(config.seeds),
        "search_n": ", ".join(map(str, config.search_n_grid)),
        "hermite_n": ", ".join(map(str, config.other_kinds_n_grid)),
        "search_steps": config.search_steps,
        "default_steps": measured["rule"]["steps"],
        "n_min": int(min(config.n_grid)),
    }


def _default_values(measured: dict) -> dict:
    return {f"done_n_{r['K']}": r["n"] if r["n"] is not None else "not reached" for r in default_reach(measured)}


def _search_values(measured: dict) -> dict:
    found = search_overlaps(measured)
    out = {"search_n_top": found.pop("n")}
    for K, o in found.items():
        out.update({f"{q}_{K}": o[q] for q in ("search_grouped_max", "search_union_max")})
        out.update({f"grouped_at_search_{K}": o["grouped"], f"newton_at_search_{K}": o["newton"]})
        out.update({f"random_grouped_{K}": o["random"], f"best_search_{K}": o["best_search"]})
    return out


def _newton_grouped_values(measured: dict) -> dict:
    out = {"tol": TOLERANCE}
    for name in ("grouped", "union"):
        out[f"ng_{name}"] = counts_text(verdict_counts(measured["pairs"][name]["verdict"]))
        out[f"ng_{name}_worse"] = "; ".join(_worse_cells(measured, name)) or "none"
    v = measured["variants"]
    ratio = measured["seconds"][:, :, v.index("grouped")] / measured["seconds"][:, :, v.index("newton")]
    out.update(ng_ratio_lo=float(np.nanmin(ratio)), ng_ratio_hi=float(np.nanmax(ratio)))
    return out


def _failure_values(measured: dict) -> dict:
    out = {}
    for name, rows in measured["fails"].items():
        for r in rows:
            out[f"miss_{name}_{r['kind']}_{r['K']}_{r['n']}"] = r["span_missed"]
            out[f"wrong_{name}_{r['kind']}_{r['K']}_{r['n']}"] = r["grouping_wrong"]
    for name, rows in measured["fails"].items():
        listed = [
            f"{r['kind']} K = {r['K']} at n = {r['n']} ({r['failed']} of {r['seeds']}: span missed "
            f"{r['span_missed']}, grouping wrong {r['grouping_wrong']})"
            for r in rows
            if r["failed"]
        ]
        out[f"fail_list_{name}"] = "; ".join(listed) or "none"
        out[f"fail_total_{name}"] = sum(r["failed"] for r in rows)
        out[f"runs_{name}"] = sum(r["runs"] for r in rows)
    return out


def _span_values(measured: dict) -> dict:
    out = {f"span_start_{n}": float(row.mean()) for n, row in zip(measured["config"].n_grid, measured["span_start"])}
    k, s, variants = measured["kinds"].index(KIND), len(measured["settings"]) - 1, measured["variants"]
    for name in ("union", "grouped"):
        for variant in ("grouped", "newton"):
            interval = (c[k, s, variants.index(variant), 0] for c in measured["ci"][name])
            out[f"fail_{variant}_{name}"] = format_ci(*interval, fmt=".3f")
    return out


def _cost_values(measured: dict) -> dict:
    config, ns, variants, seconds = measured["config"], measured["ns"], measured["variants"], measured["seconds"]
    k, kinds, out = measured["kinds"].index(KIND), measured["kinds"], {}
    i_h = ns.index(min(config.other_kinds_n_grid))
    for name in ("grouped", "newton"):
        v = variants.index(name)
        for s, (K, _, _) in enumerate(measured["settings"]):
            out[f"t_max_{name}_{K}"] = last_finite(ns, seconds[k, s, v])[1]
            if name == "grouped":  # its joint refit is full-batch: a straight line in n
                out[f"t{HORIZON}_{K}"] = line_at(ns, seconds[k, s, v], HORIZON)
            if "hermite" in kinds:
                interval = (c[kinds.index("hermite"), s, v, i_h] for c in measured["ci"]["grouped"])
                out[f"hermite_{name}_{K}"] = format_ci(*interval, fmt=".3f")
    out["n_max"] = last_finite(ns, seconds[k, 0, variants.index("grouped")])[0]
    out["hermite_n_min"] = int(min(config.other_kinds_n_grid))
    cost = cost_per_call(seconds[k], variants, ns.index(max(config.search_n_grid)))  # every variant ran there
    out["search_costs"] = ", ".join(f"{name} {t:.2f} s" for name, t in cost.items())
    return out


def _comparison_values(measured: dict) -> dict:
    c = measured["cmp_config"]
    out = {"cmp_m": ", ".join(map(str, c.m_grid)), "cmp_n": ", ".join(map(str, c.n_grid))}
    out.update(cmp_seeds=len(c.seeds), cmp_steps=c.rule_steps, cmp_batch=c.rule_batch, cmp_refine=c.rule_refine)
    for (name, v), d in measured["diff"].items():
        out[f"cmp_{v}_{name}"] = counts_text(verdict_counts(d["verdict"]))
    out["cmp_worse"] = "; ".join(_comparison_worse(measured)) or "none"
    for v, (lo, hi) in comparison_cpu(measured).items():
        out[f"cmp_cpu_{v}_lo"], out[f"cmp_cpu_{v}_hi"] = lo, hi
    out["cmp_cpu_total"] = float(measured["cmp"].metadata["cpu_time_s"]) / 60
    tally = default_verdict(measured["pairs"], measured["diff"])  # this chapter's tasks and the comparison's
    out["default_comparisons"], out["default_worse"] = tally["comparisons"], tally["worse"]
    return out


#: The glued values, in the chapter's order.
_SECTIONS = (
    _setup_values,
    _default_values,
    _search_values,
    _newton_grouped_values,
    _failure_values,
    _span_values,
    _cost_values,
    _comparison_values,
)


def conclusions(measured: dict) -> dict:
    """Every value the chapter glues, ``name -> value`` (numbers, intervals as ``"mean [low, high]"``, counts of
    verdicts and lists of cells), from :func:`measurements`.

    The names are those the chapter's markdown cites: the configs (``noise``, ``n_seeds``, ``search_n``,
    ``cmp_m``, ...), where the default reaches the level (``done_n_<K>``), the kernel searches against the
    grouping variants (``search_*``, ``*_at_search_<K>``, ``best_search_<K>``), ``newton`` against ``grouped``
    (``ng_*``), the failed runs (``fail_*``, ``miss_*``, ``wrong_*``, ``runs_*``, ``span_start_<n>``), the cost
    (``t_max_*``, ``t6000_<K>``, ``search_costs``), the polynomial task (``hermite_*``) and the comparison with
    the former defaults (``cmp_*``, ``default_comparisons``, ``default_worse``)."""
    measured = check_measured(measured)
    out = {}
    for section in _SECTIONS:
        out.update(section(measured))
    return out
