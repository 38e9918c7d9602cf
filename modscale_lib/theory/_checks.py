"""The rules of the theory's arguments, for :func:`modscale_lib.core.validated` (numpy only). Each public
function of the theory checks its arguments once, with these; the functions it calls inside the package trust
them."""

from __future__ import annotations

import numpy as np

from ..core import Check, Real, RealArray, Whole, WholeArray, array, check_size, real_array

__all__ = [
    "COUNTS",
    "NONNEGATIVE",
    "INPUT_DIM",
    "TARGET",
    "OUTPUTS",
    "NOISE",
    "C",
    "EXPONENT",
    "POSITIVE",
    "spectrum",
    "broadcast_shape",
]

#: Whole numbers >= 1 (a scalar or a non-empty array) as an int64 array, bounded in size: ``n``, ``p``, ``N``.
COUNTS = WholeArray(1, min_size=1, size=True)
#: Finite numbers >= 0, a scalar or an array, as float64.
NONNEGATIVE = RealArray(0.0)
#: ``m``: numbers >= 1 (real numbers allowed, for smooth curves), non-empty, as a float64 array; errors name it
#: ``input_dim (m)``.
INPUT_DIM = Check(lambda value, name, arguments: real_array(value, f"{name} (m)", low=1.0, min_size=1))
#: Test losses to reach: numbers > 0, non-empty.
TARGET = RealArray(0.0, low_open=True, min_size=1)
#: ``d``, the number of outputs.
OUTPUTS = Whole(1, 10**9)
#: The label-noise variance.
NOISE = Real(0.0)
#: ``c``, the spectrum's total variance.
C = Real(0.0, low_open=True)
#: A positive real number (``alpha``).
POSITIVE = Real(0.0, low_open=True)
#: Decay exponents ``a > 0``, a scalar or an array.
EXPONENT = RealArray(0.0, low_open=True)


def _spectrum(value, name: str, arguments: dict) -> np.ndarray:
    lam = array(value, name, ndim=1)
    if lam.size == 0:
        raise ValueError(f"{name} must be a non-empty 1-D array of eigenvalues, got shape {lam.shape}")
    if np.any(lam < 0):
        raise ValueError(f"{name} must hold finite, non-negative eigenvalues")
    if np.any(np.diff(lam) > 0):
        raise ValueError(f"{name} must be sorted in descending order (lambda_1 >= lambda_2 >= ...)")
    p = arguments.get("p")
    need = 1 if p is None else int(np.max(p))
    if lam.size < need:
        raise ValueError(
            f"{name} is too short: it has {lam.size} eigenvalues but p goes up to {need}; need len(spectrum) >= max(p)"
        )
    return lam


#: A spectrum: eigenvalues, non-negative and sorted descending, at least ``max(p)`` of them when the function
#: also takes ``p`` (checked before it).
spectrum = Check(_spectrum)


def broadcast_shape(names: str, *arrays) -> tuple:
    """The broadcast shape of ``arrays`` (named together by ``names`` in the error), refused when they do not
    broadcast or it holds more elements than one array may."""
    try:
        shape = np.broadcast_shapes(*(np.shape(a) for a in arrays))
    except ValueError as exc:
        raise ValueError(f"{names} must broadcast together: {exc}") from None
    check_size(int(np.prod(shape, dtype=object)), f"the broadcast of {names}")
    return shape
