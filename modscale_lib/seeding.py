"""TEMPORARY (issue 23 phase A): removed in phase C. The old path of :mod:`modscale_lib.core`'s seeding."""
from .core import *  # noqa: F403  TEMPORARY (issue 23 phase A): removed in phase C
from .core import single_threaded

_single_threaded = single_threaded   # TEMPORARY: learning_rule (in flight) imports it by this name
