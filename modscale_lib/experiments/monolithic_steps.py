"""Experiment of the chapter *Sample complexity against dimension*, kept in a module of its own because the
chapter's module is at the size limit: is the sweep's monolithic baseline undertrained?

The sweep's monolithic network trains with the one step size its validation search chose (on two ``m`` and two
``n``). Here the same networks (same tasks, data, seeds, width, depth, steps and early stopping) train at
several step sizes, so that the chapter can pick the step per ``(m, n, seed)`` on the validation split and
see whether a baseline tuned that finely needs fewer samples.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from ..core import Choice, Reals, check_fields
from ..networks import MLPEnsemble, default_device
from ..store import experiment
from .sample_complexity import NAMED, SampleComplexityConfig, _data, _losses, _task, _train

__all__ = ["MonolithicStepsConfig", "monolithic_steps"]


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
        model = MLPEnsemble(len(grid), m, base.mlp_width, base.mlp_depth,
                            seeds=[seed * 1000 + j for j in range(len(grid))])
        res = _train(model.to(default_device()), X, y, Xv, yv, grid, base, lr)
        with torch.no_grad():
            out["test_loss"][i] = _losses(model.cpu()(torch.as_tensor(Xt, dtype=torch.float32)), yt)
        out["val_loss"][i], out["best_step"][i] = res.val_loss, res.best_step
    out["var_test"] = np.array(float(np.var(yt)))
    return out


@experiment("monolithic_steps", version=1, config_type=MonolithicStepsConfig, chapter="sample_complexity", sweep=True)
def monolithic_steps(cfg: MonolithicStepsConfig, cells) -> dict:
    """``val_loss``, ``test_loss``, ``best_step`` (K, lr, m, seed, n) and ``var_test`` (K, m, seed) of the
    sweep's monolithic network at each step size. A resumable sweep: one cell per (K, m, seed)."""
    base = cfg.base()
    items = [{"K": K, "m": m, "seed": s} for K in base.module_counts for m in sorted(base.m_grid, reverse=True)
             for s in base.seeds]
    outs = cells.map(items, lambda it: _cell(cfg, it["K"], it["m"], it["seed"]), desc="monolithic steps (K, m, seed)")
    where = {(it["K"], it["m"], it["seed"]): o for it, o in zip(items, outs)}
    ordered = [where[K, m, s] for K in base.module_counts for m in base.m_grid for s in base.seeds]
    shape = (len(base.module_counts), len(base.m_grid), len(base.seeds))
    result = {}
    for name in ("val_loss", "test_loss", "best_step"):
        a = np.stack([np.asarray(o[name]) for o in ordered]).reshape(shape + (len(cfg.lrs), len(base.n_grid)))
        result[name] = np.moveaxis(a, 3, 1)                                   # (K, lr, m, seed, n)
    result["var_test"] = np.stack([np.asarray(o["var_test"]) for o in ordered]).reshape(shape)
    return result
