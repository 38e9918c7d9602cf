"""What the chapter *Finding the modules* shows of its three results: the figures, the HTML tables and the lines
its cells print. Each takes the dict of :func:`~modscale_lib.chapters.finding_modules.recovery`,
:func:`~modscale_lib.chapters.finding_modules.training` or :func:`~modscale_lib.chapters.finding_modules.sensitivity`
and draws or formats what it holds; nothing here computes a measurement."""

from __future__ import annotations

import numpy as np

from ... import analysis, methods, present, reference
from ...store import Result
from .readout import KERNEL

__all__ = [
    "recovery_lines",
    "recovery_table",
    "recovery_figure",
    "training_lines",
    "training_figure",
    "training_table",
    "authors_lines",
    "sensitivity_lines",
    "sensitivity_table",
]


def _read(value, name: str, experiment: str, keys: tuple) -> tuple:
    """The entries ``keys`` of ``value``, checked to be the read-out's dict of the stored ``experiment`` result."""
    if (
        not isinstance(value, dict)
        or not isinstance(value.get("res"), Result)
        or value["res"].experiment != experiment
        or not set(keys) <= set(value)
    ):
        raise ValueError(f"{name} must be the read-out's dict of the stored {experiment} result")
    return tuple(value[k] for k in keys)


def recovery_lines(recovered: dict) -> str:
    """The first experiment's task, seeds and provenance, and the cos² of a random direction with a true one."""
    res, config = _read(recovered, "recovered", "module_recovery", ("res", "config"))
    return (
        f"m = {config.input_dim}, K = {config.n_modules}, n = {config.n_samples}, {len(config.seeds)} task seeds; "
        f"{res.provenance()}\na random direction has cos^2 = 1/m = {1 / config.input_dim:.3f} with a true one, on "
        "average"
    )


def recovery_table(recovered: dict):
    """Per variant and kernel: the mean matched cos² over task seeds with its 95% interval, the shares of seeds
    where both modules were found and where the starts collapsed, and the seconds per run."""
    res, config, summary, ci = _read(recovered, "recovered", "module_recovery", ("res", "config", "summary", "ci"))
    V, Kn = len(config.variants), len(config.kernels)
    columns = {
        "variant": [v for v in config.variants for _ in range(Kn)],
        "kernel": list(config.kernels) * V,
        "matched cos² [95% CI]": [analysis.format_ci(*c, fmt=".3f") for c in zip(*(c.ravel() for c in ci))],
        "both found": summary["both_found"].mean(axis=2).ravel(),
        "collapsed": summary["collapsed"].mean(axis=2).ravel(),
        "s/run": res["seconds"].mean(axis=2).ravel(),
    }
    return present.table(columns, formats={"both found": ".0%", "collapsed": ".0%", "s/run": ".1f"})


def recovery_figure(recovered: dict):
    """Where each start of each variant ends (feature kernel): its ``|cos|`` with the two true modules."""
    res, config = _read(recovered, "recovered", "module_recovery", ("res", "config"))
    return present.recovery_scatter(np.sqrt(res["similarity"][:, config.kernels.index(KERNEL)]), config.variants)


def training_lines(trained: dict) -> str:
    """The training experiment's seeds, steps and provenance."""
    res, config = _read(trained, "trained", "projection_training", ("res", "config"))
    return f"{len(config.seeds)} task seeds, {config.steps} steps; {res.provenance()}"


def training_figure(trained: dict):
    """The similarity of the projections to the true ones over training, per init, beside the authors' scores."""
    res, config = _read(trained, "trained", "projection_training", ("res", "config"))
    return present.projection_training_figure(
        res["steps"], res["score"], res["matched"], config.inits, reference.MODULE_SIMILARITY
    )


def training_table(trained: dict):
    """Per init, the similarity at the start and end of training, the test loss and the rule's CPU seconds."""
    res, config = _read(trained, "trained", "projection_training", ("res", "config"))
    s, c = res["score"], res["matched"]  # (init, seed, record)
    columns = {
        "init": list(config.inits),
        "score start": s[:, :, 0].mean(axis=1),
        "score end": s[:, :, -1].mean(axis=1),
        "cos² start": c[:, :, 0].mean(axis=1),
        "cos² end": c[:, :, -1].mean(axis=1),
        "test loss": res["test_loss"].mean(axis=1),
        "rule CPU s/call": res["init_cpu_seconds"].mean(axis=1),
    }
    caption = (
        "Means over task seeds. The last column: process CPU seconds of the call that chose the projections (none "
        "for random ones), on one thread."
    )
    return present.table(columns, formats={k: ".3f" for k in list(columns)[1:]}, caption=caption)


def authors_lines() -> str:
    """The authors' similarity scores at the start and the end of training, with random and with rule projections."""
    lines = []
    for name in ("baseline", methods.rule("paper")):
        start, end = reference.MODULE_SIMILARITY[name]
        lines.append(f"authors, {name}: score {start:.3f} -> {end:.3f}")
    return "\n".join(lines)


def sensitivity_lines(sensitive: dict) -> str:
    """The sensitivity experiment's seeds and provenance."""
    res, config = _read(sensitive, "sensitive", "rule_sensitivity", ("res", "config"))
    return f"{len(config.seeds)} task seeds per setting; {res.provenance()}"


def sensitivity_table(sensitive: dict):
    """Per setting changed: the mean and worst seed's matched cos², and the seconds and CPU seconds per run."""
    (res,) = _read(sensitive, "sensitive", "rule_sensitivity", ("res",))
    columns = {
        "changed": res["changed"],
        "value": res["value"],
        "matched cos²": res["matched"].mean(axis=1),
        "worst seed": res["matched"].min(axis=1),
        "s/run": res["seconds"].mean(axis=1),
        "CPU s/run": res["cpu_seconds"].mean(axis=1),
    }
    formats = {"matched cos²": ".3f", "worst seed": ".3f", "s/run": ".1f", "CPU s/run": ".1f"}
    return present.table(columns, formats=formats)
