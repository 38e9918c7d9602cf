"""Experiments of the chapter *Sample complexity against dimension*: the capacity of each network chosen on a
validation split, then test loss of every method and of the reviewers' controls over a grid of sample counts,
for each number of modules and input dimension; and the cost of the rule's kernel objective."""

from __future__ import annotations

import itertools
import math
import time
from dataclasses import dataclass

import numpy as np
import torch

from .. import measure, methods
from ..analysis import capacity_table, choose_capacity
from ..core import Choice, Real, Reals, SomeOf, Whole, Wholes, check_fields
from ..networks import MLPEnsemble, ModularEnsemble, default_device, fit, mlp_param_count, random_projections
from ..rule import DEFAULTS, KERNELS, find_module_projections
from ..store import experiment
from ..tasks import TASK_KINDS as TASKS, check_task_kind, make_task as _task

__all__ = [
    "SampleComplexityConfig",
    "sample_complexity_sweep",
    "CapacityConfig",
    "sample_complexity_capacity",
    "choose_capacity",
    "capacity_table",
    "rule_flops",
    "ObjectiveCostConfig",
    "objective_cost",
    "MAIN",
    "CONTROLS",
    "TASKS",
    "main_methods",
    "control_methods",
    "MonolithicStepsConfig",
    "monolithic_steps",
]

CHAPTER = "sample_complexity"
VARIANT = (
    "newton"  # the library's fast default (version 5; versions up to 4 ran "backfit" at b = 1, "grouped" at b >= 2)
)
FALLBACK = "backfit"  # for a wrong-count control with K b > m, where the moment span cannot hold K modules


def main_methods(variant: str = VARIANT) -> tuple:
    """The methods run at every ``n``: monolithic, oracle, the rule's ``variant``, random starts."""
    return (methods.MONOLITHIC, methods.ORACLE, methods.rule(variant), methods.RANDOM)


def control_methods(variant: str = VARIANT) -> tuple:
    """The reviewers' controls (Q2-Q5), with the rule's ``variant`` for the wrong module counts."""
    return (
        methods.COMPUTE_MATCHED,
        methods.RANDOM_AVERAGED,
        methods.wrong_count(variant, "K/2"),
        methods.wrong_count(variant, "2K"),
        methods.NO_PROJECTIONS,
    )


MAIN, CONTROLS = main_methods(), control_methods()
# the named configs of the capacity search and sweep; the non-separable task and K = 2 are measured by the
# scaling-law study (experiments.scaling_law), whose results replace this sweep's for them
NAMED = ("cpu", "full")
N_GRID = tuple(int(round(64 * 2 ** (i / 2))) for i in range(13))  # 64 .. 4096, spaced by sqrt(2)
_TRAINING = dict(
    steps=Whole(1, 10**7),
    batch_size=Whole(1, 10**6),
    patience=Whole(1, 10**4),
    eval_every=Whole(1, 10**6),
    n_val=Whole(2, 10**7),
)


def _check_task(cfg, counts, name: str) -> None:
    """Shared checks of the task fields: sine modules only with ``b = 1`` (a sum of ridges cannot be grouped
    into modules of ``b >= 2``), and ``K * b <= m`` (the task's modules are orthogonal)."""
    check_task_kind(cfg.task, cfg.module_dim)
    if max(counts) * cfg.module_dim > min(cfg.m_grid):
        raise ValueError(
            f"every K ({name}, largest {max(counts)}) times module_dim ({cfg.module_dim}) must be <= every "
            f"m in m_grid (smallest {min(cfg.m_grid)}): the task's modules are orthogonal"
        )


def _data(task, n: int, n_val: int):
    """The training pool (first ``n`` rows used), the validation split: separate draws of the same task."""
    X, y = task.sample(n, seed=0)
    Xv, yv = task.sample(n_val, seed=3)
    return X, y, Xv, yv


def _train(model, X, y, Xv, yv, n_samples, cfg, lr: float, steps: int | None = None, configs=None):
    """Adam with a cosine step decay, early stopping on the validation loss (best weights kept)."""
    return fit(
        model,
        X,
        y,
        n_samples=n_samples,
        X_val=Xv,
        y_val=yv,
        patience=cfg.patience,
        lr=lr,
        lr_decay=0.01,
        steps=steps or cfg.steps,
        batch_size=cfg.batch_size,
        eval_every=cfg.eval_every,
        progress=False,
        model_configs=configs,
    )


@dataclass(frozen=True)
class CapacityConfig:
    """The validation search that fixes the sweep's networks, on seeds the sweep does not use.

    Modules (one hidden layer or two, ``module_widths`` units, step ``module_lrs``) are tuned on the oracle
    (projections frozen at the truth), which measures what a module can fit; the monolithic MLP (``mlp_depth``
    hidden layers of ``mlp_widths`` units, step ``mlp_lrs``) on its own. Each setting is trained with the
    sweep's protocol at every ``(m, n)`` of a small grid and scored by its validation loss only. ``task`` and
    ``module_dim`` as in :class:`SampleComplexityConfig`.
    """

    n_modules: int = 4
    task: str = "sine"
    module_dim: int = 1
    m_grid: tuple = (8, 32)
    n_grid: tuple = (256, 2048)
    seeds: tuple = (100, 101)
    module_widths: tuple = (16, 32, 64)
    module_depths: tuple = (1, 2)
    module_lrs: tuple = (3e-3, 1e-2)
    mlp_widths: tuple = (64, 128, 256)
    mlp_depth: int = 2
    mlp_lrs: tuple = (1e-3, 3e-3)
    steps: int = 3000
    batch_size: int = 128
    patience: int = 5
    eval_every: int = 100
    n_val: int = 1000

    @classmethod
    def cpu(cls) -> CapacityConfig:
        return cls()

    @classmethod
    def full(cls) -> CapacityConfig:
        return cls(
            m_grid=(4, 8, 16, 32),
            n_grid=(128, 512, 2048),
            seeds=(100, 101, 102),
            module_widths=(16, 32, 64, 128),
            module_depths=(1, 2, 3),
            mlp_widths=(64, 128, 256, 512),
        )

    @classmethod
    def tiny(cls) -> CapacityConfig:
        return cls(
            n_modules=2,
            m_grid=(3,),
            n_grid=(40,),
            seeds=(100,),
            module_widths=(4, 8),
            module_depths=(1,),
            module_lrs=(1e-2,),
            mlp_widths=(8,),
            mlp_lrs=(1e-2,),
            steps=20,
            patience=2,
            eval_every=5,
            n_val=50,
        )

    def __post_init__(self):
        check_fields(
            self,
            n_modules=Whole(1, 64),
            task=Choice(TASKS),
            module_dim=Whole(1, 64),
            m_grid=Wholes(1, 4096),
            n_grid=Wholes(2, 10**7),
            seeds=Wholes(0),
            module_widths=Wholes(1, 65536),
            module_depths=Wholes(1, 16),
            module_lrs=Reals(0, 1, low_open=True),
            mlp_widths=Wholes(1, 65536),
            mlp_depth=Whole(1, 16),
            mlp_lrs=Reals(0, 1, low_open=True),
            **_TRAINING,
        )
        _check_task(self, (self.n_modules,), "n_modules")


def _stacked(pools: dict, members: list[int]):
    """Per-member training pools and validation splits, (E, n, m) and (E, n_val, m), from the pool of each
    member's seed."""
    return tuple(np.stack([pools[s][j] for s in members]) for j in range(4))


@experiment("sample_complexity_capacity", version=1, config_type=CapacityConfig, chapter=CHAPTER, configs=NAMED)
def sample_complexity_capacity(cfg: CapacityConfig) -> dict:
    """Validation losses: modules ``(depth, lr, width, m, n, seed)``, the MLP ``(lr, width, m, n, seed)``."""
    N, S, K = len(cfg.n_grid), len(cfg.seeds), cfg.n_modules
    module_val = np.full(
        (len(cfg.module_depths), len(cfg.module_lrs), len(cfg.module_widths), len(cfg.m_grid), N, S), np.nan
    )
    mlp_val = np.full((len(cfg.mlp_lrs), len(cfg.mlp_widths), len(cfg.m_grid), N, S), np.nan)
    for a, m in enumerate(cfg.m_grid):
        tasks = {s: _task(cfg.task, m, K, cfg.module_dim, s) for s in cfg.seeds}
        pools = {s: _data(task, max(cfg.n_grid), cfg.n_val) for s, task in tasks.items()}
        # one ensemble member per (width, n, seed), in that order, for each depth and step size
        grid = lambda widths: [(w, n, s) for w in widths for n in cfg.n_grid for s in cfg.seeds]
        modules, mlps = grid(cfg.module_widths), grid(cfg.mlp_widths)
        X, y, Xv, yv = _stacked(pools, [s for _, _, s in modules])
        U = np.stack([tasks[s].projections for _, _, s in modules])
        for (d, depth), (i, lr) in itertools.product(enumerate(cfg.module_depths), enumerate(cfg.module_lrs)):
            model = ModularEnsemble(
                len(modules),
                m,
                K,
                cfg.module_dim,
                width=max(cfg.module_widths),
                depth=depth,
                widths=[w for w, _, _ in modules],
                projections=U,
                train_projections=False,
                seeds=list(range(len(modules))),
            )
            val = _train(model, X, y, Xv, yv, [n for _, n, _ in modules], cfg, lr).val_loss
            module_val[d, i, :, a] = val.reshape(len(cfg.module_widths), N, S)
        X, y, Xv, yv = _stacked(pools, [s for _, _, s in mlps])
        for i, lr in enumerate(cfg.mlp_lrs):
            model = MLPEnsemble(
                len(mlps),
                m,
                max(cfg.mlp_widths),
                depth=cfg.mlp_depth,
                widths=[w for w, _, _ in mlps],
                seeds=list(range(len(mlps))),
            )
            val = _train(model, X, y, Xv, yv, [n for _, n, _ in mlps], cfg, lr).val_loss
            mlp_val[i, :, a] = val.reshape(len(cfg.mlp_widths), N, S)
    return {"module_val": module_val, "mlp_val": mlp_val}


@dataclass(frozen=True)
class SampleComplexityConfig:
    """Test loss of the methods of ``main_methods`` and the controls of ``control_methods`` on modular
    tasks (``K`` modules of ``b = module_dim``, ``Var(y) = 1`` exactly; ``task`` one of ``TASKS``: the
    sine-wave task for ``b = 1``, a non-separable module family for ``b >= 2``) over a grid of ``n``, for each
    ``K`` in ``module_counts``, input dimension ``m`` and seed, in and out of distribution (inputs of standard
    deviation ``ood_input_std``).

    Networks: the monolithic MLP has ``mlp_depth`` hidden layers of ``mlp_width``; every module ``module_depth``
    layers of ``module_width`` (values chosen by ``sample_complexity_capacity`` on a validation split).
    Every network trains with Adam (step ``mlp_lr`` or ``module_lr``, cosine decay) and stops early on a
    validation split of ``n_val`` separate samples, keeping its best weights. The oracle's projections stay
    at the truth; the random and rule starts train with the rest. The rule (``rule_variant``) runs on the
    ``n`` training samples only: the ``newton`` variant (moment span, then closed-form Gauss-Newton steps; no
    step count), except for a wrong-count control with ``K b > m`` modules, which the moment span cannot hold:
    there the ``backfit`` variant runs, with ``rule_steps`` steps on minibatches of ``rule_batch`` and
    ``rule_refine`` backfitting rounds. The compute-matched MLP gets the floating-point operations of a
    backfit search (``rule_flops``) as extra steps, as in versions up to 4, so that this control is unchanged.
    The controls run for ``K`` in ``control_modules`` (``b = 1`` only; ``()``: none) at every
    ``control_every``-th ``n`` of the grid.
    """

    module_counts: tuple = (2, 4)
    task: str = "sine"
    module_dim: int = 1
    m_grid: tuple = (4, 8, 16, 32)
    n_grid: tuple = N_GRID
    seeds: tuple = (0, 1, 2, 3, 4)
    control_modules: tuple = (4,)
    control_every: int = 3
    mlp_width: int = 64  # mlp_* and module_*: the choice of sample_complexity_capacity (a test checks it)
    mlp_depth: int = 2
    mlp_lr: float = 3e-3
    module_width: int = 64
    module_depth: int = 2
    module_lr: float = 1e-2
    steps: int = 3000
    batch_size: int = 128
    patience: int = 5
    eval_every: int = 100
    n_val: int = 1000
    rule_steps: int = 100
    rule_batch: int = 128
    rule_refine: int = 1
    n_test: int = 4000
    ood_input_std: float = 2.0

    @property
    def rule_variant(self) -> str:
        """``VARIANT``: the variant of the rule (the wrong-count controls fall back to ``FALLBACK`` where
        ``K b > m``)."""
        return VARIANT

    @property
    def methods(self) -> tuple:
        return main_methods(self.rule_variant) + (control_methods(self.rule_variant) if self.control_modules else ())

    @classmethod
    def cpu(cls) -> SampleComplexityConfig:
        return cls()

    @classmethod
    def full(cls) -> SampleComplexityConfig:
        return cls(
            m_grid=(4, 6, 8, 12, 16, 24, 32, 48, 64),
            n_grid=tuple(int(round(32 * 2 ** (i / 4))) for i in range(33)),
            seeds=tuple(range(10)),
            control_modules=(2, 4),
            control_every=1,
            steps=6000,
            rule_steps=300,
            rule_batch=512,
            rule_refine=2,
            n_test=10000,
        )

    @classmethod
    def tiny(cls) -> SampleComplexityConfig:
        return cls(
            module_counts=(2,),
            m_grid=(4,),
            n_grid=(40, 60, 80),
            seeds=(0,),
            control_modules=(2,),
            mlp_width=8,
            module_width=4,
            steps=20,
            patience=2,
            eval_every=5,
            n_val=50,
            rule_steps=3,
            rule_batch=16,
            n_test=100,
        )

    def __post_init__(self):
        check_fields(
            self,
            module_counts=Wholes(1, 64),
            task=Choice(TASKS),
            module_dim=Whole(1, 64),
            m_grid=Wholes(1, 4096),
            n_grid=Wholes(2, 10**7),
            seeds=Wholes(0),
            control_modules=lambda v, name: v if v == () else Wholes(1, 64)(v, name),
            control_every=Whole(1, 1000),
            mlp_width=Whole(1, 65536),
            mlp_depth=Whole(1, 16),
            mlp_lr=Real(0, 1, low_open=True),
            module_width=Whole(1, 65536),
            module_depth=Whole(1, 16),
            module_lr=Real(0, 1, low_open=True),
            rule_steps=Whole(1, 10**6),
            rule_batch=Whole(2, 10**6),
            rule_refine=Whole(0, 100),
            n_test=Whole(1, 10**7),
            ood_input_std=Real(0, 1e6, low_open=True),
            **_TRAINING,
        )
        _check_task(self, self.module_counts, "module_counts")
        if self.control_modules and self.module_dim != 1:
            raise ValueError(
                f"control_modules must be () for module_dim >= 2 (the controls are measured at b = 1), "
                f"got {self.control_modules}"
            )
        if not set(self.control_modules) <= set(self.module_counts):
            raise ValueError(f"control_modules {self.control_modules} must be among module_counts {self.module_counts}")


def rule_flops(n: int, input_dim: int, n_modules: int, cfg: SampleComplexityConfig) -> float:
    """Floating-point operations of the rule's kernel searches (an estimate, counted from their shapes): each
    step forms the ``B x B`` feature kernel of a ``W``-unit module (``2 B^2 W``), factors it
    (``B^3 / 3``) and solves (``2 B^2``); the backward pass costs about twice the forward. There are
    ``K (1 + refine)`` searches of ``rule_steps`` steps. The kernel-ridge fits between searches are left out.
    """
    B, W = min(cfg.rule_batch, n), DEFAULTS["width"]
    per_step = 3.0 * (2 * B * B * W + B**3 / 3 + 2 * B * B + 2 * B * input_dim * W)
    return n_modules * (1 + cfg.rule_refine) * cfg.rule_steps * per_step


def _rule(X, y, n: int, K: int, cfg, seed: int) -> np.ndarray:
    variant = cfg.rule_variant if K * cfg.module_dim <= X.shape[1] else FALLBACK
    return find_module_projections(
        X[:n],
        y[:n],
        K,
        cfg.module_dim,
        variant=variant,
        steps=cfg.rule_steps,
        batch_size=min(cfg.rule_batch, n),
        refine_passes=cfg.rule_refine,
        seed=seed,
    )


def _losses(outputs: torch.Tensor, y: np.ndarray) -> np.ndarray:
    return ((outputs - torch.as_tensor(y, dtype=outputs.dtype)) ** 2).mean(dim=-1).numpy()


def _controls(cfg: SampleComplexityConfig, X, y, K: int, m: int, seed: int, sub: list, add, mlp, modular, seeds) -> int:
    """The reviewers' controls of one cell, at the sizes ``sub`` (indices of ``cfg.n_grid``): the compute-matched
    MLP, the rule with half and twice the modules, and modules that see the whole input. ``add``, ``mlp``,
    ``modular`` and ``seeds`` are the cell's (see :func:`_sweep_cell`). Returns the compute-matched MLP's extra
    steps."""
    grid = list(cfg.n_grid)
    step_flops = 6.0 * mlp_param_count(m, cfg.mlp_width, cfg.mlp_depth) * cfg.batch_size
    extra_steps = int(math.ceil(rule_flops(max(grid), m, K, cfg) / step_flops))
    add(mlp(sub, 0), sub, [methods.COMPUTE_MATCHED] * len(sub), cfg.mlp_lr, cfg.steps + extra_steps)
    for label in (methods.wrong_count(cfg.rule_variant, "K/2"), methods.wrong_count(cfg.rule_variant, "2K")):
        k2 = methods.module_count(label, K)
        U2 = np.stack([_rule(X, y, grid[j], k2, cfg, seed) for j in sub])
        add(modular(k2, 1, U2, seeds(0, sub)), sub, [label] * len(sub), cfg.module_lr)
    eye = np.broadcast_to(np.eye(m, dtype=np.float32), (len(sub), K, m, m))
    no_projections = modular(K, m, eye, seeds(0, sub), train_projections=False)
    add(no_projections, sub, [methods.NO_PROJECTIONS] * len(sub), cfg.module_lr)
    return extra_steps


def _sweep_cell(cfg: SampleComplexityConfig, K: int, m: int, seed: int) -> dict:
    """One (K, m, seed) cell: test and out-of-distribution losses and best steps, (method, n), nan where a
    method does not run; the rule's matched similarity (n,); the compute-matched MLP's extra steps."""
    device, b, rule = default_device(), cfg.module_dim, methods.rule(cfg.rule_variant)
    grid, N, labels = list(cfg.n_grid), len(cfg.n_grid), cfg.methods
    sub = list(range(0, N, cfg.control_every)) if K in cfg.control_modules else []
    task = _task(cfg.task, m, K, b, seed)
    X, y, Xv, yv = _data(task, max(grid), cfg.n_val)
    Xt, yt = task.sample(cfg.n_test, seed=1)
    Xo, yo = task.sample_ood(cfg.n_test, seed=2, input_std=cfg.ood_input_std)
    out = {k: np.full((len(labels), N), np.nan) for k in ("test_loss", "ood_loss", "best_step")}
    seeds = lambda r, idx: [seed * 1000 + 100 * r + j for j in idx]
    runs = []  # (test outputs, OOD outputs, n index per member, label per member, best step per member)

    def add(model, idx, member_labels, lr, steps=None):
        configs = [dict(method=lab, K=K, m=m, seed=seed, n=grid[j]) for lab, j in zip(member_labels, idx)]
        res = _train(model.to(device), X, y, Xv, yv, [grid[j] for j in idx], cfg, lr, steps, configs)
        with torch.no_grad():
            model = model.cpu()
            as_t = lambda a: torch.as_tensor(a, dtype=torch.float32)
            runs.append((model(as_t(Xt)), model(as_t(Xo)), idx, member_labels, res.best_step))

    mlp = lambda idx, r: MLPEnsemble(len(idx), m, cfg.mlp_width, cfg.mlp_depth, seeds=seeds(r, idx))

    def modular(n_modules, dim, projections, net_seeds, **train):
        return ModularEnsemble(
            len(net_seeds),
            m,
            n_modules,
            dim,
            width=cfg.module_width,
            depth=cfg.module_depth,
            projections=projections,
            seeds=net_seeds,
            **train,
        )

    all_n = list(range(N))
    add(mlp(all_n, 0), all_n, [methods.MONOLITHIC] * N, cfg.mlp_lr)
    rule_U = np.stack([_rule(X, y, grid[j], K, cfg, seed) for j in all_n])
    out["rule_similarity"] = np.array([measure.matched_similarity(task.projections, u) for u in rule_U])
    truth = np.broadcast_to(task.projections, (N, K, m, b))
    extra = list(range(1, K)) if sub else []  # the averaged control's other K - 1 random starts
    U = np.concatenate(
        [truth, rule_U, random_projections(N, K, m, b, seeds(0, all_n)).numpy()]
        + [random_projections(len(sub), K, m, b, seeds(r, sub)).numpy() for r in extra]
    )
    idx = all_n * 3 + sub * len(extra)
    member = (
        [methods.ORACLE] * N + [rule] * N + [methods.RANDOM] * N + [methods.RANDOM_AVERAGED] * (len(sub) * len(extra))
    )
    net_seeds = seeds(0, all_n) * 3 + [s for r in extra for s in seeds(r, sub)]
    trained = [lab != methods.ORACLE for lab in member]
    add(modular(K, b, U, net_seeds, train_projections=trained), idx, member, cfg.module_lr)
    out["extra_steps"] = np.array(_controls(cfg, X, y, K, m, seed, sub, add, mlp, modular, seeds) if sub else 0)
    _collect(out, runs, labels, yt, yo, K)
    out["var_test"], out["var_ood"] = np.array(float(np.var(yt))), np.array(float(np.var(yo)))
    return out


def _collect(out: dict, runs: list, labels: tuple, yt, yo, K: int) -> None:
    """Per-member losses into ``out`` (method, n); the averaged method's members are pooled with the random
    network at the same ``n``: the average of ``K`` random starts."""
    random_preds = {}
    for pred_t, pred_o, idx, member, _best in runs:
        for e, (lab, j) in enumerate(zip(member, idx)):
            if lab == methods.RANDOM:
                random_preds[j] = [(pred_t[e], pred_o[e])]
    for pred_t, pred_o, idx, member, best in runs:
        for e, (lab, j) in enumerate(zip(member, idx)):
            if lab == methods.RANDOM_AVERAGED:
                random_preds[j].append((pred_t[e], pred_o[e]))
                continue
            i = labels.index(lab)
            out["test_loss"][i, j], out["ood_loss"][i, j] = _losses(pred_t[e], yt), _losses(pred_o[e], yo)
            out["best_step"][i, j] = best[e]
    for j, preds in random_preds.items():
        if len(preds) == K and methods.RANDOM_AVERAGED in labels:
            i = labels.index(methods.RANDOM_AVERAGED)
            out["test_loss"][i, j] = _losses(torch.stack([p[0] for p in preds]).mean(0), yt)
            out["ood_loss"][i, j] = _losses(torch.stack([p[1] for p in preds]).mean(0), yo)


@experiment(
    "sample_complexity_sweep", version=5, config_type=SampleComplexityConfig, chapter=CHAPTER, sweep=True, configs=NAMED
)
def sample_complexity_sweep(cfg: SampleComplexityConfig, cells) -> dict:
    """Losses ``(K, method, m, seed, n)`` in and out of distribution (nan where a method does not run) and
    the best step of each network; the rule's matched similarity ``(K, m, seed, n)``; the compute-matched
    MLP's extra steps ``(K, m, seed)``; ``Var(y)`` of each test set ``(K, m, seed)``.

    A resumable sweep: each (K, m, seed) cell is stored as it finishes."""
    # the costliest cells first, so that a run's first cells say how long the rest will take
    items = [
        {"K": K, "m": m, "seed": s}
        for K in sorted(cfg.module_counts, reverse=True)
        for m in sorted(cfg.m_grid, reverse=True)
        for s in cfg.seeds
    ]
    outs = cells.map(
        items, lambda it: _sweep_cell(cfg, it["K"], it["m"], it["seed"]), desc="sample complexity (K, m, seed)"
    )
    shape = (len(cfg.module_counts), len(cfg.m_grid), len(cfg.seeds))
    where = {(it["K"], it["m"], it["seed"]): o for it, o in zip(items, outs)}
    outs = [where[K, m, s] for K in cfg.module_counts for m in cfg.m_grid for s in cfg.seeds]

    def stack(name: str, method_axis: bool = False) -> np.ndarray:
        a = np.stack([np.asarray(o[name]) for o in outs]).reshape(shape + np.shape(outs[0][name]))
        return np.moveaxis(a, 3, 1) if method_axis else a

    return {
        "test_loss": stack("test_loss", True),
        "ood_loss": stack("ood_loss", True),
        "best_step": stack("best_step", True),
        "rule_similarity": stack("rule_similarity"),
        "extra_steps": stack("extra_steps"),
        "var_test": stack("var_test"),
        "var_ood": stack("var_ood"),
        "methods": list(cfg.methods),
    }


@dataclass(frozen=True)
class ObjectiveCostConfig:
    """Wall time of one evaluation and gradient of the kernel objective against the minibatch size."""

    batch_sizes: tuple = (128, 256, 512, 1024, 2048, 4096)
    kernels: tuple = ("features", "ntk", "rbf")
    input_dim: int = 8
    repeats: int = 5

    @classmethod
    def cpu(cls) -> ObjectiveCostConfig:
        return cls()

    @classmethod
    def full(cls) -> ObjectiveCostConfig:
        return cls(batch_sizes=(128, 256, 512, 1024, 2048, 4096, 8192), repeats=10)

    @classmethod
    def tiny(cls) -> ObjectiveCostConfig:
        return cls(batch_sizes=(8, 16), kernels=("features",), repeats=1)

    def __post_init__(self):
        check_fields(
            self,
            batch_sizes=Wholes(2, 65536),
            kernels=SomeOf(KERNELS),
            input_dim=Whole(1, 4096),
            repeats=Whole(1, 1000),
        )


@experiment("objective_cost", version=1, config_type=ObjectiveCostConfig, chapter=CHAPTER)
def objective_cost(cfg: ObjectiveCostConfig) -> dict:
    """Seconds per objective-and-gradient evaluation, (kernel, batch size), median over repeats."""
    from ..rule import ModuleAtInit, kernel_objective, orthonormalise

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


# ---------------------------------------------------------------------------------------------------------
# Is the sweep's monolithic baseline undertrained? The sweep's monolithic network trains with the one step size
# its validation search chose (on two m and two n). Here the same networks (same tasks, data, seeds, width, depth,
# steps and early stopping) train at several step sizes, so that the chapter can pick the step per (m, n, seed)
# on the validation split and see whether a baseline tuned that finely needs fewer samples.
# ---------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class MonolithicStepsConfig:
    """The monolithic network of ``sample_complexity_sweep`` at its named config ``sweep`` (tasks, grids, seeds,
    network and training), trained at each step size of ``lrs``."""

    sweep: str = "cpu"
    lrs: tuple = (3e-3, 1e-2, 3e-2, 1e-1)

    @classmethod
    def cpu(cls) -> MonolithicStepsConfig:
        return cls()

    @classmethod
    def full(cls) -> MonolithicStepsConfig:
        return cls(sweep="full", lrs=(1e-3, 3e-3, 1e-2, 3e-2))

    @classmethod
    def tiny(cls) -> MonolithicStepsConfig:
        return cls(sweep="tiny", lrs=(1e-2, 3e-2))

    def __post_init__(self):
        check_fields(self, sweep=Choice(NAMED + ("tiny",)), lrs=Reals(0, 1, low_open=True))

    def base(self) -> SampleComplexityConfig:
        """The sweep's config whose monolithic network this repeats."""
        return getattr(SampleComplexityConfig, self.sweep)()


def _cell(cfg: MonolithicStepsConfig, K: int, m: int, seed: int) -> dict:
    """Validation and test losses and best steps, (lr, n), of the sweep's monolithic networks at each step."""
    base = cfg.base()
    grid = list(base.n_grid)
    task = _task(base.task, m, K, base.module_dim, seed)
    X, y, Xv, yv = _data(task, max(grid), base.n_val)
    Xt, yt = task.sample(base.n_test, seed=1)
    out = {name: np.full((len(cfg.lrs), len(grid)), np.nan) for name in ("val_loss", "test_loss", "best_step")}
    for i, lr in enumerate(cfg.lrs):
        # the sweep's seeds for its monolithic members (seed * 1000 + j), so the sweep's step is reproduced
        model = MLPEnsemble(
            len(grid), m, base.mlp_width, base.mlp_depth, seeds=[seed * 1000 + j for j in range(len(grid))]
        )
        res = _train(model.to(default_device()), X, y, Xv, yv, grid, base, lr)
        with torch.no_grad():
            out["test_loss"][i] = _losses(model.cpu()(torch.as_tensor(Xt, dtype=torch.float32)), yt)
        out["val_loss"][i], out["best_step"][i] = res.val_loss, res.best_step
    out["var_test"] = np.array(float(np.var(yt)))
    return out


@experiment("monolithic_steps", version=1, config_type=MonolithicStepsConfig, chapter=CHAPTER, sweep=True)
def monolithic_steps(cfg: MonolithicStepsConfig, cells) -> dict:
    """``val_loss``, ``test_loss``, ``best_step`` (K, lr, m, seed, n) and ``var_test`` (K, m, seed) of the
    sweep's monolithic network at each step size. A resumable sweep: one cell per (K, m, seed)."""
    base = cfg.base()
    items = [
        {"K": K, "m": m, "seed": s}
        for K in base.module_counts
        for m in sorted(base.m_grid, reverse=True)
        for s in base.seeds
    ]
    outs = cells.map(items, lambda it: _cell(cfg, it["K"], it["m"], it["seed"]), desc="monolithic steps (K, m, seed)")
    where = {(it["K"], it["m"], it["seed"]): o for it, o in zip(items, outs)}
    ordered = [where[K, m, s] for K in base.module_counts for m in base.m_grid for s in base.seeds]
    shape = (len(base.module_counts), len(base.m_grid), len(base.seeds))
    result = {}
    for name in ("val_loss", "test_loss", "best_step"):
        a = np.stack([np.asarray(o[name]) for o in ordered]).reshape(shape + (len(cfg.lrs), len(base.n_grid)))
        result[name] = np.moveaxis(a, 3, 1)  # (K, lr, m, seed, n)
    result["var_test"] = np.stack([np.asarray(o["var_test"]) for o in ordered]).reshape(shape)
    return result
