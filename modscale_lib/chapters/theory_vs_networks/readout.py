"""The read-out of the chapter *Theory meets trained networks* (``book/theory_vs_networks.ipynb``): every value its
prose glues, from the stored ``network_theory`` result.

:func:`measurements` computes once what the chapter measures (the panels, the theory calibrated on one of them,
the peaks with their coverage, the coverage of the ratio intervals); :func:`conclusions` turns it into ``name ->
value``, the names that the chapter's markdown cites as ``{glue:text}`name```. The functions between them read one
section's quantity each, for the conclusions and for the printed lines of
:mod:`modscale_lib.chapters.theory_vs_networks.figures`. Losses are in units of ``Var(y)``, as in
:mod:`modscale_lib.theory_fit`. Numpy only: the analysis is that of :mod:`modscale_lib.theory_fit` and
:mod:`modscale_lib.theory_peaks`.
"""

from __future__ import annotations

import itertools

import numpy as np

from ... import core, reference, tasks, theory_fit, theory_peaks
from ...store import check_result

__all__ = [
    "BAND",
    "FIT_PROTOCOL",
    "COVERAGE_QUANTITIES",
    "measurements",
    "check_measured",
    "conclusions",
    "variance_draws",
    "rms_by_panel",
    "interpolated_shares",
    "peaked_curves",
    "noise_excess_ratios",
    "peak_heights",
    "modular_m_ratios",
    "small_n_ratios",
    "over_parameterised",
    "interval_side",
    "theory_side",
]

#: Points within ``BAND * p`` of ``n = p`` are left out of the calibration (the theory diverges there).
BAND = 0.3
#: The protocol whose ``n`` panel calibrates the theory's exponent (the fit the theory describes).
FIT_PROTOCOL = "interpolating"
#: The panels of a peak (``p`` and ``n``) and of a ratio from the first to the last value (``k`` and ``m``).
PEAK_PANELS, RATIO_PANELS = ("p", "n"), ("k", "m")
#: The coverages of :func:`modscale_lib.theory_peaks.peak_coverage` that the chapter reports.
COVERAGE_QUANTITIES = ("prominence_jackknife_t", "prominence_percentile", "location", "excess_coverage")
#: The interval columns of :func:`modscale_lib.theory_fit.end_ratios` (each ``(estimate, low, high)``).
RATIO_STATS = ("test", "train", "trend")
_CI = ("", "_lo", "_hi")
#: The keys of the dict that :func:`measurements` returns.
MEASURED_KEYS = (
    "res",
    "config",
    "band",
    "data",
    "fits",
    "free",
    "curves",
    "peaks",
    "excess",
    "coverage",
    "ratios",
    "ratio_coverage",
    "variance_draws",
)


def _check(res, config) -> None:
    """Refuse anything but the stored ``network_theory`` result and the config it was computed with."""
    check_result(res, config, "network_theory")


def _layout(config) -> dict:
    """The keys that each dict of :func:`measurements` holds for ``config``, in order: ``data`` per architecture,
    protocol and panel; ``fits`` (and ``free``) per architecture; ``curves`` (and ``peaks``, ``excess``,
    ``coverage``) per ``p`` and ``n`` curve; ``ratios`` per line of the ``k`` and ``m`` panels."""
    archs, protocols, noises = config.archs, config.protocols, range(len(config.noises))
    return {
        "data": list(itertools.product(archs, protocols, "kmpn")),
        "fits": list(archs),
        "curves": [(*k, j) for k in itertools.product(archs, protocols, PEAK_PANELS) for j in noises],
        "ratios": [(*k, j) for k in itertools.product(archs, protocols, RATIO_PANELS) for j in noises],
    }


def _measured(value, name: str, arguments=None) -> dict:
    """The check of :func:`check_measured`, as a rule of :func:`modscale_lib.core.validated`."""
    if not isinstance(value, dict):
        raise TypeError(f"{name} must be the dict that measurements(res, config) returns, got {type(value).__name__}")
    missing = [k for k in MEASURED_KEYS if k not in value]
    if missing:
        raise ValueError(f"{name} must be the dict that measurements(res, config) returns; it lacks {missing}")
    try:
        _check(value["res"], value["config"])
    except (TypeError, ValueError) as exc:
        # a dict, so its type is right: what it holds is not the measurements
        raise ValueError(f"{name} must hold the stored network_theory result and its config: {exc}") from None
    core.real(value["band"], f"{name}['band']", low=0.0, high=1.0, low_open=True, high_open=True)
    layout = _layout(value["config"])
    if not isinstance(value["curves"], list) or value["curves"] != layout["curves"]:
        raise ValueError(f"{name}['curves'] must list the config's p and n curves, (arch, protocol, panel, noise)")
    held = {"fits": "fits", "free": "fits", "peaks": "curves", "excess": "curves", "coverage": "curves"}
    for key, of in (("data", "data"), *held.items(), ("ratios", "ratios")):
        if not isinstance(value[key], dict) or not set(layout[of]) <= set(value[key]):
            raise ValueError(f"{name}[{key!r}] must be a dict with an entry per {of} key of the config")
    if not isinstance(value["ratio_coverage"], dict) or not isinstance(value["variance_draws"], list):
        raise ValueError(f"{name}['ratio_coverage'] and {name}['variance_draws'] must be a dict and a list")
    return value


#: The rule of every public function that takes the measurements.
MEASURED_RULE = core.Check(_measured)


def _of_config(field: str) -> core.Rule:
    """A rule: one of ``measured["config"].<field>``, the measurements being checked before it."""
    return core.Check(
        lambda value, name, arguments: core.choice(value, name, getattr(arguments["measured"]["config"], field))
    )


#: The rules of an architecture and of a protocol of the measured config.
ARCH_RULE, PROTOCOL_RULE = _of_config("archs"), _of_config("protocols")


def _interval(value, name: str, arguments=None):
    """An interval ``(estimate, low, high)`` of finite numbers with ``low <= high``, returned as given."""
    if isinstance(value, (str, bytes)) or not isinstance(value, (tuple, list, np.ndarray)) or len(value) != 3:
        raise TypeError(f"{name} must be an interval (estimate, low, high), got {value!r}"[:200])
    _, low, high = (core.real(v, f"{name}[{i}]") for i, v in enumerate(value))
    if low > high:
        raise ValueError(f"{name} must have low <= high, got [{low}, {high}]")
    return value


def check_measured(measured) -> dict:
    """``measured`` itself if it is what :func:`measurements` returns, else a TypeError or ValueError naming it,
    before any computation: a dict with every key of ``MEASURED_KEYS``, of the stored ``network_theory``
    result and its config, with an entry for every panel, architecture, curve and line of that config."""
    return _measured(measured, "measured")


def measurements(res, config, *, band: float = BAND, n_reps: int = 100, n_permutations: int = 200) -> dict:
    """What the chapter measures, computed once (about a minute on one core: the coverage simulations).

    ``res`` is the stored ``network_theory`` result and ``config`` its ``NetworkTheoryConfig``; ``band`` the
    share of ``p`` around ``n = p`` left out of the calibration; ``n_reps`` the synthetic experiments per curve
    of :func:`~modscale_lib.theory_peaks.peak_coverage`, ``n_permutations`` those of
    :func:`~modscale_lib.theory_fit.ratio_coverage`. Returns a dict:

    - ``res``, ``config``, ``band``: the inputs;
    - ``data``: ``(arch, protocol, panel) -> theory_fit.panel_data(...)`` for every architecture, protocol and
      panel ``k``, ``m``, ``p``, ``n``;
    - ``fits``, ``free``: ``arch -> theory_fit.calibrate(...)`` on the ``n`` panel of :data:`FIT_PROTOCOL`, with
      ``c = 1`` (the task's variance) and with ``c`` free;
    - ``curves``: ``(arch, protocol, panel, noise_index)`` of every ``p`` and ``n`` curve, in order;
    - ``peaks``, ``excess``, ``coverage``: ``curve -> locate_peak``, ``peak_excess``, ``peak_coverage``;
    - ``ratios``: ``(arch, protocol, panel, noise_index) -> theory_fit.end_ratios(...)`` (one dict per line) for
      the ``k`` and ``m`` panels;
    - ``ratio_coverage``: :func:`~modscale_lib.theory_fit.ratio_coverage` of the modular ``m`` panels;
    - ``variance_draws``: :func:`variance_draws`.
    """
    _check(res, config)
    band = core.real(band, "band", low=0.0, high=1.0, low_open=True, high_open=True)
    n_reps = core.whole(n_reps, "n_reps", low=1, high=10**5)
    # ratio_coverage's own range, checked here so that a bad count is refused before the minute of simulations
    n_permutations = core.whole(n_permutations, "n_permutations", low=10, high=10**5)
    archs, protocols, layout = config.archs, config.protocols, _layout(config)
    data = {k: theory_fit.panel_data(res, *k) for k in layout["data"]}
    fits = {a: theory_fit.calibrate(data[a, FIT_PROTOCOL, "n"], band=band) for a in archs}
    free = {a: theory_fit.calibrate(data[a, FIT_PROTOCOL, "n"], c=None, band=band) for a in archs}
    curves = layout["curves"]
    ratios = {k: theory_fit.end_ratios(data[k[:3]], fits[k[0]]["alpha"], noise_index=k[3]) for k in layout["ratios"]}
    return {
        "res": res,
        "config": config,
        "band": band,
        "data": data,
        "fits": fits,
        "free": free,
        "curves": curves,
        "peaks": {k: theory_peaks.locate_peak(data[k[:3]], k[3]) for k in curves},
        "excess": {k: theory_peaks.peak_excess(data[k[:3]], k[3]) for k in curves},
        "coverage": {k: theory_peaks.peak_coverage(data[k[:3]], k[3], n_reps=n_reps) for k in curves},
        "ratios": ratios,
        "ratio_coverage": theory_fit.ratio_coverage(
            [data["modular", pr, "m"] for pr in protocols], n_permutations=n_permutations
        ),
        "variance_draws": variance_draws(),
    }


def variance_draws(input_dim: int = 2, n_modules: int = 5, n_draws: int = 5, n_samples: int = 200_000) -> list:
    """``Var(y)`` of the noiseless sine-wave task with ``n_modules > input_dim`` (overlapping projections), one
    per task draw (seeds ``0 .. n_draws - 1``), each over ``n_samples`` samples: ``n_draws`` float32 values,
    which the intended variance (one) does not bound when the projections overlap."""
    n_draws = core.whole(n_draws, "n_draws", low=1, high=1000)
    n_samples = core.whole(n_samples, "n_samples", low=2, high=10**7)
    return [
        np.var(tasks.SineWaveTask(input_dim, n_modules, seed=s).sample(n_samples, seed=0)[1]) for s in range(n_draws)
    ]


# ---------------------------------------------------------------------------------------------------------
# One quantity per section of the chapter
# ---------------------------------------------------------------------------------------------------------
@core.validated(interval=core.Check(_interval))
def interval_side(interval) -> str:
    """Where one lies against ``interval = (estimate, low, high)``: ``"lies above one"`` (low > 1), ``"lies below
    one"`` (high < 1) or ``"includes one"``: the verdict of a ratio. An interval with a NaN or an infinity, or
    with ``low > high``, is refused rather than given a verdict."""
    return "lies above one" if interval[1] > 1 else ("lies below one" if interval[2] < 1 else "includes one")


@core.validated(value=core.Real(), interval=core.Check(_interval))
def theory_side(value: float, interval) -> str:
    """Where the theory's ``value`` lies against the networks' ``interval = (estimate, low, high)``: ``"inside"``,
    ``"below"`` or ``"above"`` (the bounds count as inside)."""
    return "inside" if interval[1] <= value <= interval[2] else ("below" if value < interval[1] else "above")


@core.validated(measured=MEASURED_RULE)
def rms_by_panel(measured: dict) -> dict:
    """``(arch, protocol, panel) -> (rms, points, rms_away)``: the root-mean-square error in decades between the
    theory (calibrated ``alpha``, ``c = 1``) and the networks' seed-mean test loss over the ``points`` of the
    panel where the theory is finite, and the same leaving out the calibration's band around ``n = p``."""
    config, out = measured["config"], {}
    for arch, pr, pa in itertools.product(config.archs, config.protocols, theory_fit.PANEL_NAMES):
        d, alpha = measured["data"][arch, pr, pa], measured["fits"][arch]["alpha"]
        rms, used = theory_fit.rms_decades(d, alpha)
        away, _ = theory_fit.rms_decades(d, alpha, band=measured["band"])
        out[arch, pr, pa] = (rms, used, away)
    return out


@core.validated(measured=MEASURED_RULE)
def interpolated_shares(measured: dict) -> dict:
    """``(arch, protocol) -> (reached, of)``: of the ``of`` networks with ``p >= 2n`` over all four panels, the
    ``reached`` whose train loss fell below ``0.01 Var(y)`` (:func:`~modscale_lib.theory_fit.interpolated_share`)."""
    config, data = measured["config"], measured["data"]
    return {
        (arch, pr): tuple(
            map(sum, zip(*(theory_fit.interpolated_share(data[arch, pr, pa]) for pa in theory_fit.PANEL_NAMES)))
        )
        for arch, pr in itertools.product(config.archs, config.protocols)
    }


@core.validated(measured=MEASURED_RULE)
def peaked_curves(measured: dict) -> list:
    """The curves (keys of ``measured["excess"]``) whose excess at ``n = p`` has a 95% interval above one."""
    return [k for k in measured["curves"] if measured["excess"][k]["low"] > 1]


@core.validated(measured=MEASURED_RULE)
def noise_excess_ratios(measured: dict) -> dict:
    """``(arch, protocol, panel, noise_index) -> (ratio, low, high)`` for every ``p`` and ``n`` curve with noise
    (index >= 1): its excess at ``n = p`` over the noiseless curve's, paired by seed
    (:func:`~modscale_lib.theory_peaks.excess_ratio`)."""
    config, data = measured["config"], measured["data"]
    return {
        (a, pr, pa, j): theory_peaks.excess_ratio(data[a, pr, pa], j, 0)
        for a, pr, pa in itertools.product(config.archs, config.protocols, PEAK_PANELS)
        for j in range(1, len(config.noises))
    }


@core.validated(measured=MEASURED_RULE)
def peak_heights(measured: dict) -> dict:
    """``arch -> {"p", "n", "noise", "net", "theory"}`` at the point of the ``p`` panel (:data:`FIT_PROTOCOL`)
    nearest ``p = n``, with the largest noise: the networks' test loss per seed ``net`` (S,) and the theory's."""
    config, out = measured["config"], {}
    j = len(config.noises) - 1
    for arch in config.archs:
        d = measured["data"][arch, FIT_PROTOCOL, "p"]
        _, th = theory_fit.predict(d, measured["fits"][arch]["alpha"])
        i = int(np.argmin(np.abs(d["p"][0] - d["n"][0])))
        net = d["test"][0, j, :, i]
        out[arch] = {"p": d["p"][0, i], "n": d["n"][0, i], "noise": config.noises[j], "net": net, "theory": th[0, j, i]}
    return out


@core.validated(measured=MEASURED_RULE)
def modular_m_ratios(measured: dict) -> list:
    """The modular networks' test-loss ratios from the first ``m`` to the last, over both protocols, every noise
    level and both lines (estimates only): one by construction, as the modules read the true projections."""
    config = measured["config"]
    return [
        r["test"][0]
        for pr in config.protocols
        for j in range(len(config.noises))
        for r in measured["ratios"]["modular", pr, "m", j]
    ]


@core.validated(measured=MEASURED_RULE)
def small_n_ratios(measured: dict) -> dict:
    """``(arch, protocol, noise_index) -> (ratio, low, high)``: at the smallest ``n`` of the ``n`` panel, the
    networks' test loss over the theory's (geometric mean over seeds, Student's interval)."""
    config, out = measured["config"], {}
    for arch, pr in itertools.product(config.archs, config.protocols):
        d = measured["data"][arch, pr, "n"]
        _, th = theory_fit.predict(d, measured["fits"][arch]["alpha"])
        for j in range(len(config.noises)):
            out[arch, pr, j] = theory_fit.ratio_ci(d["test"][0, j, :, 0], np.full(d["test"].shape[2], th[0, j, 0]))
    return out


@core.validated(measured=MEASURED_RULE, factor=core.Real(0.0, low_open=True))
def over_parameterised(measured: dict, factor: float = 4.0) -> dict:
    """``{"p", "n", "net", "theory"}`` at the point of the modular ``p`` panel (:data:`FIT_PROTOCOL`, no noise)
    nearest ``p = factor * n``: the networks' seed-mean test loss and the theory's, in ``Var(y)``."""
    d = measured["data"]["modular", FIT_PROTOCOL, "p"]
    i = int(np.argmin(np.abs(np.log(d["p"][0] / (factor * d["n"][0])))))
    _, th = theory_fit.predict(d, measured["fits"]["modular"]["alpha"])
    return {
        "p": float(d["p"][0, i]),
        "n": float(d["n"][0, i]),
        "net": float(np.nanmean(d["test"][0, 0, :, i])),
        "theory": float(th[0, 0, i]),
    }


# ---------------------------------------------------------------------------------------------------------
# The glued values, section by section
# ---------------------------------------------------------------------------------------------------------
def _setup_values(measured: dict) -> dict:
    config = measured["config"]
    out = {n: getattr(config, n) for n in ("n_fixed", "p_fixed", "n_km", "m_fixed", "k_fixed", "m_line", "steps")}
    out["n_seeds"] = config.n_seeds
    out.update({f"p_line{i}": p for i, p in enumerate(config.p_lines)})
    out.update(lr_int=config.lr_interpolating, lr_dec=config.lr_decaying, lr_end=config.lr_decaying * config.lr_decay)
    out.update({f"noise{j}": v for j, v in enumerate(config.noises)})
    out["wall_min"] = measured["res"].metadata["wall_time_s"] / 60
    return out


def _calibration_values(measured: dict) -> dict:
    draws = measured["variance_draws"]
    out = {"var_lo": float(min(draws)), "var_hi": float(max(draws)), "band_pct": 100 * measured["band"]}
    for arch in measured["config"].archs:
        out[f"alpha_{arch}"] = measured["fits"][arch]["alpha"]
        out[f"cfree_{arch}"] = measured["free"][arch]["c"]
    return out


def _error_values(measured: dict) -> dict:
    out = {f"rms_{a}_{pr}_{pa}": v[0] for (a, pr, pa), v in rms_by_panel(measured).items()}
    out["rms_best"], out["rms_worst"] = min(out.values()), max(out.values())
    for (arch, pr), (reached, of) in interpolated_shares(measured).items():
        out[f"interp_{arch}_{pr}"] = 100 * reached / of
    return out


def _peak_values(measured: dict) -> dict:
    out = {}
    for key in measured["curves"]:
        tag = "_".join(map(str, key))
        for q in ("at", "ratio", "prominence", "prominence_low", "prominence_high", "threshold"):
            out[f"pk_{tag}_{q}"] = measured["peaks"][key][q]
        for q, suffix in zip(("excess", "low", "high"), _CI):
            out[f"ex_{tag}{suffix}"] = measured["excess"][key][q]
    out["n_above"], out["n_curves"] = len(peaked_curves(measured)), len(measured["curves"])
    for key, r in noise_excess_ratios(measured).items():
        for suffix, v in zip((*_CI, "_v"), (*r, interval_side(r))):
            out[f"exr_{'_'.join(map(str, key))}{suffix}"] = v
    for q in COVERAGE_QUANTITIES:
        v = np.array([measured["coverage"][k][q] for k in measured["curves"]])
        out[f"cov_{q}_min"], out[f"cov_{q}_max"] = float(np.nanmin(v)), float(np.nanmax(v))
    for arch, h in peak_heights(measured).items():
        net = float(h["net"].mean())
        out[f"height_net_{arch}"] = net
        out[f"height_theory_{arch}"] = float(h["theory"])
        out[f"height_ratio_{arch}"] = float(h["theory"] / h["net"].mean())
    return out


def _ratio_values(measured: dict) -> dict:
    config, out = measured["config"], {}
    for a, pr, pa in itertools.product(config.archs, config.protocols, RATIO_PANELS):
        for j in range(len(config.noises)):
            for li, r in enumerate(measured["ratios"][a, pr, pa, j]):
                for stat in RATIO_STATS:
                    out.update({f"r_{a}_{pr}_{pa}_{li}_{j}_{stat}{q}": v for q, v in zip(_CI, r[stat])})
                out[f"r_{a}_{pr}_{pa}_{li}_{j}_theory"] = r["theory"]
    for a, pr, pa in itertools.product(config.archs, config.protocols, RATIO_PANELS):
        for li, r in enumerate(measured["ratios"][a, pr, pa, 0]):
            out[f"v_{a}_{pr}_{pa}_{li}"] = theory_side(r["theory"], r["test"])
    mod = modular_m_ratios(measured)
    out["mod_m_max_factor"] = max(max(mod), 1 / min(mod))
    rc = measured["ratio_coverage"]
    for method in ("jackknife_t", "percentile"):
        out.update({f"rc_{method}_{q}": rc[method][q] for q in ("coverage", "observed", "null_95", "p_value")})
    out["rc_intervals"] = rc["intervals"]
    return out


def _small_n_values(measured: dict) -> dict:
    out, above = {}, []  # above: the monolithic cases whose interval lies above the theory
    for (arch, pr, j), r in small_n_ratios(measured).items():
        out.update({f"small_{arch}_{pr}_{j}{q}": v for q, v in zip((*_CI, "_v"), (*r, interval_side(r)))})
        if arch == "monolithic" and r[1] > 1:
            above.append(r[0])
    out["small_mono_above"] = len(above)
    out["small_mono_above_max"] = max(above, default=float("nan"))
    return out


def _authors_values(measured: dict) -> dict:
    theirs = reference.LOSS_TRENDS
    m_theirs = theirs["test_loss_vs_m"]["test_loss"]
    ours = measured["data"]["monolithic", "decaying", "m"]["test"][0, 0, :, 0].mean()  # m = 2, p_line0, no noise
    out = {"theirs_m_ratio": m_theirs[1] / m_theirs[0], "theirs_p_peak": theirs["p_peak"]}
    out.update(theirs_n_peak=theirs["n_peak"], scale_ratio=float(m_theirs[0] / ours))
    over = over_parameterised(measured)
    out.update(over_p=over["p"], over_ratio=over["p"] / over["n"], over_net=over["net"], over_theory=over["theory"])
    return out


#: The glued values, in the chapter's order.
_SECTIONS = (
    _setup_values,
    _calibration_values,
    _error_values,
    _peak_values,
    _ratio_values,
    _small_n_values,
    _authors_values,
)


def conclusions(res, config, *, measured: dict | None = None) -> dict:
    """Every value the chapter glues, ``name -> value`` (numbers, and verdicts as short phrases such as
    ``"includes one"`` or ``"inside"``), from the stored result ``res`` and its ``config``; ``measured`` is
    :func:`measurements` of them, computed when not given (about a minute).

    The names are those the chapter's markdown cites: the config (``n_fixed``, ``p_line0``, ``noise2``, ...),
    the calibration (``alpha_<arch>``, ``cfree_<arch>``), the error in decades (``rms_<arch>_<protocol>_<panel>``,
    ``rms_best``, ``rms_worst``), the peaks (``pk_*``, ``ex_*``, ``exr_*``, ``cov_*``, ``height_*``), the ratios
    over ``k`` and ``m`` (``r_*``, ``v_*``, ``rc_*``, ``mod_m_max_factor``), few samples (``small_*``), and the
    authors' numbers (``theirs_*``, ``scale_ratio``, ``over_*``).
    """
    if measured is None:
        measured = measurements(res, config)
    else:
        _check(res, config)
        check_measured(measured)
        if measured["res"] is not res or measured["config"] != config:
            raise ValueError("measured must be measurements(res, config) of the same res and config")
    out = {}
    for section in _SECTIONS:
        out.update(section(measured))
    return out
