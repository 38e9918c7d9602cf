"""The book's one figure style (matplotlib only; no experiment runs here)."""
from __future__ import annotations

import matplotlib as mpl
import matplotlib.pyplot as plt

__all__ = ["use_style", "composite_schematic", "OURS", "THEORY", "PAPER", "ACCENT", "D_COLOURS", "subplots", "theory_and_simulation",
           "theory_vs_networks"]

OURS = "#1f5fa8"      # our measurements
THEORY = "#222222"    # closed forms
PAPER = "#a0a0a0"     # the authors' numbers, muted, drawn as markers beside ours
ACCENT = "#c8553d"


def use_style() -> None:
    """Set the house style: readable sizes, light grid, no top/right spines, fixed DPI for stable output."""
    mpl.rcParams.update({
        "figure.dpi": 100,
        "savefig.dpi": 100,
        "figure.figsize": (6.4, 4.0),
        "font.size": 11,
        "axes.titlesize": 11,
        "axes.labelsize": 11,
        "axes.grid": True,
        "grid.alpha": 0.3,
        "axes.spines.top": False,
        "axes.spines.right": False,
        "legend.frameon": False,
        "lines.linewidth": 1.8,
    })


def subplots(nrows: int = 1, ncols: int = 1, width: float = 4.2, height: float = 3.4, **kwargs):
    """``plt.subplots`` in the house style, sized per panel (inches)."""
    use_style()
    return plt.subplots(nrows, ncols, figsize=(width * ncols, height * nrows), constrained_layout=True, **kwargs)


D_COLOURS = ("#1f5fa8", "#c8553d", "#2a9d5c", "#7b4fa0")  # one colour per number of outputs d


def theory_and_simulation(ax, x, theory_y, sim_y, sim_se, *, colour: str, label: str, marker: str = "o"):
    """Draw a closed form as a line and its Monte Carlo as markers with ±2 standard-error bars.

    Infinite theory values (the interpolation peak) become gaps in the line rather than spikes.
    """
    import numpy as np

    theory_y = np.where(np.isfinite(theory_y), theory_y, np.nan)
    ax.plot(x, theory_y, color=colour, lw=1.6, label=f"{label}, theory")
    ax.errorbar(x, sim_y, yerr=2 * np.asarray(sim_se), fmt=marker, ms=3.5, mfc="white", mew=1.1, color=colour,
                elinewidth=0.8, label=f"{label}, simulation")


PANEL_LABELS = {"k": "number of modules k", "m": "input dimension m", "p": "parameters p",
                "n": "training samples n"}
LINE_LABELS = {"k": "p", "m": "p", "p": "m", "n": "m"}
TRAIN_COLOUR, TEST_COLOUR = "#1f5fa8", "#e07b28"


def theory_vs_networks(panels: dict, predictions: dict, *, ylim=None):
    """The four-panel figure of trained networks against theory (after the authors' loss-trend figure).

    For each panel (``k``, ``m``, ``p``, ``n``): light lines, one per setting of the other variable, each the
    mean over seeds; bold lines, their average; dashed lines, the theory's prediction averaged the same way.
    Train loss in blue, test loss in orange. Returns the figure.
    """
    import numpy as np
    from matplotlib.lines import Line2D

    fig, axes = subplots(2, 2, width=4.6, height=3.4)
    for ax, name in zip(axes.ravel(), "kmpn"):
        lines, pred = panels[name], predictions[name]
        x_all = np.mean([d["x"] for d in lines.values()], axis=0)
        for stat, colour in (("train", TRAIN_COLOUR), ("test", TEST_COLOUR)):
            means = np.array([d[stat].mean(axis=0) for d in lines.values()])
            for d, mean in zip(lines.values(), means):
                ax.plot(d["x"], mean, color=colour, lw=0.7, alpha=0.35)
            ax.plot(x_all, means.mean(axis=0), color=colour, lw=2.2)
            theory_mean = np.array([pred[line][stat] for line in lines]).mean(axis=0)
            # on log axes, drop the infinite peak and the exact zeros of an interpolating fit
            shown = np.isfinite(theory_mean) & (theory_mean > 0)
            ax.plot(x_all, np.where(shown, theory_mean, np.nan), color=colour, lw=1.8, ls="--")
        if name in "pn":
            ax.set_xscale("log")
        ax.set_yscale("log")
        if ylim is not None:
            ax.set_ylim(*ylim)
        ax.set_xlabel(PANEL_LABELS[name])
        ax.set_ylabel("loss (mean squared error)")
        ax.set_title(f"light lines: one per {LINE_LABELS[name]}", fontsize=9)
    handles = [Line2D([], [], color=TRAIN_COLOUR, lw=2.2, label="train, networks"),
               Line2D([], [], color=TEST_COLOUR, lw=2.2, label="test, networks"),
               Line2D([], [], color=TRAIN_COLOUR, lw=1.8, ls="--", label="train, theory"),
               Line2D([], [], color=TEST_COLOUR, lw=1.8, ls="--", label="test, theory")]
    axes[0, 0].legend(handles=handles, fontsize=8)
    return fig


def composite_schematic(axes, combos, class_names, unseen) -> None:
    """Draw each class combination as a row of labelled tiles, one axis per combination.

    combos : (c, k) integer classes; class_names : names indexed by class; unseen : (c,) booleans, shown in
    each title (whether the combination is held out of training).
    """
    for ax, combo, held_out in zip(axes, combos, unseen):
        for j, c in enumerate(combo):
            ax.add_patch(plt.Rectangle((j, 0), 0.96, 0.96, color=plt.cm.tab10(int(c)), alpha=0.55))
            ax.text(j + 0.48, 0.48, class_names[int(c)], ha="center", va="center", fontsize=7)
        ax.set(xlim=(0, len(combo)), ylim=(0, 1), xticks=[], yticks=[])
        ax.set_title(f"{tuple(int(c) for c in combo)}: sum {int(sum(combo))}, "
                     + ("unseen" if held_out else "seen"), fontsize=8)
