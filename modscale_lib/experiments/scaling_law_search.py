"""One cell of the scaling-law study: the bracketing search of one (task, method, m) for every seed, one round
at a time, with the tasks' data and the training of each method (:mod:`modscale_lib.experiments.scaling_law`
holds the config and the design). Kept apart from the config so that each module holds one concept: what is
run, and how."""

from __future__ import annotations

import math
import time

import numpy as np
import torch

from .. import brackets, measure
from ..networks import (
    MLPEnsemble,
    ModularEnsemble,
    RandomFeatureRidge,
    TrainingDivergedError,
    default_device,
    fit,
    random_projections,
)
from ..rule import find_module_projections
from ..tasks import TASK_KINDS, check_task_kind, make_task

__all__ = ["search_cell", "parse_task", "task_data", "train_members"]


def parse_task(spec: str) -> tuple[str, int, int]:
    """``"kind:K"`` -> ``(kind, K, b)``; ``b`` is 2 for the non-separable families, 1 otherwise."""
    if not isinstance(spec, str) or spec.count(":") != 1:
        raise ValueError(f"a task must be written 'kind:K' with kind one of {TASK_KINDS}, got {spec!r}")
    kind, K = spec.split(":")
    b = 1 if kind == "sine" or kind.startswith("he") else 2
    check_task_kind(kind, b)
    if not K.isdigit() or not 1 <= int(K) <= 64:
        raise ValueError(f"the K of task {spec!r} must be a whole number in 1..64")
    return kind, int(K), b


def task_data(task_spec: str, m: int, seed: int, n_pool: int, n_val: int, n_test: int):
    """The task of one seed and its draws: a training pool of ``n_pool`` rows (a network on ``n`` samples takes
    the first ``n``), a validation split and a test set, all independent."""
    kind, K, b = parse_task(task_spec)
    task = make_task(kind, m, K, b, seed)
    return task, task.sample(n_pool, seed=0), task.sample(n_val, seed=3), task.sample(n_test, seed=1)


def _fit(model, data, n, lr: float, steps: int, cfg):
    X, y, Xv, yv = data
    return fit(
        model.to(default_device()),
        X,
        y,
        n_samples=n,
        X_val=Xv,
        y_val=yv,
        lr=lr,
        lr_decay=0.01,
        steps=steps,
        batch_size=cfg.batch_size,
        patience=cfg.patience,
        eval_every=cfg.eval_every,
        min_delta=cfg.min_delta,
        progress=False,
    )


def _test_losses(model, Xt, yt) -> np.ndarray:
    with torch.no_grad():
        out = model.cpu()(torch.as_tensor(Xt))
        return ((out - torch.as_tensor(yt)) ** 2).mean(dim=-1).double().numpy()


def train_members(build, data, test, n, lr: float, cfg) -> dict:
    """Train the ensemble ``build(members)`` (``members``: indices into ``n``) on ``data`` (per-member
    ``X, y, X_val, y_val``), at ``cfg.steps``; members whose best step is the last are trained again from the
    same start with twice the steps, up to ``cfg.max_steps``. Returns per member ``test_loss``, ``val_loss``,
    ``best_step`` and ``steps`` (the steps of the run kept)."""
    E = len(n)
    out = {k: np.zeros(E) for k in ("test_loss", "val_loss", "best_step", "steps")}
    todo, steps = np.arange(E), cfg.steps
    while todo.size:
        model = build(todo)
        res = _fit(model, tuple(a[todo] for a in data), np.asarray(n)[todo], lr, steps, cfg)
        out["test_loss"][todo] = _test_losses(model, test[0][todo], test[1][todo])
        out["val_loss"][todo], out["best_step"][todo], out["steps"][todo] = res.val_loss, res.best_step, steps
        todo = todo[res.best_step >= steps] if 2 * steps <= cfg.max_steps else todo[:0]
        steps *= 2
    return out


def _net_seed(seed: int, index: int) -> int:
    """The initial weights of one seed's network at grid index ``index`` (distinct per seed and n)."""
    return seed * 1000 + index


class _Round:
    """The members of one round: ``todo`` = [(seed position, grid index)], with their data stacked."""

    def __init__(self, cfg, draws, todo):
        self.cfg, self.todo = cfg, todo
        self.n = [brackets.grid_n(i) for _, i in todo]
        top = max(self.n)

        def pick(part, k, rows=None):
            return np.stack([draws[j][part][k][:rows] for j, _ in todo])

        self.data = (pick(1, 0, top), pick(1, 1, top), pick(2, 0), pick(2, 1))
        self.test = (pick(3, 0), pick(3, 1))
        self.seeds = [_net_seed(cfg.seeds[j], i) for j, i in todo]


def _mlp(cfg, spec, m, draws, rnd, state) -> dict:
    """The MLP at every step of ``cfg.mlp_lr_factors`` (times the searched step); a network whose best step on
    validation is the largest (smallest) tried is trained again at three times (a third of) it, up to
    ``cfg.mlp_lr_extend`` times on each side, so that its choice lies inside the steps it tried. A step at which
    training diverges counts as worse than every other for the networks trained at it together."""
    net, slots = cfg.network(spec), cfg.mlp_lr_slots
    E, L, ext = len(rnd.n), len(slots), cfg.mlp_lr_extend
    out = {k: np.full((E, L), np.nan) for k in ("val_loss", "test_loss", "best_step", "steps")}

    def run(slot: int, members: np.ndarray) -> None:
        def build(idx):
            return MLPEnsemble(
                len(idx), m, net["mlp_width"], net["mlp_depth"], seeds=[rnd.seeds[members[e]] for e in idx]
            )

        try:
            r = train_members(
                build,
                tuple(a[members] for a in rnd.data),
                tuple(a[members] for a in rnd.test),
                np.asarray(rnd.n)[members],
                net["mlp_lr"] * slots[slot],
                cfg,
            )
        except TrainingDivergedError:
            r = {"val_loss": np.inf}
        for k in out:
            out[k][members, slot] = r.get(k, np.nan)

    for slot in range(ext, L - ext):
        run(slot, np.arange(E))
    while True:
        val, tried = np.where(np.isnan(out["val_loss"]), np.inf, out["val_loss"]), ~np.isnan(out["val_loss"])
        choice = np.argmin(val, axis=1)
        low, high = np.argmax(tried, axis=1), L - 1 - np.argmax(tried[:, ::-1], axis=1)
        up = np.flatnonzero((choice == high) & (high < L - 1))
        down = np.flatnonzero((choice == low) & (low > 0))
        if not (up.size or down.size):
            break
        for slot in sorted(set(high[up] + 1)):
            run(slot, up[high[up] + 1 == slot])
        for slot in sorted(set(low[down] - 1)):
            run(slot, down[low[down] - 1 == slot])
    rows = np.arange(E)
    return {
        "test_loss": out["test_loss"][rows, choice],
        "choice": choice,
        "val_loss": out["val_loss"],
        "test_by_step": out["test_loss"],
        "best_step": out["best_step"],
        "steps": out["steps"],
    }


def _modular(cfg, spec, m, draws, rnd, state, projections, trained: bool) -> dict:
    net = cfg.network(spec)
    _, K, b = parse_task(spec)

    def build(idx):
        return ModularEnsemble(
            len(idx),
            m,
            K,
            b,
            width=net["module_width"],
            depth=net["module_depth"],
            projections=projections[idx],
            train_projections=trained,
            seeds=[rnd.seeds[e] for e in idx],
        )

    r = train_members(build, rnd.data, rnd.test, rnd.n, net["module_lr"], cfg)

    def col(a):
        return a[:, None]

    return {
        "test_loss": r["test_loss"],
        "choice": np.zeros(len(rnd.n)),
        "val_loss": col(r["val_loss"]),
        "test_by_step": col(r["test_loss"]),
        "best_step": col(r["best_step"]),
        "steps": col(r["steps"]),
    }


def _random(cfg, spec, m, draws, rnd, state) -> dict:
    _, K, b = parse_task(spec)
    return _modular(cfg, spec, m, draws, rnd, state, random_projections(len(rnd.n), K, m, b, rnd.seeds).numpy(), True)


def _oracle(cfg, spec, m, draws, rnd, state) -> dict:
    U = np.stack([draws[j][0].projections for j, _ in rnd.todo]).astype(np.float32)
    return _modular(cfg, spec, m, draws, rnd, state, U, False)


def _rule(cfg, spec, m, draws, rnd, state) -> dict:
    _, K, b = parse_task(spec)
    steps = {"steps": cfg.rule_steps} if cfg.rule_steps else {}
    U = np.stack(
        [
            find_module_projections(
                draws[j][1][0][:n], draws[j][1][1][:n], K, b, variant=cfg.rule_variant, seed=s, **steps
            )
            for (j, _), n, s in zip(rnd.todo, rnd.n, rnd.seeds)
        ]
    )
    out = _modular(cfg, spec, m, draws, rnd, state, U.astype(np.float32), True)
    out["similarity"] = np.array(
        [measure.matched_similarity(draws[j][0].projections, u) for (j, _), u in zip(rnd.todo, U)]
    )
    return out


def _random_features(cfg, spec, m, draws, rnd, state) -> dict:
    rows = {k: [] for k in ("test_loss", "choice", "val_loss")}
    for (j, _), n in zip(rnd.todo, rnd.n):
        model = state.setdefault(
            ("rf", j), RandomFeatureRidge(m, cfg.rf_features, seed=cfg.seeds[j], device=default_device())
        )
        _, (X, y), (Xv, yv), (Xt, yt) = draws[j]
        r = model.losses(X, y, n, Xv, yv, Xt, yt)
        rows["test_loss"].append(r["test_loss"])
        rows["choice"].append(r["ridge_index"])
        rows["val_loss"].append(r["val_loss"][r["ridge_index"]])
    E, nan = len(rnd.n), np.full((len(rnd.n), 1), np.nan)
    return {
        "test_loss": np.array(rows["test_loss"]),
        "choice": np.array(rows["choice"], dtype=float),
        "val_loss": np.array(rows["val_loss"])[:, None],
        "test_by_step": np.array(rows["test_loss"])[:, None],
        "best_step": nan,
        "steps": nan[:E],
    }


TRAIN = {"random_features": _random_features, "monolithic": _mlp, "random": _random, "oracle": _oracle, "rule": _rule}


def _median_log_n(visits: list[dict], cfg) -> float:
    """Median over seeds of ``log n*`` at the main target (``inf`` when censored above; NaN when unresolved)."""
    logs = []
    for v in visits:
        n, cens = brackets.crossing(v, cfg.targets[0], cfg.i_min, cfg.i_max)
        logs.append(math.inf if cens == "above" else math.log(n) if cens != "missing" else math.nan)
    logs = [x for x in logs if not math.isnan(x)]
    return float(np.median(logs)) if logs else math.nan


def search_cell(cfg, spec: str, kind: str, m: int, previous) -> dict:
    """Every seed's bracketing search for ``(spec, kind, m)``; ``previous``: ``[(m, median log n*)]`` of the
    smaller ``m`` (where the search starts). Returns the visits, ``(seed, visit[, step])`` arrays."""
    cpu = time.process_time()
    S, V, L = len(cfg.seeds), cfg.max_visits, len(cfg.mlp_lr_slots)
    start = brackets.start_index(previous, m, cfg.first_index, cfg.i_min, cfg.i_max)
    draws = [task_data(spec, m, s, brackets.grid_n(cfg.i_max), cfg.n_val, cfg.n_test) for s in cfg.seeds]
    out = {
        "index": np.full((S, V), -1, dtype=np.int64),
        "test_loss": np.full((S, V), np.nan),
        "choice": np.full((S, V), np.nan),
        "similarity": np.full((S, V), np.nan),
    }
    out.update({k: np.full((S, V, L), np.nan) for k in ("val_loss", "test_by_step", "best_step", "steps")})
    visits, state, targets = [{} for _ in range(S)], {}, cfg.search_targets(kind)
    for r in range(V):
        todo = [(j, brackets.next_index(visits[j], targets, start, cfg.i_min, cfg.i_max)) for j in range(S)]
        todo = [(j, i) for j, i in todo if i is not None]
        if not todo:
            break
        if any(i in visits[j] for j, i in todo):
            raise RuntimeError(f"scaling law search revisits a point: {todo} after {visits}")
        res = TRAIN[kind](cfg, spec, m, draws, _Round(cfg, draws, todo), state)
        for e, (j, i) in enumerate(todo):
            out["index"][j, r], visits[j][i] = i, float(res["test_loss"][e])
            for name in ("test_loss", "choice", "similarity"):
                if name in res:
                    out[name][j, r] = res[name][e]
            for name in ("val_loss", "test_by_step", "best_step", "steps"):
                out[name][j, r, : res[name].shape[1]] = res[name][e]
    out["var_test"] = np.array([float(np.var(d[3][1])) for d in draws])
    out["median_log_n"] = _median_log_n(visits, cfg)
    out["cpu_s"] = time.process_time() - cpu
    return out
