"""Closed forms of the linear random-feature model of generalisation (numpy only, no torch).

The model is the one restated in the book's theory chapters: white Gaussian features, task weights
``theta_i ~ N(0, lambda_i)``, a network that sees the first ``p`` features, and the minimum-norm
least-squares fit to ``N = d*n`` scalar equations.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ..core import RealArray, Seed, Whole, check_size, validated
from ._checks import COUNTS, NOISE, NONNEGATIVE, broadcast_shape, spectrum

__all__ = [
    "pinv_frobenius_moment",
    "simulate_pinv_frobenius_moment",
    "losses_from_traces",
    "expected_losses",
    "simulate_losses",
    "SimulatedLosses",
]

_BROADCAST = "n (or N), p and the other array arguments"


@validated(N=COUNTS, p=COUNTS)
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
    broadcast_shape(_BROADCAST, N, p)
    return pinv_moment(N.astype(float), p.astype(float))


def pinv_moment(N, p) -> np.ndarray:
    """:func:`pinv_frobenius_moment` on checked float arrays (shared with the loss formulas)."""
    N, p = np.broadcast_arrays(np.asarray(N, dtype=float), np.asarray(p, dtype=float))
    out = np.full(N.shape, np.inf)
    under = N > p + 1
    over = p > N + 1
    out[under] = p[under] / (N[under] - p[under] - 1)
    out[over] = N[over] / (p[over] - N[over] - 1)
    return out


@validated(N=Whole(1), p=Whole(1), trials=Whole(2), seed=Seed())
def simulate_pinv_frobenius_moment(N: int, p: int, trials: int = 1000, seed: int = 0) -> tuple[float, float]:
    """Monte Carlo estimate of ``E ||R^+||_F^2``, through the singular values of sampled matrices.

    ``||R^+||_F^2`` is the sum of the inverse squared non-zero singular values of ``R``, which avoids forming
    the pseudo-inverse and so is an independent path from :func:`pinv_frobenius_moment`.

    Returns
    -------
    (mean, standard error of the mean), both floats.
    """
    check_size(trials * N * p, "trials * N * p")
    rng = np.random.default_rng(seed)
    R = rng.standard_normal((trials, N, p))
    s = np.linalg.svd(R, compute_uv=False)  # (trials, min(N, p)); full rank with probability one
    values = np.sum(s**-2.0, axis=1)
    return float(values.mean()), float(values.std(ddof=1) / np.sqrt(values.size))


@validated(
    N=RealArray(1.0), p=RealArray(1.0), trace_seen=NONNEGATIVE, trace_missing=NONNEGATIVE, d=Whole(1), noise=NONNEGATIVE
)
def losses_from_traces(N, p, trace_seen, trace_missing, d: int = 1, noise=0.0):
    """Expected (train, test) loss from the two traces of the split spectrum, broadcasting over arrays.

    This is the core of :func:`expected_losses`; it also serves the infinite spectra whose traces have
    closed forms. With ``s2 = trace_missing + noise`` (the missing features act as label noise):

    * ``N > p + 1`` (under-parameterised): train ``d*s2*(1 - p/N)``, test ``d*s2*(1 + F(N, p))``;
    * ``p > N + 1`` (over-parameterised): train ``0``, test ``d*trace_seen*(1 - N/p) + d*s2*(1 + F(N, p))``;
    * ``|N - p| <= 1``: test ``inf`` (unless ``s2 = 0``: then only the bias remains); train as above.

    Parameters
    ----------
    N : number of scalar equations ``d*n`` (>= 1). p : number of features seen (>= 1).
    trace_seen, trace_missing : ``Tr Lambda_1`` and ``Tr Lambda_2`` (>= 0), broadcast with ``N`` and ``p``.
    d : number of outputs; losses are per sample and summed over outputs. noise : label-noise variance.

    Returns
    -------
    (train, test) : float arrays of the broadcast shape.
    """
    broadcast_shape(_BROADCAST, N, p, trace_seen, trace_missing, noise)
    return loss_formulas(N, p, trace_seen, trace_missing, d, noise)


def loss_formulas(N, p, trace_seen, trace_missing, d: int, noise) -> tuple[np.ndarray, np.ndarray]:
    """:func:`losses_from_traces` on checked float arrays that broadcast (the theory's inner calls)."""
    N, p = np.broadcast_arrays(N, p)
    s2 = trace_missing + noise
    seen = trace_seen
    with np.errstate(divide="ignore", invalid="ignore"):
        F = pinv_moment(N, p)
        train = np.where(N > p, d * s2 * (1.0 - p / N), 0.0)
        bias = np.where(p > N, d * seen * (1.0 - N / p), 0.0)
        # With nothing missing and no noise the fit is exact at N >= p: 0 * inf is 0 here, not nan.
        test = bias + np.where(s2 > 0, d * s2 * (1.0 + F), 0.0)
    return train * np.ones_like(test), test


@validated(n=COUNTS, p=COUNTS, spectrum=spectrum, d=Whole(1), noise=NONNEGATIVE)
def expected_losses(n, p, spectrum, d: int = 1, noise: float = 0.0):
    """Closed-form expected train and test loss of the minimum-norm fit in the linear model.

    Explained in the chapter :doc:`/book/theory_linear_model`.

    The task is ``y = phi(x)^T theta`` with i.i.d. standard normal features and ``theta_i ~ N(0, lambda_i)``;
    the network sees the first ``p`` features and fits ``N = d*n`` scalar equations by minimum-norm least
    squares. Losses are per sample and summed over the ``d`` outputs (see :func:`losses_from_traces`).

    Parameters
    ----------
    n : number of training samples, int or integer array (>= 1).
    p : number of features (parameters) the network sees, int or integer array (>= 1); broadcast with ``n``.
    spectrum : 1-D array of eigenvalues ``lambda``, sorted descending, of length ``P >= max(p)``.
        Features beyond the array do not exist; add the mass of an infinite tail to ``noise``.
    d : number of outputs (>= 1).
    noise : label-noise variance per output (>= 0).

    Returns
    -------
    (train, test) : float arrays of the broadcast shape of ``n`` and ``p``; ``test`` is ``inf`` where
    ``|d*n - p| <= 1``.
    """
    broadcast_shape(_BROADCAST, n, p, noise)
    cumulative = np.concatenate([[0.0], np.cumsum(spectrum)])
    seen = cumulative[p]
    missing = cumulative[-1] - seen
    return loss_formulas((d * n).astype(float), p.astype(float), seen, np.maximum(missing, 0.0), d, noise)


class SimulatedLosses(NamedTuple):
    """Monte Carlo means of the train and test loss, with their standard errors."""

    train: float
    test: float
    train_se: float
    test_se: float


@validated(n=Whole(1), p=Whole(1), spectrum=spectrum, d=Whole(1), noise=NOISE, trials=Whole(2), seed=Seed())
def simulate_losses(
    n: int, p: int, spectrum, d: int = 1, noise: float = 0.0, trials: int = 200, seed: int = 0
) -> SimulatedLosses:
    """Monte Carlo of the linear model, by an independent code path: sample, solve, measure.

    Each trial draws task weights ``theta ~ N(0, diag(spectrum))``, ``n`` training inputs (each gives a
    ``P x d`` block of standard normal features, so ``N = d*n`` rows), labels with Gaussian noise, and the
    minimum-norm least-squares fit on the first ``p`` features (via the SVD-based pseudo-inverse). The train loss
    is measured on the training set; the test loss is the exact expectation over a fresh input given the
    fitted weights, ``d*(||theta_seen - theta_hat||^2 + ||theta_missing||^2 + noise)``, which for Gaussian
    features is what an infinite test set would measure.

    Returns
    -------
    :class:`SimulatedLosses` (train, test, train_se, test_se): means over ``trials`` and their standard errors.
    """
    lam = spectrum
    check_size(d * n * lam.size, "n * d * len(spectrum)")
    check_size(trials * d * n, "trials * n * d")
    rng = np.random.default_rng(seed)
    N = d * n
    train, test = np.empty(trials), np.empty(trials)
    chunk = max(1, int(2e7 // (N * lam.size)))  # trials per batch, bounding memory to ~160 MB
    for start in range(0, trials, chunk):
        T = min(chunk, trials - start)
        theta = rng.standard_normal((T, lam.size)) * np.sqrt(lam)
        phi = rng.standard_normal((T, N, lam.size))
        y = np.einsum("tnP,tP->tn", phi, theta) + np.sqrt(noise) * rng.standard_normal((T, N))
        # Minimum-norm least squares through the SVD-based pseudo-inverse, batched over trials.
        theta_hat = np.einsum("tpn,tn->tp", np.linalg.pinv(phi[:, :, :p]), y)
        resid = y - np.einsum("tnp,tp->tn", phi[:, :, :p], theta_hat)
        train[start : start + T] = np.sum(resid**2, axis=1) / n
        test[start : start + T] = d * (
            np.sum((theta[:, :p] - theta_hat) ** 2, axis=1) + np.sum(theta[:, p:] ** 2, axis=1) + noise
        )
    se = lambda v: float(v.std(ddof=1) / np.sqrt(v.size))  # noqa: E731
    return SimulatedLosses(float(train.mean()), float(test.mean()), se(train), se(test))
