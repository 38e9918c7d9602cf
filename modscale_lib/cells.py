"""TEMPORARY (issue 23 phase A): removed in phase C. The old path of part of :mod:`modscale_lib.store`."""
from .store import *  # noqa: F403  TEMPORARY (issue 23 phase A): removed in phase C
