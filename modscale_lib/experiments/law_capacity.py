"""The validation search that sizes the scaling-law study's networks, per task, on seeds the study never uses.

A local search on a lattice of settings ``(depth, width, step)``: widths ``2^w``, steps ``base_lr * 3^j``. It
starts at ``start``, trains the setting and its six neighbours (depth +-1, width x2 and /2, step x3 and /3),
moves to the best and repeats until the best is the centre: then every axis of the chosen setting has a worse
neighbour on both sides, so the choice lies inside the searched grid by construction (the grid widens itself),
except where an axis meets its domain (depth 1). Each setting is scored by the geometric mean of its
validation loss (relative to ``Var(y) = 1``) over ``points`` ``(m, n)`` and ``seeds``; the monolithic MLP is
searched on its own, the modules on the oracle (projections frozen at the truth), which measures what a module
can fit. Training is the study's (``scaling_law_search.train_members``).

Cost (cpu config): 6 networks per setting (5 to 11 CPU-seconds), 8 to 14 settings per family and task: about
4 CPU-minutes per task.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

import numpy as np

from ..core import Choice, Real, Whole, Wholes, check_fields
from ..networks import MLPEnsemble, ModularEnsemble
from ..store import experiment
from .scaling_law import CPU_TASKS, ScalingLawConfig, check_tasks
from .scaling_law_search import parse_task, task_data, train_members

__all__ = ["LawCapacityConfig", "scaling_law_capacity", "choices", "setting_values", "choice_table"]

FAMILIES = ("mlp", "modules")


@dataclass(frozen=True)
class LawCapacityConfig:
    """The search (module docstring): ``mlp_points`` and ``module_points`` are ``(m, n)`` pairs; a setting is
    ``(depth, log2 width, step exponent)`` with step ``base_lr * 3^j``; ``max_moves`` bounds the walk. The
    training fields must equal the study's (``study``, a named config of ``ScalingLawConfig``)."""

    study: str = "cpu"
    tasks: tuple = ("sine:2",)
    mlp_points: tuple = ((16, 2048), (64, 8192))
    module_points: tuple = ((16, 64), (16, 1024))
    seeds: tuple = (100, 101, 102)
    start: tuple = (3, 5, 0)
    base_lr: float = 1e-2
    max_depth: int = 8
    log2_widths: tuple = (3, 10)
    lr_exponents: tuple = (-5, 3)
    max_moves: int = 8

    @classmethod
    def for_task(cls, task: str) -> LawCapacityConfig:
        """The cpu search of one task: its study (``ScalingLawConfig``'s config of the same name) can start as
        soon as it is stored."""
        return cls(tasks=(task,))

    @classmethod
    def cpu(cls) -> LawCapacityConfig:
        return cls.for_task(CPU_TASKS["cpu"])

    @classmethod
    def cpu_he1(cls) -> LawCapacityConfig:
        return cls.for_task(CPU_TASKS["cpu_he1"])

    @classmethod
    def cpu_he2(cls) -> LawCapacityConfig:
        return cls.for_task(CPU_TASKS["cpu_he2"])

    @classmethod
    def cpu_he3(cls) -> LawCapacityConfig:
        return cls.for_task(CPU_TASKS["cpu_he3"])

    @classmethod
    def cpu_bump(cls) -> LawCapacityConfig:
        return cls.for_task(CPU_TASKS["cpu_bump"])

    @classmethod
    def full(cls) -> LawCapacityConfig:
        full = ScalingLawConfig.full()
        return cls(
            study="full",
            tasks=full.tasks,
            mlp_points=((16, 2048), (64, 8192), (256, 32768)),
            seeds=(100, 101, 102, 103),
        )

    @classmethod
    def tiny(cls) -> LawCapacityConfig:
        return cls(
            study="tiny",
            tasks=("he2:1",),
            mlp_points=((4, 64),),
            module_points=((4, 32),),
            seeds=(100,),
            start=(1, 3, 0),
            log2_widths=(2, 4),
            max_moves=3,
        )

    def __post_init__(self):
        check_fields(
            self,
            study=Choice(("cpu", "full", "tiny")),
            tasks=check_tasks,
            mlp_points=_pairs,
            module_points=_pairs,
            seeds=Wholes(0),
            base_lr=Real(0, 1, low_open=True),
            max_depth=Whole(1, 16),
            max_moves=Whole(1, 100),
            start=Wholes(-60, 60, unique=False),
            log2_widths=Wholes(0, 16, unique=False),
            lr_exponents=Wholes(-60, 60, unique=False),
        )
        if len(self.start) != 3 or not (
            1 <= self.start[0] <= self.max_depth
            and self.log2_widths[0] <= self.start[1] <= self.log2_widths[1]
            and self.lr_exponents[0] <= self.start[2] <= self.lr_exponents[1]
        ):
            raise ValueError(f"start {self.start} must be (depth, log2 width, step exponent) inside the domain")

    @property
    def training(self) -> ScalingLawConfig:
        return getattr(ScalingLawConfig, self.study)()


def _pairs(v, name: str) -> tuple:
    if isinstance(v, str) or not isinstance(v, (tuple, list)) or not v:
        raise ValueError(f"{name} must be a non-empty tuple of (m, n) pairs, got {v!r}")
    return tuple(Wholes(1, 10**7, unique=False)(p, f"{name}[{i}]") for i, p in enumerate(v))


def setting_values(setting, cfg: LawCapacityConfig) -> tuple[int, int, float]:
    """``(depth, width, step)`` of a lattice setting ``(depth, log2 width, step exponent)``."""
    d, w, j = setting
    return int(d), 2 ** int(w), float(cfg.base_lr * 3.0 ** int(j))


def _neighbours(c, cfg) -> list[tuple]:
    d, w, j = c
    out = [(d + s, w, j) for s in (-1, 1)] + [(d, w + s, j) for s in (-1, 1)] + [(d, w, j + s) for s in (-1, 1)]
    return [c] + [
        s
        for s in out
        if 1 <= s[0] <= cfg.max_depth
        and cfg.log2_widths[0] <= s[1] <= cfg.log2_widths[1]
        and cfg.lr_exponents[0] <= s[2] <= cfg.lr_exponents[1]
    ]


def _score_cell(cfg: LawCapacityConfig, task: str, family: str, setting) -> dict:
    """Validation losses (point, seed) of one setting."""
    study, (depth, width, lr) = cfg.training, setting_values(setting, cfg)
    _, K, b = parse_task(task)
    points = cfg.mlp_points if family == "mlp" else cfg.module_points
    val = np.zeros((len(points), len(cfg.seeds)))
    for p, (m, n) in enumerate(points):
        draws = [task_data(task, m, s, n, study.n_val, study.n_test) for s in cfg.seeds]
        data = tuple(np.stack([d[part][k] for d in draws]) for part, k in ((1, 0), (1, 1), (2, 0), (2, 1)))
        test = tuple(np.stack([d[3][k] for d in draws]) for k in (0, 1))
        seeds = [s * 1000 + 999 for s in cfg.seeds]
        if family == "mlp":
            build = partial(_build_mlp, m=m, width=width, depth=depth, seeds=seeds)
        else:
            U = np.stack([d[0].projections for d in draws]).astype(np.float32)
            build = partial(_build_modules, m=m, K=K, b=b, width=width, depth=depth, projections=U, seeds=seeds)
        r = train_members(build, data, test, [n] * len(cfg.seeds), lr, study)
        val[p] = r["val_loss"]
        if p == 0:
            best, steps = r["best_step"], r["steps"]
        else:
            best, steps = np.concatenate([best, r["best_step"]]), np.concatenate([steps, r["steps"]])
    return {"val_loss": val, "best_step": best, "steps": steps}


def _build_mlp(idx, *, m, width, depth, seeds) -> MLPEnsemble:
    """The MLPs of the members ``idx`` (member ``e`` seeded by ``seeds[e]``)."""
    return MLPEnsemble(len(idx), m, width, depth, seeds=[seeds[e] for e in idx])


def _build_modules(idx, *, m, K, b, width, depth, projections, seeds) -> ModularEnsemble:
    """The modular networks of the members ``idx`` on their frozen true ``projections`` (member, m, K b)."""
    return ModularEnsemble(
        len(idx),
        m,
        K,
        b,
        width=width,
        depth=depth,
        projections=projections[idx],
        train_projections=False,
        seeds=[seeds[e] for e in idx],
    )


def _score(out: dict) -> float:
    return float(np.exp(np.mean(np.log(np.maximum(out["val_loss"], 1e-12)))))


@experiment(
    "scaling_law_capacity",
    version=1,
    config_type=LawCapacityConfig,
    chapter="scaling_law",
    sweep=True,
    configs=tuple(CPU_TASKS) + ("full",),
)
def scaling_law_capacity(cfg: LawCapacityConfig, cells) -> dict:
    """Every setting the walks trained: ``settings`` (E, 5) rows ``(task index, family index, depth, log2 width,
    step exponent)``, ``score`` (E,), ``val_loss`` (E, point, seed) (NaN-padded to the longer point list),
    ``best_step`` and ``steps`` (E, point * seed); ``chosen`` (task, family, 3)."""
    seen, rows = {}, []
    chosen = np.zeros((len(cfg.tasks), len(FAMILIES), 3), dtype=np.int64)
    for a, task in enumerate(cfg.tasks):
        for f, family in enumerate(FAMILIES):
            centre = tuple(cfg.start)
            for _ in range(cfg.max_moves):
                todo = [s for s in _neighbours(centre, cfg) if (task, family, s) not in seen]
                outs = cells.map(
                    [{"task": task, "family": family, "setting": list(s)} for s in todo],
                    lambda it: _score_cell(cfg, it["task"], it["family"], tuple(it["setting"])),
                    desc=f"capacity {task} {family}",
                )
                seen.update({(task, family, s): o for s, o in zip(todo, outs)})
                best = min(_neighbours(centre, cfg), key=lambda s: _score(seen[task, family, s]))
                if best == centre:
                    break
                centre = best
            chosen[a, f] = centre
    P = max(len(cfg.mlp_points), len(cfg.module_points)) * len(cfg.seeds)
    for task, family, s in seen:
        rows.append((cfg.tasks.index(task), FAMILIES.index(family)) + tuple(s))

    def pad(a):
        return np.pad(np.asarray(a, float).ravel(), (0, P - np.size(a)), constant_values=np.nan)

    return {
        "settings": np.array(rows, dtype=np.int64),
        "score": np.array([_score(o) for o in seen.values()]),
        "val_loss": np.stack([pad(o["val_loss"]) for o in seen.values()]),
        "best_step": np.stack([pad(o["best_step"]) for o in seen.values()]),
        "steps": np.stack([pad(o["steps"]) for o in seen.values()]),
        "chosen": chosen,
        "families": list(FAMILIES),
    }


def choices(res, cfg: LawCapacityConfig) -> dict:
    """Per task: ``{"mlp": (depth, width, step), "modules": (...), "interior": {family: [axis flags]}}``; an
    axis is interior when both of its neighbours were trained and scored worse, ``"domain"`` when it sits at
    the domain's edge (depth 1, the width or step range), ``False`` otherwise (the walk ran out of moves)."""
    settings, score = np.asarray(res["settings"]), np.asarray(res["score"])
    table = {tuple(r): s for r, s in zip(settings.tolist(), score)}
    out = {}
    for a, task in enumerate(cfg.tasks):
        entry = {"interior": {}}
        for f, family in enumerate(FAMILIES):
            c = tuple(int(x) for x in res["chosen"][a, f])
            entry[family] = setting_values(c, cfg)
            flags = []
            for axis in range(3):
                sides = []
                for s in (-1, 1):
                    nb = list(c)
                    nb[axis] += s
                    key = (a, f) + tuple(nb)
                    sides.append(
                        "domain"
                        if tuple(nb) not in _neighbours(c, cfg)
                        else bool(key in table and table[key] > table[(a, f) + c])
                    )
                flags.append(
                    "domain"
                    if "domain" in sides and all(x in ("domain", True) for x in sides)
                    else all(x is True for x in sides)
                )
            entry["interior"][family] = flags
        out[task] = entry
    return out


def choice_table(searches: dict) -> dict:
    """The chosen networks of stored searches ``{name: (config, result)}``, as table columns: per task and
    family the depth, width and step, whether each lies inside the walked grid (``"yes"``; ``"domain"`` at the
    domain's edge, e.g. depth 1), the settings tried, and the search's CPU minutes."""
    cols = {
        k: [] for k in ("task", "network", "depth", "width", "step", "inside the grid", "settings tried", "CPU minutes")
    }
    for cfg, res in searches.values():
        chosen = choices(res, cfg)
        for a, task in enumerate(cfg.tasks):
            for f, family in enumerate(FAMILIES):
                depth, width, lr = chosen[task][family]
                flags = chosen[task]["interior"][family]
                inside = (
                    "yes"
                    if all(x is True for x in flags)
                    else ", ".join(
                        f"{axis}: {'domain edge' if x == 'domain' else 'edge'}"
                        for axis, x in zip(("depth", "width", "step"), flags)
                        if x is not True
                    )
                )
                tried = int(np.sum((res["settings"][:, 0] == a) & (res["settings"][:, 1] == f)))
                cpu = res.metadata.get("cpu_time_s")
                values = (
                    task,
                    "MLP" if family == "mlp" else "modules (oracle)",
                    depth,
                    width,
                    lr,
                    inside,
                    tried,
                    float("nan") if cpu is None else cpu / 60,
                )
                for k, v in zip(cols, values):
                    cols[k].append(v)
    return cols
