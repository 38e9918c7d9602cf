"""The data side of training batched ensembles: tensors, layouts, minibatch streams, argument checks and the
divergence watch, shared by the training loop (``_training``); the package exports the public names."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from .. import core
from ..core import torch_generator

__all__ = ["TrainingDivergedError", "as_model_batch"]


class TrainingDivergedError(FloatingPointError):
    """A model's loss became NaN, infinite, or grew past the divergence threshold."""


def as_model_batch(a, name: str, device) -> torch.Tensor:
    """Data as a float32 tensor on ``device``, checked for NaN and infinities (``name`` is for the error)."""
    if not torch.is_tensor(a):
        a = core.array(a, name, dtype=np.float32, finite=False)
    elif a.dtype == torch.bool or a.is_complex():
        raise TypeError(f"{name} must be a real-valued tensor, got dtype {a.dtype}")
    t = torch.as_tensor(a, dtype=torch.float32)
    t = t.to(device)
    if not torch.all(torch.isfinite(t)):
        raise ValueError(f"{name} contains NaN or infinite values")
    return t


def layout(model, X, y, n_samples, device, name="X"):
    E = model.n_models
    X = as_model_batch(X, name, device)
    y = as_model_batch(y, "y" if name == "X" else name.replace("X", "y"), device)
    if X.dim() == 2:
        X = X.expand(E, *X.shape)
    if y.dim() == 1:
        y = y.expand(E, *y.shape)
    if X.dim() != 3 or X.shape[0] != E or X.shape[2] != model.input_dim:
        raise ValueError(
            f"{name} must have shape (n, {model.input_dim}) or ({E}, n, {model.input_dim}), got {tuple(X.shape)}"
        )
    if tuple(y.shape) != tuple(X.shape[:2]):
        raise ValueError(
            f"y must match {name}: expected shape {tuple(X.shape[1:2])} or {tuple(X.shape[:2])}, got {tuple(y.shape)}"
        )
    n_max = X.shape[1]
    if n_max < 1:
        raise ValueError(f"{name} must hold at least one sample, got shape {tuple(X.shape)}")
    n = np.full(E, n_max) if n_samples is None else core.whole_array(n_samples, "n_samples").reshape(-1)
    if n.shape != (E,) or n.min() < 1 or n.max() > n_max:
        raise ValueError(f"n_samples must hold {E} whole numbers in 1..{n_max}, got {n_samples!r}"[:300])
    return X, y, n


class MinibatchStream:
    """Per-model minibatch indices from that model's own seeded epoch permutations of ``range(n_e)``."""

    def __init__(self, n: np.ndarray, batch_size: int, seeds: Sequence[int], block: int = 64):
        self.n, self.batch_size, self.block = n, batch_size, block
        self.generators = [torch_generator(s, 104729) for s in seeds]
        self.pending = [torch.empty(0, dtype=torch.long) for _ in n]

    def next_block(self) -> torch.Tensor:
        """Indices for the next ``block`` steps: (block, E, batch_size)."""
        need = self.block * self.batch_size
        rows = []
        for e, n_e in enumerate(self.n):
            buf = self.pending[e]
            while buf.numel() < need:
                buf = torch.cat([buf, torch.randperm(int(n_e), generator=self.generators[e])])
            rows.append(buf[:need])
            self.pending[e] = buf[need:]
        return torch.stack(rows).reshape(len(self.n), self.block, self.batch_size).transpose(0, 1)


def mean_losses(model, X, y, n, chunk: int = 8192) -> np.ndarray:
    """Each model's mean squared error over its first ``n[e]`` rows, (E,)."""
    E, n_max = X.shape[:2]
    total = torch.zeros(E, device=X.device, dtype=torch.float64)
    n_t = torch.as_tensor(n, device=X.device)
    with torch.no_grad():
        for start in range(0, n_max, chunk):
            stop = min(n_max, start + chunk)
            err = (model(X[:, start:stop]) - y[:, start:stop]) ** 2
            mask = torch.arange(start, stop, device=X.device)[None, :] < n_t[:, None]
            total += (err * mask).sum(dim=1, dtype=torch.float64)
    return (total / n_t).cpu().numpy()


def check_model(model) -> None:
    if not isinstance(model, torch.nn.Module) or not hasattr(model, "n_models"):
        raise TypeError(
            f"model must be an ensemble from modscale_lib.networks (a torch module with n_models), "
            f"got {type(model).__name__}"
        )


#: Most indices one block of minibatches may hold per model, relative to its samples: ``batch_size`` far above
#: ``n_samples`` would mean thousands of passes over the data per step (use ``batch_size=None`` instead).
MAX_PERMUTATIONS_PER_BLOCK = 10**6


def check_hyper(lr, weight_decay, lr_decay, divergence_factor) -> tuple[float, float, float | None, float]:
    lr = core.real(lr, "lr", low=0.0, low_open=True)
    weight_decay = core.real(weight_decay, "weight_decay", low=0.0)
    if lr_decay is not None:
        lr_decay = core.real(lr_decay, "lr_decay", low=0.0)
    divergence_factor = core.real(divergence_factor, "divergence_factor", low=1.0, low_open=True)
    return lr, weight_decay, lr_decay, divergence_factor


def describe(configs, e: int) -> str:
    if configs is None:
        return f"model {e}"
    return f"model {e} ({configs[e]})"


def class_labels(labels, n_classes: int, n_rows: int) -> torch.Tensor:
    """Class labels as a (B, k) int64 tensor, checked to be whole numbers in ``0..n_classes-1``, B = n_rows."""
    if not torch.is_tensor(labels):
        labels = torch.as_tensor(core.whole_array(labels, "labels"))
    if labels.dtype.is_floating_point or labels.dtype == torch.bool or labels.is_complex():
        raise TypeError(f"labels must be an integer tensor of classes, got dtype {labels.dtype}")
    if labels.dim() != 2 or labels.shape[0] != n_rows:
        raise ValueError(f"labels must have shape ({n_rows}, k), one row per input, got {tuple(labels.shape)}")
    if labels.numel() and (int(labels.min()) < 0 or int(labels.max()) >= n_classes):
        raise ValueError(
            f"labels must be classes in 0..{n_classes - 1}, got values in {int(labels.min())}..{int(labels.max())}"
        )
    return labels.long()


class DivergenceWatch:
    """Flags a model whose classification loss diverges: far above its first value, or rising for long.

    Losses are averaged over windows of ``window`` batches; a model diverges when a window's mean exceeds
    ``factor`` times its first batch's loss, or when the window mean has risen ``max_rising`` times in a row
    and stands above twice the best window mean so far (a plateau's noise cannot do both).
    """

    def __init__(self, n_models: int, factor: float, max_rising: int, window: int = 10):
        self.factor, self.max_rising, self.window = factor, max_rising, window
        self.first = None
        self.sum, self.count = np.zeros(n_models), 0
        self.previous = np.full(n_models, np.inf)
        self.best = np.full(n_models, np.inf)
        self.rising = np.zeros(n_models, dtype=np.int64)

    def update(self, losses: np.ndarray) -> tuple[int | None, str]:
        if self.first is None:
            self.first = np.maximum(losses.astype(np.float64), 1e-12)
        self.sum += losses
        self.count += 1
        if self.count < self.window:
            return None, ""
        mean = self.sum / self.count
        self.sum[:], self.count = 0.0, 0
        self.rising = np.where(mean > self.previous, self.rising + 1, 0)
        self.previous, self.best = mean, np.minimum(self.best, mean)
        high = mean > self.factor * self.first
        climbing = (self.rising >= self.max_rising) & (mean > 2 * self.best)
        if np.any(high):
            e = int(np.flatnonzero(high)[0])
            return e, (
                f"loss {mean[e]:.3g} is more than divergence_factor = {self.factor:g} times its first "
                f"value {self.first[e]:.3g}"
            )
        if np.any(climbing):
            e = int(np.flatnonzero(climbing)[0])
            return e, (
                f"loss rose for {self.rising[e]} consecutive windows of {self.window} batches, to "
                f"{mean[e]:.3g} (best {self.best[e]:.3g})"
            )
        return None, ""
