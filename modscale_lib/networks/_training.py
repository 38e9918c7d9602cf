"""Fitting and evaluating batched ensembles: minibatches, early stopping, progress, divergence checks.

All ``E`` models of an ensemble train in lockstep on their own data: model ``e`` uses the first
``n_samples[e]`` rows of its training set and draws its minibatches from its own seeded stream of epoch
permutations, so its trajectory does not depend on the other models. Adam and SGD update every parameter
elementwise, and the summed loss gives each model exactly its own gradient.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Sequence

import numpy as np
import torch
from tqdm.auto import tqdm

from .. import core
from ._minibatches import (
    MAX_PERMUTATIONS_PER_BLOCK,
    DivergenceWatch,
    MinibatchStream,
    TrainingDivergedError,
    as_model_batch,
    check_hyper,
    check_model,
    class_labels,
    describe,
    layout,
    mean_losses,
)

__all__ = [
    "fit",
    "evaluate",
    "FitResult",
    "classification_loss",
    "fit_classifier",
    "classifier_accuracy",
]


@dataclasses.dataclass
class FitResult:
    """What :func:`fit` returns (numpy arrays over the ``E`` models).

    train_loss : final mean squared error on each model's own training samples, (E,).
    val_loss : best validation loss (``nan`` without validation data), (E,).
    best_step : the step whose weights were kept, (E,).
    history_steps : steps at which losses were recorded, (T,).
    history_train, history_val : minibatch-averaged training loss and validation loss there, (T, E).
    wall_time_s : seconds spent.
    """

    train_loss: np.ndarray
    val_loss: np.ndarray
    best_step: np.ndarray
    history_steps: np.ndarray
    history_train: np.ndarray
    history_val: np.ndarray
    wall_time_s: float


class _Gather:
    """Each model's minibatch rows, ``X[e, idx[e]]`` and ``y[e, idx[e]]`` for every model ``e``, as one
    ``index_select`` over rows (about 4x faster on a CPU than advanced indexing with two index tensors; a
    copy of the same rows, so the same values bit for bit). Shared data (an expanded view) is gathered
    from its one copy; per-model data through row offsets ``e * n``."""

    def __init__(self, X: torch.Tensor, y: torch.Tensor):
        E, n, m = X.shape
        self.shape = (E, m)
        self.X = X[0] if X.stride(0) == 0 else X.reshape(E * n, m)
        self.X_offsets = None if X.stride(0) == 0 else torch.arange(E, device=X.device)[:, None] * n
        self.y = y[0] if y.stride(0) == 0 else y.reshape(E * n)
        self.y_offsets = None if y.stride(0) == 0 else torch.arange(E, device=y.device)[:, None] * n

    def __call__(self, idx: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        (E, m), B = self.shape, idx.shape[1]
        rows = lambda offsets: (idx if offsets is None else idx + offsets).reshape(-1)
        return (
            self.X.index_select(0, rows(self.X_offsets)).view(E, B, m),
            self.y.index_select(0, rows(self.y_offsets)).view(E, B),
        )


def evaluate(model, X, y, n_samples=None, device=None) -> np.ndarray:
    """Mean squared error of each model on ``(X, y)`` (shared ``(n, m)`` or per model ``(E, n, m)``), (E,)."""
    check_model(model)
    device = next(model.parameters()).device if device is None else device
    X, y, n = layout(model, X, y, n_samples, device)
    model.eval()
    return mean_losses(model, X, y, n)


def _ensemble(value, name: str, arguments: dict):
    """The ``model`` rule: an ensemble from :mod:`modscale_lib.networks` (:func:`check_model`)."""
    check_model(value)
    return value


def _fraction_below_one(value, name: str, arguments: dict) -> float:
    """A real number in ``[0, 1)``."""
    value = core.real(value, name, low=0.0, high=1.0)
    if value >= 1.0:
        raise ValueError(f"{name} must lie in [0, 1), got {value!r}")
    return value


def _callable_or_none(value, name: str, arguments: dict):
    if value is not None and not callable(value):
        raise TypeError(f"{name} must be callable or None, got {type(value).__name__}")
    return value


def _check_data(model, X, y, n_samples, X_val, y_val, patience, seeds, model_configs, batch_size) -> tuple:
    """:func:`fit`'s data and the arguments checked against it, on the model's device: ``(X (E, n, m), y (E, n),
    n (E,), val, seeds)``, with ``val`` the validation data ``(X_val, y_val, n_val)`` laid out alike, or None."""
    if (X_val is None) != (y_val is None):
        raise ValueError("X_val and y_val must be given together")
    if patience is not None and X_val is None:
        raise ValueError("patience (early stopping) needs validation data X_val, y_val")
    device = next(model.parameters()).device
    E = model.n_models
    X, y, n = layout(model, X, y, n_samples, device)
    val = None if X_val is None else layout(model, X_val, y_val, None, device, name="X_val")
    seeds = list(getattr(model, "seeds", range(E))) if seeds is None else core.seeds(seeds, "seeds", length=E)
    if model_configs is not None and len(model_configs) != E:
        raise ValueError(f"model_configs must have one entry per model ({E}), got {len(model_configs)}")
    if batch_size is not None:
        core.check_size(E * 64 * batch_size, "batch_size (one block of 64 minibatches for every model)")
        if 64 * batch_size / int(n.min()) > MAX_PERMUTATIONS_PER_BLOCK:
            raise ValueError(
                f"batch_size = {batch_size} is more than {MAX_PERMUTATIONS_PER_BLOCK // 64} times the "
                f"smallest n_samples ({int(n.min())}): every step would repeat each sample that many "
                f"times; use a smaller batch_size, or batch_size=None for full-batch steps"
            )
    return X, y, n, val, seeds


def _optimizer(model, optimizer: str, lr: float, weight_decay: float, lr_decay: float | None, steps: int) -> tuple:
    """The optimizer over the model's trainable parameters, and its cosine schedule (None without ``lr_decay``)."""
    params = [p for p in model.parameters() if p.requires_grad]
    # foreach: one multi-tensor kernel per update op instead of a Python loop over parameters; the same
    # arithmetic, bit for bit (tests/test_training_speed.py), and torch's default only on CUDA
    opt = (
        torch.optim.Adam(params, lr=lr, weight_decay=weight_decay, foreach=True)
        if optimizer == "adam"
        else torch.optim.SGD(params, lr=lr, weight_decay=weight_decay, foreach=True)
    )
    if lr_decay is None:
        return opt, None
    return opt, torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=steps, eta_min=lr * lr_decay)


def _step_losses(forward, X: torch.Tensor, y: torch.Tensor, n: np.ndarray, batch_size: int | None, seeds):
    """A function that returns each model's mean squared error (E,), differentiable, for the next step: on its
    next minibatch (drawn from its own stream, 64 steps at a time), or with ``batch_size=None`` on all of its
    ``n[e]`` rows."""
    if batch_size is not None:
        gather = _Gather(X, y)
        indices = _minibatch_indices(MinibatchStream(n, batch_size, seeds), X.device)

        def minibatch_losses() -> torch.Tensor:
            xb, yb = gather(next(indices))
            return ((forward(xb) - yb) ** 2).mean(dim=1)

        return minibatch_losses
    n_t = torch.as_tensor(n, device=X.device, dtype=torch.float32)
    mask = (torch.arange(X.shape[1], device=X.device)[None, :] < n_t[:, None]).float()
    if int(n.min()) == X.shape[1]:
        mask = None  # every model uses every row: multiplying by a mask of ones changes no bit

    def full_batch_losses() -> torch.Tensor:
        err = (forward(X) - y) ** 2
        return (err if mask is None else err * mask).sum(dim=1) / n_t

    return full_batch_losses


def _minibatch_indices(stream: MinibatchStream, device):
    """Each step's minibatch rows, (E, batch_size), from blocks of 64 steps drawn as they are needed."""
    while True:
        yield from stream.next_block().to(device)


def _check_initial(initial: np.ndarray, model_configs) -> None:
    """Raise :class:`TrainingDivergedError` naming the first model whose loss before training (E,) is not finite."""
    if not np.all(np.isfinite(initial)):
        bad = int(np.flatnonzero(~np.isfinite(initial))[0])
        raise TrainingDivergedError(f"{describe(model_configs, bad)} has a non-finite loss before training")


def _check_divergence(train_now, initial, divergence_factor: float, model_configs, step: int, lr: float) -> None:
    """Raise :class:`TrainingDivergedError` naming the first model whose training loss (E,) is not finite or is
    more than ``divergence_factor`` times its initial loss."""
    bad = ~np.isfinite(train_now) | (train_now > divergence_factor * np.maximum(initial, 1e-12))
    if np.any(bad):
        e = int(np.flatnonzero(bad)[0])
        raise TrainingDivergedError(
            f"{describe(model_configs, e)} diverged at step {step}: training loss {train_now[e]:.3g} "
            f"(initial {initial[e]:.3g}); lower the step size lr={lr:g}"
        )


def _validation_losses(model, X_val, y_val, n_val) -> np.ndarray:
    """Each model's validation loss (E,), evaluated in eval mode; the model is left in training mode."""
    model.eval()
    losses = mean_losses(model, X_val, y_val, n_val)
    model.train()
    return losses


class _KeepBest:
    """Each model's best validation loss, the step it was reached at and (with ``patience``) its weights, and
    the count of evaluations since the last improvement by more than ``min_delta`` (see :func:`fit`)."""

    def __init__(self, model, patience: int | None, min_delta: float):
        E = model.n_models
        self.model, self.patience, self.min_delta = model, patience, min_delta
        self.best_val = np.full(E, np.inf)
        self.plateau_val = np.full(E, np.inf)  # the last loss that counted as an improvement (min_delta)
        self.best_step = np.zeros(E, dtype=np.int64)
        self.best_state = None
        self.stale = 0

    def update(self, step: int, val_now: np.ndarray) -> bool:
        """Record the validation losses (E,) at ``step``; True when the patience has run out."""
        improved = val_now < self.best_val
        if np.any(improved):
            self.best_val = np.where(improved, val_now, self.best_val)
            self.best_step = np.where(improved, step, self.best_step)
            if self.patience is not None:
                self._keep_weights(improved)
        significant = val_now < (1.0 - self.min_delta) * self.plateau_val
        self.plateau_val = np.where(significant, val_now, self.plateau_val)
        self.stale = 0 if np.any(significant) else self.stale + 1
        return self.patience is not None and self.stale >= self.patience

    def _keep_weights(self, improved: np.ndarray) -> None:
        """Copy the weights of the models that ``improved`` (E,) into the kept state."""
        state = self.model.state_dict()
        E = len(improved)
        mask = torch.as_tensor(improved, device=next(self.model.parameters()).device)
        if self.best_state is None:
            self.best_state = {k: v.detach().clone() for k, v in state.items()}
        for k, v in state.items():
            # per-model tensors lead with E, or with E*K for the modules of modular nets
            if v.dim() >= 1 and v.shape[0] % E == 0:
                m = mask.repeat_interleave(v.shape[0] // E)
                m = m.reshape(-1, *([1] * (v.dim() - 1)))
                self.best_state[k] = torch.where(m, v.detach(), self.best_state[k])

    def restore(self) -> None:
        """Load the kept weights (with ``patience``, once any model improved) into the model."""
        if self.best_state is not None:
            self.model.load_state_dict(self.best_state)


@core.validated(
    model=core.Check(_ensemble),
    optimizer=core.Choice(("adam", "sgd")),
    lr=core.Real(0.0, low_open=True),
    weight_decay=core.Real(0.0),
    lr_decay=core.OrNone(core.Real(0.0)),
    divergence_factor=core.Real(1.0, low_open=True),
    steps=core.Whole(1, high=10**8),
    eval_every=core.Whole(1),
    batch_size=core.OrNone(core.Whole(1)),
    patience=core.OrNone(core.Whole(1)),
    min_delta=core.Check(_fraction_below_one),
    progress=core.Boolean(),
    compile=core.Boolean(),
    callback=core.Check(_callable_or_none),
)
def fit(
    model,
    X,
    y,
    *,
    n_samples=None,
    X_val=None,
    y_val=None,
    optimizer: str = "adam",
    lr: float = 1e-3,
    steps: int = 2000,
    batch_size: int | None = 256,
    weight_decay: float = 0.0,
    patience: int | None = None,
    eval_every: int = 100,
    lr_decay: float | None = None,
    seeds: Sequence[int] | None = None,
    model_configs: Sequence[dict] | None = None,
    divergence_factor: float = 1e4,
    progress: bool = True,
    desc: str = "training",
    callback=None,
    compile: bool = False,
    min_delta: float = 0.0,
) -> FitResult:
    """Train every model of a batched ensemble on the mean squared error.

    Parameters
    ----------
    model : an ensemble from :mod:`modscale_lib.networks` (has ``n_models`` and ``input_dim``).
    X, y : training data, shared ``(n, m)``/``(n,)`` or per model ``(E, n, m)``/``(E, n)``.
    n_samples : ``(E,)`` — model ``e`` trains on the first ``n_samples[e]`` rows (default: all).
    X_val, y_val : validation data (shared or per model); with ``patience`` enables early stopping.
    optimizer : ``"adam"`` or ``"sgd"``. lr : step size. weight_decay : L2 coefficient.
    steps : optimisation steps. batch_size : minibatch size, or ``None`` for full-batch gradient descent.
    patience : stop (and keep each model's best-validation weights) after this many evaluations without
        improvement for every model; ``None`` keeps the last weights.
    min_delta : stop on a plateau: with ``patience``, an evaluation counts as an improvement (resetting the
        patience) only where a model's validation loss falls below ``(1 - min_delta)`` times the last loss
        that so counted, in ``[0, 1)``; 0 (default) counts every decrease. The weights kept are still each
        model's best, whatever ``min_delta``.
    eval_every : steps between validation checks, history records and divergence checks.
    lr_decay : if given, the step size decays by cosine annealing to ``lr * lr_decay`` at the last step.
    seeds : one per model for the minibatch streams (default: the model's own seeds or ``0..E-1``).
    model_configs : one dict per model, quoted in error messages.
    divergence_factor : a model whose loss exceeds this many times its initial loss has diverged.
    callback : called as ``callback(step, model)`` at step 0 and at every evaluation (e.g. to record
        projections while they train).
    compile : opt-in: the training steps run the model through ``torch.compile`` (evaluations stay eager).
        Fused kernels round differently, so results are not bit for bit those of the default; the compile
        time (seconds) is paid once per call (see ``benchmarks/README.md`` for when it pays off).

    Raises
    ------
    TrainingDivergedError : naming the model (and its config) whose loss became NaN, infinite or diverged.
    """
    X, y, n, val, seeds = _check_data(model, X, y, n_samples, X_val, y_val, patience, seeds, model_configs, batch_size)
    E, device = model.n_models, X.device
    forward = torch.compile(model) if compile else model
    opt, sched = _optimizer(model, optimizer, lr, weight_decay, lr_decay, steps)
    step_losses = _step_losses(forward, X, y, n, batch_size, seeds)
    keep = _KeepBest(model, patience, min_delta)
    hist_steps, hist_train, hist_val = [], [], []

    model.train()
    initial = mean_losses(model, X, y, n)
    if callback is not None:
        callback(0, model)
    _check_initial(initial, model_configs)
    running, running_count = torch.zeros(E, device=device), 0
    start_time = time.perf_counter()
    bar = tqdm(total=steps, desc=desc, disable=not progress, leave=False, mininterval=1.0)
    for step in range(1, steps + 1):
        per_model = step_losses()
        opt.zero_grad(set_to_none=True)
        per_model.sum().backward()
        opt.step()
        if sched is not None:
            sched.step()
        running += per_model.detach()
        running_count += 1
        if step % eval_every != 0 and step != steps:
            continue
        # every eval_every steps: check for divergence, record the history, keep each model's best weights
        train_now = (running / running_count).cpu().numpy()
        running.zero_()
        running_count = 0
        _check_divergence(train_now, initial, divergence_factor, model_configs, step, lr)
        hist_steps.append(step)
        hist_train.append(train_now)
        if callback is not None:
            callback(step, model)
        stop = False
        if val is not None:
            hist_val.append(_validation_losses(model, *val))
            stop = keep.update(step, hist_val[-1])
        else:
            keep.best_step[:] = step
        bar.update(step - bar.n)
        if stop:
            break
    bar.close()
    keep.restore()
    model.eval()
    return FitResult(
        train_loss=mean_losses(model, X, y, n),
        val_loss=keep.best_val if val is not None else np.full(E, np.nan),
        best_step=keep.best_step,
        history_steps=np.array(hist_steps),
        history_train=np.array(hist_train),
        history_val=np.array(hist_val) if val is not None else np.full((len(hist_steps), E), np.nan),
        wall_time_s=time.perf_counter() - start_time,
    )


# ---------------------------------------------------------------------------------------------------------
# Classification (Compositional CIFAR-10): k positions, each a C-way softmax over its block of logits
# ---------------------------------------------------------------------------------------------------------
def classification_loss(logits: torch.Tensor, labels: torch.Tensor, n_classes: int) -> torch.Tensor:
    """Each model's cross-entropy, averaged over samples and positions.

    logits : (E, B, k * n_classes), position ``j``'s logits in columns ``j*C .. j*C + C - 1``.
    labels : (B, k) integer classes. Returns (E,).
    """
    if not torch.is_tensor(logits) or logits.dim() != 3:
        raise ValueError(f"logits must be a (E, B, k * n_classes) tensor, got {getattr(logits, 'shape', logits)!r}")
    n_classes = core.whole(n_classes, "n_classes", low=1)
    E, B, width = logits.shape
    labels = class_labels(labels, n_classes, B).to(logits.device)
    k = labels.shape[1]
    if width != k * n_classes:
        raise ValueError(
            f"labels have k = {k} positions, so logits must have k * n_classes = {k * n_classes} columns, got {width}"
        )
    logp = torch.log_softmax(logits.reshape(E, B, k, n_classes), dim=-1)
    picked = logp.gather(-1, labels[None, :, :, None].expand(E, B, k, 1))
    return -picked.mean(dim=(1, 2, 3))


def _check_classifier_args(
    model,
    batches,
    epochs,
    n_classes,
    lr,
    weight_decay,
    after_epoch,
    model_configs,
    progress,
    divergence_factor,
    max_rising,
) -> tuple:
    """:func:`fit_classifier`'s arguments, validated: ``(epochs, n_classes, lr, weight_decay, divergence_factor,
    max_rising, progress)``."""
    check_model(model)
    epochs = core.whole(epochs, "epochs", low=1, high=10**6)
    n_classes = core.whole(n_classes, "n_classes", low=1)
    lr, weight_decay, _, divergence_factor = check_hyper(lr, weight_decay, None, divergence_factor)
    max_rising = core.whole(max_rising, "max_rising", low=1)
    progress = core.boolean(progress, "progress")
    if not callable(batches):
        raise TypeError(
            f"batches must be a function of the epoch returning an iterable of (X, labels), got "
            f"{type(batches).__name__}"
        )
    if after_epoch is not None and not callable(after_epoch):
        raise TypeError(f"after_epoch must be callable or None, got {type(after_epoch).__name__}")
    if model_configs is not None and len(model_configs) != model.n_models:
        raise ValueError(f"model_configs must have one entry per model ({model.n_models}), got {len(model_configs)}")
    return epochs, n_classes, lr, weight_decay, divergence_factor, max_rising, progress


def _check_epoch_losses(losses: torch.Tensor, watch, model_configs, epoch: int, lr: float) -> None:
    """Raise :class:`TrainingDivergedError` naming the first model whose batch loss (E,) is not finite, or whose
    running loss ``watch`` finds diverged."""
    if not torch.all(torch.isfinite(losses)):
        bad = int(torch.nonzero(~torch.isfinite(losses))[0])
        raise TrainingDivergedError(f"{describe(model_configs, bad)} has a non-finite loss in epoch {epoch + 1}")
    bad, why = watch.update(losses.detach().cpu().numpy())
    if bad is not None:
        raise TrainingDivergedError(
            f"{describe(model_configs, bad)} diverged in epoch {epoch + 1}: {why}; lower the step size lr={lr:g}"
        )


def fit_classifier(
    model,
    batches,
    *,
    epochs: int = 1,
    n_classes: int = 10,
    lr: float = 1e-3,
    weight_decay: float = 0.0,
    after_epoch=None,
    model_configs: Sequence[dict] | None = None,
    progress: bool = True,
    desc: str = "training",
    divergence_factor: float = 100.0,
    max_rising: int = 20,
) -> np.ndarray:
    """Train every model of an ensemble on its cross-entropy averaged over positions, with Adam at a fixed step.

    Parameters
    ----------
    model : an ensemble with ``n_outputs = k * n_classes``.
    batches : ``batches(epoch)`` returns an iterable of ``(X (B, input_dim) float32, labels (B, k) int64)``
        tensors, shared by all models; one pass over it is one epoch.
    epochs : passes over the data. after_epoch : called as ``after_epoch(epoch, model)`` after each one
        (e.g. to measure test accuracy), so a one-epoch and a multi-epoch result come from the same run.
    lr, weight_decay : Adam's step size (> 0) and L2 coefficient (>= 0).
    divergence_factor : a model whose loss (averaged over 10 batches) exceeds this many times its first
        batch's loss has diverged (> 1).
    max_rising : a model whose 10-batch loss average rises this many times in a row, to above twice its best,
        has diverged.

    Returns
    -------
    The training loss of each model averaged over the last epoch, (E,).

    Raises
    ------
    TrainingDivergedError : naming the model whose loss became NaN or infinite, or diverged (above).
    ValueError : when an epoch's ``batches`` yields nothing, or labels are out of range.
    """
    epochs, n_classes, lr, weight_decay, divergence_factor, max_rising, progress = _check_classifier_args(
        model,
        batches,
        epochs,
        n_classes,
        lr,
        weight_decay,
        after_epoch,
        model_configs,
        progress,
        divergence_factor,
        max_rising,
    )
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.Adam(params, lr=lr, weight_decay=weight_decay)
    device = next(model.parameters()).device
    last = np.zeros(model.n_models)
    watch = DivergenceWatch(model.n_models, divergence_factor, max_rising)
    for epoch in range(epochs):
        model.train()
        total, count = torch.zeros(model.n_models, device=device), 0
        for X, labels in tqdm(batches(epoch), desc=f"{desc}, epoch {epoch + 1}", disable=not progress, leave=False):
            X = as_model_batch(X, "X", device)
            losses = classification_loss(model(X), class_labels(labels, n_classes, X.shape[0]).to(device), n_classes)
            _check_epoch_losses(losses, watch, model_configs, epoch, lr)
            opt.zero_grad(set_to_none=True)
            losses.sum().backward()
            opt.step()
            total += losses.detach()
            count += 1
        if count == 0:
            raise ValueError(f"batches({epoch}) yielded no batch: an epoch needs at least one (X, labels) batch")
        last = (total / count).cpu().numpy()
        if after_epoch is not None:
            model.eval()
            after_epoch(epoch, model)
    return last


def classifier_accuracy(model, batches, n_classes: int = 10) -> np.ndarray:
    """Each model's accuracy at each position over ``batches`` (an iterable of ``(X, labels)``), (E, k)."""
    check_model(model)
    n_classes = core.whole(n_classes, "n_classes", low=1)
    device = next(model.parameters()).device
    correct, count = None, 0
    model.eval()
    with torch.no_grad():
        for X, labels in batches:
            logits = model(as_model_batch(X, "X", device))
            E, B, width = logits.shape
            if width % n_classes:
                raise ValueError(f"the model's {width} outputs are not a multiple of n_classes = {n_classes}")
            labels = class_labels(labels, n_classes, B)
            if labels.shape[1] * n_classes != width:
                raise ValueError(f"labels have {labels.shape[1]} positions but the model has {width // n_classes}")
            pred = logits.reshape(E, B, width // n_classes, n_classes).argmax(dim=-1)
            hits = (pred == labels.to(device)[None]).sum(dim=1)
            correct = hits if correct is None else correct + hits
            count += B
    if count == 0:
        raise ValueError("batches is empty")
    return (correct.double() / count).cpu().numpy()
