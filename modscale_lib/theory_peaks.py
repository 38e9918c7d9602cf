"""The interpolation peak of trained networks (the chapter *Theory meets trained networks*): where the seed-mean
test loss over ``p`` or ``n`` peaks against the theory's threshold ``n = p``, a pre-specified test for a peak
there, and how well the intervals of both hold their level on curves like the measured ones.

Panels are :func:`modscale_lib.theory_fit.panel_data` dicts. Numpy and scipy only.
"""

from __future__ import annotations

import numpy as np

from . import core, laws
from .theory_fit import PANEL, panel_index

__all__ = ["locate_peak", "peak_excess", "excess_ratio", "peak_coverage"]


def _peak_panel(value, name: str, arguments=None) -> dict:
    """A ``p`` or ``n`` panel of :func:`modscale_lib.theory_fit.panel_data` with positive test losses."""
    PANEL(value, name)
    if value["panel"] not in ("p", "n"):
        raise ValueError(f"{name} must be a p or n panel (a peak is over p or n), got the {value['panel']!r} panel")
    if not np.all(np.asarray(value["test"]) > 0):
        raise ValueError(f"{name}['test'] must hold losses > 0 (their logs are compared)")
    return value


def _work(value, name: str, arguments: dict) -> int:
    """Resamples, refused where ``n_reps * n_resamples * seeds * points`` exceeds the library's array limit."""
    value = core.whole(value, name, low=10, high=10**5)
    core.check_size(arguments["n_reps"] * value * np.size(arguments["data"]["test"][0, 0]), f"n_reps * {name}")
    return value


PEAK = dict(
    data=core.Check(_peak_panel),
    line_index=panel_index("lines"),
    factor=core.Real(1.0, low_open=True),
    confidence=core.Real(0.5, 1.0, high_open=True),
)


def _peaks_of(x, curves) -> tuple[np.ndarray, np.ndarray]:
    """The most prominent interior local maximum of each curve (B, X) over ``x``: its location and prominence,
    the ratio of its height to the higher of its two bases (on each side, the lowest value before the curve
    rises above the peak again, or before the edge). ``(x of the largest value, nan)`` for a curve with no
    interior local maximum. Returns two (B,) arrays."""
    c = np.atleast_2d(np.asarray(curves, dtype=float))
    B, X = c.shape
    idx = np.arange(X)
    prom = np.full((B, X), np.nan)
    for i in range(1, X - 1):
        peak = (c[:, i] > c[:, i - 1]) & (c[:, i] > c[:, i + 1])
        higher = c > c[:, i : i + 1]
        last_left = np.where(higher & (idx < i), idx, -1).max(axis=1)
        first_right = np.where(higher & (idx > i), idx, X).min(axis=1)
        left = np.where((idx > last_left[:, None]) & (idx < i), c, np.inf).min(axis=1)
        right = np.where((idx < first_right[:, None]) & (idx > i), c, np.inf).min(axis=1)
        prom[:, i] = np.where(peak, c[:, i] / np.maximum(left, right), np.nan)
    has = np.isfinite(prom).any(axis=1)
    best = np.where(has, np.argmax(np.where(np.isfinite(prom), prom, -np.inf), axis=1), np.nanargmax(c, axis=1))
    return x[best].astype(float), np.where(has, prom[np.arange(B), best], np.nan)


def _peak_of(x, curve) -> tuple[float, float]:
    """:func:`_peaks_of` of one curve: ``(location, prominence)``."""
    at, prom = _peaks_of(x, curve[None])
    return float(at[0]), float(prom[0])


def _draws(x, test, n_resamples: int, rng) -> tuple[np.ndarray, np.ndarray]:
    """Location and prominence of the seed-mean curve over ``n_resamples`` bootstrap resamples of the seeds of
    ``test`` (S, X)."""
    idx = rng.integers(0, test.shape[0], (n_resamples, test.shape[0]))
    return _peaks_of(x, np.nanmean(test[idx], axis=1))


def _log_jackknife(stat, values: np.ndarray, confidence: float) -> tuple[float, float, float]:
    """``stat`` of the seeds ``values`` (S, ...) with the jackknife-t interval over seeds on the log scale (the
    machinery of :mod:`modscale_lib.laws`): ``(estimate, low, high)``, NaN where a leave-one-out value is not
    positive and finite."""
    S = values.shape[0]
    est = stat(values)
    reps = np.array([stat(np.delete(values, i, axis=0)) for i in range(S)])
    if not (np.isfinite(est) and est > 0 and np.all(np.isfinite(reps)) and np.all(reps > 0)):
        return float(est), float("nan"), float("nan")
    half, _ = core.jackknife_t(np.log(reps), confidence)
    return float(est), float(est * np.exp(-half)), float(est * np.exp(half))


def _peak_axis(data: dict, line_index: int) -> tuple[np.ndarray, float]:
    """The swept axis of a ``p`` or ``n`` panel (measured ``p`` or ``n``) and the theory's threshold on it."""
    if data["panel"] not in ("p", "n"):
        raise ValueError(f"a peak needs a p or n panel, got {data['panel']!r}")
    x = data["p"][line_index] if data["panel"] == "p" else data["n"][line_index]
    threshold = float(data["n"][line_index, 0] if data["panel"] == "p" else data["p"][line_index, 0])
    return x, threshold


@core.validated(
    data=PEAK["data"],
    noise_index=panel_index("noises"),
    line_index=PEAK["line_index"],
    confidence=PEAK["confidence"],
    n_resamples=core.Whole(10, 10**5),
    seed=core.Seed(),
)
def locate_peak(
    data: dict,
    noise_index: int,
    line_index: int = 0,
    *,
    confidence: float = 0.95,
    n_resamples: int = 2000,
    seed: int = 0,
) -> dict:
    """Where the seed-mean test loss of a ``p`` or ``n`` panel peaks, against the theory's threshold ``n = p``.

    The location is the measured parameter count (``p`` panel) or ``n`` (``n`` panel) of the most prominent
    interior local maximum of the seed-mean test loss; ``prominence`` is its height over the higher of its two
    bases (see ``_peak_of``; ``nan``: no interior local maximum, the largest loss is at an edge). ``threshold`` is
    where the theory puts the peak (``n`` for the ``p`` panel, the measured ``p`` for the ``n`` panel) and
    ``ratio`` the location over it. The location's interval is the percentile bootstrap over seeds (it stays on
    the grid); the prominence's is the jackknife-t over seeds on the log scale. Both are descriptive: the
    prominence is a maximum chosen after the fact, and :func:`peak_coverage` measures how far from their level
    the intervals are; :func:`peak_excess` is the pre-specified test.
    """
    x, threshold = _peak_axis(data, line_index)
    test = data["test"][line_index, noise_index]  # (S, X)
    at, prom = _peak_of(x, np.nanmean(test, axis=0))
    draws = _draws(x, test, n_resamples, np.random.default_rng(seed))[0]
    loc = core.percentile_interval(draws, confidence, method="inverted_cdf")
    _, p_low, p_high = _log_jackknife(lambda t: _peak_of(x, np.nanmean(t, axis=0))[1], test, confidence)
    edge = np.mean([np.isnan(_peak_of(x, t)[1]) for t in test])
    return {
        "at": at,
        "at_low": loc[0],
        "at_high": loc[1],
        "prominence": prom,
        "prominence_low": p_low,
        "prominence_high": p_high,
        "threshold": threshold,
        "ratio": at / threshold,
        "seeds_at_edge": float(edge),
        "noise": float(data["noises"][noise_index]),
    }


def _excess_points(x: np.ndarray, threshold: float, factor: float) -> tuple[int, int, int]:
    """Grid indices nearest (in log) to ``threshold / factor``, ``threshold`` and ``threshold * factor``."""
    near = lambda v: int(np.argmin(np.abs(np.log(x) - np.log(v))))  # noqa: E731
    idx = near(threshold / factor), near(threshold), near(threshold * factor)
    if len(set(idx)) < 3:
        raise ValueError(
            f"factor = {factor:g} finds no three distinct points of the grid {x.tolist()} at n = p / factor, n = p "
            "and n = p * factor; use a larger factor"
        )
    return idx


def _excess_per_seed(data: dict, noise_index: int, line_index: int, factor: float) -> tuple[np.ndarray, tuple]:
    x, threshold = _peak_axis(data, line_index)
    i, j, k = _excess_points(x, threshold, factor)
    t = np.log(data["test"][line_index, noise_index])  # (S, X)
    return t[:, j] - 0.5 * (t[:, i] + t[:, k]), (float(x[i]), float(x[j]), float(x[k]))


@core.validated(**PEAK, noise_index=panel_index("noises"))
def peak_excess(
    data: dict, noise_index: int, line_index: int = 0, *, factor: float = 2.0, confidence: float = 0.95
) -> dict:
    """A pre-specified test for a peak at the theory's threshold: the test loss at the grid point nearest ``n =
    p`` over the geometric mean of the losses at the points nearest ``factor`` times below and above it. A
    falling convex curve gives less than 1, a peak at the threshold more; every seed gives one log contrast,
    and the interval is Student's over seeds (:func:`modscale_lib.laws.mean_ci`), which holds its level for
    normal log losses. Returns ``excess``, ``low``, ``high``, ``points`` (the three grid values) and
    ``per_seed`` (S,) log contrasts."""
    c, pts = _excess_per_seed(data, noise_index, line_index, factor)
    mean, low, high = laws.mean_ci(c, confidence=confidence)
    return {
        "excess": float(np.exp(mean)),
        "low": float(np.exp(low)),
        "high": float(np.exp(high)),
        "points": pts,
        "per_seed": c,
    }


@core.validated(**PEAK, noise_a=panel_index("noises"), noise_b=panel_index("noises"))
def excess_ratio(
    data: dict, noise_a: int, noise_b: int, line_index: int = 0, *, factor: float = 2.0, confidence: float = 0.95
) -> tuple[float, float, float]:
    """:func:`peak_excess` at noise level ``noise_a`` over that at ``noise_b``, paired by seed (the noise levels
    of a seed share its task, data and initial weights), with Student's interval: ``(ratio, low, high)``."""
    a, _ = _excess_per_seed(data, noise_a, line_index, factor)
    b, _ = _excess_per_seed(data, noise_b, line_index, factor)
    return tuple(float(np.exp(v)) for v in laws.mean_ci(a - b, confidence=confidence))


@core.validated(
    **PEAK,
    noise_index=panel_index("noises"),
    n_reps=core.Whole(1, 10**5),
    n_resamples=core.Check(_work),
    seed=core.Seed(),
)
def peak_coverage(
    data: dict,
    noise_index: int,
    line_index: int = 0,
    *,
    n_reps: int = 100,
    factor: float = 2.0,
    confidence: float = 0.95,
    n_resamples: int = 200,
    seed: int = 0,
) -> dict:
    """How often the peak's intervals hold the truth, on curves like the measured one.

    The truth is the measured seed-mean curve ``T`` of the panel's line and noise level; each of ``n_reps``
    synthetic experiments draws as many seeds as were measured, each seed's curve lognormal around ``T`` with
    the measured per-point scatter of ``log`` loss over seeds (independent across points). Returns the truth
    (``prominence``, ``at``, ``excess``) and the coverage of: the prominence's jackknife-t interval
    (``prominence_jackknife_t``, NaN when the truth has no interior peak) and the percentile bootstrap
    (``prominence_percentile``, ``n_resamples`` draws), the location's percentile interval (``location``), and
    :func:`peak_excess`'s Student interval (``excess_coverage``).
    """
    x, threshold = _peak_axis(data, line_index)
    t = data["test"][line_index, noise_index]
    S = t.shape[0]
    sd = np.std(np.log(t), axis=0, ddof=1)
    mu = np.log(t.mean(axis=0)) - sd**2 / 2  # E exp(mu + sd z) = the mean curve
    at, prom = _peak_of(x, np.exp(mu + sd**2 / 2))
    i, j, k = _excess_points(x, threshold, factor)
    excess = float(np.exp(mu[j] - 0.5 * (mu[i] + mu[k])))
    from scipy.special import stdtrit

    rng = np.random.default_rng(seed)
    sim = np.exp(mu + sd * rng.standard_normal((n_reps, S, x.size)))  # (R, S, X)
    t_crit = float(stdtrit(S - 1, 0.5 + confidence / 2))
    full = _peaks_of(x, sim.mean(axis=1))[1]  # (R,)
    loo = (sim.sum(axis=1, keepdims=True) - sim) / (S - 1)  # (R, S, X)
    logs = np.log(_peaks_of(x, loo.reshape(-1, x.size))[1].reshape(n_reps, S))
    half = t_crit * np.sqrt((S - 1) / S * np.sum((logs - logs.mean(axis=1, keepdims=True)) ** 2, axis=1))
    jk = (full * np.exp(-half) <= prom) & (prom <= full * np.exp(half))  # NaN compares False
    idx = rng.integers(0, S, (n_reps, n_resamples, S))
    boot = np.take_along_axis(sim[:, None], idx[..., None], axis=2).mean(axis=2)  # (R, B, X)
    locations, proms = (v.reshape(n_reps, n_resamples) for v in _peaks_of(x, boot.reshape(-1, x.size)))
    pc = np.array([core.percentile_interval(p, confidence) for p in proms])
    lc = np.array([core.percentile_interval(v, confidence, method="inverted_cdf") for v in locations])
    c = np.log(sim[:, :, j]) - 0.5 * (np.log(sim[:, :, i]) + np.log(sim[:, :, k]))  # (R, S)
    e_half = t_crit * c.std(axis=1, ddof=1) / np.sqrt(S)
    e_true = np.log(excess)
    hits = (
        np.array(
            [
                jk.mean(),
                np.mean((pc[:, 0] <= prom) & (prom <= pc[:, 1])),
                np.mean((lc[:, 0] <= at) & (at <= lc[:, 1])),
                np.mean(np.abs(c.mean(axis=1) - e_true) <= e_half),
            ]
        )
        * n_reps
    )
    cov = hits / n_reps
    nan = float("nan")
    return {
        "prominence": prom,
        "at": at,
        "excess": excess,
        "prominence_jackknife_t": float(cov[0]) if np.isfinite(prom) else nan,
        "prominence_percentile": float(cov[1]) if np.isfinite(prom) else nan,
        "location": float(cov[2]),
        "excess_coverage": float(cov[3]),
        "n_reps": n_reps,
    }
