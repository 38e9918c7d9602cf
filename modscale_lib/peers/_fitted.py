"""Peer methods that fit a model first: gKDR, PPR, RFM (AGOP) and EGOP.

The public entry point is :mod:`modscale_lib.peers` (its ``METHODS`` registry); the functions here follow its
one signature, ``f(X, y, n_directions, *, seed=0) -> (m, n_directions)`` with orthonormal columns. Each
works in whitened coordinates ``z = Sigma^(-1/2) (x - mean)`` (so it is affine-equivariant) and maps its
directions back with ``Sigma^(-1/2)`` before orthonormalising, as the moment methods do.
"""

from __future__ import annotations

import numpy as np

from ..core import Real, Whole, derive, numpy_generator, torch_generator, validated
from ._inputs import COMMON, MIN_SAMPLES, top_directions, whiten

__all__ = ["gkdr", "ppr", "rfm", "egop", "PeerDivergedError"]

# stream identifiers for :mod:`modscale_lib.core`'s seeding (one per method, so methods never share draws)
_GKDR_STREAM, _RFM_STREAM, _PPR_STREAM, _EGOP_STREAM = 1601, 1602, 1603, 1604


def _subsample(n: int, max_points: int, seed: int, stream: int) -> np.ndarray:
    if n <= max_points:
        return np.arange(n)
    return np.sort(numpy_generator(seed, stream).choice(n, size=max_points, replace=False))


def _sq_dists(A: np.ndarray) -> np.ndarray:
    sq = np.sum(A**2, axis=1)
    return np.maximum(sq[:, None] + sq[None, :] - 2.0 * A @ A.T, 0.0)


# -- gKDR ----------------------------------------------------------------------------------------------------
_POSITIVE = Real(0.0, low_open=True)
_POINTS = Whole(MIN_SAMPLES, 20_000)


class PeerDivergedError(ValueError):
    """A peer method's optimiser diverged (its loss became non-finite or exploded); the message names the step."""


@validated(**COMMON, eps=_POSITIVE, max_points=_POINTS, bandwidth_scale=_POSITIVE)
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
    Z, ys, unwhiten = whiten(X, y)
    k, scale = n_directions, bandwidth_scale
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
    M = Z.T @ inner @ Z / (sx2**2 * n)
    return top_directions(M, k, unwhiten)


# -- PPR -----------------------------------------------------------------------------------------------------
@validated(**COMMON, degree=Whole(1, 15))
def ppr(X, y, n_directions, *, seed=0, degree=5) -> np.ndarray:
    """Projection pursuit regression (Friedman & Stuetzle 1981, JASA 76:817), via the ``projection-pursuit``
    package (``skpp.ProjectionPursuitRegressor``).

    Fits ``y ~ sum_j f_j(alpha_j^T z)`` with ``n_directions`` ridge terms, greedily then with backfitting;
    each ``f_j`` is a polynomial of ``degree`` (its least-squares smoother) and each ``alpha_j`` is updated by
    Gauss-Newton steps. The ``alpha_j`` are not orthogonal; their span is returned, mapped back and
    orthonormalised. Assumes an additive ridge structure; the initial directions are seeded.
    Returns (m, n_directions), orthonormal.
    """
    Z, ys, unwhiten = whiten(X, y)
    k = n_directions
    from skpp import ProjectionPursuitRegressor

    model = ProjectionPursuitRegressor(
        r=k, fit_type="polyfit", degree=degree, random_state=derive(seed, _PPR_STREAM) % 2**32
    )
    model.fit(Z, ys)
    alphas = np.asarray(model._alpha_, dtype=float)
    Q, _ = np.linalg.qr(alphas)
    return top_directions(Q @ Q.T, k, unwhiten)


# -- RFM -----------------------------------------------------------------------------------------------------
@validated(**COMMON, iterations=Whole(1, 100), bandwidth=_POSITIVE, ridge=_POSITIVE, max_points=_POINTS)
def rfm(X, y, n_directions, *, seed=0, iterations=5, bandwidth=10.0, ridge=1e-3, max_points=4000) -> np.ndarray:
    """Recursive feature machine (Radhakrishnan et al. 2024, Science 383:1461): the AGOP of a kernel machine.

    Alternates ``iterations`` times: fit kernel ridge regression (ridge ``ridge``) with the Laplace kernel
    ``exp(-||z - z'||_M / bandwidth)``, then set ``M`` to the average gradient outer product of its predictor
    over the training points (scaled to trace ``m``; the undefined self-term of each gradient is dropped). The
    top eigenvectors of the final ``M`` are returned. At most ``max_points`` samples (seeded subset) are used;
    memory is a few ``(n, n)`` float64 matrices. Assumes a smooth target; no validation-based early stopping
    (unlike the ``xrfm`` package). Returns (m, n_directions), orthonormal.
    """
    Z, ys, unwhiten = whiten(X, y)
    k = n_directions
    idx = _subsample(len(Z), max_points, seed, _RFM_STREAM)
    Z, ys = Z[idx], ys[idx]
    n, m = Z.shape
    M = np.eye(m)
    for _ in range(iterations):
        w, V = np.linalg.eigh(M)
        ZM = Z @ (V * np.sqrt(np.maximum(w, 0.0))) @ V.T  # ||a - b||_M = ||ZM_a - ZM_b||
        dist = np.sqrt(_sq_dists(ZM))
        K = np.exp(-dist / bandwidth)
        alpha = np.linalg.solve(K + ridge * np.eye(n), ys)
        with np.errstate(divide="ignore"):
            W = np.where(dist > 0, K * alpha[None, :] / dist, 0.0)  # d/dz_i of K(z_i, z_j) without i = j
        grads = -(W.sum(axis=1)[:, None] * Z - W @ Z) @ M / bandwidth  # (n, m); M is symmetric
        agop = grads.T @ grads / n
        tr = np.trace(agop)
        if not tr > 0:
            break
        M = agop * (m / tr)
    return top_directions(M, k, unwhiten)


# -- EGOP ----------------------------------------------------------------------------------------------------
@validated(**COMMON, width=Whole(1, 4096), epochs=Whole(1, 10_000), batch_size=Whole(1, 10**7), lr=_POSITIVE)
def egop(X, y, n_directions, *, seed=0, width=64, epochs=60, batch_size=128, lr=3e-3) -> np.ndarray:
    """The expected gradient outer product of a trained MLP (e.g. Trivedi et al. 2014; Yuan et al. 2023).

    Trains a two-hidden-layer tanh MLP of ``width`` units (float64, CPU, seeded initialisation and batches)
    with Adam on mean squared error for ``epochs`` passes, then returns the top eigenvectors of
    ``(1/n) sum_i grad f(z_i) grad f(z_i)^T`` over the training points. Assumes the brief training fits the
    target well enough for its gradients to point along the relevant directions; it is not early-stopped.
    Returns (m, n_directions), orthonormal.
    """
    Z, ys, unwhiten = whiten(X, y)
    k = n_directions
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
    for epoch in range(epochs):
        perm = torch.randperm(n, generator=gen)
        total = torch.zeros((), dtype=torch.float64)
        for start in range(0, n, batch_size):
            batch = perm[start : start + batch_size]
            opt.zero_grad()
            loss = torch.mean((net(Zt[batch]) - yt[batch]) ** 2)
            loss.backward()
            opt.step()
            total += loss.detach()
        _check_converging(float(total) / -(-n // batch_size), f"epoch {epoch + 1}", lr)
    Zg = Zt.clone().requires_grad_(True)
    (grads,) = torch.autograd.grad(net(Zg).sum(), Zg)
    grads = grads.detach().numpy()
    if not np.all(np.isfinite(grads)):
        raise PeerDivergedError(f"egop: the trained network's gradients are not finite; lower lr (got {lr:g})")
    return top_directions(grads.T @ grads / n, k, unwhiten)


#: EGOP's training loss, on a target standardised to variance 1, above which training has diverged (a network
#: that fits nothing has a loss near 1).
DIVERGED_LOSS = 1e3


def _check_converging(mean_loss: float, when: str, lr: float) -> None:
    if not mean_loss <= DIVERGED_LOSS:  # NaN too
        raise PeerDivergedError(
            f"egop: training diverged in {when} (mean training loss {mean_loss:.3g} on a target "
            f"of variance 1); lower lr (got {lr:g})"
        )
