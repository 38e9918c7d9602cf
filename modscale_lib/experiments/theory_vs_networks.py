"""Experiments of the chapter *Theory meets trained networks*: monolithic MLPs on the sine-wave task, swept
over the number of modules ``k``, the input dimension ``m``, the parameter count ``p`` and the sample count
``n`` (the four panels of the authors' figure)."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from tqdm.auto import tqdm

from ..networks import MLPEnsemble, default_device, width_for_params
from ..results import experiment
from ..tasks import SineWaveTask
from ..training import evaluate, fit
from .common import check_fields, geomspace_ints, real, whole, wholes

__all__ = ["NetworkTheoryConfig", "network_theory"]

CHAPTER = "theory_vs_networks"


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
    p_grid: tuple = geomspace_ints(100, 10_000, 9)
    n_grid: tuple = geomspace_ints(100, 10_000, 9)
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
        return cls(p_grid=geomspace_ints(100, 100_000, 16), n_grid=geomspace_ints(100, 100_000, 16),
                   p_lines=(300, 3000, 30_000), m_lines=(2, 3, 5, 7, 9), steps=6000, n_seeds=5)

    @classmethod
    def tiny(cls) -> "NetworkTheoryConfig":
        return cls(k_grid=(2,), m_grid=(2,), p_grid=(50,), n_grid=(40,), p_lines=(50,), m_lines=(2,), k_fixed=2,
                   m_fixed=2, n_fixed=40, p_fixed=50, steps=5, n_test=50, n_seeds=1)

    def __post_init__(self):
        check_fields(self, k_grid=wholes(1, 64), m_grid=wholes(1, 1024), p_grid=wholes(10, 10 ** 8),
                     n_grid=wholes(2, 10 ** 7), p_lines=wholes(10, 10 ** 8), m_lines=wholes(1, 1024),
                     k_fixed=whole(1, 64), m_fixed=whole(1, 1024), n_fixed=whole(2, 10 ** 7),
                     p_fixed=whole(10, 10 ** 8), depth=whole(1, 16), noise=real(0), steps=whole(1, 10 ** 7),
                     lr=real(0, low_open=True), lr_decay=real(0, 1, low_open=True), batch_size=whole(0),
                     n_test=whole(1, 10 ** 7), n_seeds=whole(1, 1000))

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

    m, n, width = specs[0]["m"], specs[0]["n"], specs[0]["width"]
    train, test = [], []
    for s in specs:
        task = SineWaveTask(m, s["k"], noise=cfg.noise, seed=1000 * s["seed"] + s["k"])
        train.append(task.sample(n, seed=2 * s["seed"]))
        test.append(task.sample(cfg.n_test, seed=2 * s["seed"] + 1))
    X = torch.as_tensor(np.stack([t[0] for t in train]), device=device)
    y = torch.as_tensor(np.stack([t[1] for t in train]), device=device)
    # The first 32 bits of the stream named by the setting: the seed each network was trained with.
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


@experiment("network_theory", version=1, config_type=NetworkTheoryConfig, chapter=CHAPTER)
def network_theory(cfg: NetworkTheoryConfig) -> dict:
    """Train every setting of :meth:`NetworkTheoryConfig.specs`, grouped into ensembles of equal shape."""
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
