"""The moment methods (SIR, SAVE, pHd) and the oracle bound (active subspace): eigenvectors of a moment of
the whitened inputs and the target (numpy only)."""

from __future__ import annotations

import numpy as np

from ..core import Array, Check, Whole, validated
from ._inputs import COMMON, top_directions, whiten

__all__ = ["sir", "save", "phd", "active_subspace"]

_SLICES = Whole(2, high=lambda a: len(a["y"]))


def _slices(y: np.ndarray, n_slices: int) -> list[np.ndarray]:
    """Indices of ``n_slices`` slices of (nearly) equal size, by the order of ``y`` (ties broken stably)."""
    return np.array_split(np.argsort(y, kind="stable"), n_slices)


@validated(**COMMON, n_slices=_SLICES)
def sir(X, y, n_directions, *, seed=0, n_slices=10) -> np.ndarray:
    """Sliced inverse regression (Li 1991, JASA 86:316).

    Slices ``y`` into ``n_slices`` groups of equal size and eigen-decomposes ``sum_h p_h m_h m_h^T``, with
    ``m_h`` the mean of ``z`` in slice ``h``. Assumes the linearity condition (elliptical, e.g. Gaussian,
    inputs) and finds only directions along which ``E[z | y]`` moves: it misses directions on which the
    target is symmetric (e.g. ``y = (u^T x)^2``). ``seed`` is accepted for the common signature and unused.
    Returns (m, n_directions), orthonormal.
    """
    Z, ys, unwhiten = whiten(X, y)
    k = n_directions
    slices = _slices(ys, n_slices)
    means = np.stack([Z[s].mean(axis=0) for s in slices])
    weights = np.array([len(s) for s in slices]) / len(ys)
    return top_directions((means * weights[:, None]).T @ means, k, unwhiten)


@validated(**COMMON, n_slices=_SLICES)
def save(X, y, n_directions, *, seed=0, n_slices=10) -> np.ndarray:
    """Sliced average variance estimation (Cook & Weisberg 1991, JASA 86:328).

    Eigen-decomposes ``sum_h p_h (I - V_h)^2``, with ``V_h`` the covariance of ``z`` in slice ``h`` of
    ``y``. Assumes linearity and constant-variance conditions (Gaussian inputs satisfy both); it sees
    symmetric dependence that SIR misses but is less efficient on monotone trends.
    ``seed`` is accepted for the common signature and unused. Returns (m, n_directions), orthonormal.
    """
    Z, ys, unwhiten = whiten(X, y)
    k = n_directions
    m = Z.shape[1]
    kernel = np.zeros((m, m))
    for s in _slices(ys, n_slices):
        zs = Z[s] - Z[s].mean(axis=0)
        gap = np.eye(m) - zs.T @ zs / max(len(s) - 1, 1)
        kernel += len(s) / len(ys) * gap @ gap
    return top_directions(kernel, k, unwhiten)


@validated(**COMMON)
def phd(X, y, n_directions, *, seed=0) -> np.ndarray:
    """Principal Hessian directions, residual-based (Li 1992, JASA 87:1025; Cook 1998, JASA 93:84).

    Eigen-decomposes ``(1/n) sum_i r_i z_i z_i^T`` with ``r`` the residual of ``y`` after least squares on
    ``z``, and ranks eigenvectors by ``|eigenvalue|``. Under Gaussian inputs this matrix estimates the
    average Hessian ``E[grad^2 f]`` (Stein's lemma), so pHd finds directions of non-zero average curvature
    and misses purely linear or odd ones (e.g. ``sin(u^T x)`` with zero phase). Taking residuals rather than
    ``y`` itself removes the linear trend's noise. ``seed`` is accepted for the common signature and unused.
    Returns (m, n_directions), orthonormal.
    """
    Z, ys, unwhiten = whiten(X, y)
    k = n_directions
    resid = ys - Z @ np.linalg.lstsq(Z, ys, rcond=None)[0]
    return top_directions((Z * resid[:, None]).T @ Z / len(ys), k, unwhiten, by_magnitude=True)


def _gradients(value, name: str, arguments: dict) -> np.ndarray:
    G = Array(ndim=2, min_rows=1)(value, name)
    if G.shape[1] < 1:
        raise ValueError(f"{name} must have at least one column")
    if not np.any(G):
        raise ValueError(f"{name} are all zero: the target is constant and has no active subspace")
    return G


@validated(gradients=Check(_gradients), n_directions=Whole(1, high=lambda a: a["gradients"].shape[1]))
def active_subspace(gradients, n_directions) -> np.ndarray:
    """Active subspace (Constantine, Dow & Wang 2014, SISC 36:A1500): the top eigenvectors of the average
    gradient outer product ``(1/n) sum_i g_i g_i^T`` of the true target.

    An oracle bound, not an estimator from data: it needs the exact gradients ``gradients`` (n, m) of the
    target at the samples, which no method given only ``(X, y)`` has. Returns (m, n_directions), orthonormal.
    """
    m = gradients.shape[1]
    return top_directions(gradients.T @ gradients / len(gradients), n_directions, np.eye(m))
