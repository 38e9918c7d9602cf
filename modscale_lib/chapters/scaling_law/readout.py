"""The read-out of the chapter *Exponential or polynomial?* (``book/scaling_law.ipynb``): every value its prose
glues, from the stored ``scaling_law`` results and their ``scaling_law_capacity`` searches.

:func:`measurements` computes once what the chapter measures (the law decisions at both targets, the samples
needed per task and learner, how the networks stopped, the coverage of the intervals, the theory's predictions
and the paired contrasts); :func:`conclusions` turns it into ``name -> value``, the names that the chapter's
markdown cites as ``{glue:text}`name```. The fits and intervals are :mod:`modscale_lib.laws`' and
:mod:`modscale_lib.law_readout`'s; the verdicts in words are this package's (``contrast_words``,
``claim_verdicts``, ...). Numpy only: the experiment's constants that the chapter needs (the rule's result names,
label and grid) are passed in by the notebook, so that nothing here imports the experiment.
"""

from __future__ import annotations

import numpy as np

from ... import brackets, core, law_readout, laws, methods
from ._verdicts import (
    KERNEL,
    NAMES,
    ONLINE,
    STORED,
    TEXTS,
    claim_verdicts,
    contrasts,
    partition_stored,
    regime_glues,
    regime_table,
)

__all__ = ["MAX_M", "LEARNER_KEYS", "measurements", "conclusions", "stopping_columns", "choice_rates", "pick"]

#: The largest input dimension of the simulations and predictions (the networks' searches stop there).
MAX_M = 64
#: The chapter's short key of each learner (its glued names end in it), and the label of each but the rule's.
LEARNER_KEYS = {
    "rf": methods.RANDOM_FEATURES,
    "mlp": methods.MONOLITHIC,
    "random": methods.RANDOM,
    "oracle": methods.ORACLE,
    "rule": None,
}
#: The keys of :func:`measurements`' dict.
MEASURED = (
    "stored",
    "missing",
    "waiting",
    "studies",
    "searches",
    "cfg0",
    "labels",
    "rule_label",
    "rule_min_samples",
    "rule_n_min",
    "n_ridges",
    "decided",
    "decided2",
    "tasks",
    "learners",
    "n_star",
    "censoring",
    "fits",
    "stopping",
    "shares",
    "ridge",
    "seed_sd",
    "coverage",
    "predicted",
    "predicted2",
    "pred_rows",
    "theory",
    "regime_rows",
    "contrasts",
)


def _measured(value, name: str, arguments=None) -> dict:
    if not isinstance(value, dict) or any(k not in value for k in MEASURED):
        raise ValueError(f"{name} must be the dict of measurements(...) (with the keys {MEASURED[:3]}, ...)")
    return value


MEASURED_RULE = core.Check(_measured)


def _studies(*keys: str, methods_held: tuple = ()) -> core.Rule:
    """``{name: (config, result)}`` with at least one entry, each config with the attributes ``keys`` and
    the first one's ``methods`` holding ``methods_held``."""

    def check(value, name, arguments):
        STORED(value, name, arguments)
        if not value:
            raise ValueError(f"{name} must hold at least one (config, result) pair, got an empty dict")
        for key, (cfg, _) in value.items():
            law_readout.CONFIG(*keys)(cfg, f"{name}[{key!r}] config")
        first = next(iter(value.values()))[0]
        if methods_held and not set(methods_held) <= set(first.methods):
            raise ValueError(f"{name}: the first study's methods must hold {methods_held}, got {first.methods}")
        return value

    return core.Check(check)


@core.validated(
    stored=STORED,
    missing=NAMES,
    searches=STORED,
    rule_configs=TEXTS,
    rule_label=core.Choice(methods.ALL),
    rule_min_samples=core.Whole(1, 10**6),
    rule_i_min=core.Whole(0, 64),
    n_ridges=core.Whole(1, 1000),
)
def measurements(
    stored: dict,
    missing: dict,
    searches: dict,
    *,
    rule_configs,
    rule_label: str,
    rule_min_samples: int,
    rule_i_min: int,
    n_ridges: int,
) -> dict:
    """What the chapter measures, computed once (seconds: the coverage simulation is the longest part).

    stored : ``{name: (config, result)}`` of the stored ``scaling_law`` results (``load_stored``'s first
    value), missing : ``{name: command}`` of those not computed yet, searches : ``{name: (config, result)}`` of
    the ``scaling_law_capacity`` search of each study. rule_configs : the names of the learned rule's results,
    rule_label : its method label, rule_min_samples : the fewest samples it takes, rule_i_min : the first grid
    index of its searches, n_ridges : the ridges random features choose among. Returns a dict with the keys of
    ``MEASURED``: the partition of :func:`partition_stored`, the decisions at the main and secondary
    target (``decided``, ``decided2``), ``n_star`` and ``censoring`` (task, learner, D, S) of
    :func:`~modscale_lib.law_readout.by_task`, the fitted lines, the stopping table, the choice rates, the
    coverage simulation, the theory's predictions and the paired contrasts."""
    studies, stored, waiting = partition_stored(stored, rule_configs)
    if not studies:
        raise ValueError("stored must hold at least one study (a result that is not the rule's)")
    cfg0 = next(iter(studies.values()))[0]
    target, second = cfg0.targets
    decided, lines = law_readout.decisions(stored, target)
    decided2, _ = law_readout.decisions(stored, second)
    tasks, learners, n_all, c_all = law_readout.by_task(stored, target)
    dims = tuple(m for m in cfg0.m_grid if m <= MAX_M)
    predicted, predicted2 = laws.predictions(target, dims), laws.predictions(second, dims)
    pred_rows = [dict(zip(predicted, r)) for r in zip(*predicted.values())]
    shares, ridge = choice_rates(studies, n_ridges)
    scatter = law_readout.seed_sd(n_all, c_all)
    paired = contrasts(stored, target, methods.MONOLITHIC, (methods.RANDOM, rule_label))
    return {
        **{"stored": stored, "missing": missing, "waiting": waiting, "studies": studies, "searches": searches},
        **{"cfg0": cfg0, "labels": list(next(iter(studies.values()))[1]["method_labels"])},
        **{"rule_label": rule_label, "rule_min_samples": rule_min_samples, "rule_n_min": brackets.grid_n(rule_i_min)},
        **{"n_ridges": n_ridges, "decided": decided, "decided2": decided2, "tasks": tasks, "learners": learners},
        "n_star": n_all,
        "censoring": c_all,
        "fits": {k: {i: lines.get((t, lab)) for i, lab in enumerate(learners)} for k, t in enumerate(tasks)},
        "stopping": stopping_columns(stored, studies),
        **{"shares": shares, "ridge": ridge, "seed_sd": scatter},
        "coverage": laws.coverage(
            n_seeds=len(cfg0.seeds), input_dims=dims, scatter={"seed_sd": max(scatter, laws.SCATTER["seed_sd"])}
        ),
        **{"predicted": predicted, "predicted2": predicted2, "pred_rows": pred_rows},
        "theory": law_readout.theory_table(decided, predicted),
        "regime_rows": regime_table(decided, pred_rows),
        "contrasts": paired,
    }


@core.validated(stored=_studies("tasks", "steps"), studies=_studies("tasks", "steps"))
def stopping_columns(stored: dict, studies: dict) -> dict:
    """:func:`~modscale_lib.law_readout.stopping_summary` of every result of ``stored``, as one table's columns
    with a ``task`` column first (``"every task"`` for a result of several tasks); ``studies`` gives the columns'
    names where ``stored`` is empty."""
    first = next(iter(studies.values()))
    out = {k: [] for k in ("task",) + tuple(law_readout.stopping_summary(first[1], first[0]))}
    for cfg, res in stored.values():
        rows = law_readout.stopping_summary(res, cfg)
        out["task"] += [cfg.tasks[0] if len(cfg.tasks) == 1 else "every task"] * len(rows["method"])
        for k, v in rows.items():
            out[k] += v
    return out


@core.validated(
    studies=_studies("methods", "mlp_lr_slots", methods_held=("monolithic", "random_features")),
    n_ridges=core.Whole(1, 1000),
)
def choice_rates(studies: dict, n_ridges: int) -> tuple[np.ndarray, np.ndarray]:
    """How often each option was chosen on validation, averaged over the ``studies``: the MLP's step among its
    slots (``cfg.mlp_lr_slots`` of the first study), and random features' ridge among ``n_ridges``. Returns
    ``(mlp shares, ridge shares)``, each adding up to one."""
    cfg0 = next(iter(studies.values()))[0]
    mlp, rf = cfg0.methods.index("monolithic"), cfg0.methods.index("random_features")
    shares = [law_readout.choice_shares(res, mlp, len(cfg.mlp_lr_slots)) for cfg, res in studies.values()]
    ridge = [law_readout.choice_shares(res, rf, n_ridges) for cfg, res in studies.values()]
    return np.mean(shares, axis=0), np.mean(ridge, axis=0)


def _text(value, name: str, arguments=None) -> str:
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a string, got {type(value).__name__}")
    return value


def _prediction_columns(value, name: str, arguments=None) -> dict:
    keys = ("task", "regime")
    if not isinstance(value, dict) or any(k not in value for k in keys):
        raise ValueError(f"{name} must be the columns of laws.predictions (with {keys})")
    return value


@core.validated(
    predicted=core.Check(_prediction_columns),
    family=core.Check(_text),
    regime=core.Check(_text),
    column=core.Check(lambda v, name, a: core.choice(v, name, list(a["predicted"]))),
)
def pick(predicted: dict, family: str, regime: str, column: str):
    """The value of ``column`` in the row of ``predicted`` (the columns of :func:`modscale_lib.laws.predictions`)
    for ``family`` and ``regime``."""
    for f, g, v in zip(predicted["task"], predicted["regime"], predicted[column]):
        if f == family and g == regime:
            return v
    raise ValueError(f"predicted holds no row for the family {family!r} in the regime {regime!r}")


# ---------------------------------------------------------------------------------------------------------
# The values, section by section of the chapter
# ---------------------------------------------------------------------------------------------------------
def _setup_values(measured: dict) -> dict:
    cfg0, (target, second) = measured["cfg0"], measured["cfg0"].targets
    return {
        **{"rf_features": cfg0.rf_features, "n_seeds": len(cfg0.seeds), "target": target, "second": second},
        "n_min": int(cfg0.i_min and 2 ** (cfg0.i_min / 2)),
        "n_max": int(2 ** (cfg0.i_max / 2)),
        **{"n_tasks": len(measured["studies"]), "steps": cfg0.steps, "max_steps": cfg0.max_steps},
        **{"min_delta": cfg0.min_delta, "rule_min": measured["rule_min_samples"]},
        "rule_n_min": measured["rule_n_min"],
    }


def _training_values(measured: dict) -> dict:
    stopping, shares, ridge = measured["stopping"], measured["shares"], measured["ridge"]
    nets = np.array(stopping["networks"])
    return {
        "share_below_cap": float(np.sum(np.array(stopping["share best below cap"]) * nets) / nets.sum()),
        "n_networks": int(nets.sum()),
        "step_at_limit": float(shares[0] + shares[-1]),
        "ridge_edge": float(ridge[0] + ridge[-1]),
    }


def _law_values(measured: dict) -> dict:
    decided, c_all = measured["decided"], measured["censoring"]
    trained = [i for i, lab in enumerate(measured["learners"]) if lab != methods.RANDOM_FEATURES]
    verdicts = [d["law"] for d in decided.values()]
    return {
        "nets_censored_above": f"{int(np.sum(c_all[:, trained] == 'above'))} of "
        f"{int(np.sum(c_all[:, trained] != 'missing'))}",
        **{f"n_{law}": verdicts.count(law) for law in laws.VERDICTS},
        "n_pairs": len(verdicts),
        "confidence": next(iter(decided.values()))["confidence"],
        "figure_takeaway": "; ".join(f"{law}: {verdicts.count(law)}" for law in laws.VERDICTS),
    }


def _coverage_values(measured: dict) -> dict:
    cov = measured["coverage"]
    return {
        "coverage_min": min(min(c.values()) for c in cov["coverage"]["jackknife_t"].values()),
        "seed_sd": measured["seed_sd"],
        "errors": ", ".join(f"{k.replace('_', ' ')} {v:.0%}" for k, v in cov["errors"]["jackknife_t"].items()),
    }


def _theory_values(measured: dict) -> dict:
    predicted, predicted2 = measured["predicted"], measured["predicted2"]
    out = {
        "kernel_range_he": ", ".join(
            f"{pick(predicted, f'He_{k}', KERNEL, 'exponent over the range'):.2f}" for k in (1, 2, 3)
        )
    }
    for family, key in (("sine", "sine"), ("nonseparable", "bump")):
        out[f"ell_{key}_main"] = int(pick(predicted, family, KERNEL, "exponent"))
        out[f"ell_{key}_second"] = int(pick(predicted2, family, KERNEL, "exponent"))
        out[f"kernel_range_{key}"] = pick(predicted, family, KERNEL, "exponent over the range")
        out[f"basis_{key}"] = pick(predicted, family, ONLINE, "basis")
    out["basis_he"] = "; ".join(f"He_{k}: {pick(predicted, f'He_{k}', ONLINE, 'basis')}" for k in (1, 2, 3))
    return out


def _learner_labels(measured: dict) -> dict:
    return {key: label or measured["rule_label"] for key, label in LEARNER_KEYS.items()}


def _claim_values(measured: dict) -> dict:
    decided, theory, tasks = measured["decided"], measured["theory"], measured["tasks"]
    labels = _learner_labels(measured)
    rfi, n_max = measured["learners"].index(methods.RANDOM_FEATURES), 2 ** (measured["cfg0"].i_max / 2)
    n_all, c_all, m_grid = measured["n_star"], measured["censoring"], measured["cfg0"].m_grid
    jumps = {t: law_readout.jump_bound(m_grid, n_all[k, rfi], c_all[k, rfi], n_max) for k, t in enumerate(tasks)}
    return {
        **regime_glues(measured["regime_rows"], labels),
        **{f"verdicts_{key}": law_readout.verdict_list(decided, lab) for key, lab in labels.items()},
        "rf_jump": "; ".join(f"{t}: {j[2]:.1f} from m = {j[0]:.0f} to {j[1]:.0f}" for t, j in jumps.items() if j)
        or "no such step",
        "placement": "; ".join(
            f"{t}, {m}: {a}" for t, m, a in zip(theory["task"], theory["method"], theory["prediction and interval"])
        ),
        **claim_verdicts(measured["contrasts"], decided, measured["pred_rows"]),
    }


def _compute_values(measured: dict) -> dict:
    results = [res for _, res in measured["stored"].values()] + [res for _, res in measured["searches"].values()]
    return {
        "cpu_total": sum(res.metadata["cpu_time_s"] / 60 for res in results),
        "not_computed": ", ".join(f"`{n}`" for n in measured["missing"]) or "none",
    }


_SECTIONS = (
    _setup_values,
    _training_values,
    _law_values,
    _coverage_values,
    _theory_values,
    _claim_values,
    _compute_values,
)


@core.validated(measured=MEASURED_RULE)
def conclusions(measured: dict) -> dict:
    """Every value the chapter glues, ``name -> value`` (numbers, and verdicts as short phrases), from
    ``measured``, the dict of :func:`measurements`.

    The names are those the chapter's markdown cites: the study's settings (``rf_features``, ``n_seeds``,
    ``target``, ``second``, ``n_min``, ``n_max``, ``steps``, ...), how the networks trained (``share_below_cap``,
    ``n_networks``, ``step_at_limit``, ``ridge_edge``), the decisions (``n_power``, ``n_exponential``,
    ``n_flat``, ``n_undecided``, ``n_pairs``, ``confidence``, ``nets_censored_above``), the coverage
    (``coverage_min``, ``seed_sd``, ``errors``), the theory (``kernel_range_*``, ``ell_*``, ``basis_*``), the
    regimes and verdicts per learner (``regimes_*``, ``verdicts_*``, ``rf_jump``, ``placement``), the claim
    (``contrast_verdict``, ``modularity_word``, ``claim_*``) and the compute (``cpu_total``,
    ``not_computed``)."""
    out = {}
    for section in _SECTIONS:
        out.update(section(measured))
    return out
