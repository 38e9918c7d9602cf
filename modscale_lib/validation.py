"""The one set of checks for public arguments: whole numbers, real numbers, choices, arrays, sizes.

Every public function and config of the library validates its arguments here, at the boundary, before it
allocates or computes anything, so that bad input gets an error that names the parameter and the allowed
range instead of a silent wrong answer, a NaN, an obscure error from deep inside numpy or torch, or a hang.

Conventions (deliberate, and the same everywhere):

* A whole number may be given as a Python or numpy integer, or as a float that is exactly whole (``5.0`` is
  taken as ``5``); ``2.5``, ``True``, strings, NaN and infinities are refused.
* A real number may be any int or float, numpy scalar or 0-d array; NaN is always refused, infinities unless
  ``allow_inf``.
* Arrays may be numpy arrays, nested sequences or torch tensors (detached and copied to the CPU); they come
  back as numpy arrays of the requested dtype, finite unless stated otherwise.
* Sizes are bounded: :func:`check_size` refuses an allocation beyond :data:`MAX_ELEMENTS` elements (a
  quarter of this machine's memory as float64), naming the parameter that asked for it, before anything is
  allocated; and
  :func:`check_count` refuses more than :data:`MAX_ITEMS` iterations of a Python-level loop (models,
  modules, redraws), so that an absurd count is an error, not a run that never ends.

This module knows no concept of the book: it imports numpy only.
"""
from __future__ import annotations

import math
import numbers
import os
from typing import Any, Iterable, Sequence

import numpy as np

__all__ = ["whole", "whole_array", "real", "real_array", "choice", "boolean", "array", "seed", "seeds",
           "check_size", "check_count", "as_numpy", "check_geometry", "MAX_ELEMENTS", "MAX_ITEMS", "MAX_SEED"]



def _memory_bytes() -> int | None:
    """This machine's memory in bytes, or the memory limit of this process's cgroup where that is lower."""
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, OSError, ValueError):
        total = None
    for path in ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"):
        try:
            with open(path) as f:
                text = f.read().strip()
        except OSError:
            continue
        if text.isdigit() and int(text) > 0:
            total = int(text) if total is None else min(total, int(text))
    return total


#: The memory this machine (or this process's cgroup) has, in bytes; None where the OS does not say.
MEMORY_BYTES = _memory_bytes()
#: The most elements :func:`check_size` allows in one array or one batch of work: a quarter of the machine's
#: memory as float64 (a computation holds a few arrays of its largest size at once), 2**31 where the memory
#: is unknown. A request above it is refused by name instead of failing inside numpy or torch.
MAX_ELEMENTS = MEMORY_BYTES // 4 // 8 if MEMORY_BYTES else 2 ** 31
MAX_SEED = 2 ** 63 - 1
#: The most iterations :func:`check_count` allows in one Python-level loop (models, modules, restarts, ...).
MAX_ITEMS = 100_000


def _describe(low, high, low_open: bool = False, high_open: bool = False) -> str:
    if low is None and high is None:
        return "any value"
    if high is None:
        return f"{'>' if low_open else '>='} {low}"
    if low is None:
        return f"{'<' if high_open else '<='} {high}"
    return f"in {'(' if low_open else '['}{low}, {high}{')' if high_open else ']'}"


def _to_numpy(value: Any) -> Any:
    if hasattr(value, "detach") and hasattr(value, "cpu"):  # a torch tensor, without importing torch
        return value.detach().cpu().numpy()
    return value


def as_numpy(value: Any) -> Any:
    """A torch tensor as a numpy array (detached, copied to the CPU, dtype kept); anything else unchanged."""
    return _to_numpy(value)


def whole(value: Any, name: str, *, low: int | None = None, high: int | None = None) -> int:
    """``value`` as a Python int, checked to be a whole number in ``[low, high]``.

    Raises ``TypeError`` for a non-number (a bool, a string, None) and ``ValueError`` for a fraction, a
    non-finite value or one out of range; the message names ``name`` and the allowed range.
    """
    value = _to_numpy(value)
    if isinstance(value, np.ndarray):
        if value.ndim != 0:
            raise TypeError(f"{name} must be a whole number, got an array of shape {value.shape}")
        value = value.item()
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a whole number, got {value!r} ({type(value).__name__})")
    if isinstance(value, numbers.Integral):
        out = int(value)
    else:
        f = float(value)
        if not math.isfinite(f) or f != math.floor(f):
            raise ValueError(f"{name} must be a whole number ({_describe(low, high)}), got {value!r}")
        out = int(f)
    if (low is not None and out < low) or (high is not None and out > high):
        raise ValueError(f"{name} must be a whole number {_describe(low, high)}, got {value!r}")
    return out


def whole_array(value: Any, name: str, *, low: int | None = None, high: int | None = None,
                ndim: int | None = None, min_size: int = 0) -> np.ndarray:
    """``value`` as an int64 array of whole numbers in ``[low, high]`` (a scalar is a 0-d array)."""
    arr = np.asarray(_to_numpy(value))
    if arr.dtype == bool or arr.dtype == object or arr.dtype.kind not in "iuf":
        raise TypeError(f"{name} must hold whole numbers, got dtype {arr.dtype}")
    if ndim is not None and arr.ndim != ndim:
        raise ValueError(f"{name} must be {ndim}-dimensional, got shape {arr.shape}")
    if arr.size < min_size:
        raise ValueError(f"{name} must hold at least {min_size} value(s), got {arr.size}")
    if arr.dtype.kind == "f":
        if not np.all(np.isfinite(arr)) or np.any(arr != np.floor(arr)):
            raise ValueError(f"{name} must hold whole numbers ({_describe(low, high)}), got {arr.tolist()!r}"[:300])
        if arr.size and np.max(np.abs(arr)) > 2 ** 62:
            raise ValueError(f"{name} holds values too large for a whole number")
    out = arr.astype(np.int64)
    if out.size and ((low is not None and out.min() < low) or (high is not None and out.max() > high)):
        raise ValueError(f"{name} must hold whole numbers {_describe(low, high)}, got {arr.tolist()!r}"[:300])
    return out


def real(value: Any, name: str, *, low: float | None = None, high: float | None = None,
         low_open: bool = False, high_open: bool = False, allow_inf: bool = False) -> float:
    """``value`` as a Python float, checked to be a real number (never NaN) in the given range."""
    value = _to_numpy(value)
    if isinstance(value, np.ndarray):
        if value.ndim != 0:
            raise TypeError(f"{name} must be a number, got an array of shape {value.shape}")
        value = value.item()
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {value!r} ({type(value).__name__})")
    out = float(value)
    rng = _describe(low, high, low_open, high_open)
    if math.isnan(out) or (math.isinf(out) and not allow_inf):
        raise ValueError(f"{name} must be a finite number ({rng}), got {value!r}")
    if low is not None and (out < low or (low_open and out == low)):
        raise ValueError(f"{name} must be {rng}, got {value!r}")
    if high is not None and (out > high or (high_open and out == high)):
        raise ValueError(f"{name} must be {rng}, got {value!r}")
    return out


def real_array(value: Any, name: str, *, low: float | None = None, high: float | None = None,
               low_open: bool = False, high_open: bool = False, ndim: int | None = None,
               min_size: int = 0) -> np.ndarray:
    """``value`` as a finite float64 array with every entry in the given range."""
    arr = array(value, name, ndim=ndim)
    if arr.size < min_size:
        raise ValueError(f"{name} must hold at least {min_size} value(s), got {arr.size}")
    rng = _describe(low, high, low_open, high_open)
    if arr.size and low is not None and (arr.min() < low or (low_open and arr.min() == low)):
        raise ValueError(f"{name} must hold values {rng}; its smallest is {arr.min():.6g}")
    if arr.size and high is not None and (arr.max() > high or (high_open and arr.max() == high)):
        raise ValueError(f"{name} must hold values {rng}; its largest is {arr.max():.6g}")
    return arr


def choice(value: Any, name: str, options: Sequence[str]) -> str:
    """``value`` checked to be one of ``options`` (strings)."""
    if not isinstance(value, str) or value not in options:
        raise ValueError(f"{name} must be one of {tuple(options)}, got {value!r}")
    return value


def boolean(value: Any, name: str) -> bool:
    """``value`` checked to be a bool (numpy bools too); ``0``/``1`` and strings are refused."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False, got {value!r} ({type(value).__name__})")
    return bool(value)


def array(value: Any, name: str, *, ndim: int | Iterable[int] | None = None, shape: tuple | None = None,
          dtype=np.float64, finite: bool = True, min_rows: int = 0) -> np.ndarray:
    """``value`` as a numpy array of ``dtype`` (float64 by default), checked for shape and finiteness.

    ``ndim`` is one number or several allowed; ``shape`` may hold ``None`` for a free axis; ``min_rows``
    is the least length of the first axis. Torch tensors are accepted and copied to a numpy array.
    """
    raw = _to_numpy(value)
    try:
        arr = np.asarray(raw)
    except (ValueError, TypeError) as exc:  # ragged nested lists
        raise ValueError(f"{name} must be a rectangular array: {exc}") from exc
    if arr.dtype == object or arr.dtype.kind not in "biuf":
        raise TypeError(f"{name} must be a numeric array, got dtype {arr.dtype}")
    if arr.dtype.kind == "b" and np.dtype(dtype).kind == "f":
        raise TypeError(f"{name} must be a numeric array, got booleans")
    if ndim is not None:
        allowed = (ndim,) if isinstance(ndim, int) else tuple(ndim)
        if arr.ndim not in allowed:
            want = " or ".join(str(a) for a in allowed)
            raise ValueError(f"{name} must be {want}-dimensional, got shape {arr.shape}")
    if shape is not None:
        if arr.ndim != len(shape) or any(s is not None and s != a for s, a in zip(shape, arr.shape)):
            want = "(" + ", ".join("any" if s is None else str(s) for s in shape) + ")"
            raise ValueError(f"{name} must have shape {want}, got {arr.shape}")
    if arr.ndim and arr.shape[0] < min_rows:
        raise ValueError(f"{name} must have at least {min_rows} row(s), got {arr.shape[0]}")
    check_size(arr.size, name)
    arr = arr.astype(dtype, copy=False)
    if finite and arr.dtype.kind == "f" and not np.all(np.isfinite(arr)):
        bad = int(np.size(arr) - np.count_nonzero(np.isfinite(arr)))
        raise ValueError(f"{name} must be finite; it holds {bad} NaN or infinite value(s)")
    return arr


def seed(value: Any, name: str = "seed") -> int:
    """A seed: a whole number in ``[0, 2**63 - 1]``."""
    return whole(value, name, low=0, high=MAX_SEED)


def seeds(values: Any, name: str = "seeds", *, length: int | None = None) -> list[int]:
    """A sequence of seeds, each a whole number in ``[0, 2**63 - 1]``; ``length`` fixes how many."""
    if isinstance(values, (str, bytes)) or not isinstance(_to_numpy(values), (Sequence, np.ndarray)):
        raise TypeError(f"{name} must be a sequence of whole numbers, got {type(values).__name__}")
    out = [seed(v, f"{name}[{i}]") for i, v in enumerate(_to_numpy(values))]
    if length is not None and len(out) != length:
        raise ValueError(f"{name} must hold {length} seed(s), got {len(out)}")
    return out


def check_size(n_elements: Any, name: str, *, limit: int = MAX_ELEMENTS) -> int:
    """Refuse a request for more than ``limit`` elements, naming the parameter, before anything is allocated.

    ``n_elements`` may be a Python int of any size (products of sizes are exact in Python).
    """
    n = int(n_elements)
    if n > limit:
        raise ValueError(f"{name} asks for {n:.3g} elements ({n * 8 / 2 ** 30:.3g} GiB of float64), more than the "
                         f"{limit:.3g} this library allows in one array (a quarter of this machine's memory); use a "
                         f"smaller size")
    return n


def check_count(n_items: Any, name: str, *, limit: int = MAX_ITEMS) -> int:
    """Refuse a Python-level loop of more than ``limit`` iterations (models, modules, redraws), naming the
    parameter that asked for it, before the loop starts."""
    n = int(n_items)
    if n > limit:
        raise ValueError(f"{name} asks for {n:.3g} iterations of a loop, more than the {limit:.3g} this library "
                         f"allows; use a smaller value")
    return n


def check_geometry(n_modules: int, module_dim: int, input_dim: int, *, what: str = "the model") -> None:
    """Refuse ``n_modules * module_dim > input_dim`` where orthogonal modules must fit in the input space."""
    if n_modules * module_dim > input_dim:
        raise ValueError(f"n_modules * module_dim = {n_modules} * {module_dim} = {n_modules * module_dim} must be "
                         f"<= input_dim = {input_dim}: {what} needs that many orthogonal directions")
