"""Experiments of the chapter *Modules of more than one dimension*: which directions each variant of the
learning rule groups into a module, on tasks whose modules are identifiable (``NonSeparableTask``)."""
from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from .. import seeding, validation
from ..learning_rule import VARIANTS, find_module_projections
from ..modular_tasks import MODULE_KINDS, NonSeparableTask
from ..results import experiment
from ..subspaces import grouped_overlap, union_overlap
from .finding_modules import TimedStages
from .common import check_fields, real, some_of, whole, wholes

__all__ = ["ModuleGroupingConfig", "module_grouping", "RANDOM", "FAST"]

CHAPTER = "grouping_modules"
RANDOM = "random"                  # random orthonormal modules: the chance level
FAST = ("grouped", RANDOM)         # measured on the whole n grid; the kernel searches on ``search_n_grid``
SEARCHES = "searches"              # the cell holding every kernel-search variant of one (kind, setting, n, seed)


@dataclass(frozen=True)
class ModuleGroupingConfig:
    """Every variant of the rule, and random subspaces, on ``NonSeparableTask`` at the settings
    ``(n_modules[i], module_dim, input_dims[i])``: union (span) and grouped (matched-module) overlap with
    the true projections, and wall time per call.

    ``grouped`` and ``random`` run on ``n_grid``; the kernel-search variants (``paper``, ``deflation``,
    ``backfit``, ``spectral``), which cost about a minute per call, on ``search_n_grid`` with ``search_steps``
    Adam steps per search. The first module kind gets these grids; the other kinds only ``grouped`` and
    ``random``, at the ``n`` of ``n_grid`` in ``other_kinds_n_grid``. Task ``seed`` draws the task; its samples are drawn with seed ``100 + seed``.

    The kernel searches of one (kind, setting, n, seed) run as one cell: ``deflation`` is read from the
    ``backfit`` run (its first pass, the same projections bit for bit), and ``low_rank_gradient`` is the
    rule's opt-in gradient for the feature kernel (same objective and gradient, different rounding)."""

    n_modules: tuple = (3, 4)
    input_dims: tuple = (12, 16)
    module_dim: int = 2
    kinds: tuple = ("bump_ridge", "hermite")
    variants: tuple = ("paper", "deflation", "backfit", "spectral", "grouped", RANDOM)
    n_grid: tuple = (500, 1000)
    search_n_grid: tuple = (1000,)
    other_kinds_n_grid: tuple = (1000,)
    search_steps: int = 100
    noise: float = 0.1
    seeds: tuple = tuple(range(5))
    low_rank_gradient: bool = True

    @classmethod
    def cpu(cls) -> "ModuleGroupingConfig":
        return cls()

    @classmethod
    def full(cls) -> "ModuleGroupingConfig":
        return cls(n_grid=(250, 500, 1000, 2000, 4000, 6000), search_n_grid=(1000, 2000, 4000, 6000),
                   other_kinds_n_grid=(500, 1000, 2000, 4000, 6000), search_steps=300, seeds=tuple(range(10)))

    @classmethod
    def tiny(cls) -> "ModuleGroupingConfig":
        return cls(n_modules=(2,), input_dims=(5,), kinds=("bump_ridge",), variants=("backfit", "grouped", RANDOM),
                   n_grid=(80,), search_n_grid=(80,), other_kinds_n_grid=(80,), search_steps=3, seeds=(0,))

    def __post_init__(self):
        check_fields(self, n_modules=wholes(1, 64, unique=False), input_dims=wholes(1, 4096, unique=False),
                     module_dim=whole(1, 64), kinds=some_of(MODULE_KINDS), variants=some_of(VARIANTS + (RANDOM,)),
                     n_grid=wholes(10, 10 ** 7), search_n_grid=wholes(10, 10 ** 7),
                     other_kinds_n_grid=wholes(10, 10 ** 7), search_steps=whole(1, 10 ** 6), noise=real(0),
                     seeds=wholes(0), low_rank_gradient=lambda v, name: validation.boolean(v, name))
        if len(self.n_modules) != len(self.input_dims):
            raise ValueError(f"n_modules and input_dims must pair up, got {self.n_modules} and {self.input_dims}")
        for K, m in zip(self.n_modules, self.input_dims):
            if K * self.module_dim > m:
                raise ValueError(f"n_modules * module_dim = {K} * {self.module_dim} must be <= input_dims = {m}")

    def settings(self) -> list[tuple[int, int, int]]:
        """``(K, b, m)`` of each setting."""
        return [(K, self.module_dim, m) for K, m in zip(self.n_modules, self.input_dims)]

    def n_values(self) -> tuple:
        """Every ``n`` measured, sorted: the axis of the result's arrays."""
        return tuple(sorted(set(self.n_grid) | set(self.search_n_grid)))

    def grid(self, kind: str, variant: str) -> tuple:
        """The ``n`` at which ``variant`` runs on module kind ``kind``."""
        if kind != self.kinds[0]:
            return tuple(n for n in self.n_grid if n in self.other_kinds_n_grid) if variant in FAST else ()
        return self.n_grid if variant in FAST else self.search_n_grid

    def items(self) -> list[dict]:
        """One cell per (kind, setting, variant, n, seed) for ``grouped`` and ``random``, and one per
        (kind, setting, n, seed) for all the kernel searches together (``variant`` = ``SEARCHES``)."""
        fast = [v for v in self.variants if v in FAST]
        cells = [{"kind": kind, "K": K, "m": m, "variant": v, "n": n, "seed": s}
                 for kind in self.kinds for K, _, m in self.settings() for v in fast
                 for n in self.grid(kind, v) for s in self.seeds]
        if any(v not in FAST for v in self.variants):
            cells += [{"kind": kind, "K": K, "m": m, "variant": SEARCHES, "n": n, "seed": s}
                      for kind in self.kinds for K, _, m in self.settings()
                      for n in self.grid(kind, SEARCHES) for s in self.seeds]
        return cells


def _random_modules(K: int, b: int, m: int, seed: int) -> np.ndarray:
    q = np.linalg.qr(seeding.numpy_generator(seed, 77).standard_normal((m, K * b)))[0]
    return q.T.reshape(K, b, m).transpose(0, 2, 1)


def _scores(task, U, start: tuple) -> dict:
    """Overlaps of ``U`` with the truth, and the wall and process CPU seconds since ``start``."""
    return {"union": float(union_overlap(task.projections, U)),
            "grouped": float(grouped_overlap(task.projections, U)),
            "seconds": float(time.perf_counter() - start[0]), "cpu_seconds": float(time.process_time() - start[1])}


def _now() -> tuple:
    return time.perf_counter(), time.process_time()


def _cell(cfg: ModuleGroupingConfig, item: dict) -> dict:
    K, b, m, seed = item["K"], cfg.module_dim, item["m"], item["seed"]
    task = NonSeparableTask(m, K, b, module_kind=item["kind"], noise=cfg.noise, seed=seed)
    X, y = task.sample(item["n"], seed=100 + seed)
    X, y = np.asarray(X, np.float64), np.asarray(y, np.float64)
    start = _now()
    if item["variant"] == RANDOM:
        return _scores(task, _random_modules(K, b, m, seed), start)
    if item["variant"] == "grouped":
        return _scores(task, find_module_projections(X, y, K, b, variant="grouped", seed=seed), start)
    out, rule = {}, dict(steps=cfg.search_steps, seed=seed, low_rank_gradient=cfg.low_rank_gradient)
    searches = [v for v in cfg.variants if v not in FAST]
    for variant in [v for v in searches if v not in ("deflation", "backfit")]:
        start = _now()
        out[variant] = _scores(task, find_module_projections(X, y, K, b, variant=variant, **rule), start)
    chained = [v for v in ("deflation", "backfit") if v in searches]
    if chained:  # one backfit run gives deflation's result as its first stage
        stages, start = TimedStages(), _now()
        U = find_module_projections(X, y, K, b, variant=chained[-1], stages=stages, **rule)
        out[chained[-1]] = _scores(task, U, start)
        out["deflation"] = dict(_scores(task, stages[0], start), seconds=stages.times[0] - start[0],
                                cpu_seconds=stages.cpu_times[0] - start[1])
    return {f"{v}/{name}": value for v, scores in out.items() for name, value in scores.items()}


@experiment("module_grouping", version=2, config_type=ModuleGroupingConfig, chapter=CHAPTER, sweep=True)
def module_grouping(cfg: ModuleGroupingConfig, cells=None) -> dict:
    """Union and grouped overlap, wall and process CPU seconds per call, (kind, setting, variant, n, seed); NaN where a
    variant was not run at that ``n`` (see :meth:`ModuleGroupingConfig.grid`).

    A resumable sweep: each cell of :meth:`ModuleGroupingConfig.items` is stored as it finishes."""
    items = cfg.items()
    if cells is None:
        outs = [_cell(cfg, item) for item in items]
    else:
        outs = cells.map(items, lambda item: _cell(cfg, item), desc="module grouping (kind, K, variant, n, seed)")
    settings, ns = cfg.settings(), cfg.n_values()
    shape = (len(cfg.kinds), len(settings), len(cfg.variants), len(ns), len(cfg.seeds))
    arrays = {name: np.full(shape, np.nan) for name in ("union", "grouped", "seconds", "cpu_seconds")}
    pairs = [(K, m) for K, _, m in settings]
    for item, out in zip(items, outs):
        per_variant = ({item["variant"]: out} if item["variant"] != SEARCHES else
                       {v: {name: out[f"{v}/{name}"] for name in arrays} for v in cfg.variants if v not in FAST})
        for variant, scores in per_variant.items():
            index = (cfg.kinds.index(item["kind"]), pairs.index((item["K"], item["m"])),
                     cfg.variants.index(variant), ns.index(item["n"]), cfg.seeds.index(item["seed"]))
            for name in arrays:
                arrays[name][index] = scores[name]
    return dict(arrays, kinds=list(cfg.kinds), settings=[list(s) for s in settings],
                variants=list(cfg.variants), n=list(ns), seeds=list(cfg.seeds))
