"""What every peer method shares: the rules for its common arguments ``(X, y, n_directions, seed)``, the
whitening of ``X`` and the eigenvectors mapped back to ``x`` (numpy only)."""

from __future__ import annotations

import numpy as np

from ..core import Check, Seed, Whole, array

__all__ = ["MIN_SAMPLES", "COMMON", "whiten", "top_directions"]

MIN_SAMPLES = 10
"""Every method needs at least ``max(MIN_SAMPLES, 2 m)`` rows of ``X``."""


def _samples(value, name: str, arguments: dict) -> np.ndarray:
    X = array(value, name, ndim=2)
    n, m = X.shape
    if m < 1:
        raise ValueError(f"{name} must have at least one column")
    if n < max(MIN_SAMPLES, 2 * m):
        raise ValueError(
            f"{name} must have at least max({MIN_SAMPLES}, 2 * input_dim) = {max(MIN_SAMPLES, 2 * m)} "
            f"rows for input_dim = {m}, got {n}"
        )
    return X


def _target(value, name: str, arguments: dict) -> np.ndarray:
    y = array(value, name, ndim=1)
    n = arguments["X"].shape[0]
    if y.shape[0] != n:
        raise ValueError(f"{name} must have one entry per row of X ({n}), got {y.shape[0]}")
    if not y.std() > 1e-12 * max(1.0, float(np.abs(y).max())):
        raise ValueError(f"{name} must not be constant: no direction can be identified from a constant target")
    return y


#: The rules of the arguments every method takes, for :func:`modscale_lib.core.validated`: ``X`` (n, m) with
#: ``n >= max(MIN_SAMPLES, 2 m)``, ``y`` (n,) not constant, ``1 <= n_directions <= m`` and a seed.
COMMON = {
    "X": Check(_samples),
    "y": Check(_target),
    "n_directions": Whole(1, high=lambda a: a["X"].shape[1]),
    "seed": Seed(),
}


def whiten(X: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(Z, y_std, unwhiten)`` of checked inputs: ``Z`` (n, m) is ``X`` centred and whitened with its sample
    covariance, ``y_std`` (n,) is ``y`` centred and scaled to unit variance, ``unwhiten`` (m, m) is
    ``Sigma^(-1/2)`` (maps a direction found in ``z`` to ``x``). Raises ``ValueError`` naming ``X`` when its
    sample covariance is singular."""
    m = X.shape[1]
    mean = X.mean(axis=0)
    cov = np.cov(X, rowvar=False).reshape(m, m)
    evals, evecs = np.linalg.eigh(cov)
    if evals[0] <= 1e-10 * max(evals[-1], 1e-300):
        rank = int(np.sum(evals > 1e-10 * max(evals[-1], 1e-300)))
        raise ValueError(
            f"X's sample covariance is singular (rank {rank} < input_dim = {m}): drop constant or collinear columns"
        )
    unwhiten = (evecs / np.sqrt(evals)) @ evecs.T
    return (X - mean) @ unwhiten, (y - y.mean()) / y.std(), unwhiten


def top_directions(matrix: np.ndarray, k: int, unwhiten: np.ndarray, *, by_magnitude: bool = False) -> np.ndarray:
    """The top-``k`` eigenvectors of a symmetric ``(m, m)`` matrix in ``z``, mapped to ``x`` and orthonormalised.

    ``by_magnitude`` ranks eigenvalues by absolute value (pHd). Columns get a fixed sign (largest entry
    positive) so that equal inputs give equal outputs. Returns (m, k).
    """
    matrix = 0.5 * (matrix + matrix.T)
    evals, evecs = np.linalg.eigh(matrix)
    order = np.argsort(-(np.abs(evals) if by_magnitude else evals), kind="stable")[:k]
    Q, _ = np.linalg.qr(unwhiten @ evecs[:, order])
    pivot = np.argmax(np.abs(Q), axis=0)
    return Q * np.where(Q[pivot, np.arange(k)] < 0, -1.0, 1.0)
