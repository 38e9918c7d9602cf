"""The book's one figure style and its HTML tables (matplotlib only; no experiment runs here).

Figures are drawn for the book's content column: about 688 CSS px wide, 672 inside a figure. At the house
100 dpi a figure up to ``COLUMN_INCHES`` wide is shown at its own size, so its text keeps its size in points
(the house minimum is ``MIN_TEXT_PT``). Wider figures are scaled down to the column, and their text with
them. Each figure a notebook shows after :func:`setup_notebook` carries, in its PNG, the size of its smallest
text (:data:`TEXT_SIZE_KEY`), which the book's browser test compares with the size the image is drawn at.
"""

from __future__ import annotations

import html
import numbers
import re
from collections.abc import Callable, Mapping, Sequence

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np

from ..core import Check, OrNone, Real, Seed, Whole, array, validated, whole_array

__all__ = [
    "use_style",
    "setup_notebook",
    "table",
    "composite_schematic",
    "OURS",
    "THEORY",
    "PAPER",
    "ACCENT",
    "D_COLOURS",
    "METHOD_COLOURS",
    "subplots",
    "panel_grid",
    "theory_and_simulation",
    "linear_model_axes",
    "modular_theory_figure",
    "sine_module_figure",
    "modules_against_target",
    "recovery_scatter",
    "projection_training_figure",
    "learning_curves_grid",
    "samples_needed_figure",
    "similarity_figure",
    "smallest_text_pt",
    "COLUMN_INCHES",
    "MIN_TEXT_PT",
    "TEXT_SIZE_KEY",
]

OURS = "#1f5fa8"  # our measurements
THEORY = "#222222"  # closed forms
PAPER = "#a0a0a0"  # the authors' numbers, muted, drawn as markers beside ours
ACCENT = "#c8553d"

COLUMN_INCHES = 6.6  #: widest figure (inches, at 100 dpi) that the book's content column shows unscaled
MIN_TEXT_PT = 9  #: the house minimum for text in a figure, in points at the figure's own size
#: PNG text chunk holding the smallest text of a figure, in pixels of that PNG ("<px> px (<pt> pt)")
TEXT_SIZE_KEY = "modscale smallest text"


# -- the rules of the figures' arguments (modscale_lib.core.validated): each checks a value and returns it
# unchanged, so that a figure of valid data is drawn exactly as before ---------------------------------------
def _shaped(value, name: str, shape: tuple, *, nan: bool = False, inf: bool = False, low=None, axes: str = ""):
    """``value`` checked to be numeric of ``shape`` (None: any length), NaN and infinities only where allowed,
    every finite entry ``>= low``; returned unchanged. ``axes`` says what sets the shape, for the error."""
    try:
        arr = array(value, name, shape=shape, finite=False)
    except ValueError as exc:
        raise ValueError(f"{exc}{': ' + axes if axes else ''}") from None
    if (not nan and np.isnan(arr).any()) or (not inf and np.isinf(arr).any()):
        raise ValueError(f"{name} must hold {'finite numbers' if not nan else 'numbers or NaN'}, got {arr!r}"[:300])
    if low is not None and (arr[np.isfinite(arr)] < low).any():
        raise ValueError(f"{name} must hold values >= {low}, got {arr!r}"[:300])
    return value


def _texts(value, name: str, arguments=None, *, options=None) -> list:
    """A non-empty sequence of strings (each one of ``options`` if given)."""
    if isinstance(value, (str, bytes)) or not isinstance(value, (Sequence, np.ndarray)) or not len(value):
        raise TypeError(f"{name} must be a non-empty sequence of strings, got {value!r}"[:300])
    for v in value:
        if not isinstance(v, str) or (options is not None and v not in options):
            raise ValueError(f"{name} must hold strings{' of ' + str(tuple(options)) if options else ''}, got {v!r}")
    return value


def _text(value, name: str, arguments=None) -> str:
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a string, got {value!r} ({type(value).__name__})")
    return value


def _axes(value, name: str, arguments=None, *, shape=None):
    """Matplotlib axes: one, or an array of ``shape`` (None: any number) of them."""
    from matplotlib.axes import Axes

    arr = np.asarray(value, dtype=object)
    if not arr.size or not all(isinstance(a, Axes) for a in arr.flat) or (shape and arr.shape != shape):
        raise TypeError(f"{name} must be matplotlib axes{' ' + str(shape) if shape else ''}, got {value!r}"[:300])
    return value


def _grid(value, name: str, arguments=None):
    """A 1-D grid of finite values > 0 (samples, dimensions: drawn on log axes)."""
    return _shaped(value, name, (None,), low=np.nextafter(0, 1))


TEXT, TEXTS, GRID = Check(_text), Check(_texts), Check(_grid)
LABELS = Check(lambda v, name, a: _texts(v, name, options=METHOD_COLOURS))
AXIS = Check(lambda v, name, a: _axes(v, name, shape=()))
SIZE = Real(0.0, 100.0, low_open=True)  # inches of a panel


def _task(value, name: str, arguments=None):
    from ..tasks import SineWaveTask

    if not isinstance(value, SineWaveTask):
        raise TypeError(f"{name} must be a SineWaveTask, got {type(value).__name__}")
    return value


def _wholes(*, ndim: int = 1, low: int = 0, high=None) -> Check:
    """A rule: a non-empty array of whole numbers in ``[low, high(arguments)]``, returned unchanged."""

    def check(value, name: str, arguments: dict):
        whole_array(value, name, low=low, high=None if high is None else high(arguments), ndim=ndim, min_size=1)
        return value

    return Check(check)


def _figure(value, name: str, arguments=None):
    from matplotlib.figure import Figure

    if not isinstance(value, Figure):
        raise TypeError(f"{name} must be a matplotlib Figure, got {type(value).__name__}")
    return value


def _columns(value, name: str, arguments=None):
    """``{header: values}``, every column a sequence of one length."""
    if not isinstance(value, Mapping):
        raise TypeError(f"{name} must map headers to columns, got {type(value).__name__}")
    if any(isinstance(v, (str, bytes)) or not hasattr(v, "__len__") for v in value.values()):
        raise TypeError(f"{name} must map each header to a sequence of values, got {value!r}"[:300])
    lengths = {len(v) for v in value.values()}
    if len(lengths) > 1:
        raise ValueError(f"{name}: every column must have the same length, got {sorted(lengths)}")
    return value


def _formats(value, name: str, arguments: dict):
    if not isinstance(value, Mapping) or not all(isinstance(f, str) or callable(f) for f in value.values()):
        raise TypeError(f"{name} must map headers to format specs or functions, got {value!r}"[:300])
    unknown = set(value) - set(arguments["columns"])
    if unknown:
        raise ValueError(f"{name} names columns that do not exist: {sorted(unknown)}")
    return value


def _unseen(value, name: str, arguments: dict):
    """One boolean per combination of ``combos``."""
    arr = np.asarray(value)
    if arr.dtype != bool or arr.shape != (len(arguments["combos"]),):
        raise ValueError(f"{name} must hold one boolean per combination ({len(arguments['combos'])}), got {value!r}")
    return value


def _enough_axes(value, name: str, arguments: dict):
    _axes(value, name)
    if np.size(np.asarray(value, dtype=object)) < len(arguments["combos"]):
        raise ValueError(f"{name} must hold one axis per combination ({len(arguments['combos'])})")
    return value


def _cosines(value, name: str, arguments: dict):
    """``|cos|`` (variant, seed, 2, found) in [0, 1], at most as many found as colours."""
    arr = array(
        _shaped(value, name, (len(arguments["variants"]), None, 2, None), low=0.0, axes="one per variant of variants"),
        name,
    )
    if arr.shape[1] < 1 or not 1 <= arr.shape[3] <= len(D_COLOURS) or arr.max() > 1 + 1e-9:
        raise ValueError(
            f"{name} must be (variant, seed >= 1, 2, 1..{len(D_COLOURS)} found) in [0, 1], got {arr.shape}"
        )
    return value


def _curves(value, name: str, arguments: dict):
    """(init, seed >= 2, record): one curve per seed of each init, one point per step."""
    shape = (len(arguments["inits"]), None, len(arguments["steps"]))
    if (
        array(_shaped(value, name, shape, axes="one per entry of inits, seeds, one per entry of steps"), name).shape[1]
        < 2
    ):
        raise ValueError(f"{name} must hold at least two seeds per init (for a standard error)")
    return value


def _inits(value, name: str, arguments: dict):
    if len(_texts(value, name)) > len(D_COLOURS):
        raise ValueError(f"{name} must hold at most {len(D_COLOURS)} inits (one colour each), got {len(value)}")
    return value


def _reference(value, name: str, arguments: dict):
    """The authors' scores: ``{"baseline": (start, end), <the paper's rule>: (start, end)}``."""
    from .. import methods

    keys = ("baseline", methods.rule("paper"))
    if not isinstance(value, Mapping) or not set(keys) <= set(value):
        raise ValueError(f"{name} must map {keys} to (start, end) scores, got {value!r}"[:300])
    for key in keys:
        _shaped(value[key], f"{name}[{key!r}]", (2,))
    return value


def _losses(value, name: str, arguments: dict):
    """(K, method >= labels, m, seed, N) losses (NaN where not measured)."""
    shape = (len(arguments["module_counts"]), None, len(arguments["input_dims"]), None, len(arguments["n_grid"]))
    axes = "(K, method, m, seed, N): one per entry of module_counts, input_dims and n_grid"
    if array(_shaped(value, name, shape, nan=True, low=0.0, axes=axes), name, finite=False).shape[1] < len(
        arguments["labels"]
    ):
        raise ValueError(f"{name} must hold a method (axis 1) for each of labels ({len(arguments['labels'])})")
    return value


def _samples_needed(value, name: str, arguments: dict):
    """(panel, method >= labels, m, seed) samples needed, ``inf`` where not reached."""
    shape = (len(arguments["titles"]), None, len(arguments["input_dims"]), None)
    axes = "(panel, method, m, seed): one per entry of titles and of input_dims"
    arr = array(_shaped(value, name, shape, inf=True, low=0.0, axes=axes), name, finite=False)
    if arr.shape[1] < len(arguments["labels"]) or arr.shape[3] < 1:
        raise ValueError(
            f"{name} must hold a method (axis 1) for each of labels and at least one seed, got {arr.shape}"
        )
    return value


def _same_length(of: str, **options) -> Check:
    """A rule: an array as long as the argument ``of`` (finite unless ``options`` say), returned unchanged."""
    return Check(
        lambda value, name, arguments: _shaped(
            value, name, (len(arguments[of]),), axes=f"one per entry of {of}", **options
        )
    )


def _similarities(value, name: str, arguments: dict):
    """(K, m, seed, N) similarities (NaN where not measured)."""
    shape = (len(arguments["module_counts"]), len(arguments["input_dims"]), None, len(arguments["n_grid"]))
    return _shaped(
        value, name, shape, nan=True, axes="(K, m, seed, N): one per entry of module_counts, input_dims, n_grid"
    )


_SAMPLES_NEEDED = ("n_mono", "n_matched", "n_random")


def use_style() -> None:
    """Set the house style: readable sizes, light grid, no top/right spines, fixed DPI for stable output."""
    mpl.rcParams.update(
        {
            "figure.dpi": 100,
            "savefig.dpi": 100,
            "figure.figsize": (6.4, 4.0),
            "font.size": 11,
            "axes.titlesize": 11,
            "axes.labelsize": 11,
            "xtick.labelsize": 10,
            "ytick.labelsize": 10,
            "legend.fontsize": 10,
            "axes.grid": True,
            "grid.alpha": 0.3,
            "axes.spines.top": False,
            "axes.spines.right": False,
            "legend.frameon": False,
            "lines.linewidth": 1.8,
        }
    )


@validated(fig=Check(_figure))
def smallest_text_pt(fig) -> float:
    """The smallest font size, in points, of the text that drawing ``fig`` paints (``inf`` if it paints none).

    Texts that are hidden, empty or not drawn (tick labels outside the view) do not count; a maths label
    counts at its base size.
    """
    from matplotlib import text as mtext

    sizes = []
    draw = mtext.Text.draw

    def recording_draw(self, renderer):
        if self.get_visible() and self.get_text().strip():
            sizes.append(float(self.get_fontsize()))
        return draw(self, renderer)

    mtext.Text.draw = recording_draw
    try:
        fig.draw_without_rendering()
    finally:
        mtext.Text.draw = draw
    return min(sizes, default=float("inf"))


def _stamped_retina_png(fig):
    """The inline backend's retina PNG, with the figure's smallest text recorded in a PNG text chunk."""
    from IPython.core.pylabtools import retina_figure

    smallest = smallest_text_pt(fig)
    dpi = 2 * fig.dpi  # what retina_figure renders at
    stamp = f"{smallest * dpi / 72:.2f} px ({smallest:.2f} pt)" if np.isfinite(smallest) else "none"
    return retina_figure(fig, base64=True, bbox_inches="tight", metadata={TEXT_SIZE_KEY: stamp})


def setup_notebook() -> None:
    """A chapter's setup: the house style, figures at retina resolution (each PNG stamped with its smallest
    text, :data:`TEXT_SIZE_KEY`), numpy printing with 4 digits."""
    use_style()
    np.set_printoptions(precision=4, suppress=True)
    try:
        from IPython import get_ipython
        from matplotlib.figure import Figure
        from matplotlib_inline.backend_inline import set_matplotlib_formats

        set_matplotlib_formats("retina")
        shell = get_ipython()
        if shell is not None:
            shell.display_formatter.formatters["image/png"].for_type(Figure, _stamped_retina_png)
    except ImportError:  # outside IPython: nothing to configure
        pass


def _cell(value, fmt) -> str:
    if callable(fmt):
        return fmt(value)
    if isinstance(value, str):
        return value
    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else "no"
    if isinstance(value, numbers.Integral):
        return format(int(value), fmt or ",")
    if isinstance(value, numbers.Real):
        v = float(value)
        if not np.isfinite(v):
            return "not reached" if v > 0 else ("n/a" if np.isnan(v) else "-inf")
        return format(v, fmt or ".3g")
    return str(value)


_INLINE_MATHS = re.compile(r"(?<!\\)\$(.+?)(?<!\\)\$")


def _text_with_maths(text: str) -> str:
    """HTML for a caption or header: ``$...$`` becomes maths that the book's MathJax typesets, like Sphinx's
    inline maths; everything else is escaped."""
    parts, last = [], 0
    for match in _INLINE_MATHS.finditer(text):
        parts.append(html.escape(text[last : match.start()]))
        parts.append(f'<span class="math notranslate nohighlight">\\({html.escape(match.group(1))}\\)</span>')
        last = match.end()
    return "".join(parts) + html.escape(text[last:])


@validated(columns=Check(_columns), formats=OrNone(Check(_formats)), caption=OrNone(TEXT))
def table(
    columns: Mapping[str, Sequence], *, formats: Mapping[str, str | Callable] | None = None, caption: str | None = None
):
    """An HTML table for a notebook: ``columns`` maps each header to its values (all of one length).

    ``formats`` maps a header to a format spec (``".3f"``, ``".1%"``) or a function value -> str; by default
    whole numbers get thousands separators, other numbers three significant digits, ``inf`` reads "not
    reached" and NaN "n/a". ``$...$`` in the caption or a header is typeset as maths in the book. Returns an
    ``IPython.display.HTML`` object (its last-line value displays it).
    """
    from IPython.display import HTML

    formats = dict(formats or {})
    n = len(next(iter(columns.values()))) if columns else 0
    head = "".join(f"<th>{_text_with_maths(str(h))}</th>" for h in columns)
    body = "".join(
        "<tr>"
        + "".join(f"<td>{html.escape(_cell(vals[i], formats.get(h)))}</td>" for h, vals in columns.items())
        + "</tr>"
        for i in range(n)
    )
    cap = f"<caption>{_text_with_maths(caption)}</caption>" if caption else ""
    return HTML(f'<table class="modscale-table">{cap}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>')


@validated(nrows=Whole(1, high=100), ncols=Whole(1, high=100), width=SIZE, height=SIZE)
def subplots(nrows: int = 1, ncols: int = 1, width: float = 4.2, height: float = 3.4, **kwargs):
    """``plt.subplots`` in the house style, sized per panel (inches)."""
    use_style()
    return plt.subplots(nrows, ncols, figsize=(width * ncols, height * nrows), constrained_layout=True, **kwargs)


@validated(n=Whole(1, high=1000), columns=Whole(1, high=100), width=SIZE, height=SIZE)
def panel_grid(n: int, columns: int, width: float, height: float, **kwargs):
    """``n`` panels in rows of ``columns`` (fewer if ``n`` is smaller), sized per panel like :func:`subplots`;
    the spare panels of the last row hidden. Returns the figure and the axes, (rows, columns)."""
    cols = min(columns, n)
    fig, axes = subplots(-(-n // cols), cols, width=width, height=height, squeeze=False, **kwargs)
    for ax in axes.flat[n:]:
        ax.set_visible(False)
    return fig, axes


D_COLOURS = ("#1f5fa8", "#c8553d", "#2a9d5c", "#7b4fa0")  # one colour per number of outputs d
METHOD_COLOURS = {  # one colour per method of modscale_lib.methods, the same in every chapter
    "monolithic": THEORY,
    "random features": "#9467bd",
    "modular, random": ACCENT,
    "modular, paper rule": "#7b4fa0",
    "modular, deflation rule": "#6b8e23",
    "modular, backfit rule": OURS,
    "modular, spectral rule": "#e09b2d",
    "modular, grouped rule": "#d1495b",
    "modular, newton rule": "#17becf",
    "modular, oracle": "#2a9d5c",
    # the reviewers' controls (methods.CONTROLS)
    "monolithic, compute-matched": "#777777",
    "modular, random, K averaged": "#f08a6c",
    "modules without projections": "#8c564b",
    "modular, backfit rule, K/2 modules": "#7fb3e6",
    "modular, backfit rule, 2K modules": "#0b3768",
    "modular, newton rule, K/2 modules": "#8fdfe8",
    "modular, newton rule, 2K modules": "#0b6f7a",
}


@validated(
    ax=AXIS,
    x=GRID,
    theory_y=_same_length("x", nan=True, inf=True),
    sim_y=_same_length("x", nan=True),
    sim_se=_same_length("x", nan=True, low=0.0),
    colour=TEXT,
    label=TEXT,
)
def theory_and_simulation(ax, x, theory_y, sim_y, sim_se, *, colour: str, label: str, marker: str = "o"):
    """Draw a closed form as a line and its Monte Carlo as markers with ±2 standard-error bars.

    Infinite theory values (the interpolation peak) become gaps in the line rather than spikes.
    """
    import numpy as np

    theory_y = np.where(np.isfinite(theory_y), theory_y, np.nan)
    ax.plot(x, theory_y, color=colour, lw=1.6, label=f"{label}, theory")
    ax.errorbar(
        x,
        sim_y,
        yerr=2 * np.asarray(sim_se),
        fmt=marker,
        ms=3.5,
        mfc="white",
        mew=1.1,
        color=colour,
        elinewidth=0.8,
        label=f"{label}, simulation",
    )


@validated(axes=Check(lambda v, name, a: _axes(v, name, shape=(2, 2))), p_fixed=Whole(1), n_fixed=Whole(1))
def linear_model_axes(axes, p_fixed: int, n_fixed: int) -> None:
    """Scales, limits and labels of the linear model's 2 x 2 figure (rows: n sweep, p sweep; columns: test,
    train), and one legend for the figure, below its panels."""
    for (row, col), ax in np.ndenumerate(axes):
        ax.set_xscale("log")
        ax.set_yscale("log" if col == 0 else "linear")
        if col == 0:  # the peak itself is off the chart: there the loss is infinite
            ax.set_ylim(0.1, 30)
        ax.set_xlabel(f"samples $n$ ($p = {p_fixed}$)" if row == 0 else f"parameters $p$ ($n = {n_fixed}$)")
        ax.set_ylabel("test loss" if col == 0 else "train loss")
    axes[0, 0].figure.legend(
        *axes[0, 0].get_legend_handles_labels(), loc="outside lower center", ncol=2, fontsize=MIN_TEXT_PT
    )


@validated(
    m=GRID,
    floor=_same_length("m"),
    target=Real(0.0, low_open=True),
    **{n: _same_length("m", inf=True, low=0.0) for n in _SAMPLES_NEEDED},
)
def modular_theory_figure(m, floor, target, n_mono, n_matched, n_random):
    """Two panels: the loss floor of random against matched projections, and the samples each needs."""
    fig, (ax_f, ax_n) = subplots(1, 2, width=COLUMN_INCHES / 2, height=3.2)
    ax_f.plot(m, floor, "o-", color=ACCENT, label="random projections")
    ax_f.plot(m, np.zeros(len(m)), "o-", color=OURS, label="matched projections")
    ax_f.axhline(target, color=PAPER, ls="--", lw=1, label=f"target $\\varepsilon = {target:g}$")
    ax_f.set(xlabel="input dimension $m$", ylabel="loss floor / $\\mathrm{Var}(y)$", ylim=(-0.03, 1.03))
    ax_f.legend(fontsize=MIN_TEXT_PT)
    ax_n.plot(m, n_mono, "o-", color=THEORY, label="monolithic")
    ax_n.plot(m, n_matched, "o-", color=OURS, label="modular, matched")
    ax_n.plot(m, n_random, "o-", color=ACCENT, label="modular, random")
    ax_n.set(yscale="log", xlabel="input dimension $m$", ylabel="samples needed $n^*$")
    ax_n.legend(fontsize=MIN_TEXT_PT)
    return fig


@validated(task=Check(_task), n_points=Whole(1, high=10**6), seed=Seed())
def sine_module_figure(task, n_points: int = 20, seed: int = 0):
    """One module of a sine-wave task: its sine components, their sum, and a few training points (raw units)."""
    t = np.linspace(-5, 5, 800)
    components = task.module_components(t)
    X, y = task.sample(n_points, seed=seed)
    # y is standardised; undo it to draw the points on the raw module's scale
    y_raw = y * task.module_stds[0] + task.module_means[0]
    fig, ax = subplots(width=6.4, height=3.8)
    for c in components:
        ax.plot(t, c, color=OURS, lw=1.0)
    ax.plot(t, components.sum(axis=0), color="#e07b28", lw=2.5, label="target function")
    ax.plot(X @ task.projections[0, :, 0], y_raw, "o", color="#d62728", ms=6, label="training points")
    ax.set(xlabel=r"projection $t = u^\top x$", ylabel="module output (raw units)")
    ax.legend(loc="lower left")
    return fig


@validated(
    task=Check(_task),
    X=Check(lambda v, name, a: _shaped(v, name, (None, a["task"].input_dim))),
    y=_same_length("X"),
)
def modules_against_target(task, X, y):
    """The target against each module's projection, with that module's (scaled) function drawn over it."""
    K = task.n_modules
    fig, axes = subplots(1, K, width=min(3.4, COLUMN_INCHES / K), height=2.8, sharey=True)
    t = np.linspace(-3.5, 3.5, 400)
    for j, ax in enumerate(np.atleast_1d(axes)):
        ax.plot(X @ task.projections[j, :, 0], y, ".", ms=2, color=PAPER)
        module = task.standardise(task.module_components(t, module=j).sum(axis=0), module=j)
        ax.plot(t, module / np.sqrt(K), color=OURS, lw=2)
        ax.set(xlabel=f"module {j + 1}: $u_{j + 1}^\\top x$")
    np.atleast_1d(axes)[0].set_ylabel("target $y$")
    return fig


@validated(variants=TEXTS, cos=Check(_cosines))
def recovery_scatter(cos, variants):
    """Where each start of the rule ends, one panel per variant: ``cos`` (variant, seed, true, found) holds
    ``|cos|`` with each of two true modules."""
    fig, axes = subplots(1, len(variants), width=2.9, height=3.0, sharey=True)  # 3 panels fit the column at 9 px
    for ax, variant, c in zip(np.atleast_1d(axes), variants, cos):
        for found in range(c.shape[-1]):
            ax.plot(
                c[:, 0, found], c[:, 1, found], "o", ms=6, alpha=0.7, color=D_COLOURS[found], label=f"start {found + 1}"
            )
        ax.plot([0, 1], [1, 0], ":", color=PAPER, lw=1)
        ax.set(xlim=(-0.03, 1.05), ylim=(-0.03, 1.05), xlabel=r"$|u_1^\top \hat u|$", title=variant)
    np.atleast_1d(axes)[0].set_ylabel(r"$|u_2^\top \hat u|$")
    np.atleast_1d(axes)[0].legend(fontsize=MIN_TEXT_PT, loc="center")
    return fig


@validated(
    steps=Check(lambda v, name, a: _shaped(v, name, (None,))),
    inits=Check(_inits),
    score=Check(_curves),
    matched=Check(_curves),
    reference_similarity=Check(_reference),
)
def projection_training_figure(steps, score, matched, inits, reference_similarity):
    """Similarity of the projections to the true ones over training (mean ± s.e. over seeds), per init;
    the authors' scores at the start and end as markers. score, matched: (init, seed, record)."""
    from .. import methods

    fig, axes = subplots(1, 2, width=4.4, height=3.3)
    for ax, values, label in (
        (axes[0], score, "similarity score (matched mean |cos|)"),
        (axes[1], matched, "matched mean cos²"),
    ):
        for i, init in enumerate(inits):
            mean = values[i].mean(axis=0)
            se = values[i].std(axis=0, ddof=1) / np.sqrt(values.shape[1])
            ax.plot(steps, mean, color=D_COLOURS[i], label=f"init: {init}")
            ax.fill_between(steps, mean - se, mean + se, color=D_COLOURS[i], alpha=0.2)
        ax.set(xlabel="training iteration", ylabel=label, ylim=(0, 1.02))
    for name, marker in (("baseline", "s"), (methods.rule("paper"), "D")):
        axes[0].plot([0, 1000], reference_similarity[name], marker, color=PAPER, ms=7, label=f"authors: {name}")
    axes[0].legend(fontsize=MIN_TEXT_PT, loc="lower right")
    return fig


PANEL_LABELS = {"k": "number of modules k", "m": "input dimension m", "p": "parameters p", "n": "training samples n"}
LINE_LABELS = {"k": "p", "m": "p", "p": "m", "n": "m"}
TRAIN_COLOUR, TEST_COLOUR = "#1f5fa8", "#e07b28"


@validated(
    class_names=TEXTS,
    combos=_wholes(ndim=2, high=lambda a: len(a["class_names"]) - 1),
    axes=Check(_enough_axes),
    unseen=Check(_unseen),
)
def composite_schematic(axes, combos, class_names, unseen) -> None:
    """Draw each class combination as a row of labelled tiles, one axis per combination.

    combos : (c, k) integer classes; class_names : names indexed by class; unseen : (c,) booleans, shown in
    each title (whether the combination is held out of training).
    """
    for ax, combo, held_out in zip(axes, combos, unseen):
        for j, c in enumerate(combo):
            ax.add_patch(plt.Rectangle((j, 0), 0.96, 0.96, color=plt.cm.tab10(int(c)), alpha=0.55))
            ax.text(
                j + 0.48,
                0.48,
                class_names[int(c)],
                ha="center",
                va="center",
                fontsize=MIN_TEXT_PT,
                rotation=90 if len(combo) > 2 else 0,
            )
        ax.set(xlim=(0, len(combo)), ylim=(0, 1), xticks=[], yticks=[])
        ax.set_title(
            f"{tuple(int(c) for c in combo)}: sum {int(sum(combo))}, " + ("unseen" if held_out else "seen"),
            fontsize=MIN_TEXT_PT,
        )


@validated(
    n_grid=GRID,
    labels=LABELS,
    module_counts=_wholes(low=1),
    input_dims=GRID,
    columns=_wholes(high=lambda a: len(a["input_dims"]) - 1),
    rel=Check(_losses),
)
def learning_curves_grid(n_grid, rel, labels, module_counts, input_dims, columns):
    """Mean test loss over seeds against ``n`` with the seeds' bootstrap 95% band, one panel per (K, m).

    rel : losses / Var(y), (K, method, m, seed, N); ``labels`` name the first methods drawn; ``columns``
    picks the m indices shown. Returns the figure (legend outside the panels)."""

    from ..core import bootstrap_ci

    fig, axes = subplots(len(module_counts), len(columns), width=3.6, height=2.8, sharey=True, squeeze=False)
    for k, K in enumerate(module_counts):
        for c, a in enumerate(columns):
            ax = axes[k, c]
            for i, label in enumerate(labels):
                mean, low, high = bootstrap_ci(rel[k, i, a], axis=0)
                ax.plot(n_grid, mean, "o-", ms=2.5, color=METHOD_COLOURS[label], label=label)
                ax.fill_between(n_grid, low, high, color=METHOD_COLOURS[label], alpha=0.2, lw=0)
            ax.set(xscale="log", yscale="log", title=f"K = {K}, m = {int(input_dims[a])}")
            if k == len(module_counts) - 1:
                ax.set_xlabel("training samples n")
        axes[k, 0].set_ylabel("test loss / Var(y)")
    fig.legend(*axes[0, 0].get_legend_handles_labels(), loc="outside right center", fontsize=MIN_TEXT_PT)
    return fig


@validated(
    input_dims=GRID,
    titles=TEXTS,
    labels=LABELS,
    n_grid=GRID,
    n_star=Check(_samples_needed),
)
def samples_needed_figure(input_dims, n_star, labels, titles, n_grid):
    """Median ``n*`` over seeds against ``m``, bars from the smallest to the largest seed, one panel per entry
    of ``titles`` (a task, or a target).

    n_star : (panel, method, m, seed), ``inf`` where not reached (drawn at the grid's end); a censored median
    (at either end of the grid) has an open marker."""
    import numpy as np

    below = len(titles) > 1  # several panels: the legend goes below, so the row fits the column at 9 px
    fig, axes = subplots(1, len(titles), width=3.0 if below else 3.7, height=3.3, sharey=True, squeeze=False)
    top = float(n_grid[-1])
    for k, title in enumerate(titles):
        ax = axes[0, k]
        for i, label in enumerate(labels):
            v = np.minimum(n_star[k, i], top)
            med, lo, hi = np.median(v, axis=-1), v.min(axis=-1), v.max(axis=-1)
            colour = METHOD_COLOURS[label]
            ax.errorbar(
                input_dims, med, yerr=[med - lo, hi - med], fmt="-", color=colour, lw=1.2, capsize=2, label=label
            )
            censored = (med >= top) | (med <= float(n_grid[0]))
            ax.plot(input_dims[~censored], med[~censored], "o", color=colour, ms=4)
            ax.plot(input_dims[censored], med[censored], "o", mfc="white", color=colour, ms=5)
        ax.set(xscale="log", yscale="log", xlabel="input dimension m", title=title)
        ax.set_xticks(input_dims, [str(int(m)) for m in input_dims])
        ax.xaxis.set_minor_locator(mpl.ticker.NullLocator())
    axes[0, 0].set_ylabel("samples needed n*")
    fig.legend(
        *axes[0, 0].get_legend_handles_labels(),
        loc="outside lower center" if below else "outside right center",
        ncol=min(len(labels), 4) if below else 1,
        fontsize=MIN_TEXT_PT,
    )
    return fig


@validated(
    n_grid=GRID,
    module_counts=_wholes(low=1),
    input_dims=GRID,
    similarity=Check(_similarities),
)
def similarity_figure(n_grid, similarity, module_counts, input_dims):
    """The rule's matched mean cos² against ``n`` (median over seeds), one curve per m, one panel per K.
    similarity : (K, m, seed, N)."""
    import numpy as np

    fig, axes = subplots(1, len(module_counts), width=3.8, height=3.1, sharey=True, squeeze=False)
    shades = plt.cm.viridis(np.linspace(0.9, 0.1, len(input_dims)))
    for k, K in enumerate(module_counts):
        ax = axes[0, k]
        for a, m in enumerate(input_dims):
            ax.plot(n_grid, np.median(similarity[k, a], axis=0), "o-", ms=2.5, color=shades[a], label=f"m = {int(m)}")
        ax.set(xscale="log", xlabel="training samples n", title=f"K = {K}", ylim=(0, 1.02))
    axes[0, 0].set_ylabel("matched mean cos²")
    fig.legend(*axes[0, 0].get_legend_handles_labels(), loc="outside right center", fontsize=MIN_TEXT_PT)
    return fig
