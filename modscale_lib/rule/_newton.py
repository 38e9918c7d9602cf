"""The learning rule's fast variant, ``"newton"``: the modules from the target's moments, local Hessians and
closed-form Gauss-Newton refits, in about the time of a few hundred moment-method calls.

Explained in the chapter :doc:`/book/grouping_modules`. For ``y = sum_j g_j(U_j^T x) + noise`` with
``x ~ N(0, I_m)`` and ``K b <= m``, :func:`newton_projections` runs:

1. **The span** (:func:`modscale_lib.rule.moment_span`): the top ``D = K b`` eigenvectors of the
   first two moments, ``B`` (m, D).
2. **The span, refined.** A Gaussian-kernel ridge regression ``f(z)`` of ``y`` on ``z = B^T x`` (bandwidth and
   ridge by leave-one-out error) and Gauss-Newton steps on ``B``. For Gaussian inputs the part of ``x``
   outside the span, ``x_perp``, is independent of ``z``, so the least-squares step ``M`` (m, D) in
   ``y - f(z) ~ x_perp^T M grad f(z)`` is closed-form: ``M = E[r x_perp grad f^T] E[grad f grad f^T]^-1``,
   with ``r`` the model's residuals (leave-one-out ones at the points it was fitted on, so that a flexible
   model's in-sample fit does not hide the signal). A step is kept only if the leave-one-out error falls.
3. **The grouping** (:func:`modscale_lib.rule.joint_block_diagonalise`): the kernel model's Hessians,
   in closed form at sample points, are jointly block-diagonalised, as in the ``"grouped"`` variant (an
   additive target has no mixed second derivatives across modules).
4. **The modules, refitted.** An additive model ``sum_k h_k(U_k^T x)`` (random Fourier features per module,
   ridge by leave-one-out error) and Gauss-Newton steps on every ``U_k``: outside the span the closed form
   above; inside it, a ``D^2``-parameter least-squares step with the model's own functions projected out
   (variable projection, Golub and Pereyra 1973), so that a rotation the module functions can absorb is no step.
5. **A regrouping check.** The kernel model is refitted in the refined span and the grouping redone; if it
   disagrees with the refit's (grouped overlap below 0.9), step 4 runs from it too and the lower
   leave-one-out error wins; up to ``rounds`` times.
6. **A polish.** Step 4 once more from the result, with more features per module: the module functions'
   approximation error is what limits how close the steps come to the truth once the grouping is found.

Every solve is a Cholesky factorisation, an eigendecomposition of a matrix of at most a few hundred rows, or a
``D x D`` or ``D^2 x D^2`` system; the models are fitted on at most ``kernel_points`` and ``max_points`` sample
points, while the Gauss-Newton statistics use every sample. numpy and scipy, on one BLAS thread
(:func:`modscale_lib.core.single_thread`), so that the result is the same bit for bit whatever the thread count.
"""

from __future__ import annotations

import math

import numpy as np

from .. import core
from ._span import moment_span

__all__ = ["newton_projections", "NEWTON_DEFAULTS"]

#: The settings of :func:`newton_projections`, written once.
NEWTON_DEFAULTS = {
    "kernel_points": 800,
    "select_points": 300,
    "module_features": 60,
    "polish_features": 120,
    "max_points": 4000,
    "rounds": 3,
    "max_steps": 20,
    "tol": 1e-2,
    "n_points": 64,
}
# The kernel's bandwidths, on coordinates z of unit variance: from finer than the sine task's fastest component to
# far above the data's spread, where the kernel acts as a low-degree polynomial (the Hermite task's modules pick 10).
_BANDWIDTHS = (0.5, 0.7, 1.0, 1.5, 2.5, 4.0, 6.0, 10.0, 16.0, 25.0)
# Ridges per 1000 points fitted; on noise-free targets the smallest that keeps the solve stable wins.
_RIDGES = (1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1, 1.0, 10.0)
_MODULE_SCALES = (0.5, 1.0, 2.0)  # the module features' length scales, in equal shares
_CHUNK = 8192  # rows per block where a (rows, points) matrix is formed
_AGREE = 0.9  # grouped overlap above which two groupings are the same


def _sqdist(A: np.ndarray, B: np.ndarray) -> np.ndarray:
    return np.maximum((A * A).sum(1)[:, None] + (B * B).sum(1)[None, :] - 2.0 * A @ B.T, 0.0)


def _orthonormal(A: np.ndarray) -> np.ndarray:
    """QR factor of the last two axes, signs fixed (``diag R > 0``)."""
    Q, R = np.linalg.qr(A)
    return Q * np.where(np.diagonal(R, axis1=-2, axis2=-1) < 0, -1.0, 1.0)[..., None, :]


def _finite(value: float, what: str) -> float:
    if not math.isfinite(value):
        raise FloatingPointError(
            f"newton rule: the {what} is not finite ({value}); the inputs are degenerate or badly scaled"
        )
    return value


# -------------------------------------------------------------------------------------------------------
# The span model: Gaussian kernel ridge regression on z = B^T x
# -------------------------------------------------------------------------------------------------------
class _SpanModel:
    """``f(z) = mean + sum_i alpha_i exp(-|z - z_i|^2 / 2h^2)`` over the fitted points ``z_i``."""

    def choose(self, Z: np.ndarray, y: np.ndarray, rows: np.ndarray, near: float | None = None) -> None:
        """Bandwidth and ridge of least leave-one-out error on ``Z[rows]`` (one eigendecomposition per
        bandwidth makes every ridge free); with ``near``, among the two bandwidths on either side of it only."""
        Zs, yc = Z[rows], y[rows] - y[rows].mean()
        d2, best = _sqdist(Zs, Zs), None
        i = _BANDWIDTHS.index(near) if near is not None else None
        for h in _BANDWIDTHS if i is None else _BANDWIDTHS[max(i - 2, 0) : i + 3]:
            eig, Q = np.linalg.eigh(np.exp(-d2 / (2 * h * h)))
            eig, qy, Q2 = np.maximum(eig, 0.0), Q.T @ yc, Q * Q
            for ridge in _RIDGES:
                lam = ridge * len(rows) / 1000
                loo = float(np.mean(((Q @ (qy / (eig + lam))) / (Q2 @ (1.0 / (eig + lam)))) ** 2))
                if best is None or loo < best[0]:
                    best = (loo, h, ridge)
        _finite(best[0], "kernel model's leave-one-out error")
        self.h, self.ridge = best[1], best[2]

    def fit(self, Z: np.ndarray, y: np.ndarray, rows: np.ndarray) -> float:
        """Fit on ``Z[rows]``; returns the leave-one-out mean squared error (its residuals kept)."""
        from scipy.linalg import lapack

        self.Zf, self.mean = Z[rows], float(y[rows].mean())
        G = np.exp(-_sqdist(self.Zf, self.Zf) / (2 * self.h**2))
        G[np.diag_indices_from(G)] += self.ridge * len(rows) / 1000
        L = np.linalg.cholesky(G)
        Linv, info = lapack.dtrtri(L, lower=1)  # L^-1 (the leave-one-out residuals need its columns)
        if info != 0:
            raise FloatingPointError(f"newton rule: the kernel matrix is singular (LAPACK dtrtri info {info})")
        Linv = np.tril(Linv)
        self.alpha = Linv.T @ (Linv @ (y[rows] - self.mean))
        self.loo_residuals = self.alpha / (Linv * Linv).sum(0)  # alpha_i / [(G + lam)^-1]_ii
        return _finite(float(np.mean(self.loo_residuals**2)), "kernel model's leave-one-out error")

    def predict_grad(self, Z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Values (q,) and gradients (q, D) at ``Z`` (q, D), in blocks of rows."""
        pred, grad = np.empty(len(Z)), np.empty(Z.shape)
        Zf, alpha, scale = self.Zf.astype(np.float32), self.alpha.astype(np.float32), np.float32(0.5 / self.h**2)
        for s in range(0, len(Z), _CHUNK):  # float32: these feed Gauss-Newton statistics, not the solves
            z = Z[s : s + _CHUNK]
            k = np.exp(-_sqdist(z.astype(np.float32), Zf) * scale) * alpha[None, :]
            total = k.sum(1, dtype=np.float64)
            pred[s : s + _CHUNK] = total + self.mean
            grad[s : s + _CHUNK] = ((k @ Zf).astype(np.float64) - total[:, None] * z) / self.h**2
        return pred, grad

    def hessians(self, P: np.ndarray) -> np.ndarray:
        """Hessians (p, D, D) at the points ``P`` (p, D), in closed form."""
        k = np.exp(-_sqdist(P, self.Zf) / (2 * self.h**2)) * self.alpha[None, :]
        total, kz, D = k.sum(1), k @ self.Zf, P.shape[1]
        kzz = (k @ (self.Zf[:, :, None] * self.Zf[:, None, :]).reshape(len(self.Zf), D * D)).reshape(-1, D, D)
        outer = (
            total[:, None, None] * P[:, :, None] * P[:, None, :]
            - P[:, :, None] * kz[:, None, :]
            - kz[:, :, None] * P[:, None, :]
            + kzz
        )
        return outer / self.h**4 - total[:, None, None] * np.eye(D) / self.h**2


# -------------------------------------------------------------------------------------------------------
# The additive model: sum_k h_k(U_k^T x), random Fourier features per module
# -------------------------------------------------------------------------------------------------------
class _AdditiveModel:
    """``h_k(z) = sum_r c_kr sqrt(2/R) cos(w_kr^T z + t_kr)``, ``w_kr ~ N(0, I / s^2)`` with the length
    scales ``s`` of ``_MODULE_SCALES`` in equal shares; one ridge for all, by leave-one-out error."""

    def __init__(self, K: int, b: int, R: int, rng: np.random.Generator):
        scales = np.array(_MODULE_SCALES)[np.arange(R) % len(_MODULE_SCALES)]
        self.W = rng.standard_normal((K, b, R)) / scales  # (K, b, R)
        self.t = rng.uniform(0.0, 2 * np.pi, (K, 1, R))
        self.K, self.R, self.s = K, R, math.sqrt(2.0 / R)

    def _phase(self, X: np.ndarray, U: np.ndarray) -> np.ndarray:
        K, m, b = U.shape
        Z = (X @ U.transpose(1, 0, 2).reshape(m, K * b)).reshape(-1, K, b).transpose(1, 0, 2)  # (K, n, b)
        return np.matmul(Z, self.W) + self.t  # (K, n, R)

    def fit(self, X: np.ndarray, y: np.ndarray, U: np.ndarray, rows: np.ndarray) -> float:
        """Ridge fit on the ``rows``; returns the leave-one-out mean squared error (its residuals kept)."""
        n = len(rows)
        F32 = np.float32(self.s) * np.cos(self._phase(X[rows], U).astype(np.float32))
        F32 = F32.transpose(1, 0, 2).reshape(n, self.K * self.R)
        F = F32.astype(np.float64)  # features and their products in float32, the solves in float64
        self.mean = float(y[rows].mean())
        yc = y[rows] - self.mean
        dual = F.shape[1] >= n  # more features than points: solve in the points' space
        eig, Q = np.linalg.eigh(F @ F.T if dual else (F32.T @ F32).astype(np.float64))
        eig = np.maximum(eig, 0.0)
        # fitted = A diag(eig or 1 / (eig + lam)) A^T yc
        A = Q if dual else (F32 @ Q.astype(np.float32)).astype(np.float64)
        weight = eig if dual else np.ones_like(eig)
        Ay, A2, best = A.T @ yc, A * A, None
        for ridge in _RIDGES:  # a ridge at which the fit interpolates is skipped
            lam = ridge * n / 1000
            fitted = A @ (weight * Ay / (eig + lam))
            leverage = A2 @ (weight / (eig + lam))
            if np.min(1.0 - leverage) < 1e-8:
                continue
            residuals = (yc - fitted) / (1.0 - leverage)
            loo = float(np.mean(residuals**2))
            if best is None or loo < best[0]:
                best = (loo, lam, residuals)
        if best is None:
            raise FloatingPointError("newton rule: the module model interpolates at every ridge; too few samples")
        loo, lam, self.loo_residuals = best
        coef = F.T @ (Q @ (Ay / (eig + lam))) if dual else Q @ (Ay / (eig + lam))
        self.coef, self.F, self.lam = coef.reshape(self.K, self.R, 1), F, lam
        self._solve = (
            (lambda V: np.linalg.solve(F.T @ F + lam * np.eye(F.shape[1]), V))
            if dual
            else (lambda V: Q @ ((Q.T @ V) / (eig + lam)[:, None]))
        )
        return _finite(loo, "module model's leave-one-out error")

    def predict_grad(self, X: np.ndarray, U: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Values (n,) and each module's gradient (n, K, b) at ``X``, in blocks of rows."""
        K, m, b = U.shape
        pred, grad = np.empty(len(X)), np.empty((len(X), K, b))
        Wt, coef = self.W.transpose(0, 2, 1).astype(np.float32), self.coef.astype(np.float32)
        for s in range(0, len(X), _CHUNK):  # float32: these feed Gauss-Newton statistics, not the solves
            phase = self._phase(X[s : s + _CHUNK], U).astype(np.float32)
            pred[s : s + _CHUNK] = np.matmul(np.cos(phase), coef)[..., 0].sum(0, dtype=np.float64) * self.s + self.mean
            grad[s : s + _CHUNK] = np.matmul(np.sin(phase) * (-self.s * coef[:, :, 0][:, None, :]), Wt).transpose(
                1, 0, 2
            )
        return pred, grad

    def absorbed(self, V: np.ndarray) -> np.ndarray:
        """The part of the columns of ``V`` (fit rows, c) that the model's ridge fit reproduces."""
        return self.F @ self._solve(self.F.T @ V)


# -------------------------------------------------------------------------------------------------------
# Gauss-Newton steps
# -------------------------------------------------------------------------------------------------------
def _outside_step(X: np.ndarray, r: np.ndarray, basis: np.ndarray, g: np.ndarray) -> np.ndarray:
    """``M`` (m, D), orthogonal to ``basis``, minimising ``sum_i (r_i - x_i^T M g_i)^2`` in expectation
    under Gaussian inputs, where ``x_perp`` is independent of the gradients ``g`` (n, D)."""
    n, D = g.shape
    G = g.T @ g / n
    C = X.T @ (r[:, None] * g) / n
    C -= basis @ (basis.T @ C)
    return np.linalg.solve(G + 1e-6 * np.trace(G) / D * np.eye(D), C.T).T


def _inside_step(z: np.ndarray, r: np.ndarray, g: np.ndarray, model: _AdditiveModel) -> np.ndarray:
    """``E`` (D, D) minimising ``sum_i (r_i - z_i^T E g_i)^2`` over the fit points, with what the module
    functions can absorb projected out of the columns (variable projection)."""
    n, D = g.shape
    J = (z[:, :, None] * g[:, None, :]).reshape(n, D * D)
    J = J - model.absorbed(J)
    A = J.T @ J / n
    return np.linalg.solve(A + 1e-6 * np.trace(A) / (D * D) * np.eye(D * D), J.T @ r / n).reshape(D, D)


def _with_loo(model, y: np.ndarray, pred: np.ndarray, fitted: int) -> np.ndarray:
    """Residuals ``y - pred`` with the first ``fitted`` (the model's own points) leave-one-out."""
    r = y - pred
    r[:fitted] = model.loo_residuals
    return r


def _line_search(trial, loss: float, direction):
    """Try the step, halved up to three times, until the loss falls: ``(point, loss)`` or ``None``."""
    step = 1.0
    for _ in range(4):
        point = direction(step)
        value = trial(point)
        if value < loss:
            return point, value
        step /= 2
    return None


def _refine_span(X, y, B, model: _SpanModel, fit_rows, stat_rows, max_steps, tol):
    """Gauss-Newton steps on the span basis ``B`` (m, D) with the kernel model (step 2)."""
    loss = model.fit(X @ B, y, fit_rows)
    Xs = X[stat_rows]
    for _ in range(max_steps):
        pred, g = model.predict_grad(Xs @ B)
        M = _outside_step(Xs, _with_loo(model, y[stat_rows], pred, len(fit_rows)), B, g)
        found = _line_search(
            lambda Bn: model.fit(X @ Bn, y, fit_rows), loss, lambda s, B=B, M=M: _orthonormal(B + s * M)
        )
        if found is None:
            model.fit(X @ B, y, fit_rows)
            break
        (B, new), old = found, loss
        loss = new
        if (old - new) < tol * old:
            break
    return B


def _refit_modules(X, y, U, model: _AdditiveModel, fit_rows, max_steps, tol):
    """Gauss-Newton steps on every module's projection with the additive model (step 4); ``(U, loss)``."""
    K, m, b = U.shape
    D = K * b
    loss = model.fit(X, y, U, fit_rows)
    for _ in range(max_steps):
        pred, g = model.predict_grad(X, U)
        g = g.reshape(len(X), D)
        basis = _orthonormal(U.transpose(1, 0, 2).reshape(m, D))
        f = len(fit_rows)
        E = _inside_step(X[:f] @ basis, y[:f] - pred[:f], g[:f], model)
        M = _outside_step(X, _with_loo(model, y, pred, f), basis, g)
        delta = (basis @ E + M).reshape(m, K, b).transpose(1, 0, 2)
        found = _line_search(
            lambda Un: model.fit(X, y, Un, fit_rows), loss, lambda s, U=U, delta=delta: _orthonormal(U + s * delta)
        )
        if found is None:
            model.fit(X, y, U, fit_rows)
            break
        (U, new), old = found, loss
        loss = new
        if (old - new) < tol * old:
            break
    return U, loss


def _grouping(X, y, B, model: _SpanModel, points, K, b, seed) -> np.ndarray:
    from ._grouping import joint_block_diagonalise  # grouping imports nothing of this module

    blocks = joint_block_diagonalise(model.hessians((X @ B)[points]), K, b, seed=seed)
    return np.einsum("md,kdb->kmb", B, blocks)


def _check_knobs(
    kernel_points, select_points, module_features, polish_features, max_points, rounds, max_steps, tol, n_points
) -> tuple:
    """:func:`newton_projections`'s tuning arguments, validated, in its order."""
    kernel_points = core.whole(kernel_points, "kernel_points", low=20, high=20000)
    select_points = core.whole(select_points, "select_points", low=20, high=5000)
    module_features = core.whole(module_features, "module_features", low=1, high=10000)
    polish_features = core.whole(polish_features, "polish_features", low=0, high=10000)
    max_points = core.whole(max_points, "max_points", low=20, high=10**6)
    rounds = core.whole(rounds, "rounds", low=1, high=20)
    max_steps = core.whole(max_steps, "max_steps", low=0, high=1000)
    tol = core.real(tol, "tol", low=0.0, high=1.0, low_open=True, high_open=True)
    n_points = core.whole(n_points, "n_points", low=1, high=10000)
    return (
        kernel_points,
        select_points,
        module_features,
        polish_features,
        max_points,
        rounds,
        max_steps,
        tol,
        n_points,
    )


def _check_data_and_sizes(
    X, y, K, b, kernel_points, select_points, module_features, polish_features, max_points, n_points
) -> None:
    """Refuse constant data, and arrays too large to allocate, before :func:`newton_projections` starts."""
    if np.ptp(y) == 0:
        raise ValueError("y is constant: it depends on no direction of X, so there are no projections to find")
    if not np.any(np.ptp(X, axis=0) > 0):
        raise ValueError("X is constant: every row is the same, so no direction can be found")
    n = X.shape[0]
    features = max(module_features, polish_features)
    core.check_size(
        min(n, max_points) * K * max(features, X.shape[1]),
        "max_points * n_modules * module_features or polish_features (the module model's features)",
    )
    core.check_size((K * features) ** 2, "n_modules * polish_features, squared (the module model's Gram)")
    core.check_size(min(n, _CHUNK) * max(K * features, kernel_points), "the feature blocks")
    core.check_size(max(kernel_points, select_points) ** 2, "kernel_points squared (the kernel matrix)")
    core.check_size(n_points * (K * b) ** 2 * 4, "n_points * (n_modules * module_dim)^2 (the Hessians)")


def newton_projections(
    X,
    y,
    n_modules: int,
    module_dim: int,
    *,
    seed: int = 0,
    kernel_points: int = NEWTON_DEFAULTS["kernel_points"],
    select_points: int = NEWTON_DEFAULTS["select_points"],
    module_features: int = NEWTON_DEFAULTS["module_features"],
    polish_features: int = NEWTON_DEFAULTS["polish_features"],
    max_points: int = NEWTON_DEFAULTS["max_points"],
    rounds: int = NEWTON_DEFAULTS["rounds"],
    max_steps: int = NEWTON_DEFAULTS["max_steps"],
    tol: float = NEWTON_DEFAULTS["tol"],
    n_points: int = NEWTON_DEFAULTS["n_points"],
    return_loss: bool = False,
):
    """Find ``K`` module projections of dimension ``b`` by moments, local Hessians and Gauss-Newton refits.

    The module docstring states the steps; the chapter :doc:`/book/grouping_modules` measures them.

    Parameters
    ----------
    X : (n, m) inputs, roughly ``N(0, I)`` (the steps rest on Stein's lemma and on the independence of the
        input outside the modules' span from the input inside it). n >= 20.
    y : (n,) targets, not constant.
    n_modules, module_dim : ``K`` and ``b``, with ``K b <= m``.
    seed : seeds the sample order, the random features and the grouping's search.
    kernel_points : points (at most) on which the kernel model is fitted (Cholesky of that size).
    select_points : points (at most) on which its bandwidth and ridge are chosen by leave-one-out error.
    module_features : random features per module of the additive model while the grouping is searched.
    polish_features : random features per module of a last refit from the result (0: none); a richer model
        lowers the approximation error that limits how close the steps get to the truth.
    max_points : points (at most) on which the additive model is fitted; the Gauss-Newton statistics of its
        refit use every sample, those of the span's refinement at most this many.
    rounds : groupings tried at most (step 5). max_steps : Gauss-Newton steps per refit, at most.
    tol : a refit stops once a step lowers the leave-one-out error by less than this fraction.
    n_points : points at which the kernel model's Hessians are taken.
    return_loss : also return the additive model's leave-one-out mean squared error.

    Returns
    -------
    projections : float64 (K, m, b), orthonormal columns per module; with ``return_loss``, ``(projections,
    loss)``.

    Raises
    ------
    ValueError : bad arguments (named), a constant ``X`` or ``y``.
    FloatingPointError : a model's error is not finite (degenerate or badly scaled inputs).
    """
    X = core.array(X, "X", ndim=2, min_rows=20)
    y = core.array(y, "y", shape=(X.shape[0],))
    K = core.whole(n_modules, "n_modules", low=1)
    b = core.whole(module_dim, "module_dim", low=1)
    core.check_geometry(K, b, X.shape[1], what="the newton rule")
    seed = core.seed(seed)
    (kernel_points, select_points, module_features, polish_features, max_points, rounds, max_steps, tol, n_points) = (
        _check_knobs(
            kernel_points, select_points, module_features, polish_features, max_points, rounds, max_steps, tol, n_points
        )
    )
    return_loss = core.boolean(return_loss, "return_loss")
    _check_data_and_sizes(
        X, y, K, b, kernel_points, select_points, module_features, polish_features, max_points, n_points
    )

    with core.single_thread():
        U, loss = _newton(
            X,
            y,
            K,
            b,
            seed,
            kernel_points,
            select_points,
            module_features,
            polish_features,
            max_points,
            rounds,
            max_steps,
            tol,
            n_points,
        )
    return (U, loss) if return_loss else U


def _newton(
    X,
    y,
    K,
    b,
    seed,
    kernel_points,
    select_points,
    module_features,
    polish_features,
    max_points,
    rounds,
    max_steps,
    tol,
    n_points,
) -> tuple[np.ndarray, float]:
    """:func:`newton_projections` on validated arguments: ``(projections, leave-one-out error)``."""
    from ..measure import grouped_overlap

    n, m = X.shape
    rng = core.numpy_generator(seed, 881)
    order = rng.permutation(n)
    X, y = X[order], y[order]  # every subset below is a prefix of one random order
    fit_k, fit_a = np.arange(min(n, kernel_points)), np.arange(min(n, max_points))
    points = rng.choice(n, size=min(n_points, n), replace=False)
    span, modules = _SpanModel(), _AdditiveModel(K, b, module_features, rng)
    B = moment_span(X, y, K * b)
    span.choose(X @ B, y, np.arange(min(n, select_points)))
    B = _refine_span(X, y, B, span, fit_k, np.arange(min(n, max(max_points, kernel_points))), max_steps, tol)
    span.choose(X @ B, y, np.arange(min(n, select_points)), near=span.h)  # the refined span's function may differ
    span.fit(X @ B, y, fit_k)
    U, loss = _refit_modules(X, y, _grouping(X, y, B, span, points, K, b, seed), modules, fit_a, max_steps, tol)
    for _ in range(rounds - 1):
        B = _orthonormal(U.transpose(1, 0, 2).reshape(m, K * b))
        span.fit(X @ B, y, fit_k)
        other = _grouping(X, y, B, span, points, K, b, seed)
        if grouped_overlap(U, other) > _AGREE:
            break
        other, other_loss = _refit_modules(X, y, other, modules, fit_a, max_steps, tol)
        if other_loss >= loss:
            break
        U, loss = other, other_loss
    if polish_features:
        U, loss = _refit_modules(X, y, U, _AdditiveModel(K, b, polish_features, rng), fit_a, max_steps, tol)
    return _orthonormal(U), loss
