"""Experiments of the chapter *The linear model*: Monte Carlo of its train and test losses."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from tqdm.auto import tqdm

from .. import theory
from ..core import Real, Whole, Wholes, check_fields
from ..store import experiment

__all__ = ["LinearModelConfig", "linear_model_mc"]

CHAPTER = "theory_linear_model"


def _geomspace_ints(start: int, stop: int, num: int) -> tuple:
    """``num`` geometrically spaced whole numbers from ``start`` to ``stop``, rounded, duplicates removed."""
    return tuple(int(v) for v in np.unique(np.round(np.geomspace(start, stop, num))))


@dataclass(frozen=True)
class LinearModelConfig:
    """Monte Carlo of the linear model's train and test loss, swept over ``n`` (at ``p_fixed``) and over ``p``
    (at ``n_fixed``), for each number of outputs in ``d_values``.

    The task's spectrum is the default power law on ``input_dim`` dimensions, truncated to ``n_features``
    eigenvalues (the features beyond do not exist), with label noise of variance ``noise``.
    """

    n_features: int = 200
    input_dim: int = 2
    alpha: float = 1.0
    noise: float = 0.05
    d_values: tuple = (1, 2)
    p_fixed: int = 60
    n_fixed: int = 60
    n_grid: tuple = _geomspace_ints(4, 200, 24)
    p_grid: tuple = _geomspace_ints(4, 200, 24)
    trials: int = 700
    seed: int = 0

    @classmethod
    def cpu(cls) -> LinearModelConfig:
        return cls()

    @classmethod
    def full(cls) -> LinearModelConfig:
        return cls(
            n_features=400,
            p_fixed=120,
            n_fixed=120,
            n_grid=_geomspace_ints(4, 400, 80),
            p_grid=_geomspace_ints(4, 400, 80),
            d_values=(1, 2, 3),
            trials=4000,
        )

    @classmethod
    def tiny(cls) -> LinearModelConfig:
        return cls(n_features=30, p_fixed=10, n_fixed=10, n_grid=(4, 20), p_grid=(4, 20), d_values=(1,), trials=10)

    def __post_init__(self):
        check_fields(
            self,
            n_features=Whole(1, 100_000),
            input_dim=Whole(1, 1000),
            alpha=Real(0, low_open=True),
            noise=Real(0),
            d_values=Wholes(1, 100),
            p_fixed=Whole(1),
            n_fixed=Whole(1),
            n_grid=Wholes(1, 10**6),
            p_grid=Wholes(1, 10**6),
            trials=Whole(2, 10**6),
            seed=Whole(0),
        )
        if max(self.p_grid + (self.p_fixed,)) > self.n_features:
            raise ValueError(f"p_grid and p_fixed must not exceed n_features ({self.n_features})")

    def spectrum(self) -> np.ndarray:
        return theory.power_law_spectrum(self.n_features, self.input_dim, self.alpha)


@experiment("linear_model_mc", version=1, config_type=LinearModelConfig, chapter=CHAPTER)
def linear_model_mc(cfg: LinearModelConfig) -> dict:
    """Monte Carlo train/test losses of the minimum-norm fit, over ``n`` and over ``p``, for each ``d``."""
    lam = cfg.spectrum()
    points = [("n", d, n, cfg.p_fixed) for d in cfg.d_values for n in cfg.n_grid]
    points += [("p", d, cfg.n_fixed, p) for d in cfg.d_values for p in cfg.p_grid]
    out = {
        f"{sweep}_{stat}": np.empty((len(cfg.d_values), len(grid)))
        for sweep, grid in (("n", cfg.n_grid), ("p", cfg.p_grid))
        for stat in ("train", "test", "train_se", "test_se")
    }
    for k, (sweep, d, n, p) in enumerate(tqdm(points, desc="linear model Monte Carlo")):
        i = cfg.d_values.index(d)
        j = (cfg.n_grid if sweep == "n" else cfg.p_grid).index(n if sweep == "n" else p)
        sim = theory.simulate_losses(n, p, lam, d=d, noise=cfg.noise, trials=cfg.trials, seed=cfg.seed + k)
        for stat in ("train", "test", "train_se", "test_se"):
            out[f"{sweep}_{stat}"][i, j] = getattr(sim, stat)
    return out
