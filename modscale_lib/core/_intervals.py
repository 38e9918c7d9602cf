"""Confidence intervals over seeds: the one place the book's intervals are computed (numpy and scipy only).

Seeds are the independent units of every study, so every interval is over seeds:

* :func:`bootstrap_ci`: the mean along an axis with its percentile-bootstrap interval
  (``scipy.stats.bootstrap``); with 5 to 10 seeds it is rough and tends to be too narrow.
* :func:`jackknife_t`: the half-width of the jackknife interval with Student's ``t`` from leave-one-out
  replicates (for a mean it is exactly Student's interval), the interval of :mod:`modscale_lib.laws` and of
  the peak's prominence.
* :func:`percentile_interval`: the percentile interval of bootstrap draws.
"""

from __future__ import annotations

import numpy as np

from ._validation import Array, Check, Choice, Real, Seed, Whole, as_numpy, validated

__all__ = ["bootstrap_ci", "jackknife_t", "percentile_interval"]

_CONFIDENCE = Real(0.0, 1.0, low_open=True, high_open=True)


def _values(value, name: str, arguments: dict) -> np.ndarray:
    """Numbers (booleans count as 0 and 1, shares of successes), NaN and infinities allowed, as float64."""
    try:
        raw = np.asarray(as_numpy(value))
    except (ValueError, TypeError):  # ragged: the array rule says so, naming the argument
        raw = None
    return Array(finite=False)(raw.astype(np.float64) if raw is not None and raw.dtype == bool else value, name)


@validated(
    values=Check(_values),
    axis=Whole(lambda a: -a["values"].ndim, lambda a: a["values"].ndim - 1),
    confidence=_CONFIDENCE,
    n_resamples=Whole(1, 10**7),
    seed=Seed(),
)
def bootstrap_ci(
    values, axis: int = -1, *, confidence: float = 0.95, n_resamples: int = 2000, seed: int = 0
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The mean of ``values`` along ``axis`` and its percentile-bootstrap confidence interval.

    values : array of any shape (e.g. (..., seeds)); NaNs and infinities (failed or censored measurements) are
    left out slice by slice. axis : the axis of
    the repetitions (seeds). confidence : in (0, 1). n_resamples, seed : of ``scipy.stats.bootstrap``
    (``method="percentile"``; with 5 to 10 seeds the interval is rough and tends to be too narrow).
    Returns ``(mean, low, high)``, each of ``values``' shape without ``axis``, float64. A slice with one
    finite value, or all equal, has ``low = high = mean``; one with none has NaN everywhere.
    """
    from scipy import stats

    if values.ndim < 1 or not -values.ndim <= axis < values.ndim or values.shape[axis] < 1:
        raise ValueError(f"values must have at least one entry along axis {axis}, got shape {values.shape}")
    a = np.moveaxis(values, axis, -1)
    rows = a.reshape(-1, a.shape[-1])
    out = np.full((3, len(rows)), np.nan)
    rng = np.random.default_rng(seed)
    for i, row in enumerate(rows):
        row = row[np.isfinite(row)]
        if row.size == 0:
            continue
        out[:, i] = row.mean()
        if row.size > 1 and np.ptp(row) > 0:
            ci = stats.bootstrap(
                (row,),
                np.mean,
                confidence_level=confidence,
                n_resamples=n_resamples,
                method="percentile",
                random_state=rng,
            ).confidence_interval
            out[1:, i] = ci.low, ci.high
    mean, low, high = (o.reshape(a.shape[:-1]) for o in out)
    return mean, low, high


@validated(replicates=Array(ndim=1, min_rows=2), confidence=_CONFIDENCE)
def jackknife_t(replicates, confidence: float = 0.95) -> tuple[float, float]:
    """``(half_width, se)`` of the jackknife-t interval from the ``S >= 2`` leave-one-out ``replicates`` (S,) of
    an estimate: ``se = sqrt((S-1)/S * sum (r_i - mean r)^2)`` and ``half_width = t_{S-1} se``, with ``t_{S-1}``
    Student's quantile at ``(1 + confidence) / 2``. The interval is ``estimate +- half_width``."""
    from scipy.special import stdtrit

    S = replicates.size
    se = float(np.sqrt((S - 1) / S * np.sum((replicates - replicates.mean()) ** 2)))
    return float(stdtrit(S - 1, 0.5 + confidence / 2)) * se, se


_PERCENTILE_METHODS = (
    "inverted_cdf",
    "averaged_inverted_cdf",
    "closest_observation",
    "interpolated_inverted_cdf",
    "hazen",
    "weibull",
    "linear",
    "median_unbiased",
    "normal_unbiased",
    "lower",
    "higher",
    "midpoint",
    "nearest",
)


@validated(draws=Array(finite=False), confidence=_CONFIDENCE, method=Choice(_PERCENTILE_METHODS))
def percentile_interval(draws, confidence: float = 0.95, *, method: str = "linear") -> tuple[float, float]:
    """``(low, high)``: the ``(1 -+ confidence) / 2`` percentiles of the finite ``draws`` (bootstrap estimates;
    NaN and infinite draws, failed resamples, are left out), by numpy's percentile ``method``; NaN if none is
    finite."""
    draws = draws[np.isfinite(draws)]
    if draws.size == 0:
        return float("nan"), float("nan")
    tail = 50 * (1 - confidence)
    return tuple(float(v) for v in np.percentile(draws, [tail, 100 - tail], method=method))
