"""How well learned module projections match the true ones: the span of all modules, and their grouping.

Two numbers, for true and learned projections of shape ``(K, m, b)`` (each module's columns are
orthonormalised first, so any basis of a module's subspace gives the same answer):

* :func:`union_overlap` ``= ||P_true P_learned||_F^2 / (K b)``, with ``P`` the orthogonal projectors onto the
  span of all modules' columns together: 1 when the learned modules span the true ones' span, however
  the directions are grouped; ``K b / m`` on average for a random span.
* :func:`grouped_overlap`: the mean over the best one-to-one matching of modules (Hungarian) of
  ``||U_i^T Û_j||_F^2 / b``: 1 only when every module's subspace is found as one module. Directions found
  but grouped wrongly lower it; for ``b = 1`` it is the matched mean ``cos^2``.

numpy and scipy only.
"""

from __future__ import annotations

import numpy as np

from . import core

__all__ = ["union_overlap", "grouped_overlap", "module_overlaps", "orthonormal_modules"]


def orthonormal_modules(projections, name: str = "projections") -> np.ndarray:
    """Each module's columns orthonormalised (QR), ``(K, m, b)`` float64; an ``(m, b)`` array is one module.

    Raises ``ValueError`` when a module's columns are linearly dependent (rank < b).
    """
    U = core.array(projections, name, ndim=(2, 3))
    if U.ndim == 2:
        U = U[None]
    K, m, b = U.shape
    if K < 1 or b < 1 or b > m:
        raise ValueError(f"{name} must have shape (K, m, b) with K >= 1 and 1 <= b <= m, got {U.shape}")
    Q, R = np.linalg.qr(U)
    diag = np.abs(np.diagonal(R, axis1=1, axis2=2))
    scale = np.maximum(np.linalg.norm(U, axis=(1, 2)), 1e-300)
    if np.any(diag < 1e-10 * scale[:, None]):
        raise ValueError(f"{name}: each module's {b} columns must be linearly independent")
    return Q


def _pair(true, learned) -> tuple[np.ndarray, np.ndarray]:
    T, L = orthonormal_modules(true, "true"), orthonormal_modules(learned, "learned")
    if T.shape[1] != L.shape[1]:
        raise ValueError(f"true and learned must share the input dimension m, got {T.shape[1]} and {L.shape[1]}")
    return T, L


def _span_projector(U: np.ndarray) -> np.ndarray:
    """The orthogonal projector (m, m) onto the span of all modules' columns of ``U`` (K, m, b)."""
    A = U.transpose(1, 0, 2).reshape(U.shape[1], -1)
    u, s, _ = np.linalg.svd(A, full_matrices=False)
    rank = int(np.sum(s > 1e-10 * max(s[0], 1e-300)))
    return u[:, :rank] @ u[:, :rank].T


def union_overlap(true, learned) -> float:
    """``||P_true P_learned||_F^2 / (K b)``: the share of the true modules' span inside the learned span.

    true : (K, m, b) (or (m, b)); learned : (K', m, b') (or (m, b')), spans of all modules together. With
    mutually orthogonal true modules ``rank P_true = K b``, and the value lies in ``[0, 1]``.
    """
    T, L = _pair(true, learned)
    Pt, Pl = _span_projector(T), _span_projector(L)
    return float(np.sum((Pt @ Pl) ** 2) / (T.shape[0] * T.shape[2]))


def module_overlaps(true, learned) -> np.ndarray:
    """``||U_i^T Û_j||_F^2 / b`` for every true module ``i`` and learned module ``j``, (K_true, K_learned).

    ``b`` is the true modules' dimension; the learned modules may have another dimension.
    """
    T, L = _pair(true, learned)
    return np.sum(np.einsum("imb,jmc->ijbc", T, L) ** 2, axis=(2, 3)) / T.shape[2]


def grouped_overlap(true, learned) -> float:
    """Mean ``||U_i^T Û_j||_F^2 / b`` over the best one-to-one matching of true and learned modules.

    true, learned : (K, m, b) projections (the Hungarian matching, ``scipy.optimize.linear_sum_assignment``,
    leaves extra modules of either side unmatched). In ``[0, 1]``; a random ``b``-dimensional subspace of
    ``R^m`` scores about ``b / m`` against one module, more after matching.
    """
    from scipy.optimize import linear_sum_assignment

    S = module_overlaps(true, learned)
    rows, cols = linear_sum_assignment(-S)
    return float(S[rows, cols].mean())
