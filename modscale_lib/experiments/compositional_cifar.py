"""Experiments of the chapter *Compositional CIFAR-10*: ``k`` images side by side, three methods, in and out of distribution.

One run per ``k`` trains every method (an ensemble of one model per seed) for ``epochs`` passes over the same
``n_train`` composites, at a fixed Adam step, and measures accuracy after every epoch, so the paper's
one-epoch protocol and the multi-epoch variant come from the same run. Training composites use only *seen*
class combinations (``data.is_unseen_combination``); the test sets are built from the test images:

* ``seen``: seen combinations (in distribution);
* ``unseen``: held-out combinations (the combinatorial out-of-distribution test), ``k >= 2`` only;
* ``noise``: the ``seen`` test composites with Gaussian pixel noise of standard deviation ``noise_sigma``.
"""
from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import torch
from tqdm.auto import tqdm

from .. import data, methods
from ..learning_rule import find_module_projections
from ..networks import MLPEnsemble, ModularEnsemble, default_device
from ..results import experiment
from ..training import classifier_accuracy, fit_classifier
from .common import check_fields, one_of, optional_whole, real, some_of, whole, wholes

__all__ = ["CompositionalCifarConfig", "compositional_accuracy", "composite_batches", "build_model", "METHODS"]

CHAPTER = "compositional_cifar"
# The spectral variant needs one target column and Gaussian inputs: not for one-hot labels of pixels.
RULE_VARIANTS = ("paper", "deflation", "backfit")
METHODS = (methods.MONOLITHIC, methods.RANDOM) + tuple(methods.rule(v) for v in RULE_VARIANTS)


@dataclass(frozen=True)
class CompositionalCifarConfig:
    """Accuracy of three methods on Compositional CIFAR-10 for each number of images ``k`` in
    ``n_images_grid`` (``k`` is the paper's symbol for images per composite; the book's ``K``, ``n_modules``,
    counts modules).

    Networks, for ``k`` images (``D = 3072 k`` inputs, ``10 k`` outputs, ``M = modules_per_position * k``
    modules of dimension ``b = module_dim``):

    * monolithic: an MLP ``D -> M b -> M b -> 10 k`` (its first layer has the size of the modular
      network's projections);
    * modular: ``M`` modules, each ``U_j^T x`` (``b`` numbers) ``-> module_width -> 10 k``, logits summed
      and divided by ``sqrt(M)``;
      projections random orthonormal ("modular, random") or found by a variant of the learning rule
      ("modular, <variant> rule", e.g. "modular, paper rule": the variant on ``rule_samples`` training
      composites with the centred one-hot labels of all ``k``
      positions as a joint ``10 k``-column target, kernel normalised because pixels are not white).

    All seeds share the training composites, their order and the test composites; a seed changes the
    networks' initialisation and the rule's search, so the spread over seeds is the spread over training
    runs, not over data sets.
    """

    n_images_grid: tuple = (1, 2, 3, 4, 5, 6, 7, 8)
    methods: tuple = (methods.MONOLITHIC, methods.RANDOM, methods.rule("paper"))
    seeds: tuple = (0, 1)
    n_train: int = 20000
    epochs: int = 3
    batch_size: int = 128
    lr: float = 1e-3
    modules_per_position: int = 2
    module_dim: int = 16
    module_width: int = 64
    rule_samples: int = 2048
    rule_steps: int = 100
    rule_batch: int = 256
    n_test: int = 2000
    noise_sigma: float = 0.2
    holdout_mod: int = 5
    copy: str = "jpeg"
    train_images: int | None = None
    test_images: int | None = None

    @classmethod
    def cpu(cls) -> "CompositionalCifarConfig":
        return cls()

    @classmethod
    def full(cls) -> "CompositionalCifarConfig":
        return cls(seeds=(0, 1, 2, 3, 4), n_train=50000, epochs=5, modules_per_position=5, rule_samples=4096,
                   rule_steps=300, rule_batch=512, n_test=10000)

    @classmethod
    def lossless_check(cls) -> "CompositionalCifarConfig":
        """One point (``k = 2``) trained on the first 4000 training images with their exact pixels."""
        return cls(n_images_grid=(2,), copy="lossless", train_images=4000, n_train=8000)

    @classmethod
    def jpeg_check(cls) -> "CompositionalCifarConfig":
        """The same point from the JPEG copy of the same 4000 training images, tested on all 10000 JPEG test
        images (the exact subset holds the first 1000; the JPEG test set is class-major, so a prefix of it
        would hold one class)."""
        return cls(n_images_grid=(2,), copy="jpeg", train_images=4000, n_train=8000)

    @classmethod
    def tiny(cls) -> "CompositionalCifarConfig":
        return cls(n_images_grid=(1, 2), seeds=(0,), n_train=64, epochs=1, batch_size=32, modules_per_position=1,
                   module_dim=2, module_width=4, rule_samples=32, rule_steps=2, rule_batch=16, n_test=40)

    def __post_init__(self):
        check_fields(self, n_images_grid=wholes(1, data.MAX_POSITIONS), methods=some_of(METHODS), seeds=wholes(0),
                     n_train=whole(1, 10 ** 7), epochs=whole(1, 1000), batch_size=whole(1, 10 ** 5),
                     lr=real(0, low_open=True), modules_per_position=whole(1, 64), module_dim=whole(1, 3072),
                     module_width=whole(1, 65536), rule_samples=whole(2, 10 ** 6), rule_steps=whole(1, 10 ** 6),
                     rule_batch=whole(2, 10 ** 6), n_test=whole(1, 10 ** 6), noise_sigma=real(0, 10),
                     holdout_mod=whole(2, 100), copy=one_of(("auto", "official", "jpeg", "lossless")),
                     train_images=optional_whole(10), test_images=optional_whole(10))
        if self.test_images is not None and self.copy in ("jpeg", "auto"):
            raise ValueError("test_images must be None with the JPEG copy (copy 'jpeg' or 'auto'): its test set "
                             "is in class-major order, so a prefix would hold only the first classes")


def composite_batches(x: np.ndarray, index: np.ndarray, labels: np.ndarray, batch_size: int, *,
                      order=None, noise_sigma: float = 0.0, noise_seed: int = 0):
    """Yield ``(features (B, 3072 k) float32 tensor, labels (B, k) int64 tensor)`` for composites ``index``.

    Composites are assembled batch by batch (``data.assemble``), so no array of all composite images is held.
    ``order`` permutes the composites (an epoch's shuffle). With ``noise_sigma > 0`` each batch gets Gaussian
    pixel noise, seeded per batch so the noisy test set is the same every time it is read.
    """
    order = np.arange(len(index)) if order is None else order
    for b, start in enumerate(range(0, len(order), batch_size)):
        rows = order[start:start + batch_size]
        images = data.assemble(x, index[rows])
        if noise_sigma > 0:
            images = data.add_pixel_noise(images, noise_sigma, seed=noise_seed * 100003 + b)
        yield torch.from_numpy(data.to_features(images)), torch.from_numpy(labels[rows])


def build_model(method: str, k: int, cfg: CompositionalCifarConfig, seeds: list[int], projections=None):
    """The ensemble (one model per seed) for ``method`` with ``k`` images."""
    D, n_out = 3072 * k, 10 * k
    M = cfg.modules_per_position * k
    if method == methods.MONOLITHIC:
        return MLPEnsemble(len(seeds), D, M * cfg.module_dim, depth=2, seeds=seeds, n_outputs=n_out)
    return ModularEnsemble(len(seeds), D, M, cfg.module_dim, width=cfg.module_width, projections=projections,
                           seeds=seeds, n_outputs=n_out)


def _rule_projections(variant: str, x, index, labels, k, cfg, seeds):
    """The learning rule's projections, one ``(M, 3072 k, b)`` set per seed, (S, M, 3072 k, b), from the first
    ``rule_samples`` training composites (assembled once, shared by the seeds)."""
    rows = np.arange(min(cfg.rule_samples, len(index)))
    X = data.to_features(data.assemble(x, index[rows]))
    onehot = np.eye(10)[labels[rows]].reshape(len(rows), 10 * k)
    return np.stack([find_module_projections(X, onehot, cfg.modules_per_position * k, cfg.module_dim,
                                             variant=variant, steps=cfg.rule_steps,
                                             batch_size=min(cfg.rule_batch, len(rows)), normalise_kernel=True,
                                             seed=s)
                     for s in seeds])


@experiment("compositional_accuracy", version=1, config_type=CompositionalCifarConfig, chapter=CHAPTER,
            configs=("cpu", "full", "lossless_check", "jpeg_check"))
def compositional_accuracy(cfg: CompositionalCifarConfig) -> dict:
    """Accuracy per image (method, k, seed, epoch) on the seen, unseen and noisy test sets, with wall times.

    ``wall_time_s`` (method, k) covers the rule's search (for a rule's method; also alone in
    ``rule_wall_time_s``), training, and the accuracy measurements after every epoch, for all seeds."""
    device = default_device()
    source = data.find_cifar10(copy=cfg.copy)
    x_train, y_train, x_test, y_test = data.load_cifar10(copy=cfg.copy)
    x_train, y_train = x_train[:cfg.train_images], y_train[:cfg.train_images]
    x_test, y_test = x_test[:cfg.test_images], y_test[:cfg.test_images]
    S, KK, E, T = len(cfg.seeds), len(cfg.n_images_grid), len(cfg.methods), cfg.epochs
    shape = (E, KK, S, T)
    acc = {name: np.full(shape, np.nan) for name in ("seen", "unseen", "noise")}
    wall = np.full((E, KK), np.nan)
    rule_wall = np.full(KK, np.nan)
    n_params = np.zeros((E, KK), dtype=np.int64)
    for a, k in enumerate(tqdm(cfg.n_images_grid, desc="compositional CIFAR (k)")):
        split = "seen" if k >= 2 else None
        tr_index, tr_labels = data.compositional_indices(y_train, k, cfg.n_train, seed=1000 + k, combos=split,
                                                         holdout_mod=cfg.holdout_mod)
        tests = {"seen": data.compositional_indices(y_test, k, cfg.n_test, seed=2000 + k, combos=split,
                                                    holdout_mod=cfg.holdout_mod)}
        if k >= 2:
            tests["unseen"] = data.compositional_indices(y_test, k, cfg.n_test, seed=3000 + k, combos="unseen",
                                                         holdout_mod=cfg.holdout_mod)
        seeds = [int(s) for s in cfg.seeds]
        for i, method in enumerate(cfg.methods):
            start = time.perf_counter()
            projections = None
            variant = methods.rule_variant(method)
            if variant is not None:
                projections = _rule_projections(variant, x_train, tr_index, tr_labels, k, cfg, seeds)
                rule_wall[a] = time.perf_counter() - start
            torch.manual_seed(0)
            model = build_model(method, k, cfg, [s * 7 + k for s in seeds], projections).to(device)
            n_params[i, a] = int(model.n_params()[0])

            def batches(epoch):
                order = np.random.default_rng([k, epoch, 17]).permutation(cfg.n_train)
                return composite_batches(x_train, tr_index, tr_labels, cfg.batch_size, order=order)

            def after_epoch(epoch, net):
                for name, (index, labels) in tests.items():
                    acc[name][i, a, :, epoch] = classifier_accuracy(
                        net, composite_batches(x_test, index, labels, 500)).mean(axis=1)
                index, labels = tests["seen"]
                acc["noise"][i, a, :, epoch] = classifier_accuracy(
                    net, composite_batches(x_test, index, labels, 500, noise_sigma=cfg.noise_sigma,
                                           noise_seed=k)).mean(axis=1)

            fit_classifier(model, batches, epochs=cfg.epochs, lr=cfg.lr, progress=False, after_epoch=after_epoch,
                           model_configs=[dict(method=method, k=k, seed=s) for s in seeds])
            wall[i, a] = time.perf_counter() - start
    return {"acc_seen": acc["seen"], "acc_unseen": acc["unseen"], "acc_noise": acc["noise"],
            "wall_time_s": wall, "rule_wall_time_s": rule_wall, "n_params": n_params,
            "data_source": source.describe(), "data_kind": source.kind}
