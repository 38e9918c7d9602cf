"""The chapter *Sample complexity against dimension* (``book/sample_complexity.ipynb``): its read-out
(:func:`measurements` once, then :func:`conclusions`, every value its prose glues) and what it shows of them (the
figures and tables of ``figures``). The analysis itself is :mod:`modscale_lib.growth` (samples needed, growth per
dimension, comparisons) and :mod:`modscale_lib.law_readout` (the scaling-law study's tasks); the experiments are
``experiments.sample_complexity`` (capacity search, sweep, monolithic steps, objective cost)."""

from .figures import *  # noqa: F403
from .figures import __all__ as _figures_all
from .readout import *  # noqa: F403
from .readout import __all__ as _readout_all

__all__ = [*_readout_all, *_figures_all]
