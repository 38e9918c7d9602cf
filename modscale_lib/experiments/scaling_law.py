"""Experiment of the chapter *Exponential or polynomial?* (``book/scaling_law``): the samples ``n*`` each kind
of network needs to reach a test loss, against the input dimension ``m``, measured by a bracketing search.

Design (measured costs on the project's two-core machine, one thread, process CPU time):

* **Methods.** Random-feature regression (``RandomFeatureRidge``, ``p = rf_features`` frozen ReLU features,
  ridge chosen on validation; about 10 s per seed for a path to ``n = 2^16`` at ``p = 2048``); the monolithic
  MLP with its step chosen per network on validation among ``mlp_lr_factors`` times the searched step, widened
  per network by factors of 3 (``mlp_lr_extend`` times) while its choice sits at an end (a pilot at ``m = 4``
  chose the largest of three steps for half of the networks); modular
  networks from random starts; the learned rule (``rule_variant``: ``RULE_VARIANT``, the fast default, in
  configs of their own, one per task: ``RULE_CONFIGS``); the frozen oracle. Widths, depths and steps per task
  come from the validation search ``law_capacity`` (``NETWORKS``; a test checks them).
* **Search.** Per ``(task, method, m)`` one cell; per seed a bracketing search on the grid ``n = 2^(i/2)``
  (:mod:`modscale_lib.brackets`) from ``n = 2^(i_min/2)`` to ``2^(i_max/2)``, for every target of ``targets``
  (main first), starting from the median ``n*`` of the smaller ``m`` (extrapolated in log-log). All seeds of
  a round train together as one ensemble (each member on its own ``n``). Every visit is stored.
* **Training.** Adam, cosine decay to ``lr / 100`` over ``steps``, minibatches of ``batch_size``, early
  stopping on the validation split (``patience`` evaluations every ``eval_every`` steps without a relative
  improvement of ``min_delta``, a plateau), best weights kept. A network whose best step is the last one
  is trained again with twice the steps, up to ``max_steps``; its ``best_step`` and ``steps`` are stored.
* **Costs** (``OMP_NUM_THREADS=1``, process CPU time). Measured before: one member-step of a batched MLP
  ensemble of 10, ``m = 64``, width 64, depth 2, batch 128: 0.24 ms (width 128: 0.47, 256: 1.5); a modular
  network of ``K = 2`` modules of width 64, depth 2: 0.38 ms; random features at ``p = 2048``: a path to
  ``n = 2^16`` about 10 s per seed. Measured on the sine task's stored result (10 seeds): a cell costs 0.5 to
  2.5 CPU-minutes (the MLP about 1 with its per-network steps, random starts 1.2 to 2.4, the oracle about 1,
  random features 0.5 to 2.2); the searches visit 2 to 4 points per seed once the start is predicted from the
  smaller ``m`` (up to 7 at the first ``m``); the task's sweep took 28 CPU-minutes and its capacity search 7.5.
  So the five cpu tasks cost about 180 CPU-minutes with their searches, and the rule's cells (``RULE_CONFIGS``)
  what random starts cost plus the rule's own calls.
* **Cuts (cpu).** Tasks at ``K = 2`` only (sine, He_1, He_2, He_3, the non-separable ``bump_ridge``); the
  Hermite links at ``K = 1`` are in ``full``. ``p = 2048`` random features (``full``: 8192). Only random
  features' searches bracket the secondary target. ``full``: m to 256, 20 seeds, for a GPU.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from functools import partial

import numpy as np

from .. import brackets, methods, store
from ..core import Choice, Real, Reals, SomeOf, Whole, Wholes, check_fields
from ..store import experiment
from . import scaling_law_search as search
from .scaling_law_search import parse_task

__all__ = [
    "ScalingLawConfig",
    "scaling_law_sweep",
    "METHOD_KINDS",
    "parse_task",
    "method_label",
    "NETWORKS",
    "TASKS",
    "RULE_VARIANT",
    "check_tasks",
    "load_stored",
    "CPU_TASKS",
    "RULE_CONFIGS",
    "RULE_MIN_SAMPLES",
]

CHAPTER = "scaling_law"
METHOD_KINDS = ("random_features", "monolithic", "random", "oracle", "rule")
#: The rule's variant in the rule configs (``RULE_CONFIGS``, ``full_rule``): the fast default,
#: :mod:`modscale_lib.rule`.
RULE_VARIANT = "newton"
#: The fewest samples the rule's variant accepts (``newton_projections`` refuses fewer rows): the rule configs'
#: grid starts at the first ``n`` at or above it, so a search that succeeds there is censored below.
RULE_MIN_SAMPLES = 20
#: ``ScalingLawConfig.rule_variant``'s default, which the configs without the rule carry unused. It enters their
#: keys (every field does), so it stays what the stored results were keyed with.
_UNUSED_RULE_VARIANT = "backfit"
TASKS = ("sine:2", "he1:2", "he2:2", "he3:2", "bump_ridge:2")  # the cpu config's tasks, "kind:K"
#: Per task: MLP width, depth and step; module width, depth and step, as chosen by the task's stored search
#: (scaling_law_capacity, config of the same name; tools/run_scaling_law.py prints a row to copy here when it
#: stores one, and a test checks every stored search against its row). A task whose search is not stored yet
#: holds the search's starting point.
NETWORKS = (
    ("sine:2", 16, 4, 1e-2, 64, 3, 1e-2),
    ("he1:2", 8, 4, 1e-2, 32, 3, 3e-2),
    ("he2:2", 16, 5, 1e-2, 64, 2, 3e-2),
    ("he3:2", 16, 3, 1e-2, 32, 3, 3e-2),
    ("bump_ridge:2", 16, 5, 1e-2, 32, 3, 1e-2),
)
#: The cpu configs, one result per task so that each task's chapter section stands as soon as it is computed
#: (``cpu`` is the sine-wave task, the study's headline).
CPU_TASKS = {"cpu": "sine:2", "cpu_he1": "he1:2", "cpu_he2": "he2:2", "cpu_he3": "he3:2", "cpu_bump": "bump_ridge:2"}
#: The learned rule's cells, one config per task, named after the task's config (``cpu`` -> ``cpu_rule``): each
#: holds that task's row of ``NETWORKS`` only, so another task's search landing leaves its key unchanged.
RULE_CONFIGS = {f"{name}_rule": task for name, task in CPU_TASKS.items()}
NAMED = tuple(CPU_TASKS) + tuple(RULE_CONFIGS) + ("full", "full_rule")


def method_label(kind: str, rule_variant: str = RULE_VARIANT) -> str:
    """The book's label (:mod:`modscale_lib.methods`) of a method kind of ``METHOD_KINDS``."""
    return {
        "random_features": methods.RANDOM_FEATURES,
        "monolithic": methods.MONOLITHIC,
        "random": methods.RANDOM,
        "oracle": methods.ORACLE,
        "rule": None,
    }.get(kind) or methods.rule(rule_variant)


def check_tasks(v, name: str) -> tuple:
    """A config field of ``"kind:K"`` task strings, checked (``parse_task``), as a tuple."""
    if isinstance(v, str) or not isinstance(v, (tuple, list)) or not v:
        raise ValueError(f"{name} must be a non-empty tuple of 'kind:K' strings, got {v!r}")
    for i, t in enumerate(v):
        try:
            parse_task(t)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"{name}[{i}]: {exc}") from None
    if len(set(v)) != len(v):
        raise ValueError(f"{name} must not repeat a task, got {tuple(v)}")
    return tuple(v)


def _networks(v, name):
    if isinstance(v, str) or not isinstance(v, (tuple, list)) or not v:
        raise ValueError(f"{name} must be a non-empty tuple of rows, got {v!r}")
    rows = []
    for i, r in enumerate(v):
        if isinstance(r, str) or not isinstance(r, (tuple, list)) or len(r) != 7:
            raise ValueError(
                f"{name}[{i}] must be (task, mlp_width, mlp_depth, mlp_lr, module_width, "
                f"module_depth, module_lr), got {r!r}"
            )
        check_tasks((r[0],), f"{name}[{i}]")
        for x, low, high in zip(r[1:], (1, 1, 0, 1, 1, 0), (65536, 16, 1, 65536, 16, 1)):
            if isinstance(x, bool) or not isinstance(x, (int, float)) or not (low <= x <= high and x > 0):
                raise ValueError(f"{name}[{i}] = {r!r} has {x!r} outside {low}..{high}")
        rows.append((r[0], int(r[1]), int(r[2]), float(r[3]), int(r[4]), int(r[5]), float(r[6])))
    return tuple(rows)


@dataclass(frozen=True)
class ScalingLawConfig:
    """The bracketing study (see the module docstring for the design and its costs).

    tasks : ``"kind:K"`` strings (``parse_task``). methods : kinds of ``METHOD_KINDS``, each run for
    ``m`` up to its entry of ``max_m``; ``bracket_all``: the methods whose search brackets every target (the
    others bracket the main target only, and the rest are read where their visits happen to bracket them).
    rule_variant, rule_steps : the rule's variant (unused unless ``methods`` holds ``"rule"``) and its search
    steps per module (0: the variant's default). targets : test losses as fractions of ``Var(y) = 1``, the main one
    first. Grid: indices ``i_min .. i_max`` of ``n = 2^(i/2)``; ``first_index`` starts the smallest ``m``.
    networks : per task the networks' capacity and step (``NETWORKS``). Training as in the docstring.
    """

    tasks: tuple = ("sine:2",)
    methods: tuple = ("random_features", "monolithic", "random", "oracle")
    max_m: tuple = (128, 64, 64, 128)
    rule_variant: str = _UNUSED_RULE_VARIANT
    rule_steps: int = 0
    m_grid: tuple = (4, 8, 16, 32, 64, 128)
    seeds: tuple = tuple(range(10))
    targets: tuple = (0.1, 0.3)
    bracket_all: tuple = ("random_features",)
    i_min: int = 6
    i_max: int = 32
    first_index: int = 12
    max_visits: int = 14
    networks: tuple = NETWORKS[:1]
    mlp_lr_factors: tuple = (1 / 3, 1.0, 3.0)
    mlp_lr_extend: int = 2
    rf_features: int = 2048
    steps: int = 6000
    max_steps: int = 24000
    batch_size: int = 128
    patience: int = 5
    eval_every: int = 100
    min_delta: float = 0.01
    n_val: int = 1000
    n_test: int = 4000

    @classmethod
    def for_task(cls, task: str) -> ScalingLawConfig:
        """The cpu study of one task of ``TASKS``, with that task's row of ``NETWORKS``."""
        return cls(tasks=(task,), networks=tuple(r for r in NETWORKS if r[0] == task))

    @classmethod
    def cpu(cls) -> ScalingLawConfig:
        return cls.for_task(CPU_TASKS["cpu"])

    @classmethod
    def cpu_he1(cls) -> ScalingLawConfig:
        return cls.for_task(CPU_TASKS["cpu_he1"])

    @classmethod
    def cpu_he2(cls) -> ScalingLawConfig:
        return cls.for_task(CPU_TASKS["cpu_he2"])

    @classmethod
    def cpu_he3(cls) -> ScalingLawConfig:
        return cls.for_task(CPU_TASKS["cpu_he3"])

    @classmethod
    def cpu_bump(cls) -> ScalingLawConfig:
        return cls.for_task(CPU_TASKS["cpu_bump"])

    @classmethod
    def rule_for_task(cls, task: str) -> ScalingLawConfig:
        """The learned rule's cells (``RULE_VARIANT``) of one task of ``TASKS``, at its cpu config's dimensions,
        seeds and network row, on the grid from the first ``n`` of at least ``RULE_MIN_SAMPLES``."""
        i_min = next(i for i in range(61) if brackets.grid_n(i) >= RULE_MIN_SAMPLES)
        return dataclasses.replace(
            cls.for_task(task), methods=("rule",), max_m=(64,), rule_variant=RULE_VARIANT, i_min=i_min
        )

    @classmethod
    def cpu_rule(cls) -> ScalingLawConfig:
        return cls.rule_for_task(RULE_CONFIGS["cpu_rule"])

    @classmethod
    def cpu_he1_rule(cls) -> ScalingLawConfig:
        return cls.rule_for_task(RULE_CONFIGS["cpu_he1_rule"])

    @classmethod
    def cpu_he2_rule(cls) -> ScalingLawConfig:
        return cls.rule_for_task(RULE_CONFIGS["cpu_he2_rule"])

    @classmethod
    def cpu_he3_rule(cls) -> ScalingLawConfig:
        return cls.rule_for_task(RULE_CONFIGS["cpu_he3_rule"])

    @classmethod
    def cpu_bump_rule(cls) -> ScalingLawConfig:
        return cls.rule_for_task(RULE_CONFIGS["cpu_bump_rule"])

    @classmethod
    def full(cls) -> ScalingLawConfig:
        return cls(
            tasks=TASKS + ("he1:1", "he2:1", "he3:1"),
            m_grid=(4, 8, 16, 32, 64, 128, 256),
            max_m=(256, 256, 256, 256),
            seeds=tuple(range(20)),
            i_max=36,
            rf_features=8192,
            networks=NETWORKS + tuple((f"he{k}:1",) + r[1:] for k, r in zip((1, 2, 3), NETWORKS[1:4])),
        )

    @classmethod
    def full_rule(cls) -> ScalingLawConfig:
        full = cls.full()
        return cls(
            tasks=full.tasks,
            methods=("rule",),
            max_m=(256,),
            m_grid=full.m_grid,
            seeds=full.seeds,
            i_max=full.i_max,
            networks=full.networks,
            rule_variant=RULE_VARIANT,
        )

    @classmethod
    def tiny(cls) -> ScalingLawConfig:
        return cls(
            tasks=("he2:1", "bump_ridge:1"),
            methods=METHOD_KINDS,
            max_m=(8, 4, 4, 8, 4),
            m_grid=(4, 8),
            seeds=(0, 1),
            bracket_all=("random_features", "monolithic"),
            rule_steps=3,
            i_min=4,
            i_max=12,
            first_index=8,
            rf_features=32,
            steps=20,
            max_steps=40,
            patience=2,
            eval_every=5,
            n_val=50,
            n_test=100,
            networks=(("he2:1", 8, 1, 1e-2, 4, 1, 1e-2), ("bump_ridge:1", 8, 2, 1e-2, 4, 2, 1e-2)),
        )

    def __post_init__(self):
        check_fields(
            self,
            tasks=check_tasks,
            methods=SomeOf(METHOD_KINDS),
            max_m=Wholes(1, 4096, unique=False),
            rule_variant=Choice(methods.RULE_VARIANTS),
            rule_steps=Whole(0, 10**6),
            m_grid=Wholes(1, 4096),
            seeds=Wholes(0),
            targets=Reals(0, 1e3, low_open=True),
            bracket_all=lambda v, n: () if v == () else SomeOf(METHOD_KINDS)(v, n),
            i_min=Whole(0, 60),
            i_max=Whole(1, 60),
            first_index=Whole(0, 60),
            max_visits=Whole(1, 64),
            networks=_networks,
            mlp_lr_factors=Reals(0, 1e3, low_open=True),
            mlp_lr_extend=Whole(0, 10),
            rf_features=Whole(1, 65536),
            steps=Whole(1, 10**7),
            max_steps=Whole(1, 10**8),
            batch_size=Whole(1, 10**6),
            patience=Whole(1, 10**4),
            eval_every=Whole(1, 10**6),
            min_delta=Real(0, 0.5),
            n_val=Whole(2, 10**7),
            n_test=Whole(2, 10**7),
        )
        if len(self.max_m) != len(self.methods):
            raise ValueError(f"max_m must give one m per method ({len(self.methods)}), got {self.max_m}")
        if list(self.m_grid) != sorted(self.m_grid):
            raise ValueError(f"m_grid must be increasing (each m starts from the smaller ones), got {self.m_grid}")
        if not self.i_min < self.i_max:
            raise ValueError(f"i_min ({self.i_min}) must be below i_max ({self.i_max})")
        if self.max_steps < self.steps:
            raise ValueError(f"max_steps ({self.max_steps}) must be >= steps ({self.steps})")
        missing = set(self.tasks) - {r[0] for r in self.networks}
        if missing:
            raise ValueError(f"networks has no row for the tasks {sorted(missing)}")
        for t in self.tasks:
            kind, K, b = parse_task(t)
            if K * b > min(self.m_grid):
                raise ValueError(f"task {t}: K * b = {K * b} must be <= every m (smallest {min(self.m_grid)})")

    def network(self, task: str) -> dict:
        """The capacity and step of ``task``'s networks (a row of ``networks``) as a dict."""
        row = next(r for r in self.networks if r[0] == task)
        keys = ("mlp_width", "mlp_depth", "mlp_lr", "module_width", "module_depth", "module_lr")
        return dict(zip(keys, row[1:]))

    @property
    def mlp_lr_slots(self) -> tuple:
        """The steps the MLP may try, in units of the searched step. Every network tries ``mlp_lr_factors``;
        ``mlp_lr_extend`` more on each side (factors of 3) are tried only where a network's choice reaches
        that side."""
        f, k = self.mlp_lr_factors, self.mlp_lr_extend
        return tuple(f[0] / 3**j for j in range(k, 0, -1)) + tuple(f) + tuple(f[-1] * 3**j for j in range(1, k + 1))

    def search_targets(self, method: str) -> tuple:
        """The targets ``method``'s search brackets: all of ``targets`` for ``bracket_all``, else the main one."""
        return self.targets if method in self.bracket_all else self.targets[:1]

    def runs(self, method: str, m: int) -> bool:
        """Whether ``method`` runs at ``m`` (``m`` up to its ``max_m``)."""
        return m <= self.max_m[self.methods.index(method)]


@experiment("scaling_law_sweep", version=1, config_type=ScalingLawConfig, chapter=CHAPTER, sweep=True, configs=NAMED)
def scaling_law_sweep(cfg: ScalingLawConfig, cells) -> dict:
    """Every visit of every search: arrays ``(task, method, m, seed, visit)`` (visit ``index`` -1 and losses
    NaN where unused, every entry NaN where a method does not run at that ``m``), with a step axis for the
    MLP's per-network steps. A resumable sweep: one cell per (task, method, m), the m in increasing order."""
    outs = {}
    for m in cfg.m_grid:
        items = [{"task": t, "method": k, "m": m} for t in cfg.tasks for k in cfg.methods if cfg.runs(k, m)]
        previous = {
            (t, k): [(mm, outs[t, k, mm]["median_log_n"]) for mm in cfg.m_grid if (t, k, mm) in outs]
            for t in cfg.tasks
            for k in cfg.methods
        }
        done = cells.map(items, partial(_search_item, cfg, previous), desc=f"scaling law, m = {m} (task, method)")
        outs.update({(it["task"], it["method"], m): o for it, o in zip(items, done)})
    return _assemble(cfg, outs)


def _search_item(cfg, previous: dict, item: dict) -> dict:
    """The search cell of ``item`` (task, method, m), started from ``previous[task, method]``, the median
    ``log n*`` at the smaller ``m``."""
    return search.search_cell(cfg, item["task"], item["method"], item["m"], previous[item["task"], item["method"]])


def _assemble(cfg, outs: dict) -> dict:
    T, M, D, S, V, L = (
        len(cfg.tasks),
        len(cfg.methods),
        len(cfg.m_grid),
        len(cfg.seeds),
        cfg.max_visits,
        len(cfg.mlp_lr_slots),
    )
    shapes = {
        "index": (S, V),
        "test_loss": (S, V),
        "choice": (S, V),
        "similarity": (S, V),
        "val_loss": (S, V, L),
        "test_by_step": (S, V, L),
        "best_step": (S, V, L),
        "steps": (S, V, L),
        "var_test": (S,),
        "cpu_s": (),
    }
    res = {k: np.full((T, M, D) + s, -1 if k == "index" else np.nan) for k, s in shapes.items()}
    for (t, k, m), o in outs.items():
        a, b, c = cfg.tasks.index(t), cfg.methods.index(k), cfg.m_grid.index(m)
        for name in shapes:
            res[name][a, b, c] = np.asarray(o[name])
    res["index"] = res["index"].astype(np.int64)
    res["method_labels"] = [method_label(k, cfg.rule_variant) for k in cfg.methods]
    return res


def load_stored(names=tuple(CPU_TASKS) + tuple(RULE_CONFIGS)) -> tuple[dict, dict]:
    """The study's stored results among the named configs ``names`` (default: every cpu task's and its rule's), as
    ``{name: (config, result)}``, and the command that computes each one that is not stored yet, ``{name:
    command}`` (nothing is computed here). A task's learners may thus come from two results (its own and its
    rule's); :func:`modscale_lib.law_readout.by_task` gathers them."""
    stored, missing = {}, {}
    for name in names:
        cfg = scaling_law_sweep.config(name)
        try:
            stored[name] = (cfg, store.load_or_run(scaling_law_sweep, cfg, mode="read", progress=False))
        except store.MissingResultError:
            missing[name] = scaling_law_sweep.command(cfg)
    return stored, missing
