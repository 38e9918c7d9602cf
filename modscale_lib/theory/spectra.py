"""Spectra of the task: how the input dimension ``m`` enters the linear model (numpy only)."""
from __future__ import annotations

import numpy as np

from .. import validation
from .checks import check_c, check_exponent, check_input_dim, check_spectrum

__all__ = ["exponent_inverse_dim", "exponent_geometric", "telescoping_spectrum", "power_law_tail",
           "power_law_spectrum", "geometric_spectrum", "modular_spectrum"]

def exponent_inverse_dim(input_dim, alpha: float = 1.0):
    """The decay exponent ``a = alpha / m`` of the default power law (the data-manifold scaling argument)."""
    m = check_input_dim(input_dim)
    alpha = validation.real(alpha, "alpha", low=0.0, low_open=True)
    return alpha / m


def exponent_geometric(input_dim, omega: float = 1.2):
    """The decay exponent ``a = omega^(-m)`` of the variant a third party reads in the paper (``omega > 1``)."""
    m = check_input_dim(input_dim)
    omega = validation.real(omega, "omega", low=1.0, low_open=True)
    return omega ** (-m)


def telescoping_spectrum(P: int, exponent: float, c: float = 1.0, *, scale: float | None = None) -> np.ndarray:
    """``lambda_i = c*(i^-a - (i+1)^-a)`` for ``i = 1..P``: a power law whose tail is ``c*(p+1)^-a``.

    The sum of all (infinitely many) eigenvalues is ``c`` (> 0); the ``P`` returned hold
    ``c*(1 - (P+1)^-a)`` of it, and :func:`power_law_tail` gives the rest. (``scale`` is the deprecated
    name of ``c``.)
    """
    c = check_c(c, scale, "telescoping_spectrum")
    P = validation.whole(P, "P", low=1)
    validation.check_size(P, "P")
    exponent = validation.real(exponent, "exponent", low=0.0, low_open=True)
    i = np.arange(1, P + 1, dtype=float)
    return c * (i ** -exponent - (i + 1) ** -exponent)


def power_law_tail(p, exponent, c: float = 1.0, *, scale: float | None = None):
    """``Tr Lambda_2(p) = c*(p+1)^-a``: the variance of all features beyond the first ``p`` (``p >= 0``, ``inf``
    allowed; ``a > 0`` broadcast with ``p``). (``scale`` is the deprecated name of ``c``.)"""
    c = check_c(c, scale, "power_law_tail")
    p = validation.array(p, "p", finite=False)
    if np.any(np.isnan(p)) or np.any(p < 0):
        raise ValueError("p must hold numbers >= 0 (inf allowed)")
    return c * (p + 1.0) ** -check_exponent(exponent)


def power_law_spectrum(P: int, input_dim: int, alpha: float = 1.0, c: float = 1.0, *,
                       scale: float | None = None) -> np.ndarray:
    """The default spectrum of a task on ``m = input_dim`` dimensions: telescoping, exponent ``alpha/m``.

    ``input_dim`` is one number here. (``scale`` is the deprecated name of ``c``.)"""
    c = check_c(c, scale, "power_law_spectrum")
    validation.real(input_dim, "input_dim", low=1.0)
    return telescoping_spectrum(P, float(exponent_inverse_dim(input_dim, alpha)), c)


def geometric_spectrum(P: int, input_dim: int, omega: float = 1.2, c: float = 1.0, *,
                       scale: float | None = None) -> np.ndarray:
    """The variant spectrum: telescoping, exponent ``omega^(-m)`` (``input_dim`` one number). (``scale`` is the
    deprecated name of ``c``.)"""
    c = check_c(c, scale, "geometric_spectrum")
    validation.real(input_dim, "input_dim", low=1.0)
    return telescoping_spectrum(P, float(exponent_geometric(input_dim, omega)), c)


def modular_spectrum(module_spectrum, n_modules: int) -> np.ndarray:
    """The spectrum of a sum of ``K`` independent modules: ``K`` copies of ``module_spectrum``, each ``/K``.

    The task ``y = K^-1/2 sum_j y_j`` scales each module's variance by ``1/K``; sorted descending, the copies
    interleave, so the first ``p = K*q`` features are the first ``q`` of every module.
    """
    K = validation.whole(n_modules, "n_modules", low=1)
    lam = check_spectrum(module_spectrum)
    validation.check_size(lam.size * K, "n_modules * len(module_spectrum)")
    return np.repeat(lam / K, K)


# ---------------------------------------------------------------------------------------------------------
# Sample complexity
# ---------------------------------------------------------------------------------------------------------
