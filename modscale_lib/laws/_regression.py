"""The regression machinery of the laws' decision (:func:`modscale_lib.laws.decide_law`): weighted least squares
and the censored-normal (Tobit) likelihood for many weightings of the same rows at once, and intervals from
replicates (the jackknife-t over seeds, or the percentile bootstrap, both from :mod:`modscale_lib.core`). Numpy
and scipy only.
"""

from __future__ import annotations

import math

import numpy as np

from ..core import jackknife_t, percentile_interval

__all__ = ["MEASURED", "ABOVE", "BELOW", "MISSING", "wls", "tobit", "replicates", "interval_from"]

MEASURED, ABOVE, BELOW, MISSING = 0, 1, 2, 3  # censoring codes: ABOVE = a lower bound on n*, BELOW = an upper one


def wls(X, y, W):
    """Weighted least squares for each row of weights: X (N, p), y (N,), W (R, N) -> (R, p) (NaN if singular)."""
    G = np.einsum("rn,np,nq->rpq", W, X, X)
    b = np.einsum("rn,np,n->rp", W, X, y)
    ok = np.linalg.cond(G) < 1e12
    out = np.full(b.shape, np.nan)
    if ok.any():
        out[ok] = np.linalg.solve(G[ok], b[ok][..., None])[..., 0]
    return out


def _loglik(phi, A, meas, kappa, W):
    """Tobit log-likelihood in Olsen's parametrisation ``phi = (theta/sigma, 1/sigma)``, (R,)."""
    from scipy.special import log_ndtr

    eta = phi[:, -1:]
    r = phi @ A.T  # x.theta/sigma - y/sigma
    with np.errstate(divide="ignore", invalid="ignore"):
        each = np.where(meas, np.log(np.where(eta > 0, eta, np.nan)) - 0.5 * r**2, log_ndtr(kappa * r))
    total = np.sum(W * each, axis=1)
    return np.where(np.isfinite(total), total, -np.inf)


def tobit(X, y, kind, W, eta_max: float, iterations: int = 100):
    """Censored-normal regression for each row of weights W (R, N): X (N, p), y (N,) values or limits, kind
    (N,) codes. Newton ascent with step halving on the concave log-likelihood; ``1/sigma`` capped at
    ``eta_max`` (the grid's resolution makes a smaller scatter meaningless). Returns theta (R, p)."""
    from scipy.special import log_ndtr

    A = np.concatenate([X, -y[:, None]], axis=1)
    meas, kappa = (kind == MEASURED), np.where(kind == ABOVE, 1.0, -1.0)
    theta = wls(X, y, W)
    resid = y[None, :] - theta @ X.T
    sigma = np.sqrt(np.sum(W * resid**2, axis=1) / np.sum(W, axis=1))
    sigma = np.maximum(np.nan_to_num(sigma, nan=1.0), 1.0 / eta_max)
    phi = np.concatenate([theta / sigma[:, None], 1.0 / sigma[:, None]], axis=1)
    n_meas = np.sum(W * meas, axis=1)
    ll = _loglik(phi, A, meas, kappa, W)
    for _ in range(iterations):
        r = phi @ A.T
        t = kappa * r
        h = np.exp(-0.5 * t**2 - 0.5 * math.log(2 * math.pi) - log_ndtr(t))
        grad = np.einsum("rn,np->rp", W * np.where(meas, -r, h * kappa), A)
        grad[:, -1] += n_meas / phi[:, -1]
        hess = -np.einsum("rn,np,nq->rpq", W * np.where(meas, 1.0, h * (t + h)), A, A)
        hess[:, -1, -1] -= n_meas / phi[:, -1] ** 2
        step = -np.linalg.solve(hess - 1e-12 * np.eye(A.shape[1]), grad[..., None])[..., 0]
        scale, done = np.ones(len(phi)), np.zeros(len(phi), dtype=bool)
        new, new_ll = phi.copy(), ll.copy()
        for _ in range(40):  # step halving, problem by problem
            trial = phi + scale[:, None] * step
            trial[:, -1] = np.clip(trial[:, -1], 1e-12, eta_max)
            trial_ll = _loglik(trial, A, meas, kappa, W)
            good = ~done & (trial_ll >= ll - 1e-12)
            new[good], new_ll[good], done = trial[good], trial_ll[good], done | good
            if done.all():
                break
            scale = np.where(done, scale, scale / 2)
        change = np.max(np.abs(new_ll - ll)) if np.isfinite(ll).all() else np.inf
        phi, ll = new, new_ll
        if change < 1e-10:
            break
    else:
        import warnings

        warnings.warn(
            f"the censored fit did not converge in {iterations} Newton steps (last change of the "
            f"log-likelihood {change:.2g}); its estimates may be off",
            RuntimeWarning,
            stacklevel=4,
        )
    return phi[:, :-1] / phi[:, -1:]


def replicates(n_seeds: int, interval: str, n_resamples: int, seed: int) -> np.ndarray:
    """Weights per seed (R, S): row 0 the full data, then leave-one-out (jackknife) or bootstrap counts."""
    if interval == "jackknife_t":
        return np.vstack([np.ones(n_seeds), 1.0 - np.eye(n_seeds)])
    rng = np.random.default_rng(seed)
    counts = rng.multinomial(n_seeds, np.full(n_seeds, 1.0 / n_seeds), size=n_resamples).astype(float)
    return np.vstack([np.ones(n_seeds), counts])


def interval_from(values: np.ndarray, interval: str, confidence: float) -> dict:
    """``estimate, low, high, se`` from replicate values (row 0 the full data), by the intervals of
    :mod:`modscale_lib.core`."""
    est, reps = float(values[0]), values[1:]
    if interval == "jackknife_t":
        half, se = jackknife_t(reps, confidence)
        return {"estimate": est, "low": est - half, "high": est + half, "se": se}
    low, high = percentile_interval(reps, confidence)
    return {"estimate": est, "low": low, "high": high, "se": float(np.std(reps[np.isfinite(reps)], ddof=1))}
