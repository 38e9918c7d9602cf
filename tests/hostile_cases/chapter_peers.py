"""Hostile cases of the package of *How classic dimension reduction compares* (``modscale_lib.chapters.peers``),
whose ``measurements`` and ``conclusions`` take the stored result and its config and refuse anything else before
computing, and whose other functions take the measurements and refuse anything else (the summary they read has
its cases in ``measure.py``)."""

from __future__ import annotations

import functools

#: Public names of this chapter's package without a case yet (the coverage test in test_hostile.py reads it).
NOT_YET: dict[str, list[str]] = {}


@functools.cache
def _stored():
    """The stored ``peer_comparison`` result, its config and the chapter's measurements, read once."""
    from modscale_lib import experiments, store
    from modscale_lib.chapters import peers as chapter

    config = store.chapter_config(experiments.peer_comparison)
    res = store.load_or_run(experiments.peer_comparison, config, mode="read")
    return res, config, chapter.measurements(res, config)


def register(bad, good) -> None:
    """Add this group's cases with ``bad(module, function, parameter, values, call)`` and ``good(...)``."""
    import dataclasses

    import numpy as np

    from modscale_lib import experiments
    from modscale_lib.chapters import peers as chapter

    M = "chapters.peers"
    config = experiments.PeerComparisonConfig.cpu()
    not_res = [None, {}, np.ones(3), "peer_comparison"]
    for func in (chapter.measurements, chapter.conclusions):
        bad(M, func.__name__, "res", not_res, lambda v, f=func: f(v, config))
        bad(
            M,
            func.__name__,
            "res",
            ["network_theory"],
            lambda v, f=func: f(dataclasses.replace(_stored()[0], experiment=v), config),
        )
        # a config that is not the one the result was computed with
        tiny = experiments.PeerComparisonConfig.tiny()
        bad(
            M,
            func.__name__,
            "config",
            [None, {}, tiny, experiments.PeerComparisonConfig],
            lambda v, f=func: f(_stored()[0], v),
        )
    bad(M, "conclusions", "measured", [{}, {"res": None}], lambda v: chapter.conclusions(*_stored()[:2], measured=v))
    good(M, "conclusions", "stored", lambda: len(chapter.conclusions(*_stored()[:2], measured=_stored()[2])))

    not_measured = [None, {}, {"res": None}, [1, 2], {"summary": {}}]
    takes_measured = [
        chapter.checked,
        chapter.group_costs,
        chapter.best_and_ties,
        chapter.ahead,
        chapter.setup_lines,
        chapter.task_labels,
        chapter.task_table,
        chapter.dimension_lines,
        chapter.samples_figure,
        chapter.cost_table,
        chapter.best_table,
        chapter.ahead_lines,
    ]
    for func in takes_measured:
        bad(M, func.__name__, "measured", not_measured, lambda v, f=func: f(v))
    good(M, "group_costs", "stored", lambda: chapter.group_costs(_stored()[2])["moment"])

    def at(**kw):
        args = dict(quantity="union", task=0, n=0, name="sir", **kw)
        return lambda v: chapter.interval(_stored()[2], **{**args, **v})

    bad(M, "interval", "quantity", [{"quantity": q} for q in ("loss", None, 3)], at())
    bad(M, "interval", "task", [{"task": t} for t in (3, -4, 0.5, True, "0")], at())
    bad(M, "interval", "n", [{"n": n} for n in (3, -4, 1.5, None)], at())
    bad(M, "interval", "name", [{"name": x} for x in ("oracle", "lasso", None)], at())
    bad(M, "interval", "measured", not_measured, lambda v: chapter.interval(v, "union", 0, 0, "sir"))
    good(M, "interval", "test loss of the oracle", lambda: chapter.interval(_stored()[2], "test_loss", 0, -1, "oracle"))
    bad(
        M,
        "best_in_group",
        "group",
        ["neural", None, "sir"],
        lambda v: chapter.best_in_group(_stored()[2], "union", 0, 0, v),
    )
    bad(M, "versus", "a", ["neural", None], lambda v: chapter.versus(_stored()[2], "union", 0, 0, v, "moment"))
    bad(M, "versus", "b", ["lasso", 3], lambda v: chapter.versus(_stored()[2], "union", 0, 0, "grouped", v))
    bad(
        M,
        "versus",
        "fmt",
        ["%d", 3, "q"],
        lambda v: chapter.versus(_stored()[2], "union", 0, 0, "grouped", "moment", v),
    )
    good(M, "versus", "stored", lambda: chapter.versus(_stored()[2], "grouped", -1, -1, "newton", "grouped"))
    for n_name in ("task", "n"):
        values = [3, -4, 2.5, "x"] if n_name == "task" else [3, -4, 1.5, None]
        bad(
            M,
            "peer_table",
            n_name,
            values,
            lambda v, k=n_name: chapter.peer_table(_stored()[2], **{"task": 0, "n": 0, k: v}),
        )
    bad(M, "peer_table", "measured", not_measured, lambda v: chapter.peer_table(v, 0, 0))
