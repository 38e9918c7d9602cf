"""Argument checks shared by the theory modules (numpy only)."""
from __future__ import annotations

import numpy as np


def check_positive_int_array(name: str, value) -> np.ndarray:
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


def check_spectrum(spectrum, min_length: int = 1) -> np.ndarray:
    lam = np.asarray(spectrum, dtype=float)
    if lam.ndim != 1 or lam.size == 0:
        raise ValueError(f"spectrum must be a non-empty 1-D array of eigenvalues, got shape {lam.shape}")
    if not np.all(np.isfinite(lam)) or np.any(lam < 0):
        raise ValueError("spectrum must hold finite, non-negative eigenvalues")
    if np.any(np.diff(lam) > 0):
        raise ValueError("spectrum must be sorted in descending order (lambda_1 >= lambda_2 >= ...)")
    if lam.size < min_length:
        raise ValueError(f"spectrum is too short: it has {lam.size} eigenvalues but p goes up to {min_length}; "
                         f"need len(spectrum) >= max(p)")
    return lam


def check_nonnegative(name: str, value) -> np.ndarray:
    arr = np.asarray(value, dtype=float)
    if np.any(~np.isfinite(arr)) or np.any(arr < 0):
        raise ValueError(f"{name} must be finite and >= 0, got {value!r}")
    return arr


def check_input_dim(input_dim) -> np.ndarray:
    m = np.asarray(input_dim, dtype=float)
    if np.any(~np.isfinite(m)) or np.any(m < 1):
        raise ValueError(f"input_dim (m) must be >= 1, got {input_dim!r}")
    return m


# ---------------------------------------------------------------------------------------------------------
# Expected losses
# ---------------------------------------------------------------------------------------------------------


def check_target_d_noise(target, d, noise) -> tuple[np.ndarray, int, float]:
    target = np.asarray(target, dtype=float)
    if np.any(~np.isfinite(target)) or np.any(target <= 0):
        raise ValueError(f"target must be finite and > 0, got {target!r}")
    return target, int(check_positive_int_array("d", d)), float(check_nonnegative("noise", noise))
