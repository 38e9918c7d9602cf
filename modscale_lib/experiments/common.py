"""What every experiment module shares: grids. Config validation is :mod:`modscale_lib.core`'s one mechanism
(:func:`modscale_lib.core.check_fields` with its rules); a config is a frozen dataclass that validates and
canonicalises its own fields in ``__post_init__``, so that a bad value is refused before any computation and
``5.0`` where a whole number is meant is stored (and keyed) as ``5``.
"""
from __future__ import annotations

import numpy as np

from ..core import CONFIG_SEED_MAX, Choice, OrNone, Real, Reals, SomeOf, Whole, Wholes, check_fields

__all__ = ["geomspace_ints", "check_fields", "CONFIG_SEED_MAX"]

# TEMPORARY (issue 23 phase A): the rules under the names that the experiments in flight import from here;
# removed in phase C, when every config names the rules of modscale_lib.core.
whole, wholes, real, reals, one_of, some_of = Whole, Wholes, Real, Reals, Choice, SomeOf


def geomspace_ints(start: int, stop: int, num: int) -> tuple:
    """``num`` geometrically spaced whole numbers from ``start`` to ``stop``, rounded, duplicates removed."""
    return tuple(int(v) for v in np.unique(np.round(np.geomspace(start, stop, num))))


def optional_whole(low: int | None = 1, high: int | None = None) -> OrNone:
    """TEMPORARY (issue 23 phase A): ``OrNone(Whole(low, high))``, under the name the experiments in flight use."""
    return OrNone(Whole(low, high))
