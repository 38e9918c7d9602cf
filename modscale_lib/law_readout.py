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


# -- what the public functions take, checked once at the boundary (core's declarative rules) ---------------
def _task(value, name: str, arguments=None) -> str:
    """A study task ``"kind:K"``: a kind of :data:`FAMILIES` and a number of modules ``K >= 1``."""
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a task 'kind:K' (kind one of {sorted(FAMILIES)}), got {value!r}")
    kind, _, K = value.partition(":")
    if kind not in FAMILIES or not K.isdigit() or int(K) < 1:
        raise ValueError(f"{name} must be one of the kinds {sorted(FAMILIES)} as 'kind:K' with K >= 1, got {value!r}")
    return value


def _entries(value, name: str, keys: tuple):
    """A stored result (a :class:`modscale_lib.store.Result` or a dict) holding every key of ``keys``."""
    if isinstance(value, (str, bytes)) or not hasattr(value, "__getitem__"):
        raise TypeError(f"{name} must be a stored result (a store.Result or a dict), got {type(value).__name__}")
    for key in keys:
        try:
            value[key]
        except (KeyError, IndexError, TypeError):
            raise ValueError(f"{name} must hold the entry {key!r} (of a stored result)") from None
    return value


def _attributes(value, name: str, keys: tuple):
    missing = [k for k in keys if not hasattr(value, k)]
    if missing:
        raise TypeError(f"{name} must be a config with {', '.join(keys)}; {type(value).__name__} lacks {missing}")
    return value


def RESULT(*keys) -> core.Rule:
    """The rule of a stored result holding ``keys``."""
    return core.Check(lambda v, name, a: _entries(v, name, keys))


def CONFIG(*keys) -> core.Rule:
    """The rule of a config with the attributes ``keys``."""
    return core.Check(lambda v, name, a: _attributes(v, name, keys))


def _studies(value, name: str, arguments=None) -> dict:
    """``{name: (config, result)}`` of stored scaling-law studies."""
    if not isinstance(value, dict):
        raise TypeError(f"{name} must be a dict {{name: (config, result)}}, got {type(value).__name__}")
    for key, pair in value.items():
        if not isinstance(pair, (tuple, list)) or len(pair) != 2:
            raise TypeError(f"{name}[{key!r}] must be a (config, result) pair, got {type(pair).__name__}")
        _attributes(pair[0], f"{name}[{key!r}] config", ("tasks", "m_grid", "seeds", "i_min", "i_max"))
        _entries(pair[1], f"{name}[{key!r}] result", ("index", "test_loss", "method_labels"))
    return value


def _quantity(value, name: str) -> dict:
    """A fitted quantity ``{estimate, low, high}`` (ends may be infinite where the fit is a bound, low <= high)."""
    if not isinstance(value, dict):
        raise TypeError(f"{name} must be a dict with estimate, low and high, got {type(value).__name__}")
    for key in ("estimate", "low", "high"):
        if key not in value:
            raise ValueError(f"{name} must hold {key!r} (a fitted quantity of modscale_lib.laws)")
        core.real(value[key], f"{name}[{key!r}]", allow_inf=True)
    if value["low"] > value["high"]:
        raise ValueError(f"{name} must have low <= high, got [{value['low']}, {value['high']}]")
    return value


def _decision(value, name: str, arguments=None) -> dict:
    """A decision of :func:`modscale_lib.laws.decide_law`: its ``law`` and its exponent ``alpha``."""
    if not isinstance(value, dict):
        raise TypeError(f"{name} must be a decision of laws.decide_law (a dict), got {type(value).__name__}")
    if "law" not in value or "alpha" not in value:
        raise ValueError(f"{name} must hold 'law' and 'alpha' (a decision of laws.decide_law)")
    core.choice(value["law"], f"{name}['law']", laws.VERDICTS)
    _quantity(value["alpha"], f"{name}['alpha']")
    return value


def _decisions(value, name: str, arguments=None) -> dict:
    """``{(task, method label): decision}``."""
    if not isinstance(value, dict):
        raise TypeError(f"{name} must be a dict {{(task, method label): decision}}, got {type(value).__name__}")
    for key, d in value.items():
        if not isinstance(key, tuple) or len(key) != 2:
            raise ValueError(f"{name} must be keyed by (task, method label), got the key {key!r}")
        _task(key[0], f"{name} key {key!r}")
        core.choice(key[1], f"{name} key {key!r}", methods.ALL)
        _decision(d, f"{name}[{key!r}]")
    return value


def _prediction(value, name: str, arguments=None) -> dict:
    """A row of :func:`modscale_lib.laws.predictions` as a dict."""
    keys = ("task", "regime", "law", "bound", "exponent", "exponent over the range")
    if not isinstance(value, dict) or any(k not in value for k in keys):
        raise ValueError(f"{name} must be a row of laws.predictions (a dict with {keys}), got {value!r}"[:300])
    core.choice(value["law"], f"{name}['law']", ("power", "exponential", "flat"))
    if value["law"] != "exponential":
        core.real(value["exponent over the range"], f"{name}['exponent over the range']")
    return value


def _predictions(value, name: str, arguments=None) -> list:
    """Rows of :func:`modscale_lib.laws.predictions`, each a dict."""
    if not isinstance(value, (list, tuple)):
        raise TypeError(f"{name} must be a list of rows of laws.predictions (dicts), got {type(value).__name__}")
    return [_prediction(r, f"{name}[{i}]") for i, r in enumerate(value)]


def _n_star(value, name: str, arguments=None) -> np.ndarray:
    """``n*`` (..., S): sample counts > 0, NaN where not measured."""
    n = core.array(value, name, finite=False)
    if n.ndim == 0 or np.any(~np.isnan(n) & ~(np.isfinite(n) & (n > 0))):
        raise ValueError(f"{name} must be an array (..., seeds) of sample counts > 0, NaN where not measured")
    return n


def _censoring(value, name: str, arguments: dict) -> np.ndarray:
    """Labels of :data:`modscale_lib.brackets.CENSORING` of the shape of ``n_star``, measured only where it is."""
    n, lab = arguments["n_star"], np.asarray(value, dtype=object)
    if lab.shape != n.shape:
        raise ValueError(f"{name} must have the shape of n_star {n.shape}, got {lab.shape}")
    bad = {repr(v) for v in lab.ravel() if not (isinstance(v, str) and v in brackets.CENSORING)}
    if bad:
        raise ValueError(f"{name} must hold labels of {brackets.CENSORING}, got {sorted(bad)[:5]}")
    if np.any((lab != "missing") & np.isnan(n)):
        raise ValueError(f"{name} must be 'missing' where n_star is NaN")
    return lab


TASK, STUDIES, DECISION, DECISIONS = (
    core.Check(_task),
    core.Check(_studies),
    core.Check(_decision),
    core.Check(_decisions),
)
PREDICTION_ROWS, N_STAR, CENSORED = core.Check(_predictions), core.Check(_n_star), core.Check(_censoring)
LABEL, TARGET = core.Choice(methods.ALL), core.Real(0.0, low_open=True)
DIMS = core.RealArray(0.0, low_open=True, ndim=1, min_size=1)


@core.validated(task=TASK)
def task_title(task: str) -> str:
    """A study task ``"kind:K"`` in words, for titles: ``"sine-wave, K = 2"``, ``"He_2, K = 2"``,
    ``"two-dimensional modules, K = 2"``."""
    kind, K = family_of(task), str(task).split(":")[1]
    name = {"sine": "sine-wave", "nonseparable": "two-dimensional modules"}.get(kind, kind)
    return f"{name}, K = {K}"


@core.validated(task=TASK)
def family_of(task: str) -> str:
    """The family of :func:`modscale_lib.laws.predictions` of a study task ``"kind:K"``."""
    return FAMILIES[task.split(":")[0]]


@core.validated(label=LABEL)
def regime_of(label: str) -> str:
    """The regime of ``laws.REGIMES`` that a method of the study belongs to: random features
    are a kernel method, the MLP is trained by gradient descent, modular networks that learn their projections
    must find a subspace, the oracle is given it."""
    return {
        methods.RANDOM_FEATURES: "kernels and random features",
        methods.MONOLITHIC: "online gradient training",
        methods.ORACLE: "frozen oracle",
    }.get(label, "learned projections")


@core.validated(res=RESULT("index", "test_loss"), cfg=CONFIG("i_min", "i_max"), target=TARGET)
def samples_needed(res, cfg, target: float) -> tuple[np.ndarray, np.ndarray]:
    """``n*`` and its censoring (:data:`modscale_lib.brackets.CENSORING`) of every (task, method, m, seed) of a
    stored ``scaling_law_sweep`` result at ``target`` (a fraction of ``Var(y) = 1``), read from the visits.
    Where a method did not run at an ``m``, or its visits do not bracket ``target``, ``"missing"``."""
    return brackets.crossings(res["index"], res["test_loss"], target, cfg.i_min, cfg.i_max)


@core.validated(input_dims=DIMS, n_star=N_STAR, censoring=CENSORED)
def law_inputs(input_dims, n_star, censoring) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """What :func:`modscale_lib.laws.decide_law` takes for one (task, method): the ``m`` where the method ran
    (at least two seeds not missing), ``log n*`` (S, M') and the censoring labels (S, M').

    input_dims : (D,). n_star, censoring : (D, S) as :func:`samples_needed` gives them for one task and method.
    """
    m, n, cens = input_dims, n_star, censoring
    if n.shape != (m.size,) + n.shape[1:] or n.ndim != 2:
        raise ValueError(f"n_star and censoring must be (D, S), a row per input_dims (D = {m.size}), got {n.shape}")
    keep = np.sum(cens != "missing", axis=1) >= 2
    with np.errstate(divide="ignore", invalid="ignore"):
        log_n = np.where(cens == "missing", np.nan, np.log(n))
    return m[keep], log_n[keep].T, cens[keep].T


def _number(x: float) -> str:
    return "inf" if x == math.inf else "-inf" if x == -math.inf else f"{x:.2f}"


@core.validated(decision=DECISION)
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


@core.validated(label=LABEL)
def short_label(label: str) -> str:
    """A learner's short name for one-line printouts: ``MLP``, ``RF``, ``random``, ``oracle``, and ``<variant>
    rule`` for the learned rule's variants (``"modular, newton rule"`` -> ``"newton rule"``)."""
    if label in _SHORT:
        return _SHORT[label]
    if label.startswith("modular, ") and label.endswith(" rule"):
        return label.removeprefix("modular, ")
    raise ValueError(f"label must be one of {sorted(_SHORT)} or 'modular, <variant> rule', got {label!r}")


@core.validated(n_star=N_STAR, censoring=CENSORED)
def median_n_star(n_star, censoring) -> tuple[np.ndarray, np.ndarray]:
    """The median ``n*`` over seeds (last axis) and whether it rests on censored values: ``"above"`` where
    half of the seeds or more are censored above (the median is then a lower bound), ``"below"`` likewise,
    ``"missing"`` where fewer than two seeds were measured, ``""`` otherwise. Entries censored above count as
    infinite, below as the grid's first ``n``."""
    n, cens = n_star, censoring
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


@core.validated(res=RESULT("method_labels", "best_step", "steps"), cfg=CONFIG("steps"))
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


def _options(value, name: str, arguments: dict) -> int:
    """At least one more option than the largest chosen (so that the shares add up to one)."""
    choice = np.asarray(arguments["res"]["choice"], dtype=float)[:, arguments["method"]]
    chosen = choice[np.isfinite(choice)]
    return core.whole(value, name, low=int(chosen.max()) + 1 if chosen.size else 1)


@core.validated(
    res=RESULT("choice"),
    method=core.Whole(0, lambda a: np.shape(a["res"]["choice"])[1] - 1),
    n_options=core.Check(_options),
)
def choice_shares(res, method: int, n_options: int) -> np.ndarray:
    """How often each option was chosen on validation by method ``method`` (the MLP's steps, or the random
    features' ridges), over every visit: shares (n_options,)."""
    choice = np.asarray(res["choice"])[:, method]
    choice = choice[np.isfinite(choice)].astype(int)
    if choice.size == 0:
        raise ValueError(f"method {method} made no choice on validation in this result")
    return np.bincount(choice, minlength=n_options)[:n_options] / choice.size


@core.validated(res=RESULT("cpu_s"))
def cpu_minutes(res) -> np.ndarray:
    """CPU minutes of each (task, method) of a result, summed over its cells (``m``); NaN where none ran."""
    cpu = np.asarray(res["cpu_s"], dtype=float)
    with np.errstate(invalid="ignore"):
        return np.where(np.all(np.isnan(cpu), axis=-1), np.nan, np.nansum(cpu, axis=-1) / 60)


@core.validated(res=RESULT("index"))
def visits_per_seed(res) -> np.ndarray:
    """The number of points each search trained, (task, method, m, seed); 0 where a method did not run."""
    return np.sum(np.asarray(res["index"]) >= 0, axis=-1)


def _format(value, name: str, arguments=None) -> str:
    try:
        format(1.0, value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a format specification of a float such as '.2f', got {value!r}") from None
    return value


@core.validated(q=core.Check(lambda v, name, a: _quantity(v, name)), fmt=core.Check(_format))
def interval(q: dict, fmt: str = ".2f") -> str:
    """``"<estimate> [<low>, <high>]"`` of a fitted quantity of :mod:`modscale_lib.laws` (an end that does not
    hold, where the fit is a bound, as ``inf``)."""

    def num(x):
        return _number(x) if math.isinf(x) else format(x, fmt)

    return f"{num(q['estimate'])} [{num(q['low'])}, {num(q['high'])}]"


def _columns(value, name: str, arguments=None) -> dict:
    """The columns of :func:`modscale_lib.laws.predictions` (lists of one length)."""
    if not isinstance(value, dict):
        raise TypeError(f"{name} must be the columns of laws.predictions (a dict), got {type(value).__name__}")
    lengths = {len(v) if isinstance(v, (list, tuple)) else -1 for v in value.values()}
    if -1 in lengths or len(lengths) > 1 or list(value)[:2] != ["task", "regime"]:
        raise ValueError(f"{name} must be the columns of laws.predictions (task, regime, ...: lists of one length)")
    _predictions([dict(zip(value, r)) for r in zip(*value.values())], name)
    return value


@core.validated(decisions=DECISIONS, predictions=core.Check(_columns))
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


@core.validated(decision=DECISION, prediction=core.Check(_prediction))
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


@core.validated(decisions=DECISIONS, label=LABEL)
def verdict_list(decisions: dict, label: str) -> str:
    """``"power on sine:2 (alpha 1.05 [0.90, 1.20]); undecided on he3:2 (...)"``: one method's verdicts over the
    tasks of ``decisions`` (``{(task, method label): decision}``), ``"not measured"`` if it has none."""
    parts = [
        f"{d['law']} on {task} (alpha {interval(d['alpha'])})" for (task, lab), d in decisions.items() if lab == label
    ]
    return "; ".join(parts) if parts else "not measured"


@core.validated(studies=STUDIES, target=TARGET)
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


@core.validated(n_star=N_STAR, censoring=CENSORED, min_seeds=core.Whole(2))
def seed_sd(n_star, censoring, min_seeds: int = 3) -> float:
    """The median over groups (every leading index) of the standard deviation over seeds (last axis) of
    ``log n*``, from the measured entries of groups with at least ``min_seeds`` of them: the scatter to
    simulate the law test at (:func:`modscale_lib.laws.coverage`)."""
    n, cens = n_star, censoring
    sds = []
    for idx in np.ndindex(n.shape[:-1]):
        ok = cens[idx] == ""
        if ok.sum() >= min_seeds:
            sds.append(float(np.std(np.log(n[idx][ok]), ddof=1)))
    if not sds:
        raise ValueError(f"no group has {min_seeds} measured seeds")
    return float(np.median(sds))


@core.validated(n_star=N_STAR, censoring=CENSORED)
def growth_inputs(n_star, censoring) -> np.ndarray:
    """``n*`` in the convention of :mod:`modscale_lib.growth` (``inf`` where the target was not reached, NaN
    where not measured): for the growth per dimension of {doc}`/book/sample_complexity`."""
    n, cens = n_star, censoring
    return np.where(cens == "above", np.inf, np.where(cens == "missing", np.nan, n))


@core.validated(r=core.Check(lambda v, name, a: _quantity(v, name)))
def ratio_text(r: dict) -> str:
    """A ratio of two growths of :func:`modscale_lib.growth.growth_with_ci` (``baseline=``): ``"1.012 [0.990,
    1.035]"``, with what censoring makes of it (``bound_a``, ``bound_b``)."""
    text = f"{r['estimate']:.3f} [{r['low']:.3f}, {r['high']:.3f}]"
    if not r.get("censored"):
        return text
    bounds = r.get("bound_a") or "exact", r.get("bound_b") or "exact"
    return f"{text} (rests on censored medians: growths {bounds[0]} and {bounds[1]})"


@core.validated(studies=STUDIES, target=TARGET, label_a=LABEL, label_b=LABEL)
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


@core.validated(
    input_dims=DIMS,
    n_star=core.Check(
        lambda v, name, a: _n_star(
            core.array(v, f"{name} (a row per input_dims)", shape=(a["input_dims"].size, None), finite=False), name
        )
    ),
    censoring=CENSORED,
    n_max=TARGET,
)
def jump_bound(input_dims, n_star, censoring, n_max: float) -> tuple[float, float, float] | None:
    """Where a learner's median ``n*`` goes from measured at one ``m`` to censored above (not reached by
    ``n_max``) at the next, the log-log slope between them is at least ``log(n_max / n*) / log(m1 / m0)``:
    ``(m0, m1, slope bound)`` at the first such step, or None. n_star, censoring : (D, S) of one task and
    learner."""
    med, flag = median_n_star(n_star, censoring)
    m = input_dims
    for c in range(m.size - 1):
        if flag[c] == "" and flag[c + 1] == "above":
            return float(m[c]), float(m[c + 1]), float(np.log(n_max / med[c]) / np.log(m[c + 1] / m[c]))
    return None


@core.validated(studies=STUDIES, target=TARGET)
def by_task(studies: dict, target: float) -> tuple[list, list, np.ndarray, np.ndarray]:
    """Every learner of every stored result, gathered per task (a task's learners may come from several results,
    e.g. the learned rule's own): ``(tasks, labels, n_star, censoring)`` with ``n_star`` and ``censoring`` of
    shape (task, label, D, S), ``"missing"`` where a learner has no result for a task. The results must share
    their dimensions and seeds."""
    results = list(studies.values())
    grids = {(tuple(c.m_grid), tuple(c.seeds)) for c, _ in results}
    if len(grids) != 1:
        raise ValueError(f"studies: the results must share m_grid and seeds to be drawn together, got {sorted(grids)}")
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
