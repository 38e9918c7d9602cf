"""Diagnostics of a modular network's input projections: how far they moved, how much they overlap, where they look.

A module reads ``U_j^T x`` with ``U_j`` an ``(m, b)`` matrix; only its column span matters, so every measure
here uses the orthonormal basis of that span (QR; a trained ``U_j`` is no longer orthonormal).

* :func:`subspace_overlap` ``(U, V)``: ``||Q_U^T Q_V||_F^2 / b``, the mean squared cosine of the principal
  angles: 1 for the same span, 0 for orthogonal spans, about ``b / m`` for two random spans.
* :func:`movement`: ``1 - overlap(start, end)`` per module: 0 when a projection stayed where it started.
* :func:`pairwise_overlap`: the overlap of every pair of distinct modules of one network (are they distinct?).
* :func:`slot_shares` / :func:`locality`: the share of each projection's squared weight in each image slot of
  a composite, and the largest share (1: the module reads one image; ``1 / k``: spread evenly).

Composite images are ``(32, 32 k, 3)`` flattened row by row (``data.to_features``), so slot ``j`` holds the
columns ``32 j .. 32 j + 31`` of every pixel row: :func:`slot_of_feature` gives each feature's slot.
"""
from __future__ import annotations

import numpy as np

from . import validation

__all__ = ["orthonormal_basis", "subspace_overlap", "movement", "pairwise_overlap", "slot_of_feature",
           "slot_shares", "locality", "summarise"]


def orthonormal_basis(U) -> np.ndarray:
    """An orthonormal basis of the column span of each ``(..., m, b)`` matrix, float64, same shape."""
    U = np.asarray(validation.as_numpy(U), dtype=np.float64)
    if U.ndim < 2 or U.shape[-1] > U.shape[-2] or U.shape[-1] < 1:
        raise ValueError(f"U must have shape (..., m, b) with 1 <= b <= m, got {U.shape}")
    if not np.all(np.isfinite(U)):
        raise ValueError("U must be finite")
    Q, _ = np.linalg.qr(U)
    return Q


def subspace_overlap(U, V) -> np.ndarray:
    """``||Q_U^T Q_V||_F^2 / b`` for matching ``(..., m, b)`` stacks: in [0, 1], shape ``(...)``."""
    Q, R = orthonormal_basis(U), orthonormal_basis(V)
    if Q.shape != R.shape:
        raise ValueError(f"U and V must have the same shape, got {Q.shape} and {R.shape}")
    return (np.einsum("...mb,...mc->...bc", Q, R) ** 2).sum(axis=(-2, -1)) / Q.shape[-1]


def movement(start, end) -> np.ndarray:
    """``1 - subspace_overlap(start, end)`` per module, ``(..., K)`` for ``(..., K, m, b)`` projections."""
    return 1.0 - subspace_overlap(start, end)


def pairwise_overlap(U) -> np.ndarray:
    """The overlap of every pair ``i < j`` of the ``K`` modules in ``(..., K, m, b)``: ``(..., K (K - 1) / 2)``."""
    Q = orthonormal_basis(U)
    if Q.ndim < 3:
        raise ValueError(f"U must have shape (..., K, m, b), got {Q.shape}")
    K = Q.shape[-3]
    gram = (np.einsum("...imb,...jmc->...ijbc", Q, Q) ** 2).sum(axis=(-2, -1)) / Q.shape[-1]
    i, j = np.triu_indices(K, k=1)
    return gram[..., i, j]


def slot_of_feature(k: int, height: int = 32, width: int = 32, channels: int = 3) -> np.ndarray:
    """The image slot (0..k-1) of each of the ``height * width * k * channels`` features of a composite."""
    k = validation.whole(k, "k", low=1)
    column = np.arange(width * k)
    slots = np.broadcast_to((column // width)[None, :, None], (height, width * k, channels))
    return slots.reshape(-1)


def slot_shares(U, k: int) -> np.ndarray:
    """The share of each projection's squared weight in each slot: ``(..., k)`` for ``(..., m, b)``, rows sum to 1.

    Measured on the orthonormal basis, so the result describes the span the module reads, not its scaling.
    """
    Q = orthonormal_basis(U)
    slots = slot_of_feature(k)
    if Q.shape[-2] != slots.size:
        raise ValueError(f"U has {Q.shape[-2]} rows, but a composite of k={k} images has {slots.size} features")
    weight = (Q ** 2).sum(axis=-1)                      # (..., m)
    shares = np.stack([weight[..., slots == s].sum(axis=-1) for s in range(k)], axis=-1)
    return shares / shares.sum(axis=-1, keepdims=True)


def locality(U, k: int) -> np.ndarray:
    """The largest slot share of each projection, ``(...)``: 1 for a module that reads one image, ``1/k`` at least."""
    return slot_shares(U, k).max(axis=-1)


def summarise(start, end, k: int) -> dict:
    """Means over modules for one network's ``(K, m, b)`` projections ``start`` and ``end``: ``moved``
    (mean movement), ``overlap_start``/``overlap_end`` (mean pairwise overlap; NaN for one module),
    ``overlap_end_max``, ``local_start``/``local_end`` (mean locality)."""
    pairs_start, pairs_end = pairwise_overlap(start), pairwise_overlap(end)
    mean = (lambda a: float(a.mean()) if a.size else float("nan"))
    return {"moved": float(movement(start, end).mean()), "overlap_start": mean(pairs_start),
            "overlap_end": mean(pairs_end), "overlap_end_max": float(pairs_end.max()) if pairs_end.size else
            float("nan"), "local_start": float(locality(start, k).mean()), "local_end": float(locality(end, k).mean())}
