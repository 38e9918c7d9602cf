"""Measurements on results, on numpy and scipy (no torch): how well learned module projections match the true
ones (``_subspaces``: the span of all modules, their grouping, principal angles) and learning curves (the
samples needed to reach a target, the monotone envelope of a curve, and the growth of the samples needed per
added input dimension, with a bootstrap interval over seeds).

Shapes: projections are ``(K, m, b)`` arrays (``K`` modules of ``b`` columns in ``R^m``; one module may be given
as ``(m, b)``); a learning curve is a loss per sample count of a grid.
"""

from ._curves import growth_ci, growth_per_dimension, monotone_envelope, samples_needed_monotone, samples_to_reach
from ._subspaces import (
    grouped_overlap,
    matched_mean,
    matched_similarity,
    module_overlaps,
    module_similarity,
    orthonormal_modules,
    principal_cosines,
    similarity_score,
    union_overlap,
    union_span_error,
)

__all__ = [
    # subspaces
    "union_overlap",
    "grouped_overlap",
    "module_overlaps",
    "orthonormal_modules",
    "principal_cosines",
    "module_similarity",
    "matched_similarity",
    "matched_mean",
    "union_span_error",
    "similarity_score",
    # learning curves
    "growth_per_dimension",
    "samples_to_reach",
    "monotone_envelope",
    "samples_needed_monotone",
    "growth_ci",
]
