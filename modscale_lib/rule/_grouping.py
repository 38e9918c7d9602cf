"""Which directions belong together: split the span of all modules into ``K`` modules of dimension ``b``.

Span-finders (moment methods, pHd, SAVE, the kernel search) recover the span of all modules' projections
well, but with ``b >= 2`` they return some basis of it, not the modules. The grouping uses the one property
that defines a modular target: ``f(x) = sum_j g_j(U_j^T x)`` has **no mixed second derivatives across
modules**, so at every point its Hessian ``H(x) = sum_j U_j (hess g_j) U_j^T`` is block-diagonal in the true
basis, with blocks that change from point to point. (The *average* Hessian, ``E[y (x x^T - I)]`` by
Stein's lemma, is block-diagonal too but often nearly isotropic inside a block and between blocks, which
leaves the grouping undetermined; local Hessians are not.)

:func:`group_directions` runs, given a span basis ``B`` (m, K b):

1. **A smooth model in the span.** Random Fourier features (Gaussian kernel) ridge regression of ``y`` on
   ``z = B^T x``, bandwidth and ridge chosen on a held-out fifth (:func:`span_model_hessians`); its Hessians,
   in closed form, at ``n_points`` sample points.
2. **Joint block diagonalisation** (:func:`joint_block_diagonalise`): a Jacobi joint diagonalisation of the
   Hessians (Cardoso and Souloumiac 1996) finds a rotation in which they are as diagonal as possible; what
   remains off the diagonal couples only directions of the same module. The directions are then partitioned
   into ``K`` groups of ``b`` maximising the coupling inside groups (swap local search with restarts).
3. **Joint additive refit in ``R^m``** (:func:`fit_additive`, ``refine=True``): the model
   ``sum_j h_j(Û_j^T x)`` (one small tanh MLP per module) is fitted by Adam from the grouped projections, all
   modules together, projections included, with early stopping on a held-out fifth. This corrects the span
   estimate's own error (a direction the span-finder missed is pulled in by its module) and polishes the
   grouping.
4. Steps 1-3 are repeated ``rounds`` times, each from the span of the previous round's result; the round
   with the lowest held-out loss wins.

torch is used for the additive fit only; the rest is numpy.
"""

from __future__ import annotations

import math

import numpy as np

from .. import core

__all__ = ["group_directions", "span_model_hessians", "joint_block_diagonalise", "fit_additive", "partition_directions"]

_MAX_ROUNDS = 20  # group_directions' rounds: each is a Hessian fit and an additive refit (seconds each)


# -------------------------------------------------------------------------------------------------------
# 1. Hessians of a smooth model fitted inside the span
# -------------------------------------------------------------------------------------------------------
def span_model_hessians(
    Z,
    y,
    *,
    n_points: int = 64,
    n_features: int = 1500,
    bandwidths=(1.0, 1.5, 2.5),
    ridges=(1e-3, 1e-2, 1e-1, 1.0),
    seed: int = 0,
) -> tuple[np.ndarray, float]:
    """Hessians of a random-Fourier-feature ridge regression of ``y`` on ``Z``, at ``n_points`` data points.

    The model is ``f(z) = c + sum_r a_r sqrt(2/R) cos(w_r^T z + t_r)``, ``w_r ~ N(0, I / h^2)`` (a Gaussian
    kernel of bandwidth ``h``, rotation-invariant, so the basis of the span does not matter); ``h`` and the
    ridge are chosen by the mean squared error on a held-out fifth. Its Hessian is
    ``-sum_r a_r sqrt(2/R) cos(w_r^T z + t_r) w_r w_r^T``.

    Z : (n, D) projected inputs; y : (n,) targets. Returns ``(hessians (n_points, D, D), held-out mse)``.
    """
    Z = core.array(Z, "Z", ndim=2, min_rows=10)
    y = core.array(y, "y", shape=(Z.shape[0],))
    n_points = core.whole(n_points, "n_points", low=1)
    R = core.whole(n_features, "n_features", low=1)
    bandwidths = core.real_array(bandwidths, "bandwidths", low=0.0, low_open=True, ndim=1, min_size=1)
    ridges = core.real_array(ridges, "ridges", low=0.0, low_open=True, ndim=1, min_size=1)
    core.check_size(max(Z.shape[0], R) * R, "n_features (the random features and their Gram matrix)")
    core.check_size(min(n_points, Z.shape[0]) * max(Z.shape[1] ** 2, R), "n_points (the Hessians)")
    core.check_count(len(bandwidths) * len(ridges), "bandwidths x ridges")
    rng = core.numpy_generator(core.seed(seed), 11)
    n, D = Z.shape
    order = rng.permutation(n)
    n_train = max(int(0.8 * n), 1)
    tr, va = order[:n_train], order[n_train:] if n_train < n else order[:1]
    best = None
    for h in bandwidths:
        W = rng.standard_normal((R, D)) / h
        t = rng.uniform(0.0, 2 * np.pi, R)
        F = math.sqrt(2.0 / R) * np.cos(Z @ W.T + t)
        mean = y[tr].mean()
        gram, rhs = F[tr].T @ F[tr], F[tr].T @ (y[tr] - mean)
        for lam in ridges:
            coef = np.linalg.solve(gram + lam * n_train / 1000.0 * np.eye(R), rhs)
            err = float(np.mean((F[va] @ coef + mean - y[va]) ** 2))
            if best is None or err < best[0]:
                best = (err, W, t, coef)
    err, W, t, coef = best
    points = Z[rng.choice(n, size=min(n_points, n), replace=False)]
    weights = -math.sqrt(2.0 / R) * coef[None, :] * np.cos(points @ W.T + t)  # (P, R)
    return np.einsum("pr,ri,rj->pij", weights, W, W), err


# -------------------------------------------------------------------------------------------------------
# 2. Joint block diagonalisation
# -------------------------------------------------------------------------------------------------------
def _joint_diagonalise(M: np.ndarray, sweeps: int = 100, tol: float = 1e-10) -> tuple[np.ndarray, np.ndarray]:
    """Jacobi joint diagonalisation of symmetric matrices M (T, D, D): ``V`` (D, D) orthogonal, ``V^T M V``."""
    A = M.copy()
    D = A.shape[1]
    V = np.eye(D)
    for _ in range(sweeps):
        moved = False
        for p in range(D - 1):
            for q in range(p + 1, D):
                g0 = A[:, p, p] - A[:, q, q]
                g1 = A[:, p, q] + A[:, q, p]
                ton, toff = g0 @ g0 - g1 @ g1, 2 * g0 @ g1
                theta = 0.5 * np.arctan2(toff, ton + np.hypot(ton, toff))
                c, s = math.cos(theta), math.sin(theta)
                if abs(s) > tol:
                    moved = True
                    G = np.array([[c, -s], [s, c]])
                    idx = [p, q]
                    A[:, :, idx] = A[:, :, idx] @ G
                    A[:, idx, :] = G.T @ A[:, idx, :]
                    V[:, idx] = V[:, idx] @ G
        if not moved:
            break
    return V, A


def partition_directions(coupling, n_modules: int, module_dim: int, *, restarts: int = 20, seed: int = 0) -> np.ndarray:
    """Labels (D,) in ``0..K-1``, ``b`` of each, maximising the summed ``coupling`` inside the groups.

    coupling : (D, D) symmetric, non-negative, ``D = K b``. Local search by swapping two directions of
    different groups, from ``restarts`` random balanced partitions; the best is kept.
    """
    C = core.array(coupling, "coupling", ndim=2)
    K = core.whole(n_modules, "n_modules", low=1)
    b = core.whole(module_dim, "module_dim", low=1)
    D = C.shape[0]
    if C.shape != (D, D) or D != K * b:
        raise ValueError(f"coupling must be square of size n_modules * module_dim = {K * b}, got {C.shape}")
    C = 0.5 * (C + C.T)
    np.fill_diagonal(C, 0.0)
    rng = core.numpy_generator(core.seed(seed), 17)
    best, best_value = None, -np.inf
    for _ in range(core.whole(restarts, "restarts", low=1, high=10**4)):
        labels = rng.permutation(np.repeat(np.arange(K), b))
        improved = True
        while improved:
            improved = False
            member = labels[None, :] == np.arange(K)[:, None]  # (K, D)
            to_group = C @ member.T  # (D, K): coupling of p to group k
            for p in range(D - 1):
                for q in range(p + 1, D):
                    gp, gq = labels[p], labels[q]
                    if gp == gq:
                        continue
                    gain = (to_group[p, gq] - C[p, q]) + (to_group[q, gp] - C[q, p]) - to_group[p, gp] - to_group[q, gq]
                    if gain > 1e-12 * max(C.max(), 1e-300):
                        labels[p], labels[q] = gq, gp
                        improved = True
                        member = labels[None, :] == np.arange(K)[:, None]
                        to_group = C @ member.T
        value = sum(C[np.ix_(labels == k, labels == k)].sum() for k in range(K))
        if value > best_value:
            best, best_value = labels.copy(), value
    return best


def joint_block_diagonalise(matrices, n_modules: int, module_dim: int, *, seed: int = 0) -> np.ndarray:
    """An orthogonal basis of ``R^D`` split into ``K`` blocks of ``b`` that block-diagonalises ``matrices``.

    matrices : (T, D, D) symmetric, ``D = K b``. Jacobi joint diagonalisation, then the directions are
    grouped by their remaining off-diagonal energy ``sum_t (V^T M_t V)_pq^2`` (:func:`partition_directions`).
    Returns (K, D, b): block ``k``'s orthonormal columns.
    """
    M = core.array(matrices, "matrices", ndim=3)
    K = core.whole(n_modules, "n_modules", low=1)
    b = core.whole(module_dim, "module_dim", low=1)
    T, D, D2 = M.shape
    if D != D2 or D != K * b or T < 1:
        raise ValueError(f"matrices must have shape (T, {K * b}, {K * b}) with T >= 1, got {M.shape}")
    M = 0.5 * (M + np.swapaxes(M, 1, 2))
    V, A = _joint_diagonalise(M)
    labels = partition_directions(np.sum(A**2, axis=0), K, b, seed=seed)
    return np.stack([V[:, labels == k] for k in range(K)])


# -------------------------------------------------------------------------------------------------------
# 3. Joint additive refit in R^m
# -------------------------------------------------------------------------------------------------------
def _check_additive(X, y, init, steps, width, lr, val_fraction) -> tuple:
    """:func:`fit_additive`'s arguments, validated, in its order."""
    X = core.array(X, "X", ndim=2, min_rows=5)
    y = core.array(y, "y", shape=(X.shape[0],))
    U0 = core.array(init, "init", ndim=3)
    if U0.shape[1] != X.shape[1]:
        raise ValueError(f"init must have shape (K, {X.shape[1]}, b), got {U0.shape}")
    steps = core.whole(steps, "steps", low=1, high=10**7)
    width = core.whole(width, "width", low=1)
    lr = core.real(lr, "lr", low=0.0, low_open=True)
    if U0.shape[0] < 1 or not 1 <= U0.shape[2] <= U0.shape[1]:
        raise ValueError(f"init must have shape (K, m, b) with K >= 1 and 1 <= b <= m, got {U0.shape}")
    core.check_size(U0.shape[0] * width * max(width, X.shape[0]), "width (the modules' hidden layers)")
    val_fraction = core.real(val_fraction, "val_fraction", low=0.0, high=1.0, low_open=True, high_open=True)
    return X, y, U0, steps, width, lr, val_fraction


def fit_additive(
    X, y, init, *, steps: int = 600, width: int = 32, lr: float = 1e-2, seed: int = 0, val_fraction: float = 0.2
) -> tuple[np.ndarray, float]:
    """Fit ``sum_j h_j(Û_j^T x)`` (one tanh MLP ``b -> width -> width -> 1`` per module) from ``init``.

    All modules and their projections are trained together by full-batch Adam on ``1 - val_fraction`` of
    the points; the projections at the lowest held-out loss (checked every 20 steps) are returned.

    X : (n, m); y : (n,); init : (K, m, b) starting projections. Returns ``(projections (K, m, b) with
    orthonormal columns per module, held-out mean squared error)``. Raises ``FloatingPointError`` when the fit
    diverges (a non-finite loss, or a training loss a thousand times its start): lower ``lr``.
    """
    import torch

    X, y, U0, steps, width, lr, val_fraction = _check_additive(X, y, init, steps, width, lr, val_fraction)
    K, m, b = U0.shape
    gen = core.torch_generator(core.seed(seed), 23)
    n = X.shape[0]
    perm = torch.randperm(n, generator=gen)
    n_val = min(max(int(val_fraction * n), 1), n - 1)
    va, tr = perm[:n_val], perm[n_val:]
    Xt = torch.as_tensor(X, dtype=torch.float32)
    yt = torch.as_tensor(y - y[tr.numpy()].mean(), dtype=torch.float32)
    A = torch.tensor(U0, dtype=torch.float32, requires_grad=True)
    W1 = (torch.randn(K, b, width, generator=gen) / math.sqrt(b)).requires_grad_()
    W2 = (torch.randn(K, width, width, generator=gen) / math.sqrt(width)).requires_grad_()
    W3 = (torch.randn(K, width, 1, generator=gen) / math.sqrt(width)).requires_grad_()
    b1 = torch.zeros(K, 1, width, requires_grad=True)
    b2 = torch.zeros(K, 1, width, requires_grad=True)
    opt = torch.optim.Adam([A, W1, b1, W2, b2, W3], lr=lr)

    def predict(Xs):
        Q = torch.linalg.qr(A)[0]
        z = torch.einsum("nm,kmb->knb", Xs, Q)
        h = torch.tanh(torch.baddbmm(b1, z, W1))
        h = torch.tanh(torch.baddbmm(b2, h, W2))
        return torch.bmm(h, W3)[..., 0].sum(0)

    best_loss, best_U = math.inf, torch.linalg.qr(A.detach())[0]
    start = None
    for step in range(steps):
        loss = torch.mean((predict(Xt[tr]) - yt[tr]) ** 2)
        if start is None:  # the loss before any step, or the targets' variance if larger: the scale of "diverged"
            start = max(float(loss.detach()), float(torch.var(yt[tr])))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        if step % 20 == 19 or step == steps - 1:
            with torch.no_grad():
                val = float(torch.mean((predict(Xt[va]) - yt[va]) ** 2))
            _check_fit(float(loss.detach()), val, start, lr)
            if val < best_loss:
                best_loss, best_U = val, torch.linalg.qr(A.detach())[0]
    return best_U.numpy().astype(np.float64), best_loss


def _check_fit(train: float, val: float, start: float, lr: float) -> None:
    """Raise ``FloatingPointError`` when the additive fit diverged: a non-finite loss, or a training loss a
    thousand times ``start`` (the loss before the first step or the targets' variance, whichever is larger;
    Adam with a sane step lowers the loss from there)."""
    if not (math.isfinite(train) and math.isfinite(val)):
        raise FloatingPointError(f"fit_additive diverged (non-finite loss) with lr={lr:g}; lower lr")
    if train > 1e3 * max(start, 1e-12):
        raise FloatingPointError(
            f"fit_additive diverged: the training loss grew from {start:.3g} to {train:.3g} with lr={lr:g}; lower lr"
        )


# -------------------------------------------------------------------------------------------------------
# The whole procedure
# -------------------------------------------------------------------------------------------------------
def group_directions(
    X,
    y,
    basis,
    n_modules: int,
    module_dim: int,
    *,
    seed: int = 0,
    rounds: int = 2,
    refine: bool = True,
    n_points: int = 64,
    steps: int = 600,
    width: int = 32,
    return_loss: bool = False,
):
    """Split a span basis into ``K`` modules of ``b`` directions (and, with ``refine``, correct the span).

    Parameters
    ----------
    X : (n, m) inputs, roughly ``N(0, I)``, not all rows equal. y : (n,) targets, not constant.
    basis : (m, K*b) a basis (orthonormalised here) of the estimated span of all modules, e.g. from
        ``rule.moment_span`` or any peer span-finder.
    n_modules, module_dim : ``K`` and ``b``; ``K*b <= m``.
    seed : seeds the random features, the partition search and the additive fit.
    rounds : with ``refine``, repetitions of (Hessians, block diagonalisation, additive refit), each from the
        previous round's span; the lowest held-out loss wins (1 to 20).
    refine : run the joint additive refit in ``R^m`` (:func:`fit_additive`). Without it the result lies
        inside ``span(basis)`` and is the block diagonalisation alone (one round).
    n_points : points at which the span model's Hessian is taken. steps, width : of the additive fit.
    return_loss : also return the winning round's held-out mean squared error (``nan`` without ``refine``).

    Returns
    -------
    projections : float64 (K, m, b), orthonormal columns per module; with ``return_loss``,
    ``(projections, loss)``.
    """
    X = core.array(X, "X", ndim=2, min_rows=10)
    y = core.array(y, "y", shape=(X.shape[0],))
    K = core.whole(n_modules, "n_modules", low=1)
    b = core.whole(module_dim, "module_dim", low=1)
    core.check_geometry(K, b, X.shape[1], what="group_directions")
    B = core.array(basis, "basis", shape=(X.shape[1], K * b))
    seed = core.seed(seed)
    rounds = core.whole(rounds, "rounds", low=1, high=_MAX_ROUNDS)
    refine = core.boolean(refine, "refine")
    return_loss = core.boolean(return_loss, "return_loss")
    n_points = core.whole(n_points, "n_points", low=1, high=10**5)
    steps = core.whole(steps, "steps", low=1, high=10**7)
    width = core.whole(width, "width", low=1, high=4096)
    core.check_count(rounds * steps, "rounds * steps (Adam steps of the additive refits)", limit=10**6)
    if np.ptp(y) == 0:
        raise ValueError("y is constant: it depends on no direction of X, so there is nothing to group")
    if not np.any(np.ptp(X, axis=0) > 0):
        raise ValueError("X is constant: every row is the same, so there is nothing to group")
    B, r = np.linalg.qr(B)
    if np.any(np.abs(np.diag(r)) < 1e-10):
        raise ValueError("basis must have linearly independent columns")
    best_U, best_loss = None, math.inf
    for round_ in range(rounds if refine else 1):
        hessians, _ = span_model_hessians(X @ B, y, n_points=n_points, seed=core.derive(seed, round_, 1))
        blocks = joint_block_diagonalise(hessians, K, b, seed=core.derive(seed, round_, 2))
        U = np.einsum("md,kdb->kmb", B, blocks)
        if not refine:
            return (U, float("nan")) if return_loss else U
        U, loss = fit_additive(X, y, U, steps=steps, width=width, seed=core.derive(seed, round_, 3))
        if loss < best_loss:
            best_U, best_loss = U, loss
        B = np.linalg.qr(U.transpose(1, 0, 2).reshape(X.shape[1], K * b))[0]
    return (best_U, best_loss) if return_loss else best_U
