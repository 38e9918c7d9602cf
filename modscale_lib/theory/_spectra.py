"""Spectra of the task: how the input dimension ``m`` enters the linear model (numpy only)."""

from __future__ import annotations

import numpy as np

from ..core import Check, Real, Size, Whole, array, check_size, validated
from ._checks import EXPONENT, INPUT_DIM, POSITIVE, C, spectrum

__all__ = [
    "exponent_inverse_dim",
    "exponent_geometric",
    "telescoping_spectrum",
    "power_law_tail",
    "power_law_spectrum",
    "geometric_spectrum",
    "modular_spectrum",
]

_OMEGA = Real(1.0, low_open=True)


@validated(input_dim=INPUT_DIM, alpha=POSITIVE)
def exponent_inverse_dim(input_dim, alpha: float = 1.0):
    """The decay exponent ``a = alpha / m`` of the default power law (the data-manifold scaling argument)."""
    return alpha / input_dim


@validated(input_dim=INPUT_DIM, omega=_OMEGA)
def exponent_geometric(input_dim, omega: float = 1.2):
    """The decay exponent ``a = omega^(-m)`` of the variant a third party reads in the paper (``omega > 1``)."""
    return omega ** (-input_dim)


@validated(P=Size(1), exponent=POSITIVE, c=C)
def telescoping_spectrum(P: int, exponent: float, c: float = 1.0) -> np.ndarray:
    """``lambda_i = c*(i^-a - (i+1)^-a)`` for ``i = 1..P``: a power law whose tail is ``c*(p+1)^-a``.

    The sum of all (infinitely many) eigenvalues is ``c`` (> 0); the ``P`` returned hold
    ``c*(1 - (P+1)^-a)`` of it, and :func:`power_law_tail` gives the rest.
    """
    return telescoping(P, exponent, c)


def telescoping(P: int, exponent: float, c: float) -> np.ndarray:
    """:func:`telescoping_spectrum` of checked arguments (the theory's inner calls)."""
    i = np.arange(1, P + 1, dtype=float)
    return c * (i**-exponent - (i + 1) ** -exponent)


def _tail_p(value, name: str, arguments: dict) -> np.ndarray:
    p = array(value, name, finite=False)
    if np.any(np.isnan(p)) or np.any(p < 0):
        raise ValueError(f"{name} must hold numbers >= 0 (inf allowed)")
    return p


@validated(p=Check(_tail_p), exponent=EXPONENT, c=C)
def power_law_tail(p, exponent, c: float = 1.0):
    """``Tr Lambda_2(p) = c*(p+1)^-a``: the variance of all features beyond the first ``p`` (``p >= 0``, ``inf``
    allowed; ``a > 0`` broadcast with ``p``)."""
    return tail_variance(p, exponent, c)


def tail_variance(p, exponent, c: float):
    """:func:`power_law_tail` of checked arguments (the theory's inner calls)."""
    return c * (p + 1.0) ** -exponent


@validated(P=Size(1), input_dim=Real(1.0), alpha=POSITIVE, c=C)
def power_law_spectrum(P: int, input_dim: int, alpha: float = 1.0, c: float = 1.0) -> np.ndarray:
    """The default spectrum of a task on ``m = input_dim`` dimensions: telescoping, exponent ``alpha/m``.

    ``input_dim`` is one number here."""
    return telescoping(P, float(alpha / np.asarray(input_dim)), c)


@validated(P=Size(1), input_dim=Real(1.0), omega=_OMEGA, c=C)
def geometric_spectrum(P: int, input_dim: int, omega: float = 1.2, c: float = 1.0) -> np.ndarray:
    """The variant spectrum: telescoping, exponent ``omega^(-m)`` (``input_dim`` one number)."""
    # the exponent as a numpy power of a 0-d array, as exponent_geometric computes it (bit for bit)
    return telescoping(P, float(omega ** (-np.asarray(input_dim))), c)


@validated(module_spectrum=spectrum, n_modules=Whole(1))
def modular_spectrum(module_spectrum, n_modules: int) -> np.ndarray:
    """The spectrum of a sum of ``K`` independent modules: ``K`` copies of ``module_spectrum``, each ``/K``.

    The task ``y = K^-1/2 sum_j y_j`` scales each module's variance by ``1/K``; sorted descending, the copies
    interleave, so the first ``p = K*q`` features are the first ``q`` of every module.
    """
    check_size(module_spectrum.size * n_modules, "n_modules * len(module_spectrum)")
    return np.repeat(module_spectrum / n_modules, n_modules)
