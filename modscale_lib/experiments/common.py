"""What every experiment module shares: grids, and config validation by field.

A config is a frozen dataclass that validates and canonicalises its own fields in ``__post_init__`` through
:func:`check_fields`, so that a bad value is refused before any computation and ``5.0`` where a whole number
is meant is stored (and keyed) as ``5``.
"""
from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np

from .. import validation

__all__ = ["geomspace_ints", "check_fields", "whole", "real", "wholes", "reals", "one_of", "some_of",
           "optional_whole"]


def geomspace_ints(start: int, stop: int, num: int) -> tuple:
    """``num`` geometrically spaced whole numbers from ``start`` to ``stop``, rounded, duplicates removed."""
    return tuple(int(v) for v in np.unique(np.round(np.geomspace(start, stop, num))))


Rule = Callable[[Any, str], Any]


def check_fields(cfg: Any, **rules: Rule) -> None:
    """Validate (and canonicalise) the named fields of a frozen dataclass ``cfg`` in place."""
    for name, rule in rules.items():
        object.__setattr__(cfg, name, rule(getattr(cfg, name), name))


def whole(low: int | None = 1, high: int | None = None) -> Rule:
    return lambda v, name: validation.whole(v, name, low=low, high=high)


def optional_whole(low: int | None = 1, high: int | None = None) -> Rule:
    return lambda v, name: None if v is None else validation.whole(v, name, low=low, high=high)


def real(low: float | None = None, high: float | None = None, *, low_open: bool = False) -> Rule:
    return lambda v, name: validation.real(v, name, low=low, high=high, low_open=low_open)


def _sequence(v: Any, name: str) -> Sequence:
    if isinstance(v, (str, bytes)) or not isinstance(v, (tuple, list)):
        raise TypeError(f"{name} must be a tuple, got {type(v).__name__}")
    if not v:
        raise ValueError(f"{name} must not be empty")
    return v


def wholes(low: int | None = 1, high: int | None = None, *, unique: bool = True) -> Rule:
    def rule(v, name):
        out = tuple(validation.whole(x, f"{name}[{i}]", low=low, high=high) for i, x in enumerate(_sequence(v, name)))
        if unique and len(set(out)) != len(out):
            raise ValueError(f"{name} must not repeat a value, got {out}")
        return out
    return rule


def reals(low: float | None = None, high: float | None = None, *, low_open: bool = False) -> Rule:
    return lambda v, name: tuple(validation.real(x, f"{name}[{i}]", low=low, high=high, low_open=low_open)
                                 for i, x in enumerate(_sequence(v, name)))


def one_of(options: Sequence[str]) -> Rule:
    return lambda v, name: validation.choice(v, name, tuple(options))


def some_of(options: Sequence[str]) -> Rule:
    def rule(v, name):
        out = tuple(validation.choice(x, f"{name}[{i}]", tuple(options)) for i, x in enumerate(_sequence(v, name)))
        if len(set(out)) != len(out):
            raise ValueError(f"{name} must not repeat a value, got {out}")
        return out
    return rule
