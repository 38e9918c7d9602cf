"""TEMPORARY (issue 23 phase A): removed in phase C. The old path of :mod:`modscale_lib.present`'s explorers."""
from .present import *  # noqa: F403  TEMPORARY (issue 23 phase A): removed in phase C
