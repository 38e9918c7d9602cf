"""Random-feature regression: a frozen random ReLU first layer of ``p`` features and a ridge readout solved in
closed form, with the ridge chosen on a validation split.

This is the trained counterpart of the linear model of the theory chapters ({doc}`/book/theory_linear_model`):
the features are fixed at initialisation and only the readout learns, so its sample complexity is that of a
kernel method with ``p`` features, not that of a network whose first layer moves. Features:

``phi(x) = relu((w^T x / sqrt(m) + c) / sqrt(2))``, ``w ~ N(0, I_m)``, ``c ~ N(0, 1)`` (so the pre-activation is
``N(0, 1)`` for ``x ~ N(0, I_m)``). The random offsets ``c`` matter: without them a ReLU feature of a Gaussian
input has no Hermite component of odd degree above 1, and no readout could fit ``He_3``.

Readout: ``theta = argmin (1/n) |Phi theta - y|^2 + lam |theta|^2`` for every ``lam`` of a grid, from one
eigendecomposition of the ``p x p`` Gram matrix (``n > p``, accumulated over rows as ``n`` grows, so a path of
increasing ``n`` costs what its largest ``n`` costs) or of the ``n x n`` kernel matrix (``n <= p``). The grid is
relative to the features' mean square, ``tr(Phi^T Phi) / (n p)``.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from .. import core
from ..core import torch_generator

__all__ = ["RandomFeatureRidge", "RIDGES"]

#: The ridge grid, 10^-5 .. 10^1 by factors of sqrt(10), relative to the features' mean square.
RIDGES = tuple(float(10.0 ** (e / 2)) for e in range(-10, 3))
_CHUNK = 4096  # rows per Gram update: bounds the memory of one feature block


class RandomFeatureRidge:
    """Ridge regression on ``n_features`` frozen random ReLU features of ``input_dim`` inputs.

    Parameters
    ----------
    input_dim : ``m`` (>= 1). n_features : ``p`` (>= 1). seed : draws the first layer (on the CPU, so the
    features do not depend on the device). ridges : the ridge grid, relative to the features' mean square
    (positive, increasing). device : where the features and solves are computed (default the CPU).

    Call :meth:`losses` with a training pool, a validation split and a test set, at increasing or arbitrary
    ``n``: each call fits on the first ``n`` rows of the pool.
    """

    def __init__(self, input_dim: int, n_features: int, seed: int, ridges=RIDGES, device=None):
        self.input_dim = core.whole(input_dim, "input_dim", low=1)
        self.n_features = core.whole(n_features, "n_features", low=1, high=65536)
        ridges = core.real_array(ridges, "ridges", low=0.0, low_open=True, ndim=1, min_size=1)
        if np.any(np.diff(ridges) <= 0):
            raise ValueError(f"ridges must be increasing, got {ridges.tolist()}")
        self.ridges = ridges
        core.check_size(self.input_dim * self.n_features, "input_dim * n_features")
        g = torch_generator(core.seed(seed), 31337)
        self.device = torch.device("cpu") if device is None else torch.device(device)
        self.W = (torch.randn(self.input_dim, self.n_features, generator=g) / math.sqrt(self.input_dim)).to(self.device)
        self.c = torch.randn(self.n_features, generator=g).to(self.device)
        self._rows, self._gram, self._moment = 0, None, None  # the accumulated Gram of the pool's first rows

    def _vector(self, a) -> torch.Tensor:
        return torch.as_tensor(np.asarray(a), dtype=torch.float64, device=self.device)

    def features(self, X) -> torch.Tensor:
        """``phi(X)``, (n, p) float32, from inputs (n, m)."""
        X = torch.as_tensor(core.array(X, "X", shape=(None, self.input_dim), dtype=np.float32)).to(self.device)
        return torch.relu((X @ self.W + self.c) / math.sqrt(2.0))

    def _gram_to(self, X, y, n: int) -> tuple[torch.Tensor, torch.Tensor]:
        """``Phi^T Phi`` and ``Phi^T y`` over the first ``n`` rows, float64; extends the stored sums when ``n``
        is past the rows already summed, else sums afresh (the stored sums are kept for later, larger ``n``)."""
        p = self.n_features
        if n >= self._rows and self._gram is not None:
            start, gram, moment = self._rows, self._gram, self._moment
        else:
            start = 0
            gram = torch.zeros(p, p, dtype=torch.float64, device=self.device)
            moment = torch.zeros(p, dtype=torch.float64, device=self.device)
        for a in range(start, n, _CHUNK):
            b = min(n, a + _CHUNK)
            phi = self.features(X[a:b])
            gram += (phi.T @ phi).double()  # float32 products of at most _CHUNK rows, summed in float64
            moment += (phi.T @ self._vector(y[a:b]).float()).double()
        if n >= self._rows:
            self._rows, self._gram, self._moment = n, gram, moment
        return gram, moment

    def _checked(self, X, y, n, X_val, y_val, X_test, y_test) -> tuple:
        """:meth:`losses`' arguments, validated: each set's inputs (rows, m) as float32 (what the features read)
        and its targets, one per row, as float64."""
        out = []
        for (a, name_a), (b, name_b) in (
            ((X, "X"), (y, "y")),
            ((X_val, "X_val"), (y_val, "y_val")),
            ((X_test, "X_test"), (y_test, "y_test")),
        ):
            a = core.array(a, name_a, shape=(None, self.input_dim), dtype=np.float32, min_rows=1)
            out += [a, core.array(b, name_b, shape=(len(a),))]
        n = core.whole(n, "n", low=1, high=len(out[0]))
        return out[0], out[1], n, *out[2:]

    def losses(self, X, y, n: int, X_val, y_val, X_test, y_test) -> dict:
        """Fit on the first ``n`` rows of ``(X, y)`` at every ridge; choose the ridge on the validation split.

        X : (N, m) pool, N >= n; y : (N,). Returns a dict: ``val_loss`` (R,) per ridge, ``ridge_index`` (the
        one chosen) and ``test_loss`` there (mean squared errors).
        """
        X, y, n, X_val, y_val, X_test, y_test = self._checked(X, y, n, X_val, y_val, X_test, y_test)
        p = self.n_features
        phi_v, phi_t = self.features(X_val).double(), self.features(X_test).double()
        yv, yt = self._vector(y_val), self._vector(y_test)
        if n <= p:  # dual: eigendecomposition of the n x n kernel matrix
            phi = self.features(X[:n]).double()
            evals, evecs = torch.linalg.eigh(phi @ phi.T / n)
            scale = float(torch.trace(phi @ phi.T)) / (n * p)
            coef = evecs.T @ self._vector(y[:n]) / n
            # theta(lam) = Phi^T V diag(1 / (s + lam)) V^T y / n
            directions = phi.T @ evecs  # (p, n)
        else:  # primal: eigendecomposition of the p x p Gram matrix
            gram, moment = self._gram_to(X, y, n)
            evals, evecs = torch.linalg.eigh(gram / n)
            scale = float(torch.trace(gram)) / (n * p)
            coef, directions = evecs.T @ (moment / n), evecs
        evals = evals.clamp_min(0.0)
        thetas = [directions @ (coef / (evals + lam * scale)) for lam in self.ridges]
        val = np.array([float(torch.mean((phi_v @ t - yv) ** 2)) for t in thetas])
        if not np.all(np.isfinite(val)):
            raise FloatingPointError(f"random-feature ridge at n = {n}: a validation loss is not finite")
        best = int(np.argmin(val))
        return {"val_loss": val, "ridge_index": best, "test_loss": float(torch.mean((phi_t @ thetas[best] - yt) ** 2))}
