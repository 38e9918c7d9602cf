"""Experiments of the chapter *How classic dimension reduction compares*: every peer method of
:mod:`modscale_lib.peers` and every variant of the learning rule, on tasks whose modules have dimension
``b = 1`` and ``b = 2``, scored by how well they find the modules' span, how well they find the modules
themselves, what they cost, and how well a modular network built on their directions generalises."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass

import numpy as np

from .. import core, measure, rule
from ..core import Real, SomeOf, Whole, Wholes, check_fields
from ..networks import ModularEnsemble, default_device, evaluate, fit, random_projections
from ..peers import METHODS as PEERS
from ..rule import DEFAULTS, VARIANTS, find_module_projections, moment_span
from ..store import experiment
from ..tasks import TASK_KINDS, check_task_kind, make_task as make_modular_task

__all__ = ["PeerComparisonConfig", "peer_comparison", "make_task", "MOMENT_SPAN", "REFERENCES", "RULES"]

CHAPTER = "peers"
MOMENT_SPAN = "moment span"  # the spectral rule's first stage, rule.moment_span, as a span method
REFERENCES = ("oracle", "random")  # frozen networks on the true and on random projections
RULES = ("paper", "deflation", "backfit", "spectral", "grouped", "newton")  # the rule's variants (VARIANTS)
_TASK = re.compile(r"^([a-z0-9_]+?)_m(\d+)_K(\d+)(?:_b(\d+))?$")
#: ``nonsep`` is the name the stored comparison uses for the ``bump_ridge`` family of tasks.
_ALIASES = {"nonsep": "bump_ridge"}


def _task_spec(spec, name: str):
    """``(kind, m, K, b)`` of a task name ``<kind>_m<m>_K<K>`` (b = 1) or ``<kind>_m<m>_K<K>_b<b>``, with ``kind``
    one of ``tasks.TASK_KINDS`` (or ``nonsep``, for ``bump_ridge``): every task family of the library."""
    match = _TASK.match(spec) if isinstance(spec, str) else None
    if match is None:
        raise ValueError(f"{name}: a task is '<kind>_m<m>_K<K>' or '<kind>_m<m>_K<K>_b<b>', got {spec!r}")
    kind = _ALIASES.get(match.group(1), match.group(1))
    if kind not in TASK_KINDS:
        raise ValueError(f"{name}: task {spec!r} has kind {kind!r}, not one of {TASK_KINDS + tuple(_ALIASES)}")
    m, K, b = int(match.group(2)), int(match.group(3)), int(match.group(4) or 1)
    if min(m, K, b) < 1 or K * b > m:
        raise ValueError(f"{name}: task {spec!r} needs K*b <= m with all of them >= 1")
    try:
        check_task_kind(kind, b)
    except ValueError as exc:  # say which task of which field
        raise ValueError(f"{name}: task {spec!r}: {exc}") from exc
    return kind, m, K, b


def make_task(spec: str, seed: int):
    """The task named ``spec`` (see :class:`PeerComparisonConfig`), drawn with ``seed``, by
    :func:`modscale_lib.tasks.make_task`."""
    kind, m, K, b = _task_spec(spec, "task")
    return make_modular_task(kind, m, K, b, seed=seed)


def _tasks():
    def check(v, name):
        if isinstance(v, (str, bytes)) or not isinstance(v, (tuple, list)) or not v:
            raise ValueError(f"{name} must be a non-empty tuple of task names, got {v!r}")
        out = tuple(v)
        for i, spec in enumerate(out):
            _task_spec(spec, f"{name}[{i}]")
        if len(set(out)) != len(out):
            raise ValueError(f"{name} must not repeat a task, got {out}")
        return out

    return check


@dataclass(frozen=True)
class PeerComparisonConfig:
    """Every peer (``peers``, plus the moment span of the spectral rule) and every rule variant (``rules``) on
    each task of ``tasks``, for each ``n`` of ``n_grid`` (the first ``n`` of one pool of samples) and seed.

    Tasks: ``"<kind>_m<m>_K<K>"`` (``b = 1``) or ``"<kind>_m<m>_K<K>_b<b>"``, built by
    :func:`~modscale_lib.tasks.make_task` for any kind of ``TASK_KINDS``: ``"sine_m8_K2"`` is
    :class:`~modscale_lib.tasks.SineWaveTask`, ``"nonsep_m12_K3_b2"`` (``nonsep`` for ``bump_ridge``)
    :class:`~modscale_lib.tasks.NonSeparableTask` with bump plus ridge modules. The seed draws the task,
    the methods' randomness and the networks.

    A span method's directions are grouped into ``K`` modules of ``b`` by the first two stages of
    :func:`~modscale_lib.rule.group_directions` (Hessians of a random-feature model in the span, with
    ``group_features`` features, then joint block diagonalisation; no additive refit, so the span is kept).
    The rule runs with ``rule_steps`` Adam steps per search on minibatches of ``rule_batch`` (its other
    settings at :data:`~modscale_lib.rule.DEFAULTS`). Each method's modules then feed a modular
    network whose projections stay frozen (``K`` modules, one hidden layer of ``module_width``), trained for
    ``steps`` Adam steps; the true and random projections are the references. Test loss on ``n_test`` fresh
    samples, divided by their variance.
    """

    tasks: tuple = ("sine_m8_K2", "sine_m16_K2", "nonsep_m12_K3_b2")
    n_grid: tuple = (250, 1000, 4000)
    seeds: tuple = tuple(range(5))
    # the stored comparison's peers, written out: a peer added to peers.METHODS joins a config that names it,
    # and leaves this one's key (and its stored result) as they are
    peers: tuple = ("sir", "save", "phd", "gkdr", "ppr", "rfm", "egop")
    rules: tuple = RULES
    rule_steps: int = 100
    rule_batch: int = 256
    group_features: int = 300
    module_width: int = 32
    steps: int = 2000
    lr: float = 3e-3
    batch_size: int = 256
    n_test: int = 2000

    @classmethod
    def cpu(cls) -> PeerComparisonConfig:
        return cls()

    @classmethod
    def full(cls) -> PeerComparisonConfig:
        return cls(
            tasks=("sine_m8_K2", "sine_m16_K2", "nonsep_m8_K2_b2", "nonsep_m12_K3_b2"),
            n_grid=(250, 500, 1000, 2000, 4000),
            seeds=tuple(range(10)),
            rule_steps=DEFAULTS["steps"],
            rule_batch=DEFAULTS["batch_size"],
            group_features=1500,
            steps=4000,
            n_test=4000,
        )

    @classmethod
    def tiny(cls) -> PeerComparisonConfig:
        return cls(
            tasks=("sine_m4_K2", "nonsep_m4_K2_b2"),
            n_grid=(60,),
            seeds=(0,),
            rule_steps=2,
            rule_batch=32,
            group_features=20,
            module_width=4,
            steps=5,
            n_test=100,
        )

    def __post_init__(self):
        check_fields(
            self,
            tasks=_tasks(),
            n_grid=Wholes(20, 10**7),
            seeds=Wholes(0),
            peers=SomeOf(tuple(PEERS)),
            rules=SomeOf(VARIANTS),
            rule_steps=Whole(1, 10**6),
            rule_batch=Whole(2, 10**6),
            group_features=Whole(1, 10**5),
            module_width=Whole(1, 65536),
            steps=Whole(1, 10**7),
            lr=Real(0, 10, low_open=True),
            batch_size=Whole(1, 10**6),
            n_test=Whole(2, 10**7),
        )
        worst = max(_task_spec(t, "tasks")[1] for t in self.tasks)
        if min(self.n_grid) < max(20, 2 * worst):
            raise ValueError(f"n_grid: the peers need n >= max(20, 2 m) = {max(20, 2 * worst)}, got {min(self.n_grid)}")

    def span_methods(self) -> tuple:
        return tuple(self.peers) + (MOMENT_SPAN,)

    def methods(self) -> tuple:
        """Every scored method, in the order of the result's arrays: span methods, then rule variants."""
        return self.span_methods() + tuple(f"{v} rule" for v in self.rules)


def _group(X, y, basis, K: int, b: int, seed: int, n_features: int) -> np.ndarray:
    """``group_directions(..., refine=False)`` with ``n_features`` random features: (K, m, b) in the span."""
    B = np.linalg.qr(basis)[0]
    hessians, _ = rule.span_model_hessians(X @ B, y, n_features=n_features, seed=core.derive(seed, 0, 1))
    blocks = rule.joint_block_diagonalise(hessians, K, b, seed=core.derive(seed, 0, 2))
    return np.einsum("md,kdb->kmb", B, blocks)


def _span(name: str, X, y, D: int, seed: int) -> np.ndarray:
    return moment_span(X, y, D) if name == MOMENT_SPAN else PEERS[name](X, y, D, seed=seed)


def _directions(cfg: PeerComparisonConfig, task, X, y, seed: int) -> tuple[list, list, list]:
    """Every method's modules (K, m, b) from ``(X, y)``, its seconds per call, and its grouping's seconds."""
    K, b = task.n_modules, task.module_dim
    modules, seconds, group_seconds = [], [], []
    for name in cfg.span_methods():
        start = time.perf_counter()
        basis = _span(name, X, y, K * b, seed)
        seconds.append(time.perf_counter() - start)
        start = time.perf_counter()
        modules.append(_group(X, y, basis, K, b, seed, cfg.group_features))
        group_seconds.append(time.perf_counter() - start)
    for variant in cfg.rules:
        start = time.perf_counter()
        modules.append(
            find_module_projections(
                X, y, K, b, variant=variant, steps=cfg.rule_steps, batch_size=min(cfg.rule_batch, len(y)), seed=seed
            )
        )
        seconds.append(time.perf_counter() - start)
        group_seconds.append(0.0)
    return modules, seconds, group_seconds


def _cell(cfg: PeerComparisonConfig, item: dict) -> dict:
    """One (task, seed), every ``n``: each method's overlaps and wall time, (n, method), and the test losses
    of the frozen networks, (n, method + references), all of which train together as one ensemble."""
    task, seed = make_task(item["task"], item["seed"]), item["seed"]
    K, b, m = task.n_modules, task.module_dim, task.input_dim
    X, y = task.sample(max(cfg.n_grid), seed=0)
    Xt, yt = task.sample(cfg.n_test, seed=1)
    out = {name: [] for name in ("union", "grouped", "seconds", "group_seconds")}
    projections = []
    for n in cfg.n_grid:
        modules, seconds, group_seconds = _directions(cfg, task, X[:n], y[:n], seed)
        out["union"].append([measure.union_overlap(task.projections, U) for U in modules])
        out["grouped"].append([measure.grouped_overlap(task.projections, U) for U in modules])
        out["seconds"].append(seconds)
        out["group_seconds"].append(group_seconds)
        projections += modules + [task.projections, random_projections(1, K, m, b, seeds=[seed])[0].numpy()]
    per_n = len(projections) // len(cfg.n_grid)
    model = ModularEnsemble(
        len(projections),
        m,
        K,
        b,
        width=cfg.module_width,
        projections=np.stack(projections),
        train_projections=False,
        seeds=[seed] * len(projections),
    ).to(default_device())
    fit(
        model,
        X,
        y,
        n_samples=[n for n in cfg.n_grid for _ in range(per_n)],
        steps=cfg.steps,
        lr=cfg.lr,
        lr_decay=0.01,
        batch_size=min(cfg.batch_size, min(cfg.n_grid)),
        eval_every=cfg.steps,
        progress=False,
    )
    loss = np.asarray(evaluate(model, Xt, yt)).reshape(len(cfg.n_grid), per_n) / np.var(yt)
    return dict({name: np.array(v) for name, v in out.items()}, test_loss=loss)


@experiment("peer_comparison", version=1, config_type=PeerComparisonConfig, chapter=CHAPTER, sweep=True)
def peer_comparison(cfg: PeerComparisonConfig, cells) -> dict:
    """Arrays (task, n, seed, method) over :meth:`PeerComparisonConfig.methods`: ``union`` and ``grouped``
    overlap with the true modules, ``seconds`` per call of the method, ``group_seconds`` of its grouping (0
    for the rule, which returns modules); ``test_loss`` (task, n, seed, method + references), in units of
    the test set's variance, of frozen modular networks on each method's modules, then the oracle's and
    random projections'."""
    items = [{"task": t, "seed": s} for t in cfg.tasks for s in cfg.seeds]
    outputs = cells.map(items, lambda item: _cell(cfg, item), desc="peer comparison (task, seed)")
    shape = (len(cfg.tasks), len(cfg.seeds), len(cfg.n_grid))
    out = {
        name: np.stack([o[name] for o in outputs]).reshape(shape + (-1,)).transpose(0, 2, 1, 3)
        for name in ("union", "grouped", "seconds", "group_seconds", "test_loss")
    }
    return dict(out, methods=list(cfg.methods()), references=list(REFERENCES))
