"""Classic dimension reduction: methods that find the low-dimensional projections a target depends on.

These are the peers of the book's learning rule (:mod:`modscale_lib.rule`): given samples ``X``
(n, m) and a scalar target ``y`` (n,), each estimates a basis of the subspace ``span(U)`` when
``y = f(U^T x) + noise``. Every method has one signature,

    ``f(X, y, n_directions, *, seed=0) -> np.ndarray`` of shape ``(m, n_directions)``, orthonormal columns,

and is listed in :data:`METHODS` by name: ``sir``, ``save``, ``phd`` (moment methods), ``gkdr``, ``ppr``,
``rfm``, ``egop`` (methods that fit a model). Extra keywords (number of slices, bandwidths, iterations...)
have defaults; the registry calls use them. :func:`active_subspace` is different: it reads the true gradients
of the target, so it is an oracle bound, not an estimator from ``(X, y)``.

Inputs: ``X`` needs at least ``max(10, 2 m)`` rows and a non-singular sample covariance; ``y`` must be
finite, non-constant and as long as ``X``; ``1 <= n_directions <= m``. Torch tensors are accepted. Every
method works in whitened coordinates ``z = Sigma^(-1/2) (x - mean)`` and maps its directions back with
``Sigma^(-1/2)``; results are deterministic given ``seed`` (the moment methods ignore it). A method that trains
(EGOP) raises :class:`PeerDivergedError` when its training diverges.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ._fitted import PeerDivergedError, egop, gkdr, ppr, rfm
from ._inputs import MIN_SAMPLES
from ._moments import active_subspace, phd, save, sir

__all__ = [
    "sir",
    "save",
    "phd",
    "gkdr",
    "ppr",
    "rfm",
    "egop",
    "active_subspace",
    "METHODS",
    "LABELS",
    "MIN_SAMPLES",
    "PeerDivergedError",
]

METHODS: dict[str, Callable[..., np.ndarray]] = {
    "sir": sir,
    "save": save,
    "phd": phd,
    "gkdr": gkdr,
    "ppr": ppr,
    "rfm": rfm,
    "egop": egop,
}
"""Every peer method by name; each is called as ``METHODS[name](X, y, n_directions, seed=seed)``."""

#: How the book writes each method's name in tables and prose (the literature's spelling of the keys of METHODS).
LABELS: dict[str, str] = {
    "sir": "SIR",
    "save": "SAVE",
    "phd": "pHd",
    "gkdr": "gKDR",
    "ppr": "PPR",
    "rfm": "RFM",
    "egop": "EGOP",
}
