"""Hostile cases of the package of *Finding the modules* (``modscale_lib.chapters.finding_modules``), whose
``recovery``, ``training`` and ``sensitivity`` each take one stored result and its config and refuse anything else
before computing, and whose other functions take what those return and refuse anything else (the summary they
read has its cases in ``measure.py``)."""

from __future__ import annotations

import functools

#: Public names of this chapter's package without a case yet (the coverage test in test_hostile.py reads it).
NOT_YET: dict[str, list[str]] = {}


@functools.cache
def _stored(name: str):
    """The stored result of the experiment ``name``, its config and the chapter's read of it, once."""
    from modscale_lib import experiments, store
    from modscale_lib.chapters import finding_modules as chapter

    exp = getattr(experiments, name)
    config = store.chapter_config(exp)
    res = store.load_or_run(exp, config, mode="read")
    read = {"module_recovery": chapter.recovery, "projection_training": chapter.training}.get(name, chapter.sensitivity)
    return res, config, read(res, config)


def register(bad, good) -> None:
    """Add this group's cases with ``bad(module, function, parameter, values, call)`` and ``good(...)``."""
    import dataclasses

    import numpy as np

    from modscale_lib import experiments
    from modscale_lib.chapters import finding_modules as chapter

    M = "chapters.finding_modules"
    readers = (
        (chapter.recovery, "module_recovery", experiments.ModuleRecoveryConfig),
        (chapter.training, "projection_training", experiments.ProjectionTrainingConfig),
        (chapter.sensitivity, "rule_sensitivity", experiments.RuleSensitivityConfig),
    )
    for func, name, kind in readers:
        f = func.__name__
        bad(M, f, "res", [None, {}, np.ones(3), name], lambda v, fn=func, n=name: fn(v, _stored(n)[1]))
        other = "rule_sensitivity" if name != "rule_sensitivity" else "module_recovery"
        bad(
            M,
            f,
            "res",
            [other],
            lambda v, fn=func, n=name: fn(dataclasses.replace(_stored(n)[0], experiment=v), _stored(n)[1]),
        )
        bad(M, f, "config", [None, {}, kind.tiny(), kind], lambda v, fn=func, n=name: fn(_stored(n)[0], v))
        good(M, f, "stored", lambda fn=func, n=name: len(fn(*_stored(n)[:2])))

    rec, tr, sens = (
        (lambda: _stored("module_recovery")[2]),
        (lambda: _stored("projection_training")[2]),
        (lambda: _stored("rule_sensitivity")[2]),
    )
    not_read = [None, {}, {"res": None}, [1, 2]]
    bad(M, "conclusions", "recovered", not_read, lambda v: chapter.conclusions(v, tr(), sens()))
    bad(M, "conclusions", "trained", not_read, lambda v: chapter.conclusions(rec(), v, sens()))
    bad(M, "conclusions", "sensitive", not_read, lambda v: chapter.conclusions(rec(), tr(), v))
    bad(M, "conclusions", "trained", ["recovered"], lambda v: chapter.conclusions(rec(), rec(), sens()))
    good(M, "conclusions", "stored", lambda: len(chapter.conclusions(rec(), tr(), sens())))

    bad(M, "matched_interval", "recovered", not_read, lambda v: chapter.matched_interval(v, "paper"))
    bad(M, "matched_interval", "variant", ["newton", None, 3], lambda v: chapter.matched_interval(rec(), v))
    bad(M, "matched_interval", "kernel", ["laplace", None], lambda v: chapter.matched_interval(rec(), "paper", v))
    good(M, "matched_interval", "rbf", lambda: chapter.matched_interval(rec(), "backfit", "rbf"))
    bad(
        M,
        "default_settings",
        "config",
        [None, {}, experiments.RuleSensitivityConfig, experiments.ModuleRecoveryConfig.cpu()],
        lambda v: chapter.default_settings(v),
    )
    good(M, "default_settings", "cpu", lambda: len(chapter.default_settings(experiments.RuleSensitivityConfig.cpu())))

    for func, name in (
        (chapter.recovery_lines, "recovered"),
        (chapter.recovery_table, "recovered"),
        (chapter.recovery_figure, "recovered"),
        (chapter.training_lines, "trained"),
        (chapter.training_figure, "trained"),
        (chapter.training_table, "trained"),
        (chapter.sensitivity_lines, "sensitive"),
        (chapter.sensitivity_table, "sensitive"),
    ):
        bad(M, func.__name__, name, not_read, lambda v, fn=func: fn(v))
    bad(M, "recovery_table", "recovered", ["trained"], lambda v: chapter.recovery_table(tr()))
    good(M, "authors_lines", "reference", lambda: len(chapter.authors_lines()))
