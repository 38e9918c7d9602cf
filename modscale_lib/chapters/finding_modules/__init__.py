"""The chapter *Finding the modules* (``book/finding_modules.ipynb``): its read-out (:func:`recovery`,
:func:`training` and :func:`sensitivity`, one per stored result, then :func:`conclusions`, every value its prose
glues) and what it shows of them (the figures, tables and printed lines of ``figures``). The rule is
:mod:`modscale_lib.rule`; the experiments are ``experiments.module_recovery``,
``experiments.projection_training`` and ``experiments.rule_sensitivity``."""

from .figures import *  # noqa: F403
from .figures import __all__ as _figures_all
from .readout import *  # noqa: F403
from .readout import __all__ as _readout_all

__all__ = [*_readout_all, *_figures_all]
