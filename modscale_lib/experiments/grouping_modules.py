"""Experiments of the chapter *Modules of more than one dimension*: which directions each variant of the
learning rule groups into a module, on tasks whose modules are identifiable (``NonSeparableTask``), and the fast
variant (``"newton"``) against the variants it replaces as the default, on the sample-complexity chapter's tasks."""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from .. import core
from ..core import Real, SomeOf, Whole, Wholes, check_fields
from ..measure import grouped_overlap, union_overlap
from ..rule import VARIANTS, find_module_projections, moment_span
from ..store import experiment
from ..tasks import MODULE_KINDS, TASK_KINDS, NonSeparableTask, check_task_kind, make_task
from .finding_modules import TimedStages

__all__ = [
    "ModuleGroupingConfig",
    "module_grouping",
    "RANDOM",
    "FAST",
    "RuleComparisonConfig",
    "rule_comparison",
    "span_start_overlap",
]

CHAPTER = "grouping_modules"
RANDOM = "random"  # random orthonormal modules: the chance level
FAST = ("grouped", "newton", RANDOM)  # measured on the whole n grid; the kernel searches on ``search_n_grid``
SEARCHES = "searches"  # the cell holding every kernel-search variant of one (kind, setting, n, seed)


@dataclass(frozen=True)
class ModuleGroupingConfig:
    """Every variant of the rule, and random subspaces, on ``NonSeparableTask`` at the settings
    ``(n_modules[i], module_dim, input_dims[i])``: union (span) and grouped (matched-module) overlap with
    the true projections, and wall time per call.

    ``grouped``, ``newton`` and ``random`` (``FAST``) run on ``n_grid``; the kernel-search variants (``paper``,
    ``deflation``, ``backfit``, ``spectral``), which cost seconds per call, on ``search_n_grid`` with
    ``search_steps`` Adam steps per search. The first module kind gets these grids; the other kinds only the
    ``FAST`` variants, at the ``n`` of ``n_grid`` in ``other_kinds_n_grid``. Task ``seed`` draws the task; its
    samples are drawn with seed ``100 + seed``.

    The kernel searches of one (kind, setting, n, seed) run as one cell: ``deflation`` is read from the
    ``backfit`` run (its first pass, the same projections bit for bit), and ``low_rank_gradient`` is the
    rule's opt-in gradient for the feature kernel (same objective and gradient, different rounding)."""

    n_modules: tuple = (3, 4)
    input_dims: tuple = (12, 16)
    module_dim: int = 2
    kinds: tuple = ("bump_ridge", "hermite")
    variants: tuple = ("paper", "deflation", "backfit", "spectral", "grouped", "newton", RANDOM)
    n_grid: tuple = (500, 1000, 2000, 4000)
    search_n_grid: tuple = (500, 1000, 2000)
    other_kinds_n_grid: tuple = (500, 1000, 2000, 4000)
    search_steps: int = 100
    noise: float = 0.1
    seeds: tuple = tuple(range(5))
    low_rank_gradient: bool = True

    @classmethod
    def cpu(cls) -> ModuleGroupingConfig:
        return cls()

    @classmethod
    def full(cls) -> ModuleGroupingConfig:
        return cls(
            n_grid=(250, 500, 1000, 2000, 4000, 6000),
            search_n_grid=(1000, 2000, 4000, 6000),
            other_kinds_n_grid=(500, 1000, 2000, 4000, 6000),
            search_steps=300,
            seeds=tuple(range(10)),
        )

    @classmethod
    def tiny(cls) -> ModuleGroupingConfig:
        return cls(
            n_modules=(2,),
            input_dims=(5,),
            kinds=("bump_ridge",),
            variants=("backfit", "grouped", "newton", RANDOM),
            n_grid=(80,),
            search_n_grid=(80,),
            other_kinds_n_grid=(80,),
            search_steps=3,
            seeds=(0,),
        )

    def __post_init__(self):
        check_fields(
            self,
            n_modules=Wholes(1, 64, unique=False),
            input_dims=Wholes(1, 4096, unique=False),
            module_dim=Whole(1, 64),
            kinds=SomeOf(MODULE_KINDS),
            variants=SomeOf(VARIANTS + (RANDOM,)),
            n_grid=Wholes(10, 10**7),
            search_n_grid=Wholes(10, 10**7),
            other_kinds_n_grid=Wholes(10, 10**7),
            search_steps=Whole(1, 10**6),
            noise=Real(0),
            seeds=Wholes(0),
            low_rank_gradient=lambda v, name: core.boolean(v, name),
        )
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
        cells = [
            {"kind": kind, "K": K, "m": m, "variant": v, "n": n, "seed": s}
            for kind in self.kinds
            for K, _, m in self.settings()
            for v in fast
            for n in self.grid(kind, v)
            for s in self.seeds
        ]
        if any(v not in FAST for v in self.variants):
            cells += [
                {"kind": kind, "K": K, "m": m, "variant": SEARCHES, "n": n, "seed": s}
                for kind in self.kinds
                for K, _, m in self.settings()
                for n in self.grid(kind, SEARCHES)
                for s in self.seeds
            ]
        return cells


def _random_modules(K: int, b: int, m: int, seed: int) -> np.ndarray:
    q = np.linalg.qr(core.numpy_generator(seed, 77).standard_normal((m, K * b)))[0]
    return q.T.reshape(K, b, m).transpose(0, 2, 1)


def _scores(task, U, start: tuple) -> dict:
    """Overlaps of ``U`` with the truth, and the wall and process CPU seconds since ``start``."""
    return {
        "union": float(union_overlap(task.projections, U)),
        "grouped": float(grouped_overlap(task.projections, U)),
        "seconds": float(time.perf_counter() - start[0]),
        "cpu_seconds": float(time.process_time() - start[1]),
    }


def _now() -> tuple:
    return time.perf_counter(), time.process_time()


def _training_set(cfg: ModuleGroupingConfig, kind: str, K: int, m: int, n: int, seed: int):
    """The task of one cell and its training set: ``(task, X (n, m), y (n,))``, float64."""
    task = NonSeparableTask(m, K, cfg.module_dim, module_kind=kind, noise=cfg.noise, seed=seed)
    X, y = task.sample(n, seed=100 + seed)
    return task, np.asarray(X, np.float64), np.asarray(y, np.float64)


def _cell(cfg: ModuleGroupingConfig, item: dict) -> dict:
    K, b, m, seed = item["K"], cfg.module_dim, item["m"], item["seed"]
    task, X, y = _training_set(cfg, item["kind"], K, m, item["n"], seed)
    start = _now()
    if item["variant"] == RANDOM:
        return _scores(task, _random_modules(K, b, m, seed), start)
    if item["variant"] in FAST:
        return _scores(task, find_module_projections(X, y, K, b, variant=item["variant"], seed=seed), start)
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
        out["deflation"] = dict(
            _scores(task, stages[0], start),
            seconds=stages.times[0] - start[0],
            cpu_seconds=stages.cpu_times[0] - start[1],
        )
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
        per_variant = (
            {item["variant"]: out}
            if item["variant"] != SEARCHES
            else {v: {name: out[f"{v}/{name}"] for name in arrays} for v in cfg.variants if v not in FAST}
        )
        for variant, scores in per_variant.items():
            index = (
                cfg.kinds.index(item["kind"]),
                pairs.index((item["K"], item["m"])),
                cfg.variants.index(variant),
                ns.index(item["n"]),
                cfg.seeds.index(item["seed"]),
            )
            for name in arrays:
                arrays[name][index] = scores[name]
    return dict(
        arrays,
        kinds=list(cfg.kinds),
        settings=[list(s) for s in settings],
        variants=list(cfg.variants),
        n=list(ns),
        seeds=list(cfg.seeds),
    )


# ---------------------------------------------------------------------------------------------------------
# The fast variant against the default it replaces, on the sample-complexity chapter's tasks
# ---------------------------------------------------------------------------------------------------------
SPAN_ONLY = ("paper", "deflation", "backfit", "spectral")  # the kernel searches: run at b = 1 only here
ONE_COLUMN = ("grouped", "newton")  # the variants that need b >= 2 (grouped) or any b


def _applies(variant: str, module_dim: int) -> bool:
    """Whether ``variant`` runs on tasks of modules of ``module_dim``: the kernel searches at ``b = 1`` only (at
    ``b >= 2`` they pair directions of different modules: :func:`module_grouping`), ``grouped`` at ``b >= 2``
    only (at ``b = 1`` there is nothing to group), ``newton`` and ``random`` at any ``b``."""
    if variant in SPAN_ONLY:
        return module_dim == 1
    return module_dim >= 2 if variant == "grouped" else True


@dataclass(frozen=True)
class RuleComparisonConfig:
    """The rule's variants on the tasks of the sample-complexity chapter (``tasks.make_task``: noise-free,
    ``Var(y) = 1``), one task per seed: union and grouped overlap with the true modules, and wall and process
    CPU seconds per call.

    ``tasks``: ``(kind, K, b)`` triples (the sine-wave task with ``b = 1``; a non-separable family with
    ``b >= 2``), each on every ``m`` of ``m_grid`` and ``n`` of ``n_grid`` (the first ``n`` of one pool of
    ``max(n_grid)`` samples drawn with seed 0, as the sample-complexity sweep draws its training pool). Each
    variant runs where it applies (the kernel searches at ``b = 1``, ``grouped`` at ``b >= 2``, ``newton`` and
    ``random`` at any ``b``); the kernel searches with the sweep's settings
    (``rule_steps`` Adam steps on minibatches of ``rule_batch``, ``rule_refine`` backfitting rounds)."""

    tasks: tuple = (("sine", 2, 1), ("sine", 4, 1), ("bump_ridge", 2, 2))
    m_grid: tuple = (8, 16, 32)
    n_grid: tuple = (128, 512, 2048)
    variants: tuple = ("newton", "backfit", "paper", "grouped", RANDOM)
    seeds: tuple = tuple(range(10))
    rule_steps: int = 100
    rule_batch: int = 128
    rule_refine: int = 1

    @classmethod
    def cpu(cls) -> RuleComparisonConfig:
        return cls()

    @classmethod
    def full(cls) -> RuleComparisonConfig:
        return cls(m_grid=(8, 16, 32, 64), n_grid=(128, 256, 512, 1024, 2048, 4096), seeds=tuple(range(20)))

    @classmethod
    def tiny(cls) -> RuleComparisonConfig:
        return cls(
            tasks=(("sine", 2, 1), ("bump_ridge", 2, 2)),
            m_grid=(5,),
            n_grid=(40, 60),
            seeds=(0,),
            rule_steps=2,
            rule_batch=16,
        )

    def __post_init__(self):
        check_fields(
            self,
            m_grid=Wholes(1, 4096),
            n_grid=Wholes(20, 10**7),
            variants=SomeOf(VARIANTS + (RANDOM,)),
            seeds=Wholes(0),
            rule_steps=Whole(1, 10**6),
            rule_batch=Whole(2, 10**6),
            rule_refine=Whole(0, 100),
        )
        if isinstance(self.tasks, (str, bytes)) or not isinstance(self.tasks, (tuple, list)) or not self.tasks:
            raise TypeError(f"tasks must be a non-empty tuple of (kind, K, b) triples, got {self.tasks!r}")
        tasks = []
        for i, spec in enumerate(self.tasks):
            if not isinstance(spec, (tuple, list)) or len(spec) != 3:
                raise ValueError(f"tasks[{i}] must be a (kind, K, b) triple, got {spec!r}")
            K, b = (
                core.whole(spec[1], f"tasks[{i}] K", low=1, high=64),
                core.whole(spec[2], f"tasks[{i}] b", low=1, high=64),
            )
            kind = check_task_kind(core.choice(spec[0], f"tasks[{i}] kind", TASK_KINDS), b)
            if K * b > min(self.m_grid):
                raise ValueError(
                    f"tasks[{i}]: K * b = {K * b} must be <= every m of m_grid (smallest {min(self.m_grid)})"
                )
            tasks.append((kind, K, b))
        if len(set(tasks)) != len(tasks):
            raise ValueError(f"tasks must not repeat a task, got {tasks}")
        object.__setattr__(self, "tasks", tuple(tasks))

    def items(self) -> list[dict]:
        """One cell per (task, m, seed): every variant at every ``n``."""
        return [{"task": t, "m": m, "seed": s} for t in range(len(self.tasks)) for m in self.m_grid for s in self.seeds]


def _comparison_cell(cfg: RuleComparisonConfig, item: dict) -> dict:
    """Overlaps and seconds (variant, n) of one (task, m, seed); NaN where a variant does not apply."""
    kind, K, b = cfg.tasks[item["task"]]
    m, seed = item["m"], item["seed"]
    task = make_task(kind, m, K, b, seed=seed)
    X_all, y_all = task.sample(max(cfg.n_grid), seed=0)
    shape = (len(cfg.variants), len(cfg.n_grid))
    out = {name: np.full(shape, np.nan) for name in ("union", "grouped", "seconds", "cpu_seconds")}
    kernel = dict(steps=cfg.rule_steps, refine_passes=cfg.rule_refine, seed=seed)
    for j, n in enumerate(cfg.n_grid):
        X, y = np.asarray(X_all[:n], np.float64), np.asarray(y_all[:n], np.float64)
        for v, variant in enumerate(cfg.variants):
            if not _applies(variant, b):
                continue
            start = _now()
            if variant == RANDOM:
                U = _random_modules(K, b, m, seed)
            elif variant in ONE_COLUMN:
                U = find_module_projections(X, y, K, b, variant=variant, seed=seed)
            else:
                U = find_module_projections(X, y, K, b, variant=variant, batch_size=min(cfg.rule_batch, n), **kernel)
            for name, value in _scores(task, U, start).items():
                out[name][v, j] = value
    return out


@experiment("rule_comparison", version=1, config_type=RuleComparisonConfig, chapter=CHAPTER, sweep=True)
def rule_comparison(cfg: RuleComparisonConfig, cells=None) -> dict:
    """Union and grouped overlap, wall and process CPU seconds per call, (task, variant, m, n, seed); NaN where a
    variant does not apply to a task's ``b``.

    A resumable sweep: each (task, m, seed) cell, every variant and ``n``, is stored as it finishes."""
    items = cfg.items()
    if cells is None:
        outs = [_comparison_cell(cfg, item) for item in items]
    else:
        outs = cells.map(items, lambda item: _comparison_cell(cfg, item), desc="rule comparison (task, m, seed)")
    shape = (len(cfg.tasks), len(cfg.m_grid), len(cfg.seeds), len(cfg.variants), len(cfg.n_grid))
    arrays = {
        name: np.stack([o[name] for o in outs]).reshape(shape).transpose(0, 3, 1, 4, 2)
        for name in ("union", "grouped", "seconds", "cpu_seconds")
    }
    return dict(
        arrays,
        tasks=[list(t) for t in cfg.tasks],
        variants=list(cfg.variants),
        m=list(cfg.m_grid),
        n=list(cfg.n_grid),
        seeds=list(cfg.seeds),
    )


# ---------------------------------------------------------------------------------------------------------
# Read-outs
# ---------------------------------------------------------------------------------------------------------
def span_start_overlap(cfg: ModuleGroupingConfig, setting: int, kind: str = "bump_ridge") -> np.ndarray:
    """The union overlap of the moment span (:func:`modscale_lib.rule.moment_span`, the span that
    ``grouped`` and ``newton`` start from) with the true modules, on the experiment's own training sets.

    setting : the position of ``(K, b, m)`` in ``cfg.settings()``. kind : a module kind of ``NonSeparableTask``.
    Returns an array (len(cfg.n_grid), len(cfg.seeds)): one overlap per ``n`` of ``n_grid`` and task seed.
    Recomputed (a moment estimate per cell, no search), not read from a stored result."""
    if not isinstance(cfg, ModuleGroupingConfig):
        raise TypeError(f"cfg must be a ModuleGroupingConfig, got {type(cfg).__name__}")
    K, b, m = cfg.settings()[core.whole(setting, "setting", low=0, high=len(cfg.settings()) - 1)]
    kind = core.choice(kind, "kind", MODULE_KINDS)
    out = np.zeros((len(cfg.n_grid), len(cfg.seeds)))
    for i, n in enumerate(cfg.n_grid):
        for j, seed in enumerate(cfg.seeds):
            task, X, y = _training_set(cfg, kind, K, m, n, seed)
            out[i, j] = union_overlap(task.projections, moment_span(X, y, K * b))
    return out
