"""The read-out of the chapter *Finding the modules* (``book/finding_modules.ipynb``): every value its prose glues,
from its three stored results, ``module_recovery``, ``projection_training`` and ``rule_sensitivity``.

Each result is read once, in its section, by :func:`recovery`, :func:`training` or :func:`sensitivity` (the
result and its config, checked, with what the chapter reduces it to); :func:`conclusions` turns the three into
``name -> value``, the names that the chapter's markdown cites as ``{glue:text}`name```. Numpy only: the
per-seed summaries are :func:`modscale_lib.analysis.recovery_summary`, the intervals
:func:`modscale_lib.core.bootstrap_ci` and their verdicts :func:`modscale_lib.analysis.compare_ci`.
"""

from __future__ import annotations

import numpy as np

from ... import analysis, core, methods, reference
from ...store import Result, check_result

__all__ = [
    "LEVEL",
    "KERNEL",
    "recovery",
    "training",
    "sensitivity",
    "matched_interval",
    "default_settings",
    "conclusions",
]

#: A true module counts as found when its matched cos² exceeds this (:func:`~modscale_lib.analysis.recovery_summary`).
LEVEL = 0.9
#: The kernel whose searches the prose reads (the rule's default).
KERNEL = "features"


_READERS = {"module_recovery": "recovery", "projection_training": "training", "rule_sensitivity": "sensitivity"}


def _measured(value, name: str, experiment: str) -> dict:
    """``value``, checked to be what :func:`recovery`, :func:`training` or :func:`sensitivity` returned for the
    stored ``experiment`` result."""
    if not isinstance(value, dict) or not isinstance(value.get("res"), Result) or value["res"].experiment != experiment:
        raise ValueError(f"{name} must be {_READERS[experiment]}(res, config) of the stored {experiment} result")
    return value


def recovery(res, config) -> dict:
    """The ``module_recovery`` result ``res`` with its ``config``, reduced: ``summary`` is
    :func:`~modscale_lib.analysis.recovery_summary` of its similarities (each (variant, kernel, seed)), ``ci``
    the mean matched cos² over task seeds with its 95% bootstrap interval (three (variant, kernel) arrays)."""
    check_result(res, config, "module_recovery")
    summary = analysis.recovery_summary(res["similarity"], level=LEVEL)
    ci = tuple(np.asarray(c) for c in core.bootstrap_ci(summary["matched"], axis=2))
    return {"res": res, "config": config, "summary": summary, "ci": ci}


def training(res, config) -> dict:
    """The ``projection_training`` result ``res`` with its ``config``: ``loss_ci`` maps each init to its mean
    test loss over task seeds with the 95% bootstrap interval, ``(mean, low, high)``."""
    check_result(res, config, "projection_training")
    ci = core.bootstrap_ci(res["test_loss"], axis=1)
    return {"res": res, "config": config, "loss_ci": dict(zip(config.inits, zip(*(v.tolist() for v in ci))))}


def default_settings(config) -> dict:
    """The rule's settings that ``rule_sensitivity`` changes one at a time, at their defaults: ``setting ->
    value`` for ``ridge``, ``lr``, ``batch_size``, ``steps``, ``kernel`` and ``patience``, read from the config's
    settings (a setting's default is its value wherever another setting is the one changed)."""
    if isinstance(config, type) or not callable(getattr(config, "settings", None)):
        raise TypeError(f"config must be a RuleSensitivityConfig, got {type(config).__name__}")
    settings = config.settings()
    keys = ("ridge", "lr", "batch_size", "steps", "kernel", "patience")
    return {k: next(s[k] for s in settings if s["changed"] != k) for k in keys}


def sensitivity(res, config) -> dict:
    """The ``rule_sensitivity`` result ``res`` with its ``config``: ``rows`` ``(changed, value)`` per row (values
    as stored, strings), ``default`` the row of the defaults (one run, stored in several rows), ``distinct`` the
    default's row then every row that changes a setting, and ``robust`` ``row -> bool``: whether every seed
    keeps a matched cos² of at least :data:`LEVEL`."""
    check_result(res, config, "rule_sensitivity")
    rows = list(zip(res["changed"], res["value"]))
    base = {k: str(v) for k, v in default_settings(config).items()}
    default = next(i for i, (c, v) in enumerate(rows) if v == base[c])
    distinct = [default] + [i for i, (c, v) in enumerate(rows) if v != base[c]]
    robust = {i: bool(res["matched"][i].min() >= LEVEL) for i in distinct}
    return {"res": res, "config": config, "rows": rows, "default": default, "distinct": distinct, "robust": robust}


def matched_interval(recovered: dict, variant: str, kernel: str = KERNEL) -> tuple[float, float, float]:
    """``(mean, low, high)``: the mean matched cos² of ``variant`` with ``kernel`` over task seeds, with its 95%
    bootstrap interval; ``recovered`` is :func:`recovery`'s dict."""
    recovered = _measured(recovered, "recovered", "module_recovery")
    config = recovered["config"]
    variant = core.choice(variant, "variant", config.variants)
    kernel = core.choice(kernel, "kernel", config.kernels)
    v, k = config.variants.index(variant), config.kernels.index(kernel)
    return tuple(float(c[v, k]) for c in recovered["ci"])


def _settings(rec: dict, sens: dict) -> dict:
    out = {"rule_lr": rec["config"].lr}
    for name, key in (("baseline", "base"), (methods.rule("paper"), "theirs")):
        for when, value in zip(("start", "end"), reference.MODULE_SIMILARITY[name]):
            out[f"{key}_{when}"] = value
    defaults = default_settings(sens["config"])
    for key in ("ridge", "lr", "batch_size", "steps"):
        out[f"default_{key.replace('batch_size', 'batch')}"] = defaults[key]
    return out


def _recovery(rec: dict) -> dict:
    config, summary, sim = rec["config"], rec["summary"], rec["res"]["similarity"]
    f, idx = config.kernels.index(KERNEL), config.variants.index
    out = {}
    for variant in config.variants:
        for key in ("both_found", "collapsed", "none_found"):
            out[f"{variant}_{key}"] = int(summary[key][idx(variant), f].sum())
    paper = idx("paper")
    out["paper_matched"] = float(np.median(summary["matched"][paper, f][~summary["both_found"][paper, f]]))
    seconds = rec["res"]["seconds"][:, f].mean(axis=1)
    out["backfit_cost"] = float(seconds[idx("backfit")] / seconds[idx("deflation")])
    out["n_seeds"] = len(config.seeds)
    out["kernel_spread"] = float(np.ptp(summary["matched"].mean(axis=2), axis=1).max())
    failed = ~summary["both_found"][idx("deflation"), f]  # deflation's failed seeds
    first = sim[idx("deflation"), f, :, :, 0].max(axis=1)  # its first module's best cos²
    out["defl_between"] = int(np.sum(failed & (first < LEVEL)))
    out["defl_failed"] = int(failed.sum())
    out["repaired"] = int(np.sum(failed & summary["both_found"][idx("backfit"), f]))
    out["paper_none_kernels"] = int(np.sum(summary["none_found"][paper].sum(axis=1) > 0))
    for other in ("paper", "deflation"):
        out[f"backfit_vs_{other}"] = analysis.compare_ci(
            matched_interval(rec, "backfit"), matched_interval(rec, other), ".3f", names=("backfit", other)
        )
    return out


def _training(tr: dict) -> dict:
    res, config, loss = tr["res"], tr["config"], tr["loss_ci"]
    matched, test_loss = res["matched"], res["test_loss"]  # (init, seed, record), (init, seed)
    out = {"tr_seeds": len(config.seeds), "tr_steps": config.steps}
    out["stuck"] = int(np.sum(matched[config.inits.index("random"), :, -1] < LEVEL))
    for name, value in zip(config.inits, matched[:, :, 0].mean(axis=1)):  # matched cos² before training
        out[f"start_{name}"] = float(value)
    out["loss_lowest"] = config.inits[int(np.argmin(test_loss.mean(axis=1)))]
    out["loss_least_var"] = config.inits[int(np.argmin(test_loss.std(axis=1)))]
    for a, b in (("backfit", "random"), ("newton", "random"), ("newton", "backfit")):
        out[f"loss_{a}_vs_{b}"] = analysis.compare_ci(loss[a], loss[b], ".3f", names=(a, b))
    for name, value in zip(config.inits, res["init_cpu_seconds"].mean(axis=1)):  # CPU seconds per rule call
        out[f"init_cpu_{name}"] = float(value)
    return out


def _sensitivity(sens: dict, rec: dict) -> dict:
    res, config, rows, d, robust = (sens[k] for k in ("res", "config", "rows", "default", "robust"))
    cpu = res["cpu_seconds"].mean(axis=1)
    out = {"sens_ok": sum(robust.values()), "sens_total": len(sens["distinct"])}
    out["sens_fail"] = ", ".join(f"{rows[i][0]} = {rows[i][1]}" for i, ok in robust.items() if not ok) or "none"
    for name, values in (
        ("ridge", config.ridges),
        ("lr", config.lrs),
        ("batch", config.batch_sizes),
        ("steps", config.steps_list),
    ):
        out[f"{name}_lo"], out[f"{name}_hi"] = min(values), max(values)
    backfit = rec["summary"]["matched"][rec["config"].variants.index("backfit")]  # (kernel, seed)
    out["kernels_ok"] = int(np.sum(backfit.min(axis=1) >= LEVEL))
    out["n_kernels"] = len(rec["config"].kernels)
    p = rows.index(("patience", str(config.patiences[0])))
    out["pat"] = config.patiences[0]
    out["pat_time"] = float(cpu[p] / cpu[d])
    out["pat_worst"] = float(res["matched"][p].min())
    out["default_worst"] = float(res["matched"][d].min())
    return out


def conclusions(recovered: dict, trained: dict, sensitive: dict) -> dict:
    """Every value the chapter glues, ``name -> value`` (numbers, counts of seeds, and verdicts as short phrases
    written by :func:`~modscale_lib.analysis.compare_ci`), from :func:`recovery`, :func:`training` and
    :func:`sensitivity` of the three stored results.

    The names are those the chapter's markdown cites: the settings (``rule_lr``, ``default_*``), the sizes
    (``rec_*``, ``tr_width``, ``tr_batch``) and the authors'
    similarity scores (``base_*``, ``theirs_*``); per variant of the first experiment, the seeds where both
    modules were found, where the starts collapsed, where none was found (``<variant>_both_found``, ...), with
    deflation's failures and backfitting's repairs (``defl_*``, ``repaired``) and the comparisons
    ``backfit_vs_*``; the training experiment (``tr_*``, ``stuck``, ``start_*``, ``loss_*``, ``init_cpu_*``); and
    the sensitivity (``sens_*``, the grids' ends ``*_lo``/``*_hi``, ``kernels_ok``, ``pat*``, ``default_worst``).
    """
    rec = _measured(recovered, "recovered", "module_recovery")
    tr = _measured(trained, "trained", "projection_training")
    sens = _measured(sensitive, "sensitive", "rule_sensitivity")
    return {**_settings(rec, sens), **_sizes(rec, tr), **_recovery(rec), **_training(tr), **_sensitivity(sens, rec)}


def _sizes(rec: dict, tr: dict) -> dict:
    """The two experiments' sizes, as their configs hold them (``rec_*``: the recovery study's task and search;
    ``tr_width``, ``tr_batch``: the trained modules and their minibatches)."""
    c, t = rec["config"], tr["config"]
    return {
        "rec_m": c.input_dim,
        "rec_K": c.n_modules,
        "rec_n": c.n_samples,
        "rec_steps": c.steps,
        "rec_batch": c.batch_size,
        "rec_ridge": c.ridge,
        "tr_width": t.width,
        "tr_batch": t.batch_size,
    }
