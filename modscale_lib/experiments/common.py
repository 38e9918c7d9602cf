"""What every experiment module shares: grids, and config validation by field.

A config is a frozen dataclass that validates and canonicalises its own fields in ``__post_init__`` through
:func:`check_fields`, so that a bad value is refused before any computation and ``5.0`` where a whole number
is meant is stored (and keyed) as ``5``. Seeds (fields named ``seed``, ``seeds``, ``*_seed`` or ``*_seeds``)
(``n_seeds`` is a count) are also bounded by ``CONFIG_SEED_MAX`` there, whatever rule the config gives them.
"""
from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np

from .. import validation

__all__ = ["geomspace_ints", "check_fields", "whole", "real", "wholes", "reals", "one_of", "some_of",
           "optional_whole", "CONFIG_SEED_MAX"]

#: The largest seed a config may hold: 2**32 - 1. The experiments derive further seeds from a config's seeds
#: (``10_000 * seed + ...``, ``seed * 1000 + j``, ``noise_seed * 100003 + b``) that the random generators take
#: only up to 2**63 - 1 (``validation.MAX_SEED``); this bound keeps every derived seed in range,
#: so a seed that is too large is refused with the config, not in the middle of a computation.
CONFIG_SEED_MAX = 2 ** 32 - 1


def geomspace_ints(start: int, stop: int, num: int) -> tuple:
    """``num`` geometrically spaced whole numbers from ``start`` to ``stop``, rounded, duplicates removed."""
    return tuple(int(v) for v in np.unique(np.round(np.geomspace(start, stop, num))))


Rule = Callable[[Any, str], Any]


def _is_seed_field(name: str) -> bool:
    # "n_seeds" is a count of seeds, not a seed
    return name in ("seed", "seeds") or (name.endswith(("_seed", "_seeds")) and not name.startswith("n_"))


def _check_seeds(value: Any, name: str) -> None:
    values = value if isinstance(value, (tuple, list)) else (value,)
    for i, v in enumerate(values):
        if v is not None:
            validation.whole(v, name if values is not value else f"{name}[{i}]", low=0, high=CONFIG_SEED_MAX)


def check_fields(cfg: Any, **rules: Rule) -> None:
    """Validate (and canonicalise) the named fields of a frozen dataclass ``cfg`` in place.

    Every seed field of ``cfg`` (named ``seed``, ``seeds``, ``*_seed`` or ``*_seeds``), listed in ``rules``
    or not, must also hold whole numbers in ``[0, CONFIG_SEED_MAX]``.
    """
    for name, rule in rules.items():
        object.__setattr__(cfg, name, rule(getattr(cfg, name), name))
    for name in getattr(cfg, "__dataclass_fields__", {}):
        if _is_seed_field(name):
            _check_seeds(getattr(cfg, name), name)


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
