"""Peer methods that fit a model first: gKDR, PPR, RFM (AGOP) and EGOP, plus the input checks and the
whitening that every peer method shares.

The public entry point is :mod:`modscale_lib.peers` (its ``METHODS`` registry); the functions here follow its
one signature, ``f(X, y, n_directions, *, seed=0) -> (m, n_directions)`` with orthonormal columns. Each
works in whitened coordinates ``z = Sigma^(-1/2) (x - mean)`` (so it is affine-equivariant) and maps its
directions back with ``Sigma^(-1/2)`` before orthonormalising, as the moment methods do.
"""
from __future__ import annotations

import numpy as np

from . import validation
from .seeding import derive, numpy_generator, torch_generator

__all__ = ["gkdr", "ppr", "rfm", "egop", "MIN_SAMPLES"]

MIN_SAMPLES = 10
"""Every method needs at least ``max(MIN_SAMPLES, 2 m)`` rows of ``X``."""

# stream identifiers for :mod:`modscale_lib.seeding` (one per method, so methods never share draws)
_GKDR_STREAM, _RFM_STREAM, _PPR_STREAM, _EGOP_STREAM = 1601, 1602, 1603, 1604


# -- shared by every peer method ---------------------------------------------------------------------------
def prepare(X, y, n_directions, seed):
    """Validate the common arguments; return ``(Z, y_std, unwhiten, k, seed)``.

    ``Z`` (n, m) is ``X`` centred and whitened with its sample covariance, ``y_std`` (n,) is ``y`` centred
    and scaled to unit variance, ``unwhiten`` (m, m) is ``Sigma^(-1/2)`` (maps a direction found in ``z`` to
    ``x``). Raises ``TypeError``/``ValueError`` naming the parameter for non-numeric, non-finite, badly shaped
    or too small inputs, a constant ``y``, a singular covariance of ``X`` or ``n_directions`` out of range.
    """
    X = validation.array(X, "X", ndim=2)
    n, m = X.shape
    if m < 1:
        raise ValueError("X must have at least one column")
    if n < max(MIN_SAMPLES, 2 * m):
        raise ValueError(f"X must have at least max({MIN_SAMPLES}, 2 * input_dim) = {max(MIN_SAMPLES, 2 * m)} "
                         f"rows for input_dim = {m}, got {n}")
    y = validation.array(y, "y", ndim=1)
    if y.shape[0] != n:
        raise ValueError(f"y must have one entry per row of X ({n}), got {y.shape[0]}")
    k = validation.whole(n_directions, "n_directions", low=1, high=m)
    seed = validation.seed(seed)
    sd = y.std()
    if not sd > 1e-12 * max(1.0, float(np.abs(y).max())):
        raise ValueError("y must not be constant: no direction can be identified from a constant target")
    mean = X.mean(axis=0)
    cov = np.cov(X, rowvar=False).reshape(m, m)
    evals, evecs = np.linalg.eigh(cov)
    if evals[0] <= 1e-10 * max(evals[-1], 1e-300):
        rank = int(np.sum(evals > 1e-10 * max(evals[-1], 1e-300)))
        raise ValueError(f"X's sample covariance is singular (rank {rank} < input_dim = {m}): drop constant or "
                         f"collinear columns")
    unwhiten = (evecs / np.sqrt(evals)) @ evecs.T
    return (X - mean) @ unwhiten, (y - y.mean()) / sd, unwhiten, k, seed


def top_directions(matrix: np.ndarray, k: int, unwhiten: np.ndarray, *, by_magnitude: bool = False) -> np.ndarray:
    """The top-``k`` eigenvectors of a symmetric ``(m, m)`` matrix in ``z``, mapped to ``x`` and orthonormalised.

    ``by_magnitude`` ranks eigenvalues by absolute value (pHd). Columns get a fixed sign (largest entry
    positive) so that equal inputs give equal outputs. Returns (m, k).
    """
    matrix = 0.5 * (matrix + matrix.T)
    evals, evecs = np.linalg.eigh(matrix)
    order = np.argsort(-(np.abs(evals) if by_magnitude else evals), kind="stable")[:k]
    Q, _ = np.linalg.qr(unwhiten @ evecs[:, order])
    pivot = np.argmax(np.abs(Q), axis=0)
    return Q * np.where(Q[pivot, np.arange(k)] < 0, -1.0, 1.0)


def _subsample(n: int, max_points: int, seed: int, stream: int) -> np.ndarray:
    if n <= max_points:
        return np.arange(n)
    return np.sort(numpy_generator(seed, stream).choice(n, size=max_points, replace=False))


def _sq_dists(A: np.ndarray) -> np.ndarray:
    sq = np.sum(A ** 2, axis=1)
    return np.maximum(sq[:, None] + sq[None, :] - 2.0 * A @ A.T, 0.0)


# -- gKDR ----------------------------------------------------------------------------------------------------
def gkdr(X, y, n_directions, *, seed=0, eps=1e-4, max_points=1500, bandwidth_scale=1.0) -> np.ndarray:
    """Gradient-based kernel dimension reduction (Fukumizu & Leng 2014, JASA 109:359).

    With Gaussian kernels ``k_X`` on ``z`` and ``k_Y`` on ``y`` (median-heuristic bandwidths times
    ``bandwidth_scale``), the estimator is ``M = (1/n) sum_i grad k_X(z_i)^T (G_X + n eps I)^(-1) G_Y
    (G_X + n eps I)^(-1) grad k_X(z_i)``; its top eigenvectors span the estimated central subspace. ``M`` is
    summed in closed form with three ``(n, n)`` matrix products. Cost is ``O(n^3)``, so at most ``max_points``
    samples (a seeded random subset) are used: 1500 keeps a call at ``n = 6000, m = 16`` to a few seconds.

    Assumes nothing about the input distribution beyond a smooth regression; the kernel bandwidths and
    ``eps`` are fixed heuristics, not cross-validated as in the paper. Returns (m, n_directions), orthonormal.
    """
    Z, ys, unwhiten, k, seed = prepare(X, y, n_directions, seed)
    eps = validation.real(eps, "eps", low=0.0, low_open=True)
    max_points = validation.whole(max_points, "max_points", low=MIN_SAMPLES, high=20_000)
    scale = validation.real(bandwidth_scale, "bandwidth_scale", low=0.0, low_open=True)
    idx = _subsample(len(Z), max_points, seed, _GKDR_STREAM)
    Z, ys = Z[idx], ys[idx]
    n = len(Z)
    dx, dy = _sq_dists(Z), (ys[:, None] - ys[None, :]) ** 2
    sx2 = (scale * np.sqrt(np.median(dx[np.triu_indices(n, 1)]))) ** 2
    sy2 = (scale * np.sqrt(max(np.median(dy[np.triu_indices(n, 1)]), 1e-12))) ** 2
    G, GY = np.exp(-dx / (2 * sx2)), np.exp(-dy / (2 * sy2))
    R = np.linalg.solve(G + n * eps * np.eye(n), np.eye(n))
    A = R @ GY @ R
    # sum_i D_i^T A D_i with D_i = diag(G[:, i]) (Z - z_i) / sx2, expanded into four terms
    AG = A @ G
    Q = G * AG
    inner = A * (G @ G) - Q - Q.T + np.diag(np.einsum("ij,ij->j", G, AG))
    M = Z.T @ inner @ Z / (sx2 ** 2 * n)
    return top_directions(M, k, unwhiten)


# -- PPR -----------------------------------------------------------------------------------------------------
def ppr(X, y, n_directions, *, seed=0, degree=5) -> np.ndarray:
    """Projection pursuit regression (Friedman & Stuetzle 1981, JASA 76:817), via the ``projection-pursuit``
    package (``skpp.ProjectionPursuitRegressor``).

    Fits ``y ~ sum_j f_j(alpha_j^T z)`` with ``n_directions`` ridge terms, greedily then with backfitting;
    each ``f_j`` is a polynomial of ``degree`` (its least-squares smoother) and each ``alpha_j`` is updated by
    Gauss-Newton steps. The ``alpha_j`` are not orthogonal; their span is returned, mapped back and
    orthonormalised. Assumes an additive ridge structure; the initial directions are seeded.
    Returns (m, n_directions), orthonormal.
    """
    Z, ys, unwhiten, k, seed = prepare(X, y, n_directions, seed)
    degree = validation.whole(degree, "degree", low=1, high=15)
    from skpp import ProjectionPursuitRegressor

    model = ProjectionPursuitRegressor(r=k, fit_type="polyfit", degree=degree,
                                       random_state=derive(seed, _PPR_STREAM) % 2 ** 32)
    model.fit(Z, ys)
    alphas = np.asarray(model._alpha_, dtype=float)
    Q, _ = np.linalg.qr(alphas)
    return top_directions(Q @ Q.T, k, unwhiten)


# -- RFM -----------------------------------------------------------------------------------------------------
def rfm(X, y, n_directions, *, seed=0, iterations=5, bandwidth=10.0, ridge=1e-3, max_points=4000) -> np.ndarray:
    """Recursive feature machine (Radhakrishnan et al. 2024, Science 383:1461): the AGOP of a kernel machine.

    Alternates ``iterations`` times: fit kernel ridge regression (ridge ``ridge``) with the Laplace kernel
    ``exp(-||z - z'||_M / bandwidth)``, then set ``M`` to the average gradient outer product of its predictor
    over the training points (scaled to trace ``m``; the undefined self-term of each gradient is dropped). The
    top eigenvectors of the final ``M`` are returned. At most ``max_points`` samples (seeded subset) are used;
    memory is a few ``(n, n)`` float64 matrices. Assumes a smooth target; no validation-based early stopping
    (unlike the ``xrfm`` package). Returns (m, n_directions), orthonormal.
    """
    Z, ys, unwhiten, k, seed = prepare(X, y, n_directions, seed)
    iterations = validation.whole(iterations, "iterations", low=1, high=100)
    bandwidth = validation.real(bandwidth, "bandwidth", low=0.0, low_open=True)
    ridge = validation.real(ridge, "ridge", low=0.0, low_open=True)
    max_points = validation.whole(max_points, "max_points", low=MIN_SAMPLES, high=20_000)
    idx = _subsample(len(Z), max_points, seed, _RFM_STREAM)
    Z, ys = Z[idx], ys[idx]
    n, m = Z.shape
    M = np.eye(m)
    for _ in range(iterations):
        w, V = np.linalg.eigh(M)
        ZM = Z @ (V * np.sqrt(np.maximum(w, 0.0))) @ V.T            # ||a - b||_M = ||ZM_a - ZM_b||
        dist = np.sqrt(_sq_dists(ZM))
        K = np.exp(-dist / bandwidth)
        alpha = np.linalg.solve(K + ridge * np.eye(n), ys)
        with np.errstate(divide="ignore"):
            W = np.where(dist > 0, K * alpha[None, :] / dist, 0.0)  # d/dz_i of K(z_i, z_j) without i = j
        grads = -(W.sum(axis=1)[:, None] * Z - W @ Z) @ M / bandwidth   # (n, m); M is symmetric
        agop = grads.T @ grads / n
        tr = np.trace(agop)
        if not tr > 0:
            break
        M = agop * (m / tr)
    return top_directions(M, k, unwhiten)


# -- EGOP ----------------------------------------------------------------------------------------------------
def egop(X, y, n_directions, *, seed=0, width=64, epochs=60, batch_size=128, lr=3e-3) -> np.ndarray:
    """The expected gradient outer product of a trained MLP (e.g. Trivedi et al. 2014; Yuan et al. 2023).

    Trains a two-hidden-layer tanh MLP of ``width`` units (float64, CPU, seeded initialisation and batches)
    with Adam on mean squared error for ``epochs`` passes, then returns the top eigenvectors of
    ``(1/n) sum_i grad f(z_i) grad f(z_i)^T`` over the training points. Assumes the brief training fits the
    target well enough for its gradients to point along the relevant directions; it is not early-stopped.
    Returns (m, n_directions), orthonormal.
    """
    Z, ys, unwhiten, k, seed = prepare(X, y, n_directions, seed)
    width = validation.whole(width, "width", low=1, high=4096)
    epochs = validation.whole(epochs, "epochs", low=1, high=10_000)
    batch_size = validation.whole(batch_size, "batch_size", low=1)
    lr = validation.real(lr, "lr", low=0.0, low_open=True)
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny matrices: one thread is fastest, and makes the result thread-independent
    try:
        return _train_egop(torch, Z, ys, unwhiten, k, seed, width, epochs, batch_size, lr)
    finally:
        torch.set_num_threads(threads)


def _train_egop(torch, Z, ys, unwhiten, k, seed, width, epochs, batch_size, lr) -> np.ndarray:
    gen = torch_generator(seed, _EGOP_STREAM)
    n, m = Z.shape
    sizes = [m, width, width, 1]
    params = []
    for a, b in zip(sizes[:-1], sizes[1:]):
        W = (torch.rand(a, b, generator=gen, dtype=torch.float64) * 2 - 1) * (3.0 / a) ** 0.5
        params += [W.requires_grad_(), torch.zeros(b, dtype=torch.float64, requires_grad=True)]

    def net(inp):
        h = inp
        for i in range(0, len(params) - 2, 2):
            h = torch.tanh(h @ params[i] + params[i + 1])
        return (h @ params[-2] + params[-1]).squeeze(-1)

    Zt, yt = torch.from_numpy(Z), torch.from_numpy(ys)
    opt = torch.optim.Adam(params, lr=lr)
    for _ in range(epochs):
        perm = torch.randperm(n, generator=gen)
        for start in range(0, n, batch_size):
            batch = perm[start:start + batch_size]
            opt.zero_grad()
            loss = torch.mean((net(Zt[batch]) - yt[batch]) ** 2)
            loss.backward()
            opt.step()
    Zg = Zt.clone().requires_grad_(True)
    (grads,) = torch.autograd.grad(net(Zg).sum(), Zg)
    grads = grads.detach().numpy()
    return top_directions(grads.T @ grads / n, k, unwhiten)
