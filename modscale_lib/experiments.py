"""One function per figure or table of the book, each with its config dataclass and two scales.

Every experiment is registered with the results store (:func:`modscale_lib.results.experiment`) and is
called through :func:`modscale_lib.results.load_or_run`, never directly from a notebook. Configs are frozen
dataclasses with a ``cpu()`` scale (committed, runs on a laptop) and a ``full()`` scale (the paper's ranges).
Bump an experiment's ``version`` whenever a code change alters what it computes: old results then stop
matching and the book asks for a recomputation instead of showing stale numbers.
"""
from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
from tqdm.auto import tqdm

from . import theory
from .results import experiment

__all__ = ["PinvMomentConfig", "pinv_moment", "LinearModelConfig", "linear_model_mc", "NetworkTheoryConfig",
           "network_theory", "width_for_params", "network_theory_panels", "network_theory_predictions",
           "ModuleRecoveryConfig", "module_recovery", "RuleSensitivityConfig", "rule_sensitivity",
           "ProjectionTrainingConfig", "projection_training", "SampleComplexityConfig",
           "sample_complexity_sweep", "ObjectiveCostConfig", "objective_cost", "panel_summary"]


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


# ---------------------------------------------------------------------------------------------------------
# The learning rule: recovering modules
# ---------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ModuleRecoveryConfig:
    """Each variant of the rule with each kernel on sine-wave tasks (``m``, ``K`` modules, ``b = 1``),
    one task and data set per seed; records the similarity of every found module to every true one."""

    input_dim: int = 8
    n_modules: int = 2
    n_samples: int = 4000
    variants: tuple = ("paper", "deflation", "backfit")
    kernels: tuple = ("features", "rbf", "ntk")
    seeds: tuple = tuple(range(8))
    steps: int = 300
    lr: float = 0.05
    batch_size: int = 512
    ridge: float = 1e-2

    @classmethod
    def cpu(cls) -> "ModuleRecoveryConfig":
        return cls()

    @classmethod
    def full(cls) -> "ModuleRecoveryConfig":
        return cls(seeds=tuple(range(32)))


@experiment("module_recovery", version=1, config_type=ModuleRecoveryConfig)
def module_recovery(cfg: ModuleRecoveryConfig) -> dict:
    """Similarity matrices (variant, kernel, seed, true module, found module) and wall time per run."""
    from . import metrics
    from .learning_rule import find_module_projections
    from .tasks import SineWaveTask

    K = cfg.n_modules
    shape = (len(cfg.variants), len(cfg.kernels), len(cfg.seeds))
    sim = np.zeros(shape + (K, K))
    seconds = np.zeros(shape)
    runs = [(i, j, s) for i in range(shape[0]) for j in range(shape[1]) for s in range(shape[2])]
    for i, j, s in tqdm(runs, desc="module recovery"):
        task = SineWaveTask(cfg.input_dim, K, seed=cfg.seeds[s])
        X, y = task.sample(cfg.n_samples, seed=0)
        start = time.perf_counter()
        U = find_module_projections(X, y, K, 1, variant=cfg.variants[i], kernel=cfg.kernels[j], steps=cfg.steps,
                                    lr=cfg.lr, batch_size=cfg.batch_size, ridge=cfg.ridge, seed=cfg.seeds[s])
        seconds[i, j, s] = time.perf_counter() - start
        sim[i, j, s] = metrics.module_similarity(task.projections, U)
    return {"similarity": sim, "seconds": seconds}


@dataclass(frozen=True)
class RuleSensitivityConfig:
    """One setting of the rule changed at a time from the defaults (``backfit``, feature kernel)."""

    input_dim: int = 8
    n_modules: int = 2
    n_samples: int = 4000
    variant: str = "backfit"
    ridges: tuple = (1e-3, 1e-2, 1e-1)
    lrs: tuple = (0.01, 0.05, 0.2)
    batch_sizes: tuple = (128, 512)
    steps_list: tuple = (100, 300)
    kernels: tuple = ("features", "ntk", "rbf")
    seeds: tuple = (0, 1)

    @classmethod
    def cpu(cls) -> "RuleSensitivityConfig":
        return cls()

    @classmethod
    def full(cls) -> "RuleSensitivityConfig":
        return cls(ridges=(1e-3, 1e-2, 1e-1, 1.0), batch_sizes=(128, 512, 2048), steps_list=(100, 300, 1000),
                   seeds=tuple(range(16)))

    def settings(self) -> list[dict]:
        base = {"ridge": 1e-2, "lr": 0.05, "batch_size": 512, "steps": 300, "kernel": "features"}
        out = [dict(base, changed="ridge", ridge=v) for v in self.ridges]
        out += [dict(base, changed="lr", lr=v) for v in self.lrs]
        out += [dict(base, changed="batch_size", batch_size=v) for v in self.batch_sizes]
        out += [dict(base, changed="steps", steps=v) for v in self.steps_list]
        out += [dict(base, changed="kernel", kernel=v) for v in self.kernels]
        return out


@experiment("rule_sensitivity", version=1, config_type=RuleSensitivityConfig)
def rule_sensitivity(cfg: RuleSensitivityConfig) -> dict:
    """Matched mean cos^2 for each setting and seed, (settings, seeds)."""
    from . import metrics
    from .learning_rule import find_module_projections
    from .tasks import SineWaveTask

    settings = cfg.settings()
    matched = np.zeros((len(settings), len(cfg.seeds)))
    for i, st in enumerate(tqdm(settings, desc="rule sensitivity")):
        for s, seed in enumerate(cfg.seeds):
            task = SineWaveTask(cfg.input_dim, cfg.n_modules, seed=seed)
            X, y = task.sample(cfg.n_samples, seed=0)
            U = find_module_projections(X, y, cfg.n_modules, 1, variant=cfg.variant, kernel=st["kernel"],
                                        steps=st["steps"], lr=st["lr"], batch_size=st["batch_size"],
                                        ridge=st["ridge"], seed=seed)
            matched[i, s] = metrics.matched_similarity(task.projections, U)
    return {"matched": matched, "changed": [st["changed"] for st in settings],
            "value": [str(st[st["changed"]]) for st in settings]}


@dataclass(frozen=True)
class ProjectionTrainingConfig:
    """Modular networks trained on the task from three initialisations of their projections (random, the
    paper's rule, the book's default rule), recording how close their projections are to the true ones."""

    input_dim: int = 8
    n_modules: int = 2
    n_samples: int = 4000
    width: int = 32
    steps: int = 1000
    lr: float = 1e-3
    batch_size: int = 256
    record_every: int = 50
    inits: tuple = ("random", "paper", "backfit")
    seeds: tuple = tuple(range(6))

    @classmethod
    def cpu(cls) -> "ProjectionTrainingConfig":
        return cls()

    @classmethod
    def full(cls) -> "ProjectionTrainingConfig":
        return cls(steps=5000, seeds=tuple(range(24)))


@experiment("projection_training", version=1, config_type=ProjectionTrainingConfig)
def projection_training(cfg: ProjectionTrainingConfig) -> dict:
    """Similarity to the true projections over training, (init, seed, record) for two measures, plus the
    final projections and test losses."""
    import torch

    from . import metrics
    from .learning_rule import find_module_projections
    from .networks import ModularEnsemble, random_projections
    from .tasks import SineWaveTask
    from .training import evaluate, fit

    n_rec = cfg.steps // cfg.record_every + 1
    shape = (len(cfg.inits), len(cfg.seeds))
    score = np.zeros(shape + (n_rec,))
    matched = np.zeros(shape + (n_rec,))
    final = np.zeros(shape + (cfg.n_modules, cfg.input_dim))
    true = np.zeros((len(cfg.seeds), cfg.n_modules, cfg.input_dim))
    test = np.zeros(shape)
    for s, seed in enumerate(tqdm(cfg.seeds, desc="projection training")):
        task = SineWaveTask(cfg.input_dim, cfg.n_modules, seed=seed)
        X, y = task.sample(cfg.n_samples, seed=0)
        Xt, yt = task.sample(4000, seed=1)
        true[s] = task.projections[:, :, 0]
        inits = []
        for init in cfg.inits:
            if init == "random":
                inits.append(random_projections(1, cfg.n_modules, cfg.input_dim, 1, seeds=[seed])[0].numpy())
            else:
                inits.append(find_module_projections(X, y, cfg.n_modules, 1, variant=init, seed=seed))
        model = ModularEnsemble(len(cfg.inits), cfg.input_dim, cfg.n_modules, 1, width=cfg.width,
                                projections=np.stack(inits), seeds=[seed] * len(cfg.inits))
        record = []

        def callback(step, net):
            with torch.no_grad():
                U = net.projections.detach().numpy().astype(np.float64)
            U = np.stack([np.linalg.qr(u[:, :, 0].T)[0].T[:, :, None] for u in U])  # compare spans
            record.append([(metrics.similarity_score(task.projections, u),
                            metrics.matched_similarity(task.projections, u)) for u in U])

        fit(model, X, y, steps=cfg.steps, lr=cfg.lr, batch_size=cfg.batch_size, eval_every=cfg.record_every,
            progress=False, callback=callback)
        rec = np.array(record)  # (n_rec, inits, 2)
        score[:, s], matched[:, s] = rec[:, :, 0].T, rec[:, :, 1].T
        final[:, s] = model.projections.detach().numpy()[:, :, :, 0]
        test[:, s] = evaluate(model, Xt, yt)
    return {"score": score, "matched": matched, "final_projections": final, "true_projections": true,
            "test_loss": test, "steps": np.arange(n_rec) * cfg.record_every}


# ---------------------------------------------------------------------------------------------------------
# Sample complexity against input dimension
# ---------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SampleComplexityConfig:
    """Test loss of six methods on sine-wave tasks (``K`` modules, ``b = 1``) over a grid of ``n``, for each
    input dimension ``m`` and seed, in and out of distribution.

    Methods: a monolithic MLP (two hidden layers of ``mlp_width``); modular networks (``K`` modules, each one
    hidden layer of ``module_width``) whose projections start random, from the paper's rule (Algorithm 1),
    from the backfit rule (the library's default), from the spectral rule (backfit inside the moment span),
    or at the true projections (the oracle). All parameters train. The modular methods train together as one
    batched ensemble.
    """

    m_grid: tuple = (2, 3, 4, 5, 6, 7, 8, 9, 12, 16)
    n_grid: tuple = (50, 100, 200, 400, 800, 1600, 3200, 6400)
    n_modules: int = 2
    seeds: tuple = (0, 1, 2)
    methods: tuple = ("monolithic", "modular, random", "modular, paper rule", "modular, backfit rule",
                      "modular, spectral rule", "modular, oracle")
    mlp_width: int = 64
    module_width: int = 32
    steps: int = 2000
    lr: float = 3e-3
    batch_size: int = 256
    rule_steps: int = 200
    rule_batch: int = 256
    n_test: int = 4000
    ood_scale: float = 2.0

    @classmethod
    def cpu(cls) -> "SampleComplexityConfig":
        return cls()

    @classmethod
    def full(cls) -> "SampleComplexityConfig":
        return cls(m_grid=tuple(range(2, 17)), n_grid=tuple(int(50 * 2 ** (i / 2)) for i in range(19)),
                   seeds=tuple(range(5)), steps=4000, rule_steps=300, rule_batch=512)

    def __post_init__(self):
        known = {"monolithic", "modular, random", "modular, oracle"} | {f"modular, {v} rule" for v in RULES}
        unknown = [m for m in self.methods if m not in known]
        if unknown:
            raise ValueError(f"methods must be among {sorted(known)}, got {unknown}")


RULES = ("paper", "backfit", "spectral")


@experiment("sample_complexity", version=3, config_type=SampleComplexityConfig)
def sample_complexity_sweep(cfg: SampleComplexityConfig) -> dict:
    """Test losses (method, m, seed, n), in and out of distribution, and the rules' module similarity
    (rule, m, seed, n) for the rules in ``RULES`` (nan for a rule not among the methods)."""
    from . import metrics
    from .learning_rule import find_module_projections
    from .networks import MLPEnsemble, ModularEnsemble, default_device, random_projections
    from .tasks import SineWaveTask
    from .training import evaluate, fit

    device = default_device()
    shape = (len(cfg.methods), len(cfg.m_grid), len(cfg.seeds), len(cfg.n_grid))
    test, ood = np.full(shape, np.nan), np.full(shape, np.nan)
    rule_sim = np.full((len(RULES),) + shape[1:], np.nan)
    var_test, var_ood = np.zeros(shape[1:3]), np.zeros(shape[1:3])
    n_max, E, K = max(cfg.n_grid), len(cfg.n_grid), cfg.n_modules
    modular = [i for i, method in enumerate(cfg.methods) if method != "monolithic"]
    jobs = [(a, b) for a in range(len(cfg.m_grid)) for b in range(len(cfg.seeds))]
    for a, b in tqdm(jobs, desc="sample complexity (m, seed)"):
        m, seed = cfg.m_grid[a], cfg.seeds[b]
        task = SineWaveTask(m, K, seed=seed)
        X, y = task.sample(n_max, seed=0)
        Xt, yt = task.sample(cfg.n_test, seed=1)
        Xo, yo = task.sample_ood(cfg.n_test, seed=2, scale=cfg.ood_scale)
        var_test[a, b], var_ood[a, b] = float(np.var(yt)), float(np.var(yo))
        seeds = [seed * 1000 + i for i in range(E)]
        train = dict(steps=cfg.steps, lr=cfg.lr, lr_decay=0.01, batch_size=cfg.batch_size, eval_every=cfg.steps,
                     progress=False)
        if "monolithic" in cfg.methods:
            i = cfg.methods.index("monolithic")
            model = MLPEnsemble(E, m, cfg.mlp_width, depth=2, seeds=seeds).to(device)
            fit(model, X, y, n_samples=list(cfg.n_grid), **train,
                model_configs=[dict(method="monolithic", m=m, seed=seed, n=n) for n in cfg.n_grid])
            test[i, a, b], ood[i, a, b] = evaluate(model, Xt, yt), evaluate(model, Xo, yo)
        if not modular:
            continue
        projections = []
        for i in modular:
            method = cfg.methods[i]
            if method == "modular, random":
                U = random_projections(E, K, m, 1, seeds=seeds).numpy()
            elif method == "modular, oracle":
                U = np.broadcast_to(task.projections, (E, K, m, 1))
            else:
                variant = method.split(", ")[1].split()[0]
                U = np.stack([find_module_projections(X[:n], y[:n], K, 1, variant=variant, steps=cfg.rule_steps,
                                                      batch_size=min(cfg.rule_batch, n), seed=seed)
                              for n in cfg.n_grid])
                rule_sim[RULES.index(variant), a, b] = [metrics.matched_similarity(task.projections, u) for u in U]
            projections.append(U)
        # Every modular method has the same shape, so all of them train as one ensemble (same seeds per n, so
        # methods differ only in their initial projections).
        model = ModularEnsemble(E * len(modular), m, K, 1, width=cfg.module_width,
                                projections=np.concatenate(projections), seeds=seeds * len(modular)).to(device)
        fit(model, X, y, n_samples=list(cfg.n_grid) * len(modular), **train,
            model_configs=[dict(method=cfg.methods[i], m=m, seed=seed, n=n) for i in modular for n in cfg.n_grid])
        losses, losses_ood = evaluate(model, Xt, yt), evaluate(model, Xo, yo)
        for j, i in enumerate(modular):
            test[i, a, b], ood[i, a, b] = losses[j * E:(j + 1) * E], losses_ood[j * E:(j + 1) * E]
    return {"test_loss": test, "ood_loss": ood, "rule_similarity": rule_sim, "rules": list(RULES),
            "var_test": var_test, "var_ood": var_ood}


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


@experiment("objective_cost", version=1, config_type=ObjectiveCostConfig)
def objective_cost(cfg: ObjectiveCostConfig) -> dict:
    """Seconds per objective-and-gradient evaluation, (kernel, batch size), median over repeats."""
    import torch

    from .learning_rule import _ModuleAtInit, kernel_objective, orthonormalise

    module = _ModuleAtInit(1, 256, 1, seed=0)
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


def panel_summary(panels: dict, predictions: dict, name: str) -> tuple[np.ndarray, dict]:
    """One panel's bold lines as numbers: the swept values and the networks' and theory's mean train and
    test loss there (averaged over the light lines, and over seeds for the networks)."""
    lines, pred = panels[name], predictions[name]
    x = np.mean([d["x"] for d in lines.values()], axis=0)
    cols = {}
    for who in ("net", "theory"):
        for stat in ("train", "test"):
            rows = [d[stat].mean(axis=0) if who == "net" else pred[k][stat] for k, d in lines.items()]
            cols[f"{who} {stat}"] = np.mean(rows, axis=0)
    return x, cols


# The Compositional CIFAR-10 experiment lives in its own module; importing it registers it with the store.
from .compositional import CompositionalCifarConfig, compositional_cifar_experiment  # noqa: E402,F401
