"""Tuning for the chapter *Compositional CIFAR-10*: each network's shape and step chosen on a validation split.

``compositional_tuning`` (one stored result per config) trains each candidate once, with the tuning seed, for one
epoch on composites of the training images less a held-out validation split, and scores it by its accuracy on
validation composites. Per ``k`` and family (the MLP; the modular network with random projections) it searches
one coordinate at a time: the first layer's width at the grid's middle step (widened by factors of two while the
best lies at an edge and the training cost per composite stays under ``flops_cap``), then the step at that width
(a geometric grid, widened likewise), then the depth at both (the MLP's hidden layers; the modules' hidden
width). The modular network whose first layer is as wide as the chosen MLP's takes the modular family's step and
module width; the rule's turn is chosen by the rule's own objective on validation composites.
:func:`tuned_settings` reads the choices for :mod:`modscale_lib.experiments.compositional_cifar`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np
import torch

from .. import cifar_rule, composite_training as ct, composites, data
from ..core import Choice, Real, Reals, Whole, Wholes, check_fields
from ..networks import default_device
from ..store import experiment

__all__ = [
    "CifarTuningConfig",
    "compositional_tuning",
    "tuned_settings",
    "MONOLITHIC",
    "RANDOM",
    "MATCHED",
    "SLOT_LOCAL",
    "RULES",
    "METHODS",
    "images",
    "net_seed",
    "rule_data",
]

CHAPTER = "compositional_cifar"
MONOLITHIC, RANDOM, MATCHED, SLOT_LOCAL = ("monolithic", "modular, random", "modular, matched", "modular, slot-local")
RULES = {v: f"modular, {v} rule" for v in cifar_rule.RULE_VARIANTS}
#: the methods: the tuned MLP; the tuned modular network with random projections; the same modular network
#: started from slot-local projections or from the rule's (paired with it: same module weights and step); and
#: a modular network whose first layer is as wide as the tuned MLP's.
METHODS = (MONOLITHIC, RANDOM, MATCHED, SLOT_LOCAL) + tuple(RULES.values())


@dataclass(frozen=True)
class CifarTuningConfig:
    """What ``compositional_tuning`` searches (see the module's doc), per ``k`` in ``n_images_grid``.

    The grids are the first ones tried: ``mono_lrs``/``modular_lrs`` (steps), ``widths`` (the MLP's hidden width,
    or the modular network's first layer ``M b`` with ``b = module_dim``), ``mono_depths``/``module_widths`` (the
    middle entries are used until their own stage). A shape whose training costs more than ``flops_cap``
    operations per composite (:func:`~modscale_lib.composite_training.training_flops`) is not tried: the CPU
    budget's cut, which binds at the largest ``k``. The rule: ``rule_samples`` training composites,
    ``rule_steps`` turns per module on minibatches of ``rule_batch``, the first turn chosen from ``rule_angles``
    by the objective on validation composites.
    """

    n_images_grid: tuple = (1, 2, 4, 8)
    seed: int = 100
    validation_images: int = 5000
    n_train: int = 50000
    n_val: int = 5000
    batch_size: int = 64
    mono_lrs: tuple = (2.5e-4, 5e-4, 1e-3)
    modular_lrs: tuple = (1e-3, 2e-3, 4e-3)
    widths: tuple = (512, 1024, 2048)
    mono_depths: tuple = (1, 2, 3)
    module_dim: int = 32
    module_widths: tuple = (128, 256, 512)
    flops_cap: float = 6e7
    max_widen: int = 2
    rule_samples: int = 2048
    rule_steps: int = 30
    rule_batch: int = 256
    rule_angles: tuple = (0.01, 0.03, 0.1)
    holdout_mod: int = 5
    copy: str = "jpeg"

    @classmethod
    def cpu(cls) -> CifarTuningConfig:
        return cls()

    @classmethod
    def full(cls) -> CifarTuningConfig:
        """For a GPU: every k from 1 to 8, wider grids, no cost cap below the widest shape."""
        return cls(
            n_images_grid=tuple(range(1, 9)),
            widths=(512, 1024, 2048, 4096),
            flops_cap=1e10,
            rule_steps=200,
            max_widen=3,
        )

    @classmethod
    def tiny(cls) -> CifarTuningConfig:
        return cls(
            n_images_grid=(1, 2),
            validation_images=40,
            n_train=96,
            n_val=40,
            batch_size=32,
            mono_lrs=(1e-3, 2e-3, 4e-3),
            modular_lrs=(2e-3, 4e-3, 8e-3),
            widths=(16, 32, 64),
            mono_depths=(1, 2),
            module_dim=4,
            module_widths=(8, 16),
            flops_cap=1.2e6,
            max_widen=1,
            rule_samples=64,
            rule_steps=2,
            rule_batch=32,
            rule_angles=(0.03, 0.1),
        )

    def __post_init__(self):
        check_fields(
            self,
            n_images_grid=Wholes(1, composites.MAX_POSITIONS),
            seed=Whole(0),
            validation_images=Whole(10),
            n_train=Whole(1, 10**7),
            n_val=Whole(1, 10**6),
            batch_size=Whole(1, 1 << 16),
            mono_lrs=Reals(0, 1, low_open=True),
            modular_lrs=Reals(0, 1, low_open=True),
            widths=Wholes(1, 1 << 16),
            mono_depths=Wholes(1, 8),
            module_dim=Whole(1, 3072),
            module_widths=Wholes(1, 1 << 16),
            flops_cap=Real(0, low_open=True),
            max_widen=Whole(0, 10),
            rule_samples=Whole(2, 10**6),
            rule_steps=Whole(1, 10**5),
            rule_batch=Whole(2, 1 << 14),
            rule_angles=Reals(0, 1, low_open=True),
            holdout_mod=Whole(2, 100),
            copy=Choice(("auto", "official", "jpeg", "lossless")),
        )
        for name in ("mono_lrs", "modular_lrs", "widths", "mono_depths", "module_widths", "rule_angles"):
            if list(getattr(self, name)) != sorted(getattr(self, name)):
                raise ValueError(f"{name} must be increasing, got {getattr(self, name)}")
        if any(w % self.module_dim for w in self.widths):
            raise ValueError(
                f"every entry of widths must be a multiple of module_dim ({self.module_dim}), got {self.widths}"
            )


# Shared by both experiments ----------------------------------------------------------------------------------------
def images(copy: str, train_images=None, test_images=None):
    source = data.find_cifar10(copy=copy)
    x_train, y_train, x_test, y_test = data.load_cifar10(copy=copy)
    return source, (x_train[:train_images], y_train[:train_images], x_test[:test_images], y_test[:test_images])


def net_seed(seed: int, k: int) -> int:
    """The weights' seed of every network of one (k, seed): modular networks of one shape share their modules."""
    return seed * 7919 + k


def rule_data(table, index, k, n):
    """The first ``n`` composites of ``index``: features (n, 3072 k) and centred one-hot targets (n, 10 k)."""
    rows = index[:n]
    X = composites.composite_features(table.features, torch.as_tensor(rows, device=table.device))
    Y = np.eye(10, dtype=np.float32)[table.labels[rows]].reshape(len(rows), 10 * k)
    return X, torch.as_tensor(Y - Y.mean(axis=0), device=table.device)


def _modular(F: int, b: int, w: int) -> dict:
    return {"family": "modular", "n_modules": F // b, "module_dim": b, "module_width": w}


def _first_width(arch: dict) -> int:
    return arch["width"] if arch["family"] == "monolithic" else arch["n_modules"] * arch["module_dim"]


# Tuning ------------------------------------------------------------------------------------------------------------
def _line_search(cells, run, grids: dict, make, extend, max_widen: int, desc: str, log: dict):
    """Per key of ``grids`` (key -> first values), the value whose run scores highest, widening past an edge.

    make(key, value) -> cell item; extend(key, value, side) -> the next value beyond that edge (side -1 or +1), or
    None where none may be tried. Returns ``{key: (best, {value: score}, at_edge)}``; ``at_edge`` says the best
    value is still an end of the values tried (the widening was refused or ran out). Every run is entered in
    ``log`` (its item's JSON -> (item, output))."""
    scores = {key: {} for key in grids}
    todo = {key: list(values) for key, values in grids.items()}
    for round_ in range(max_widen + 1):
        pairs = [(key, v) for key, values in todo.items() for v in values if v not in scores[key]]
        outs = cells.map([make(key, v) for key, v in pairs], run, desc=desc) if pairs else []
        for (key, v), out in zip(pairs, outs):
            scores[key][v] = out["score"]
            log[json.dumps(make(key, v), sort_keys=True)] = (make(key, v), out)
        todo = {}
        for key, sc in scores.items():
            values, best = sorted(sc), max(sorted(sc), key=lambda v: sc[v])
            side = -1 if best == values[0] else 1 if best == values[-1] else 0
            new = extend(key, best, side) if side and len(values) > 1 and round_ < max_widen else None
            if new is not None and new not in sc:
                todo[key] = [new]
        if not todo:
            break
    out = {}
    for key, sc in scores.items():
        values, best = sorted(sc), max(sorted(sc), key=lambda v: sc[v])
        out[key] = (best, sc, len(values) > 1 and best in (values[0], values[-1]))
    return out


class _Tuner:
    """The tuning's data (training split, validation split) and its one kind of run: train, then score."""

    def __init__(self, cfg: CifarTuningConfig, images):
        x, y = images[0], images[1]
        perm = np.random.default_rng([cfg.seed, 99]).permutation(len(y))
        val, train = np.sort(perm[: cfg.validation_images]), np.sort(perm[cfg.validation_images :])
        device = default_device()
        self.log = {}
        self.cfg, self.train, self.val = (
            cfg,
            ct.CompositeTable(x[train], y[train], device),
            ct.CompositeTable(x[val], y[val], device),
        )
        self.draws = {
            k: composites.training_indices(
                self.train.labels, k, cfg.n_train, [cfg.seed, k, 1], holdout_mod=cfg.holdout_mod
            )[0]
            for k in cfg.n_images_grid
        }
        self.val_draws = {
            k: composites.compositional_indices(
                self.val.labels, k, cfg.n_val, [cfg.seed, k, 2], "seen", holdout_mod=cfg.holdout_mod
            )[0]
            if k >= 2
            else np.random.default_rng([cfg.seed, 2]).permutation(len(val))[: cfg.n_val, None]
            for k in cfg.n_images_grid
        }

    def run(self, item: dict) -> dict:
        """A training run (item with ``lr``) scored by validation accuracy, or a rule search (item with
        ``angle``) scored by minus its objective on validation composites."""
        k, arch, cfg = item["k"], item["arch"], self.cfg
        model = ct.build_network(arch, k, net_seed(cfg.seed, k)).to(self.train.device)
        if "angle" in item:
            X, Y = rule_data(self.train, self.draws[k], k, cfg.rule_samples)
            U = cifar_rule.search_projections(
                X,
                Y,
                model.projections.detach()[0].cpu().numpy().copy(),
                model,
                variant=item["variant"],
                steps=cfg.rule_steps,
                angle=item["angle"],
                batch_size=cfg.rule_batch,
                seed=cfg.seed,
            )
            Xv, Yv = rule_data(self.val, self.val_draws[k], k, min(cfg.n_val, 2 * cfg.rule_batch))
            return {"score": -float(cifar_rule.held_out_objective(U, Xv, Yv, model, batch_size=cfg.rule_batch).mean())}
        loss = ct.train_members(
            [model], self.train, self.draws[k], lrs=[item["lr"]], batch_size=cfg.batch_size, seed=cfg.seed
        )
        return {"score": ct.accuracy(model, self.val, self.val_draws[k]), "loss": float(loss[0, -1])}


def _tune_family(cells, tuner, family: str, desc: str) -> dict:
    """The three coordinate stages for one family at every k: ``{k: {"arch", "lr", "edges"}}``.

    Width (at the grid's middle step and depth), then the step at that width, then the depth at both."""
    cfg, ks = tuner.cfg, tuner.cfg.n_images_grid
    lrs = cfg.mono_lrs if family == "monolithic" else cfg.modular_lrs
    depths = cfg.mono_depths if family == "monolithic" else cfg.module_widths
    arch_of = (
        (lambda W, d: {"family": "monolithic", "width": W, "depth": d})
        if family == "monolithic"
        else (lambda F, w: _modular(F, cfg.module_dim, w))
    )
    method = MONOLITHIC if family == "monolithic" else RANDOM

    def item(k, W, d, lr):
        return {"k": k, "method": method, "arch": arch_of(W, d), "lr": lr}

    def affordable(k, W, d):
        return ct.training_flops(arch_of(W, d), k) <= cfg.flops_cap

    lr0, d0 = lrs[len(lrs) // 2], depths[len(depths) // 2]

    def halve_or_double(k, W, side):
        W = W * 2 if side > 0 else W // 2
        return W if W % cfg.module_dim == 0 and W >= cfg.module_dim and affordable(k, W, d0) else None

    def widths(k):  # the grid's affordable widths; where the cap leaves one, the next narrower too
        grid = [W for W in cfg.widths if affordable(k, W, d0)] or [cfg.widths[0]]
        return grid if len(grid) > 1 or halve_or_double(k, grid[0], -1) is None else [grid[0] // 2] + grid

    def search(grids, make, step, what):
        return _line_search(cells, tuner.run, grids, make, step, cfg.max_widen, f"{desc}: {what}", tuner.log)

    B = search({k: widths(k) for k in ks}, lambda k, W: item(k, W, d0, lr0), halve_or_double, "width")
    A = search(
        {k: list(lrs) for k in ks}, lambda k, lr: item(k, B[k][0], d0, lr), lambda k, v, side: v * 2.0**side, "step"
    )

    def step_d(k, d, side):  # one more or one fewer hidden layer; modules twice or half as wide
        d = (d + side) if family == "monolithic" else (d * 2 if side > 0 else d // 2)
        return d if 1 <= d <= (8 if family == "monolithic" else 1 << 16) and affordable(k, B[k][0], d) else None

    C = search(
        {k: [d for d in depths if affordable(k, B[k][0], d)] for k in ks},
        lambda k, d: item(k, B[k][0], d, A[k][0]),
        step_d,
        "depth",
    )
    return {
        k: {
            "arch": arch_of(B[k][0], C[k][0]),
            "lr": A[k][0],
            "edges": {"width": B[k][2], "step": A[k][2], "depth": C[k][2]},
        }
        for k in ks
    }


def _tune_rules(cells, tuner, mono: dict, modular: dict) -> dict:
    """The matched modular network (the modular family's step and module width, a first layer as wide as the
    tuned MLP's) and each rule variant's turn: ``{k: {method: choice}}``."""
    cfg, ks = tuner.cfg, tuner.cfg.n_images_grid
    out = {
        k: {
            MATCHED: {
                "arch": _modular(_first_width(mono[k]["arch"]), cfg.module_dim, modular[k]["arch"]["module_width"]),
                "lr": modular[k]["lr"],
                "edges": {},
            }
        }
        for k in ks
    }
    for variant, method in RULES.items():
        R = _line_search(
            cells,
            tuner.run,
            {k: list(cfg.rule_angles) for k in ks},
            lambda k, a, method=method, variant=variant: {
                "k": k,
                "method": method,
                "variant": variant,
                "arch": modular[k]["arch"],
                "angle": a,
            },
            lambda k, a, side: float(f"{a * 3.0**side:.3g}") if a * 3.0**side <= 1 else None,
            cfg.max_widen,
            f"tuning: {variant} rule, turn",
            tuner.log,
        )
        for k in ks:
            out[k][method] = {
                "arch": modular[k]["arch"],
                "lr": modular[k]["lr"],
                "angle": R[k][0],
                "edges": {"turn": R[k][2]},
            }
    return out


@experiment(
    "compositional_tuning",
    version=1,
    config_type=CifarTuningConfig,
    chapter=CHAPTER,
    configs=("cpu", "full", "tiny"),
    sweep=True,
)
def compositional_tuning(cfg: CifarTuningConfig, cells) -> dict:
    """Every run of the search and the choices, per k. Values: ``choices`` (one entry per k and method: ``k``,
    ``method``, ``arch``, ``lr``, the rule's ``angle``, ``edges``: which coordinates ended at the edge of what was
    tried) and ``runs`` (every run: ``k``, ``method``, ``arch``, ``lr`` or ``angle``, ``score`` (validation
    accuracy, or minus the rule's validation objective), ``flops`` per training composite, ``params``)."""
    source, arrays = images(cfg.copy)
    tuner = _Tuner(cfg, arrays)
    found = {
        MONOLITHIC: _tune_family(cells, tuner, "monolithic", "tuning: monolithic"),
        RANDOM: _tune_family(cells, tuner, "modular", "tuning: modular"),
    }
    others = _tune_rules(cells, tuner, found[MONOLITHIC], found[RANDOM])
    choices = [{"k": k, "method": m, "angle": None, **found[m][k]} for k in cfg.n_images_grid for m in found]
    choices += [{"k": k, "method": m, "angle": None, **c} for k in cfg.n_images_grid for m, c in others[k].items()]
    runs = [
        {
            **item,
            **out,
            "flops": ct.training_flops(item["arch"], item["k"]),
            "params": ct.n_params(item["arch"], item["k"]),
        }
        for item, out in tuner.log.values()
    ]
    return {"choices": choices, "runs": runs, "data_source": source.describe(), "data_kind": source.kind}


def tuned_settings(tuning, k: int) -> dict:
    """``{method: {"arch", "lr", "angle"}}`` at ``k`` from a stored ``compositional_tuning`` result; the slot-local
    control takes the random modular network's. Raises ValueError when the result holds no choice at ``k``."""
    rows = [c for c in tuning["choices"] if c["k"] == k]
    if not rows:
        raise ValueError(
            f"the tuning result holds no choices at k = {k} (it has k in "
            f"{sorted({c['k'] for c in tuning['choices']})}); tune that k first"
        )
    out = {c["method"]: {"arch": c["arch"], "lr": c["lr"], "angle": c["angle"]} for c in rows}
    out[SLOT_LOCAL] = dict(out[RANDOM])
    return out
