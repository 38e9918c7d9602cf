"""What the chapter *Modules of more than one dimension* shows of its measurements: the figure of grouped overlap
against ``n``, the HTML tables, and the lines its cells print. Each takes ``measured``, the dict of
:func:`~modscale_lib.chapters.grouping_modules.measurements`, and draws or formats what it holds; nothing here
computes a measurement (the quantities come from the read-out)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from ... import methods, present
from ...analysis import format_ci
from ...core import bootstrap_ci
from .readout import (
    HORIZON,
    KIND,
    LEVEL,
    TOLERANCE,
    check_measured,
    comparison_cpu,
    comparison_table,
    counts_text,
    default_reach,
    newton_grouped_table,
    verdict_counts,
)

__all__ = [
    "overlap_figure",
    "overlap_table",
    "newton_grouped_comparison",
    "failure_table",
    "former_defaults_table",
    "sweep_lines",
    "default_lines",
    "newton_grouped_lines",
    "span_start_lines",
    "comparison_lines",
    "cpu_lines",
]


# ---------------------------------------------------------------------------------------------------------
# The figure and the tables
# ---------------------------------------------------------------------------------------------------------
def overlap_figure(measured: dict):
    """Grouped overlap against ``n`` on the :data:`KIND` tasks, one panel per setting, one curve per variant
    (mean over task seeds with its 95% interval; random subspaces dashed, the chance level). Returns the figure."""
    measured = check_measured(measured)
    ns, variants, k = np.array(measured["ns"]), measured["variants"], measured["kinds"].index(KIND)
    fig, axes = present.subplots(1, len(measured["settings"]), width=4.4, height=3.4, sharey=True, squeeze=False)
    axes = axes[0]
    for ax, (s, (K, b, m)) in zip(axes, enumerate(measured["settings"])):
        for v, name in enumerate(variants):
            mean, low, high = (c[k, s, v] for c in measured["ci"]["grouped"])
            ok, x = np.isfinite(mean), ns * 1.04 ** (v - 2.5)  # offsets keep bars apart
            if name == "random":  # the chance level
                style = dict(color="0.5", ls="--", marker="")
            else:
                style = dict(color=present.METHOD_COLOURS.get(methods.rule(name), "black"), marker="o", ls="-")
            yerr = [mean[ok] - low[ok], high[ok] - mean[ok]]
            ax.errorbar(x[ok], mean[ok], yerr=yerr, capsize=3, label=name, **style)
        ax.set(xscale="log", xlabel="training samples $n$", title=f"$K$ = {K}, $b$ = {b}, $m$ = {m}", ylim=(0, 1.05))
        ax.set_xticks(ns, [str(n) for n in ns], minor=False)
        ax.xaxis.set_minor_formatter(plt.NullFormatter())
    axes[0].set_ylabel("grouped overlap")
    fig.legend(*axes[0].get_legend_handles_labels(), loc="outside lower center", ncol=len(variants), frameon=False)
    return fig


def overlap_table(measured: dict):
    """Union and grouped overlap (mean over task seeds [95% interval]) and CPU seconds per call, one row per
    (kind, setting, variant, n) that ran; random subspaces once per (kind, setting), as they do not depend on n."""
    measured = check_measured(measured)
    ci, ns, variants, kinds = measured["ci"], measured["ns"], measured["variants"], measured["kinds"]
    mean = ci["grouped"][0]  # (kind, setting, variant, n)
    rows = [
        r
        for r in zip(*np.nonzero(np.isfinite(mean)))
        if not (variants[r[2]] == "random" and r[3] > np.flatnonzero(np.isfinite(mean[r[:3]]))[0])
    ]
    columns = {
        "task (K, b, m)": [f"{kinds[r[0]]} {tuple(measured['settings'][r[1]])}" for r in rows],
        "variant": [variants[r[2]] for r in rows],
        "n": ["any" if variants[r[2]] == "random" else str(ns[r[3]]) for r in rows],
        **{f"{name} [95% CI]": [format_ci(*(c[r] for c in ci[name]), fmt=".3f") for r in rows] for name in ci},
        "CPU s/call": [float(measured["seconds"][r]) for r in rows],
    }
    caption = (
        "Union and grouped overlap: mean over task seeds [95% bootstrap interval]; process CPU seconds per call "
        "(mean over seeds) on one thread. Random subspaces do not depend on n."
    )
    return present.table(columns, formats={"CPU s/call": ".2f"}, caption=caption)


def newton_grouped_comparison(measured: dict):
    """The paired differences ``newton − grouped`` per (kind, setting, n), and each one's CPU seconds per call."""
    measured = check_measured(measured)
    columns = newton_grouped_table(measured["res"], measured["pairs"])
    caption = "Paired differences over task seeds, newton minus grouped, on the non-separable tasks."
    formats = {"CPU s/call newton": ".2f", "CPU s/call grouped": ".2f"}
    return present.table(columns, formats=formats, caption=caption)


def failure_table(measured: dict):
    """The (variant, kind, K, n) cells with runs whose grouped overlap is below :data:`LEVEL`, and why."""
    measured = check_measured(measured)
    failed = [(name, r) for name, rows in measured["fails"].items() for r in rows if r["failed"]]
    columns = {
        "variant": [name for name, _ in failed],
        "task": [r["kind"] for _, r in failed],
        "K": [r["K"] for _, r in failed],
        "n": [r["n"] for _, r in failed],
        f"below {LEVEL:g}": [f"{r['failed']} of {r['seeds']}" for _, r in failed],
        "span missed": [r["span_missed"] for _, r in failed],
        "grouping wrong": [r["grouping_wrong"] for _, r in failed],
    }
    return present.table(columns, caption=f"the runs whose grouped overlap is below {LEVEL:g}, and why")


def former_defaults_table(measured: dict):
    """``newton``'s grouped overlap on the comparison's tasks and its paired differences from the other variants."""
    measured = check_measured(measured)
    shown = ["newton"] + measured["others"]
    caption = (
        "Grouped overlap of newton, and its paired difference from each other variant: mean over task seeds [95% "
        f"bootstrap interval], better or worse only where the interval lies beyond ±{TOLERANCE:g}; process CPU "
        "seconds per call, mean over seeds. n/a: the variant does not apply at the task's b."
    )
    columns = comparison_table(measured["cmp"], measured["diff"])
    return present.table(columns, formats={f"CPU s {v}": ".2f" for v in shown}, caption=caption)


# ---------------------------------------------------------------------------------------------------------
# Printed lines
# ---------------------------------------------------------------------------------------------------------
def sweep_lines(measured: dict) -> str:
    """The grouping sweep's settings, seeds and noise, and where its result was computed."""
    measured = check_measured(measured)
    config, res = measured["config"], measured["res"]
    return f"(K, b, m) in {config.settings()}, {len(config.seeds)} task seeds, noise {config.noise}; {res.provenance()}"


def default_lines(measured: dict) -> str:
    """Per setting, where the rule's default first reaches a mean grouped overlap of :data:`LEVEL`, if it does."""
    measured = check_measured(measured)
    seeds, auto, lines = len(measured["config"].seeds), measured["rule"]["variant"], []
    for r in default_reach(measured):
        head = f"(K, b, m) = ({r['K']}, {r['b']}, {r['m']}): the default"
        if r["n"] is None:
            lines.append(f"{head} ({r['variant']!r}) does not reach {LEVEL} at any n <= {HORIZON} measured")
            continue
        lines.append(
            f"{head} ({auto!r} -> {r['variant']!r}) reaches a mean grouped overlap >= {LEVEL} at n = {r['n']}: "
            f"{format_ci(*r['interval'], '.3f')} over {seeds} task seeds"
        )
    return "\n".join(lines)


def newton_grouped_lines(measured: dict) -> str:
    """The counts of verdicts of ``newton − grouped``, by grouped and by union overlap."""
    measured = check_measured(measured)
    counts = {name: counts_text(verdict_counts(measured["pairs"][name]["verdict"])) for name in ("grouped", "union")}
    return f"newton - grouped, grouped overlap: {counts['grouped']} cells; union overlap: {counts['union']}"


def span_start_lines(measured: dict) -> str:
    """The moment span's union overlap on the last setting, per ``n``: mean over task seeds [95% interval]."""
    measured = check_measured(measured)
    K, _, m = measured["settings"][-1]
    return "\n".join(
        f"(K={K}, m={m}) n = {n:5d}: moment span's union overlap {format_ci(*bootstrap_ci(row), fmt='.3f')}"
        for n, row in zip(measured["config"].n_grid, measured["span_start"])
    )


def comparison_lines(measured: dict) -> str:
    """The comparison's tasks, grids and seeds, and where its result was computed."""
    measured = check_measured(measured)
    cmp, c = measured["cmp"], measured["cmp_config"]
    return (
        f"tasks (kind, K, b) {[tuple(t) for t in cmp['tasks']]}, m in {c.m_grid}, n in {c.n_grid}, "
        f"{len(c.seeds)} task seeds; {cmp.provenance()}"
    )


def cpu_lines(measured: dict) -> str:
    """Each compared variant's lowest and highest CPU seconds per call on the comparison's cells."""
    return "\n".join(
        f"{v:8s}: {lo:.2f} to {hi:.2f} CPU s per call (means over seeds, per cell)"
        for v, (lo, hi) in comparison_cpu(measured).items()
    )
