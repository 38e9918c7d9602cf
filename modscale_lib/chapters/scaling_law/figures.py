"""What the chapter *Exponential or polynomial?* (``book/scaling_law.ipynb``) shows of its measurements, in the
book's style (:mod:`modscale_lib.present`): the samples needed against the input dimension with both laws drawn,
the HTML tables, and the lines its cells print. Each function but :func:`law_figure` takes ``measured``, the
dict of :func:`~modscale_lib.chapters.scaling_law.measurements`, and draws or formats what it holds; nothing
here computes a measurement (the quantities come from the read-out)."""

from __future__ import annotations

import matplotlib as mpl
import numpy as np

from ... import core, law_readout, laws, methods, present
from ...law_readout import CENSORED, N_STAR, median_n_star
from ...present import METHOD_COLOURS, panel_grid
from ._verdicts import contrast_table, stored_lines
from .readout import MEASURED_RULE

__all__ = [
    "law_figure",
    "samples_figure",
    "provenance_lines",
    "methods_table",
    "stopping_table",
    "choice_lines",
    "decision_lines",
    "fits_table",
    "curvature_table",
    "coverage_lines",
    "regime_laws_table",
    "placement_table",
    "regime_kinds_table",
    "consistency_table",
    "paired_table",
    "compute_table",
]


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


# ---------------------------------------------------------------------------------------------------------
# The chapter's figure, tables and printed lines, from its measurements
# ---------------------------------------------------------------------------------------------------------
@core.validated(measured=MEASURED_RULE)
def samples_figure(measured: dict):
    """:func:`law_figure` of the chapter: every task and learner at the main target, with both fitted laws."""
    cfg0 = measured["cfg0"]
    return law_figure(
        cfg0.m_grid,
        measured["n_star"],
        measured["censoring"],
        measured["learners"],
        [law_readout.task_title(t) for t in measured["tasks"]],
        measured["fits"],
        (2 ** (cfg0.i_min / 2), 2 ** (cfg0.i_max / 2)),
        columns=2,
    )


@core.validated(measured=MEASURED_RULE)
def provenance_lines(measured: dict) -> str:
    """Each result's provenance, each result not computed yet (with its command) and each rule result waiting
    for its study, one a line."""
    return "\n".join(stored_lines(measured["stored"], measured["missing"], measured["waiting"]))


@core.validated(measured=MEASURED_RULE)
def methods_table(measured: dict):
    """The learners of the study: each label, what it is, and the input dimensions it runs at."""
    cfg0, labels = measured["cfg0"], measured["labels"]
    dims = [", ".join(str(m) for m in cfg0.m_grid if cfg0.runs(k, m)) for k in cfg0.methods]
    return present.table(
        {"method": labels, "what it is": [methods.describe(lab) for lab in labels], "input dimensions m": dims}
    )


@core.validated(measured=MEASURED_RULE)
def stopping_table(measured: dict):
    """How the trained networks of each result stopped (the columns of ``stopping_columns``)."""
    return present.table(measured["stopping"], formats={"share best below cap": ".1%", "share trained longer": ".1%"})


@core.validated(measured=MEASURED_RULE)
def choice_lines(measured: dict) -> str:
    """How often the MLP chose each of its steps, and random features' ridge an end of its grid."""
    cfg0, ridge = measured["cfg0"], measured["ridge"]
    return (
        "MLP step chosen: "
        + ", ".join(f"{f:.3g} x the searched step in {s:.0%}" for f, s in zip(cfg0.mlp_lr_slots, measured["shares"]))
        + f"\nrandom features' ridge chosen at an end of its grid in {ridge[0] + ridge[-1]:.1%} of the fits"
    )


@core.validated(measured=MEASURED_RULE, which=core.Choice(("main", "second")))
def decision_lines(measured: dict, which: str = "main") -> str:
    """One line per (task, learner): the decision of the law at the main (``"main"``) or secondary target."""
    decided = measured["decided" if which == "main" else "decided2"]
    return "\n".join(
        f"{task:<13}{law_readout.short_label(label):<12} {law_readout.law_line(d)}"
        for (task, label), d in decided.items()
    )


@core.validated(measured=MEASURED_RULE)
def fits_table(measured: dict):
    """Per (task, learner) at the main target: the law, the exponential's rate and the censored searches."""
    decided = measured["decided"]
    table = {
        "task": [t for t, _ in decided],
        "method": [lab for _, lab in decided],
        "law": [d["law"] for d in decided.values()],
        "beta (per dimension)": [law_readout.interval(d["beta"], ".3f") for d in decided.values()],
        "censored (above, below)": [f"{d['censored']['above']}, {d['censored']['below']}" for d in decided.values()],
    }
    return present.table(table, caption="the two fits (95% intervals over seeds)")


@core.validated(measured=MEASURED_RULE)
def curvature_table(measured: dict):
    """Per (task, learner) at the main target: the intervals of the two curvature tests."""
    decided = measured["decided"]
    return present.table(
        {
            "task": [t for t, _ in decided],
            "method": [lab for _, lab in decided],
            "log-log slope change": [law_readout.interval(d["slope_change"]) for d in decided.values()],
            "semi-log slope change": [law_readout.interval(d["rate_change"], ".3f") for d in decided.values()],
        },
        caption="the curvature tests (95% intervals over seeds)",
    )


@core.validated(measured=MEASURED_RULE)
def coverage_lines(measured: dict) -> str:
    """Per simulated truth, the coverage of the exponent's interval and of the curvature's zero."""
    return "\n".join(
        f"truth {truth:<12} coverage of the exponent {c['exponent']:.0%}, of the curvature's zero {c['curvature']:.0%}"
        for truth, c in measured["coverage"]["coverage"]["jackknife_t"].items()
    )


def _entry(row: dict) -> str:
    """A regime's law for one task: the law, or ``m^a`` (``m^>=a`` for a bound) and the exponent over the range
    where it differs."""
    if row["law"] != "power":
        return row["law"]
    text = f"m^{'>=' if row['bound'] else ''}{row['exponent']:g}"
    over = row["exponent over the range"]
    return text + (f" (over the range {over:.2f})" if over != row["exponent"] else "")


@core.validated(measured=MEASURED_RULE, networks=core.Boolean())
def regime_laws_table(measured: dict, networks: bool = False):
    """Each regime's law for ``n*(m)`` at the main target, one row per task family: the first two regimes of
    :data:`modscale_lib.laws.REGIMES` (the paper's model and kernels), or the trained networks' (``networks``)."""
    rows, regimes = measured["pred_rows"], list(laws.REGIMES)
    families = list(dict.fromkeys(r["task"] for r in rows))
    law_of = {
        g: [_entry(next(r for r in rows if r["task"] == f and r["regime"] == g)) for f in families] for g in regimes
    }
    if networks:
        return present.table(
            {"task": families, **{g: law_of[g] for g in regimes[2:]}}, caption="the trained networks' regimes"
        )
    exponential = sorted({r["regime"] for r in rows if r["law"] == "exponential"})
    return present.table(
        {"task": families, **{g: law_of[g] for g in regimes[:2]}},
        caption=f"each regime's law for n*(m) at the main target: only {' and '.join(exponential)} "
        "predicts an exponential, on every task",
    )


@core.validated(measured=MEASURED_RULE)
def placement_table(measured: dict):
    """Each measured exponent beside its regime's prediction."""
    theory = measured["theory"]
    placed = ("task", "method", "verdict", "alpha [95% CI]", "prediction and interval")
    return present.table(
        {k: theory[k] for k in placed}, caption="each measured exponent beside its regime's prediction"
    )


@core.validated(measured=MEASURED_RULE)
def regime_kinds_table(measured: dict):
    """The regime each method belongs to, its prediction, the exponent over the range and its basis."""
    theory = measured["theory"]
    return present.table(
        {k: theory[k] for k in ("task", "method", "regime", "predicted", "over the range", "basis")},
        formats={"over the range": ".2f"},
        caption="the regime each method belongs to, and what it predicts",
    )


@core.validated(measured=MEASURED_RULE)
def consistency_table(measured: dict):
    """The regimes each measured exponent is consistent with (the columns of ``regime_table``)."""
    return present.table(measured["regime_rows"], caption="the regimes each measured exponent is consistent with")


@core.validated(measured=MEASURED_RULE)
def paired_table(measured: dict):
    """The monolithic MLP against modular networks on the same draws (``contrast_table``), the caption naming
    the pairs whose difference of exponents persists in the upper range."""
    rows, persistent = contrast_table(measured["contrasts"])
    return present.table(
        rows,
        caption="the monolithic MLP against modular networks on the same draws (95% intervals): a "
        "difference of exponents that persists in the upper range on " + (", ".join(persistent) or "no task"),
    )


@core.validated(measured=MEASURED_RULE)
def compute_table(measured: dict):
    """What each stored result and each capacity search cost: CPU and wall minutes, and the machine's load."""
    compute = {"result": [], "config": [], "CPU minutes": [], "wall minutes": [], "load": []}
    both = {**measured["stored"], **{f"capacity {n}": v for n, v in measured["searches"].items()}}
    for name, (_, res) in both.items():
        meta = res.metadata
        values = (res.experiment, name.replace("capacity ", ""), meta["cpu_time_s"] / 60, meta["wall_time_s"] / 60)
        for k, v in zip(compute, (*values, meta.get("load_avg"))):
            compute[k].append(v)
    return present.table(
        compute,
        formats={"CPU minutes": ".1f", "wall minutes": ".1f", "load": ".1f"},
        caption="what each stored result cost (CPU time of the computing process)",
    )
