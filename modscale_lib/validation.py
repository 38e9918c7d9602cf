"""TEMPORARY (issue 23 phase A): removed in phase C. The old path of :mod:`modscale_lib.core`'s validation."""
from .core import *  # noqa: F403  TEMPORARY (issue 23 phase A): removed in phase C
