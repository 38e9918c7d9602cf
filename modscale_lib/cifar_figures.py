"""Figures of the chapter *Compositional CIFAR-10*, drawn from stored results and schematics only: no figure here
reads the dataset, so none can show its pixels (tests/test_compositional.py checks the chapter for that)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import matplotlib.ticker as mticker
import numpy as np

from .cifar_readout import ACC, GRID, NAMES, PER_COMPOSITE, TEXT
from .core import Check, OrNone, array, validated, whole_array
from .metrics import bootstrap_ci
from .plotting import METHOD_COLOURS, OURS, PAPER, panel_grid, subplots

__all__ = ["COLOURS", "colour", "layout_figure", "tuning_figure", "accuracy_against_k", "accuracy_against_flops"]

#: the chapter's methods; the two not in ``plotting.METHOD_COLOURS`` get their own
COLOURS = {**METHOD_COLOURS, "modular, matched": "#e09b2d", "modular, slot-local": "#2a9d5c"}


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
