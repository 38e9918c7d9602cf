"""Classic dimension reduction: methods that find the low-dimensional projections a target depends on.

These are the peers of the book's learning rule (:mod:`modscale_lib.learning_rule`): given samples ``X``
(n, m) and a scalar target ``y`` (n,), each estimates a basis of the subspace ``span(U)`` when
``y = f(U^T x) + noise``. Every method has one signature,

    ``f(X, y, n_directions, *, seed=0) -> np.ndarray`` of shape ``(m, n_directions)``, orthonormal columns,

and is listed in :data:`METHODS` by name: ``sir``, ``save``, ``phd`` (moment methods, here), ``gkdr``,
``ppr``, ``rfm``, ``egop`` (methods that fit a model, in :mod:`modscale_lib.peers_fitted`). Extra keywords
(number of slices, bandwidths, iterations...) have defaults; the registry calls use them.
:func:`active_subspace` is different: it reads the true gradients of the target, so it is an oracle bound,
not an estimator from ``(X, y)``.

Inputs: ``X`` needs at least ``max(10, 2 m)`` rows and a non-singular sample covariance; ``y`` must be
finite, non-constant and as long as ``X``; ``1 <= n_directions <= m``. Torch tensors are accepted. Every
method works in whitened coordinates ``z = Sigma^(-1/2) (x - mean)`` and maps its directions back with
``Sigma^(-1/2)``; results are deterministic given ``seed`` (the moment methods ignore it).
"""
from __future__ import annotations

from typing import Callable

import numpy as np

from . import validation
from .peers_fitted import MIN_SAMPLES, egop, gkdr, ppr, prepare, rfm, top_directions

__all__ = ["sir", "save", "phd", "gkdr", "ppr", "rfm", "egop", "active_subspace", "METHODS", "MIN_SAMPLES"]


def _slices(y: np.ndarray, n_slices) -> list[np.ndarray]:
    """Indices of ``n_slices`` slices of (nearly) equal size, by the order of ``y`` (ties broken stably)."""
    n_slices = validation.whole(n_slices, "n_slices", low=2, high=len(y))
    return np.array_split(np.argsort(y, kind="stable"), n_slices)


def sir(X, y, n_directions, *, seed=0, n_slices=10) -> np.ndarray:
    """Sliced inverse regression (Li 1991, JASA 86:316).

    Slices ``y`` into ``n_slices`` groups of equal size and eigen-decomposes ``sum_h p_h m_h m_h^T``, with
    ``m_h`` the mean of ``z`` in slice ``h``. Assumes the linearity condition (elliptical, e.g. Gaussian,
    inputs) and finds only directions along which ``E[z | y]`` moves: it misses directions on which the
    target is symmetric (e.g. ``y = (u^T x)^2``). ``seed`` is accepted for the common signature and unused.
    Returns (m, n_directions), orthonormal.
    """
    Z, ys, unwhiten, k, _ = prepare(X, y, n_directions, seed)
    slices = _slices(ys, n_slices)
    means = np.stack([Z[s].mean(axis=0) for s in slices])
    weights = np.array([len(s) for s in slices]) / len(ys)
    return top_directions((means * weights[:, None]).T @ means, k, unwhiten)


def save(X, y, n_directions, *, seed=0, n_slices=10) -> np.ndarray:
    """Sliced average variance estimation (Cook & Weisberg 1991, JASA 86:328).

    Eigen-decomposes ``sum_h p_h (I - V_h)^2``, with ``V_h`` the covariance of ``z`` in slice ``h`` of
    ``y``. Assumes linearity and constant-variance conditions (Gaussian inputs satisfy both); it sees
    symmetric dependence that SIR misses but is less efficient on monotone trends.
    ``seed`` is accepted for the common signature and unused. Returns (m, n_directions), orthonormal.
    """
    Z, ys, unwhiten, k, _ = prepare(X, y, n_directions, seed)
    m = Z.shape[1]
    kernel = np.zeros((m, m))
    for s in _slices(ys, n_slices):
        zs = Z[s] - Z[s].mean(axis=0)
        gap = np.eye(m) - zs.T @ zs / max(len(s) - 1, 1)
        kernel += len(s) / len(ys) * gap @ gap
    return top_directions(kernel, k, unwhiten)


def phd(X, y, n_directions, *, seed=0) -> np.ndarray:
    """Principal Hessian directions, residual-based (Li 1992, JASA 87:1025; Cook 1998, JASA 93:84).

    Eigen-decomposes ``(1/n) sum_i r_i z_i z_i^T`` with ``r`` the residual of ``y`` after least squares on
    ``z``, and ranks eigenvectors by ``|eigenvalue|``. Under Gaussian inputs this matrix estimates the
    average Hessian ``E[grad^2 f]`` (Stein's lemma), so pHd finds directions of non-zero average curvature
    and misses purely linear or odd ones (e.g. ``sin(u^T x)`` with zero phase). Taking residuals rather than
    ``y`` itself removes the linear trend's noise. ``seed`` is accepted for the common signature and unused.
    Returns (m, n_directions), orthonormal.
    """
    Z, ys, unwhiten, k, _ = prepare(X, y, n_directions, seed)
    resid = ys - Z @ np.linalg.lstsq(Z, ys, rcond=None)[0]
    return top_directions((Z * resid[:, None]).T @ Z / len(ys), k, unwhiten, by_magnitude=True)


def active_subspace(gradients, n_directions) -> np.ndarray:
    """Active subspace (Constantine, Dow & Wang 2014, SISC 36:A1500): the top eigenvectors of the average
    gradient outer product ``(1/n) sum_i g_i g_i^T`` of the true target.

    An oracle bound, not an estimator from data: it needs the exact gradients ``gradients`` (n, m) of the
    target at the samples, which no method given only ``(X, y)`` has. Returns (m, n_directions), orthonormal.
    """
    G = validation.array(gradients, "gradients", ndim=2, min_rows=1)
    m = G.shape[1]
    if m < 1:
        raise ValueError("gradients must have at least one column")
    k = validation.whole(n_directions, "n_directions", low=1, high=m)
    if not np.any(G):
        raise ValueError("gradients are all zero: the target is constant and has no active subspace")
    return top_directions(G.T @ G / len(G), k, np.eye(m))


METHODS: dict[str, Callable[..., np.ndarray]] = {
    "sir": sir, "save": save, "phd": phd, "gkdr": gkdr, "ppr": ppr, "rfm": rfm, "egop": egop,
}
"""Every peer method by name; each is called as ``METHODS[name](X, y, n_directions, seed=seed)``."""
