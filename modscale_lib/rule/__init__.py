"""The learning rule: the kernel objective minimised over each module's projection, and the ways to find the
modules with it (``VARIANTS``).

- ``_kernels``: the kernels of the objective (features, rbf, ntk) on the projected inputs;
- ``_search``: the objective (:func:`kernel_objective`) and :func:`find_module_projections`, every
  variant: the paper's independent restarts (``paper``), deflation and backfitting (``deflation``,
  ``backfit``), the moment span first (``spectral``), and the span grouped into modules (``grouped``,
  ``newton``, the fast default: :func:`resolve_variant`);
- ``_span``: the span of every module from the target's first two moments (:func:`moment_span`);
- ``_grouping``: directions grouped into modules by the Hessians of a model fitted in their span;
- ``_newton``: the span refined and the modules refitted by closed-form Gauss-Newton steps.

Shapes: ``X`` is ``(n, m)``, ``y`` ``(n,)`` or ``(n, d)``; projections are ``(K, m, b)``, orthonormal columns.
"""

from ._grouping import (
    fit_additive,
    group_directions,
    joint_block_diagonalise,
    partition_directions,
    span_model_hessians,
)
from ._kernels import (
    KERNELS,
    ModuleAtInit,
    as_float_tensor,
    cross_kernel,
    feature_kernel,
    kernel_matrix,
    ntk_kernel,
    rbf_kernel,
)
from ._newton import NEWTON_DEFAULTS, newton_projections
from ._search import (
    AUTO,
    DEFAULTS,
    VARIANTS,
    KernelNotPositiveDefiniteError,
    RuleDivergedError,
    find_module_projections,
    kernel_objective,
    orthonormalise,
    resolve_variant,
)
from ._span import moment_span

__all__ = [
    # the objective and the search
    "kernel_objective",
    "find_module_projections",
    "VARIANTS",
    "AUTO",
    "DEFAULTS",
    "resolve_variant",
    "orthonormalise",
    "KernelNotPositiveDefiniteError",
    "RuleDivergedError",
    # kernels
    "KERNELS",
    "ModuleAtInit",
    "feature_kernel",
    "ntk_kernel",
    "rbf_kernel",
    "kernel_matrix",
    "cross_kernel",
    "as_float_tensor",
    # the span, the grouping, the Gauss-Newton refit
    "moment_span",
    "group_directions",
    "span_model_hessians",
    "joint_block_diagonalise",
    "fit_additive",
    "partition_directions",
    "newton_projections",
    "NEWTON_DEFAULTS",
]
