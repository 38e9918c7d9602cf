"""Networks for Compositional CIFAR-10, their cost, and their training: each network on its own, on one stream of
minibatches built on the device that trains.

An architecture is a plain dict (it is stored in configs and results):

* ``{"family": "monolithic", "width": W, "depth": L}``: an MLP ``3072 k -> W (x L) -> 10 k`` with ReLU;
* ``{"family": "modular", "n_modules": M, "module_dim": b, "module_width": w}``: ``M`` modules, each reading
  ``U_j^T x`` (``b`` numbers) through one hidden layer of ``w`` units to ``10 k`` logits, summed and divided by
  ``sqrt(M)`` (:class:`modscale_lib.networks.ModularEnsemble` with one model). Its first layer, the projections,
  has ``M b`` units in all.

:func:`train_members` trains several such networks on the same minibatches, but each with its own optimiser on
its own tensors: no tensor is shared or padded across networks, so a network's result is bit for bit the one it
gets trained alone (tests/test_compositional.py). Networks batched into one ensemble are not: an ensemble pads a
narrower member to the widest one, and both its initial weights (drawn over the padded shape) and its sums (over
padded zeros, in another order) then depend on the others.
"""

from __future__ import annotations

import ctypes
import math
import sys

import numpy as np
import torch

from . import composites, core
from .core import single_thread
from .networks import MLPEnsemble, ModularEnsemble, TrainingDivergedError

__all__ = [
    "FAMILIES",
    "check_architecture",
    "build_network",
    "n_params",
    "training_flops",
    "forward_flops",
    "CompositeTable",
    "train_members",
    "accuracy",
]

FAMILIES = ("monolithic", "modular")
N_CLASSES = 10


def check_architecture(arch: dict, k: int) -> dict:
    """``arch`` checked for ``k`` images and returned as a plain dict of whole numbers (see the module's doc)."""
    if not isinstance(arch, dict) or arch.get("family") not in FAMILIES:
        raise ValueError(f"arch must be a dict whose 'family' is one of {FAMILIES}, got {arch!r}")
    k = core.whole(k, "k", low=1, high=composites.MAX_POSITIONS)
    keys = {"monolithic": ("width", "depth"), "modular": ("n_modules", "module_dim", "module_width")}[arch["family"]]
    if set(arch) != {"family", *keys}:
        raise ValueError(f"a {arch['family']} arch has the keys family, {', '.join(keys)}; got {sorted(arch)}")
    out = {
        "family": arch["family"],
        **{key: core.whole(arch[key], f"arch[{key!r}]", low=1, high=1 << 16) for key in keys},
    }
    if out["family"] == "monolithic" and out["depth"] > 8:
        raise ValueError(f"arch['depth'] must be a whole number in [1, 8], got {out['depth']}")
    if out["family"] == "modular" and out["module_dim"] > composites.IMAGE_FEATURES * k:
        raise ValueError(f"arch['module_dim'] must be at most the input dimension {composites.IMAGE_FEATURES * k}")
    return out


# -- the rules of the public arguments (modscale_lib.core.validated) ----------------------------------------
def _arch(value, name: str, arguments: dict) -> dict:
    return check_architecture(value, arguments["k"])


def _projections(value, name: str, arguments: dict):
    """None, or the starting ``U`` of a modular network: (M, 3072 k, b), finite (returned unchanged)."""
    arch = arguments["arch"]
    if value is not None and arch["family"] == "modular":
        shape = (arch["n_modules"], composites.IMAGE_FEATURES * arguments["k"], arch["module_dim"])
        core.array(value, name, shape=shape, dtype=np.float32)
    return value


def _table(value, name: str, arguments: dict):
    if not isinstance(value, CompositeTable):
        raise TypeError(f"{name} must be a CompositeTable, got {type(value).__name__}")
    return value


def _index(value, name: str, arguments: dict) -> np.ndarray:
    """Composites ``(n, k)``: at least one, each of ``k <= MAX_POSITIONS`` images of the table."""
    index = core.whole_array(value, name, low=0, high=len(arguments["table"].labels) - 1, ndim=2, min_size=1)
    if not 1 <= index.shape[1] <= composites.MAX_POSITIONS:
        raise ValueError(f"{name} must be (n, k) with k in [1, {composites.MAX_POSITIONS}], got {index.shape}")
    return index


def _network(model, name: str, arguments: dict):
    """A network of this module for the composites of ``index`` (its input dimension is 3072 k)."""
    D = composites.IMAGE_FEATURES * arguments["index"].shape[1]
    if not isinstance(model, torch.nn.Module) or getattr(model, "input_dim", D) != D:
        got = getattr(model, "input_dim", type(model).__name__)
        raise ValueError(f"{name} must be a network of 3072 k = {D} inputs (k of index), got {got}")
    return model


def _networks(value, name: str, arguments: dict) -> list:
    if isinstance(value, torch.nn.Module) or not isinstance(value, (list, tuple)) or not value:
        raise TypeError(f"{name} must be a non-empty list of networks, got {type(value).__name__}")
    return [_network(m, f"{name}[{i}]", arguments) for i, m in enumerate(value)]


def _steps(value, name: str, arguments: dict) -> list[float]:
    """One initial step in (0, 1] per network."""
    n = len(arguments["models"])
    if isinstance(value, (str, bytes)) or not isinstance(value, (list, tuple, np.ndarray)) or len(value) != n:
        raise ValueError(f"{name} must give one step per network ({n}), got {value!r}"[:300])
    return [core.real(lr, f"{name}[{i}]", low=0.0, low_open=True, high=1.0) for i, lr in enumerate(value)]


def _names(value, name: str, arguments: dict) -> list[str]:
    n = len(arguments["models"])
    if value is None:
        return [f"network {i}" for i in range(n)]
    if isinstance(value, str) or not isinstance(value, (list, tuple)) or len(value) != n:
        raise ValueError(f"{name} must give one name per network ({n}), got {value!r}"[:300])
    return [str(v) for v in value]


def _occlude(value, name: str, arguments: dict):
    """None, or one slot ``(n,)`` in ``[0, k)`` per composite of ``index``."""
    if value is None:
        return None
    n, k = arguments["index"].shape
    slots = core.whole_array(value, name, low=0, high=k - 1, ndim=1)
    if len(slots) != n:
        raise ValueError(f"{name} must give one slot per composite of index ({n}), got {len(slots)}")
    return slots


def _callable(value, name: str, arguments: dict):
    if not callable(value):
        raise TypeError(f"{name} must be a function, got {type(value).__name__}")
    return value


def _device(value, name: str, arguments: dict):
    try:
        return torch.device(value)
    except (RuntimeError, TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be a torch device ('cpu', 'cuda', ...), got {value!r}") from exc


def _images(value, name: str, arguments: dict) -> np.ndarray:
    images = np.asarray(core.as_numpy(value))
    if images.dtype != np.uint8 or images.ndim != 4 or images.shape[1:] != (32, 32, 3) or not len(images):
        raise ValueError(f"{name} must be (N, 32, 32, 3) uint8 with N >= 1, got {images.shape} {images.dtype}")
    return images


def _labels(value, name: str, arguments: dict) -> np.ndarray:
    labels = core.whole_array(value, name, low=0, high=N_CLASSES - 1, ndim=1)
    if len(labels) != len(arguments["images"]):
        raise ValueError(f"{name} must hold one class per image ({len(arguments['images'])}), got {len(labels)}")
    return labels


_NOISE_SEED = core.Seed(high=core.CONFIG_SEED_MAX)  # times 1_000_003 plus a batch, within torch's seeds


@core.validated(
    k=core.Whole(1, high=composites.MAX_POSITIONS),
    arch=core.Check(_arch),
    seed=core.Seed(),
    projections=core.Check(_projections),
)
def build_network(arch: dict, k: int, seed: int, projections=None) -> torch.nn.Module:
    """The network of ``arch`` for ``k`` images, its weights drawn from ``seed`` alone.

    projections : for a modular network, its starting ``U`` ``(M, 3072 k, b)``; random orthonormal ones (from the
    seed) when None. Modular networks of one seed and shape share their module weights whatever their projections.
    """
    D, outputs = composites.IMAGE_FEATURES * k, N_CLASSES * k
    if arch["family"] == "monolithic":
        return MLPEnsemble(1, D, arch["width"], depth=arch["depth"], seeds=[seed], n_outputs=outputs)
    if projections is not None:
        projections = np.asarray(core.as_numpy(projections), dtype=np.float32)[None]
    return ModularEnsemble(
        1,
        D,
        arch["n_modules"],
        arch["module_dim"],
        width=arch["module_width"],
        projections=projections,
        seeds=[seed],
        n_outputs=outputs,
    )


def _layers(arch: dict, k: int) -> list[tuple[int, int, int]]:
    """``(copies, fan_in, fan_out)`` of each dense layer, in order; the first one reads the pixels."""
    D, outputs = composites.IMAGE_FEATURES * k, N_CLASSES * k
    if arch["family"] == "monolithic":
        sizes = [D] + [arch["width"]] * arch["depth"] + [outputs]
        return [(1, a, b) for a, b in zip(sizes[:-1], sizes[1:])]
    M, b, w = arch["n_modules"], arch["module_dim"], arch["module_width"]
    return [(1, D, M * b), (M, b, w), (M, w, outputs)]


def n_params(arch: dict, k: int) -> int:
    """Trained parameters of the network (weights and biases; a modular network's projections have no bias)."""
    arch = check_architecture(arch, k)
    layers = _layers(arch, k)
    count = sum(c * (a * b + b) for c, a, b in layers)
    return int(count - (layers[0][2] if arch["family"] == "modular" else 0))


def forward_flops(arch: dict, k: int) -> int:
    """Floating-point operations of one forward pass on one composite: ``2 x`` the multiply-adds of the dense
    layers (biases, activations and the softmax are left out: they are a fraction of a percent)."""
    arch = check_architecture(arch, k)
    return int(sum(2 * c * a * b for c, a, b in _layers(arch, k)))


def training_flops(arch: dict, k: int) -> int:
    """Operations of one training step per composite: the forward pass, the weight gradients (as many again),
    and the input gradients of every layer but the first (the pixels need none)."""
    arch = check_architecture(arch, k)
    layers = _layers(arch, k)
    return int(sum(2 * c * a * b for c, a, b in layers) * 2 + sum(2 * c * a * b for c, a, b in layers[1:]))


_MEAN_GREY = np.rint(np.array(composites.CIFAR_MEAN) * 255).astype(np.uint8)  # the occluder's colour


class CompositeTable:
    """The images of one split on one device, from which composites are gathered batch by batch.

    images : ``(N, 32, 32, 3)`` uint8; labels : ``(N,)`` classes. Holds the standardised features ``(N, 3072)``
    (:func:`modscale_lib.composites.image_features`) and the pixels (for the noise test) on ``device``.
    """

    @core.validated(images=core.Check(_images), labels=core.Check(_labels), device=core.Check(_device))
    def __init__(self, images, labels, device="cpu"):
        self.labels = labels
        self.device = device
        self.features = torch.from_numpy(composites.image_features(images)).to(self.device)
        self.pixels = torch.from_numpy(images.reshape(len(images), -1)).to(self.device)
        channel = np.arange(composites.IMAGE_FEATURES) % 3
        self._mean = torch.tensor(np.array(composites.CIFAR_MEAN, np.float32)[channel], device=self.device)
        self._std = torch.tensor(np.array(composites.CIFAR_STD, np.float32)[channel], device=self.device)
        self._grey = self._standardise(torch.from_numpy(np.tile(_MEAN_GREY, 1024)).to(self.device))

    def _standardise(self, pixels: torch.Tensor) -> torch.Tensor:
        return (pixels.float() * np.float32(1 / 255) - self._mean) / self._std

    def batches(
        self, index, batch_size: int, *, order=None, noise_sigma: float = 0.0, noise_seed: int = 0, occlude=None
    ):
        """Yield ``(X (B, 3072 k) float32, labels (B, k) int64)`` on the device for composites ``index`` (n, k).

        order : a permutation of the composites (an epoch's shuffle). noise_sigma : Gaussian pixel noise of this
        standard deviation on the [0, 1] scale, rounded and clipped to 8 bits, from a generator seeded by
        ``noise_seed`` and the batch. occlude : ``(n,)`` slots, each filled with the mean colour.
        """
        index = torch.as_tensor(np.asarray(index), device=self.device)
        order = (
            torch.arange(len(index), device=self.device)
            if order is None
            else torch.as_tensor(np.asarray(order), device=self.device)
        )
        labels = torch.as_tensor(self.labels, device=self.device)[index]
        slots = None if occlude is None else torch.as_tensor(np.asarray(occlude), device=self.device)
        for b, start in enumerate(range(0, len(order), batch_size)):
            rows = order[start : start + batch_size]
            if noise_sigma > 0:
                g = torch.Generator(self.device).manual_seed(noise_seed * 1_000_003 + b)
                pixels = self.pixels[index[rows]].float()
                pixels += torch.randn(pixels.shape, generator=g, device=self.device) * np.float32(255 * noise_sigma)
                X = self._standardise(pixels.round_().clamp_(0, 255))
            else:
                X = self.features[index[rows]]
            if slots is not None:
                hit = slots[rows][:, None] == torch.arange(index.shape[1], device=self.device)[None]
                X = torch.where(hit[..., None], self._grey, X)
            yield X.reshape(len(rows), -1), labels[rows]


def _keep_freed_memory() -> None:
    """Keep freed blocks in the heap instead of returning them to the kernel (glibc only).

    Every training step frees and re-allocates gradients of the first layer (100 MB at k = 8, width 1024); with
    glibc's default threshold each is a fresh ``mmap`` whose pages the kernel zeroes, which took a third of the
    backward pass's CPU time on our machine. One process-wide setting; elsewhere a no-op.
    """
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL("libc.so.6")
            libc.mallopt(-3, 2**31 - 1)  # M_MMAP_THRESHOLD
            libc.mallopt(-1, 2**31 - 1)  # M_TRIM_THRESHOLD
        except (OSError, AttributeError):
            pass


@core.validated(
    table=core.Check(_table),
    index=core.Check(_index),
    models=core.Check(_networks),
    lrs=core.Check(_steps),
    batch_size=core.Whole(1, high=1 << 16),
    epochs=core.Whole(1, high=1000),
    seed=core.Seed(),
    after_epoch=core.OrNone(core.Check(_callable)),
    names=core.Check(_names),
)
def train_members(
    models,
    table: CompositeTable,
    index,
    *,
    lrs,
    batch_size: int,
    epochs: int = 1,
    seed: int = 0,
    after_epoch=None,
    names=None,
) -> np.ndarray:
    """Train independent networks, each with Adam and a step decaying linearly to zero, on one shared stream of
    minibatches of the composites ``index`` (n, k) of ``table``.

    lrs : each network's initial step (> 0). epochs : passes over the composites, each in the order of a
    permutation seeded by ``(seed, epoch)``. after_epoch : called as ``after_epoch(epoch, i, model)`` for each
    network after each epoch, in eval mode. names : for error messages.

    Returns each network's mean training loss in each epoch, ``(networks, epochs)``.

    Raises TrainingDivergedError naming the network whose loss became NaN or infinite.
    """
    n = len(index)
    total = epochs * math.ceil(n / batch_size)
    fused = table.device.type in ("cpu", "cuda")
    opts = [torch.optim.Adam(m.parameters(), lr=lr, fused=fused) for m, lr in zip(models, lrs)]
    losses = np.zeros((len(models), epochs))
    _keep_freed_memory()
    step = 0
    with single_thread():
        for epoch in range(epochs):
            for m in models:
                m.train()
            sums = torch.zeros(len(models), device=table.device)
            order = np.random.default_rng([seed, epoch]).permutation(n)
            for X, labels in table.batches(index, batch_size, order=order):
                decay = 1.0 - step / total
                for i, (model, opt) in enumerate(zip(models, opts)):
                    logits = model(X)[0]
                    loss = torch.nn.functional.cross_entropy(logits.reshape(-1, N_CLASSES), labels.reshape(-1))
                    opt.param_groups[0]["lr"] = lrs[i] * decay
                    opt.zero_grad(set_to_none=True)
                    loss.backward()
                    opt.step()
                    sums[i] += loss.detach()
                step += 1
            losses[:, epoch] = (sums / math.ceil(n / batch_size)).cpu().numpy()
            bad = np.flatnonzero(~np.isfinite(losses[:, epoch]))
            if bad.size:
                raise TrainingDivergedError(
                    f"{names[bad[0]]} (model {bad[0]} of models) has a non-finite training loss in epoch "
                    f"{epoch + 1} at lrs[{bad[0]}] = {lrs[bad[0]]:g}; lower that step"
                )
            if after_epoch is not None:
                for i, model in enumerate(models):
                    model.eval()
                    after_epoch(epoch, i, model)
    return losses


@core.validated(
    table=core.Check(_table),
    index=core.Check(_index),
    model=core.Check(_network),
    batch_size=core.Whole(1, high=1 << 16),
    noise_sigma=core.Real(0.0),
    noise_seed=_NOISE_SEED,
    occlude=core.Check(_occlude),
)
def accuracy(
    model,
    table: CompositeTable,
    index,
    *,
    batch_size: int = 500,
    noise_sigma: float = 0.0,
    noise_seed: int = 0,
    occlude=None,
) -> float:
    """The network's accuracy per image on composites ``index`` (n, k) of ``table`` (see
    :meth:`CompositeTable.batches` for the noise and the occlusion); with ``occlude``, over the other slots only."""
    hits = count = 0
    model.eval()
    with torch.no_grad(), single_thread():
        slots = None if occlude is None else torch.as_tensor(np.asarray(occlude), device=table.device)
        for b, (X, labels) in enumerate(
            table.batches(index, batch_size, noise_sigma=noise_sigma, noise_seed=noise_seed, occlude=occlude)
        ):
            pred = model(X)[0].reshape(len(X), -1, N_CLASSES).argmax(dim=-1)
            keep = torch.ones_like(labels, dtype=torch.bool)
            if slots is not None:
                rows = slots[b * batch_size : b * batch_size + len(X)]
                keep = rows[:, None] != torch.arange(labels.shape[1], device=table.device)[None]
            hits += int(((pred == labels) & keep).sum())
            count += int(keep.sum())
    if count == 0:
        raise ValueError("accuracy needs at least one counted position (index is empty, or k = 1 with occlude)")
    return hits / count
