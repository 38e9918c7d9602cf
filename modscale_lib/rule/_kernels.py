"""Kernels of a module network at initialisation on projected inputs ``z`` (B, b), for the learning rule.

Each returns a (B, B) matrix (or, ``cross_kernel``, the kernel between all points and a subset),
normalised so that its mean diagonal is about 1. Public names of :mod:`modscale_lib.rule`.
"""

from __future__ import annotations

import numpy as np
import torch

from .. import core
from ..networks import BatchedMLP

__all__ = [
    "KERNELS",
    "ModuleAtInit",
    "feature_kernel",
    "ntk_kernel",
    "rbf_kernel",
    "kernel_matrix",
    "cross_kernel",
    "as_float_tensor",
]


KERNELS = ("features", "ntk", "rbf")


def as_float_tensor(value, name: str, ndim=None) -> torch.Tensor:
    """``value`` as a float tensor, ``name`` naming it in errors: a float tensor from a tensor (kept, with its
    graph) or an array (validated, as float32)."""
    if torch.is_tensor(value):
        if value.dtype == torch.bool or value.is_complex():
            raise TypeError(f"{name} must be a real-valued tensor, got dtype {value.dtype}")
        if not value.dtype.is_floating_point:
            value = value.float()
        if ndim is not None and value.dim() not in ((ndim,) if isinstance(ndim, int) else ndim):
            raise ValueError(f"{name} must be {ndim}-dimensional, got shape {tuple(value.shape)}")
        if not bool(torch.all(torch.isfinite(value.detach()))):
            raise ValueError(f"{name} must be finite; it holds NaN or infinite values")
        return value
    return torch.as_tensor(core.array(value, name, ndim=ndim, dtype=np.float32))


# ---------------------------------------------------------------------------------------------------------
# Kernels on projected inputs z (B, b); each returns (B, B), normalised so that its mean diagonal is about 1
# ---------------------------------------------------------------------------------------------------------
class ModuleAtInit:
    """A module network at initialisation (``b -> width -> width -> 1``), whose kernels the rule uses."""

    def __init__(self, module_dim: int, width: int, depth: int, seed: int):
        self.net = BatchedMLP(1, module_dim, width, depth, 1, seeds=[core.seed(seed)], stream=2)
        for p in self.net.parameters():
            p.requires_grad_(False)

    def features(self, z: torch.Tensor) -> torch.Tensor:
        """Last hidden layer's activations, (B, width)."""
        z = as_float_tensor(z, "z", ndim=2)
        if z.shape[1] != self.net.in_dim:
            raise ValueError(f"z must have shape (B, {self.net.in_dim}), got {tuple(z.shape)}")
        h = z[None]
        for layer, (W, b) in enumerate(zip(self.net.weights, self.net.biases)):
            if layer == self.net.depth:
                break
            h = torch.relu(torch.baddbmm(b, h, W))
        return h[0]


def feature_kernel(z: torch.Tensor, module: ModuleAtInit) -> torch.Tensor:
    """``K = phi(z) phi(z)^T / width``: the random-feature kernel of the module's last hidden layer at init."""
    _check_module(module)
    phi = module.features(z)
    return phi @ phi.T / phi.shape[1]


def ntk_kernel(z: torch.Tensor, module: ModuleAtInit) -> torch.Tensor:
    """The module's empirical neural tangent kernel at initialisation, ``J J^T`` over all its parameters.

    Built in closed form for the ReLU MLP (no per-sample autograd): the output layer contributes
    ``phi phi^T + 1``, and each hidden layer ``(delta delta^T) * (a a^T + 1)`` with ``delta`` the backpropagated
    sensitivities and ``a`` the layer's input. Divided by the width.
    """
    _check_module(module)
    z = as_float_tensor(z, "z", ndim=2)
    if z.shape[1] != module.net.in_dim:
        raise ValueError(f"z must have shape (B, {module.net.in_dim}), got {tuple(z.shape)}")
    core.check_size(z.shape[0] ** 2, "z's rows squared (the kernel matrix)")
    Ws, bs = list(module.net.weights), list(module.net.biases)
    acts, pre = [z], []
    h = z
    for layer in range(module.net.depth):
        s = h @ Ws[layer][0] + bs[layer][0]
        pre.append(s)
        h = torch.relu(s)
        acts.append(h)
    K = acts[-1] @ acts[-1].T + 1.0
    delta = Ws[-1][0].T.expand(z.shape[0], -1)  # d out / d h_last, (B, width)
    for layer in reversed(range(module.net.depth)):
        delta = delta * (pre[layer] > 0)  # d out / d pre-activation of this layer
        K = K + (delta @ delta.T) * (acts[layer] @ acts[layer].T + 1.0)
        if layer > 0:
            delta = delta @ Ws[layer][0].T
    return K / module.net.width


def rbf_kernel(z: torch.Tensor, bandwidth: float | None = None) -> torch.Tensor:
    """``exp(-|z_i - z_j|^2 / (2 h^2))`` with ``h`` the median pairwise distance (the median heuristic)."""
    z = as_float_tensor(z, "z", ndim=2)
    if z.shape[0] < 2 and bandwidth is None:
        raise ValueError(f"z must have at least 2 rows for the median heuristic, got {z.shape[0]}")
    core.check_size(z.shape[0] ** 2, "z's rows squared (the kernel matrix)")
    if bandwidth is not None:
        bandwidth = core.real(bandwidth, "bandwidth", low=0.0, low_open=True)
    d2 = torch.cdist(z, z).pow(2)
    if bandwidth is None:
        off = d2[~torch.eye(z.shape[0], dtype=torch.bool, device=z.device)]
        bandwidth = float(torch.sqrt(torch.median(off.detach())).clamp_min(1e-6))
    return torch.exp(-d2 / (2 * bandwidth**2))


def _check_module(module) -> None:
    if not isinstance(module, ModuleAtInit):
        raise TypeError(
            f"module must be a ModuleAtInit (the module network at initialisation), got {type(module).__name__}"
        )


@core.validated(kernel=core.Choice(KERNELS))
def kernel_matrix(kernel: str, z: torch.Tensor, module) -> torch.Tensor:
    """The named ``kernel`` (one of ``KERNELS``) on the points ``z`` (B, b), (B, B); ``module`` the
    :class:`ModuleAtInit` that the feature and NTK kernels read."""
    if kernel == "features":
        return feature_kernel(z, module)
    if kernel == "ntk":
        return ntk_kernel(z, module)
    return rbf_kernel(z)


def _cross_points(z, zs, kernel: str, module) -> tuple[torch.Tensor, torch.Tensor]:
    """:func:`cross_kernel`'s points, checked: two float tensors of ``b`` columns (``zs`` of 2 rows at least for
    the median heuristic), and the module where the kernel reads one."""
    z, zs = as_float_tensor(z, "z", ndim=2), as_float_tensor(zs, "zs", ndim=2)
    if zs.shape[1] != z.shape[1]:
        raise ValueError(f"zs must have the columns of z ({z.shape[1]}), got shape {tuple(zs.shape)}")
    if kernel == "rbf" and zs.shape[0] < 2:
        raise ValueError(f"zs must have at least 2 rows for the median heuristic, got {zs.shape[0]}")
    core.check_size(z.shape[0] * zs.shape[0], "z's rows times zs's rows (the kernel matrix)")
    if kernel != "rbf":
        _check_module(module)
    return z, zs


@core.validated(kernel=core.Choice(KERNELS))
def cross_kernel(kernel: str, z: torch.Tensor, zs: torch.Tensor, module) -> torch.Tensor:
    """The kernel (one of ``KERNELS``) between all points ``z`` (n, b) and a subset ``zs`` (s, b), (n, s)."""
    z, zs = _cross_points(z, zs, kernel, module)
    if kernel == "features":
        return module.features(z) @ module.features(zs).T / module.net.width
    if kernel == "rbf":
        d2 = torch.cdist(zs, zs).pow(2)
        off = d2[~torch.eye(zs.shape[0], dtype=torch.bool)]
        h = float(torch.sqrt(torch.median(off)).clamp_min(1e-6))
        return torch.exp(-torch.cdist(z, zs).pow(2) / (2 * h**2))
    out = []
    for start in range(0, z.shape[0], 2048):  # the NTK between blocks, from the joint matrix
        block = torch.cat([z[start : start + 2048], zs])
        K = ntk_kernel(block, module)
        out.append(K[: min(2048, z.shape[0] - start), -zs.shape[0] :])
    return torch.cat(out)
