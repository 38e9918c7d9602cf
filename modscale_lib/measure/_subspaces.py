"""How well learned module projections match the true ones: the span of all modules, their grouping, and the
principal angles between modules.

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

from .. import core

__all__ = [
    "union_overlap",
    "grouped_overlap",
    "module_overlaps",
    "orthonormal_modules",
    "principal_cosines",
    "module_similarity",
    "matched_similarity",
    "matched_mean",
    "union_span_error",
    "similarity_score",
]


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


# Principal angles between modules whose columns are orthonormal already --------------------------------
def _orthonormal(U, name: str) -> np.ndarray:
    U = core.array(U, name, ndim=(2, 3))
    if U.ndim == 2:
        U = U[None]
    if 0 in U.shape:
        raise ValueError(f"{name} must have shape (K, m, b) or (m, b) with no empty axis, got {U.shape}")
    gram = np.einsum("kmb,kmc->kbc", U, U)
    if not np.allclose(gram, np.eye(U.shape[2]), atol=1e-4):
        raise ValueError(f"{name} must have orthonormal columns in each module")
    return U


def principal_cosines(U, V) -> np.ndarray:
    """Cosines of the principal angles between the column spans of ``U`` (m, b) and ``V`` (m, c), descending."""
    U, V = _orthonormal(U, "U")[0], _orthonormal(V, "V")[0]
    if U.shape[0] != V.shape[0]:
        raise ValueError(f"U and V must share the input dimension m, got {U.shape[0]} and {V.shape[0]}")
    return np.clip(np.linalg.svd(U.T @ V, compute_uv=False), 0.0, 1.0)


def module_similarity(true, learned) -> np.ndarray:
    """Mean ``cos^2`` of the principal angles between every true and every learned module, (K_true, K_learned).

    For ``b = 1`` it is the squared cosine of the angle between the two directions (sign-blind); it is 1 for
    the same subspace and, for a random direction in ``m`` dimensions, ``1/m`` on average.
    """
    T, L = _orthonormal(true, "true"), _orthonormal(learned, "learned")
    if T.shape[1:] != L.shape[1:]:
        raise ValueError(f"true and learned modules must share (m, b), got {T.shape[1:]} and {L.shape[1:]}")
    overlap = np.einsum("imb,jmc->ijbc", T, L)
    return np.sum(overlap**2, axis=(2, 3)) / T.shape[2]


def matched_similarity(true, learned) -> float:
    """Mean ``cos^2`` of principal angles after the best one-to-one matching of modules (Hungarian).

    With more learned than true modules the extra learned ones are left unmatched, and vice versa.
    """
    return matched_mean(module_similarity(true, learned))


def matched_mean(similarity) -> float:
    """The mean of a (true x learned) similarity matrix over the best one-to-one matching (Hungarian)."""
    from scipy.optimize import linear_sum_assignment

    S = core.array(similarity, "similarity", ndim=2)
    if S.size == 0:
        raise ValueError(f"similarity must be a non-empty (true x learned) matrix, got shape {S.shape}")
    rows, cols = linear_sum_assignment(-S)
    return float(S[rows, cols].mean())


def union_span_error(true, learned) -> float:
    """The share of the true modules' span lying outside the span of all learned modules together.

    ``||(I - P) U||_F^2 / (K b)``, with ``P`` the projector onto the learned columns: 0 when every true
    direction is spanned (even if the modules are mixed), 1 when all are orthogonal to the learned span.
    """
    T, L = _orthonormal(true, "true"), _orthonormal(learned, "learned")
    if T.shape[1] != L.shape[1]:
        raise ValueError(f"true and learned must share the input dimension m, got {T.shape[1]} and {L.shape[1]}")
    Ut = T.transpose(1, 0, 2).reshape(T.shape[1], -1)
    Q, _ = np.linalg.qr(L.transpose(1, 0, 2).reshape(L.shape[1], -1))
    resid = Ut - Q @ (Q.T @ Ut)
    return float(np.sum(resid**2) / Ut.shape[1])


def similarity_score(true, learned) -> float:
    """The book's stand-in for the paper's (undefined) "similarity score": the matched mean ``|cos|`` of the
    principal angles between true and learned modules, in ``[0, 1]``.

    The paper reports scores of 0.54 to 0.63 without defining them; ``|cos|`` rather than ``cos^2`` puts a
    random direction in 8 dimensions near 0.28 and a perfect match at 1.
    """
    from scipy.optimize import linear_sum_assignment

    T, L = _orthonormal(true, "true"), _orthonormal(learned, "learned")
    if T.shape[1] != L.shape[1]:
        raise ValueError(f"true and learned must share the input dimension m, got {T.shape[1]} and {L.shape[1]}")
    cos = np.array([[principal_cosines(t, u).mean() for u in L] for t in T])
    rows, cols = linear_sum_assignment(-cos)
    return float(cos[rows, cols].mean())
