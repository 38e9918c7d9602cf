"""Experiments of the chapter *Theory meets trained networks*: monolithic MLPs and modular networks with frozen
true projections on the sine-wave task, with label noise, under two training protocols, swept over the number
of modules ``k``, the input dimension ``m``, the parameter count ``p`` and the sample count ``n`` (the four
panels of the authors' figure)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..core import Real, Reals, SomeOf, Whole, Wholes, check_fields
from ..networks import MLPEnsemble, ModularEnsemble, default_device, evaluate, fit, width_for_params
from ..store import experiment
from ..tasks import SineWaveTask

__all__ = ["NetworkTheoryConfig", "network_theory", "ARCHS", "PROTOCOLS", "PANEL_NAMES"]

CHAPTER = "theory_vs_networks"
ARCHS = ("monolithic", "modular")
PROTOCOLS = ("interpolating", "decaying")  # constant step to (near) zero training loss; today's decayed Adam
PANEL_NAMES = ("k", "m", "p", "n")


@dataclass(frozen=True)
class NetworkTheoryConfig:
    """Networks on the sine-wave task (``b = 1``), swept over ``k``, ``m``, ``p`` and ``n`` (four panels),
    for each label-noise variance in ``noises``, each protocol in ``protocols`` and each architecture in
    ``archs``.

    Panels: ``k`` over ``k_grid`` at ``m = m_fixed`` and ``m`` over ``m_grid`` at ``k = k_fixed``, both at
    ``n = n_km`` for each ``p`` in ``p_lines`` (one under-, one over-parameterised); ``p`` over ``p_grid`` at
    ``n = n_fixed`` and ``n`` over ``n_grid`` at ``p = p_fixed``, both at ``m = m_line``, ``k = k_fixed``.
    ``p`` values are targets: the width is chosen so that the trainable parameter count is closest.
    Every setting has ``k <= m`` (``K*b <= m``), so the modules are orthogonal and ``Var(y) = 1 + sigma^2``
    exactly.

    Architectures: ``monolithic``, an MLP with ``depth`` hidden ReLU layers; ``modular``, ``k`` modules of
    ``module_depth`` hidden layers, each reading the task's own projection (frozen; only the modules' MLPs
    train, and only they count in ``p``). Protocols, both full-batch Adam for ``steps`` steps with no early
    stopping: ``interpolating``, a constant step size ``lr_interpolating`` (the stopping rule is the step
    count; the stored train loss says how close each network came to interpolation); ``decaying``, step size
    ``lr_decaying`` annealed by cosine to ``lr_decaying * lr_decay`` (the chapter's earlier protocol).
    Each setting is trained from ``n_seeds`` seeds (task draw, data and initialisation change with the seed;
    the noise levels and protocols of one seed share the task, the inputs and the initial weights).
    """

    k_grid: tuple = (1, 2, 3, 4, 6)
    m_grid: tuple = (2, 3, 5, 7, 9)
    p_grid: tuple = (25, 50, 70, 100, 140, 200, 400, 1600)
    n_grid: tuple = (25, 50, 70, 100, 140, 200, 400, 1600)
    p_lines: tuple = (50, 800)
    k_fixed: int = 2
    m_fixed: int = 6
    m_line: int = 5
    n_km: int = 200
    n_fixed: int = 100
    p_fixed: int = 100
    noises: tuple = (0.0, 0.25, 1.0)
    protocols: tuple = PROTOCOLS
    archs: tuple = ARCHS
    depth: int = 2
    module_depth: int = 1
    steps: int = 2500
    lr_interpolating: float = 1e-2
    lr_decaying: float = 1e-3
    lr_decay: float = 0.01
    n_test: int = 2000
    n_seeds: int = 5

    @classmethod
    def cpu(cls) -> NetworkTheoryConfig:
        return cls()

    @classmethod
    def full(cls) -> NetworkTheoryConfig:
        grid = (100, 200, 400, 600, 800, 1000, 1250, 1600, 2000, 3000, 5000, 10_000, 30_000, 100_000)
        return cls(
            k_grid=(1, 2, 3, 4, 5, 6, 7, 8, 9),
            m_grid=(2, 3, 4, 5, 6, 7, 8, 9),
            p_grid=grid,
            n_grid=grid,
            p_lines=(300, 10_000),
            m_fixed=9,
            n_km=2000,
            n_fixed=1000,
            p_fixed=1000,
            steps=20_000,
            n_seeds=10,
        )

    @classmethod
    def tiny(cls) -> NetworkTheoryConfig:
        return cls(
            k_grid=(1, 2),
            m_grid=(2, 3),
            p_grid=(20, 60),
            n_grid=(20, 60),
            p_lines=(30,),
            m_fixed=2,
            m_line=2,
            n_km=30,
            n_fixed=30,
            p_fixed=30,
            noises=(0.0, 1.0),
            steps=5,
            n_test=50,
            n_seeds=2,
        )

    def __post_init__(self):
        check_fields(
            self,
            k_grid=Wholes(1, 64),
            m_grid=Wholes(1, 1024),
            p_grid=Wholes(10, 10**8),
            n_grid=Wholes(2, 10**7),
            p_lines=Wholes(10, 10**8),
            k_fixed=Whole(1, 64),
            m_fixed=Whole(1, 1024),
            m_line=Whole(1, 1024),
            n_km=Whole(2, 10**7),
            n_fixed=Whole(2, 10**7),
            p_fixed=Whole(10, 10**8),
            noises=Reals(0, 100),
            protocols=SomeOf(PROTOCOLS),
            archs=SomeOf(ARCHS),
            depth=Whole(1, 16),
            module_depth=Whole(1, 16),
            steps=Whole(1, 10**7),
            lr_interpolating=Real(0, low_open=True),
            lr_decaying=Real(0, low_open=True),
            lr_decay=Real(0, 1, low_open=True),
            n_test=Whole(1, 10**7),
            n_seeds=Whole(1, 1000),
        )
        if len(set(self.noises)) != len(self.noises):
            raise ValueError(f"noises must not repeat a value, got {self.noises}")
        if max(self.k_grid) > self.m_fixed:
            raise ValueError(
                f"k_grid must stay <= m_fixed ({self.m_fixed}) so that K*b <= m and Var(y) is exact, got {self.k_grid}"
            )
        if self.k_fixed > min(min(self.m_grid), self.m_line):
            raise ValueError(f"k_fixed ({self.k_fixed}) must be <= every m of m_grid and m_line (K*b <= m)")

    def specs(self, panel: str) -> list[dict]:
        """Every trained setting of one panel: k, m, p (target), n, line (the p of a light line, or 0)."""
        if panel == "k":
            return [dict(k=k, m=self.m_fixed, p=p, n=self.n_km, line=p) for p in self.p_lines for k in self.k_grid]
        if panel == "m":
            return [dict(k=self.k_fixed, m=m, p=p, n=self.n_km, line=p) for p in self.p_lines for m in self.m_grid]
        if panel == "p":
            return [dict(k=self.k_fixed, m=self.m_line, p=p, n=self.n_fixed, line=0) for p in self.p_grid]
        if panel == "n":
            return [dict(k=self.k_fixed, m=self.m_line, p=self.p_fixed, n=n, line=0) for n in self.n_grid]
        raise ValueError(f"panel must be one of {PANEL_NAMES}, got {panel!r}")


def _width(arch: str, p: int, k: int, m: int, cfg: NetworkTheoryConfig) -> int:
    """The hidden width whose trainable parameter count is closest to ``p`` (per module for modular nets)."""
    if arch == "monolithic":
        return width_for_params(p, m, cfg.depth)
    return width_for_params(max(1, round(p / k)), 1, cfg.module_depth)


def _task(s: dict, seed: int, noise_var: float) -> SineWaveTask:
    return SineWaveTask(s["m"], s["k"], noise=float(np.sqrt(noise_var)), seed=10_000 * seed + 100 * s["k"] + s["m"])


def _train_group(arch: str, protocol: str, specs: list[dict], cfg: NetworkTheoryConfig, device) -> list[dict]:
    """Train one ensemble: every seed and noise level of settings that share ``m``, ``k``, ``n`` and width."""
    import torch

    m, k, n, width = (specs[0][f] for f in ("m", "k", "n", "width"))
    runs = [dict(s, seed=seed, noise=v) for s in specs for seed in range(cfg.n_seeds) for v in cfg.noises]
    tasks = [_task(r, r["seed"], r["noise"]) for r in runs]
    train = [t.sample(n, seed=2 * r["seed"]) for t, r in zip(tasks, runs)]
    test = [t.sample(cfg.n_test, seed=2 * r["seed"] + 1) for t, r in zip(tasks, runs)]
    X = torch.as_tensor(np.stack([t[0] for t in train]), device=device)
    y = torch.as_tensor(np.stack([t[1] for t in train]), device=device)
    # One initialisation per (seed, setting), shared by the noise levels and protocols: paired comparisons.
    seeds = [
        int(np.random.SeedSequence([r["seed"], k, m, n, width, ARCHS.index(arch)]).generate_state(1)[0]) for r in runs
    ]
    if arch == "monolithic":
        model = MLPEnsemble(len(runs), m, width, depth=cfg.depth, seeds=seeds).to(device)
    else:
        model = ModularEnsemble(
            len(runs),
            m,
            k,
            1,
            width=width,
            depth=cfg.module_depth,
            projections=np.stack([t.projections for t in tasks]),
            train_projections=False,
            seeds=seeds,
        ).to(device)
    lr, decay = (cfg.lr_interpolating, None) if protocol == "interpolating" else (cfg.lr_decaying, cfg.lr_decay)
    res = fit(
        model,
        X,
        y,
        steps=cfg.steps,
        lr=lr,
        lr_decay=decay,
        batch_size=None,
        eval_every=cfg.steps,
        progress=False,
        model_configs=[dict(r, arch=arch, protocol=protocol) for r in runs],
    )
    train_loss = res.train_loss
    test_loss = evaluate(model, np.stack([t[0] for t in test]), np.stack([t[1] for t in test]))
    n_params = model.n_params() - (k * m if arch == "modular" else 0)  # frozen projections do not count
    return [
        dict(r, n_params=int(q), train_loss=float(a), test_loss=float(b), var_y=1.0 + r["noise"])
        for r, q, a, b in zip(runs, n_params, train_loss, test_loss)
    ]


FIELDS = ("k", "m", "p", "n", "line", "seed", "noise", "width", "n_params", "train_loss", "test_loss", "var_y")


def _cell(cfg: NetworkTheoryConfig, arch: str, protocol: str, panel: str) -> dict:
    """One (architecture, protocol, panel) cell: every setting, seed and noise level, one ensemble per shape."""
    import torch

    torch.manual_seed(0)
    device = default_device()
    groups: dict = {}
    for s in cfg.specs(panel):
        s = dict(s, width=_width(arch, s["p"], s["k"], s["m"], cfg))
        groups.setdefault(
            (s["m"], s["k"], s["n"], s["width"]) if arch == "modular" else (s["m"], s["n"], s["width"]), []
        ).append(s)
    rows = []
    for key in sorted(groups):
        rows += _train_group(arch, protocol, groups[key], cfg, device)
    return {f: np.array([r[f] for r in rows]) for f in FIELDS}


@experiment("network_theory", version=2, config_type=NetworkTheoryConfig, chapter=CHAPTER, sweep=True)
def network_theory(cfg: NetworkTheoryConfig, cells) -> dict:
    """Train every setting of :meth:`NetworkTheoryConfig.specs`, for every architecture, protocol and panel.

    A resumable sweep: each (architecture, protocol, panel) cell is stored as it finishes. Returns one row per
    network: ``arch``, ``protocol``, ``panel`` (indices into ``archs``, ``protocols`` and ``PANEL_NAMES``) and
    the fields of ``FIELDS`` (losses are raw mean squared errors; ``var_y = 1 + noise`` is the exact label
    variance that normalises them).
    """
    items = [{"arch": a, "protocol": pr, "panel": pa} for a in cfg.archs for pr in cfg.protocols for pa in PANEL_NAMES]
    outs = cells.map(
        items,
        lambda it: _cell(cfg, it["arch"], it["protocol"], it["panel"]),
        desc="network sweep (arch, protocol, panel)",
    )
    out = {f: np.concatenate([np.asarray(o[f]) for o in outs]) for f in FIELDS}
    sizes = [len(o["k"]) for o in outs]
    for name, values in (("arch", ARCHS), ("protocol", PROTOCOLS), ("panel", PANEL_NAMES)):
        out[name] = np.repeat([values.index(it[name]) for it in items], sizes)
    return out
