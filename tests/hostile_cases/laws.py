"""Hostile cases of the scaling-law study and the theory-against-networks chapter: brackets, law_readout, law_verdicts,
laws, theory_fit, theory_peaks, law_figures."""

from __future__ import annotations

import numpy as np
import torch

#: Public names of these modules without a case yet (the coverage test in test_hostile.py reads it).
NOT_YET: dict[str, list[str]] = {
    "law_verdicts": [
        "partition_stored",
        "stored_lines",
        "regimes_consistent",
        "regime_table",
        "regime_glues",
        "sides",
        "exponent_sign",
        "contrasts",
        "contrast_table",
        "contrast_words",
        "modularity_word",
        "claim_needs",
        "claim_verdicts",
    ],
    "laws": [
        "codes_from_labels",
        "fit_law",
        "decide_law",
        "mean_ci",
        "slope_ci",
        "curve_scatter",
        "simulate_n_star",
        "coverage",
        "hermite_coefficients",
        "degree_energies",
        "information_exponent",
        "effective_degree",
        "leap",
        "monomial_exponent",
        "task_module",
        "predictions",
    ],
    "theory_fit": [
        "panel_data",
        "theory_losses",
        "predict",
        "calibrate",
        "rms_decades",
        "ratio_ci",
        "trend_ratio",
        "end_ratios",
        "ratio_coverage",
        "interpolated_share",
        "panel_columns",
        "theory_networks_figure",
    ],
    "theory_peaks": ["locate_peak", "peak_excess", "excess_ratio", "peak_coverage"],
    "law_figures": ["law_figure"],
}


NAN, INF = float("nan"), float("inf")
COUNT = [2.5, -1, 0, NAN, "3", True]  # whole numbers >= 1
POS = [NAN, INF, -1.0, 0.0, "x"]  # real numbers > 0


def _brackets(bad, good) -> None:
    from modscale_lib import brackets

    B = "brackets"
    bad(B, "grid_n", "i", [-1, 2.5, NAN, "a", 200, [1, NAN]], lambda v: brackets.grid_n(v))
    good(B, "grid_n", "array and 4.0", lambda: (brackets.grid_n(np.arange(3)), brackets.grid_n(4.0)))
    bad(B, "grid_index", "n", [0, -1.0, NAN, INF, "x"], lambda v: brackets.grid_index(v))
    visits = {8: 0.9, 12: 0.2}
    bad(
        B,
        "next_index",
        "visited",
        [[0.9], {8: NAN, 40: 0.1}, {8: -0.5}, {"a": 0.5}],
        lambda v: brackets.next_index(v, [0.1], 8, 6, 32),
    )
    bad(
        B, "next_index", "targets", [[], [NAN], [0.0], "x", [[0.1]]], lambda v: brackets.next_index(visits, v, 8, 6, 32)
    )
    bad(B, "next_index", "i_max", [4, NAN, 200], lambda v: brackets.next_index(visits, [0.1], 8, 6, v))
    bad(B, "next_index", "max_jump", [0, 2.5], lambda v: brackets.next_index(visits, [0.1], 8, 6, 32, v))
    bad(B, "next_index", "start", [NAN, "8"], lambda v: brackets.next_index({}, [0.1], v, 6, 32))
    good(B, "next_index", "a NaN loss", lambda: brackets.next_index({8: NAN}, (0.1,), 8, 6, 32))
    bad(B, "crossing", "target", POS, lambda v: brackets.crossing(visits, v, 6, 32))
    bad(B, "crossing", "visited", [None, {5: 0.1}, {8: "x"}], lambda v: brackets.crossing(v, 0.5, 6, 32))
    bad(B, "crossing", "i_min", [-1, 2.5], lambda v: brackets.crossing(visits, 0.5, v, 32))
    good(B, "crossing", "bracketed", lambda: brackets.crossing({8: 0.9, 9: 0.2}, 0.5, 6, 32))
    index, loss = np.array([[8, 9, -1]]), np.array([[0.9, 0.2, NAN]])
    bad(
        B,
        "crossings",
        "index",
        [np.array([[8.5, 9, -1]]), np.array([[3, 9, -1]]), np.array([[8, 9, 40]]), 8],
        lambda v: brackets.crossings(v, loss, 0.5, 6, 32),
    )
    bad(
        B,
        "crossings",
        "loss",
        [np.array([[0.9, -0.2, NAN]]), np.full((1, 3), "a")],
        lambda v: brackets.crossings(index, v, 0.5, 6, 32),
    )
    bad(B, "crossings", "loss", [np.ones((2, 3))], lambda v: brackets.crossings(index, v, 0.5, 6, 32))
    bad(B, "crossings", "target", POS, lambda v: brackets.crossings(index, loss, v, 6, 32))
    good(B, "crossings", "tensor loss", lambda: brackets.crossings(index, torch.tensor([[0.9, 0.2, 0.1]]), 0.5, 6, 32))
    prev = [(4, 5.0), (8, 5.7)]
    bad(
        B,
        "start_index",
        "previous",
        [5, "ab", [(8, 5.0), (4, 5.7)], [(4, 5.0), (4, 5.7)], [(0, 5.0)], [(4,)]],
        lambda v: brackets.start_index(v, 16, 10, 6, 32),
    )
    bad(B, "start_index", "input_dim", POS, lambda v: brackets.start_index(prev, v, 10, 6, 32))
    bad(B, "start_index", "default", [NAN, -1, 2.5], lambda v: brackets.start_index(None, 16, v, 6, 32))
    bad(B, "start_index", "i_max", [3], lambda v: brackets.start_index(None, 16, 10, 6, v))
    good(B, "start_index", "censored above", lambda: brackets.start_index([(4, INF)], 16, 10, 6, 32))


def _study():
    """A small stored-like scaling-law study: 1 task, 2 learners, m = 4, 8, 16, 3 seeds, 2 visits bracketing 0.1."""
    from types import SimpleNamespace

    cfg = SimpleNamespace(tasks=("sine:2",), m_grid=(4, 8, 16), seeds=(0, 1, 2), i_min=6, i_max=32, steps=100)
    T, M, D, S, V = 1, 2, 3, 3, 2
    index, loss = np.zeros((T, M, D, S, V), dtype=np.int64), np.zeros((T, M, D, S, V))
    for c in range(D):
        for s in range(S):
            for b in range(M):
                i = 8 + 2 * c + b + (s % 2)
                index[0, b, c, s] = (i, i + 1)
                loss[0, b, c, s] = (0.1 * (1.2 + 0.1 * s), 0.1 * (0.8 - 0.1 * s))
    res = {
        "index": index,
        "test_loss": loss,
        "method_labels": ["monolithic", "modular, random"],
        "choice": np.ones((T, M, D, S, V)),
        "best_step": np.full((T, M, D, S, V, 1), 50.0),
        "steps": np.full((T, M, D, S, V, 1), 100.0),
        "cpu_s": np.ones((T, M, D)),
    }
    return cfg, res


def _decision(law="power", low=0.8, high=1.2, **censored):
    return {
        "law": law,
        "alpha": {"estimate": (low + high) / 2 if np.isfinite(low + high) else 1.0, "low": low, "high": high},
        "censored": {"above": 0, "below": 0, "missing": 0, **censored},
    }


ROW = {"task": "sine", "regime": "online gradient training", "law": "power", "bound": ""}
ROW.update({"exponent": 1.0, "exponent over the range": 1.0})


def _law_readout(bad, good) -> None:
    from modscale_lib import law_readout as lr

    R = "law_readout"
    cfg, res = _study()
    studies = {"cpu": (cfg, res)}
    wrong_res = [5, "res", {}, {"index": res["index"]}]
    bad(R, "samples_needed", "res", wrong_res, lambda v: lr.samples_needed(v, cfg, 0.1))
    bad(R, "samples_needed", "cfg", [None, {"i_min": 6}], lambda v: lr.samples_needed(res, v, 0.1))
    bad(R, "samples_needed", "target", POS, lambda v: lr.samples_needed(res, cfg, v))
    good(R, "samples_needed", "a small study", lambda: lr.samples_needed(res, cfg, 0.1)[0])
    n_star, cens = lr.samples_needed(res, cfg, 0.1)
    n2, c2 = n_star[0, 0], cens[0, 0]  # (D, S)
    bad(R, "law_inputs", "input_dims", [[4, 8], [4, NAN, 16], [0, 8, 16], "x"], lambda v: lr.law_inputs(v, n2, c2))
    bad(
        R,
        "law_inputs",
        "n_star",
        [-n2, n2[:2], n2[..., None], np.full((3, 3), "a")],
        lambda v: lr.law_inputs([4, 8, 16], v, c2),
    )
    bad(
        R,
        "law_inputs",
        "censoring",
        [c2[:2], np.full((3, 3), "bogus"), np.full((3, 3), None)],
        lambda v: lr.law_inputs([4, 8, 16], n2, v),
    )
    bad(
        R,
        "law_inputs",
        "censoring",
        [np.full((3, 3), "")],
        lambda v: lr.law_inputs([4, 8, 16], np.full((3, 3), NAN), v),
    )
    good(R, "law_inputs", "tensor n_star", lambda: lr.law_inputs(torch.tensor([4, 8, 16]), torch.tensor(n2), c2)[1])
    bad(
        R,
        "law_line",
        "decision",
        [None, {}, {"law": "cubic", "alpha": {}}, _decision(low=NAN), _decision(low=2.0, high=1.0)],
        lambda v: lr.law_line(v),
    )
    good(R, "law_line", "a bound", lambda: lr.law_line(_decision("undecided", -INF, INF)))
    bad(
        R, "short_label", "label", [None, 5, "a perceptron", "modular, random, K averaged"], lambda v: lr.short_label(v)
    )
    bad(R, "stopping_summary", "res", wrong_res + [{"method_labels": []}], lambda v: lr.stopping_summary(v, cfg))
    bad(R, "stopping_summary", "cfg", [None, 5], lambda v: lr.stopping_summary(res, v))
    good(R, "stopping_summary", "a small study", lambda: lr.stopping_summary(res, cfg))
    bad(R, "choice_shares", "res", wrong_res, lambda v: lr.choice_shares(v, 0, 3))
    bad(R, "choice_shares", "method", [-1, 2, 0.5, NAN, "0"], lambda v: lr.choice_shares(res, v, 3))
    bad(R, "choice_shares", "n_options", [0, 1, 2.5, NAN], lambda v: lr.choice_shares(res, 0, v))
    good(R, "choice_shares", "a small study", lambda: lr.choice_shares(res, 0, 3))
    bad(
        R,
        "median_n_star",
        "n_star",
        [5.0, [[0.0, 1.0]], [[NAN, -INF]]],
        lambda v: lr.median_n_star(v, np.full(np.shape(v), "")),
    )
    bad(R, "median_n_star", "censoring", [c2[:, :2], np.full((3, 3), 3)], lambda v: lr.median_n_star(n2, v))
    bad(R, "cpu_minutes", "res", wrong_res, lambda v: lr.cpu_minutes(v))
    good(R, "cpu_minutes", "a small study", lambda: lr.cpu_minutes(res))
    bad(R, "visits_per_seed", "res", wrong_res[:3], lambda v: lr.visits_per_seed(v))
    good(R, "visits_per_seed", "a small study", lambda: lr.visits_per_seed(res))
    bad(R, "regime_of", "label", [None, "MLP", 3], lambda v: lr.regime_of(v))
    bad(R, "family_of", "task", ["cubic:2", "sine", "sine:0", "sine:x", None, 2], lambda v: lr.family_of(v))
    bad(R, "task_title", "task", ["sine", "he4:2", ":2", 5], lambda v: lr.task_title(v))
    good(R, "task_title", "he2:2", lambda: lr.task_title("he2:2"))
    from modscale_lib import laws as _laws

    cols = {k: [ROW[k]] for k in ("task", "regime", "law", "exponent", "bound", "exponent over the range")}
    cols["basis"], cols["citation"] = ["leap 1"], [""]
    decided = {("sine:2", "monolithic"): _decision()}
    wrong_decisions = [
        None,
        [1],
        {"sine:2": _decision()},
        {("cubic:2", "monolithic"): _decision()},
        {("sine:2", "MLP"): _decision()},
        {("sine:2", "monolithic"): {"law": "power"}},
    ]
    bad(R, "theory_table", "decisions", wrong_decisions, lambda v: lr.theory_table(v, cols))
    bad(
        R,
        "theory_table",
        "predictions",
        [None, {"task": ["sine"], "regime": []}, dict(cols, law=["cubic"]), [ROW]],
        lambda v: lr.theory_table(decided, v),
    )
    bad(R, "theory_table", "predictions", [dict(cols, regime=["frozen oracle"])], lambda v: lr.theory_table(decided, v))
    good(R, "theory_table", "one row", lambda: lr.theory_table(decided, cols))
    assert _laws.VERDICTS
    bad(R, "verdict_list", "decisions", wrong_decisions, lambda v: lr.verdict_list(v, "monolithic"))
    bad(R, "verdict_list", "label", [None, "MLP"], lambda v: lr.verdict_list(decided, v))
    bad(
        R,
        "interval",
        "q",
        [None, {"estimate": 1.0}, {"estimate": NAN, "low": 0.0, "high": 1.0}, (1, 0, 2)],
        lambda v: lr.interval(v),
    )
    bad(R, "interval", "fmt", ["q", 5, None], lambda v: lr.interval({"estimate": 1.0, "low": 0.0, "high": 2.0}, v))
    good(R, "interval", "an infinite end", lambda: lr.interval({"estimate": 1.0, "low": -INF, "high": 2.0}))
    wrong_studies = [None, {"cpu": cfg}, {"cpu": (cfg, {})}, {"cpu": (None, res)}, [(cfg, res)]]
    bad(R, "decisions", "studies", wrong_studies, lambda v: lr.decisions(v, 0.1))
    bad(R, "decisions", "target", POS, lambda v: lr.decisions(studies, v))
    good(R, "decisions", "a small study", lambda: lr.decisions(studies, 0.1)[0])
    bad(R, "seed_sd", "min_seeds", [1, 2.5, NAN], lambda v: lr.seed_sd(n2, c2, v))
    bad(R, "seed_sd", "n_star", [-n2, "x"], lambda v: lr.seed_sd(v, c2))
    bad(R, "seed_sd", "censoring", [c2[:1]], lambda v: lr.seed_sd(n2, v))
    bad(R, "growth_inputs", "n_star", [np.zeros((3, 3))], lambda v: lr.growth_inputs(v, c2))
    bad(R, "growth_inputs", "censoring", [c2[:1], np.full((3, 3), "censored")], lambda v: lr.growth_inputs(n2, v))
    good(R, "growth_inputs", "a small study", lambda: np.nan_to_num(lr.growth_inputs(n2, c2), posinf=0.0))
    bad(R, "ratio_text", "r", [None, {}, {"estimate": 1.0, "low": NAN, "high": 2.0}], lambda v: lr.ratio_text(v))
    good(
        R, "ratio_text", "censored", lambda: lr.ratio_text({"estimate": 1.0, "low": 0.9, "high": 1.1, "censored": True})
    )
    bad(
        R,
        "paired_contrast",
        "studies",
        wrong_studies,
        lambda v: lr.paired_contrast(v, 0.1, "monolithic", "modular, random"),
    )
    bad(R, "paired_contrast", "target", POS, lambda v: lr.paired_contrast(studies, v, "monolithic", "modular, random"))
    bad(
        R, "paired_contrast", "label_a", [None, "MLP"], lambda v: lr.paired_contrast(studies, 0.1, v, "modular, random")
    )
    bad(R, "paired_contrast", "label_b", [5], lambda v: lr.paired_contrast(studies, 0.1, "monolithic", v))
    good(
        R, "paired_contrast", "a small study", lambda: lr.paired_contrast(studies, 0.1, "monolithic", "modular, random")
    )
    bad(R, "agreement", "decision", [None, {"law": "power"}, _decision(high=NAN)], lambda v: lr.agreement(v, ROW))
    bad(
        R,
        "agreement",
        "prediction",
        [None, {"law": "power"}, dict(ROW, law="cubic"), dict(ROW, **{"exponent over the range": NAN})],
        lambda v: lr.agreement(_decision(), v),
    )
    bad(R, "jump_bound", "input_dims", [[4, 8], [NAN, 8, 16], [-4, 8, 16]], lambda v: lr.jump_bound(v, n2, c2, 2**16))
    bad(R, "jump_bound", "n_star", [n2[:2], -n2], lambda v: lr.jump_bound([4, 8, 16], v, c2, 2**16))
    bad(R, "jump_bound", "censoring", [c2[:2]], lambda v: lr.jump_bound([4, 8, 16], n2, v, 2**16))
    bad(R, "jump_bound", "n_max", POS, lambda v: lr.jump_bound([4, 8, 16], n2, c2, v))
    good(R, "jump_bound", "none", lambda: lr.jump_bound([4, 8, 16], n2, c2, 2**16) or 0)
    bad(R, "by_task", "studies", wrong_studies + [{}], lambda v: lr.by_task(v, 0.1))
    bad(R, "by_task", "target", POS, lambda v: lr.by_task(studies, v))
    good(R, "by_task", "a small study", lambda: lr.by_task(studies, 0.1)[2])


def register(bad, good) -> None:
    """Add this group's cases with ``bad(module, function, parameter, values, call)`` and ``good(...)``."""
    _brackets(bad, good)
    _law_readout(bad, good)
