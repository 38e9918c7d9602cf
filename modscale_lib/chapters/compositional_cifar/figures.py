"""Figures of the chapter *Compositional CIFAR-10*, drawn from stored results and schematics only: no figure here
reads the dataset, so none can show its pixels (tests/test_compositional.py checks the chapter for that)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import matplotlib.ticker as mticker
import numpy as np

from ... import data, experiments, module_diagnostics as md
from ...core import Check, OrNone, Whole, array, bootstrap_ci, validated, whole_array
from ...experiments import compositional_cifar as cc
from ...present import METHOD_COLOURS, OURS, PAPER, composite_schematic, panel_grid, subplots, table
from .readout import (
    ACC,
    ACCURACY,
    GRID,
    NAMES,
    PER_COMPOSITE,
    STORED_CHECKS,
    TEXT,
    TUNING,
    authors_numbers,
    distinct_row,
    ks_text,
    rows_where,
    study,
)

__all__ = [
    "COLOURS",
    "ROLE_METHODS",
    "colour",
    "layout_figure",
    "examples_figure",
    "tuning_figure",
    "accuracy_against_k",
    "accuracy_against_flops",
    "tuning_table",
    "accuracy_table",
    "accuracy_k_figure",
    "flops_figure",
    "gain_table",
    "rule_table",
    "DIAGNOSTICS",
    "diagnostics_tables",
    "robustness_table",
    "epoch_table",
    "epoch_gain_table",
    "jpeg_table",
    "cost_table",
]

#: the chapter's methods; the two not in ``present.METHOD_COLOURS`` get their own
COLOURS = {**METHOD_COLOURS, "modular, matched": "#e09b2d", "modular, slot-local": "#2a9d5c"}
#: The method of each role of :data:`~modscale_lib.chapters.compositional_cifar.readout.ROLES`: the experiment's
#: names of the MLP, the modular network on random projections, the one matched to the MLP and the paper rule's.
ROLE_METHODS = {"monolithic": cc.MONOLITHIC, "random": cc.RANDOM, "matched": cc.MATCHED, "rule": cc.RULES["paper"]}


# -- the rules of the figures' arguments (modscale_lib.core.validated), each returning a valid value unchanged
def _classes(value, name: str, arguments: dict) -> tuple:
    """A composite's classes: 1 to 16 whole numbers in [0, 9], as a tuple of ints."""
    classes = tuple(int(c) for c in whole_array(value, name, low=0, high=9, ndim=1, min_size=1))
    if len(classes) > 16:
        raise ValueError(f"{name} must hold at most 16 classes (slots of a composite), got {len(classes)}")
    return classes


def _class_names(value, name: str, arguments: dict):
    if isinstance(value, str) or not hasattr(value, "__len__") or len(value) < 10:
        raise ValueError(f"{name} must name the 10 classes, got {value!r}"[:300])
    return value


def _tuning(value, name: str, arguments: dict):
    """The tuning's runs and choices: for each k and family a choice, and the run it chose (with its cost and
    score)."""
    choices = arguments["choices"]
    for k in arguments["k_grid"]:
        for family in arguments["families"]:
            pick = [c for c in choices if isinstance(c, dict) and c.get("k") == k and c.get("method") == family]
            if not pick or not {"arch", "lr"} <= set(pick[0]):
                raise ValueError(f"choices must hold a choice (arch, lr) for k = {k} and {family!r}")
            best = [
                r
                for r in value
                if isinstance(r, dict) and r.get("k") == k and r.get("method") == family
                if r.get("arch") == pick[0]["arch"] and r.get("lr") == pick[0]["lr"]
            ]
            if not best or not all(key in best[0] for key in ("flops", "score")):
                raise ValueError(f"{name} must hold the chosen run (flops, score) for k = {k} and {family!r}")
    for r in value:
        if isinstance(r, dict) and "lr" in r:
            array([r.get("flops"), r.get("score")], f"{name}: a run's flops and score")
    return value


def _authors(value, name: str, arguments: dict):
    """``{method: (k list, accuracy list)}`` of one length each, at most three methods."""
    if not isinstance(value, dict) or len(value) > 3:
        raise ValueError(f"{name} must map at most 3 methods to (k list, accuracy list), got {value!r}"[:300])
    for method, pair in value.items():
        ks, values = pair
        if np.shape(array(ks, f"{name}[{method!r}]")) != np.shape(array(values, f"{name}[{method!r}]", finite=False)):
            raise ValueError(f"{name}[{method!r}] must be a k list and an accuracy list of one length")
    return value


def _families(value, name: str, arguments: dict):
    if isinstance(value, str) or not isinstance(value, (tuple, list)) or not value:
        raise ValueError(f"{name} must be a non-empty tuple of method names, got {value!r}")
    return tuple(TEXT(v, f"{name}[{i}]") for i, v in enumerate(value))


def _records(value, name: str, arguments: dict) -> list:
    if isinstance(value, (str, bytes, dict)) or not hasattr(value, "__iter__"):
        raise TypeError(f"{name} must be a list of records, got {type(value).__name__}")
    return list(value)


@validated(method=TEXT)
def colour(method: str) -> str:
    return COLOURS.get(method, OURS)


@validated(classes=Check(_classes), class_names=OrNone(Check(_class_names)))
def layout_figure(classes=(3, 8, 6), class_names=None):
    """A schematic of one composite of ``len(classes)`` images: the picture (tiles named by class, no pixels), the
    vector a network reads (the slots' features joined), and the two corruptions of the test."""
    names = class_names or [str(c) for c in range(10)]
    k = len(classes)
    fig, axes = subplots(1, 3, width=2.8, height=2.1, gridspec_kw={"width_ratios": [1, 1.25, 1]})
    for j, c in enumerate(classes):
        axes[0].add_patch(plt.Rectangle((j, 0), 0.96, 0.96, color=plt.cm.tab10(c), alpha=0.45))
        axes[0].text(j + 0.48, 0.55, names[c], ha="center", va="center", fontsize=9)
        axes[0].text(j + 0.48, 0.25, f"slot {j}", ha="center", va="center", fontsize=9, color="0.3")
    axes[0].set_title(f"a composite: label {tuple(classes)}", fontsize=10)
    for j, c in enumerate(classes):
        axes[1].add_patch(plt.Rectangle((0, k - 1 - j), 3.0, 0.8, color=plt.cm.tab10(c), alpha=0.45))
        axes[1].text(
            1.5, k - 0.6 - j, f"features {3072 * j}..{3072 * (j + 1) - 1}", ha="center", va="center", fontsize=9
        )
    axes[1].annotate(
        "module j reads\n$U_j^\\top x$ ($b$ numbers)", xy=(3.0, k / 2), xytext=(3.2, k / 2), va="center", fontsize=9
    )
    axes[1].set_title("what a network reads: $x$", fontsize=10)
    rng = np.random.default_rng(0)  # noise drawn as dots: a schematic, not pixels of any image
    axes[2].add_patch(plt.Rectangle((0, 0), 0.96, 0.96, color=plt.cm.tab10(classes[0]), alpha=0.45))
    axes[2].scatter(rng.uniform(0.05, 0.9, 120), rng.uniform(0.05, 0.9, 120), s=2, color="0.2")
    axes[2].add_patch(plt.Rectangle((1.04, 0), 0.96, 0.96, color="0.55"))
    axes[2].text(0.48, -0.15, "pixel noise", ha="center", fontsize=9)
    axes[2].text(1.52, -0.15, "occluded slot", ha="center", fontsize=9)
    axes[2].set_title("the corruptions", fontsize=10)
    for ax, (xmax, ymax) in zip(axes, ((k, 1), (4.6, k), (2, 1))):
        ax.set(xlim=(0, xmax), ylim=(-0.25 if ax is axes[2] else 0, ymax), xticks=[], yticks=[])
        ax.grid(False)
        ax.axis("off")
    return fig


def _plain_log_ticks(ax) -> None:
    """Ticks at 1, 2 and 5 times the powers of ten, written as plain numbers (not ``2 x 10^1``), no minor labels."""
    ax.xaxis.set_major_locator(mticker.LogLocator(base=10, subs=(1, 2, 5)))
    ax.xaxis.set_major_formatter(mticker.FuncFormatter(lambda v, _: f"{v:g}"))
    ax.xaxis.set_minor_formatter(mticker.NullFormatter())


def _panel_grid(n: int, width: float, height: float):
    """``n`` panels, two to a row (a row of four drew its text below 9 px in the book's column). Returns the
    figure, its first ``n`` axes row by row, and the axes that start a row."""
    fig, axes = panel_grid(n, 2, width, height)
    return fig, list(axes.flat[:n]), list(axes[:, 0])


@validated(
    k_grid=GRID,
    families=Check(_families),
    choices=Check(_records),
    runs=Check(lambda value, name, arguments: _tuning(_records(value, name, arguments), name, arguments)),
)
def tuning_figure(runs, choices, k_grid, families=("monolithic", "modular, random")):
    """One panel per k: every tuning run's validation accuracy against its training MFLOP per composite, one colour
    per family; the chosen network circled."""
    fig, axes, starts = _panel_grid(len(k_grid), width=3.3, height=2.6)
    for ax, k in zip(axes, k_grid):
        for family in families:
            mine = [r for r in runs if r["k"] == k and r["method"] == family and "lr" in r]
            ax.scatter(
                [r["flops"] / 1e6 for r in mine],
                [r["score"] for r in mine],
                s=12,
                color=colour(family),
                alpha=0.6,
                label=family,
            )
            pick = next(c for c in choices if c["k"] == k and c["method"] == family)
            best = [r for r in mine if r["arch"] == pick["arch"] and r["lr"] == pick["lr"]]
            ax.scatter(
                [best[0]["flops"] / 1e6],
                [best[0]["score"]],
                s=80,
                facecolors="none",
                edgecolors=colour(family),
                linewidths=1.5,
            )
        ax.set(xscale="log", xlabel="MFLOP per training composite", title=f"k = {k}")
        _plain_log_ticks(ax)
    for ax in starts:
        ax.set_ylabel("validation accuracy\nper image")
    fig.legend(*axes[0].get_legend_handles_labels(), loc="outside lower center", ncol=2, fontsize=9)
    return fig


@validated(names=NAMES, k_grid=GRID, acc=ACC, authors=Check(_authors))
def accuracy_against_k(acc, names, k_grid, authors: dict):
    """Mean test accuracy against k with 95% intervals over seeds (``acc``: method, k, seed), and the authors'
    numbers (``authors``: method -> (k list, accuracy list)) as muted markers."""
    fig, ax = subplots(width=6.4, height=3.8)
    mean, low, high = bootstrap_ci(acc)
    k_grid = np.asarray(k_grid, dtype=float)
    for i, name in enumerate(names):
        x = k_grid * (1 + 0.025 * (i - (len(names) - 1) / 2))
        ax.errorbar(
            x,
            mean[i],
            yerr=[mean[i] - low[i], high[i] - mean[i]],
            fmt="o-",
            ms=4,
            capsize=2,
            color=colour(name),
            label=f"ours: {name}",
        )
    for (name, (ks, values)), marker in zip(authors.items(), "s^D"):
        ax.plot(ks, values, marker, color=PAPER, ms=6, label=f"authors: {name}")
    ax.set(
        xscale="log",
        xticks=list(k_grid),
        xticklabels=[str(int(k)) for k in k_grid],
        xlabel="images per composite k",
        ylabel="test accuracy per image (one epoch)",
    )
    ax.minorticks_off()
    fig.legend(loc="outside right center", fontsize=9)
    return fig


@validated(names=NAMES, k_grid=GRID, acc=ACC, flops=PER_COMPOSITE)
def accuracy_against_flops(acc, flops, names, k_grid):
    """One panel per k: mean test accuracy (95% interval over seeds) against training MFLOP per composite, one
    point per method on a linear axis (``acc``: method, k, seed; ``flops``: method, k). A method that is NaN at
    a k is not drawn there; the legend names every method drawn in any panel."""
    fig, axes, starts = _panel_grid(len(k_grid), width=3.3, height=2.7)
    mean, low, high = bootstrap_ci(acc)
    for a, (ax, k) in enumerate(zip(axes, k_grid)):
        for i, name in enumerate(names):
            if not (np.isfinite(mean[i, a]) and np.isfinite(flops[i, a])):
                continue
            ax.errorbar(
                [flops[i, a] / 1e6],
                [mean[i, a]],
                yerr=[[mean[i, a] - low[i, a]], [high[i, a] - mean[i, a]]],
                fmt="o",
                ms=5,
                capsize=2,
                color=colour(name),
                label=name,
            )
        ax.set(xlabel="MFLOP per training composite", title=f"k = {k}")
        ax.margins(x=0.25)  # a linear axis: the networks' costs differ by factors below ten
    for ax in starts:
        ax.set_ylabel("test accuracy per image")
    legend = {}  # every method once, from whichever panel draws it (a rule may skip k = 1)
    for ax in axes:
        for handle, label in zip(*ax.get_legend_handles_labels()):
            legend.setdefault(label, handle)
    fig.legend(legend.values(), legend.keys(), loc="outside lower center", ncol=3, fontsize=9)
    return fig


# -- the chapter's figures and tables, from its stored results (``roles`` as in the read-out) ---------------------
def _examples(value, name: str, arguments: dict) -> np.ndarray:
    """Class combinations of one length: (c, k) whole numbers in [0, 9], at least one."""
    if isinstance(value, (str, bytes)) or not hasattr(value, "__iter__"):
        raise TypeError(f"{name} must be a sequence of class combinations, got {type(value).__name__}")
    rows = [_classes(row, name, arguments) for row in value]
    if not rows or len({len(r) for r in rows}) != 1:
        raise ValueError(f"{name} must hold class combinations, all of one length, got {value!r}"[:300])
    return np.array(rows, dtype=int)


@validated(holdout_mod=Whole(1), examples=Check(_examples))
def examples_figure(holdout_mod: int, examples=((3, 8, 1), (2, 9, 4), (0, 7, 5))):
    """Class combinations (``examples``: (c, k) classes) drawn as tiles named by class (no pixels), each titled by
    whether the split :func:`modscale_lib.data.is_unseen_combination` with ``holdout_mod`` holds it out of
    training."""
    fig, axes = subplots(1, len(examples), width=2.6, height=1.5)
    composite_schematic(axes, examples, data.CLASS_NAMES, data.is_unseen_combination(examples, holdout_mod))
    return fig


@validated(tuning=TUNING)
def tuning_table(tuning):
    """The tuned choices per k and method (:func:`modscale_lib.module_diagnostics.tuning_table`), as HTML."""
    return table(
        md.tuning_table(tuning["choices"], tuning["runs"]),
        formats={"step": "g", "validation accuracy": ".3f", "validation objective": ".2f"},
        caption="The tuned choices per k and method: the network, its step, the rule's first turn, the chosen run's "
        "validation accuracy (the rule: its objective on validation composites, lower is better), the runs the "
        "search made, and the coordinates whose choice is an end of what was tried",
    )


def _distinct(s: dict, roles: dict):
    """A table row's filter: the matched network's rows only where it is a network of its own."""
    return lambda row: distinct_row(row, roles["matched"], s["twin_ks"])


@validated(res=ACCURACY)
def accuracy_table(res, roles=ROLE_METHODS):
    """Every network at every k (:func:`modscale_lib.module_diagnostics.accuracy_table`), the matched network's
    rows only where it differs from the random one, as HTML."""
    s = study(res, roles)
    return table(
        rows_where(md.accuracy_table(res, s["names"], s["k_grid"]), _distinct(s, roles)),
        formats={
            "step": "g",
            "MFLOP per composite": ".1f",
            "rule's search (GFLOP)": ".0f",
            "training in all (TFLOP)": ".2f",
        },
        caption=f"Every network: test accuracy per image on seen combinations after one epoch, mean [95% CI] over "
        f"{len(res.config['seeds'])} seeds. The matched network has a row only where it differs from the random one "
        f"(k = {ks_text(s['own_ks'])}).",
    )


@validated(res=ACCURACY)
def accuracy_k_figure(res, roles=ROLE_METHODS):
    """:func:`accuracy_against_k` of every network but the matched one (drawn by :func:`flops_figure`), with the
    authors' numbers."""
    s = study(res, roles)
    shown = [m for m in s["names"] if m != roles["matched"]]
    acc = s["acc1"][[s["names"].index(m) for m in shown]]
    return accuracy_against_k(acc, shown, s["k_grid"], authors_numbers(roles))


@validated(res=ACCURACY)
def flops_figure(res, roles=ROLE_METHODS):
    """:func:`accuracy_against_flops` of every network, the rule's search spread over the composites trained;
    the matched network only where it is not the random one."""
    s = study(res, roles)
    drawn = [m for m in s["names"] if m != roles["matched"]] + [roles["matched"]]
    rows = [s["names"].index(m) for m in drawn]
    acc = s["acc1"][rows].copy()
    acc[-1, [s["k_grid"].index(k) for k in s["twin_ks"]]] = np.nan  # the matched network is the random one there
    fig = accuracy_against_flops(acc, s["per_composite"][rows], drawn, s["k_grid"])
    for ax in fig.axes[: len(s["k_grid"])]:
        ax.set_xlabel("MFLOP per training composite\n(the rule's search included)")
    return fig


@validated(res=ACCURACY)
def gain_table(res, roles=ROLE_METHODS):
    """The random and the matched modular network minus the MLP, paired by seed, as HTML."""
    s = study(res, roles)
    pairs = [(roles["random"], roles["monolithic"]), (roles["matched"], roles["monolithic"])]
    return table(
        rows_where(md.paired_table(s["acc1"], s["names"], s["k_grid"], pairs), _distinct(s, roles)),
        caption="Accuracy differences paired by seed (same data draw), mean [95% CI]: 'higher' or 'lower' only where "
        "the interval excludes zero",
    )


@validated(res=ACCURACY)
def rule_table(res, roles=ROLE_METHODS):
    """The rule's network minus the random one, paired by seed, at the k where the rule was trained, as HTML."""
    s = study(res, roles)
    pairs = [(roles["rule"], roles["random"])]
    return table(
        rows_where(md.paired_table(s["acc1"], s["names"], s["k_grid"], pairs), lambda r: r["k"] in s["rule_ks"]),
        caption="The rule's network minus the random one, test accuracy after one epoch, paired by seed: mean "
        "[95% CI] and verdict",
    )


#: The parts of :func:`diagnostics_tables`: a caption and its columns of
#: :func:`modscale_lib.module_diagnostics.diagnostics_table`.
DIAGNOSTICS = {
    "The rule's objective on held-out composites (lower is better) at the projections each network starts from "
    "and at slot-local ones; the difference to the random network's is paired by seed": (
        "objective",
        "objective, slot-local",
        "objective minus random's",
    ),
    "Locality (1: one slot; 1/k: spread evenly) and mean pairwise overlap of the modules": (
        "locality before training",
        "locality after training",
        "overlap before training",
        "overlap after training",
    ),
    "How far the rule and training moved the projections (0: not at all; 1: to an orthogonal span)": (
        "moved by the rule",
        "moved by training",
    ),
}


@validated(res=ACCURACY)
def diagnostics_tables(res, roles=ROLE_METHODS) -> list:
    """What the modules look at (:func:`modscale_lib.module_diagnostics.diagnostics_table`), one HTML table per
    part of :data:`DIAGNOSTICS`."""
    s = study(res, roles)
    rows = rows_where(md.diagnostics_table(res, s["names"], s["k_grid"], roles["random"]), _distinct(s, roles))
    seeds = len(res.config["seeds"])
    return [
        table({c: rows[c] for c in ("method", "k") + columns}, caption=f"{caption}: mean [95% CI] over {seeds} seeds")
        for caption, columns in DIAGNOSTICS.items()
    ]


@validated(res=ACCURACY)
def robustness_table(res, roles=ROLE_METHODS):
    """Each test (unseen combinations, noise, occlusion) minus seen combinations, as HTML."""
    s = study(res, roles)
    tests = {"unseen": "acc_unseen", "noise": "acc_noise", "occluded": "acc_occluded"}
    return table(
        rows_where(md.robustness_table(res, s["names"], s["k_grid"], tests), _distinct(s, roles)),
        caption="Accuracy on each test minus accuracy on seen combinations, mean [95% CI] over seeds",
    )


def _epochs(long) -> tuple:
    return long["acc_seen"], list(long.config["methods"]), [int(k) for k in long.config["n_images_grid"]]


@validated(long=ACCURACY)
def epoch_table(long):
    """Seen combinations after each epoch of the ``cpu_epochs`` result ``long``, as HTML."""
    return table(
        md.epoch_table(*_epochs(long)),
        caption="Seen combinations after each epoch, mean [95% CI] over seeds; the last column is the last epoch's "
        "gain over the one before, paired by seed",
    )


@validated(long=ACCURACY)
def epoch_gain_table(long, roles=ROLE_METHODS):
    """The random modular network minus the MLP after the first and the last epoch of ``long``, as HTML."""
    acc, names, ks = _epochs(long)
    pair = [(roles["random"], roles["monolithic"])]
    first, last = (md.paired_table(acc[..., e], names, ks, pair) for e in (0, -1))
    after = ["epoch 1"] * len(first["k"]) + [f"epoch {long.config['epochs']}"] * len(last["k"])
    return table(
        {"after": after, **{c: first[c] + last[c] for c in first}},
        caption="The random modular network minus the MLP, paired by seed, after the first and the last epoch",
    )


@validated(checks=STORED_CHECKS)
def jpeg_table(checks):
    """k = 2, one epoch, the same training images from exact pixels and from JPEG: each, and their difference
    paired by seed, per method, as HTML."""
    seen = {n: np.asarray(checks[n]["acc_seen"])[:, 0, :, 0] for n in checks}  # (method, seed)
    diff = md.ci(seen["jpeg_check"] - seen["lossless_check"])
    names = list(checks["jpeg_check"].config["methods"])
    return table(
        {
            "method": names,
            "exact pixels": [md.ci_text(*md.ci(seen["lossless_check"][j])) for j in range(len(names))],
            "JPEG": [md.ci_text(*md.ci(seen["jpeg_check"][j])) for j in range(len(names))],
            "JPEG minus exact, paired": [md.ci_text(*(t[j] for t in diff)) for j in range(len(names))],
        },
        caption="k = 2, one epoch, the same training images: test accuracy per image, mean [95% CI] over seeds",
    )


@validated(tuning=TUNING, res=ACCURACY, long=ACCURACY, checks=STORED_CHECKS)
def cost_table(tuning, res, long, checks):
    """Every stored result the chapter reads, its recorded CPU minutes and the cost model's prediction
    (``experiments.compositional_cifar.cost_estimate``), as HTML."""
    read = {
        "compositional_tuning cpu": (tuning, None),
        "compositional_accuracy cpu": (res, "cpu"),
        "compositional_accuracy cpu_epochs": (long, "cpu_epochs"),
        **{f"compositional_accuracy {n}": (checks[n], n) for n in ("jpeg_check", "lossless_check")},
    }
    cpu_min = [r.metadata["cpu_time_s"] / 60 for r, _ in read.values()]
    config = experiments.compositional_accuracy.config
    predicted = [cc.cost_estimate(config(n), tuning)["total_s"] / 60 if n else np.nan for _, n in read.values()]
    return table(
        {
            "result": list(read),
            "stored as": [r.location for r, _ in read.values()],
            "CPU minutes": cpu_min,
            "predicted CPU minutes": predicted,
        },
        formats={"CPU minutes": ".1f", "predicted CPU minutes": ".1f"},
        caption=f"The chapter's store: {sum(cpu_min):.1f} CPU-minutes in all, against a cap of {cc.CPU_CAP_MIN:.0f}",
    )
