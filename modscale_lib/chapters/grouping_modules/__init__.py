"""The chapter *Modules of more than one dimension* (``book/grouping_modules.ipynb``): its read-out
(:func:`measurements` once, then :func:`conclusions`, every value its prose glues; the paired differences, the
failed runs and the tables' columns they rest on) and what it shows of them (the figure, tables and printed lines
of ``figures``). The algorithms are :mod:`modscale_lib.rule` and :mod:`modscale_lib.rule`; the experiments
are ``experiments.grouping_modules`` (``module_grouping``, ``rule_comparison`` and ``span_start_overlap``)."""

from .figures import *  # noqa: F403
from .figures import __all__ as _figures_all
from .readout import *  # noqa: F403
from .readout import __all__ as _readout_all

__all__ = [*_readout_all, *_figures_all]
