"""Read-outs of the scaling-law study (:doc:`/book/scaling_law`): ``n*`` per seed from the stored visits of the
bracketing search, the inputs of the law decision, how the networks stopped, and what the study cost.

Values and tables only: the fits of the two laws, their intervals and the verdict are
:mod:`modscale_lib.laws`' (:func:`decisions` calls them); nothing here fits or resamples. Numpy only.
"""

from __future__ import annotations

import math

import numpy as np

from . import brackets, core, laws, methods

__all__ = [
    "samples_needed",
    "law_inputs",
    "law_line",
    "short_label",
    "stopping_summary",
    "choice_shares",
    "median_n_star",
    "cpu_minutes",
    "visits_per_seed",
    "regime_of",
    "family_of",
    "theory_table",
    "verdict_list",
    "interval",
    "decisions",
    "seed_sd",
    "growth_inputs",
    "ratio_text",
    "paired_contrast",
    "agreement",
    "jump_bound",
    "task_title",
    "by_task",
]

#: The task family of :func:`modscale_lib.laws.predictions` for each task kind of the study.
FAMILIES = {"sine": "sine", "he1": "He_1", "he2": "He_2", "he3": "He_3", "bump_ridge": "nonseparable"}


def task_title(task: str) -> str:
    """A study task ``"kind:K"`` in words, for titles: ``"sine-wave, K = 2"``, ``"He_2, K = 2"``,
    ``"two-dimensional modules, K = 2"``."""
    kind, K = family_of(task), str(task).split(":")[1]
    name = {"sine": "sine-wave", "nonseparable": "two-dimensional modules"}.get(kind, kind)
    return f"{name}, K = {K}"


def family_of(task: str) -> str:
    """The family of :func:`modscale_lib.laws.predictions` of a study task ``"kind:K"``."""
    kind = str(task).split(":")[0]
    if kind not in FAMILIES:
        raise ValueError(f"task must be one of the kinds {sorted(FAMILIES)} as 'kind:K', got {task!r}")
    return FAMILIES[kind]


def regime_of(label: str) -> str:
    """The regime of ``laws.REGIMES`` that a method of the study belongs to: random features
    are a kernel method, the MLP is trained by gradient descent, modular networks that learn their projections
    must find a subspace, the oracle is given it."""
    methods.rule_variant(label)  # validates
    return {
        methods.RANDOM_FEATURES: "kernels and random features",
        methods.MONOLITHIC: "online gradient training",
        methods.ORACLE: "frozen oracle",
    }.get(label, "learned projections")


def samples_needed(res, cfg, target: float) -> tuple[np.ndarray, np.ndarray]:
    """``n*`` and its censoring (:data:`modscale_lib.brackets.CENSORING`) of every (task, method, m, seed) of a
    stored ``scaling_law_sweep`` result at ``target`` (a fraction of ``Var(y) = 1``), read from the visits.
    Where a method did not run at an ``m``, or its visits do not bracket ``target``, ``"missing"``."""
    target = core.real(target, "target", low=0.0, low_open=True)
    return brackets.crossings(res["index"], res["test_loss"], target, cfg.i_min, cfg.i_max)


def law_inputs(input_dims, n_star, censoring) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """What :func:`modscale_lib.laws.decide_law` takes for one (task, method): the ``m`` where the method ran
    (at least two seeds not missing), ``log n*`` (S, M') and the censoring labels (S, M').

    input_dims : (D,). n_star, censoring : (D, S) as :func:`samples_needed` gives them for one task and method.
    """
    m = core.array(input_dims, "input_dims", ndim=1)
    n = core.array(n_star, "n_star", ndim=2, finite=False)
    cens = np.asarray(censoring, dtype=object)
    if n.shape != cens.shape or n.shape[0] != m.size:
        raise ValueError(f"n_star and censoring must both be (D = {m.size}, S), got {n.shape} and {cens.shape}")
    keep = np.sum(cens != "missing", axis=1) >= 2
    with np.errstate(divide="ignore", invalid="ignore"):
        log_n = np.where(cens == "missing", np.nan, np.log(n))
    return m[keep], log_n[keep].T, cens[keep].T


def _number(x: float) -> str:
    return "inf" if x == math.inf else "-inf" if x == -math.inf else f"{x:.2f}"


def law_line(decision: dict) -> str:
    """``"law <verdict>: exponent <alpha> [95% CI <lo>, <hi>]"`` from a decision of
    :func:`modscale_lib.laws.decide_law` (its power-law exponent ``alpha``; an end that does not hold, where
    the fit rests on censored values, is printed as ``inf``)."""
    a, conf = decision["alpha"], decision.get("confidence", 0.95)
    return (
        f"law {decision['law']}: exponent {_number(a['estimate'])} [{conf:.0%} CI {_number(a['low'])}, "
        f"{_number(a['high'])}]"
    )


#: Short names of the learners, so that a verdict line fits the page without wrapping.
_SHORT = {methods.MONOLITHIC: "MLP", methods.RANDOM_FEATURES: "RF", methods.RANDOM: "random", methods.ORACLE: "oracle"}


def short_label(label: str) -> str:
    """A learner's short name for one-line printouts: ``MLP``, ``RF``, ``random``, ``oracle``, and ``<variant>
    rule`` for the learned rule's variants (``"modular, newton rule"`` -> ``"newton rule"``)."""
    if label in _SHORT:
        return _SHORT[label]
    if label.startswith("modular, ") and label.endswith(" rule"):
        return label.removeprefix("modular, ")
    raise ValueError(f"label must be one of {sorted(_SHORT)} or 'modular, <variant> rule', got {label!r}")


def median_n_star(n_star, censoring) -> tuple[np.ndarray, np.ndarray]:
    """The median ``n*`` over seeds (last axis) and whether it rests on censored values: ``"above"`` where
    half of the seeds or more are censored above (the median is then a lower bound), ``"below"`` likewise,
    ``"missing"`` where fewer than two seeds were measured, ``""`` otherwise. Entries censored above count as
    infinite, below as the grid's first ``n``."""
    n = core.array(n_star, "n_star", finite=False)
    cens = np.asarray(censoring, dtype=object)
    value = np.where(cens == "above", np.inf, np.where(cens == "missing", np.nan, n))
    used = np.sum(cens != "missing", axis=-1)
    med = np.full(used.shape, np.nan)
    med[used >= 2] = np.nanmedian(value[used >= 2], axis=-1)
    flag = np.where(
        used < 2,
        "missing",
        np.where(
            np.mean(cens == "above", axis=-1) >= 0.5,
            "above",
            np.where(np.mean(cens == "below", axis=-1) >= 0.5, "below", ""),
        ),
    )
    return med, flag.astype(object)


def _networks(res, b: int) -> np.ndarray:
    """Mask (task, m, seed, visit, step) of the trained networks of method ``b``."""
    return np.isfinite(np.asarray(res["best_step"])[:, b])


def stopping_summary(res, cfg) -> dict:
    """How the trained networks of each method stopped, columns of a table (one row per method that trains):
    ``networks``, ``share best below cap`` (the best validation step before the last step of the run kept),
    ``share trained longer`` (its first run ended at its best step, so it was run again with more steps) and
    ``longest run`` (steps)."""
    cols = {k: [] for k in ("method", "networks", "share best below cap", "share trained longer", "longest run")}
    for b, label in enumerate(res["method_labels"]):
        mask = _networks(res, b)
        if not mask.any():
            continue
        best, steps = np.asarray(res["best_step"])[:, b][mask], np.asarray(res["steps"])[:, b][mask]
        for k, v in zip(
            cols,
            (label, int(mask.sum()), float(np.mean(best < steps)), float(np.mean(steps > cfg.steps)), int(steps.max())),
        ):
            cols[k].append(v)
    return cols


def choice_shares(res, method: int, n_options: int) -> np.ndarray:
    """How often each option was chosen on validation by method ``method`` (the MLP's steps, or the random
    features' ridges), over every visit: shares (n_options,)."""
    choice = np.asarray(res["choice"])[:, method]
    choice = choice[np.isfinite(choice)].astype(int)
    if choice.size == 0:
        raise ValueError(f"method {method} made no choice on validation in this result")
    return np.bincount(choice, minlength=n_options)[:n_options] / choice.size


def cpu_minutes(res) -> np.ndarray:
    """CPU minutes of each (task, method) of a result, summed over its cells (``m``); NaN where none ran."""
    cpu = np.asarray(res["cpu_s"], dtype=float)
    with np.errstate(invalid="ignore"):
        return np.where(np.all(np.isnan(cpu), axis=-1), np.nan, np.nansum(cpu, axis=-1) / 60)


def visits_per_seed(res) -> np.ndarray:
    """The number of points each search trained, (task, method, m, seed); 0 where a method did not run."""
    return np.sum(np.asarray(res["index"]) >= 0, axis=-1)


def interval(q: dict, fmt: str = ".2f") -> str:
    """``"<estimate> [<low>, <high>]"`` of a fitted quantity of :mod:`modscale_lib.laws` (an end that does not
    hold, where the fit is a bound, as ``inf``)."""

    def num(x):
        return _number(x) if math.isinf(x) else format(x, fmt)

    return f"{num(q['estimate'])} [{num(q['low'])}, {num(q['high'])}]"


def theory_table(decisions: dict, predictions: dict) -> dict:
    """Each measured exponent beside its regime's prediction, as table columns.

    decisions : ``{(task, method label): decide_law(...)}``. predictions : the columns of
    :func:`modscale_lib.laws.predictions`. Columns: ``task``, ``method``, ``verdict``, ``alpha [95% CI]``,
    ``regime``, ``predicted`` (the law and its exponent, ``>=`` for a lower bound), ``over the range`` (the
    exponent a fit over the study's m should show), ``basis`` and ``prediction and interval``
    (:func:`agreement`)."""
    rows = list(zip(*predictions.values()))
    keys = list(predictions)
    cols = {
        k: []
        for k in (
            "task",
            "method",
            "verdict",
            "alpha [95% CI]",
            "regime",
            "predicted",
            "over the range",
            "basis",
            "prediction and interval",
        )
    }
    for (task, label), d in decisions.items():
        regime = regime_of(label)
        match = [dict(zip(keys, r)) for r in rows if r[0] == family_of(task) and r[1] == regime]
        if not match:
            raise ValueError(f"predictions holds no row for {family_of(task)!r} in the regime {regime!r}")
        p = match[0]
        law = p["law"] if p["law"] != "power" else f"m^{'>=' if p['bound'] else ''}{p['exponent']:g}"
        values = (
            task,
            label,
            d["law"],
            interval(d["alpha"]),
            regime,
            law,
            p["exponent over the range"],
            p["basis"],
            agreement(d, p),
        )
        for k, v in zip(cols, values):
            cols[k].append(v)
    return cols


def agreement(decision: dict, prediction: dict) -> str:
    """Whether a measured exponent agrees with a regime's prediction (a row of :func:`modscale_lib.laws.predictions`):
    ``"inside"`` when the interval of ``alpha`` holds the exponent over the range (for a lower bound, when its
    upper end reaches it), ``"above"`` or ``"below"`` when it misses it, ``"no exponent"`` for an exponential
    prediction, ``"not measured"`` when the interval is unbounded on both sides."""
    a = decision["alpha"]
    if prediction["law"] == "exponential":
        return "no exponent"
    if math.isinf(a["low"]) and math.isinf(a["high"]):
        return "not measured"
    x = prediction["exponent over the range"]
    if prediction["bound"]:
        return "inside" if a["high"] >= x else "below"
    return "inside" if a["low"] <= x <= a["high"] else "below" if a["high"] < x else "above"


def verdict_list(decisions: dict, label: str) -> str:
    """``"power on sine:2 (alpha 1.05 [0.90, 1.20]); undecided on he3:2 (...)"``: one method's verdicts over the
    tasks of ``decisions`` (``{(task, method label): decision}``), ``"not measured"`` if it has none."""
    parts = [
        f"{d['law']} on {task} (alpha {interval(d['alpha'])})" for (task, lab), d in decisions.items() if lab == label
    ]
    return "; ".join(parts) if parts else "not measured"


def decisions(studies: dict, target: float, **kwargs) -> tuple[dict, dict]:
    """:func:`modscale_lib.laws.decide_law` for every (task, method) of the stored ``studies`` (``{name: (config,
    result)}``, one task each) at ``target``, and both laws' fitted lines for a figure.

    Returns ``({(task, label): decision}, {(task, label): {"power": (a, alpha), "exponential": (a, beta)}})``;
    a (task, method) measured at fewer than three ``m`` (two seeds or more each) is left out, and the lines of a
    fit that rests on censored values (a bound) are not given. ``kwargs`` go to
    ``decide_law`` and ``fit_law``."""
    out, lines = {}, {}
    for cfg, res in studies.values():
        n_star, cens = samples_needed(res, cfg, target)
        for a, task in enumerate(cfg.tasks):
            for b, label in enumerate(res["method_labels"]):
                m, log_n, codes = law_inputs(cfg.m_grid, n_star[a, b], cens[a, b])
                if m.size < 3:
                    continue
                out[task, label] = laws.decide_law(m, log_n, codes, **kwargs)
                fits = {law: laws.fit_law(m, log_n, codes, law=law, **kwargs) for law in ("power", "exponential")}
                if all(f["exponent"]["bound"] == "" for f in fits.values()):  # a fit on bounds draws no line
                    lines[task, label] = {
                        law: (f["intercept"]["estimate"], f["exponent"]["estimate"]) for law, f in fits.items()
                    }
    return out, lines


def seed_sd(n_star, censoring, min_seeds: int = 3) -> float:
    """The median over groups (every leading index) of the standard deviation over seeds (last axis) of
    ``log n*``, from the measured entries of groups with at least ``min_seeds`` of them: the scatter to
    simulate the law test at (:func:`modscale_lib.laws.coverage`)."""
    n = core.array(n_star, "n_star", finite=False)
    cens = np.asarray(censoring, dtype=object)
    sds = []
    for idx in np.ndindex(n.shape[:-1]):
        ok = cens[idx] == ""
        if ok.sum() >= min_seeds:
            sds.append(float(np.std(np.log(n[idx][ok]), ddof=1)))
    if not sds:
        raise ValueError(f"no group has {min_seeds} measured seeds")
    return float(np.median(sds))


def growth_inputs(n_star, censoring) -> np.ndarray:
    """``n*`` in the convention of :mod:`modscale_lib.growth` (``inf`` where the target was not reached, NaN
    where not measured): for the growth per dimension of {doc}`/book/sample_complexity`."""
    n = core.array(n_star, "n_star", finite=False)
    cens = np.asarray(censoring, dtype=object)
    if cens.shape != n.shape:
        raise ValueError(f"censoring must have the shape of n_star {n.shape}, got {cens.shape}")
    return np.where(cens == "above", np.inf, np.where(cens == "missing", np.nan, n))


def ratio_text(r: dict) -> str:
    """A ratio of two growths of :func:`modscale_lib.growth.growth_with_ci` (``baseline=``): ``"1.012 [0.990,
    1.035]"``, with what censoring makes of it (``bound_a``, ``bound_b``)."""
    text = f"{r['estimate']:.3f} [{r['low']:.3f}, {r['high']:.3f}]"
    if not r.get("censored"):
        return text
    bounds = r.get("bound_a") or "exact", r.get("bound_b") or "exact"
    return f"{text} (rests on censored medians: growths {bounds[0]} and {bounds[1]})"


def paired_contrast(studies: dict, target: float, label_a: str, label_b: str) -> dict:
    """Learner ``a`` against learner ``b`` on the same task draws, per task of ``studies``: the difference of their
    power-law exponents (the slope of ``log(n*_a / n*_b)`` against ``log m``) and the ratio ``n*_a / n*_b`` at
    the largest ``m`` both ran (geometric mean over seeds), each with the jackknife-t interval over seeds of
    :func:`modscale_lib.laws.slope_ci` and :func:`modscale_lib.laws.mean_ci`. The two learners may come from
    different results of a task (:func:`by_task` gathers them; a seed is the same task draw in every result).
    Only seeds measured (not censored) for both learners at every such ``m`` enter; a task with fewer than two
    is left out.

    The exponent difference is also given over the upper half of those ``m`` (from the middle one up), with the
    seeds measured there: a learner near the grid's floor, or near a constant cost, at the smallest ``m`` bends
    its curve there, and a difference of laws must persist at the largest ``m``.

    Returns ``{task: {"seeds": int, "m": (M,), "exponent_difference": (estimate, low, high),
    "level_ratio": (estimate, low, high), "upper": None or {"seeds": int, "m": (M',), "exponent_difference":
    (estimate, low, high)}}}``."""
    out = {}
    if not studies:
        return out
    tasks, labels, n_star, cens = by_task(studies, target)
    if label_a not in labels or label_b not in labels:
        return out
    a, b = labels.index(label_a), labels.index(label_b)
    m_grid = np.asarray(next(iter(studies.values()))[0].m_grid, dtype=float)
    for t, task in enumerate(tasks):
        ran = [
            c for c in range(m_grid.size) if np.any(cens[t, a, c] != "missing") and np.any(cens[t, b, c] != "missing")
        ]
        ok = np.all((cens[t, a][ran] == "") & (cens[t, b][ran] == ""), axis=0)
        if ok.sum() < 2 or len(ran) < 2:
            continue
        m = m_grid[ran]
        log_ratio = np.log(n_star[t, a][ran][:, ok] / n_star[t, b][ran][:, ok]).T  # (seeds, m)
        slope = laws.slope_ci(np.log(m), log_ratio)
        level = laws.mean_ci(log_ratio[:, -1])
        top = ran[(len(ran) - 1) // 2 :]
        ok_top = np.all((cens[t, a][top] == "") & (cens[t, b][top] == ""), axis=0)
        upper = None
        if ok_top.sum() >= 2 and len(top) >= 2 and len(top) < len(ran):
            log_top = np.log(n_star[t, a][top][:, ok_top] / n_star[t, b][top][:, ok_top]).T
            upper = {
                "seeds": int(ok_top.sum()),
                "m": m_grid[top],
                "exponent_difference": laws.slope_ci(np.log(m_grid[top]), log_top),
            }
        out[task] = {
            "seeds": int(ok.sum()),
            "m": m,
            "exponent_difference": slope,
            "level_ratio": tuple(float(np.exp(v)) for v in level),
            "upper": upper,
        }
    return out


def jump_bound(input_dims, n_star, censoring, n_max: float) -> tuple[float, float, float] | None:
    """Where a learner's median ``n*`` goes from measured at one ``m`` to censored above (not reached by
    ``n_max``) at the next, the log-log slope between them is at least ``log(n_max / n*) / log(m1 / m0)``:
    ``(m0, m1, slope bound)`` at the first such step, or None. n_star, censoring : (D, S) of one task and
    learner."""
    med, flag = median_n_star(n_star, censoring)
    m = core.array(input_dims, "input_dims", ndim=1)
    for c in range(m.size - 1):
        if flag[c] == "" and flag[c + 1] == "above":
            return float(m[c]), float(m[c + 1]), float(np.log(n_max / med[c]) / np.log(m[c + 1] / m[c]))
    return None


def by_task(studies: dict, target: float) -> tuple[list, list, np.ndarray, np.ndarray]:
    """Every learner of every stored result, gathered per task (a task's learners may come from several results,
    e.g. the learned rule's own): ``(tasks, labels, n_star, censoring)`` with ``n_star`` and ``censoring`` of
    shape (task, label, D, S), ``"missing"`` where a learner has no result for a task. The results must share
    their dimensions and seeds."""
    results = list(studies.values())
    grids = {(tuple(c.m_grid), tuple(c.seeds)) for c, _ in results}
    if len(grids) != 1:
        raise ValueError(f"the results must share m_grid and seeds to be drawn together, got {sorted(grids)}")
    tasks = list(dict.fromkeys(t for c, _ in results for t in c.tasks))
    labels = list(dict.fromkeys(lab for _, r in results for lab in r["method_labels"]))
    ((m_grid, seeds),) = grids
    n_star = np.full((len(tasks), len(labels), len(m_grid), len(seeds)), np.nan)
    cens = np.full(n_star.shape, "missing", dtype=object)
    for cfg, res in results:
        n, c = samples_needed(res, cfg, target)
        for a, task in enumerate(cfg.tasks):
            for b, label in enumerate(res["method_labels"]):
                where = tasks.index(task), labels.index(label)
                n_star[where], cens[where] = n[a, b], c[a, b]
    return tasks, labels, n_star, cens
