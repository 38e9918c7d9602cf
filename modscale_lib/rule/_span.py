"""The span of a multi-index model's directions from the target's first two moments (Stein's lemma).

The first step of the rule's ``grouped`` and ``newton`` variants (:mod:`modscale_lib.rule`,
:mod:`modscale_lib.rule`); its own module so that both import it without importing each other.
"""

from __future__ import annotations

import numpy as np

from ..core import array, check_size, whole

__all__ = ["moment_span"]


def moment_span(X, y, dim: int) -> np.ndarray:
    """An orthonormal basis (m, dim) of the directions along which ``y`` depends, from its first two moments.

    With ``x ~ N(0, I)`` and ``y = sum_j g_j(U_j^T x)``, Stein's lemma gives ``E[y x] = sum_j U_j E[grad g_j]``
    and ``E[y (x x^T - I)] = sum_j U_j E[hess g_j] U_j^T``: both live in the span of the ``U_j``. The basis is
    the top ``dim`` eigenvectors of ``a a^T + H H`` with ``a``, ``H`` their sample estimates (``y`` centred),
    so a module whose first Hermite coefficient vanishes is still found through its second, and vice versa.

    X : (n, m) inputs (n >= 2, not all rows equal); y : (n,) targets, not constant; dim : 1 <= dim <= m.
    """
    X = array(X, "X", ndim=2, min_rows=2)
    y = array(y, "y", shape=(X.shape[0],))
    check_size(X.shape[1] ** 2, "X's columns squared")
    dim = whole(dim, "dim", low=1, high=X.shape[1])
    if np.ptp(y) == 0:
        raise ValueError("y is constant: it depends on no direction of X, so its moments span nothing")
    if not np.any(np.ptp(X, axis=0) > 0):
        raise ValueError("X is constant: every row is the same, so its moments with y span nothing")
    yc = y - y.mean()
    a = X.T @ yc / len(yc)
    H = (X * yc[:, None]).T @ X / len(yc)
    _, vectors = np.linalg.eigh(np.outer(a, a) + H @ H)
    return np.ascontiguousarray(vectors[:, ::-1][:, : int(dim)])
