"""Spectra of the task: how the input dimension ``m`` enters the linear model (numpy only)."""
from __future__ import annotations

import numpy as np

from .checks import check_input_dim, check_nonnegative, check_positive_int_array, check_spectrum

__all__ = ["exponent_inverse_dim", "exponent_geometric", "telescoping_spectrum", "power_law_tail",
           "power_law_spectrum", "geometric_spectrum", "modular_spectrum"]

def exponent_inverse_dim(input_dim, alpha: float = 1.0):
    """The decay exponent ``a = alpha / m`` of the default power law (the data-manifold scaling argument)."""
    m = check_input_dim(input_dim)
    if not alpha > 0:
        raise ValueError(f"alpha must be > 0, got {alpha!r}")
    return alpha / m


def exponent_geometric(input_dim, omega: float = 1.2):
    """The decay exponent ``a = omega^(-m)`` of the variant a third party reads in the paper (``omega > 1``)."""
    m = check_input_dim(input_dim)
    if not omega > 1:
        raise ValueError(f"omega must be > 1, got {omega!r}")
    return omega ** (-m)


def telescoping_spectrum(P: int, exponent: float, scale: float = 1.0) -> np.ndarray:
    """``lambda_i = c*(i^-a - (i+1)^-a)`` for ``i = 1..P``: a power law whose tail is ``c*(p+1)^-a``.

    The sum of all (infinitely many) eigenvalues is ``c`` (``scale``); the ``P`` returned hold
    ``c*(1 - (P+1)^-a)`` of it, and :func:`power_law_tail` gives the rest.
    """
    P = int(check_positive_int_array("P", P))
    if not (np.isfinite(exponent) and exponent > 0):
        raise ValueError(f"exponent must be > 0, got {exponent!r}")
    if not (np.isfinite(scale) and scale > 0):
        raise ValueError(f"scale (c) must be > 0, got {scale!r}")
    i = np.arange(1, P + 1, dtype=float)
    return scale * (i ** -exponent - (i + 1) ** -exponent)


def power_law_tail(p, exponent, scale: float = 1.0):
    """``Tr Lambda_2(p) = c*(p+1)^-a``: the variance of all features beyond the first ``p`` (``p >= 0``)."""
    p = check_nonnegative("p", p)
    return scale * (p + 1.0) ** -np.asarray(exponent, dtype=float)


def power_law_spectrum(P: int, input_dim: int, alpha: float = 1.0, scale: float = 1.0) -> np.ndarray:
    """The default spectrum of a task on ``m = input_dim`` dimensions: telescoping, exponent ``alpha/m``."""
    return telescoping_spectrum(P, float(exponent_inverse_dim(input_dim, alpha)), scale)


def geometric_spectrum(P: int, input_dim: int, omega: float = 1.2, scale: float = 1.0) -> np.ndarray:
    """The variant spectrum: telescoping, exponent ``omega^(-m)``."""
    return telescoping_spectrum(P, float(exponent_geometric(input_dim, omega)), scale)


def modular_spectrum(module_spectrum, n_modules: int) -> np.ndarray:
    """The spectrum of a sum of ``K`` independent modules: ``K`` copies of ``module_spectrum``, each ``/K``.

    The task ``y = K^-1/2 sum_j y_j`` scales each module's variance by ``1/K``; sorted descending, the copies
    interleave, so the first ``p = K*q`` features are the first ``q`` of every module.
    """
    K = int(check_positive_int_array("n_modules", n_modules))
    lam = check_spectrum(module_spectrum)
    return np.repeat(lam / K, K)


# ---------------------------------------------------------------------------------------------------------
# Sample complexity
# ---------------------------------------------------------------------------------------------------------
