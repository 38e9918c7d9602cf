"""Experiments of the chapter *Sample complexity against dimension*: test loss of every method over a grid of
sample counts, for each input dimension, and the cost of the rule's kernel objective."""
from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from .. import methods, metrics
from ..learning_rule import KERNELS, find_module_projections
from ..networks import MLPEnsemble, ModularEnsemble, default_device, random_projections
from ..results import experiment
from ..tasks import SineWaveTask
from ..training import evaluate, fit
from .common import check_fields, real, some_of, whole, wholes

__all__ = ["SampleComplexityConfig", "sample_complexity_sweep", "ObjectiveCostConfig", "objective_cost", "RULES"]

CHAPTER = "sample_complexity"
RULES = ("paper", "backfit", "spectral")   # the rule variants whose projections the sweep scores


@dataclass(frozen=True)
class SampleComplexityConfig:
    """Test loss of six methods on sine-wave tasks (``K`` modules, ``b = 1``) over a grid of ``n``, for each
    input dimension ``m`` and seed, in and out of distribution.

    Methods (:mod:`modscale_lib.methods`): a monolithic MLP (two hidden layers of ``mlp_width``); modular
    networks (``K`` modules, each one hidden layer of ``module_width``) whose projections start random, from
    the paper's rule (Algorithm 1), from the backfit rule (the library's default), from the spectral rule
    (backfit inside the moment span), or at the true projections (the oracle). All parameters train. The
    modular methods train together as one batched ensemble. Out of distribution, inputs have standard
    deviation ``ood_input_std``.
    """

    m_grid: tuple = (2, 3, 4, 5, 6, 7, 8, 9, 12, 16)
    n_grid: tuple = (50, 100, 200, 400, 800, 1600, 3200, 6400)
    n_modules: int = 2
    seeds: tuple = (0, 1, 2)
    methods: tuple = (methods.MONOLITHIC, methods.RANDOM) + tuple(methods.rule(v) for v in RULES) + (methods.ORACLE,)
    mlp_width: int = 64
    module_width: int = 32
    steps: int = 2000
    lr: float = 3e-3
    batch_size: int = 256
    rule_steps: int = 200
    rule_batch: int = 256
    n_test: int = 4000
    ood_input_std: float = 2.0

    @classmethod
    def cpu(cls) -> "SampleComplexityConfig":
        return cls()

    @classmethod
    def full(cls) -> "SampleComplexityConfig":
        return cls(m_grid=tuple(range(2, 17)), n_grid=tuple(int(50 * 2 ** (i / 2)) for i in range(19)),
                   seeds=tuple(range(5)), steps=4000, rule_steps=300, rule_batch=512)

    @classmethod
    def tiny(cls) -> "SampleComplexityConfig":
        return cls(m_grid=(3,), n_grid=(60, 120), seeds=(0,), steps=30, rule_steps=5, n_test=200)

    def __post_init__(self):
        allowed = (methods.MONOLITHIC, methods.RANDOM, methods.ORACLE) + tuple(methods.rule(v) for v in RULES)
        check_fields(self, m_grid=wholes(1, 4096), n_grid=wholes(2, 10 ** 7), n_modules=whole(1, 64),
                     seeds=wholes(0), methods=some_of(allowed), mlp_width=whole(1, 65536),
                     module_width=whole(1, 65536), steps=whole(1, 10 ** 7), lr=real(0, low_open=True),
                     batch_size=whole(1, 10 ** 6), rule_steps=whole(1, 10 ** 6), rule_batch=whole(2, 10 ** 6),
                     n_test=whole(1, 10 ** 7), ood_input_std=real(0, 1e6, low_open=True))
        if self.n_modules > min(self.m_grid):
            raise ValueError(f"n_modules ({self.n_modules}) must be <= every m in m_grid (smallest "
                             f"{min(self.m_grid)}): the task's modules are orthogonal directions")


def _initial_projections(method: str, task, X, y, cfg: SampleComplexityConfig, seeds: list[int],
                         seed: int) -> np.ndarray:
    """One set of starting projections per ``n`` of the grid, (E, K, m, 1)."""
    E, K, m = len(cfg.n_grid), cfg.n_modules, task.input_dim
    if method == methods.RANDOM:
        return random_projections(E, K, m, 1, seeds=seeds).numpy()
    if method == methods.ORACLE:
        return np.broadcast_to(task.projections, (E, K, m, 1))
    variant = methods.rule_variant(method)
    return np.stack([find_module_projections(X[:n], y[:n], K, 1, variant=variant, steps=cfg.rule_steps,
                                             batch_size=min(cfg.rule_batch, n), seed=seed)
                     for n in cfg.n_grid])


def _sweep_cell(cfg: SampleComplexityConfig, m: int, seed: int) -> dict:
    """One (m, seed) cell: test and out-of-distribution losses (method, n), the rules' similarity (rule, n)."""
    device = default_device()
    E, K = len(cfg.n_grid), cfg.n_modules
    test, ood = np.full((len(cfg.methods), E), np.nan), np.full((len(cfg.methods), E), np.nan)
    rule_sim = np.full((len(RULES), E), np.nan)
    task = SineWaveTask(m, K, seed=seed)
    X, y = task.sample(max(cfg.n_grid), seed=0)
    Xt, yt = task.sample(cfg.n_test, seed=1)
    Xo, yo = task.sample_ood(cfg.n_test, seed=2, input_std=cfg.ood_input_std)
    seeds = [seed * 1000 + i for i in range(E)]
    train = dict(steps=cfg.steps, lr=cfg.lr, lr_decay=0.01, batch_size=cfg.batch_size, eval_every=cfg.steps,
                 progress=False)
    if methods.MONOLITHIC in cfg.methods:
        i = cfg.methods.index(methods.MONOLITHIC)
        model = MLPEnsemble(E, m, cfg.mlp_width, depth=2, seeds=seeds).to(device)
        fit(model, X, y, n_samples=list(cfg.n_grid), **train,
            model_configs=[dict(method=methods.MONOLITHIC, m=m, seed=seed, n=n) for n in cfg.n_grid])
        test[i], ood[i] = evaluate(model, Xt, yt), evaluate(model, Xo, yo)
    modular = [i for i, method in enumerate(cfg.methods) if methods.is_modular(method)]
    if modular:
        projections = []
        for i in modular:
            U = _initial_projections(cfg.methods[i], task, X, y, cfg, seeds, seed)
            variant = methods.rule_variant(cfg.methods[i])
            if variant is not None:
                rule_sim[RULES.index(variant)] = [metrics.matched_similarity(task.projections, u) for u in U]
            projections.append(U)
        # Every modular method has the same shape, so all of them train as one ensemble (same seeds per n, so
        # methods differ only in their initial projections).
        model = ModularEnsemble(E * len(modular), m, K, 1, width=cfg.module_width,
                                projections=np.concatenate(projections), seeds=seeds * len(modular)).to(device)
        fit(model, X, y, n_samples=list(cfg.n_grid) * len(modular), **train,
            model_configs=[dict(method=cfg.methods[i], m=m, seed=seed, n=n) for i in modular for n in cfg.n_grid])
        losses, losses_ood = evaluate(model, Xt, yt), evaluate(model, Xo, yo)
        for j, i in enumerate(modular):
            test[i], ood[i] = losses[j * E:(j + 1) * E], losses_ood[j * E:(j + 1) * E]
    return {"test_loss": test, "ood_loss": ood, "rule_similarity": rule_sim,
            "var_test": np.array(float(np.var(yt))), "var_ood": np.array(float(np.var(yo)))}


@experiment("sample_complexity_sweep", version=3, config_type=SampleComplexityConfig, chapter=CHAPTER, sweep=True)
def sample_complexity_sweep(cfg: SampleComplexityConfig, cells) -> dict:
    """Test losses (method, m, seed, n), in and out of distribution, and the rules' module similarity
    (rule, m, seed, n) for the rules in ``RULES`` (nan for a rule not among the methods).

    A resumable sweep: each (m, seed) cell is stored as it finishes."""
    items = [{"m": m, "seed": seed} for m in cfg.m_grid for seed in cfg.seeds]
    outs = cells.map(items, lambda item: _sweep_cell(cfg, item["m"], item["seed"]), desc="sample complexity (m, seed)")
    M, S = len(cfg.m_grid), len(cfg.seeds)

    def stack(name: str, axis: int) -> np.ndarray:
        a = np.stack([np.asarray(o[name]) for o in outs]).reshape((M, S) + np.shape(outs[0][name]))
        return np.moveaxis(a, (0, 1), (axis, axis + 1)) if a.ndim > 2 else a

    return {"test_loss": stack("test_loss", 1), "ood_loss": stack("ood_loss", 1),
            "rule_similarity": stack("rule_similarity", 1), "rules": list(RULES),
            "var_test": stack("var_test", 0), "var_ood": stack("var_ood", 0)}


@dataclass(frozen=True)
class ObjectiveCostConfig:
    """Wall time of one evaluation and gradient of the kernel objective against the minibatch size."""

    batch_sizes: tuple = (128, 256, 512, 1024, 2048, 4096)
    kernels: tuple = ("features", "ntk", "rbf")
    input_dim: int = 8
    repeats: int = 5

    @classmethod
    def cpu(cls) -> "ObjectiveCostConfig":
        return cls()

    @classmethod
    def full(cls) -> "ObjectiveCostConfig":
        return cls(batch_sizes=(128, 256, 512, 1024, 2048, 4096, 8192), repeats=10)

    @classmethod
    def tiny(cls) -> "ObjectiveCostConfig":
        return cls(batch_sizes=(8, 16), kernels=("features",), repeats=1)

    def __post_init__(self):
        check_fields(self, batch_sizes=wholes(2, 65536), kernels=some_of(KERNELS), input_dim=whole(1, 4096),
                     repeats=whole(1, 1000))


@experiment("objective_cost", version=1, config_type=ObjectiveCostConfig, chapter=CHAPTER)
def objective_cost(cfg: ObjectiveCostConfig) -> dict:
    """Seconds per objective-and-gradient evaluation, (kernel, batch size), median over repeats."""
    import torch

    from ..learning_rule import ModuleAtInit, kernel_objective, orthonormalise

    module = ModuleAtInit(1, 256, 1, seed=0)
    seconds = np.zeros((len(cfg.kernels), len(cfg.batch_sizes)))
    gen = torch.Generator().manual_seed(0)
    for j, B in enumerate(cfg.batch_sizes):
        X, y = torch.randn(B, cfg.input_dim, generator=gen), torch.randn(B, generator=gen)
        for i, kernel in enumerate(cfg.kernels):
            times = []
            for _ in range(cfg.repeats + 1):
                A = torch.randn(cfg.input_dim, 1, generator=gen).requires_grad_(True)
                start = time.perf_counter()
                kernel_objective(orthonormalise(A), X, y, kernel, 1e-2, module).backward()
                times.append(time.perf_counter() - start)
            seconds[i, j] = np.median(times[1:])  # the first call warms up
    return {"seconds": seconds}
