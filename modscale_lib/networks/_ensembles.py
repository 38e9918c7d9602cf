"""Monolithic and modular networks as batched ensembles: ``E`` independent models in one set of tensors.

Every weight has a leading model axis, and a forward pass is a handful of batched matrix products, so
training 64 small networks costs about as much as training one large one. Models in an ensemble may differ in
width (hidden units beyond a model's own width are masked to zero, so they neither compute nor learn) and in
seed; each model's initial weights depend only on its own seed and width, never on the ensemble around it,
so a model trained inside an ensemble is the same model trained alone.

Shapes: inputs ``(E, B, input_dim)`` (or ``(B, input_dim)``, shared by all models), outputs ``(E, B)``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import torch

from .. import core
from ..core import torch_generator

__all__ = [
    "BatchedMLP",
    "MLPEnsemble",
    "ModularEnsemble",
    "mlp_param_count",
    "width_for_params",
    "default_device",
    "random_projections",
]


def default_device() -> torch.device:
    """CUDA when available, else the CPU."""
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def mlp_param_count(input_dim: int, width: int, depth: int, n_outputs: int = 1) -> int:
    """Weights and biases of an MLP with ``depth`` hidden layers of ``width`` units."""
    input_dim = core.whole(input_dim, "input_dim", low=1)
    width = core.whole(width, "width", low=1)
    depth = core.whole(depth, "depth", low=1, high=core.MAX_ITEMS)
    n_outputs = core.whole(n_outputs, "n_outputs", low=1)
    sizes = [input_dim] + [width] * depth + [n_outputs]
    return int(sum(a * b + b for a, b in zip(sizes[:-1], sizes[1:])))


def width_for_params(n_params: int, input_dim: int, depth: int) -> int:
    """The hidden width whose MLP (``depth`` hidden layers, one output) has the parameter count closest to
    ``n_params`` (in log scale)."""
    n_params = core.whole(n_params, "n_params", low=1, high=10**10)
    input_dim = core.whole(input_dim, "input_dim", low=1, high=10**6)
    depth = core.whole(depth, "depth", low=1, high=64)
    widths = np.arange(1, max(64, n_params + 2))
    counts = np.array([mlp_param_count(input_dim, int(w), depth) for w in widths[:20_000]])
    return int(widths[np.argmin(np.abs(np.log(counts) - np.log(n_params)))])


def _per_model(name: str, values, n: int, default) -> list[int]:
    """One whole number per network (``widths``) or one seed per network (``seeds``), checked."""
    if values is None:
        return [default] * n
    if name == "seeds":
        return core.seeds(values, name, length=n)
    values = core.whole_array(values, name, low=1, ndim=1)
    if len(values) != n:
        raise ValueError(f"{name} must have one entry per network ({n}), got {len(values)}")
    return [int(v) for v in values]


def _check_params(n_nets: int, in_dim: int, width: int, depth: int, out_dim: int) -> None:
    """Refuse an ensemble whose weights would not fit, or whose per-network initialisation loop is absurd."""
    core.check_count(n_nets, "n_nets (models times modules)")
    per_net = in_dim * width + (depth - 1) * width * width + width * out_dim
    core.check_size(n_nets * per_net, "the ensemble's weights (n_nets * (in_dim*width + ... ))")


class BatchedMLP(torch.nn.Module):
    """``N`` independent MLPs ``in_dim -> width x depth -> out_dim`` with ReLU, as batched tensors.

    Parameters
    ----------
    n_nets : number of networks ``N``.
    in_dim, out_dim : input and output sizes (shared).
    width : the largest hidden width; ``widths`` (length ``N``, each ``<= width``) gives each network its own.
    depth : number of hidden layers (>= 1).
    seeds : one integer seed per network (default ``0..N-1``); ``stream`` separates uses of one seed.

    Initialisation follows ``torch.nn.Linear``: weights and biases uniform in ``+-1/sqrt(fan_in)``, with each
    network's own fan-in.
    """

    def __init__(
        self,
        n_nets: int,
        in_dim: int,
        width: int,
        depth: int = 1,
        out_dim: int = 1,
        widths: Sequence[int] | None = None,
        seeds: Sequence[int] | None = None,
        stream: int = 0,
    ):
        super().__init__()
        self.n_nets = core.whole(n_nets, "n_nets", low=1)
        self.in_dim, self.out_dim = core.whole(in_dim, "in_dim", low=1), core.whole(out_dim, "out_dim", low=1)
        self.width = core.whole(width, "width", low=1)
        self.depth = core.whole(depth, "depth", low=1, high=1000)
        _check_params(self.n_nets, self.in_dim, self.width, self.depth, self.out_dim)
        stream = core.seed(stream, "stream")
        self.widths = _per_model("widths", widths, self.n_nets, self.width)
        if min(self.widths) < 1 or max(self.widths) > self.width:
            raise ValueError(f"widths must lie in 1..width ({self.width}), got {min(self.widths)}..{max(self.widths)}")
        self.seeds = _per_model("seeds", seeds, self.n_nets, 0) if seeds is not None else list(range(self.n_nets))
        sizes = [self.in_dim] + [self.width] * self.depth + [self.out_dim]
        weights, biases = [], []
        for layer, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:])):
            W = torch.empty(self.n_nets, fan_in, fan_out)
            bias = torch.empty(self.n_nets, 1, fan_out)
            for i, (seed, w_i) in enumerate(zip(self.seeds, self.widths)):
                true_in = fan_in if layer == 0 else w_i
                bound = 1.0 / math.sqrt(true_in)
                g = torch_generator(seed, stream, layer)
                W[i].uniform_(-bound, bound, generator=g)
                bias[i].uniform_(-bound, bound, generator=g)
            weights.append(torch.nn.Parameter(W))
            biases.append(torch.nn.Parameter(bias))
        self.weights = torch.nn.ParameterList(weights)
        self.biases = torch.nn.ParameterList(biases)
        mask = torch.arange(self.width)[None, None, :] < torch.tensor(self.widths)[:, None, None]
        self.register_buffer("unit_mask", mask.float())  # (N, 1, width)
        self.masked = any(w < self.width for w in self.widths)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x: (N, B, in_dim) -> (N, B, out_dim)."""
        for layer, (W, b) in enumerate(zip(self.weights, self.biases)):
            x = torch.baddbmm(b, x, W)
            if layer < self.depth:
                # in place on the product's own fresh output, which baddbmm's backward does not need: the
                # same values and gradients, one allocation less per layer (tests/test_speedups.py)
                x = torch.relu_(x)
                if self.masked:
                    x = x * self.unit_mask
        return x

    def n_params(self) -> np.ndarray:
        """Each network's own parameter count (masked units excluded), shape (N,)."""
        return np.array([mlp_param_count(self.in_dim, w, self.depth, self.out_dim) for w in self.widths])


class MLPEnsemble(torch.nn.Module):
    """``E`` monolithic MLPs ``input_dim -> width x depth -> n_outputs``.

    ``widths`` and ``seeds`` (one per model) let the models differ; see :class:`BatchedMLP`.
    """

    def __init__(
        self,
        n_models: int,
        input_dim: int,
        width: int,
        depth: int = 1,
        widths: Sequence[int] | None = None,
        seeds: Sequence[int] | None = None,
        n_outputs: int = 1,
    ):
        super().__init__()
        self.n_models = core.whole(n_models, "n_models", low=1)
        self.input_dim = core.whole(input_dim, "input_dim", low=1)
        self.n_outputs = core.whole(n_outputs, "n_outputs", low=1)
        core.check_count(self.n_models, "n_models")
        self.net = BatchedMLP(n_models, input_dim, width, depth, self.n_outputs, widths=widths, seeds=seeds)
        self.seeds = self.net.seeds

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x: (E, B, input_dim) or (B, input_dim) -> (E, B), or (E, B, n_outputs) when ``n_outputs > 1``."""
        if x.dim() == 2:
            x = x.expand(self.n_models, *x.shape)
        out = self.net(x)
        return out[..., 0] if self.n_outputs == 1 else out

    def n_params(self) -> np.ndarray:
        """``p`` of each model, shape (E,)."""
        return self.net.n_params()


def random_projections(
    n_models: int, n_modules: int, input_dim: int, module_dim: int, seeds: Sequence[int] | None = None
) -> torch.Tensor:
    """Random ``(E, K, m, b)`` projections with orthonormal columns (QR of Gaussian matrices), per model seed."""
    n_models = core.whole(n_models, "n_models", low=1)
    n_modules = core.whole(n_modules, "n_modules", low=1)
    input_dim = core.whole(input_dim, "input_dim", low=1)
    module_dim = core.whole(module_dim, "module_dim", low=1, high=input_dim)
    core.check_count(n_models * n_modules, "n_models * n_modules")
    core.check_size(n_models * n_modules * input_dim * module_dim, "n_models * n_modules * input_dim * module_dim")
    seeds = list(range(n_models)) if seeds is None else core.seeds(seeds, "seeds", length=n_models)
    out = torch.empty(n_models, n_modules, input_dim, module_dim)
    for e, seed in enumerate(seeds):
        g = torch_generator(seed, 7919)
        for k in range(n_modules):
            q, _ = torch.linalg.qr(torch.randn(input_dim, module_dim, generator=g, dtype=torch.float64))
            out[e, k] = q.float()
    return out


class ModularEnsemble(torch.nn.Module):
    """``E`` modular networks: ``K`` modules, each ``x -> U_k^T x (b numbers) -> MLP -> n_outputs``, outputs
    summed and scaled by ``K^(-1/2)``.

    Parameters
    ----------
    n_models, input_dim, n_modules, module_dim : ``E``, ``m``, ``K``, ``b`` (``b <= m``).
    width, depth : each module's MLP.
    projections : initial ``U`` of shape ``(E, K, m, b)`` (e.g. the task's own, or learned ones); random
        orthonormal ones (per model seed) when omitted.
    train_projections : whether ``U`` is trained with the rest (the paper trains all parameters); one bool
        for every model, or one per model (a frozen model's projections get zero gradient, so Adam and SGD
        leave them exactly where they start).
    seeds : one per model. n_outputs : outputs of each module (and of the network).
    """

    def __init__(
        self,
        n_models: int,
        input_dim: int,
        n_modules: int,
        module_dim: int = 1,
        width: int = 32,
        depth: int = 1,
        projections=None,
        train_projections: bool = True,
        widths: Sequence[int] | None = None,
        seeds: Sequence[int] | None = None,
        n_outputs: int = 1,
    ):
        super().__init__()
        self.n_outputs = core.whole(n_outputs, "n_outputs", low=1)
        self.n_models = core.whole(n_models, "n_models", low=1)
        self.input_dim = core.whole(input_dim, "input_dim", low=1)
        self.n_modules = core.whole(n_modules, "n_modules", low=1)
        self.module_dim = core.whole(module_dim, "module_dim", low=1)
        if self.module_dim > self.input_dim:
            raise ValueError(f"module_dim must be <= input_dim ({self.input_dim}), got {self.module_dim}")
        core.check_count(self.n_models * self.n_modules, "n_models * n_modules")
        core.check_size(
            self.n_models * self.n_modules * self.input_dim * self.module_dim,
            "n_models * n_modules * input_dim * module_dim",
        )
        if isinstance(train_projections, (bool, np.bool_)):
            per_model = [bool(train_projections)] * self.n_models
        elif isinstance(train_projections, (list, tuple, np.ndarray)):
            per_model = [core.boolean(t, "train_projections") for t in train_projections]
        else:
            raise TypeError(
                f"train_projections must be a bool or a sequence of one bool per model, got "
                f"{type(train_projections).__name__}"
            )
        if len(per_model) != self.n_models:
            raise ValueError(
                f"train_projections must be one bool or one per model ({self.n_models}), got {len(per_model)}"
            )
        seeds = list(range(self.n_models)) if seeds is None else _per_model("seeds", seeds, self.n_models, 0)
        self.seeds = seeds
        if projections is None:
            projections = random_projections(self.n_models, self.n_modules, self.input_dim, self.module_dim, seeds)
        projections = torch.as_tensor(np.array(core.array(projections, "projections", ndim=(3, 4), dtype=np.float32)))
        expected = (self.n_models, self.n_modules, self.input_dim, self.module_dim)
        if projections.dim() == 3:  # one set shared by every model
            projections = projections.expand(self.n_models, *projections.shape).clone()
        if tuple(projections.shape) != expected:
            raise ValueError(
                f"projections must have shape {expected} (or {expected[1:]}), got {tuple(projections.shape)}"
            )
        self.projections = torch.nn.Parameter(projections.clone(), requires_grad=any(per_model))
        if any(per_model) and not all(per_model):
            mask = torch.tensor(per_model, dtype=projections.dtype).reshape(-1, 1, 1, 1)
            self.register_buffer("_projection_grad_mask", mask, persistent=False)
            self.projections.register_hook(lambda grad: grad * self._projection_grad_mask)
        module_widths = (
            None
            if widths is None
            else [w for w in _per_model("widths", widths, self.n_models, width) for _ in range(self.n_modules)]
        )
        module_seeds = [s * 1009 + k for s in seeds for k in range(self.n_modules)]
        self.modules_net = BatchedMLP(
            self.n_models * self.n_modules,
            self.module_dim,
            width,
            depth,
            self.n_outputs,
            widths=module_widths,
            seeds=module_seeds,
            stream=1,
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x: (E, B, input_dim) or (B, input_dim) -> (E, B), or (E, B, n_outputs) when ``n_outputs > 1``."""
        if x.dim() == 2:
            z = torch.einsum("bm,ekmc->ekbc", x, self.projections)
        else:
            z = torch.einsum("ebm,ekmc->ekbc", x, self.projections)
        E, K, B, b = z.shape
        out = self.modules_net(z.reshape(E * K, B, b)).reshape(E, K, B, self.n_outputs)
        out = out.sum(dim=1) / math.sqrt(K)
        return out[..., 0] if self.n_outputs == 1 else out

    def n_params(self) -> np.ndarray:
        """``p`` of each model: the modules' MLPs plus the projections (``K*m*b``), shape (E,)."""
        per_module = self.modules_net.n_params().reshape(self.n_models, self.n_modules).sum(axis=1)
        return per_module + self.n_modules * self.input_dim * self.module_dim
