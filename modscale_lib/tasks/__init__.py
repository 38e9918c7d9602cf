"""The book's synthetic tasks: a target that is a sum of ``K`` modules, each a function of a ``b``-dimensional
projection ``U_j^T x`` of a Gaussian input ``x`` in ``R^m``, scaled so that ``Var(y) = 1`` exactly.

- :class:`SineWaveTask` (``_base``, with the base :class:`ModularTask`): modules that are sums of sine
  waves of the projection, the paper's task (``b = 1``: sums of ridges cannot be grouped when ``b >= 2``);
- :class:`NonSeparableTask` and :class:`HermiteLinkTask` (``_families``): modules of ``b >= 2`` that are
  not sums of ridges (``bump_ridge``, ``hermite``), and single-index Hermite links ``He_1 .. He_4``.

:func:`make_task` builds any of them from its kind (one of :data:`TASK_KINDS`): the one way every experiment
makes a task from a name.
"""

from ._base import DEFAULT_AMPLITUDES, DEFAULT_FREQUENCIES, ModularTask, SineWaveTask
from ._families import (
    LINK_KINDS,
    MODULE_KINDS,
    TASK_KINDS,
    HermiteLinkTask,
    NonSeparableTask,
    check_task_kind,
    link_degree,
    make_task,
)

__all__ = [
    "ModularTask",
    "SineWaveTask",
    "DEFAULT_FREQUENCIES",
    "DEFAULT_AMPLITUDES",
    "NonSeparableTask",
    "HermiteLinkTask",
    "MODULE_KINDS",
    "LINK_KINDS",
    "TASK_KINDS",
    "make_task",
    "check_task_kind",
    "link_degree",
]
