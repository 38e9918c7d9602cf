"""Argument checks shared by the theory modules: thin wrappers over :mod:`modscale_lib.validation` (numpy only).

Also the one place that resolves the spectrum's variance ``c`` from its deprecated keyword ``scale``.
"""
from __future__ import annotations

import warnings

import numpy as np

from .. import validation


def check_positive_int_array(name: str, value) -> np.ndarray:
    """Whole numbers >= 1 (a scalar or an array, non-empty) as an int64 array."""
    arr = validation.whole_array(value, name, low=1, min_size=1)
    validation.check_size(arr.size, name)
    return arr


def check_spectrum(spectrum, min_length: int = 1) -> np.ndarray:
    lam = validation.array(spectrum, "spectrum", ndim=1)
    if lam.size == 0:
        raise ValueError(f"spectrum must be a non-empty 1-D array of eigenvalues, got shape {lam.shape}")
    if np.any(lam < 0):
        raise ValueError("spectrum must hold finite, non-negative eigenvalues")
    if np.any(np.diff(lam) > 0):
        raise ValueError("spectrum must be sorted in descending order (lambda_1 >= lambda_2 >= ...)")
    if lam.size < min_length:
        raise ValueError(f"spectrum is too short: it has {lam.size} eigenvalues but p goes up to {min_length}; "
                         f"need len(spectrum) >= max(p)")
    return lam


def check_nonnegative(name: str, value) -> np.ndarray:
    """Finite numbers >= 0 (a scalar or an array) as a float64 array."""
    return validation.real_array(value, name, low=0.0)


def check_input_dim(input_dim) -> np.ndarray:
    """``m``: finite numbers >= 1 (real numbers allowed, for smooth curves), non-empty, as a float64 array."""
    return validation.real_array(input_dim, "input_dim (m)", low=1.0, min_size=1)


def check_target_d_noise(target, d, noise) -> tuple[np.ndarray, int, float]:
    target = validation.real_array(target, "target", low=0.0, low_open=True, min_size=1)
    d = validation.whole(d, "d", low=1, high=10 ** 9)
    noise = validation.real(noise, "noise", low=0.0)
    return target, d, noise


def check_c(c, scale, where: str) -> float:
    """The spectrum's total variance ``c`` (> 0); ``scale`` is its deprecated name (a DeprecationWarning)."""
    if scale is not None:
        warnings.warn(f"{where}(scale=...) is deprecated: the spectrum's variance is now called c", DeprecationWarning,
                      stacklevel=3)
        if c is not None and c != 1.0:
            raise TypeError(f"{where}: give the spectrum's variance once, as c (scale is its deprecated name)")
        c = scale
    return validation.real(1.0 if c is None else c, "c", low=0.0, low_open=True)


def check_exponent(exponent) -> np.ndarray:
    """Decay exponents ``a`` > 0 (a scalar or an array)."""
    return validation.real_array(exponent, "exponent", low=0.0, low_open=True)
