"""The verdicts of the scaling-law chapter (:doc:`/book/scaling_law`) in words: which stored results it reads,
which regimes each measured exponent is consistent with, the monolithic MLP against modular networks on the
same draws, and what the measurements say of the paper's claim.

Values, table columns and sentences only, keyed by the names the chapter glues; the fits and intervals are
:mod:`modscale_lib.laws`' and :mod:`modscale_lib.law_readout`'s. Numpy only.
"""

from __future__ import annotations

import math

from ... import core, law_readout, laws, methods
from ...law_readout import DECISION, DECISIONS, LABEL, PREDICTION_ROWS, STUDIES, TARGET, TASK

__all__ = [
    "KERNEL",
    "ONLINE",
    "partition_stored",
    "stored_lines",
    "regimes_consistent",
    "regime_table",
    "regime_glues",
    "sides",
    "exponent_sign",
    "contrasts",
    "contrast_table",
    "contrast_words",
    "modularity_word",
    "claim_needs",
    "claim_verdicts",
]

#: The regimes of :data:`modscale_lib.laws.REGIMES` that the claim's verdicts name.
KERNEL, ONLINE = "kernels and random features", "online gradient training"

#: ``"a (b, c)"`` of an interval (estimate, low, high), two decimals.
INTERVAL = "{:.2f} [{:.2f}, {:.2f}]"


# -- what the public functions take, checked once at the boundary (core's declarative rules) ---------------
def _texts(value, name: str, arguments=None, *, mapping: bool = False):
    """A list, tuple, set or dict (its keys) of strings (``mapping``: a dict of strings to strings)."""
    kinds = dict if mapping else (list, tuple, set, frozenset, dict)
    if not isinstance(value, kinds):
        raise TypeError(f"{name} must be a {'dict' if mapping else 'list'} of strings, got {type(value).__name__}")
    items = [*value.keys(), *value.values()] if mapping else list(value)
    if not all(isinstance(v, str) for v in items):
        raise TypeError(f"{name} must hold strings only, got {[v for v in items if not isinstance(v, str)][:3]}")
    return value


def _stored(value, name: str, arguments=None) -> dict:
    """``{name: (config, result)}``, each result with its provenance."""
    if not isinstance(value, dict):
        raise TypeError(f"{name} must be a dict {{name: (config, result)}}, got {type(value).__name__}")
    for key, pair in value.items():
        if not isinstance(key, str) or not isinstance(pair, (tuple, list)) or len(pair) != 2:
            raise TypeError(f"{name} must map names to (config, result) pairs, got {key!r}: {type(pair).__name__}")
        if not callable(getattr(pair[1], "provenance", None)):
            raise TypeError(f"{name}[{key!r}] must hold a stored result (with its provenance)")
    return value


def _triple(value, name: str) -> tuple:
    """An interval ``(estimate, low, high)`` of finite numbers, ``low <= high``."""
    if not isinstance(value, (tuple, list)) or len(value) != 3:
        raise TypeError(f"{name} must be an interval (estimate, low, high), got {value!r}"[:200])
    est, low, high = (core.real(v, f"{name}[{i}]") for i, v in enumerate(value))
    if low > high:
        raise ValueError(f"{name} must have low <= high, got [{low}, {high}]")
    return value


def _contrast(value, name: str) -> dict:
    """One task's contrast of :func:`modscale_lib.law_readout.paired_contrast`."""
    keys = ("seeds", "m", "exponent_difference", "level_ratio", "upper")
    if not isinstance(value, dict) or any(k not in value for k in keys):
        raise ValueError(f"{name} must be a contrast of law_readout.paired_contrast (a dict with {keys})")
    core.whole(value["seeds"], f"{name}['seeds']", low=2)
    core.array(value["m"], f"{name}['m']", ndim=1, min_rows=1)
    _triple(value["exponent_difference"], f"{name}['exponent_difference']")
    _triple(value["level_ratio"], f"{name}['level_ratio']")
    if value["upper"] is not None:
        if not isinstance(value["upper"], dict) or any(k not in value["upper"] for k in keys[:3]):
            raise ValueError(f"{name}['upper'] must be None or a dict with {keys[:3]}")
        core.whole(value["upper"]["seeds"], f"{name}['upper']['seeds']", low=2)
        core.array(value["upper"]["m"], f"{name}['upper']['m']", ndim=1, min_rows=1)
        _triple(value["upper"]["exponent_difference"], f"{name}['upper']['exponent_difference']")
    return value


def _contrasts(value, name: str, arguments=None) -> dict:
    """``{(task, modular label): contrast}`` of :func:`contrasts`."""
    if not isinstance(value, dict):
        raise TypeError(f"{name} must be a dict {{(task, label): contrast}}, got {type(value).__name__}")
    for key, c in value.items():
        if not isinstance(key, tuple) or len(key) != 2:
            raise ValueError(f"{name} must be keyed by (task, label), got the key {key!r}")
        _texts(key, f"{name} key {key!r}")
        _contrast(c, f"{name}[{key!r}]")
    return value


def _words(value, name: str, arguments=None) -> list:
    """Tuples ``(pair, law, level, span, ratio, persistent)`` of :func:`contrast_words`."""
    if not isinstance(value, (list, tuple)):
        raise TypeError(f"{name} must be a list of the tuples of contrast_words, got {type(value).__name__}")
    for i, w in enumerate(value):
        if not isinstance(w, tuple) or len(w) != 6 or not all(isinstance(x, str) for x in w[:5]):
            raise ValueError(
                f"{name}[{i}] must be a tuple (pair, law, level, span, ratio, persistent) of contrast_words"
            )
        if " against " not in w[0] or w[2] not in _PHRASES:
            raise ValueError(f"{name}[{i}] must name '<task> against <label>' and a level of {sorted(_PHRASES)}")
        core.whole(w[5], f"{name}[{i}] persistent", low=-1, high=1)
    return value


def _claim_rows(value, name: str, arguments: dict) -> list:
    """Prediction rows holding gradient training's and the kernel's for every task the MLP was measured on."""
    rows = PREDICTION_ROWS(value, name)
    for task, label in arguments["decided"]:
        have = {r["regime"] for r in rows if r["task"] == law_readout.family_of(task)}
        if label == methods.MONOLITHIC and not {ONLINE, KERNEL} <= have:
            raise ValueError(f"{name} must hold the rows of {ONLINE!r} and {KERNEL!r} for {task}'s family")
    return rows


TEXTS, CONTRASTS, WORDS = core.Check(_texts), core.Check(_contrasts), core.Check(_words)
STORED, NAMES = core.Check(_stored), core.Check(lambda v, name, a: _texts(v, name, mapping=True))


@core.validated(stored=STORED, rule_configs=TEXTS)
def partition_stored(stored: dict, rule_configs) -> tuple[dict, dict, list]:
    """The stored results of the study split by what the chapter does with them.

    stored : ``{name: (config, result)}``; rule_configs : the names of the learned rule's results (each named
    ``"<study>_rule"``). Returns ``(studies, stored, waiting)``: the studies (four learners each, no rule
    result), every result read (a rule's result only once its task's study is stored), and the names of the
    rule results waiting for their study."""
    studies = {name: v for name, v in stored.items() if name not in rule_configs}
    waiting = [n for n in stored if n in rule_configs and n.removesuffix("_rule") not in studies]
    return studies, {n: v for n, v in stored.items() if n not in waiting}, waiting


@core.validated(stored=STORED, missing=NAMES, waiting=TEXTS)
def stored_lines(stored: dict, missing: dict, waiting: list) -> list[str]:
    """The lines the chapter prints of its inputs: each result's provenance, each result not computed yet (from
    ``missing``, ``{name: command}``) and each rule result ``waiting`` for its study."""
    return (
        [res.provenance() for _, res in stored.values()]
        + [f"not computed yet: {name}, with  {command}" for name, command in missing.items()]
        + [f"stored, read once its task's study is: {name}" for name in waiting]
    )


@core.validated(task=TASK, decision=DECISION, pred_rows=PREDICTION_ROWS)
def regimes_consistent(task: str, decision: dict, pred_rows: list) -> str:
    """The regimes (rows of :func:`modscale_lib.laws.predictions` as dicts, ``pred_rows``) that one measured
    decision of :func:`modscale_lib.laws.decide_law` on ``task`` is consistent with, joined by commas: an
    exponential regime where the verdict is exponential, a power-law one where the exponent's interval holds
    its exponent over the range (:func:`modscale_lib.law_readout.agreement`). ``"none"`` if no regime is,
    ``"not measured (censored above)"`` (``below``, ``above and below``: the sides of the decision's censored
    entries) where the interval is unbounded on both sides."""
    if math.isinf(decision["alpha"]["low"]) and math.isinf(decision["alpha"]["high"]):
        sides = [s for s in ("above", "below") if decision.get("censored", {}).get(s, 0) > 0]
        return f"not measured (censored {' and '.join(sides)})" if sides else "not measured"
    fits = [
        r["regime"]
        for r in pred_rows
        if r["task"] == law_readout.family_of(task)
        and (
            decision["law"] == "exponential"
            if r["law"] == "exponential"
            else law_readout.agreement(decision, r) == "inside"
        )
    ]
    return ", ".join(fits) or "none"


@core.validated(decided=DECISIONS, pred_rows=PREDICTION_ROWS)
def regime_table(decided: dict, pred_rows: list) -> dict:
    """Table columns, one row per (task, learner) of ``decided`` (``{(task, label): decision}``): ``task``,
    ``method``, ``alpha [95% CI]``, ``its own regime`` (:func:`modscale_lib.law_readout.regime_of`) and
    ``regimes consistent with it`` (:func:`regimes_consistent`)."""
    return {
        "task": [t for t, _ in decided],
        "method": [lab for _, lab in decided],
        "alpha [95% CI]": [law_readout.interval(d["alpha"]) for d in decided.values()],
        "its own regime": [law_readout.regime_of(lab) for _, lab in decided],
        "regimes consistent with it": [regimes_consistent(t, d, pred_rows) for (t, _), d in decided.items()],
    }


def _regime_rows(value, name: str, arguments=None) -> dict:
    keys = ("task", "method", "regimes consistent with it")
    if not isinstance(value, dict) or any(not isinstance(value.get(k), list) for k in keys):
        raise TypeError(f"{name} must be the columns of regime_table (lists {keys})")
    if len({len(value[k]) for k in keys}) != 1:
        raise ValueError(f"{name} must have columns of one length, got {[len(value[k]) for k in keys]}")
    return value


@core.validated(rows=core.Check(_regime_rows), labels=core.Check(lambda v, name, a: _texts(v, name, mapping=True)))
def regime_glues(rows: dict, labels: dict) -> dict:
    """``{"regimes_<key>": "task: regimes; ..."}`` for each ``key: label`` of ``labels``, from the columns of
    :func:`regime_table`; ``"not measured"`` for a learner without rows."""
    return {
        f"regimes_{key}": "; ".join(
            f"{t}: {r}" for t, m, r in zip(rows["task"], rows["method"], rows["regimes consistent with it"]) if m == lab
        )
        or "not measured"
        for key, lab in labels.items()
    }


@core.validated(interval=core.Check(lambda v, name, a: _triple(v, name)))
def sides(interval) -> int:
    """+1 (-1) where an interval (estimate, low, high) lies above (below) zero, 0 where it holds zero."""
    return 1 if interval[1] > 0 else -1 if interval[2] < 0 else 0


@core.validated(contrast=core.Check(lambda v, name, a: _contrast(v, name)))
def exponent_sign(contrast: dict) -> tuple[int, int]:
    """(persistent, whole range) for one task of :func:`modscale_lib.law_readout.paired_contrast`: +1 where the
    MLP's exponent is the larger, -1 the smaller, 0 neither shown; persistent where the upper range shows it and
    the whole range does not contradict it (without an upper range, the whole range's)."""
    full = sides(contrast["exponent_difference"])
    if contrast["upper"] is None:
        return full, full
    up = sides(contrast["upper"]["exponent_difference"])
    return (up if full != -up else 0), full


@core.validated(
    studies=STUDIES,
    target=TARGET,
    label=LABEL,
    others=core.Check(lambda v, name, a: [LABEL(x, f"{name}[{i}]") for i, x in enumerate(_texts(v, name))]),
)
def contrasts(studies: dict, target: float, label: str, others) -> dict:
    """``{(task, other): contrast}``: :func:`modscale_lib.law_readout.paired_contrast` of learner ``label``
    against each of ``others`` at ``target``, over the stored ``studies``."""
    return {
        (task, other): c
        for other in others
        for task, c in law_readout.paired_contrast(studies, target, label, other).items()
    }


@core.validated(contrasts=CONTRASTS)
def contrast_table(contrasts: dict) -> tuple[dict, list]:
    """The table of :func:`contrasts` and the pairs whose difference of exponents persists.

    Returns ``(columns, persistent)``: columns ``task``, ``modular``, ``seeds``, ``exponent difference (MLP -
    modular)``, ``upper range`` and ``n* ratio at the largest m`` (intervals as text), and
    ``["<task> against <modular>", ...]`` where :func:`exponent_sign` shows a persistent difference."""
    rows = {
        "task": [t for t, _ in contrasts],
        "modular": [o for _, o in contrasts],
        "seeds": [c["seeds"] for c in contrasts.values()],
        "exponent difference (MLP - modular)": [INTERVAL.format(*c["exponent_difference"]) for c in contrasts.values()],
        "upper range": [
            f"{INTERVAL.format(*c['upper']['exponent_difference'])} over m = "
            f"{c['upper']['m'][0]:.0f}..{c['upper']['m'][-1]:.0f} ({c['upper']['seeds']} seeds)"
            if c["upper"]
            else "none"
            for c in contrasts.values()
        ],
        "n* ratio at the largest m": [
            f"{INTERVAL.format(*c['level_ratio'])} at m = {c['m'][-1]:.0f}" for c in contrasts.values()
        ],
    }
    return rows, [f"{t} against {o}" for (t, o), c in contrasts.items() if exponent_sign(c)[0]]


@core.validated(contrasts=CONTRASTS)
def contrast_words(contrasts: dict) -> list[tuple]:
    """Each contrast of :func:`contrasts` in words: ``(pair, law, level, span, ratio, persistent)`` with
    ``pair`` ``"<task> against <modular>"``, ``law`` what the exponents show, ``level`` what the ratio of ``n*``
    at the largest ``m`` shows (``"the MLP needs more samples"``, ``"the MLP needs fewer"`` or ``"no ratio
    shown"``), ``span`` and ``ratio`` their intervals as text, ``persistent`` the first of
    :func:`exponent_sign`."""
    words = []
    for (task, other), cc in contrasts.items():
        (d, d_lo, d_hi), (r, r_lo, r_hi) = cc["exponent_difference"], cc["level_ratio"]
        persist, full = exponent_sign(cc)
        law = (
            {1: "a larger exponent for the MLP", -1: "a smaller exponent for the MLP"}[persist]
            if persist
            else "no difference of exponents shown"
            if not full
            else f"a {'larger' if full > 0 else 'smaller'} exponent for the MLP over the whole range, not shown in "
            "the upper range"
        )
        level = "the MLP needs more samples" if r_lo > 1 else "the MLP needs fewer" if r_hi < 1 else "no ratio shown"
        span = f"{d:.2f} [{d_lo:.2f}, {d_hi:.2f}]" + (
            f"; upper range {INTERVAL.format(*cc['upper']['exponent_difference'])}" if cc["upper"] else ""
        )
        words.append((f"{task} against {other}", law, level, span, f"{r:.1f}x [{r_lo:.1f}, {r_hi:.1f}]", persist))
    return words


_PHRASES = {
    "the MLP needs more samples": "the MLP needs more samples than {} on {}",
    "the MLP needs fewer": "the MLP needs fewer samples than {} on {}",
    "no ratio shown": "no ratio is shown between the MLP and {} on {}",
}


@core.validated(words=WORDS)
def modularity_word(words: list[tuple]) -> str:
    """What modularity does to ``n*(m)``, from :func:`contrast_words`: ``"was not compared"`` without contrasts;
    ``"changes the exponent ..."`` where a difference persists in the upper range (naming those pairs); ``"buys a
    constant factor ..."`` where the MLP needs more samples on every pair and no exponent differs; otherwise
    ``"shows no persistent change of exponent; what differs is the constant: ..."``, per modular learner the
    tasks of each level."""
    if not words:
        return "was not compared"
    if any(w[5] for w in words):
        return "changes the exponent where a difference persists in the upper range: " + "; ".join(
            f"{w[0]} ({w[1]})" for w in words if w[5]
        )
    if {w[2] for w in words} == {"the MLP needs more samples"}:
        return "buys a constant factor in samples; no change of exponent is shown"
    by_other = {}
    for w in words:
        task, other = w[0].split(" against ")
        by_other.setdefault(other, {}).setdefault(w[2], []).append(task)
    return "shows no persistent change of exponent; what differs is the constant: " + "; ".join(
        _PHRASES[level].format(other, " and ".join(ts))
        for other, levels in by_other.items()
        for level, ts in levels.items()
    )


def _laws_by_task(value, name: str, arguments=None) -> dict:
    if not isinstance(value, dict):
        raise TypeError(f"{name} must be a dict {{task: law}}, got {type(value).__name__}")
    _texts(list(value), f"{name} keys (tasks)")
    return {t: core.choice(law, f"{name}[{t!r}]", laws.VERDICTS) for t, law in value.items()}


@core.validated(words=WORDS, mlp_laws=core.Check(_laws_by_task))
def claim_needs(words: list[tuple], mlp_laws: dict) -> str:
    """What the paper's claim needs (an exponential MLP, or modularity lowering the exponent) and whether it
    holds: from :func:`contrast_words` and the MLP's verdict per task (``{task: law}``). Names where it holds
    (an exponential MLP; a persistent difference with the MLP's exponent the larger); where it holds nowhere,
    says whether modularity changed only the constant or raised the exponent."""
    broken = [f"{t}: the MLP's law is exponential" for t, law in mlp_laws.items() if law == "exponential"]
    broken += [f"{w[0]}: {w[1]} ({w[3]})" for w in words if w[5] > 0]
    needs = "it holds on " + "; ".join(broken) if broken else "neither holds on any task measured here"
    if not broken and words and not any(w[5] for w in words):
        needs += (
            ". On these tasks modularity changes the constant of n*(m), not its exponent, and the monolithic "
            "MLP shows no exponential for it to break"
        )
    elif not broken and words:
        needs += (
            ". On these tasks modularity lowers the exponent of n*(m) nowhere; where a difference persists in "
            "the upper range, the modular network's exponent is the larger ("
            + "; ".join(w[0] for w in words if w[5])
            + "), and the monolithic MLP shows no exponential for modularity to break"
        )
    return needs


@core.validated(contrasts=CONTRASTS, decided=DECISIONS, pred_rows=core.Check(_claim_rows))
def claim_verdicts(contrasts: dict, decided: dict, pred_rows: list) -> dict:
    """The chapter's verdicts on the paper's claim, keyed by the names it glues: ``contrast_verdict`` (each
    contrast of :func:`contrasts` in words), ``modularity_word`` (:func:`modularity_word`),
    ``claim_exponential`` (which (task, learner) the test calls exponential), ``claim_mlp`` (the MLP's law per
    task beside gradient training's and the kernel's predictions, rows ``pred_rows``) and ``claim_needs``
    (:func:`claim_needs`). decided : ``{(task, label): decision}``."""
    words = contrast_words(contrasts)
    exponential = [f"{t} {lab}" for (t, lab), d in decided.items() if d["law"] == "exponential"]
    mlp = {t: d for (t, lab), d in decided.items() if lab == methods.MONOLITHIC}
    where = {"inside": "holds", "below": "lies below", "above": "lies above", "not measured": "does not bound"}

    def placed(t, d):
        rows = {r["regime"]: r for r in pred_rows if r["task"] == law_readout.family_of(t)}
        a = {regime: law_readout.agreement(d, r) for regime, r in rows.items()}
        online = f"m^{'>=' if rows[ONLINE]['bound'] else ''}{rows[ONLINE]['exponent']:g}"
        return (
            f"{t}: {d['law']}, alpha {law_readout.interval(d['alpha'])}, whose interval {where[a[ONLINE]]} "
            f"gradient training's {online} and {where[a[KERNEL]]} the kernel's count"
        )

    return {
        "contrast_verdict": "; ".join(f"{t}: {a} ({e}), and at the largest m {b} ({q})" for t, a, b, e, q, _ in words)
        or "not compared",
        "modularity_word": modularity_word(words),
        "claim_exponential": (
            f"the test calls an exponential for {', '.join(exponential)}"
            if exponential
            else f"the test calls no learner's n* exponential on any of the {len(decided)} (task, learner) pairs"
        ),
        "claim_mlp": "; ".join(placed(t, d) for t, d in mlp.items()) or "not measured",
        "claim_needs": claim_needs(words, {t: d["law"] for t, d in mlp.items()}),
    }
