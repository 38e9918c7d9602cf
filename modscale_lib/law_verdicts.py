"""The verdicts of the scaling-law chapter (:doc:`/book/scaling_law`) in words: which stored results it reads,
which regimes each measured exponent is consistent with, the monolithic MLP against modular networks on the
same draws, and what the measurements say of the paper's claim.

Values, table columns and sentences only, keyed by the names the chapter glues; the fits and intervals are
:mod:`modscale_lib.laws`' and :mod:`modscale_lib.law_readout`'s. Numpy only.
"""

from __future__ import annotations

import math

from . import law_readout, methods

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


def partition_stored(stored: dict, rule_configs) -> tuple[dict, dict, list]:
    """The stored results of the study split by what the chapter does with them.

    stored : ``{name: (config, result)}``; rule_configs : the names of the learned rule's results (each named
    ``"<study>_rule"``). Returns ``(studies, stored, waiting)``: the studies (four learners each, no rule
    result), every result read (a rule's result only once its task's study is stored), and the names of the
    rule results waiting for their study."""
    studies = {name: v for name, v in stored.items() if name not in rule_configs}
    waiting = [n for n in stored if n in rule_configs and n.removesuffix("_rule") not in studies]
    return studies, {n: v for n, v in stored.items() if n not in waiting}, waiting


def stored_lines(stored: dict, missing: dict, waiting: list) -> list[str]:
    """The lines the chapter prints of its inputs: each result's provenance, each result not computed yet (from
    ``missing``, ``{name: command}``) and each rule result ``waiting`` for its study."""
    return (
        [res.provenance() for _, res in stored.values()]
        + [f"not computed yet: {name}, with  {command}" for name, command in missing.items()]
        + [f"stored, read once its task's study is: {name}" for name in waiting]
    )


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


def sides(interval) -> int:
    """+1 (-1) where an interval (estimate, low, high) lies above (below) zero, 0 where it holds zero."""
    return 1 if interval[1] > 0 else -1 if interval[2] < 0 else 0


def exponent_sign(contrast: dict) -> tuple[int, int]:
    """(persistent, whole range) for one task of :func:`modscale_lib.law_readout.paired_contrast`: +1 where the
    MLP's exponent is the larger, -1 the smaller, 0 neither shown; persistent where the upper range shows it and
    the whole range does not contradict it (without an upper range, the whole range's)."""
    full = sides(contrast["exponent_difference"])
    if contrast["upper"] is None:
        return full, full
    up = sides(contrast["upper"]["exponent_difference"])
    return (up if full != -up else 0), full


def contrasts(studies: dict, target: float, label: str, others) -> dict:
    """``{(task, other): contrast}``: :func:`modscale_lib.law_readout.paired_contrast` of learner ``label``
    against each of ``others`` at ``target``, over the stored ``studies``."""
    return {
        (task, other): c
        for other in others
        for task, c in law_readout.paired_contrast(studies, target, label, other).items()
    }


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
