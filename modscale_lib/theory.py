"""Closed forms of the linear random-feature model of generalisation (numpy only, no torch).

The model is the one restated in the book's theory chapters: white Gaussian features, task weights
``theta_i ~ N(0, lambda_i)``, a network that sees the first ``p`` features, and the minimum-norm
least-squares fit to ``N = d*n`` scalar equations.
"""
from __future__ import annotations

import numpy as np

__all__ = ["pinv_frobenius_moment", "simulate_pinv_frobenius_moment"]


def _check_positive_int_array(name: str, value) -> np.ndarray:
    arr = np.asarray(value)
    if arr.size == 0:
        raise ValueError(f"{name} must be non-empty")
    if not np.issubdtype(arr.dtype, np.number) or np.any(~np.isfinite(arr)):
        raise ValueError(f"{name} must be finite numbers, got {value!r}")
    if np.any(arr < 1):
        raise ValueError(f"{name} must be >= 1, got minimum {arr.min()!r}")
    if np.any(arr != np.round(arr)):
        raise ValueError(f"{name} must be whole numbers, got {value!r}")
    return arr.astype(np.int64)


def pinv_frobenius_moment(N, p):
    """``F(N, p) = E ||R^+||_F^2`` for an ``N x p`` matrix ``R`` of i.i.d. standard normal entries.

    By the inverse-Wishart mean, ``F = p / (N - p - 1)`` when ``N > p + 1`` and ``N / (p - N - 1)`` when
    ``p > N + 1``; it is infinite when ``|N - p| <= 1``.

    Parameters
    ----------
    N, p : int or integer arrays (broadcast together), each >= 1. ``N`` is the number of equations
        (rows), ``p`` the number of unknowns (columns).

    Returns
    -------
    float array of the broadcast shape (a 0-d array for scalar inputs), ``inf`` near ``N = p``.
    """
    N = _check_positive_int_array("N", N).astype(float)
    p = _check_positive_int_array("p", p).astype(float)
    N, p = np.broadcast_arrays(N, p)
    out = np.full(N.shape, np.inf)
    under = N > p + 1
    over = p > N + 1
    out[under] = p[under] / (N[under] - p[under] - 1)
    out[over] = N[over] / (p[over] - N[over] - 1)
    return out


def simulate_pinv_frobenius_moment(N: int, p: int, trials: int = 1000, seed: int = 0) -> tuple[float, float]:
    """Monte Carlo estimate of ``E ||R^+||_F^2``, through the singular values of sampled matrices.

    ``||R^+||_F^2`` is the sum of the inverse squared non-zero singular values of ``R``, which avoids forming
    the pseudo-inverse and so is an independent path from :func:`pinv_frobenius_moment`.

    Returns
    -------
    (mean, standard error of the mean), both floats.
    """
    N = int(_check_positive_int_array("N", N))
    p = int(_check_positive_int_array("p", p))
    if int(trials) < 2:
        raise ValueError(f"trials must be >= 2 to estimate a standard error, got {trials!r}")
    rng = np.random.default_rng(seed)
    R = rng.standard_normal((int(trials), N, p))
    s = np.linalg.svd(R, compute_uv=False)  # (trials, min(N, p)); full rank with probability one
    values = np.sum(s ** -2.0, axis=1)
    return float(values.mean()), float(values.std(ddof=1) / np.sqrt(values.size))
