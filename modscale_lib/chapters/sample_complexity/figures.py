"""What the chapter *Sample complexity against dimension* shows of its measurements: the figures and the HTML
tables, each from :func:`~modscale_lib.chapters.sample_complexity.measurements` (the objective's cost from its own
stored result). Tables come from :func:`modscale_lib.present.table`."""

from __future__ import annotations

import numpy as np

from ... import growth, growth_tables, law_readout, measure, methods, present, reference
from ...store import check_result
from .readout import TARGET, TARGETS, K, check_measured

__all__ = [
    "methods_table",
    "oracle_table",
    "learning_curves_figure",
    "growth_table",
    "samples_needed_figure",
    "censoring_table",
    "targets_figure",
    "across_targets_table",
    "comparison_table",
    "controls_table",
    "control_comparison_table",
    "steps_table",
    "baselines_table",
    "tuned_table",
    "similarity_figure",
    "law_growth_table",
    "law_table",
    "ood_table",
    "authors_table",
    "cost_table",
]

_TARGET = f"target ${TARGET:g}\\,\\mathrm{{Var}}(y)$"


def _main(d: dict) -> int:
    return len(d["labels"])


def methods_table(measured: dict):
    """Each method of the sweep, what it is, and where it runs (controls at every ``control_every``-th ``n``)."""
    d = check_measured(measured)
    config = d["config"]
    runs = [
        f"K = {K}, every n" if m in d["labels"] else f"K = {K}, every {config.control_every}rd n"
        for m in config.methods
    ]
    return present.table(
        {"method": list(config.methods), "what it is": [methods.describe(m) for m in config.methods], "runs for": runs}
    )


def oracle_table(measured: dict):
    """Test loss of each method at the largest ``n``, beside the monolithic network's (mean and interval)."""
    d = check_measured(measured)
    last = growth.at_largest_n(d["rel"])[:, : _main(d)]
    return present.table(growth.oracle_check(last, d["labels"], (K,), d["m_grid"])[0])


def learning_curves_figure(measured: dict):
    """Mean test loss against ``n`` with the seeds' interval, at the smallest and the largest ``m``."""
    d = check_measured(measured)
    columns = (0, len(d["m_grid"]) - 1)
    return present.learning_curves_grid(d["n_grid"], d["rel"], d["labels"], (K,), d["m_grid"], columns=columns)


def growth_table(measured: dict):
    """The growth of ``n*`` per added dimension at :data:`TARGET`, each method with its interval."""
    d = check_measured(measured)
    caption = f"$K = {K}$, {_TARGET}: growth of $n^*$ per added dimension"
    rows = growth_tables.growth_table(d["rows"])
    return present.table(rows, formats={"growth per dimension": ".3f"}, caption=caption)


def samples_needed_figure(measured: dict):
    """``n*`` against ``m`` at :data:`TARGET`, each method's median and seeds."""
    d = check_measured(measured)
    titles = [f"K = {K}, target {TARGET:g} Var(y)"]
    return present.samples_needed_figure(d["m_grid"], d["n_star"][:, : _main(d)], d["labels"], titles, d["n_grid"])


def censoring_table(measured: dict):
    """How many of each method's curves are censored below or above at :data:`TARGET`."""
    d = check_measured(measured)
    cens = d["censored"][0]
    return present.table(
        {
            "method": list(d["labels"]),
            "censored below": [int(np.sum(cens[i] == "below")) for i in range(_main(d))],
            "censored above": [int(np.sum(cens[i] == "above")) for i in range(_main(d))],
        },
        caption=f"$K = {K}$: censored $n^*$ among the {cens[0].size} curves ($m$, seed) of each method",
    )


def targets_figure(measured: dict):
    """``n*`` against ``m`` at the targets of :data:`TARGETS` other than :data:`TARGET`."""
    d = check_measured(measured)
    targets = [t for t in TARGETS if t != TARGET]
    rel = d["rel"][0, : _main(d)]
    stars = np.stack([growth.samples_needed_curves(d["n_grid"], rel, 1.0, t)[0] for t in targets])
    titles = [f"K = {K}, target {t:g} Var(y)" for t in targets]
    return present.samples_needed_figure(d["m_grid"], stars, d["labels"], titles, d["n_grid"])


def across_targets_table(measured: dict):
    """The growth per dimension of every method at each target of :data:`TARGETS`."""
    d = check_measured(measured)
    rel = d["rel"][:, : _main(d)]
    return present.table(growth.growth_across_targets(d["n_grid"], d["m_grid"], rel, TARGETS, d["labels"], (K,)))


def comparison_table(measured: dict):
    """Each method against another: ratio of growths and samples at the largest ``m``, with intervals."""
    d = check_measured(measured)
    caption = f"$K = {K}$, {_TARGET}: each method against another"
    return present.table(growth_tables.comparison_table(d["verdicts"]["comparisons"]), caption=caption)


def controls_table(measured: dict):
    """The controls' median ``n*`` at each ``m`` and growth per dimension (every ``control_every``-th ``n``)."""
    d = check_measured(measured)
    caption = (
        f"$K = {K}$, every {d['config'].control_every}rd $n$ of the grid: median $n^*$ at each $m$, and the growth "
        "per dimension with its 95% interval"
    )
    return present.table(d["controls"]["table"], caption=caption)


def control_comparison_table(measured: dict):
    """Each control against the rule and against the method it stands in for."""
    d = check_measured(measured)
    table = growth_tables.comparison_table(d["controls"]["comparisons"], first="question")
    return present.table(table, caption="the controls, each against the rule and against the method it stands in for")


def steps_table(measured: dict):
    """The share of monolithic networks whose validation loss is lowest at each step."""
    d = check_measured(measured)
    lrs, chosen = d["steps_config"].lrs, d["tuned"]["chosen"]
    return present.table(
        {
            "step": [float(lr) for lr in lrs],
            "chosen on validation": [float(np.mean(chosen == i)) for i in range(len(lrs))],
        },
        formats={"step": "g", "chosen on validation": ".0%"},
        caption="share of the ($m$, seed, $n$) monolithic networks whose validation loss is lowest at each step",
    )


def baselines_table(measured: dict):
    """The monolithic network's growth per dimension at the sweep's step and with its step tuned."""
    d = check_measured(measured)
    rows = growth_tables.growth_table(d["tuned"]["baselines"], name="baseline")
    caption = f"$K = {K}$, {_TARGET}: the monolithic network at two steps"
    return present.table(rows, formats={"growth per dimension": ".3f"}, caption=caption)


def tuned_table(measured: dict):
    """Each modular network against the monolithic network with its step tuned on validation."""
    d = check_measured(measured)
    table = growth_tables.comparison_table(d["tuned"]["verdicts"]["comparisons"][1:])
    return present.table(
        table, caption="each modular network against the monolithic network with its step tuned on validation"
    )


def similarity_figure(measured: dict):
    """The rule's matched cos^2 with the true projections against ``n``, each ``m``."""
    d = check_measured(measured)
    return present.similarity_figure(d["n_grid"], d["res"]["rule_similarity"][d["four"]], (K,), d["m_grid"])


def _ratio_cell(r: dict | None) -> str:
    if not r:
        return ""
    return f"{r['estimate']:.3f} [{r['low']:.3f}, {r['high']:.3f}]{' (censored)' * r['censored']}"


def law_growth_table(measured: dict):
    """The scaling-law study's growth per dimension at :data:`TARGET`, and its ratio to the monolithic network's."""
    d = check_measured(measured)
    rows = d["law_rows"]
    table = {"task": [r["task"] for r in rows], **growth_tables.growth_table(rows, flat=False)} if rows else {}
    if rows:
        table["over the monolithic network's"] = [_ratio_cell(r["ratio"]) for r in rows]
    caption = (
        f"the scaling-law study at ${TARGET:g}\\,\\mathrm{{Var}}(y)$: growth per dimension; a ratio marked "
        "censored rests on censored medians"
    )
    return present.table(table, formats={"growth per dimension": ".3f"}, caption=caption)


def law_table(measured: dict):
    """The law of ``n*(m)`` each learner of the scaling-law study follows, with its exponent."""
    d = check_measured(measured)
    decisions = d["law_decisions"]
    return present.table(
        {
            "task": [t for t, _ in decisions],
            "learner": [lab for _, lab in decisions],
            "law": [x["law"] for x in decisions.values()],
            "exponent $\\alpha$ [95% CI]": [law_readout.interval(x["alpha"]) for x in decisions.values()],
        },
        caption="the law of $n^*(m)$ each learner follows, by the test of the scaling-law chapter",
    )


def ood_table(measured: dict):
    """Out-of-distribution test loss over ``Var(y_ood)`` at the largest ``n`` (mean and interval)."""
    d = check_measured(measured)
    res = d["res"]
    rel = (res["ood_loss"] / res["var_ood"][:, None, :, :, None])[d["four"]]
    return present.table(growth.loss_table(growth.at_largest_n(rel), d["labels"], (K,), d["m_grid"]))


def _implied(alpha: dict | None, their_m) -> str:
    if alpha is None:
        return "not measured"
    return f"{(their_m[-1] / their_m[0]) ** (alpha['estimate'] / np.ptp(their_m)):.3f}"


def authors_table(measured: dict):
    """The authors' growth and log-log slope beside ours, and the growth our ``K = 2`` exponent implies over
    their range of ``m``."""
    d = check_measured(measured)
    theirs, m_grid = reference.SAMPLE_COMPLEXITY, d["m_grid"]
    their_m = np.array(theirs["m"], dtype=float)
    names, ours = (methods.rule("paper"), methods.MONOLITHIC, methods.RANDOM), {r["method"]: r for r in d["rows"]}
    rule = next(m for m in d["labels"] if methods.rule_variant(m))
    alpha = {lab: x["alpha"] for (t, lab), x in d["law_decisions"].items() if t == "sine:2"}
    ours_col = f"ours, $K = {K}$ ($m = {int(m_grid[0])}..{int(m_grid[-1])}$)"
    return present.table(
        {
            "method": list(names),
            "authors, growth ($m = 2..9$)": [measure.growth_per_dimension(their_m, theirs[n]) for n in names],
            "authors, log-log slope": [np.polyfit(np.log(their_m), np.log(theirs[n]), 1)[0] for n in names],
            ours_col: [growth_tables.growth_text(ours.get(n, ours[rule])) for n in names],
            "ours, $K = 2$: exponent": [
                law_readout.interval(alpha[n]) if n in alpha else "not measured" for n in names
            ],
            "implied growth over $m = 2..9$": [_implied(alpha.get(n), their_m) for n in names],
        },
        formats={"authors, growth ($m = 2..9$)": ".3f", "authors, log-log slope": ".2f"},
    )


def cost_table(cost, cost_config):
    """Milliseconds per step of the objective and its gradient, each batch size and kernel, from the stored
    ``objective_cost`` result ``cost`` and its config."""
    check_result(cost, cost_config, "objective_cost", name="cost")
    return present.table(
        {
            "batch B": list(cost_config.batch_sizes),
            **{f"{k} (ms per step)": 1e3 * cost["seconds"][i] for i, k in enumerate(cost_config.kernels)},
        }
    )
