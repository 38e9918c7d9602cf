"""Deprecated: the Compositional CIFAR-10 experiment moved to :mod:`modscale_lib.experiments.compositional_cifar`.

Kept for one release so that old imports keep working; it warns when imported.
"""
import warnings

from .experiments.compositional_cifar import *  # noqa: F401,F403
from .experiments.compositional_cifar import compositional_accuracy as compositional_cifar_experiment  # noqa: F401

warnings.warn("modscale_lib.compositional moved to modscale_lib.experiments.compositional_cifar",
              DeprecationWarning, stacklevel=2)
