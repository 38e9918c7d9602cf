"""The chapter *Compositional CIFAR-10* (``book/compositional_cifar.ipynb``): its read-out (:func:`conclusions`,
every value its prose glues, from the stored ``compositional_tuning`` and ``compositional_accuracy`` results) and
what it shows of them (the figures and tables of ``figures``). The experiments are
``experiments.compositional_tuning`` and ``experiments.compositional_accuracy``; what learned modules look at is
:mod:`modscale_lib.module_diagnostics`, the rule :mod:`modscale_lib.cifar_rule`."""

from .figures import *  # noqa: F403
from .figures import __all__ as _figures_all
from .readout import *  # noqa: F403
from .readout import __all__ as _readout_all

__all__ = [*_readout_all, *_figures_all]
