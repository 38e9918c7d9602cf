"""Learning curves and the samples they need: the samples to reach a target on a grid, the monotone envelope
of a curve that need not be monotone, and the growth of the samples needed per added input dimension with a
bootstrap interval over seeds. numpy and scipy only."""

from __future__ import annotations

import numpy as np

from .. import core

__all__ = [
    "growth_per_dimension",
    "samples_to_reach",
    "monotone_envelope",
    "samples_needed_monotone",
    "growth_ci",
]


def growth_per_dimension(input_dims, n_samples) -> float:
    """The factor by which ``n`` grows per added input dimension: ``10**slope`` of ``log10 n`` against ``m``.

    A least-squares line through ``(m, log10 n)``; points with infinite or non-positive ``n`` are dropped.

    Parameters
    ----------
    input_dims : 1-D array of dimensions ``m``. n_samples : array of the same shape, sample complexities.

    Returns
    -------
    float: the growth factor (1 means flat); ``nan`` if fewer than two distinct dimensions keep a usable
    point (NaN entries of ``n_samples``, failed measurements, are dropped too). ``input_dims`` must hold at
    least two distinct values.
    """
    m = core.array(input_dims, "input_dims", ndim=1)
    n = core.array(n_samples, "n_samples", ndim=1, finite=False)
    if m.shape != n.shape:
        raise ValueError(f"input_dims and n_samples must be 1-D arrays of one shape, got {m.shape} and {n.shape}")
    if np.unique(m).size < 2:
        raise ValueError(f"input_dims must hold at least two distinct dimensions to fit a growth, got {np.unique(m)}")
    with np.errstate(invalid="ignore"):
        ok = np.isfinite(n) & (n > 0)
    if np.unique(m[ok]).size < 2:
        return float("nan")
    slope = np.polyfit(m[ok], np.log10(n[ok]), 1)[0]
    return float(10.0**slope)


def samples_to_reach(n_grid, losses, target) -> float:
    """The smallest ``n`` at which a measured loss curve reaches ``target``, interpolated in ``log n``.

    The curve is read from the smallest ``n`` up: the answer lies between the last grid point above the
    target and the first one at or below it (linear interpolation of the loss against ``log n``); ``inf`` if
    no grid point reaches the target, ``n_grid[0]`` if the first already does. NaN losses are skipped: the
    crossing is interpolated from the last measured point before it, or is the first point at the target when
    none was measured before it.

    Parameters
    ----------
    n_grid : increasing sample sizes (> 0), (G,), G >= 1. losses : measured losses there, (G,); a NaN loss (a
    failed measurement) never counts as reaching the target. target : finite loss to reach.
    """
    n = core.real_array(n_grid, "n_grid", low=0.0, low_open=True, ndim=1, min_size=1)
    loss = core.array(losses, "losses", ndim=1, finite=False)
    target = core.real(target, "target")
    if n.shape != loss.shape:
        raise ValueError(f"losses must have the shape of n_grid {n.shape}, got {loss.shape}")
    if np.any(np.diff(n) <= 0):
        raise ValueError("n_grid must be increasing")
    hits = np.flatnonzero(loss <= target)
    if hits.size == 0:
        return float("inf")
    j = int(hits[0])
    before = np.flatnonzero(np.isfinite(loss[:j]))  # the last measured point above the target, skipping NaNs
    if before.size == 0:
        return float(n[j]) if j else float(n[0])  # nothing measured before: the first point at the target
    i = int(before[-1])
    x0, x1, y0, y1 = np.log(n[i]), np.log(n[j]), loss[i], loss[j]
    return float(np.exp(x0 + (y0 - target) / (y0 - y1) * (x1 - x0)))


def monotone_envelope(n_grid, losses) -> np.ndarray:
    """The best non-increasing fit of a learning curve in log-log: an isotonic regression of ``log loss`` on
    the grid's order (``scipy.optimize.isotonic_regression``), returned as losses.

    n_grid : (N,) increasing sample counts. losses : (N,) positive finite losses. Returns (N,) float64,
    non-increasing. A curve that dips below a level once and comes back up is averaged with its neighbours
    instead of counting as having reached it.
    """
    from scipy.optimize import isotonic_regression

    n_grid = core.real_array(n_grid, "n_grid", low=0, low_open=True, ndim=1, min_size=1)
    losses = core.real_array(losses, "losses", low=0, low_open=True, ndim=1)
    if losses.shape != n_grid.shape:
        raise ValueError(f"losses must have one value per n of n_grid ({n_grid.size}), got {losses.size}")
    if np.any(np.diff(n_grid) <= 0):
        raise ValueError("n_grid must be strictly increasing")
    fit = isotonic_regression(np.log(losses), increasing=False).x
    return np.exp(fit)


def samples_needed_monotone(n_grid, losses, target) -> tuple[float, str]:
    """The samples needed to reach ``target`` on the monotone envelope of a learning curve, and its censoring.

    n_grid, losses : (N,) as :func:`monotone_envelope`. target : a positive loss. The envelope is interpolated
    linearly in ``(log n, log loss)``. Returns ``(n_star, censored)``: ``censored`` is ``"below"`` when the
    envelope is already at or under the target at the smallest ``n`` (``n_star`` is then that ``n``, an upper
    bound), ``"above"`` when it never reaches it (``n_star`` is ``inf``, the true value lies beyond the grid),
    and ``""`` otherwise.
    """
    target = core.real(target, "target", low=0, low_open=True)
    n_grid = core.real_array(n_grid, "n_grid", low=0, low_open=True, ndim=1, min_size=1)
    env = monotone_envelope(n_grid, losses)
    if env[0] <= target:
        return float(n_grid[0]), "below"
    hits = np.flatnonzero(env <= target)
    if hits.size == 0:
        return float("inf"), "above"
    j = int(hits[0])
    x0, x1 = np.log(n_grid[j - 1]), np.log(n_grid[j])
    y0, y1 = np.log(env[j - 1]), np.log(env[j])
    frac = 1.0 if y1 == y0 else (np.log(target) - y0) / (y1 - y0)
    return float(np.exp(x0 + frac * (x1 - x0))), ""


def growth_ci(
    input_dims, n_star, *, baseline=None, confidence: float = 0.95, n_resamples: int = 2000, seed: int = 0
) -> tuple[float, float, float]:
    """The growth of ``n*`` per added input dimension with a bootstrap confidence interval over seeds.

    input_dims : (M,) dimensions. n_star : (S, M) samples needed per seed and dimension (``inf`` where not
    reached). The statistic is :func:`growth_per_dimension` of the median over seeds at each ``m``; seeds are
    resampled with replacement (``scipy.stats.bootstrap``, percentile method). With ``baseline`` (another
    method's (S, M) array on the same seeds) the statistic is the ratio of the two growths, resampled in pairs.
    Returns ``(estimate, low, high)``; NaN when the median is not reached at some ``m`` (say so, and give the
    censoring, rather than dropping that ``m``).
    """
    from scipy import stats

    m = core.real_array(input_dims, "input_dims", ndim=1, min_size=2)
    a = core.array(n_star, "n_star", ndim=2, finite=False, min_rows=1)
    if a.shape[1] != m.size:
        raise ValueError(f"n_star must have one column per input dimension of input_dims ({m.size}), got {a.shape}")

    b = None if baseline is None else core.array(baseline, "baseline", shape=a.shape, finite=False)
    confidence = core.real(confidence, "confidence", low=0.0, high=1.0, low_open=True, high_open=True)
    n_resamples = core.whole(n_resamples, "n_resamples", low=1, high=10**7)
    seed = core.seed(seed)

    def growth(x):
        med = np.median(x, axis=0)
        return growth_per_dimension(m, med) if np.all(np.isfinite(med)) else np.nan

    def stat(idx):  # a resample of the seeds, the same for both methods (paired)
        idx = np.asarray(idx, dtype=int)
        return growth(a[idx]) if b is None else growth(a[idx]) / growth(b[idx])

    seeds = np.arange(a.shape[0])
    estimate = stat(seeds)
    if not np.isfinite(estimate) or a.shape[0] < 2:
        return float(estimate), float("nan"), float("nan")
    res = stats.bootstrap(
        (seeds,),
        stat,
        vectorized=False,
        confidence_level=confidence,
        n_resamples=int(n_resamples),
        method="percentile",
        random_state=np.random.default_rng(seed),
    )
    return float(estimate), float(res.confidence_interval.low), float(res.confidence_interval.high)
