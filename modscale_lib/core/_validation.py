"""The one validation mechanism: checks of single values, and declarative rules built on them.

Every public function and config of the library validates its arguments here, at the boundary, before it
allocates or computes anything, so that bad input gets an error that names the parameter and the allowed
range instead of a silent wrong answer, a NaN, an obscure error from deep inside numpy or torch, or a hang.
Private functions trust their callers: a value is checked once, where it enters.

Two ways to use it, one set of checks:

* **Declarative** (preferred): a :class:`Rule` per argument (:class:`Whole`, :class:`Real`, :class:`Array`,
  :class:`Choice`, ...), given to :func:`validated` for a function or to :func:`check_fields` for a config
  dataclass. A rule returns the canonical value (``5.0`` for a whole number becomes ``5``; an array becomes
  float64), which is what the function body or the stored config then sees. A bound may be a callable of the
  arguments checked before it (``Whole(1, high=lambda a: a["X"].shape[1])``), so that checks across arguments
  stay declarative too.
* **Imperative**: the functions :func:`whole`, :func:`real`, :func:`array`, ... that the rules call, for a
  value that is computed inside a function rather than passed to it.

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

This module knows no concept of the book: it imports numpy and the standard library only.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
import math
import numbers
import os
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np

__all__ = [
    "entries",
    "whole",
    "whole_array",
    "real",
    "real_array",
    "choice",
    "boolean",
    "array",
    "seed",
    "seeds",
    "check_size",
    "check_count",
    "as_numpy",
    "check_geometry",
    "MAX_ELEMENTS",
    "MAX_ITEMS",
    "MAX_SEED",
    "MEMORY_BYTES",
    "Rule",
    "Whole",
    "Real",
    "Boolean",
    "Choice",
    "Seed",
    "Array",
    "RealArray",
    "WholeArray",
    "Wholes",
    "Reals",
    "SomeOf",
    "OrNone",
    "Check",
    "FilePath",
    "Size",
    "Count",
    "validated",
    "check_fields",
    "CONFIG_SEED_MAX",
]


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
MAX_ELEMENTS = MEMORY_BYTES // 4 // 8 if MEMORY_BYTES else 2**31
MAX_SEED = 2**63 - 1
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


def whole_array(
    value: Any,
    name: str,
    *,
    low: int | None = None,
    high: int | None = None,
    ndim: int | None = None,
    min_size: int = 0,
) -> np.ndarray:
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
        if arr.size and np.max(np.abs(arr)) > 2**62:
            raise ValueError(f"{name} holds values too large for a whole number")
    out = arr.astype(np.int64)
    if out.size and ((low is not None and out.min() < low) or (high is not None and out.max() > high)):
        raise ValueError(f"{name} must hold whole numbers {_describe(low, high)}, got {arr.tolist()!r}"[:300])
    return out


def real(
    value: Any,
    name: str,
    *,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
    high_open: bool = False,
    allow_inf: bool = False,
) -> float:
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


def real_array(
    value: Any,
    name: str,
    *,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
    high_open: bool = False,
    ndim: int | None = None,
    min_size: int = 0,
) -> np.ndarray:
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


def array(
    value: Any,
    name: str,
    *,
    ndim: int | Iterable[int] | None = None,
    shape: tuple | None = None,
    dtype=np.float64,
    finite: bool = True,
    min_rows: int = 0,
) -> np.ndarray:
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


def _amount(value: Any, name: str) -> int:
    """A count of elements or iterations as an int: exact for integers of any size, truncated for a float."""
    value = _to_numpy(value)
    if isinstance(value, np.ndarray) and value.ndim == 0:
        value = value.item()
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number of elements, got {value!r} ({type(value).__name__})")
    if not isinstance(value, numbers.Integral) and not math.isfinite(float(value)):
        raise ValueError(f"{name} must be a finite number of elements, got {value!r}")
    n = int(value)
    if n < 0:
        raise ValueError(f"{name} must be a number of elements >= 0, got {value!r}")
    return n


def check_size(n_elements: Any, name: str, *, limit: int = MAX_ELEMENTS) -> int:
    """Refuse a request for more than ``limit`` elements, naming the parameter, before anything is allocated.

    ``n_elements`` may be a Python int of any size (products of sizes are exact in Python), or a finite
    number >= 0 (a fraction is truncated).
    """
    n = _amount(n_elements, name)
    if n > limit:
        raise ValueError(
            f"{name} asks for {n:.3g} elements ({n * 8 / 2**30:.3g} GiB of float64), more than the "
            f"{limit:.3g} this library allows in one array (a quarter of this machine's memory); use a "
            f"smaller size"
        )
    return n


def check_count(n_items: Any, name: str, *, limit: int = MAX_ITEMS) -> int:
    """Refuse a Python-level loop of more than ``limit`` iterations (models, modules, redraws), naming the
    parameter that asked for it, before the loop starts."""
    n = _amount(n_items, name)
    if n > limit:
        raise ValueError(
            f"{name} asks for {n:.3g} iterations of a loop, more than the {limit:.3g} this library "
            f"allows; use a smaller value"
        )
    return n


def check_geometry(n_modules: int, module_dim: int, input_dim: int, *, what: str = "the model") -> None:
    """Refuse ``n_modules * module_dim > input_dim`` where orthogonal modules must fit in the input space."""
    if n_modules * module_dim > input_dim:
        raise ValueError(
            f"n_modules * module_dim = {n_modules} * {module_dim} = {n_modules * module_dim} must be "
            f"<= input_dim = {input_dim}: {what} needs that many orthogonal directions"
        )


# ---------------------------------------------------------------------------------------------------------
# Declarative rules: one per argument or config field
# ---------------------------------------------------------------------------------------------------------
#: The largest seed a config may hold: 2**32 - 1. The experiments derive further seeds from a config's seeds
#: (``10_000 * seed + ...``, ``seed * 1000 + j``, ``noise_seed * 100003 + b``) that the random generators take
#: only up to 2**63 - 1 (:data:`MAX_SEED`); this bound keeps every derived seed in range, so a seed that is too
#: large is refused with the config, not in the middle of a computation.
CONFIG_SEED_MAX = 2**32 - 1

Bound = Any  # a number, None (no bound), or a callable of the arguments checked so far


def _bound(bound: Bound, arguments: dict | None) -> Any:
    return bound(arguments or {}) if callable(bound) else bound


class Rule:
    """A declarative check of one argument: ``rule(value, name, arguments=None)`` returns the canonical value or
    raises ``TypeError``/``ValueError`` naming ``name``. ``arguments`` holds the arguments checked before this
    one (by :func:`validated` or :func:`check_fields`), for bounds that depend on them."""

    def __call__(self, value: Any, name: str, arguments: dict | None = None) -> Any:  # pragma: no cover
        raise NotImplementedError


@dataclasses.dataclass(frozen=True)
class Whole(Rule):
    """A whole number in ``[low, high]`` (a count by default: ``low = 1``), as a Python int."""

    low: Bound = 1
    high: Bound = None

    def __call__(self, value, name, arguments=None):
        return whole(value, name, low=_bound(self.low, arguments), high=_bound(self.high, arguments))


@dataclasses.dataclass(frozen=True)
class Size(Whole):
    """A whole number that sizes an allocation: also refused above :data:`MAX_ELEMENTS` (:func:`check_size`)."""

    def __call__(self, value, name, arguments=None):
        return check_size(super().__call__(value, name, arguments), name)


@dataclasses.dataclass(frozen=True)
class Count(Whole):
    """A whole number of iterations of a Python loop: also refused above :data:`MAX_ITEMS` (:func:`check_count`)."""

    def __call__(self, value, name, arguments=None):
        return check_count(super().__call__(value, name, arguments), name)


@dataclasses.dataclass(frozen=True)
class Real(Rule):
    """A real number (never NaN; infinite only with ``allow_inf``) in the given range, as a Python float."""

    low: Bound = None
    high: Bound = None
    _: dataclasses.KW_ONLY
    low_open: bool = False
    high_open: bool = False
    allow_inf: bool = False

    def __call__(self, value, name, arguments=None):
        return real(
            value,
            name,
            low=_bound(self.low, arguments),
            high=_bound(self.high, arguments),
            low_open=self.low_open,
            high_open=self.high_open,
            allow_inf=self.allow_inf,
        )


@dataclasses.dataclass(frozen=True)
class Boolean(Rule):
    """True or False (numpy bools too); ``0``, ``1`` and strings are refused."""

    def __call__(self, value, name, arguments=None):
        return boolean(value, name)


@dataclasses.dataclass(frozen=True)
class Choice(Rule):
    """One of ``options`` (strings)."""

    options: tuple

    def __call__(self, value, name, arguments=None):
        return choice(value, name, tuple(self.options))


@dataclasses.dataclass(frozen=True)
class Seed(Rule):
    """A seed: a whole number in ``[0, high]`` (:data:`MAX_SEED` by default)."""

    high: int = MAX_SEED

    def __call__(self, value, name, arguments=None):
        return whole(value, name, low=0, high=self.high)


@dataclasses.dataclass(frozen=True)
class Array(Rule):
    """A numeric array (torch tensors and nested sequences accepted) as numpy, checked as :func:`array` does."""

    ndim: Any = None
    _: dataclasses.KW_ONLY
    shape: Any = None
    dtype: str = "float64"
    finite: bool = True
    min_rows: Bound = 0

    def __call__(self, value, name, arguments=None):
        shape = _bound(self.shape, arguments)
        return array(
            value,
            name,
            ndim=self.ndim,
            shape=shape,
            dtype=np.dtype(self.dtype),
            finite=self.finite,
            min_rows=_bound(self.min_rows, arguments),
        )


@dataclasses.dataclass(frozen=True)
class RealArray(Rule):
    """A finite float64 array with every entry in the given range (:func:`real_array`)."""

    low: Bound = None
    high: Bound = None
    _: dataclasses.KW_ONLY
    low_open: bool = False
    high_open: bool = False
    ndim: int | None = None
    min_size: int = 0

    def __call__(self, value, name, arguments=None):
        return real_array(
            value,
            name,
            low=_bound(self.low, arguments),
            high=_bound(self.high, arguments),
            low_open=self.low_open,
            high_open=self.high_open,
            ndim=self.ndim,
            min_size=self.min_size,
        )


@dataclasses.dataclass(frozen=True)
class WholeArray(Rule):
    """An int64 array of whole numbers in ``[low, high]`` (:func:`whole_array`); ``size``: refuse more elements
    than :data:`MAX_ELEMENTS`."""

    low: Bound = None
    high: Bound = None
    _: dataclasses.KW_ONLY
    ndim: int | None = None
    min_size: int = 0
    size: bool = False

    def __call__(self, value, name, arguments=None):
        out = whole_array(
            value,
            name,
            low=_bound(self.low, arguments),
            high=_bound(self.high, arguments),
            ndim=self.ndim,
            min_size=self.min_size,
        )
        if self.size:
            check_size(out.size, name)
        return out


def _sequence(value: Any, name: str) -> Sequence:
    if isinstance(value, (str, bytes)) or not isinstance(value, (tuple, list)):
        raise TypeError(f"{name} must be a tuple, got {type(value).__name__}")
    if not value:
        raise ValueError(f"{name} must not be empty")
    return value


def _unique(out: tuple, name: str) -> tuple:
    if len(set(out)) != len(out):
        raise ValueError(f"{name} must not repeat a value, got {out}")
    return out


@dataclasses.dataclass(frozen=True)
class Wholes(Rule):
    """A non-empty tuple of whole numbers in ``[low, high]``, distinct unless ``unique=False`` (a config's grid)."""

    low: Bound = 1
    high: Bound = None
    _: dataclasses.KW_ONLY
    unique: bool = True

    def __call__(self, value, name, arguments=None):
        low, high = _bound(self.low, arguments), _bound(self.high, arguments)
        out = tuple(whole(x, f"{name}[{i}]", low=low, high=high) for i, x in enumerate(_sequence(value, name)))
        return _unique(out, name) if self.unique else out


@dataclasses.dataclass(frozen=True)
class Reals(Rule):
    """A non-empty tuple of real numbers in the given range (a config's grid)."""

    low: Bound = None
    high: Bound = None
    _: dataclasses.KW_ONLY
    low_open: bool = False

    def __call__(self, value, name, arguments=None):
        low, high = _bound(self.low, arguments), _bound(self.high, arguments)
        return tuple(
            real(x, f"{name}[{i}]", low=low, high=high, low_open=self.low_open)
            for i, x in enumerate(_sequence(value, name))
        )


@dataclasses.dataclass(frozen=True)
class SomeOf(Rule):
    """A non-empty tuple of distinct choices among ``options``."""

    options: tuple

    def __call__(self, value, name, arguments=None):
        options = tuple(self.options)
        return _unique(tuple(choice(x, f"{name}[{i}]", options) for i, x in enumerate(_sequence(value, name))), name)


@dataclasses.dataclass(frozen=True)
class FilePath(Rule):
    """A path on this machine: a non-empty string or ``os.PathLike`` without NUL bytes, as a ``pathlib.Path``."""

    def __call__(self, value, name, arguments=None):
        import pathlib

        if isinstance(value, (bool, bytes)) or not isinstance(value, (str, os.PathLike)):
            raise TypeError(f"{name} must be a path (a string or a pathlib.Path), got {type(value).__name__}")
        text = os.fspath(value)
        if not isinstance(text, str) or not text or "\0" in text:
            raise ValueError(f"{name} must be a non-empty path without NUL characters, got {value!r}")
        return pathlib.Path(text)


@dataclasses.dataclass(frozen=True)
class Check(Rule):
    """A rule written as a function ``check(value, name, arguments) -> canonical value``: for a check that the
    rules above do not express (a quantity of the book, or one that compares several arguments)."""

    check: Callable

    def __call__(self, value, name, arguments=None):
        return self.check(value, name, arguments if arguments is not None else {})


@dataclasses.dataclass(frozen=True)
class OrNone(Rule):
    """None, or a value that ``rule`` accepts."""

    rule: Callable

    def __call__(self, value, name, arguments=None):
        return None if value is None else _apply(self.rule, value, name, arguments)


def _apply(rule: Callable, value: Any, name: str, arguments: dict | None) -> Any:
    # a Rule sees the arguments checked so far; a plain callable (a config's own rule) takes (value, name)
    return rule(value, name, arguments) if isinstance(rule, Rule) else rule(value, name)


def validated(**rules: Callable) -> Callable[[Callable], Callable]:
    """Decorator: check the named arguments of a public function with their rules, in the order given, before
    its body runs; the body sees the canonical values. Arguments left at their defaults are checked too.

    ``@validated(X=Array(ndim=2), n_directions=Whole(1, high=lambda a: a["X"].shape[1]))``
    """
    for name, rule in rules.items():
        if not callable(rule):
            raise TypeError(f"validated: the rule for {name} must be a Rule or a callable, got {type(rule).__name__}")

    def decorate(func: Callable) -> Callable:
        if not callable(func):
            raise TypeError(f"validated: func must be callable, got {type(func).__name__}")
        signature = inspect.signature(func)
        unknown = sorted(set(rules) - set(signature.parameters))
        if unknown:
            raise TypeError(f"validated: {func.__qualname__} has no parameter(s) {unknown}")

        @functools.wraps(func)
        def checked(*args, **kwargs):
            bound = signature.bind(*args, **kwargs)
            bound.apply_defaults()
            arguments = bound.arguments
            for name, rule in rules.items():
                arguments[name] = _apply(rule, arguments[name], name, arguments)
            return func(*bound.args, **bound.kwargs)

        checked.rules = dict(rules)  # for introspection (tests, documentation)
        # the defaults as the function declares them (``f.__defaults__``), for code that reads them; the
        # wrapper itself takes *args and **kwargs, so they change no call
        checked.__defaults__, checked.__kwdefaults__ = func.__defaults__, func.__kwdefaults__
        return checked

    return decorate


def _is_seed_field(name: str) -> bool:
    # "n_seeds" is a count of seeds, not a seed
    return name in ("seed", "seeds") or (name.endswith(("_seed", "_seeds")) and not name.startswith("n_"))


def _check_seeds(value: Any, name: str) -> None:
    values = value if isinstance(value, (tuple, list)) else (value,)
    for i, v in enumerate(values):
        if v is not None:
            whole(v, name if values is not value else f"{name}[{i}]", low=0, high=CONFIG_SEED_MAX)


def check_fields(cfg: Any, **rules: Callable) -> None:
    """Validate (and canonicalise) the named fields of a frozen dataclass ``cfg`` in place, with the same rules
    as :func:`validated` (or any callable ``rule(value, name)``), in the order given.

    Every seed field of ``cfg`` (named ``seed``, ``seeds``, ``*_seed`` or ``*_seeds``; ``n_seeds`` is a count),
    listed in ``rules`` or not, must also hold whole numbers in ``[0, CONFIG_SEED_MAX]``.
    """
    if not dataclasses.is_dataclass(cfg) or isinstance(cfg, type):
        raise TypeError(f"cfg must be a dataclass instance (a config), got {type(cfg).__name__}")
    fields = cfg.__dataclass_fields__
    unknown = sorted(set(rules) - set(fields))
    if unknown:
        raise TypeError(f"check_fields: {type(cfg).__name__} has no field(s) {unknown}")
    checked = {name: getattr(cfg, name) for name in fields}
    for name, rule in rules.items():
        checked[name] = _apply(rule, getattr(cfg, name), name, checked)
        object.__setattr__(cfg, name, checked[name])
    for name in fields:
        if _is_seed_field(name):
            _check_seeds(getattr(cfg, name), name)


def entries(res, keys, name: str = "res") -> dict:
    """The entries ``keys`` of a stored result (or a mapping of its entries) ``res``, as a dict; another type,
    or a missing entry, is refused naming ``name``."""
    if not hasattr(res, "__getitem__") or isinstance(res, (str, bytes, list, tuple, np.ndarray)):
        raise TypeError(f"{name} must be a stored result or a mapping of its entries, got {type(res).__name__}")
    out = {}
    for key in keys:
        try:
            out[key] = res[key]
        except (KeyError, IndexError, TypeError) as exc:
            raise ValueError(f"{name} must hold the entry {key!r}: {exc}") from exc
    return out
