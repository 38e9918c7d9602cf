"""The read-out of the chapter *Sample complexity against dimension* (``book/sample_complexity.ipynb``): every
value its prose glues, from the stored sweep, the monolithic network's step study, the scaling-law study's tasks,
the capacity search and the objective's cost.

:func:`measurements` computes once what the chapter measures (the losses relative to ``Var(y)``, ``n*`` at each
target, the growth rows, the comparisons and the controls, the tuned baseline, the scaling-law study's laws);
:func:`conclusions` turns it into ``name -> value``, the names that the chapter's markdown cites as
``{glue:text}`name```. Only the ``K = 4`` half of the sweep is read: the scaling-law study supersedes its ``K = 2``
half. Numpy only.
"""

from __future__ import annotations

import numpy as np

from ... import analysis, core, growth, growth_tables, law_readout, methods, reference
from ...store import check_result

__all__ = [
    "TARGET",
    "STRICT",
    "TARGETS",
    "SIMILARITY_TOLERANCE",
    "measurements",
    "conclusions",
    "check_measured",
    "law_growth_rows",
    "similarity_trend",
]

#: The chapter's target loss, relative to ``Var(y)``, and the strict one where the oracle is not censored.
TARGET, STRICT = 0.1, 0.01
#: The targets of the growth table across targets.
TARGETS = (0.01, 0.05, 0.1, 0.2)
#: A change of the rule's median cos^2 smaller than this is no change (the medians print to two decimals).
SIMILARITY_TOLERANCE = 0.01
#: The task the chapter reads of the sweep (its module count), and the scaling-law study's tasks it reads.
K = 4
LAW_TASKS = (("k2", "sine:2"), ("ns", "bump_ridge:2"))


def _check(res, config, steps, steps_config, law_studies) -> None:
    check_result(res, config, "sample_complexity_sweep")
    check_result(steps, steps_config, "monolithic_steps", name="steps")
    if K not in config.module_counts:
        raise ValueError(
            f"config.module_counts must hold K = {K}, the task the chapter reads; got {config.module_counts}"
        )
    _check_law_studies(law_studies)


def _check_law_studies(law_studies) -> None:
    if not isinstance(law_studies, dict):
        raise TypeError(f"law_studies must be a dict name -> (config, result), got {type(law_studies).__name__}")
    for name, pair in law_studies.items():
        if not isinstance(pair, tuple) or len(pair) != 2:
            raise TypeError(f"law_studies[{name!r}] must be a (config, result) pair, got {type(pair).__name__}")
        check_result(pair[1], pair[0], "scaling_law_sweep", name=f"law_studies[{name!r}]")


def check_measured(measured) -> dict:
    """``measured`` itself if it is what :func:`measurements` returns (a dict with its keys), else a TypeError."""
    keys = ("res", "config", "labels", "rel", "rows", "verdicts", "controls", "tuned", "law_rows", "law_decisions")
    if not isinstance(measured, dict) or not set(keys) <= set(measured):
        raise TypeError(f"measured must be the dict that measurements(...) returns, got {type(measured).__name__}")
    return measured


def measurements(res, config, *, steps, steps_config, law_studies: dict) -> dict:
    """What the chapter measures, computed once (a few seconds).

    ``res`` is the stored ``sample_complexity_sweep`` result and ``config`` its config; ``steps`` the stored
    ``monolithic_steps`` result and ``steps_config`` its config; ``law_studies`` the scaling-law study's stored
    results, ``{name: (config, result)}`` (``experiments.scaling_law.load_stored``; may be empty). Returns a dict
    of the inputs and:

    - ``n_grid``, ``m_grid``; ``labels``: the methods run at every ``n`` (the controls follow them in
      ``config.methods``); ``four``: the slice of the ``K = 4`` task in the sweep's first axis;
    - ``rel``: test losses over ``Var(y)``, ``(1, method, m, seed, n)`` (every method, controls included);
    - ``n_star``, ``censored``: ``n*`` at :data:`TARGET` and its censoring, ``(1, method, m, seed)``;
      ``rows``: :func:`~modscale_lib.growth.growth_rows` at :data:`TARGET` (against the monolithic network);
    - ``strict_star``, ``strict_cens``, ``strict_rows``: the same at :data:`STRICT`;
    - ``verdicts``: :func:`~modscale_lib.growth.verdicts`; ``controls``: :func:`~modscale_lib.growth.control_rows`;
    - ``tuned``: the monolithic network with its step chosen per network on validation: ``chosen`` (index of
      each network's step), ``n_star``, ``baselines`` (growth rows at both steps), ``ratio`` (its growth over
      that at the sweep's step, resampled in pairs), ``verdicts`` (every method against it) and ``below``
      (whether each learned modular network's samples at the largest ``m``, over the tuned baseline's, lie
      below one);
    - ``law_rows`` (:func:`law_growth_rows`) and ``law_decisions`` (``(task, learner) -> decision``).
    """
    _check(res, config, steps, steps_config, law_studies)
    k = config.module_counts.index(K)
    four = slice(k, k + 1)
    n_grid, m_grid = np.array(config.n_grid), np.array(config.m_grid)
    labels = tuple(m for m in config.methods if m not in methods.CONTROLS)
    main, mono = len(labels), labels.index(methods.MONOLITHIC)
    rel = (res["test_loss"] / res["var_test"][:, None, :, :, None])[four]
    n_star, censored = growth.samples_needed_curves(n_grid, rel, 1.0, TARGET)
    strict_star, strict_cens = growth.samples_needed_curves(n_grid, rel[:, :main], 1.0, STRICT)
    span = dict(n_min=n_grid[0])
    return {
        "res": res,
        "config": config,
        "steps": steps,
        "steps_config": steps_config,
        "four": four,
        "n_grid": n_grid,
        "m_grid": m_grid,
        "labels": labels,
        "rel": rel,
        "n_star": n_star,
        "censored": censored,
        "rows": growth.growth_rows(m_grid, n_star[0, :main], n_grid[-1], labels, baseline=mono, **span),
        "strict_star": strict_star,
        "strict_cens": strict_cens,
        "strict_rows": growth.growth_rows(m_grid, strict_star[0], n_grid[-1], labels, **span),
        "verdicts": growth.verdicts(m_grid, n_star[:, :main], n_grid[-1], labels, (K,), **span),
        "controls": growth.control_rows(n_grid, m_grid, rel[0], config.methods, config.control_every, TARGET),
        "tuned": _tuned(res, config, steps, steps_config, n_star[:, :main], labels, four),
        "law_rows": law_growth_rows(law_studies, TARGET),
        "law_decisions": law_readout.decisions(law_studies, TARGET)[0],
    }


def _tuned(res, config, steps, steps_config, n_star, labels, four) -> dict:
    """The monolithic network with its step chosen per network on validation, against the one at the sweep's
    step (see :func:`measurements`)."""
    n_grid, m_grid = np.array(config.n_grid), np.array(config.m_grid)
    mono = labels.index(methods.MONOLITHIC)
    tuned, chosen = analysis.tuned_on_validation(steps["val_loss"][four], steps["test_loss"][four], axis=1)
    tuned_star, _ = growth.samples_needed_curves(n_grid, tuned / steps["var_test"][four][..., None], 1.0, TARGET)
    with_tuned = n_star.copy()
    with_tuned[:, mono] = tuned_star  # the tuned baseline in the monolithic network's place
    span = dict(n_min=n_grid[0])
    baselines = [
        growth.growth_rows(m_grid, x[0, mono][None], n_grid[-1], [name], **span)[0]
        for x, name in ((n_star, "monolithic, sweep's step"), (with_tuned, "monolithic, step tuned"))
    ]
    at_sweep_step = steps["test_loss"][four, list(steps_config.lrs).index(config.mlp_lr)]
    args = (m_grid, with_tuned, n_grid[-1], labels, (K,))
    return {
        "chosen": chosen,
        "n_star": tuned_star,
        "baselines": baselines,
        "ratio": growth.growth_with_ci(m_grid, tuned_star[0].T, n_grid[-1], baseline=n_star[0, mono].T, **span),
        "verdicts": growth.verdicts(*args, **span),
        "below": [v["high"] < 1 for v in growth.learned_level_values(*args, **span)],
        "sweep_step_diff": float(np.max(np.abs(at_sweep_step / res["test_loss"][four, mono] - 1))),
    }


def law_growth_rows(law_studies: dict, target: float) -> list[dict]:
    """The scaling-law study's growth per dimension at ``target`` in this chapter's terms: one list of
    :func:`~modscale_lib.growth.growth_rows` (against the monolithic network) per stored task, each row with its
    ``task``, over the ``m`` at which every learner ran."""
    _check_law_studies(law_studies)
    target = core.real(target, "target", low=0.0, low_open=True)
    out = []
    for lcfg, lres in law_studies.values():
        m_law = np.array([m for m in lcfg.m_grid if all(lcfg.runs(k, m) for k in lcfg.methods)])
        n_l, c_l = law_readout.samples_needed(lres, lcfg, target)
        n_g = law_readout.growth_inputs(n_l[0, :, : m_law.size], c_l[0, :, : m_law.size])  # (method, m, seed)
        rows = growth.growth_rows(
            m_law,
            n_g,
            2 ** (lcfg.i_max / 2),
            lres["method_labels"],
            n_min=2 ** (lcfg.i_min / 2),
            baseline=lres["method_labels"].index(methods.MONOLITHIC),
        )
        out += [{**r, "task": lcfg.tasks[0]} for r in rows]
    return out


def similarity_trend(first: float, last: float, tolerance: float = SIMILARITY_TOLERANCE) -> str:
    """``"falls"``, ``"rises"`` or ``"does not change"`` (by ``tolerance`` or more) from ``first`` to ``last``."""
    first = core.real(first, "first", low=-1.0, high=1.0)
    last = core.real(last, "last", low=-1.0, high=1.0)
    tolerance = core.real(tolerance, "tolerance", low=0.0, high=1.0)
    return "falls" if last <= first - tolerance else "rises" if last >= first + tolerance else "does not change"


# ---------------------------------------------------------------------------------------------------------
# One section of the chapter each
# ---------------------------------------------------------------------------------------------------------
def _oracle(d: dict) -> dict:
    last = growth.at_largest_n(d["rel"])[:, : len(d["labels"])]
    _, worse = growth.oracle_check(last, d["labels"], (K,), d["m_grid"])
    oracle = d["labels"].index(methods.ORACLE)
    flat = ", ".join(r["method"] for r in d["rows"] if r["flat"]) or "none"
    return {
        "oracle_worse": worse,
        "oracle_cells": len(d["m_grid"]),
        "flat_methods": flat,
        "oracle_below": int(np.sum(d["censored"][:, oracle] == "below")),
        "oracle_curves": int(d["censored"][:, oracle].size),
        "n_min": int(d["n_grid"][0]),
    }


def _strict(d: dict) -> dict:
    m_grid, n_grid, labels = d["m_grid"], d["n_grid"], d["labels"]
    row = {r["method"]: r for r in d["strict_rows"]}[methods.ORACLE]
    learned = [r for r in d["strict_rows"] if r["method"] not in (methods.ORACLE, methods.MONOLITHIC)]
    oracle = labels.index(methods.ORACLE)
    return {
        "strict_oracle": growth.flat_evidence(
            m_grid, d["strict_star"], d["strict_cens"], n_grid[-1], n_grid[0], labels, (K,)
        ),
        "strict_oracle_growth": float(row["estimate"]),
        "strict_oracle_ci": f"[{row['low']:.3f}, {row['high']:.3f}]",
        "strict_oracle_reading": growth_tables.growth_reading(row),
        "strict_oracle_contains": "contains 1" if row["low"] <= 1 <= row["high"] else "excludes 1",
        "strict_oracle_span": float(row["high"] ** np.ptp(m_grid)),
        "strict_oracle_cens": int(np.sum(d["strict_cens"][0, oracle] != "")),
        "strict_learned": "; ".join(f"{r['method']} {growth.growth_line(r)}" for r in learned),
        "strict_learned_flat": ", ".join(r["method"] for r in learned if r["flat"]) or "none",
        "strict_learned_growing": ", ".join(r["method"] for r in learned if r["low"] > 1) or "none",
    }


def _comparisons(d: dict) -> dict:
    verdicts = d["verdicts"]
    rr = verdicts["comparisons"][0]  # the rule against random starts
    learned = [c for c in verdicts["comparisons"][1:] if c["method"] != methods.ORACLE]
    out = dict(verdicts["glue"])
    out.update(
        rr_growth=growth_tables.growth_phrase(rr),
        rr_level=growth_tables.level_phrase(rr),
        levels_fewer=sum(c["level_word"] == "fewer" for c in learned),
        levels_count=len(learned),
    )
    return out


def _controls(d: dict) -> dict:
    out = dict(d["controls"]["glue"])
    out["extra_steps"] = float(np.median(d["res"]["extra_steps"][d["four"]]))
    letters: dict = {}
    for c in d["controls"]["comparisons"]:  # q2a, q2b, ...: each question's comparisons in order
        key = c["question"].lower() + "abcd"[letters.setdefault(c["question"], 0)]
        letters[c["question"]] += 1
        out[f"{key}_g"] = growth_tables.growth_phrase(c)
        out[f"{key}_l"] = growth_tables.level_phrase(c)
    return out


def _steps(d: dict) -> dict:
    lrs, tuned = np.array(d["steps_config"].lrs), d["tuned"]
    chosen, ratio = tuned["chosen"], tuned["ratio"]
    share_larger = float(np.mean(lrs[chosen] > d["config"].mlp_lr))
    mode = np.bincount(chosen.ravel()).argmax()
    if ratio["censored"]:
        word = "each growth is a lower bound there, so the ratio orders neither"
    else:
        word = "the tuned network grows faster" if ratio["low"] > 1 else "slower" if ratio["high"] < 1 else None
        word = word or "no difference shown"
    return {
        "n_steps": len(lrs),
        "steps_diff": tuned["sweep_step_diff"],
        "share_larger": share_larger,
        "step_verdict": "too small" if share_larger > 0.5 else "large enough",
        "mode_where": "lies inside the grid" if 0 < mode < len(lrs) - 1 else "is at the grid's edge",
        "tuned_ratio": law_readout.ratio_text(ratio),
        "tuned_ratio_word": word,
        "tuned_below": int(sum(tuned["below"])),
        "tuned_count": len(tuned["below"]),
    }


def _similarity(d: dict) -> dict:
    sim = np.median(d["res"]["rule_similarity"][d["four"]][0, :, :, -1], axis=-1)  # each m, largest n
    return {
        "sim_first": float(sim[0]),
        "sim_last": float(sim[-1]),
        "sim_trend": similarity_trend(float(sim[0]), float(sim[-1])),
    }


def _laws(d: dict) -> dict:
    return {
        f"law_{key}_{who}": d["law_decisions"].get((task, label), {}).get("law", "not computed yet")
        for key, task in LAW_TASKS
        for who, label in (("oracle", methods.ORACLE), ("mono", methods.MONOLITHIC))
    }


def _authors(d: dict) -> dict:
    their_m, m_grid = np.array(reference.SAMPLE_COMPLEXITY["m"], dtype=float), d["m_grid"]
    return {
        "their_target": reference.SAMPLE_COMPLEXITY["target_loss"],
        "growth_theirs_range": float((their_m[-1] / their_m[0]) ** (1 / np.ptp(their_m))),
        "growth_our_range": float((m_grid[-1] / m_grid[0]) ** (1 / np.ptp(m_grid))),
    }


def _headline(d: dict) -> dict:
    rows = {r["method"]: r for r in d["rows"]}
    rule = next(m for m in d["labels"] if methods.rule_variant(m))
    out = {}
    for key, name in (("mono", methods.MONOLITHIC), ("rule", rule), ("random", methods.RANDOM)):
        out[f"{key}_growth"] = float(rows[name]["estimate"])
        out[f"{key}_ci"] = f"[{rows[name]['low']:.3f}, {rows[name]['high']:.3f}]"
        out[f"{key}_reading"] = growth_tables.growth_reading(rows[name])
    return out


_SECTIONS = (_oracle, _strict, _comparisons, _controls, _steps, _similarity, _laws, _authors, _headline)


def _cost(cost, cost_config) -> dict:
    B = np.array(cost_config.batch_sizes, dtype=float)
    return {
        "cost_slope": float(np.polyfit(np.log(B[2:]), np.log(cost["seconds"][0, 2:]), 1)[0]),
        "cost_b_lo": int(B[2]),
        "cost_b_hi": int(B[-1]),
    }


def _minutes(res, key: str) -> float:
    """A stored result's recorded time ``key`` in minutes; a result without it is refused, not guessed."""
    value = res.metadata.get(key)
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not np.isfinite(value):
        raise ValueError(f"{res.experiment} {res.key} records no {key} ({value!r}): recompute it to record it")
    return float(value) / 60


def conclusions(measured: dict, *, capacity, capacity_config, cost, cost_config) -> dict:
    """Every value the chapter glues, ``name -> value`` (numbers, and verdicts as short phrases such as
    ``"contains 1"`` or ``"fewer samples than"``), from :func:`measurements` and the stored capacity search
    (``capacity``, ``capacity_config``) and objective cost (``cost``, ``cost_config``).

    The names are those the chapter's markdown cites: the oracle check (``oracle_*``, ``flat_methods``), the
    strict target (``strict_*``), the comparisons (``rule_vs_random``, ``rr_*``, ``levels_*``), the controls
    (``q2`` .. ``q5``, ``q2a_g`` .. ``q5b_l``, ``extra_steps``), the monolithic network's step (``n_steps``,
    ``steps_diff``, ``share_larger``, ``step_verdict``, ``mode_where``, ``tuned_*``), the rule's similarity
    (``sim_*``), the scaling-law study's laws (``law_*``), the authors' numbers (``their_target``,
    ``growth_*_range``), the objective's cost (``cost_*``), the headline growths (``mono_*``, ``rule_*``,
    ``random_*``) and the study's size and cost (``n_seeds``, ``m_max``; ``cpu_minutes`` and ``minutes`` of the
    sweep, process CPU and wall time; ``capacity_cpu_minutes``).
    """
    check_measured(measured)
    check_result(capacity, capacity_config, "sample_complexity_capacity", name="capacity")
    check_result(cost, cost_config, "objective_cost", name="cost")
    out = {}
    for section in _SECTIONS:
        out.update(section(measured))
    out.update(_cost(cost, cost_config))
    res, config = measured["res"], measured["config"]
    out.update(
        n_seeds=len(config.seeds),
        m_max=int(measured["m_grid"][-1]),
        cpu_minutes=_minutes(res, "cpu_time_s"),
        minutes=_minutes(res, "wall_time_s"),
        capacity_cpu_minutes=_minutes(capacity, "cpu_time_s"),
    )
    return out
