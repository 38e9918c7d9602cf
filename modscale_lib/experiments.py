"""One function per figure or table of the book, each with its config dataclass and two scales.

Every experiment is registered with the results store (:func:`modscale_lib.results.experiment`) and is
called through :func:`modscale_lib.results.load_or_run`, never directly from a notebook. Configs are frozen
dataclasses with a ``cpu()`` scale (committed, runs on a laptop) and a ``full()`` scale (the paper's ranges).
Bump an experiment's ``version`` whenever a code change alters what it computes: old results then stop
matching and the book asks for a recomputation instead of showing stale numbers.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from tqdm.auto import tqdm

from . import theory
from .results import experiment

__all__ = ["PinvMomentConfig", "pinv_moment", "LinearModelConfig", "linear_model_mc"]


@dataclass(frozen=True)
class PinvMomentConfig:
    """Monte Carlo of ``E||R^+||_F^2`` for ``N x p`` Gaussian ``R``, over ``N = n_min..n_max`` at fixed ``p``.

    ``N`` within one of ``p`` is skipped: the moment is infinite there.
    """

    p: int = 20
    n_min: int = 2
    n_max: int = 80
    trials: int = 2000
    seed: int = 0

    @classmethod
    def cpu(cls) -> "PinvMomentConfig":
        return cls()

    @classmethod
    def full(cls) -> "PinvMomentConfig":
        return cls(p=50, n_max=200, trials=10000)

    def __post_init__(self):
        if self.p < 1:
            raise ValueError(f"p must be >= 1, got {self.p}")
        if not 1 <= self.n_min < self.n_max:
            raise ValueError(f"need 1 <= n_min < n_max, got n_min={self.n_min}, n_max={self.n_max}")
        if self.trials < 2:
            raise ValueError(f"trials must be >= 2, got {self.trials}")


@experiment("pinv_moment", version=1, config_type=PinvMomentConfig)
def pinv_moment(cfg: PinvMomentConfig) -> dict:
    """Monte Carlo of the pseudo-inverse moment that drives double descent, one estimate per ``N``."""
    N = np.array([n for n in range(cfg.n_min, cfg.n_max + 1) if abs(n - cfg.p) > 1])
    mean, sem = np.empty(N.size), np.empty(N.size)
    for i, n in enumerate(tqdm(N, desc="pinv moment", leave=False)):
        # A distinct, reproducible stream per N, so that adding N values does not change the others.
        mean[i], sem[i] = theory.simulate_pinv_frobenius_moment(int(n), cfg.p, cfg.trials, seed=cfg.seed + int(n))
    # Only the simulation is stored: the closed form is cheap, and the book evaluates it live so that a
    # change in the library shows up as a changed output under nbval.
    return {"N": N, "mc_mean": mean, "mc_sem": sem}


def _geomspace_ints(start: int, stop: int, num: int) -> tuple:
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
    n_grid: tuple = _geomspace_ints(4, 200, 36)
    p_grid: tuple = _geomspace_ints(4, 200, 36)
    trials: int = 2000
    seed: int = 0

    @classmethod
    def cpu(cls) -> "LinearModelConfig":
        return cls()

    @classmethod
    def full(cls) -> "LinearModelConfig":
        return cls(n_features=400, p_fixed=120, n_fixed=120, n_grid=_geomspace_ints(4, 400, 80),
                   p_grid=_geomspace_ints(4, 400, 80), d_values=(1, 2, 3), trials=4000)

    def __post_init__(self):
        if max(self.p_grid + (self.p_fixed,)) > self.n_features:
            raise ValueError(f"p_grid and p_fixed must not exceed n_features ({self.n_features})")
        if min(self.n_grid + self.p_grid + self.d_values + (self.n_fixed, self.p_fixed)) < 1:
            raise ValueError("n_grid, p_grid, d_values, n_fixed and p_fixed must be >= 1")

    def spectrum(self) -> np.ndarray:
        return theory.power_law_spectrum(self.n_features, self.input_dim, self.alpha)


@experiment("linear_model_mc", version=1, config_type=LinearModelConfig)
def linear_model_mc(cfg: LinearModelConfig) -> dict:
    """Monte Carlo train/test losses of the minimum-norm fit, over ``n`` and over ``p``, for each ``d``."""
    lam = cfg.spectrum()
    points = [("n", d, n, cfg.p_fixed) for d in cfg.d_values for n in cfg.n_grid]
    points += [("p", d, cfg.n_fixed, p) for d in cfg.d_values for p in cfg.p_grid]
    out = {f"{sweep}_{stat}": np.empty((len(cfg.d_values), len(grid)))
           for sweep, grid in (("n", cfg.n_grid), ("p", cfg.p_grid))
           for stat in ("train", "test", "train_se", "test_se")}
    for k, (sweep, d, n, p) in enumerate(tqdm(points, desc="linear model Monte Carlo")):
        i = cfg.d_values.index(d)
        j = (cfg.n_grid if sweep == "n" else cfg.p_grid).index(n if sweep == "n" else p)
        sim = theory.simulate_losses(n, p, lam, d=d, noise=cfg.noise, trials=cfg.trials, seed=cfg.seed + k)
        for stat in ("train", "test", "train_se", "test_se"):
            out[f"{sweep}_{stat}"][i, j] = getattr(sim, stat)
    return out
