"""Experiments of the chapter *Compositional CIFAR-10*: ``k`` images side by side, four methods, in and out of
distribution, with diagnostics of the modules' projections; and a small study of what limits the monolithic
network at ``k = 1``.

``compositional_accuracy`` is a resumable sweep with one stored cell per ``(k, seed)``. Each cell draws its own
training composites and its own test composites (seeded by ``k`` and the seed), finds the rule's projections
from the same random start the "modular, random" network uses, trains every method for ``epochs`` passes
over the ``n_train`` composites at a fixed Adam step, and measures accuracy per image after every epoch on:

* ``seen``: seen class combinations (in distribution);
* ``unseen``: held-out combinations (the combinatorial out-of-distribution test), ``k >= 2`` only;
* ``noise``: the ``seen`` test composites with Gaussian pixel noise of standard deviation ``noise_sigma``;
* ``occluded``: the ``seen`` test composites with one image slot (chosen at random per composite) replaced by
  the mean colour; accuracy over the other ``k - 1`` slots, ``k >= 2`` only. A network whose every output
  reads every slot is disturbed by it; a module that reads one slot is not.
"""
from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import torch

from .. import data, methods, module_diagnostics
from ..composites import CIFAR_MEAN
from ..learning_rule import find_module_projections
from ..networks import MLPEnsemble, ModularEnsemble, default_device, random_projections
from ..results import experiment
from ..training import fit_classifier
from .common import check_fields, one_of, optional_whole, real, reals, some_of, whole, wholes

__all__ = ["CompositionalCifarConfig", "compositional_accuracy", "composite_batches", "build_model", "METHODS",
           "TESTS", "DIAGNOSTICS", "CompositionalLimitsConfig", "compositional_limits"]

CHAPTER = "compositional_cifar"
# The spectral and grouped variants need one target column and Gaussian inputs: not for one-hot labels of pixels.
RULE_VARIANTS = ("paper", "deflation", "backfit")
METHODS = (methods.MONOLITHIC, methods.RANDOM) + tuple(methods.rule(v) for v in RULE_VARIANTS)
TESTS = ("seen", "unseen", "noise", "occluded")
#: per modular method: mean movement by the rule (from its random start), by training, mean and largest
#: pairwise overlap of modules and mean locality, before training (start) and after (end).
DIAGNOSTICS = ("moved_by_rule", "moved_by_training", "overlap_start", "overlap_end", "overlap_end_max",
               "local_start", "local_end")
#: Named configs of the limits study at k = 1 (plain CIFAR-10, monolithic network only), each changing one
#: factor of the ``cpu`` setting (whose k = 1 cell is the base), and the ceiling: width and data together, trained
#: for several epochs.
LIMITS = ("limits_width", "limits_lr", "limits_batch", "limits_data", "limits_ceiling")
_MEAN_COLOUR = np.rint(np.array(CIFAR_MEAN) * 255).astype(np.uint8)


@dataclass(frozen=True)
class CompositionalCifarConfig:
    """Accuracy of the methods on Compositional CIFAR-10 for each number of images ``k`` in ``n_images_grid``
    (``k`` is the paper's symbol for images per composite; the book's ``K``, ``n_modules``, counts modules).

    Networks, for ``k`` images (``D = 3072 k`` inputs, ``10 k`` outputs, ``M = modules_per_position * k``
    modules of dimension ``b = module_dim``):

    * monolithic: an MLP ``D -> M b -> M b -> 10 k`` (its first layer has the size of the modular
      network's projections);
    * modular: ``M`` modules, each ``U_j^T x`` (``b`` numbers) ``-> module_width -> 10 k``, logits summed
      and divided by ``sqrt(M)``; projections random orthonormal ("modular, random") or found by a variant of
      the learning rule ("modular, <variant> rule"), started from those same random projections, on the first
      ``rule_samples`` training composites with the centred one-hot labels of all ``k`` positions as a joint
      ``10 k``-column target, kernel normalised because pixels are not white, ``rule_steps`` Adam steps per
      search on minibatches of ``rule_batch`` (``backfit``: ``rule_refine`` backfitting rounds).

    The modular networks of one cell share everything but their projections (their module weights start
    alike), so the rule's effect is measured paired. Each seed has its own training and test composites.
    """

    n_images_grid: tuple = (1, 2, 4, 8)
    methods: tuple = (methods.MONOLITHIC, methods.RANDOM, methods.rule("paper"), methods.rule("backfit"))
    seeds: tuple = (0, 1, 2, 3, 4)
    n_train: int = 10000
    epochs: int = 1
    batch_size: int = 64
    lr: float = 1e-3
    modules_per_position: int = 1
    module_dim: int = 32
    module_width: int = 64
    rule_samples: int = 1024
    rule_steps: int = 25
    rule_batch: int = 128
    rule_refine: int = 1
    n_test: int = 1000
    noise_sigma: float = 0.2
    holdout_mod: int = 5
    copy: str = "jpeg"
    train_images: int | None = None
    test_images: int | None = None

    @classmethod
    def cpu(cls) -> "CompositionalCifarConfig":
        return cls()

    @classmethod
    def cpu_more_images(cls) -> "CompositionalCifarConfig":
        """``cpu`` at the other numbers of images, k = 3, 5, 6, 7 (``merge_k`` joins it with ``cpu``)."""
        return cls(n_images_grid=(3, 5, 6, 7))

    @classmethod
    def cpu_epochs(cls) -> "CompositionalCifarConfig":
        """Training longer (the reviewers' question 7): ``cpu`` at k = 2 and 4, three methods, eight epochs
        (accuracy is recorded after every epoch, so the first epoch repeats ``cpu``'s protocol)."""
        return cls(n_images_grid=(2, 4), methods=(methods.MONOLITHIC, methods.RANDOM, methods.rule("backfit")),
                   epochs=8)

    @classmethod
    def full(cls) -> "CompositionalCifarConfig":
        """The paper's scale, for a GPU: every k from 1 to 8, 50000 composites per epoch, ``M = 5k`` modules of
        ``b = 16``, five epochs, 300 search steps, 10000 test composites, five seeds. Not run. It is resumable, so
        it runs in chunks: ``python -m modscale_lib compute compositional_accuracy --config full --budget-s 540``,
        repeated until it reports the result stored."""
        return cls(n_images_grid=(1, 2, 3, 4, 5, 6, 7, 8), n_train=50000, epochs=5, modules_per_position=5,
                   module_dim=16, rule_samples=4096, rule_steps=300, rule_batch=512, rule_refine=2, n_test=10000)

    @classmethod
    def lossless_check(cls) -> "CompositionalCifarConfig":
        """One point (``k = 2``, paper rule left out) trained on the first 4000 training images with their
        exact pixels."""
        return cls(n_images_grid=(2,), methods=(methods.MONOLITHIC, methods.RANDOM), copy="lossless",
                   train_images=4000, n_train=8000)

    @classmethod
    def jpeg_check(cls) -> "CompositionalCifarConfig":
        """The same point from the JPEG copy of the same 4000 training images, tested on all 10000 JPEG test
        images (the exact subset holds the first 1000; the JPEG test set is class-major, so a prefix of it
        would hold one class)."""
        return cls(n_images_grid=(2,), methods=(methods.MONOLITHIC, methods.RANDOM), copy="jpeg",
                   train_images=4000, n_train=8000)

    @classmethod
    def _limits(cls, **changes) -> "CompositionalCifarConfig":
        return cls(**{"n_images_grid": (1,), "methods": (methods.MONOLITHIC,), "n_test": 5000, **changes})

    @classmethod
    def limits_width(cls) -> "CompositionalCifarConfig":
        """k = 1, monolithic only: hidden width 256 instead of 32 (``module_dim`` sets it at k = 1)."""
        return cls._limits(module_dim=256)

    @classmethod
    def limits_lr(cls) -> "CompositionalCifarConfig":
        """k = 1, monolithic only: Adam step 3e-3 instead of 1e-3."""
        return cls._limits(lr=3e-3)

    @classmethod
    def limits_batch(cls) -> "CompositionalCifarConfig":
        """k = 1, monolithic only: minibatch 32 instead of 64 (twice the steps in the epoch)."""
        return cls._limits(batch_size=32)

    @classmethod
    def limits_data(cls) -> "CompositionalCifarConfig":
        """k = 1, monolithic only: 50000 images per epoch instead of 10000."""
        return cls._limits(n_train=50000)

    @classmethod
    def limits_ceiling(cls) -> "CompositionalCifarConfig":
        """k = 1, monolithic only: width 256 and 50000 images per epoch together, for 5 epochs, 3 seeds."""
        return cls._limits(module_dim=256, n_train=50000, epochs=5, seeds=(0, 1, 2))

    @classmethod
    def tiny(cls) -> "CompositionalCifarConfig":
        return cls(n_images_grid=(1, 2), seeds=(0,), n_train=64, epochs=1, batch_size=32, module_dim=2,
                   module_width=4, rule_samples=32, rule_steps=2, rule_batch=16, n_test=40)

    def __post_init__(self):
        check_fields(self, n_images_grid=wholes(1, data.MAX_POSITIONS), methods=some_of(METHODS), seeds=wholes(0),
                     n_train=whole(1, 10 ** 7), epochs=whole(1, 1000), batch_size=whole(1, 10 ** 5),
                     lr=real(0, low_open=True), modules_per_position=whole(1, 64), module_dim=whole(1, 3072),
                     module_width=whole(1, 65536), rule_samples=whole(2, 10 ** 6), rule_steps=whole(1, 10 ** 6),
                     rule_batch=whole(2, 10 ** 6), rule_refine=whole(0, 100), n_test=whole(1, 10 ** 6),
                     noise_sigma=real(0, 10), holdout_mod=whole(2, 100),
                     copy=one_of(("auto", "official", "jpeg", "lossless")),
                     train_images=optional_whole(10), test_images=optional_whole(10))
        if self.test_images is not None and self.copy in ("jpeg", "auto"):
            raise ValueError("test_images must be None with the JPEG copy (copy 'jpeg' or 'auto'): its test set "
                             "is in class-major order, so a prefix would hold only the first classes")


def composite_batches(x: np.ndarray, index: np.ndarray, labels: np.ndarray, batch_size: int, *,
                      order=None, noise_sigma: float = 0.0, noise_seed: int = 0, occlude=None):
    """Yield ``(features (B, 3072 k) float32 tensor, labels (B, k) int64 tensor)`` for composites ``index``.

    Composites are assembled batch by batch (``data.assemble``), so no array of all composite images is held.
    ``order`` permutes the composites (an epoch's shuffle). With ``noise_sigma > 0`` each batch gets Gaussian
    pixel noise, seeded per batch so the noisy test set is the same every time it is read. ``occlude``, an
    ``(n,)`` array of slots, fills that slot of each composite with the mean colour.
    """
    order = np.arange(len(index)) if order is None else order
    for b, start in enumerate(range(0, len(order), batch_size)):
        rows = order[start:start + batch_size]
        images = data.assemble(x, index[rows])
        if noise_sigma > 0:
            images = data.add_pixel_noise(images, noise_sigma, seed=noise_seed * 100003 + b)
        if occlude is not None:
            width = images.shape[2] // index.shape[1]
            for r, slot in enumerate(np.asarray(occlude)[rows]):
                images[r, :, slot * width:(slot + 1) * width] = _MEAN_COLOUR
        yield torch.from_numpy(data.to_features(images)), torch.from_numpy(labels[rows])


def build_model(method: str, k: int, cfg: CompositionalCifarConfig, seeds: list[int], projections=None):
    """The ensemble (one model per entry of ``seeds``) for ``method`` with ``k`` images; a modular ensemble
    takes ``projections`` (E, M, 3072 k, b) (None: random)."""
    D, n_out = 3072 * k, 10 * k
    M = cfg.modules_per_position * k
    if method == methods.MONOLITHIC:
        return MLPEnsemble(len(seeds), D, M * cfg.module_dim, depth=2, seeds=seeds, n_outputs=n_out)
    return ModularEnsemble(len(seeds), D, M, cfg.module_dim, width=cfg.module_width, projections=projections,
                           seeds=seeds, n_outputs=n_out)


def masked_accuracy(model, batches, mask=None) -> np.ndarray:
    """Each model's accuracy per image over ``batches``, counting only positions where ``mask`` (n, k) is true."""
    device = next(model.parameters()).device
    hits, count, seen = None, 0.0, 0
    model.eval()
    with torch.no_grad():
        for X, labels in batches:
            logits = model(X.to(device))
            E, B, width = logits.shape
            pred = logits.reshape(E, B, width // 10, 10).argmax(dim=-1).cpu()
            keep = torch.ones_like(labels, dtype=torch.bool) if mask is None else torch.from_numpy(mask[seen:seen + B])
            h = ((pred == labels[None]) & keep[None]).sum(dim=(1, 2)).double()
            hits, count, seen = (h if hits is None else hits + h), count + float(keep.sum()), seen + B
    model.train()
    return (hits / count).numpy()


def _rule(variant, X, onehot, start, k, cfg, seed):
    return find_module_projections(X, onehot, cfg.modules_per_position * k, cfg.module_dim, variant=variant,
                                   steps=cfg.rule_steps, batch_size=min(cfg.rule_batch, len(X)),
                                   refine_passes=cfg.rule_refine, init=start, normalise_kernel=True, seed=seed)


def _cell(cfg: CompositionalCifarConfig, k: int, seed: int, arrays) -> dict:
    """One ``(k, seed)`` cell: its own data draw, every method trained, tested and (modular) diagnosed."""
    x_train, y_train, x_test, y_test = arrays
    split = "seen" if k >= 2 else None
    tr_index, tr_labels = data.compositional_indices(y_train, k, cfg.n_train, seed=[1000 + k, seed], combos=split,
                                                     holdout_mod=cfg.holdout_mod)
    tests = {"seen": data.compositional_indices(y_test, k, cfg.n_test, seed=[2000 + k, seed], combos=split,
                                                holdout_mod=cfg.holdout_mod)}
    if k >= 2:
        tests["unseen"] = data.compositional_indices(y_test, k, cfg.n_test, seed=[3000 + k, seed], combos="unseen",
                                                     holdout_mod=cfg.holdout_mod)
    slots = np.random.default_rng([4000 + k, seed]).integers(0, k, cfg.n_test)
    others = np.arange(k)[None, :] != slots[:, None]
    E, T = len(cfg.methods), cfg.epochs
    acc = {name: np.full((E, T), np.nan) for name in TESTS}
    wall, rule_wall = np.zeros(E), np.full(E, np.nan)
    diag = {name: np.full(E, np.nan) for name in DIAGNOSTICS}
    n_params = np.zeros(E, dtype=np.int64)
    modular = [i for i, m in enumerate(cfg.methods) if m != methods.MONOLITHIC]
    M, D = cfg.modules_per_position * k, 3072 * k
    net_seed = seed * 7 + k
    starts = {}
    if modular:
        start = random_projections(1, M, D, cfg.module_dim, seeds=[net_seed])[0].numpy()
        rows = np.arange(min(cfg.rule_samples, cfg.n_train))
        X = onehot = None
        for i in modular:
            variant = methods.rule_variant(cfg.methods[i])
            if variant is None:
                starts[i] = start
                continue
            t0 = time.perf_counter()
            if X is None:
                X = data.to_features(data.assemble(x_train, tr_index[rows]))
                onehot = np.eye(10)[tr_labels[rows]].reshape(len(rows), 10 * k)
            starts[i] = _rule(variant, X, onehot, start, k, cfg, seed).astype(np.float32)
            rule_wall[i] = wall[i] = time.perf_counter() - t0
            diag["moved_by_rule"][i] = module_diagnostics.movement(start, starts[i]).mean()
    groups = [[i] for i in range(E) if i not in modular] + ([modular] if modular else [])
    for group in groups:
        t0 = time.perf_counter()
        torch.manual_seed(0)
        proj = np.stack([starts[i] for i in group]) if group == modular else None
        model = build_model(cfg.methods[group[0]], k, cfg, [net_seed] * len(group), proj).to(default_device())
        n_params[group] = model.n_params()

        def batches(epoch):
            order = np.random.default_rng([k, seed, epoch, 17]).permutation(cfg.n_train)
            return composite_batches(x_train, tr_index, tr_labels, cfg.batch_size, order=order)

        def after_epoch(epoch, net):
            for name, (index, labels) in tests.items():
                acc[name][group, epoch] = masked_accuracy(net, composite_batches(x_test, index, labels, 500))
            index, labels = tests["seen"]
            acc["noise"][group, epoch] = masked_accuracy(net, composite_batches(
                x_test, index, labels, 500, noise_sigma=cfg.noise_sigma, noise_seed=1000 * k + seed))
            if k >= 2:
                acc["occluded"][group, epoch] = masked_accuracy(
                    net, composite_batches(x_test, index, labels, 500, occlude=slots), mask=others)

        fit_classifier(model, batches, epochs=cfg.epochs, lr=cfg.lr, progress=False, after_epoch=after_epoch,
                       model_configs=[dict(method=cfg.methods[i], k=k, seed=seed) for i in group])
        wall[group] += (time.perf_counter() - t0) / len(group)
        if group == modular:
            final = model.projections.detach().cpu().numpy()
            for j, i in enumerate(group):
                summary = module_diagnostics.summarise(starts[i], final[j], k)
                diag["moved_by_training"][i] = summary.pop("moved")
                for name, value in summary.items():
                    diag[name][i] = value
    return {**{f"acc_{name}": a for name, a in acc.items()}, "wall_time_s": wall, "rule_wall_time_s": rule_wall,
            "n_params": n_params, **{f"diag_{name}": d for name, d in diag.items()}}


@experiment("compositional_accuracy", version=2, config_type=CompositionalCifarConfig, chapter=CHAPTER,
            configs=("cpu", "cpu_more_images", "cpu_epochs", "full", "lossless_check", "jpeg_check") + LIMITS, sweep=True)
def compositional_accuracy(cfg: CompositionalCifarConfig, cells) -> dict:
    """Accuracy per image ``acc_<test>`` (method, k, seed, epoch) on the tests of :data:`TESTS`, projection
    diagnostics ``diag_<name>`` (method, k, seed) (NaN for the monolithic network), wall times (method, k,
    seed: the rule's search, training and the measurements; ``rule_wall_time_s`` the search alone) and
    ``n_params`` (method, k). A resumable sweep: each ``(k, seed)`` cell is stored as it finishes."""
    source = data.find_cifar10(copy=cfg.copy)
    x_train, y_train, x_test, y_test = data.load_cifar10(copy=cfg.copy)
    arrays = (x_train[:cfg.train_images], y_train[:cfg.train_images], x_test[:cfg.test_images],
              y_test[:cfg.test_images])
    items = [{"k": int(k), "seed": int(s)} for k in cfg.n_images_grid for s in cfg.seeds]
    outs = cells.map(items, lambda item: _cell(cfg, item["k"], item["seed"], arrays), desc="compositional (k, seed)")
    KK, S = len(cfg.n_images_grid), len(cfg.seeds)
    result = {}
    for name in outs[0]:
        stacked = np.stack([np.asarray(o[name]) for o in outs])            # (k * seed, method, ...)
        stacked = stacked.reshape(KK, S, *stacked.shape[1:])
        result[name] = np.moveaxis(stacked, 2, 0)                          # (method, k, seed, ...)
    result["n_params"] = result["n_params"][:, :, 0]
    return {**result, "data_source": source.describe(), "data_kind": source.kind}

