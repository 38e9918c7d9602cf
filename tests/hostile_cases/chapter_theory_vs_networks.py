"""Hostile cases of the package of *Theory meets trained networks* (``modscale_lib.chapters.theory_vs_networks``),
whose ``conclusions`` takes the stored result and its config and refuses anything else before computing (the
analysis it calls has its cases in ``laws.py``)."""

from __future__ import annotations

import functools

#: Public names of this chapter's package without a case yet (the coverage test in test_hostile.py reads it):
#: the functions between the measurements and the conclusions, and the figures, each of which takes the
#: measurements that ``measurements`` returns.
NOT_YET: dict[str, list[str]] = {
    "chapters.theory_vs_networks": [
        "authors_lines",
        "calibration_lines",
        "height_lines",
        "interpolated_shares",
        "interpolation_lines",
        "interval_side",
        "location_coverage_table",
        "modular_m_lines",
        "modular_m_ratios",
        "noise_excess_lines",
        "noise_excess_ratios",
        "over_parameterised",
        "over_parameterised_lines",
        "panels_figure",
        "peak_heights",
        "peak_lines",
        "peak_location_table",
        "peak_prominence_table",
        "peaked_curves",
        "prominence_coverage_table",
        "ratio_coverage_lines",
        "ratio_table",
        "rms_by_panel",
        "rms_lines",
        "small_n_lines",
        "small_n_ratios",
        "sweep_lines",
        "theory_side",
        "trend_table",
        "variance_lines",
    ]
}


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
