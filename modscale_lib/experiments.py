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

__all__ = ["PinvMomentConfig", "pinv_moment", "LinearModelConfig", "linear_model_mc", "NetworkTheoryConfig",
           "network_theory", "width_for_params", "network_theory_panels", "network_theory_predictions"]


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


# ---------------------------------------------------------------------------------------------------------
# Theory against trained networks on the sine-wave task
# ---------------------------------------------------------------------------------------------------------
def width_for_params(n_params: int, input_dim: int, depth: int) -> int:
    """The hidden width whose MLP (``depth`` hidden layers, one output) has the parameter count closest to
    ``n_params``."""
    from .networks import mlp_param_count

    widths = np.arange(1, 20_000)
    counts = np.array([mlp_param_count(input_dim, int(w), depth) for w in widths[: max(64, int(n_params) + 2)]])
    return int(widths[np.argmin(np.abs(np.log(counts) - np.log(n_params)))])


@dataclass(frozen=True)
class NetworkTheoryConfig:
    """Monolithic MLPs trained on the sine-wave task, swept over ``k``, ``m``, ``p`` and ``n`` (four panels).

    Panels: ``k`` over ``k_grid`` at ``m = m_fixed``; ``m`` over ``m_grid`` at ``k = k_fixed``, both for each
    ``p`` in ``p_lines`` and ``n = n_fixed``; ``p`` over ``p_grid`` at ``n = n_fixed``; ``n`` over ``n_grid``
    at ``p = p_fixed``, both for each ``m`` in ``m_lines`` and ``k = k_fixed``. ``p`` values are targets:
    the width is chosen so that the MLP's parameter count is closest. Each setting is trained from
    ``n_seeds`` seeds (network initialisation, data and task draw all change with the seed).
    """

    k_grid: tuple = (2, 3, 4, 5, 6, 7, 8, 9)
    m_grid: tuple = (2, 3, 4, 5, 6, 7, 8, 9)
    p_grid: tuple = _geomspace_ints(100, 10_000, 9)
    n_grid: tuple = _geomspace_ints(100, 10_000, 9)
    p_lines: tuple = (300, 3000)
    m_lines: tuple = (3, 5, 7)
    k_fixed: int = 3
    m_fixed: int = 5
    n_fixed: int = 1000
    p_fixed: int = 1000
    depth: int = 2
    noise: float = 0.0
    steps: int = 3000
    lr: float = 1e-3
    lr_decay: float = 0.01
    batch_size: int = 0          # 0 means full-batch
    n_test: int = 4000
    n_seeds: int = 2

    @classmethod
    def cpu(cls) -> "NetworkTheoryConfig":
        return cls()

    @classmethod
    def full(cls) -> "NetworkTheoryConfig":
        return cls(p_grid=_geomspace_ints(100, 100_000, 16), n_grid=_geomspace_ints(100, 100_000, 16),
                   p_lines=(300, 3000, 30_000), m_lines=(2, 3, 5, 7, 9), steps=6000, n_seeds=5)

    def specs(self) -> list[dict]:
        """Every trained setting: panel, k, m, p (target), n, seed."""
        out = []
        for seed in range(self.n_seeds):
            for p in self.p_lines:
                out += [dict(panel="k", k=k, m=self.m_fixed, p=p, n=self.n_fixed, seed=seed) for k in self.k_grid]
                out += [dict(panel="m", k=self.k_fixed, m=m, p=p, n=self.n_fixed, seed=seed) for m in self.m_grid]
            for m in self.m_lines:
                out += [dict(panel="p", k=self.k_fixed, m=m, p=p, n=self.n_fixed, seed=seed) for p in self.p_grid]
                out += [dict(panel="n", k=self.k_fixed, m=m, p=self.p_fixed, n=n, seed=seed) for n in self.n_grid]
        return out


def _train_mlp_group(specs: list[dict], cfg: NetworkTheoryConfig, device) -> list[dict]:
    """Train one ensemble of MLPs that share ``m``, ``n`` and width; each has its own task, data and seed."""
    import torch

    from .networks import MLPEnsemble
    from .tasks import SineWaveTask
    from .training import evaluate, fit

    m, n, width = specs[0]["m"], specs[0]["n"], specs[0]["width"]
    train, test = [], []
    for s in specs:
        task = SineWaveTask(m, s["k"], noise=cfg.noise, seed=1000 * s["seed"] + s["k"])
        train.append(task.sample(n, seed=2 * s["seed"]))
        test.append(task.sample(cfg.n_test, seed=2 * s["seed"] + 1))
    X = torch.as_tensor(np.stack([t[0] for t in train]), device=device)
    y = torch.as_tensor(np.stack([t[1] for t in train]), device=device)
    seeds = [int(np.random.SeedSequence([s["seed"], s["k"], s["m"], s["n"], s["width"]]).generate_state(1)[0])
             for s in specs]
    model = MLPEnsemble(len(specs), m, width, depth=cfg.depth, seeds=seeds).to(device)
    res = fit(model, X, y, steps=cfg.steps, lr=cfg.lr, lr_decay=cfg.lr_decay,
              batch_size=cfg.batch_size or None, eval_every=max(1, cfg.steps // 10), progress=False,
              model_configs=specs)
    test_loss = evaluate(model, np.stack([t[0] for t in test]), np.stack([t[1] for t in test]))
    n_params = model.n_params()
    return [dict(s, n_params=int(pp), train_loss=float(a), test_loss=float(b))
            for s, pp, a, b in zip(specs, n_params, res.train_loss, test_loss)]


@experiment("network_theory", version=1, config_type=NetworkTheoryConfig)
def network_theory(cfg: NetworkTheoryConfig) -> dict:
    """Train every setting of :meth:`NetworkTheoryConfig.specs`, grouped into ensembles of equal shape."""
    from .networks import default_device

    device = default_device()
    specs = [dict(s, width=width_for_params(s["p"], s["m"], cfg.depth)) for s in cfg.specs()]
    groups: dict = {}
    for s in specs:
        groups.setdefault((s["m"], s["n"], s["width"]), []).append(s)
    # Largest groups first, so the progress bar's estimate is pessimistic rather than optimistic.
    order = sorted(groups, key=lambda g: -g[1] * g[2] * g[2])
    rows = []
    for key in tqdm(order, desc="network sweep (ensembles)"):
        rows += _train_mlp_group(groups[key], cfg, device)
    fields = ("k", "m", "p", "n", "seed", "width", "n_params", "train_loss", "test_loss")
    out = {f: np.array([r[f] for r in rows]) for f in fields}
    out["panel"] = np.array(["kmpn".index(r["panel"]) for r in rows])  # 0: k, 1: m, 2: p, 3: n
    return out


PANELS = {  # panel name: (swept variable, variable that labels the light lines)
    "k": ("k", "p"), "m": ("m", "p"), "p": ("n_params", "m"), "n": ("n", "m"),
}


def network_theory_panels(res) -> dict:
    """Arrange a :func:`network_theory` result by panel, for tables and the four-panel figure.

    Returns ``{panel: {line_value: {"x", "n", "p", "m", "train", "test"}}}`` where ``x`` is the swept variable
    (the measured parameter count for the ``p`` panel), ``train``/``test`` are ``(n_seeds, len(x))`` arrays and
    ``n``, ``p``, ``m`` give each point's sample count, parameter count (mean over seeds) and input dimension.
    """
    panel_ids = np.asarray(res["panel"])
    out = {}
    for pid, name in enumerate("kmpn"):
        sweep, line_key = PANELS[name]
        rows = panel_ids == pid
        line_field = "p" if line_key == "p" else "m"
        lines = {}
        for line in np.unique(np.asarray(res[line_field])[rows]):
            sel = rows & (np.asarray(res[line_field]) == line)
            grid_field = "p" if name == "p" else sweep  # group by the target p; plot the measured count
            grid = np.unique(np.asarray(res[grid_field])[sel])
            seeds = np.unique(np.asarray(res["seed"])[sel])
            table = {f: np.full((seeds.size, grid.size), np.nan) for f in
                     ("train_loss", "test_loss", "n_params", "n", "m")}
            for i, seed in enumerate(seeds):
                for j, g in enumerate(grid):
                    hit = np.flatnonzero(sel & (np.asarray(res["seed"]) == seed) & (np.asarray(res[grid_field]) == g))
                    for f in table:
                        table[f][i, j] = np.asarray(res[f])[hit[0]]
            x = table["n_params"].mean(axis=0) if name == "p" else grid.astype(float)
            lines[int(line)] = {"x": x, "n": table["n"].mean(axis=0), "p": table["n_params"].mean(axis=0),
                                "m": table["m"].mean(axis=0), "train": table["train_loss"],
                                "test": table["test_loss"]}
        out[name] = lines
    return out


def network_theory_predictions(panels: dict, alpha: float, scale: float, noise: float = 0.0) -> dict:
    """The calibrated theory's (train, test) loss at every point of :func:`network_theory_panels`."""
    pred = {}
    for name, lines in panels.items():
        pred[name] = {}
        for line, d in lines.items():
            train, test = theory.power_law_losses(np.round(d["n"]).astype(int), np.round(d["p"]).astype(int),
                                                  d["m"], alpha=alpha, scale=scale, noise=noise)
            pred[name][line] = {"x": d["x"], "train": train, "test": test}
    return pred
