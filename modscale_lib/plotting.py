"""The book's one figure style (matplotlib only; no experiment runs here)."""
from __future__ import annotations

import matplotlib as mpl
import matplotlib.pyplot as plt

__all__ = ["use_style", "OURS", "THEORY", "PAPER", "subplots"]

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
