"""Measurements on results: growth rates and, later, subspace similarity (numpy only, no torch)."""
from __future__ import annotations

import numpy as np

__all__ = ["growth_per_dimension"]


def growth_per_dimension(input_dims, n_samples) -> float:
    """The factor by which ``n`` grows per added input dimension: ``10**slope`` of ``log10 n`` against ``m``.

    A least-squares line through ``(m, log10 n)``; points with infinite or non-positive ``n`` are dropped.

    Parameters
    ----------
    input_dims : 1-D array of dimensions ``m``. n_samples : array of the same shape, sample complexities.

    Returns
    -------
    float: the growth factor (1 means flat); ``nan`` if fewer than two usable points remain.
    """
    m = np.asarray(input_dims, dtype=float)
    n = np.asarray(n_samples, dtype=float)
    if m.shape != n.shape or m.ndim != 1:
        raise ValueError(f"input_dims and n_samples must be 1-D arrays of one shape, got {m.shape} and {n.shape}")
    ok = np.isfinite(n) & (n > 0) & np.isfinite(m)
    if ok.sum() < 2:
        return float("nan")
    slope = np.polyfit(m[ok], np.log10(n[ok]), 1)[0]
    return float(10.0 ** slope)
