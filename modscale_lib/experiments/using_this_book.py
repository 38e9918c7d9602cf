"""Experiments of the chapter *Using this book*: the Monte Carlo of the pseudo-inverse moment."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from tqdm.auto import tqdm

from .. import theory
from ..core import Whole, check_fields
from ..store import experiment

__all__ = ["PinvMomentConfig", "pinv_moment"]

CHAPTER = "using_this_book"


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
    def cpu(cls) -> PinvMomentConfig:
        return cls()

    @classmethod
    def full(cls) -> PinvMomentConfig:
        return cls(p=50, n_max=200, trials=10000)

    @classmethod
    def tiny(cls) -> PinvMomentConfig:
        return cls(p=4, n_max=12, trials=20)

    def __post_init__(self):
        check_fields(
            self,
            p=Whole(1, 10_000),
            n_min=Whole(1, 100_000),
            n_max=Whole(2, 100_000),
            trials=Whole(2, 10**7),
            seed=Whole(0),
        )
        if not self.n_min < self.n_max:
            raise ValueError(f"need n_min < n_max, got n_min={self.n_min}, n_max={self.n_max}")


@experiment("pinv_moment", version=1, config_type=PinvMomentConfig, chapter=CHAPTER)
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
