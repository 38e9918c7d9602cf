"""Hostile cases of the chapters' own packages (``modscale_lib.chapters``): so far the read-out of *Theory meets
trained networks*, whose ``conclusions`` takes the stored result and its config and refuses anything else before
computing (the analysis it calls has its cases in ``laws.py``)."""

from __future__ import annotations

import functools

#: Public names of these modules without a case yet (the coverage test in test_hostile.py reads it; the package
#: ``chapters`` itself exports none, and each chapter's read-out has its cases below).
NOT_YET: dict[str, list[str]] = {}


@functools.cache
def _stored():
    """The stored ``network_theory`` result and its config, read once, when a case needs them."""
    from modscale_lib import experiments, store

    config = store.chapter_config(experiments.network_theory)
    return store.load_or_run(experiments.network_theory, config, mode="read"), config


def register(bad, good) -> None:
    """Add this group's cases with ``bad(module, function, parameter, values, call)`` and ``good(...)``."""
    import dataclasses

    import numpy as np

    from modscale_lib import experiments
    from modscale_lib.chapters import theory_vs_networks as tvn

    M = "chapters.theory_vs_networks"
    config = experiments.NetworkTheoryConfig.cpu()
    # not a stored result, or the stored result of another experiment: refused before any computation
    bad(M, "conclusions", "res", [None, {}, np.ones(3), "network_theory"], lambda v: tvn.conclusions(v, config))
    bad(
        M,
        "conclusions",
        "res",
        ["sample_complexity"],
        lambda v: tvn.conclusions(dataclasses.replace(_stored()[0], experiment=v), config),
    )
    # a config that is not the one the result was computed with
    tiny = experiments.NetworkTheoryConfig.tiny()
    bad(
        M,
        "conclusions",
        "config",
        [None, {}, tiny, experiments.NetworkTheoryConfig],
        lambda v: tvn.conclusions(_stored()[0], v),
    )
    bad(M, "conclusions", "measured", [{}, {"res": None}], lambda v: tvn.conclusions(*_stored(), measured=v))
    bad(
        M, "measurements", "n_reps", [0, 2.5, -1, float("nan"), 10**9], lambda v: tvn.measurements(*_stored(), n_reps=v)
    )
    bad(M, "measurements", "band", [float("nan"), 0.0, 1.5, "x"], lambda v: tvn.measurements(*_stored(), band=v))
    bad(M, "variance_draws", "n_samples", [0, 10**12, 2.5], lambda v: tvn.variance_draws(n_samples=v))
