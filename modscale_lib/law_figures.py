"""The figures of the chapter *Exponential or polynomial?* (:doc:`/book/scaling_law`), in the book's style
(:mod:`modscale_lib.plotting`): the samples needed against the input dimension, with both laws drawn."""

from __future__ import annotations

import matplotlib as mpl
import numpy as np

from . import core
from .law_readout import CENSORED, N_STAR, median_n_star
from .plotting import METHOD_COLOURS, panel_grid

__all__ = ["law_figure"]


def _line(ax, m, law: str, fit, colour: str) -> None:
    a, slope = fit
    grid = np.geomspace(m.min(), m.max(), 50)
    y = np.exp(a + slope * (np.log(grid) if law == "power" else grid))
    ax.plot(grid, y, "-" if law == "power" else "--", color=colour, lw=1.2, alpha=0.9)


def _grid(value, name: str, arguments: dict) -> np.ndarray:
    """``n*`` (panel, method, D, seed), ``D`` the size of ``input_dims``."""
    n = N_STAR(value, name)
    if n.ndim != 4 or n.shape[2] != arguments["input_dims"].size:
        raise ValueError(f"{name} must be (panel, method, D, seed), D = {arguments['input_dims'].size} input_dims")
    return n


def _names(axis: int) -> core.Rule:
    """One string per entry of ``n_star``'s axis ``axis``."""

    def check(value, name, arguments):
        size = arguments["n_star"].shape[axis]
        if isinstance(value, str) or not isinstance(value, (list, tuple)) or len(value) != size:
            raise ValueError(f"{name} must be a list of {size} strings, one per axis {axis} of n_star, got {value!r}")
        if not all(isinstance(v, str) for v in value):
            raise TypeError(f"{name} must hold strings, got {value!r}")
        return value

    return core.Check(check)


def _range(value, name: str, arguments=None) -> tuple:
    if not isinstance(value, (tuple, list)) or len(value) != 2:
        raise TypeError(f"{name} must be a pair (smallest, largest n), got {value!r}")
    low = core.real(value[0], f"{name}[0]", low=0.0, low_open=True)
    return low, core.real(value[1], f"{name}[1]", low=low, low_open=True)


def _fits(value, name: str, arguments=None) -> dict | None:
    if value is not None and not isinstance(value, dict):
        raise TypeError(f"{name} must be None or a dict {{panel: {{method: {{law: (a, slope)}}}}}}, got {value!r}")
    return value


@core.validated(
    input_dims=core.RealArray(0.0, low_open=True, ndim=1, min_size=1),
    n_star=core.Check(_grid),
    censoring=CENSORED,
    labels=_names(1),
    titles=_names(0),
    fits=core.Check(_fits),
    n_range=core.Check(_range),
    columns=core.Whole(1, 100),
)
def law_figure(input_dims, n_star, censoring, labels, titles, fits=None, n_range=(8, 2**16), columns: int = 3):
    """``n*`` against ``m`` on log-log axes, one panel per task (``titles``).

    input_dims : (D,). n_star, censoring : (panel, method, D, seed), as
    :func:`modscale_lib.law_readout.samples_needed` gives them. Per method: the seeds as faint dots (censored
    ones at their bound), the median as a marker (open where half of the seeds or more are censored), and,
    where ``fits[panel][method]`` is given as ``{"power": (a, alpha), "exponential": (a, beta)}`` (natural
    logs), the two fitted laws: the power law solid, the exponential dashed, over the ``m`` they were fitted
    on. Panels fill rows of ``columns``. Returns the figure; its legend fills the first panel left empty, or sits
    outside the panels right of them where the panels fill every row.
    """
    m = np.asarray(input_dims, dtype=float)
    fig, axes = panel_grid(len(titles), columns, width=4.0, height=3.3, sharey=True)
    for k, title in enumerate(titles):
        ax = axes.ravel()[k]
        for i, label in enumerate(labels):
            colour = METHOD_COLOURS.get(label, "#555555")
            n, cens = np.asarray(n_star[k, i], float), np.asarray(censoring[k, i], dtype=object)
            ran = np.sum(cens != "missing", axis=-1) >= 2
            if not ran.any():
                continue
            seeds = np.where(cens == "missing", np.nan, n)
            ax.plot(
                np.repeat(m, n.shape[-1]).reshape(n.shape)[ran].ravel(),
                seeds[ran].ravel(),
                ".",
                color=colour,
                ms=2,
                alpha=0.3,
            )
            med, flag = median_n_star(n, cens)
            shown = np.where(flag == "above", float(n_range[1]), med)
            ax.plot(m[ran], shown[ran], "-", color=colour, lw=0.6, alpha=0.5)
            solid = ran & (flag == "")
            ax.plot(m[solid], shown[solid], "o", color=colour, ms=4.5, label=label)
            ax.plot(m[ran & ~solid], shown[ran & ~solid], "o", mfc="white", color=colour, ms=5)
            for law, fit in ((fits or {}).get(k, {}).get(i) or {}).items():
                _line(ax, m[ran], law, fit, colour)
        ax.set(
            xscale="log",
            yscale="log",
            xlabel="input dimension m",
            title=title,
            ylim=(n_range[0] / 1.5, n_range[1] * 1.5),
        )
        ax.set_xticks(m, [str(int(v)) for v in m])
        ax.xaxis.set_minor_locator(mpl.ticker.NullLocator())
    for row in axes:
        row[0].set_ylabel("samples needed n*")
    handles, names = axes[0, 0].get_legend_handles_labels()
    handles += [mpl.lines.Line2D([], [], color="#555555", ls=ls, lw=1.2) for ls in ("-", "--")]
    names += ["power-law fit", "exponential fit"]
    spare = axes.ravel()[len(titles) :]
    if spare.size:
        spare[0].set_visible(True)
        spare[0].axis("off")
        spare[0].legend(handles, names, loc="center", fontsize=9)
    else:
        fig.legend(handles, names, loc="outside right center", fontsize=9)
    return fig
