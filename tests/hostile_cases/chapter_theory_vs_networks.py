"""Hostile cases of the package of *Theory meets trained networks* (``modscale_lib.chapters.theory_vs_networks``),
whose ``conclusions`` takes the stored result and its config and refuses anything else before computing (the
analysis it calls has its cases in ``laws.py``)."""

from __future__ import annotations

import functools

#: Public names of this chapter's package without a case yet (the coverage test in test_hostile.py reads it): none.
NOT_YET: dict[str, list[str]] = {}

#: The read-out's functions and the figures, tables and printed lines that take ``measured`` alone.
SHOWN = (
    "rms_by_panel",
    "interpolated_shares",
    "peaked_curves",
    "noise_excess_ratios",
    "peak_heights",
    "modular_m_ratios",
    "small_n_ratios",
    "over_parameterised",
    "peak_location_table",
    "peak_prominence_table",
    "prominence_coverage_table",
    "location_coverage_table",
    "ratio_table",
    "trend_table",
    "variance_lines",
    "calibration_lines",
    "rms_lines",
    "interpolation_lines",
    "peak_lines",
    "noise_excess_lines",
    "height_lines",
    "modular_m_lines",
    "ratio_coverage_lines",
    "small_n_lines",
    "authors_lines",
    "over_parameterised_lines",
)


@functools.cache
def _stored():
    """The stored ``network_theory`` result and its config, read once, when a case needs them."""
    from modscale_lib import experiments, store

    config = store.chapter_config(experiments.network_theory)
    return store.load_or_run(experiments.network_theory, config, mode="read"), config


def _standin(**changes) -> dict:
    """A stand-in for the measurements of the stored result: its ``res`` and ``config``, and each dict keyed as
    the measurements' are (written out here from the config, independently of the read-out), with values of no
    use to a computation; ``changes`` replaces entries. It passes ``check_measured``, so that a case reaches
    the checks of the other parameters without the minute that the real measurements take."""
    import itertools

    res, config = _stored()
    archs, protocols, noises = config.archs, config.protocols, range(len(config.noises))
    curves = [(a, pr, pa, j) for a, pr, pa in itertools.product(archs, protocols, "pn") for j in noises]
    ratios = [(a, pr, pa, j) for a, pr, pa in itertools.product(archs, protocols, "km") for j in noises]
    keyed = lambda keys: dict.fromkeys(keys)  # noqa: E731
    out = {
        "res": res,
        "config": config,
        "band": 0.3,
        "data": keyed(itertools.product(archs, protocols, "kmpn")),
        "fits": keyed(archs),
        "free": keyed(archs),
        "curves": curves,
        "peaks": keyed(curves),
        "excess": keyed(curves),
        "coverage": keyed(curves),
        "ratios": keyed(ratios),
        "ratio_coverage": {},
        "variance_draws": [],
    }
    return {**out, **changes}


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
    # below ratio_coverage's range: refused at once, not after the minute of peak simulations
    bad(M, "measurements", "n_permutations", [5, 0], lambda v: tvn.measurements(*_stored(), n_permutations=v))

    # the measurements: anything but the dict of measurements(res, config) is refused before any computation
    not_measured = [None, {}, 3, [1], {"res": 1}, dict.fromkeys(tvn.readout.MEASURED_KEYS)]
    bad(M, "check_measured", "measured", not_measured, tvn.check_measured)
    good(M, "check_measured", "a stand-in keyed as the measurements", lambda: tvn.check_measured(_standin()))
    for name in SHOWN:
        bad(M, name, "measured", not_measured, getattr(tvn, name))
    bad(M, "panels_figure", "measured", not_measured, lambda v: tvn.panels_figure(v, "modular", "decaying"))
    # the measurements of another result, or of the stored one with an entry missing or out of shape
    nan, tiny_res = float("nan"), dataclasses.replace(_stored()[0], experiment="sample_complexity")
    changes = [
        {"res": "tiny"},
        {"config": tiny},
        {"band": nan},
        {"curves": []},
        {"curves": "pn"},
        {"data": {}},
        {"fits": {"modular": None}},
        {"coverage": None},
        {"ratios": {}},
        {"ratio_coverage": None},
    ]

    def changed(change):
        return _standin(**{k: tiny_res if v == "tiny" else v for k, v in change.items()})

    bad(M, "check_measured", "measured", changes, lambda v: tvn.check_measured(changed(v)))
    bad(M, "rms_lines", "measured", changes[:3], lambda v: tvn.rms_lines(changed(v)))
    bad(M, "conclusions", "measured", changes[3:6], lambda v: tvn.conclusions(*_stored(), measured=changed(v)))

    # the other parameters, checked against the config of the measurements (a stand-in that passes their check)
    for name in ("panels_figure", "noise_excess_lines"):
        f = getattr(tvn, name)
        bad(M, name, "arch", ["transformer", None, 3, ""], lambda v, f=f: f(_standin(), v, "decaying"))
        bad(M, name, "protocol", ["sgd", None, ("decaying",)], lambda v, f=f: f(_standin(), "modular", v))
    bad(
        M,
        "over_parameterised",
        "factor",
        [0.0, -1.0, nan, float("inf"), "4"],
        lambda v: tvn.over_parameterised(_standin(), v),
    )

    # intervals (estimate, low, high) of finite numbers with low <= high
    intervals = [None, (1.0, 2.0), "abc", (1.0, nan, 2.0), (1.0, 0.5, float("inf")), (1.0, 2.0, 0.5), np.ones((3, 2))]
    bad(M, "interval_side", "interval", intervals, tvn.interval_side)
    good(M, "interval_side", "an interval above one", lambda: tvn.interval_side((1.3, 1.1, 1.6)))
    good(M, "interval_side", "an array, one at a bound", lambda: tvn.interval_side(np.array([0.9, 0.8, 1.0])))
    bad(M, "theory_side", "interval", intervals, lambda v: tvn.theory_side(1.0, v))
    bad(M, "theory_side", "value", [nan, None, "1", float("inf")], lambda v: tvn.theory_side(v, (1.0, 0.5, 2.0)))
    good(M, "theory_side", "a value at the lower bound", lambda: tvn.theory_side(0.5, [1.0, 0.5, 2.0]))

    # the stored result and its config
    bad(M, "sweep_lines", "res", [None, {}, np.ones(3), "network_theory"], lambda v: tvn.sweep_lines(v, config))
    bad(M, "sweep_lines", "res", [tiny_res], lambda v: tvn.sweep_lines(v, _stored()[1]))
    bad(
        M,
        "sweep_lines",
        "config",
        [None, tiny, experiments.NetworkTheoryConfig],
        lambda v: tvn.sweep_lines(_stored()[0], v),
    )
    good(M, "sweep_lines", "the stored result", lambda: tvn.sweep_lines(*_stored()))
