"""The chapter *Exponential or polynomial? The law of the samples needed* (``book/scaling_law.ipynb``): its
read-out (:func:`measurements` once, then :func:`conclusions`, every value its prose glues), its verdicts in words
(which regimes each exponent is consistent with, the paired contrasts, the claim), and what it shows of them (the
figure, tables and printed lines of ``figures``). The fits and intervals are :mod:`modscale_lib.laws` and
:mod:`modscale_lib.law_readout`; the experiment is ``experiments.scaling_law``."""

from ._verdicts import *  # noqa: F403
from ._verdicts import __all__ as _verdicts_all
from .figures import *  # noqa: F403
from .figures import __all__ as _figures_all
from .readout import *  # noqa: F403
from .readout import __all__ as _readout_all

__all__ = [*_readout_all, *_verdicts_all, *_figures_all]
