"""The whole pipeline on synthetic data with a known law: per-seed learning curves -> ``n*`` by a bracketing search
on a grid spaced by ``resolution`` (interpolated, or censored at the grid's ends) ->
:func:`~modscale_lib.laws.decide_law`. It
measures what the chapter prints: the coverage of the nominal intervals and the verdict's error rates and power.

The synthetic curves are straight lines in log-log near the target, ``log L(n) = -slope (log n - log n*_s) +
noise``: ``log n*_s`` is the law's value at ``m`` plus seed scatter (a part shared by a seed across ``m`` and a
part of its own), and every grid point has its own noise. :func:`~modscale_lib.laws.curve_scatter` measures the
scatter, the
noise and the slope on stored learning curves; ``SCATTER`` holds values at least as pessimistic as those measured
on the stored ``sample_complexity_sweep`` (the sine task, the four main methods, 5 seeds, targets 0.03 to 0.3 of
``Var(y)``: seed SD 0.27 to 0.48, point noise 0.36, curve slope 4.7 to 7.4; the non-separable task's sweep, which
gave these values first, went when the scaling-law study replaced it). Numpy and scipy only.
"""

from __future__ import annotations

import math

import numpy as np

from .. import core, measure
from ._decision import ABOVE, BELOW, INTERVALS, MEASURED, SQRT2, VERDICTS, decide_law

__all__ = ["SCATTER", "TRUTHS", "curve_scatter", "simulate_n_star", "coverage"]

#: The scatter measured on the stored sweeps (see the module docstring), by key. ``seed_sd`` is the SD of
#: ``log n*`` over seeds, ``point_sd`` the SD of the noise of ``log L`` per grid point, ``curve_slope`` the
#: log-log slope of the curve at the target and ``seed_share`` the share of the seed variance that a seed
#: carries across every ``m``.
SCATTER = {"seed_sd": 0.4, "point_sd": 0.4, "curve_slope": 4.0, "seed_share": 0.25}
LAWS = ("power", "exponential", "affine")  # the laws simulate_n_star draws from


def curve_scatter(n_grid, losses, target: float) -> dict:
    """Measure the scatter of stored learning curves, for :func:`~modscale_lib.laws.simulate_n_star`.

    n_grid : (N,) increasing sample counts. losses : (..., M, S, N) positive losses in units of ``Var(y)``
    (dimensions on axis -3, seeds on axis -2). target : the loss target (fraction of ``Var(y)``).
    Returns medians over the leading axes and dimensions: ``seed_sd`` (SD over seeds of ``log n*``, groups with
    >= 3 uncensored seeds), ``point_sd`` (noise SD of ``log L`` per point, from the median absolute second
    difference, which a smooth curve barely moves), ``curve_slope`` (``-d log L / d log n`` of the monotone
    envelope where it crosses the target) and ``seed_share`` (the between-seed share of the variance of
    ``log n*`` across ``m``, from a two-way layout of the groups with no censored entry, clipped to [0, 1]).
    """
    from ..growth import samples_needed_curves

    n_grid = core.real_array(n_grid, "n_grid", low=0.0, low_open=True, ndim=1, min_size=3)
    L = core.real_array(losses, "losses", low=0.0, low_open=True)
    if L.ndim < 3 or L.shape[-1] != n_grid.size:
        raise ValueError(f"losses must be (..., M, S, {n_grid.size}), got shape {L.shape}")
    if L.shape[-2] < 3:
        raise ValueError(f"losses must hold at least 3 seeds (axis -2), got {L.shape[-2]}")
    target = core.real(target, "target", low=0.0, low_open=True)
    n_star, cens = samples_needed_curves(n_grid, L, 1.0, target)
    log_n, ok = np.log(n_star), cens == ""
    sds = [np.std(log_n[i][ok[i]], ddof=1) for i in np.ndindex(L.shape[:-2]) if ok[i].sum() >= 3]
    y = np.log(L)
    d = y[..., :-2] - 2 * y[..., 1:-1] + y[..., 2:]
    point = 1.4826 * np.median(np.abs(d - np.median(d, axis=-1, keepdims=True)), axis=-1) / math.sqrt(6)
    slopes = []
    for i in np.ndindex(L.shape[:-1]):
        env = measure.monotone_envelope(n_grid, L[i])
        hits = np.flatnonzero(env <= target)
        if hits.size and hits[0] > 0:
            j = hits[0]
            slopes.append(np.log(env[j - 1] / env[j]) / np.log(n_grid[j] / n_grid[j - 1]))
    shares = []
    for i in np.ndindex(L.shape[:-3]):
        if ok[i].all():
            r = log_n[i] - log_n[i].mean(axis=1, keepdims=True)  # (M, S)
            M, S = r.shape
            ms_seed = M * np.var(r.mean(axis=0), ddof=1)
            ms_err = np.sum((r - r.mean(axis=0)) ** 2) / ((M - 1) * (S - 1))
            between = max((ms_seed - ms_err) / M, 0.0)
            shares.append(between / (between + ms_err) if between + ms_err > 0 else 0.0)
    nan = float("nan")
    return {
        "seed_sd": float(np.median(sds)) if sds else nan,
        "point_sd": float(np.median(point)),
        "curve_slope": float(np.median(slopes)) if slopes else nan,
        "seed_share": float(np.median(shares)) if shares else nan,
    }


def _truth(law: str, exponent: float, m: np.ndarray, n_ref: float) -> np.ndarray:
    """The law's ``log n*`` at each ``m`` (population median), equal to ``log n_ref`` at the smallest ``m``."""
    if law == "power":
        return math.log(n_ref) + exponent * np.log(m / m[0])
    if law == "affine":
        return math.log(n_ref) + np.log1p(exponent * (m - m[0]))
    return math.log(n_ref) + exponent * (m - m[0])


def _bracket(log_grid, curves, start):
    """The bracketing search on each curve: from the grid index ``start``, step up while the loss is above the
    target (0 in log units) or down while it is not, then interpolate linearly in (log n, log L) between the
    two grid points that bracket the crossing. curves (..., G) log losses; start (...,) ints. Returns
    ``(log n*, codes)``: censored above at the grid's end, below at its start."""
    G = log_grid.size
    idx = np.arange(G)
    reached = curves <= 0
    up = ~np.take_along_axis(reached, start[..., None], -1)[..., 0]  # search upwards
    first_after = np.where(reached & (idx >= start[..., None]), idx, G).min(axis=-1)  # first reached >= start
    last_before = np.where(~reached & (idx < start[..., None]), idx, -1).max(axis=-1)  # last not reached < start
    hi = np.where(up, first_after, last_before + 1)
    codes = np.where(up & (first_after == G), ABOVE, np.where(~up & (last_before < 0), BELOW, MEASURED))
    j = np.clip(hi, 1, G - 1)
    y0 = np.take_along_axis(curves, (j - 1)[..., None], -1)[..., 0]
    y1 = np.take_along_axis(curves, j[..., None], -1)[..., 0]
    frac = np.clip(y0 / np.where(y0 == y1, 1.0, y0 - y1), 0.0, 1.0)
    value = log_grid[j - 1] + frac * (log_grid[j] - log_grid[j - 1])
    value = np.where(codes == ABOVE, log_grid[-1], np.where(codes == BELOW, log_grid[0], value))
    return value, codes


def _scatter(value, name: str, arguments=None) -> dict:
    """``SCATTER`` updated by ``value`` (a dict of its keys): SDs >= 0, ``curve_slope`` > 0, ``seed_share`` in
    [0, 1]."""
    if value is not None and not isinstance(value, dict):
        raise TypeError(f"{name} must be a dict with keys of {sorted(SCATTER)}, got {type(value).__name__}")
    unknown = sorted(set(value or {}) - set(SCATTER))
    if unknown:
        raise ValueError(f"{name} must have keys of {sorted(SCATTER)}, got {unknown}")
    sc = dict(SCATTER, **(value or {}))
    for key in SCATTER:
        sc[key] = core.real(sc[key], f"{name}[{key!r}]", low=0.0, high=1.0 if key == "seed_share" else None)
    if sc["curve_slope"] <= 0:
        raise ValueError(f"{name}['curve_slope'] must be > 0, got {sc['curve_slope']}")
    return sc


def _truths(value, name: str, arguments=None) -> dict:
    """``{name: (law, exponent)}``, ``TRUTHS`` for None."""
    truths = TRUTHS if value is None else value
    if not isinstance(truths, dict) or not truths:
        raise ValueError(f"{name} must be a dict naming at least one (law, exponent), got {truths!r}"[:200])
    for key, pair in truths.items():
        if not isinstance(pair, (tuple, list)) or len(pair) != 2:
            raise ValueError(f"{name}[{key!r}] must be a (law, exponent) pair, got {pair!r}")
        law = core.choice(pair[0], f"{name}[{key!r}] law", LAWS)
        core.real(pair[1], f"{name}[{key!r}] exponent", low=0.0 if law == "affine" else None)
    return dict(truths)


def _intervals(value, name: str, arguments=None) -> list:
    if isinstance(value, str) or not isinstance(value, (list, tuple)) or not value:
        raise TypeError(f"{name} must be a non-empty list of {INTERVALS}, got {value!r}")
    return [core.choice(i, name, INTERVALS) for i in value]


@core.validated(scatter=core.Check(_scatter))
def simulate_n_star(
    law: str,
    exponent: float,
    *,
    input_dims=(4, 8, 16, 32, 64),
    n_seeds: int = 10,
    n_ref: float = 200.0,
    scatter: dict | None = None,
    resolution: float = SQRT2,
    n_min: float = 32.0,
    n_max: float = 2.0**16,
    n_reps: int = 1,
    tail_df: float | None = None,
    seed: int = 0,
):
    """Synthetic ``log n*`` per (replicate, seed, m), found as the experiment finds it.

    law : ``"power"`` (``n* = n_ref (m/m_1)^exponent``), ``"exponential"`` (``n* = n_ref e^(exponent (m -
    m_1))``) or ``"affine"`` (``n* = n_ref (1 + exponent (m - m_1))``, exponent >= 0: neither law, the shape of a
    fixed cost plus one growing with ``m``), the population median. scatter : dict as ``SCATTER`` (the default). The
    grid runs from
    ``n_min`` by factors ``resolution`` up to at most ``n_max``; each search starts at the grid point nearest the
    law's value. tail_df : draw the seed scatter from Student's t with this many degrees of freedom (scaled
    to the same SD) instead of a normal, to test robustness to heavy tails.

    Returns ``(log_n_star, codes, truth)``: (n_reps, n_seeds, M) floats and codes as
    :func:`~modscale_lib.laws.decide_law` takes
    them, and the law's ``log n*`` (M,).
    """
    law = core.choice(law, "law", LAWS)
    exponent = core.real(exponent, "exponent", low=0.0 if law == "affine" else None)
    m = core.real_array(input_dims, "input_dims", low=0.0, low_open=True, ndim=1, min_size=3)
    n_seeds = core.whole(n_seeds, "n_seeds", low=2, high=10**4)
    n_reps = core.whole(n_reps, "n_reps", low=1, high=10**5)
    n_ref = core.real(n_ref, "n_ref", low=1.0)
    resolution = core.real(resolution, "resolution", low=1.0, low_open=True)
    n_min = core.real(n_min, "n_min", low=1.0)
    n_max = core.real(n_max, "n_max", low=n_min * resolution)
    sc = scatter
    if tail_df is not None:
        tail_df = core.real(tail_df, "tail_df", low=2.0, low_open=True)
    seed = core.seed(seed)
    log_grid = math.log(n_min) + math.log(resolution) * np.arange(
        int(math.log(n_max / n_min) / math.log(resolution) + 1e-9) + 1
    )
    core.check_size(n_reps * n_seeds * m.size * log_grid.size, "n_reps * n_seeds * M * grid points")
    rng = np.random.default_rng(seed)
    truth = _truth(law, exponent, m, n_ref)

    def draw(shape):
        if tail_df is None:
            return rng.standard_normal(shape)
        return rng.standard_t(tail_df, shape) * math.sqrt((tail_df - 2) / tail_df)

    shared = math.sqrt(sc["seed_share"]) * draw((n_reps, n_seeds, 1))
    own = math.sqrt(1 - sc["seed_share"]) * draw((n_reps, n_seeds, m.size))
    centre = truth + sc["seed_sd"] * (shared + own)  # (R, S, M)
    curves = -sc["curve_slope"] * (log_grid - centre[..., None]) + sc["point_sd"] * rng.standard_normal(
        centre.shape + (log_grid.size,)
    )
    start = np.broadcast_to(np.abs(log_grid[None, :] - truth[:, None]).argmin(axis=1), centre.shape)
    value, codes = _bracket(log_grid, curves, start)
    return value, codes.astype(np.int64), truth


#: The truths that :func:`~modscale_lib.laws.coverage` simulates by default, each a (law, exponent) pair by name.
TRUTHS = {"power": ("power", 1.0), "exponential": ("exponential", 0.08), "flat": ("power", 0.0)}


def _covers(q: dict, value: float) -> bool:
    return bool(q["low"] <= value <= q["high"])


def _replicates(input_dims, Y, C, which, exponent: float, decide: dict) -> tuple[dict, dict]:
    """How often the intervals of :func:`~modscale_lib.laws.decide_law` hold the truth over the replicates of one
    truth (``which``: its exponent and curvature statistics, None for an affine truth), and the share of each
    verdict."""
    n_reps = Y.shape[0]
    hits, counts = np.zeros(2), dict.fromkeys(VERDICTS, 0)
    for r in range(n_reps):
        d = decide_law(input_dims, Y[r], C[r], seed=r, **decide)
        if which:
            hits += [_covers(d[which[0]], exponent), _covers(d[which[1]], 0.0)]
        counts[d["law"]] += 1
    share = hits / n_reps if which else np.full(2, np.nan)  # an affine truth has no true exponent
    return ({"exponent": float(share[0]), "curvature": float(share[1])}, {k: v / n_reps for k, v in counts.items()})


def _error_rates(verdicts: dict, truths: dict, intervals) -> tuple[dict, dict]:
    """``(errors, power)`` per interval method from the shares of each verdict per truth."""
    errors, power = {}, {}
    for interval in intervals:
        v = verdicts[interval]
        errors[interval] = {
            "power_as_exponential": v.get("power", {}).get("exponential", float("nan")),
            "exponential_as_power": v.get("exponential", {}).get("power", float("nan")),
            "flat_as_power_or_exponential": (
                v["flat"]["power"] + v["flat"]["exponential"] if "flat" in v else float("nan")
            ),
        }
        for name, (law, _) in truths.items():
            if law == "affine":  # neither law: any verdict but undecided
                errors[interval][f"{name}_as_power"] = v[name]["power"]
                errors[interval][f"{name}_as_exponential"] = v[name]["exponential"]
        power[interval] = {
            name: v[name].get("flat" if law == "power" and exponent == 0 else law, 0.0)
            for name, (law, exponent) in truths.items()
            if law != "affine"
        }
    return errors, power


@core.validated(truths=core.Check(_truths), intervals=core.Check(_intervals), scatter=core.OrNone(core.Check(_scatter)))
def coverage(
    *,
    n_reps: int = 100,
    n_seeds: int = 10,
    input_dims=(4, 8, 16, 32, 64),
    truths: dict | None = None,
    scatter: dict | None = None,
    intervals=("jackknife_t",),
    confidence: float = 0.95,
    tail_df: float | None = None,
    n_resamples: int = 499,
    seed: int = 0,
    **grid,
) -> dict:
    """Coverage of the nominal intervals and error rates of :func:`~modscale_lib.laws.decide_law`, by simulating
    the whole pipeline (:func:`~modscale_lib.laws.simulate_n_star`) ``n_reps`` times for each truth.

    truths : ``{name: (law, exponent)}``, default ``TRUTHS`` (a power law ``n* ~ m^1``, an exponential
    ``n* ~ e^(0.08 m)`` and a flat ``n*``, each 200 samples at the smallest ``m``); an ``"affine"`` truth (see
    :func:`~modscale_lib.laws.simulate_n_star`) measures how often a law that is neither gets called one.
    intervals : the interval methods to compare (``INTERVALS``); the default, the jackknife-t alone, takes a few
    seconds at the default ``n_reps``; adding ``"percentile"`` (``n_resamples`` refits per replicate) multiplies
    that by about ten. grid : ``n_ref``, ``n_min``, ``n_max``, ``resolution`` passed on to
    :func:`~modscale_lib.laws.simulate_n_star`.

    Returns
    -------
    dict: ``coverage[interval][truth]``, the share of replicates whose interval holds the true value: of the
    exponent (``alpha`` for a power or flat truth, ``beta`` for an exponential) and of the zero that the true
    law gives its curvature statistic (``slope_change`` for a power or flat truth, ``rate_change`` for an
    exponential), as ``{"exponent": float, "curvature": float}``; ``verdicts[interval][truth]``: the share of
    each verdict; ``errors[interval]``: ``power_as_exponential``, ``exponential_as_power``,
    ``flat_as_power_or_exponential`` (shares of the wrong verdict) and, per affine truth, ``<name>_as_power``
    and ``<name>_as_exponential``; ``power[interval]``: the share of the right verdict per truth (affine truths
    have none); ``censored``: the share of censored entries per truth; ``mc_se``: the Monte Carlo
    standard error of a share near ``confidence``; ``settings``: every setting used.
    """
    n_reps = core.whole(n_reps, "n_reps", low=1, high=10**5)
    confidence = core.real(confidence, "confidence", low=0.5, high=1.0, high_open=True)
    n_resamples = core.whole(n_resamples, "n_resamples", low=10, high=10**5)
    seed = core.seed(seed)
    core.check_count(n_reps * len(truths) * len(intervals), "n_reps * truths * intervals")
    cov = {i: {} for i in intervals}
    verdicts = {i: {} for i in intervals}
    censored = {}
    for t, (name, (law, exponent)) in enumerate(truths.items()):
        Y, C, truth = simulate_n_star(
            law,
            exponent,
            input_dims=input_dims,
            n_seeds=n_seeds,
            scatter=scatter,
            n_reps=n_reps,
            tail_df=tail_df,
            seed=seed + 7919 * t,
            **grid,
        )
        censored[name] = float(np.mean(C != MEASURED))
        which = {"power": ("alpha", "slope_change"), "exponential": ("beta", "rate_change")}.get(law)
        for interval in intervals:
            decide = dict(
                confidence=confidence,
                interval=interval,
                n_resamples=n_resamples,
                resolution=grid.get("resolution", SQRT2),
            )
            cov[interval][name], verdicts[interval][name] = _replicates(input_dims, Y, C, which, exponent, decide)
    errors, power = _error_rates(verdicts, truths, intervals)
    settings = {
        "n_reps": n_reps,
        "n_seeds": n_seeds,
        "input_dims": [float(x) for x in input_dims],
        "truths": truths,
        "scatter": dict(SCATTER, **(scatter or {})),
        "confidence": confidence,
        "tail_df": tail_df,
        "n_resamples": n_resamples,
        "seed": seed,
        **grid,
    }
    return {
        "coverage": cov,
        "verdicts": verdicts,
        "errors": errors,
        "power": power,
        "censored": censored,
        "mc_se": math.sqrt(confidence * (1 - confidence) / n_reps),
        "settings": settings,
    }
