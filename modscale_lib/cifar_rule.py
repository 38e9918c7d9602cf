"""The learning rule on Compositional CIFAR-10, given a fair chance: the kernel of the module that is trained, and a
step that does not depend on the scale of the objective or of the projections.

:mod:`modscale_lib.rule` searches with Adam at a fixed step in the projection's entries (0.05, several
times the size of an entry of a ``3072 k x b`` orthonormal matrix, so one step overwrites the start) and with the
kernel of a separate module network of width 256. Here, built on its public objective
(:func:`modscale_lib.rule.kernel_objective`, with a callable kernel):

* **the kernel** of module ``j`` is the random-feature kernel of module ``j`` of the network that will be trained,
  at its initial weights: ``phi(z) phi(z)^T / w`` with ``phi(z) = relu(z W_j + c_j)`` its hidden layer
  (:func:`module_kernels`), normalised by its mean diagonal as pixels are not white;
* **the step** is a turn: each step moves ``U`` along the objective's gradient projected onto the tangent space of
  the orthonormal matrices, scaled so that it has the Frobenius norm ``angle * sqrt(b)`` (about ``angle``
  radians per column), then re-orthonormalises (QR). Scaling the target, the inputs' units or the objective
  changes nothing. The angle decays linearly to zero over the steps, so the search settles.

Variants (:func:`search_projections`): ``"paper"`` (Algorithm 1: every module searched on the whole target from its
own start) and ``"deflation"`` (modules searched one after another, each on the target minus the kernel fits of
the modules before it, so that they cannot all settle on the same directions).
"""

from __future__ import annotations

import numpy as np
import torch

from . import composites, core
from .composite_training import check_architecture
from .core import Check, Choice, Real, Whole, single_thread, torch_generator, validated
from .networks import ModularEnsemble
from .rule import kernel_objective, orthonormalise

__all__ = [
    "RULE_VARIANTS",
    "module_kernels",
    "search_projections",
    "held_out_objective",
    "slot_local_projections",
    "search_flops",
]

RULE_VARIANTS = ("paper", "deflation")
_FIT_RIDGE = 0.1  # the deflation's fits smooth rather than interpolate (as the rule's _module_fit)


# -- the rules of the public arguments (modscale_lib.core.validated); each returns a valid value unchanged ---
def _model(value, name: str, arguments: dict):
    """A one-model modular network whose modules have one hidden layer."""
    if not isinstance(value, ModularEnsemble) or value.n_models != 1 or value.modules_net.depth != 1:
        raise ValueError(
            f"{name} must be a modular network (ModularEnsemble) of one model whose modules have one hidden "
            f"layer, got {type(value).__name__}"
        )
    return value


def _tensor(value, name: str, like=None):
    """A finite floating-point tensor (a numpy array becomes a float32 one, on ``like``'s device)."""
    if not torch.is_tensor(value):
        value = torch.from_numpy(core.array(value, name, dtype=np.float32))
        value = value if like is None else value.to(like.device)
    if not value.is_floating_point() or value.ndim != 2 or value.shape[0] < 1:
        raise ValueError(
            f"{name} must be a 2-D floating-point tensor with rows, got {value.dtype} {tuple(value.shape)}"
        )
    if not bool(torch.isfinite(value).all()):
        raise ValueError(f"{name} must be finite; it holds NaN or infinite values")
    return value


def _samples(value, name: str, arguments: dict):
    """The rule's sample ``(n, D)``, ``D`` the input dimension of ``model``."""
    X, D = _tensor(value, name), arguments["model"].input_dim
    if X.shape[1] != D:
        raise ValueError(f"{name} must be (n, {D}) (the input dimension of model), got {tuple(X.shape)}")
    return X


def _targets(value, name: str, arguments: dict):
    Y, n = _tensor(value, name, arguments["X"]), arguments["X"].shape[0]
    if Y.shape[0] != n:
        raise ValueError(f"{name} must be (n, d) with one row per row of X ({n}), got {tuple(Y.shape)}")
    return Y


def _projections(value, name: str, arguments: dict):
    """Projections ``(M, D, b)`` of the modules of ``model``, finite (returned unchanged)."""
    model = arguments["model"]
    shape = (model.n_modules, model.input_dim, model.module_dim)
    core.array(value, name, shape=shape, dtype=np.float32)
    return value


def _modular_arch(value, name: str, arguments: dict) -> dict:
    arch = check_architecture(value, arguments["k"])
    if arch["family"] != "modular":
        raise ValueError(f"{name} must be a modular network's architecture, got family {arch['family']!r}")
    return arch


MODEL, RIDGE = Check(_model), Real(0.0, low_open=True)


@validated(model=MODEL)
def module_kernels(model) -> list:
    """One kernel per module of a one-model :class:`~modscale_lib.networks.ModularEnsemble`: ``z (B, b) ->
    (B, B)``, the module's hidden features at the model's current (initial) weights, ``phi phi^T / w``."""
    W, c = model.modules_net.weights[0].detach(), model.modules_net.biases[0].detach()

    def kernel(j):
        def k(z):
            phi = torch.relu(z @ W[j] + c[j])
            return phi @ phi.T / phi.shape[1]

        return k

    return [kernel(j) for j in range(W.shape[0])]


def _features(z, model, j):
    W, c = model.modules_net.weights[0].detach(), model.modules_net.biases[0].detach()
    return torch.relu(z @ W[j] + c[j])


def _turn(U, G, angle):
    """One scale-free step from orthonormal ``U`` (m, b) against the gradient ``G``: the tangent part of ``G``
    scaled to Frobenius norm ``angle * sqrt(b)``, then QR."""
    tangent = G - U @ ((U.T @ G + G.T @ U) / 2)
    norm = tangent.norm()
    if not torch.isfinite(norm):
        raise FloatingPointError("the kernel objective's gradient is not finite; raise the ridge")
    if norm == 0:
        return U
    return orthonormalise(U - tangent * (angle * U.shape[1] ** 0.5 / norm))


def _objectives(Z, Y, kernels, b, ridge):
    """The kernel objective of every module on its slice of ``Z`` (B, M b): ``(M,)`` (differentiable)."""
    eye = torch.eye(b, dtype=Z.dtype, device=Z.device)
    return torch.stack(
        [
            kernel_objective(eye, Z[:, j * b : (j + 1) * b], Y, kernels[j], ridge, normalise=True)
            for j in range(len(kernels))
        ]
    )


@validated(
    model=MODEL,
    X=Check(_samples),
    Y=Check(_targets),
    starts=Check(_projections),
    variant=Choice(RULE_VARIANTS),
    steps=Whole(1, high=10**5),
    angle=Real(0.0, high=1.0, low_open=True),
    batch_size=Whole(2, high=1 << 14),
    ridge=RIDGE,
    seed=core.Seed(),
)
def search_projections(
    X,
    Y,
    starts,
    model,
    *,
    variant: str = "paper",
    steps: int = 100,
    angle: float = 0.05,
    batch_size: int = 512,
    ridge: float = 1e-2,
    seed: int = 0,
) -> np.ndarray:
    """The rule's projections for the modules of ``model`` (a one-model modular network at its initial weights).

    X : ``(n, D)`` float32 tensor of composite features (the rule's sample); Y : ``(n, d)`` targets (the centred
    one-hot labels of every slot). starts : ``(M, D, b)`` starting projections (orthonormal columns).
    variant : ``"paper"`` or ``"deflation"`` (see the module's doc). steps, angle : steps per module and the
    first step's turn (radians per column), decaying linearly to zero. batch_size : points per step.
    ridge : of the objective. Returns ``(M, D, b)`` float32 with orthonormal columns.
    """
    n, M, b = X.shape[0], starts.shape[0], starts.shape[-1]
    kernels = module_kernels(model)
    g = torch_generator(seed, 4242)
    U = [torch.as_tensor(np.asarray(s), dtype=torch.float32, device=X.device) for s in starts]
    with single_thread():
        if variant == "paper":  # independent searches, one product with X for all modules per step
            for t in range(steps):
                idx = torch.randperm(n, generator=g)[: min(batch_size, n)].to(X.device)
                Ucat = torch.cat(U, dim=1).requires_grad_(True)
                _objectives(X[idx] @ Ucat, Y[idx], kernels, b, ridge).sum().backward()
                G = Ucat.grad.detach()
                U = [_turn(U[j], G[:, j * b : (j + 1) * b], angle * (1 - t / steps)) for j in range(M)]
            return torch.stack(U).cpu().numpy()
        target = Y
        for j in range(M):
            for t in range(steps):
                idx = torch.randperm(n, generator=g)[: min(batch_size, n)].to(X.device)
                Uj = U[j].clone().requires_grad_(True)
                kernel_objective(Uj, X[idx], target[idx], kernels[j], ridge, normalise=True).backward()
                U[j] = _turn(U[j], Uj.grad.detach(), angle * (1 - t / steps))
            if j < M - 1:
                target = target - _kernel_fit(X, target, U[j], model, j, 4 * batch_size, g)
        return torch.stack(U).cpu().numpy()


def _kernel_fit(X, target, U, model, j, max_points, g):
    """Module ``j``'s kernel ridge fit of ``target`` at every row of ``X``, fitted on at most ``max_points``."""
    with torch.no_grad():
        phi = _features(X @ U, model, j)
        idx = torch.randperm(X.shape[0], generator=g)[: min(max_points, X.shape[0])].to(X.device)
        scale = phi[idx].pow(2).sum(dim=1).mean().clamp_min(1e-12)  # the normalised kernel's mean diagonal
        K = phi[idx] @ phi[idx].T / scale
        L = torch.linalg.cholesky(K + _FIT_RIDGE * torch.eye(len(idx), device=X.device))
        coef = torch.cholesky_solve(target[idx], L)
        return phi @ (phi[idx].T @ coef) / scale


@validated(
    model=MODEL,
    X=Check(_samples),
    Y=Check(_targets),
    U=Check(_projections),
    batch_size=Whole(1, high=1 << 14),
    ridge=RIDGE,
)
def held_out_objective(U, X, Y, model, *, batch_size: int = 512, ridge: float = 1e-2) -> np.ndarray:
    """The kernel objective of each module of ``model`` at projections ``U`` (M, D, b), averaged over consecutive
    batches of the held-out ``X`` (n, D), ``Y`` (n, d): ``(M,)`` float64. Lower: the module fits the target with a
    smaller norm. Orthonormalised first, as a trained ``U`` no longer is."""
    kernels = module_kernels(model)
    b = U.shape[-1]
    Q = orthonormalise(torch.as_tensor(np.asarray(U), dtype=torch.float32, device=X.device))
    Ucat = torch.cat(list(Q), dim=1)
    out = []
    with torch.no_grad(), single_thread():
        for start in range(0, X.shape[0] - batch_size + 1, batch_size):
            out.append(
                _objectives(X[start : start + batch_size] @ Ucat, Y[start : start + batch_size], kernels, b, ridge)
                .cpu()
                .numpy()
            )
    if not out:
        raise ValueError(f"X must hold at least one batch of {batch_size} rows, got {X.shape[0]}")
    return np.mean(out, axis=0).astype(np.float64)


def slot_local_projections(n_modules: int, k: int, module_dim: int, seed: int) -> np.ndarray:
    """``(M, 3072 k, b)`` random orthonormal projections in which module ``j`` reads only slot ``j mod k``: the
    modular structure of the task, known in advance (a control for what the rule could find)."""
    M = core.whole(n_modules, "n_modules", low=1, high=1 << 12)
    k = core.whole(k, "k", low=1, high=composites.MAX_POSITIONS)
    b = core.whole(module_dim, "module_dim", low=1, high=composites.IMAGE_FEATURES)
    F = composites.IMAGE_FEATURES
    core.check_size(M * F * k * b, "n_modules * 3072 k * module_dim")
    g = torch_generator(core.seed(seed), 7717)
    out = np.zeros((M, F * k, b), np.float32)
    for j in range(M):
        q, _ = torch.linalg.qr(torch.randn(F, b, generator=g, dtype=torch.float64))
        out[j, (j % k) * F : (j % k + 1) * F] = q.numpy()
    return out


@validated(
    k=Whole(1, high=composites.MAX_POSITIONS),
    arch=Check(_modular_arch),
    n_outputs=Whole(1, high=10 * composites.MAX_POSITIONS),
    steps=Whole(1, high=10**5),
    batch_size=Whole(2, high=1 << 14),
    variant=Choice(RULE_VARIANTS),
)
def search_flops(arch: dict, k: int, n_outputs: int, steps: int, batch_size: int, variant: str) -> int:
    """Operations of :func:`search_projections` (dominant terms): per module and step, the projection and its
    gradient (``4 B D b``), the features and kernel (``2 B b w + 2 B^2 w``, twice for the gradient), the Cholesky
    factor (``B^3 / 3``) and the solves (``4 B^2 d``); deflation adds one kernel fit per module."""
    M, b, w = arch["n_modules"], arch["module_dim"], arch["module_width"]
    B, D = batch_size, composites.IMAGE_FEATURES * k
    per_step = 4 * B * D * b + 2 * (2 * B * b * w + 2 * B * B * w) + B**3 // 3 + 4 * B * B * n_outputs
    fits = 0 if variant == "paper" else (M - 1) * (2 * 4 * B * (D * b + b * w + 4 * B * w) + (4 * B) ** 3 // 3)
    return int(M * steps * per_step + fits)
