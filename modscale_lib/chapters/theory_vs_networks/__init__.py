"""The chapter *Theory meets trained networks* (``book/theory_vs_networks.ipynb``): its read-out
(:func:`measurements` once, then :func:`conclusions`, every value its prose glues) and what it shows of them (the
figures, tables and printed lines of ``figures``). The analysis itself is :mod:`modscale_lib.theory_fit` and
:mod:`modscale_lib.theory_peaks`; the experiment is ``experiments.network_theory``."""

from .figures import *  # noqa: F403
from .figures import __all__ as _figures_all
from .readout import *  # noqa: F403
from .readout import __all__ as _readout_all

__all__ = [*_readout_all, *_figures_all]
