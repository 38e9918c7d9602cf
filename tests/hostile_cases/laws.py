"""Hostile cases of the scaling-law study and the theory-against-networks chapter: brackets, law_readout, laws,
theory_fit, theory_peaks (the scaling-law chapter's own package has its cases in ``chapter_scaling_law.py``)."""

from __future__ import annotations

import numpy as np
import torch

#: Public names of these modules without a case yet (the coverage test in test_hostile.py reads it).
NOT_YET: dict[str, list[str]] = {}


NAN, INF = float("nan"), float("inf")
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


def _laws(bad, good) -> None:
    from modscale_lib import laws, tasks

    L = "laws"
    m = [4, 8, 16, 32]
    Y = np.log(30.0 * np.array(m, float)) + 0.1 * np.random.default_rng(0).standard_normal((4, 4))
    n = np.exp(Y)
    lab = np.full(n.shape, "", dtype=object)
    bad(
        L,
        "codes_from_labels",
        "n_star",
        [-n, np.zeros((4, 4)), n[0], np.full((4, 4), "a")],
        lambda v: laws.codes_from_labels(v, np.full(np.shape(v), ""), 100.0),
    )
    bad(
        L,
        "codes_from_labels",
        "censored",
        [lab[:2], np.full((4, 4), "bogus")],
        lambda v: laws.codes_from_labels(n, v, 100.0),
    )
    bad(L, "codes_from_labels", "n_max", [0.5, NAN, "x"], lambda v: laws.codes_from_labels(n, lab, v))
    good(L, "codes_from_labels", "tensor", lambda: laws.codes_from_labels(torch.tensor(n), lab, 1e4))
    bad(
        L,
        "fit_law",
        "input_dims",
        [m[:2], [4, 4, 8, 16], [16, 8, 4, 2], [NAN, 8, 16, 32]],
        lambda v: laws.fit_law(v, Y[:, : len(v)]),
    )
    bad(L, "fit_law", "log_n_star", [Y[:1], Y[:, :3], np.full((4, 4), NAN), -Y], lambda v: laws.fit_law(m, v))
    bad(
        L,
        "fit_law",
        "codes",
        [np.full((4, 4), 7), np.full((4, 4), "bogus"), np.zeros((3, 4))],
        lambda v: laws.fit_law(m, Y, v),
    )
    bad(L, "fit_law", "law", ["cubic", None], lambda v: laws.fit_law(m, Y, law=v))
    bad(L, "fit_law", "confidence", [1.0, 0.2, NAN], lambda v: laws.fit_law(m, Y, confidence=v))
    bad(L, "fit_law", "resolution", [1.0, NAN], lambda v: laws.fit_law(m, Y, resolution=v))
    bad(L, "fit_law", "n_resamples", [5, 10**9], lambda v: laws.fit_law(m, Y, interval="percentile", n_resamples=v))
    good(L, "fit_law", "tensor", lambda: laws.fit_law(torch.tensor(m), torch.tensor(Y))["exponent"]["estimate"])
    bad(L, "decide_law", "flat_margin", [0.0, NAN, "x"], lambda v: laws.decide_law(m, Y, flat_margin=v))
    bad(L, "decide_law", "interval", ["bootstrap", None], lambda v: laws.decide_law(m, Y, interval=v))
    bad(L, "decide_law", "seed", [-1, 2.5], lambda v: laws.decide_law(m, Y, seed=v))
    good(L, "decide_law", "a power law", lambda: laws.decide_law(m, Y)["alpha"]["estimate"])
    bad(L, "mean_ci", "values", [[1.0], [1.0, NAN], np.ones((2, 2)), []], lambda v: laws.mean_ci(v))
    bad(L, "mean_ci", "confidence", [1.5, NAN], lambda v: laws.mean_ci([1.0, 2.0], confidence=v))
    bad(L, "slope_ci", "values", [Y[:1], Y[:, :3], np.full((4, 4), NAN)], lambda v: laws.slope_ci(np.log(m), v))
    bad(L, "slope_ci", "x", [[1.0, 1.0, 1.0, 1.0], [NAN] * 4, [1.0]], lambda v: laws.slope_ci(v, Y))
    good(L, "slope_ci", "tensor", lambda: laws.slope_ci(torch.tensor(np.log(m)), Y))
    grid = np.array([10.0, 20, 40, 80, 160])
    losses = np.broadcast_to(grid**-1.0 * 20, (2, 3, 5)).copy()  # (M, S, N)
    bad(
        L,
        "curve_scatter",
        "n_grid",
        [grid[::-1], grid[:2], [10, NAN, 40, 80, 160]],
        lambda v: laws.curve_scatter(v, losses[..., : np.size(v)], 0.5),
    )
    bad(
        L, "curve_scatter", "losses", [losses[:, :2], -losses, losses[0, 0]], lambda v: laws.curve_scatter(grid, v, 0.5)
    )
    bad(L, "curve_scatter", "target", POS, lambda v: laws.curve_scatter(grid, losses, v))
    bad(L, "simulate_n_star", "law", ["cubic", 1], lambda v: laws.simulate_n_star(v, 1.0))
    bad(L, "simulate_n_star", "exponent", [NAN, "x", INF], lambda v: laws.simulate_n_star("power", v))
    bad(L, "simulate_n_star", "n_seeds", [1, 2.5, 10**9], lambda v: laws.simulate_n_star("power", 1.0, n_seeds=v))
    bad(
        L,
        "simulate_n_star",
        "scatter",
        [5, {"seed_sd": -1.0}, {"seed_share": 2.0}, {"seed": 0.1}],
        lambda v: laws.simulate_n_star("power", 1.0, scatter=v),
    )
    bad(L, "simulate_n_star", "n_max", [16.0, NAN], lambda v: laws.simulate_n_star("power", 1.0, n_max=v))
    bad(L, "simulate_n_star", "n_reps", [0, 10**9], lambda v: laws.simulate_n_star("power", 1.0, n_reps=v))
    bad(L, "simulate_n_star", "tail_df", [2.0, NAN], lambda v: laws.simulate_n_star("power", 1.0, tail_df=v))
    good(L, "simulate_n_star", "a heavy tail", lambda: laws.simulate_n_star("affine", 0.5, n_seeds=3, tail_df=4.0)[0])
    bad(L, "coverage", "n_reps", [0, 2.5, 10**9], lambda v: laws.coverage(n_reps=v))
    bad(
        L,
        "coverage",
        "truths",
        [{}, {"x": ("cubic", 1.0)}, {"x": 5}, {"x": ("power",)}, [("power", 1.0)]],
        lambda v: laws.coverage(n_reps=2, truths=v),
    )
    bad(L, "coverage", "intervals", [["bootstrap"], "jackknife", [], 5], lambda v: laws.coverage(n_reps=2, intervals=v))
    bad(L, "coverage", "n_seeds", [1, NAN], lambda v: laws.coverage(n_reps=2, n_seeds=v))
    good(
        L,
        "coverage",
        "two replicates",
        lambda: laws.coverage(n_reps=2, n_seeds=5, truths={"power": ("power", 1.0)})["power"],
    )

    def square(z):
        return z[:, 0] ** 2

    bad(L, "hermite_coefficients", "module", [None, 5], lambda v: laws.hermite_coefficients(v))
    bad(
        L,
        "hermite_coefficients",
        "module",
        [lambda z: z[:, 0] * np.nan, lambda z: z[:2, 0]],
        lambda v: laws.hermite_coefficients(v),
    )
    bad(L, "hermite_coefficients", "module_dim", [0, 3, 1.5], lambda v: laws.hermite_coefficients(square, v))
    bad(
        L,
        "hermite_coefficients",
        "max_degree",
        [0, 100, NAN],
        lambda v: laws.hermite_coefficients(square, max_degree=v),
    )
    bad(
        L,
        "hermite_coefficients",
        "n_nodes",
        [5, 10**6],
        lambda v: laws.hermite_coefficients(square, max_degree=10, n_nodes=v),
    )
    bad(
        L,
        "hermite_coefficients",
        "basis",
        [np.ones((2, 2)), np.eye(3), [[NAN]]],
        lambda v: laws.hermite_coefficients(
            square, 2 if np.ndim(v) == 2 and len(v) != 1 else 1, max_degree=4, n_nodes=10, basis=v
        ),
    )
    good(L, "hermite_coefficients", "a square", lambda: laws.hermite_coefficients(square, max_degree=4, n_nodes=10))
    c = laws.hermite_coefficients(square, max_degree=4, n_nodes=10)
    e = laws.degree_energies(c)
    bad(L, "degree_energies", "coefficients", [np.ones((2, 2, 2)), [NAN, 1.0], "x"], lambda v: laws.degree_energies(v))
    good(L, "degree_energies", "2-D", lambda: laws.degree_energies(np.ones((3, 3))))
    bad(
        L,
        "information_exponent",
        "energies",
        [[1.0], [1.0, -1.0], [1.0, 0.0, 0.0], [[1.0, 2.0]]],
        lambda v: laws.information_exponent(v),
    )
    bad(L, "information_exponent", "rtol", [NAN, -1.0, 2.0, "x"], lambda v: laws.information_exponent(e, rtol=v))
    good(L, "information_exponent", "a square", lambda: laws.information_exponent(e))
    bad(L, "effective_degree", "target", [0.0, 1.0, NAN], lambda v: laws.effective_degree(e, v))
    bad(L, "effective_degree", "energies", [[NAN, 1.0]], lambda v: laws.effective_degree(v, 0.1))
    bad(L, "leap", "module_dim", [3, 0], lambda v: laws.leap(square, v))
    bad(L, "leap", "rtol", [NAN, -1.0], lambda v: laws.leap(square, rtol=v, max_degree=4, n_nodes=10))
    bad(L, "leap", "max_degree", [0], lambda v: laws.leap(square, max_degree=v))
    good(L, "leap", "a square", lambda: laws.leap(square, max_degree=4, n_nodes=10))
    bad(L, "monomial_exponent", "input_dims", [[4], [4, 4], [0.5, 8], [NAN, 8]], lambda v: laws.monomial_exponent(v, 2))
    bad(L, "monomial_exponent", "degree", [-1, 2.5, 10**6], lambda v: laws.monomial_exponent([4, 8], v))
    task = tasks.make_task("he2", 4, 2, 1, seed=0)
    bad(L, "task_module", "task", [None, 5, "he2"], lambda v: laws.task_module(v))
    bad(L, "task_module", "module", [2, -1, 0.5], lambda v: laws.task_module(task, v))
    good(L, "task_module", "he2", lambda: laws.task_module(task, 1)(np.ones((3, 1))))
    bad(L, "predictions", "target", [0.0, 1.0, NAN], lambda v: laws.predictions(v))
    bad(L, "predictions", "input_dims", [[4], [0, 8]], lambda v: laws.predictions(input_dims=v))
    bad(L, "predictions", "n_draws", [0, 10**6], lambda v: laws.predictions(n_draws=v))


def _panel(panel="n", seeds=5):
    """A panel of theory_fit.panel_data from the theory itself (1 line, 2 noise levels), with a peak at n = p = 100."""
    from modscale_lib import theory_fit

    x = np.array([20, 40, 80, 100, 120, 200, 400, 800], dtype=float)
    n = x[None] if panel == "n" else np.full((1, x.size), 100.0)
    p = np.full((1, x.size), 100.0) if panel == "n" else x[None]
    d = dict(x=x, lines=np.array([0]), noises=np.array([0.0, 1.0]), seeds=np.arange(seeds), n=n, p=p)
    d.update(m=np.full_like(n, 5.0), k=np.full_like(n, 2.0), arch="monolithic", protocol="interpolating", panel=panel)
    train, test = theory_fit.theory_losses(n[:, None], p[:, None], 5, 2, d["noises"][None, :, None], 1.3)
    test = np.where(np.isfinite(test), test, 50.0)
    noise = np.exp(0.05 * np.random.default_rng(0).standard_normal((1, 2, seeds, x.size)))
    d["test"] = test[:, :, None, :] * noise
    d["train"] = np.broadcast_to(train[:, :, None, :], d["test"].shape).copy()
    return d


def _wrong_panels(d):
    return [None, 5, {"x": d["x"]}, dict(d, arch="bogus"), dict(d, panel="q"), dict(d, test=d["test"][..., :3])]


def _theory_fit(bad, good) -> None:
    from modscale_lib import theory_fit as tf

    F = "theory_fit"
    res = {f: np.zeros(1) for f in tf.FIELDS}
    bad(
        F,
        "panel_data",
        "res",
        [None, 5, {}, {"arch": np.zeros(1)}],
        lambda v: tf.panel_data(v, "modular", "decaying", "m"),
    )
    bad(F, "panel_data", "arch", ["bogus", None], lambda v: tf.panel_data(res, v, "decaying", "m"))
    bad(F, "panel_data", "protocol", ["bogus"], lambda v: tf.panel_data(res, "modular", v, "m"))
    bad(F, "panel_data", "panel", ["q", 1], lambda v: tf.panel_data(res, "modular", "decaying", v))
    bad(F, "theory_losses", "n", [NAN, 0.0, [200, NAN], "x"], lambda v: tf.theory_losses(v, 50, 2, 2, 0.0, 1.0))
    bad(F, "theory_losses", "p", [NAN, -5.0], lambda v: tf.theory_losses(200, v, 2, 2, 0.0, 1.0))
    bad(F, "theory_losses", "m", [0.0, INF], lambda v: tf.theory_losses(200, 50, v, 2, 0.0, 1.0))
    bad(F, "theory_losses", "k", [0.0, NAN], lambda v: tf.theory_losses(200, 50, 2, v, 0.0, 1.0))
    bad(
        F,
        "theory_losses",
        "noise",
        [-1.0, NAN, [0.0, 1.0, 2.0]],
        lambda v: tf.theory_losses([200, 300], 50, 2, 2, v, 1.0),
    )
    bad(F, "theory_losses", "alpha", POS, lambda v: tf.theory_losses(200, 50, 2, 2, 0.0, v))
    bad(F, "theory_losses", "c", POS, lambda v: tf.theory_losses(200, 50, 2, 2, 0.0, 1.0, v))
    bad(F, "theory_losses", "modular", ["yes", 1], lambda v: tf.theory_losses(200, 50, 2, 2, 0.0, 1.0, modular=v))
    good(F, "theory_losses", "tensor n", lambda: tf.theory_losses(torch.tensor([200.0, 400.0]), 50, 2, 2, 0.0, 1.0))
    d, dp = _panel("n"), _panel("p")
    neg = dict(d, test=-d["test"])
    bad(F, "predict", "data", _wrong_panels(d) + [neg], lambda v: tf.predict(v, 1.3))
    bad(F, "predict", "alpha", POS, lambda v: tf.predict(d, v))
    good(F, "predict", "a panel", lambda: tf.predict(dp, 1.3)[0][:, :, :2])
    bad(F, "calibrate", "datas", _wrong_panels(d) + [[], [d, None]], lambda v: tf.calibrate(v, alphas=[1.0, 1.3]))
    bad(F, "calibrate", "band", [NAN, -1.0], lambda v: tf.calibrate(d, band=v))
    bad(F, "calibrate", "alphas", [[-1.0], [NAN], np.ones((2, 2))], lambda v: tf.calibrate(d, alphas=v))
    bad(F, "calibrate", "c", [0.0, NAN], lambda v: tf.calibrate(d, c=v, alphas=[1.3]))
    bad(F, "calibrate", "c_values", [[0.0], [NAN]], lambda v: tf.calibrate(d, c=None, alphas=[1.3], c_values=v))
    good(F, "calibrate", "two panels", lambda: tf.calibrate([d, d], alphas=[1.0, 1.3]))
    bad(F, "rms_decades", "data", _wrong_panels(d), lambda v: tf.rms_decades(v, 1.3))
    bad(F, "rms_decades", "band", [NAN, -1.0, "x"], lambda v: tf.rms_decades(d, 1.3, band=v))
    bad(F, "rms_decades", "alpha", POS, lambda v: tf.rms_decades(d, v))
    good(F, "rms_decades", "a band", lambda: tf.rms_decades(d, 1.3, band=0.3))
    a = np.array([1.0, 1.1, 0.9, 1.05, 0.95])
    bad(F, "ratio_ci", "a", [-a, [NAN] * 5, a[None]], lambda v: tf.ratio_ci(v, a))
    bad(F, "ratio_ci", "b", [a[:3], 0 * a], lambda v: tf.ratio_ci(a, v))
    bad(F, "ratio_ci", "confidence", [1.0, NAN], lambda v: tf.ratio_ci(a, a, confidence=v))
    good(F, "ratio_ci", "tensors", lambda: tf.ratio_ci(torch.tensor(2 * a), torch.tensor(a)))
    x = np.array([2.0, 3.0, 5.0])
    values = np.exp(0.1 * x)[None, :] * np.ones((4, 1))
    bad(
        F,
        "trend_ratio",
        "x",
        [[2.0], [2.0, 2.0, 2.0], [NAN, 3.0, 5.0]],
        lambda v: tf.trend_ratio(v, values[:, : np.size(v)]),
    )
    bad(F, "trend_ratio", "values", [values[:, :2], -values, values[:1]], lambda v: tf.trend_ratio(x, v))
    bad(F, "trend_ratio", "confidence", [0.2], lambda v: tf.trend_ratio(x, values, confidence=v))
    dm = dict(d, panel="m")
    bad(F, "end_ratios", "data", _wrong_panels(dm), lambda v: tf.end_ratios(v, 1.3))
    bad(F, "end_ratios", "noise_index", [2, -1, 0.5], lambda v: tf.end_ratios(dm, 1.3, noise_index=v))
    bad(F, "end_ratios", "floor", [NAN, -1.0], lambda v: tf.end_ratios(dm, 1.3, floor=v))
    good(F, "end_ratios", "an m panel", lambda: [r["test"] for r in tf.end_ratios(dm, 1.3)])
    bad(F, "ratio_coverage", "datas", _wrong_panels(dm) + [[]], lambda v: tf.ratio_coverage(v, n_permutations=10))
    bad(F, "ratio_coverage", "n_permutations", [0, 2.5, 10**9], lambda v: tf.ratio_coverage(dm, n_permutations=v))
    bad(F, "ratio_coverage", "confidence", [1.0, NAN], lambda v: tf.ratio_coverage(dm, n_permutations=10, confidence=v))
    bad(F, "ratio_coverage", "seed", [-1, NAN], lambda v: tf.ratio_coverage(dm, n_permutations=10, seed=v))
    bad(F, "interpolated_share", "data", _wrong_panels(dp), lambda v: tf.interpolated_share(v))
    bad(F, "interpolated_share", "level", POS, lambda v: tf.interpolated_share(dp, level=v))
    bad(F, "interpolated_share", "factor", POS, lambda v: tf.interpolated_share(dp, factor=v))
    good(F, "interpolated_share", "a p panel", lambda: tf.interpolated_share(dp))
    bad(F, "panel_columns", "data", _wrong_panels(d), lambda v: tf.panel_columns(v, 1.3))
    bad(F, "panel_columns", "line_index", [1, -1, NAN], lambda v: tf.panel_columns(d, 1.3, line_index=v))
    good(F, "panel_columns", "a p panel", lambda: list(tf.panel_columns(dp, 1.3).values())[0])
    panels = {pa: dict(_panel("n" if pa == "n" else "p"), panel=pa) for pa in tf.PANEL_NAMES}
    fits = {"alpha": 1.3, "c": 1.0}

    def figure(**kw):
        import matplotlib.pyplot as plt

        plt.close(tf.theory_networks_figure(**{"panels": panels, "fits": fits, **kw}))
        return 0

    bad(F, "theory_networks_figure", "panels", [None, {"k": d}, dict(panels, k=None)], lambda v: figure(panels=v))
    bad(F, "theory_networks_figure", "fits", [None, {"alpha": 1.3}, {"alpha": NAN, "c": 1.0}], lambda v: figure(fits=v))
    bad(F, "theory_networks_figure", "title", [None, 5], lambda v: figure(title=v))
    bad(F, "theory_networks_figure", "ylim", [(1.0,), (0.0, 1.0), (1.0, 0.5), "ab"], lambda v: figure(ylim=v))
    bad(F, "theory_networks_figure", "width", [0.0, NAN, 1e6], lambda v: figure(width=v))


def _theory_peaks(bad, good) -> None:
    from modscale_lib import theory_peaks as tp

    P = "theory_peaks"
    dp = _panel("p")
    wrong = _wrong_panels(dp) + [dict(dp, panel="k"), dict(dp, test=0 * dp["test"])]
    bad(P, "locate_peak", "data", wrong, lambda v: tp.locate_peak(v, 0, n_resamples=20))
    bad(P, "locate_peak", "noise_index", [2, -1, NAN], lambda v: tp.locate_peak(dp, v))
    bad(P, "locate_peak", "line_index", [1, 0.5], lambda v: tp.locate_peak(dp, 0, v))
    bad(P, "locate_peak", "confidence", [1.0, NAN], lambda v: tp.locate_peak(dp, 0, confidence=v))
    bad(P, "locate_peak", "n_resamples", [0, 2.5, 10**12], lambda v: tp.locate_peak(dp, 0, n_resamples=v))
    bad(P, "locate_peak", "seed", [-1, "a"], lambda v: tp.locate_peak(dp, 0, seed=v))
    good(P, "locate_peak", "a peak at n = p", lambda: tp.locate_peak(dp, 1, n_resamples=50)["at"])
    bad(P, "peak_excess", "data", wrong, lambda v: tp.peak_excess(v, 0))
    bad(P, "peak_excess", "noise_index", [2, NAN], lambda v: tp.peak_excess(dp, v))
    bad(P, "peak_excess", "factor", [1.0, NAN, 0.5], lambda v: tp.peak_excess(dp, 0, factor=v))
    bad(P, "peak_excess", "factor", [1.01], lambda v: tp.peak_excess(dp, 0, factor=v))
    good(P, "peak_excess", "a p panel", lambda: tp.peak_excess(dp, 1)["excess"])
    bad(P, "excess_ratio", "data", wrong, lambda v: tp.excess_ratio(v, 1, 0))
    bad(P, "excess_ratio", "noise_a", [2, -1], lambda v: tp.excess_ratio(dp, v, 0))
    bad(P, "excess_ratio", "noise_b", [5, "0"], lambda v: tp.excess_ratio(dp, 1, v))
    bad(P, "excess_ratio", "confidence", [0.1], lambda v: tp.excess_ratio(dp, 1, 0, confidence=v))
    good(P, "excess_ratio", "two noise levels", lambda: tp.excess_ratio(dp, 1, 0))
    bad(P, "peak_coverage", "data", wrong, lambda v: tp.peak_coverage(v, 0, n_reps=2, n_resamples=10))
    bad(P, "peak_coverage", "n_reps", [0, 2.5, 10**9], lambda v: tp.peak_coverage(dp, 0, n_reps=v, n_resamples=10))
    bad(P, "peak_coverage", "n_resamples", [5, 10**9], lambda v: tp.peak_coverage(dp, 0, n_reps=2, n_resamples=v))
    bad(P, "peak_coverage", "n_resamples", [10**5], lambda v: tp.peak_coverage(dp, 0, n_reps=10**5, n_resamples=v))
    bad(P, "peak_coverage", "noise_index", [2], lambda v: tp.peak_coverage(dp, v, n_reps=2, n_resamples=10))
    good(P, "peak_coverage", "a few replicates", lambda: tp.peak_coverage(dp, 1, n_reps=5, n_resamples=20)["location"])


def register(bad, good) -> None:
    """Add this group's cases with ``bad(module, function, parameter, values, call)`` and ``good(...)``."""
    _brackets(bad, good)
    _law_readout(bad, good)
    _laws(bad, good)
    _theory_fit(bad, good)
    _theory_peaks(bad, good)
