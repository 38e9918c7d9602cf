"""The book's one figure style (matplotlib only; no experiment runs here)."""
from __future__ import annotations

import matplotlib as mpl
import matplotlib.pyplot as plt

__all__ = ["use_style", "OURS", "THEORY", "PAPER", "ACCENT", "D_COLOURS", "subplots", "theory_and_simulation"]

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
