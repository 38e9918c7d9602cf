"""The scaling-law study: its configs, the bracketing sweep at a tiny size (through the store, resumed after a
kill), the retraining of networks stopped by the step cap, the plateau stop, and the capacity search."""

import dataclasses
import math

import numpy as np
import pytest
import torch

from modscale_lib import brackets, experiments, store
from modscale_lib.experiments import law_capacity, scaling_law, scaling_law_search
from modscale_lib.networks import MLPEnsemble, fit

TINY = scaling_law.ScalingLawConfig.tiny()


@pytest.fixture(scope="module")
def tiny():
    return experiments.scaling_law_sweep(TINY)


def test_the_named_configs_are_the_designed_study():
    cpu, full = scaling_law.ScalingLawConfig.cpu(), scaling_law.ScalingLawConfig.full()
    assert len(cpu.seeds) >= 10 and max(cpu.m_grid) >= 64 and cpu.targets[0] == 0.1
    assert all(m >= 64 for m in cpu.max_m) and brackets.grid_n(cpu.i_max) >= 2**16
    assert brackets.grid_n(cpu.i_min) <= 16
    assert max(full.m_grid) == 256 and len(full.seeds) == 20 and all(m == 256 for m in full.max_m)
    assert {"he1:1", "he2:1", "he3:1"} <= set(full.tasks) and set(cpu.tasks) <= set(full.tasks)
    per_task = [getattr(scaling_law.ScalingLawConfig, name)() for name in scaling_law.CPU_TASKS]
    assert [c.tasks for c in per_task] == [(t,) for t in scaling_law.TASKS]
    assert list(scaling_law.RULE_CONFIGS) == [f"{name}_rule" for name in scaling_law.CPU_TASKS]
    for c, name in zip(per_task, scaling_law.CPU_TASKS):
        rule = experiments.scaling_law_sweep.config(f"{name}_rule")
        assert rule.tasks == c.tasks and rule.methods == ("rule",) and rule.rule_variant == scaling_law.RULE_VARIANT
        # one task, its own network row: another task's search leaves both keys unchanged
        assert rule.networks == c.networks == tuple(r for r in scaling_law.NETWORKS if r[0] == c.tasks[0])
        assert (c.m_grid, c.seeds, c.steps) == (rule.m_grid, rule.seeds, rule.steps) and rule.max_m == (64,)
        # the rule's grid starts at the fewest samples its variant accepts, and no lower than the others'
        assert brackets.grid_n(rule.i_min) >= scaling_law.RULE_MIN_SAMPLES > brackets.grid_n(rule.i_min - 1)
        assert rule.i_min >= c.i_min and rule.first_index > rule.i_min
        assert scaling_law.method_label("rule", rule.rule_variant) in experiments.sample_complexity.methods.ALL
    assert scaling_law.RULE_VARIANT in scaling_law.methods.RULE_VARIANTS


def test_the_chapter_reads_every_task_and_its_rule_or_says_how_to_compute_them():
    stored, missing = scaling_law.load_stored()
    assert set(stored) | set(missing) == set(scaling_law.CPU_TASKS) | set(scaling_law.RULE_CONFIGS)
    assert not set(stored) & set(missing) and "cpu" in stored
    for name, command in missing.items():
        assert command.endswith(f"--config {name}")
    for name, (cfg, res) in stored.items():
        assert cfg == experiments.scaling_law_sweep.config(name) and len(res["method_labels"]) == len(cfg.methods)


def test_bad_configs_are_refused_before_any_computation():
    with pytest.raises(ValueError, match="max_m"):
        dataclasses.replace(TINY, max_m=(8,))
    with pytest.raises(ValueError, match="tasks"):
        dataclasses.replace(TINY, tasks=("he2",))  # no K
    with pytest.raises(ValueError, match="networks"):
        dataclasses.replace(TINY, tasks=("he3:1",))  # no capacity row for it
    with pytest.raises(ValueError, match="K \\* b"):
        dataclasses.replace(TINY, tasks=("he2:8",), networks=(("he2:8", 8, 1, 0.01, 4, 1, 0.01),))
    with pytest.raises(ValueError, match="m_grid"):
        dataclasses.replace(TINY, m_grid=(8, 4))


def test_the_tiny_sweep_resolves_every_search_and_leaves_unrun_cells_empty(tiny):
    T, M, D, S, V = tiny["index"].shape
    assert (T, M, D, S) == (len(TINY.tasks), len(TINY.methods), len(TINY.m_grid), len(TINY.seeds))
    for b, kind in enumerate(TINY.methods):
        for c, m in enumerate(TINY.m_grid):
            idx = tiny["index"][:, b, c]
            if not TINY.runs(kind, m):
                assert (idx == -1).all() and np.isnan(tiny["test_loss"][:, b, c]).all()
                continue
            used = idx >= 0
            assert used.any(axis=-1).all() and ((idx[used] >= TINY.i_min) & (idx[used] <= TINY.i_max)).all()
            for t in TINY.search_targets(kind):
                _, cens = brackets.crossings(idx, tiny["test_loss"][:, b, c], t, TINY.i_min, TINY.i_max)
                assert not (cens == "missing").any(), (kind, m, t)
    mlp = TINY.methods.index("monolithic")
    chosen = tiny["choice"][:, mlp][tiny["index"][:, mlp] >= 0].astype(int)
    tried = np.isfinite(tiny["val_loss"][:, mlp][tiny["index"][:, mlp] >= 0])
    L, ext = len(TINY.mlp_lr_slots), TINY.mlp_lr_extend
    assert tried[:, ext : L - ext].all()  # every network tries the base steps
    inside = (chosen > np.argmax(tried, axis=1)) & (chosen < L - 1 - np.argmax(tried[:, ::-1], axis=1))
    assert np.all(inside | (chosen == 0) | (chosen == L - 1))  # widened until inside, or at the limit
    by_step = tiny["test_by_step"][:, mlp][tiny["index"][:, mlp] >= 0]
    np.testing.assert_array_equal(
        by_step[np.arange(len(chosen)), chosen], tiny["test_loss"][:, mlp][tiny["index"][:, mlp] >= 0]
    )
    rule = TINY.methods.index("rule")
    sim = tiny["similarity"][:, rule][tiny["index"][:, rule] >= 0]
    assert np.all((sim >= 0) & (sim <= 1 + 1e-9))
    assert tiny["method_labels"][rule] == "modular, backfit rule"
    assert np.all(tiny["cpu_s"][np.isfinite(tiny["cpu_s"])] > 0)


def test_a_killed_sweep_resumes_to_the_same_result(tiny, tmp_path, monkeypatch):
    from modscale_lib.experiments import scaling_law_search as search

    real, calls = search.search_cell, []

    def dies_on_the_fifth(*args):
        calls.append(args[1:4])
        if len(calls) == 5:
            raise KeyboardInterrupt("killed")
        return real(*args)

    monkeypatch.setattr(search, "search_cell", dies_on_the_fifth)
    with pytest.raises(KeyboardInterrupt):
        store.load_or_run(experiments.scaling_law_sweep, TINY, mode="missing", root=tmp_path, progress=False)
    monkeypatch.setattr(search, "search_cell", real)
    resumed = store.load_or_run(experiments.scaling_law_sweep, TINY, mode="missing", root=tmp_path, progress=False)
    for name in ("index", "test_loss", "val_loss", "best_step", "steps", "choice"):
        np.testing.assert_array_equal(resumed[name], tiny[name])


def test_a_network_stopped_by_the_step_cap_is_trained_again_longer():
    cfg = dataclasses.replace(TINY, steps=10, max_steps=40, patience=50, eval_every=5, min_delta=0.0)
    task, (X, y), (Xv, yv), (Xt, yt) = scaling_law_search.task_data("he2:1", 4, 0, 64, 50, 50)
    data = tuple(np.stack([a, a]) for a in (X, y, Xv, yv))
    test = (np.stack([Xt, Xt]), np.stack([yt, yt]))

    def build(idx):
        return MLPEnsemble(len(idx), 4, 8, 1, seeds=[[0, 1][e] for e in idx])

    out = scaling_law_search.train_members(build, data, test, [64, 32], 1e-2, cfg)
    assert np.all(out["steps"] == 40) and np.all(out["best_step"] <= 40)  # still improving at 10 and 20
    alone = build([0])
    res = fit(
        alone,
        X,
        y,
        X_val=Xv,
        y_val=yv,
        lr=1e-2,
        lr_decay=0.01,
        steps=40,
        batch_size=cfg.batch_size,
        patience=50,
        eval_every=5,
        progress=False,
    )
    assert res.val_loss[0] == pytest.approx(out["val_loss"][0], rel=1e-5)  # the same network, run to 40 steps


def test_a_plateau_stops_training_and_keeps_the_best_weights():
    torch.manual_seed(0)
    X = np.random.default_rng(0).standard_normal((256, 3)).astype(np.float32)
    y = X[:, 0] - X[:, 1] ** 2

    def run(delta):
        return fit(
            MLPEnsemble(2, 3, 16, 1, seeds=[0, 1]),
            X,
            y,
            X_val=X[:64],
            y_val=y[:64],
            lr=1e-2,
            steps=3000,
            batch_size=64,
            patience=3,
            eval_every=50,
            progress=False,
            min_delta=delta,
        )

    strict, loose = run(0.0), run(0.05)
    assert loose.history_steps[-1] < strict.history_steps[-1]
    assert np.all(loose.val_loss == np.min(loose.history_val, axis=0))  # still each model's best
    with pytest.raises(ValueError, match="min_delta"):
        run(1.0)


def test_the_capacity_walk_ends_inside_its_grid():
    cfg = law_capacity.LawCapacityConfig.tiny()
    res = experiments.scaling_law_capacity(cfg)
    chosen = law_capacity.choices(res, cfg)["he2:1"]
    for family in law_capacity.FAMILIES:
        assert all(flag in (True, "domain") for flag in chosen["interior"][family])
        depth, width, lr = chosen[family]
        assert 1 <= depth <= cfg.max_depth and math.log2(width) % 1 == 0 and lr > 0
    assert res["score"].shape[0] == res["settings"].shape[0] == len({tuple(r) for r in res["settings"].tolist()})


def test_the_read_outs_of_the_tiny_sweep(tiny):
    from modscale_lib import law_readout

    n_star, cens = law_readout.samples_needed(tiny, TINY, TINY.targets[0])
    assert n_star.shape == cens.shape == tiny["index"].shape[:-1]
    rf, mlp = TINY.methods.index("random_features"), TINY.methods.index("monolithic")
    assert (cens[:, mlp, TINY.m_grid.index(8)] == "missing").all()  # the MLP stops at max_m = 4
    m, log_n, codes = law_readout.law_inputs(TINY.m_grid, n_star[0, rf], cens[0, rf])
    assert list(m) == list(TINY.m_grid) and log_n.shape == codes.shape == (len(TINY.seeds), len(TINY.m_grid))
    m, log_n, codes = law_readout.law_inputs(TINY.m_grid, n_star[0, mlp], cens[0, mlp])
    assert list(m) == [4]
    stop = law_readout.stopping_summary(tiny, TINY)
    assert "random features" not in stop["method"] and all(0 <= s <= 1 for s in stop["share best below cap"])
    shares = law_readout.choice_shares(tiny, mlp, len(TINY.mlp_lr_slots))
    assert shares.sum() == pytest.approx(1.0)
    assert np.all(np.isnan(law_readout.cpu_minutes(tiny)) | (law_readout.cpu_minutes(tiny) > 0))
    assert law_readout.visits_per_seed(tiny)[0, mlp, 1].sum() == 0


def test_the_law_line_and_the_median_flags():
    from modscale_lib import law_readout

    decision = {"law": "power", "confidence": 0.95, "alpha": {"estimate": 1.234, "low": 1.0, "high": math.inf}}
    assert law_readout.law_line(decision) == "law power: exponent 1.23 [95% CI 1.00, inf]"
    n = np.array([[10.0, 20.0, 30.0], [10.0, 2**16, 2**16]])
    cens = np.array([["", "", ""], ["", "above", "above"]], dtype=object)
    med, flag = law_readout.median_n_star(n, cens)
    assert med[0] == 20.0 and np.isinf(med[1]) and list(flag) == ["", "above"]


def test_the_law_figure_draws_every_method_and_both_fits(tiny):
    import matplotlib.pyplot as plt

    from modscale_lib import law_readout
    from modscale_lib.chapters import scaling_law as law_figures

    n_star, cens = law_readout.samples_needed(tiny, TINY, TINY.targets[0])
    fits = {0: {0: {"power": (2.0, 1.0), "exponential": (2.0, 0.1)}}}
    fig = law_figures.law_figure(TINY.m_grid, n_star, cens, tiny["method_labels"], list(TINY.tasks), fits)
    ax = fig.axes[0]
    assert len(fig.axes) == len(TINY.tasks) and ax.get_xlabel() and ax.get_ylabel()
    assert sum(line.get_linestyle() == "--" for line in ax.get_lines()) == 1
    assert min(t.get_fontsize() for t in fig.legends[0].get_texts()) >= 9
    plt.close(fig)


def test_each_method_is_placed_beside_its_regimes_prediction():
    from modscale_lib import law_readout, laws, methods

    assert law_readout.regime_of(methods.RANDOM_FEATURES) == "kernels and random features"
    assert law_readout.regime_of(methods.rule("backfit")) == law_readout.regime_of(methods.RANDOM)
    assert set(law_readout.regime_of(lab) for lab in (methods.MONOLITHIC, methods.ORACLE)) <= set(laws.REGIMES)
    assert [law_readout.family_of(t) for t in scaling_law.TASKS] == ["sine", "He_1", "He_2", "He_3", "nonseparable"]
    preds = laws.predictions(0.1, n_draws=1)
    inf = {"estimate": 2.0, "low": 1.5, "high": math.inf}
    decisions = {
        ("he3:2", methods.RANDOM_FEATURES): {"law": "undecided", "alpha": inf},
        ("he3:2", methods.MONOLITHIC): {"law": "power", "alpha": {"estimate": 1.0, "low": 0.9, "high": 1.1}},
    }
    table = law_readout.theory_table(decisions, preds)
    assert table["predicted"] == ["m^3", "m^2"] and table["alpha [95% CI]"][0] == "2.00 [1.50, inf]"
    assert table["prediction and interval"] == ["inside", "below"]  # 2.61 over the range; 2 above [0.9, 1.1]
    assert law_readout.verdict_list(decisions, methods.MONOLITHIC) == "power on he3:2 (alpha 1.00 [0.90, 1.10])"
    assert law_readout.verdict_list(decisions, methods.ORACLE) == "not measured"
    with pytest.raises(ValueError, match="task"):
        law_readout.family_of("he9:2")
    assert law_readout.task_title("bump_ridge:2") == "two-dimensional modules, K = 2"


def _synthetic_study(alpha=1.0, seeds=10, sd=0.15):
    """A stored-like result whose every search ran on a power-law learning curve n* = 30 m^alpha (per seed
    scatter sd in log n*), through the real bracketing search."""
    cfg = dataclasses.replace(
        scaling_law.ScalingLawConfig.cpu(),
        methods=("oracle",),
        max_m=(64,),
        m_grid=(4, 8, 16, 32, 64),
        seeds=tuple(range(seeds)),
    )
    rng = np.random.default_rng(0)
    S, V, D = len(cfg.seeds), cfg.max_visits, len(cfg.m_grid)
    index, loss = np.full((1, 1, D, S, V), -1), np.full((1, 1, D, S, V), np.nan)
    for c, m in enumerate(cfg.m_grid):
        for s in range(S):
            n0 = 30 * m**alpha * math.exp(sd * rng.standard_normal())
            visited = {}
            for v in range(V):
                i = brackets.next_index(visited, cfg.targets[:1], 12, cfg.i_min, cfg.i_max)
                if i is None:
                    break
                visited[i] = index[0, 0, c, s, v] = i
                loss[0, 0, c, s, v] = visited[i] = 0.1 * (brackets.grid_n(i) / n0) ** -1.5
    return cfg, {"index": index, "test_loss": loss, "method_labels": ["modular, oracle"]}


def test_the_decisions_of_a_synthetic_power_law_study():
    from modscale_lib import law_readout

    cfg, res = _synthetic_study(alpha=1.0)
    decisions, lines = law_readout.decisions({"cpu": (cfg, res)}, 0.1)
    d = decisions["sine:2", "modular, oracle"]
    # the exact crossing is read back, so only the seeds' scatter remains: the truth within 4 standard errors
    assert abs(d["alpha"]["estimate"] - 1.0) < 4 * d["alpha"]["se"] and d["alpha"]["se"] < 0.05
    assert d["law"] in ("power", "undecided") and d["censored"] == {"above": 0, "below": 0, "missing": 0}
    a, alpha = lines["sine:2", "modular, oracle"]["power"]
    assert alpha == pytest.approx(d["alpha"]["estimate"]) and math.exp(a) == pytest.approx(30, rel=0.3)
    n_star, cens = law_readout.samples_needed(res, cfg, 0.1)
    assert 0.05 < law_readout.seed_sd(n_star, cens) < 0.3


def test_the_capacity_choice_table(tmp_path):
    cfg = law_capacity.LawCapacityConfig.tiny()
    res = store.load_or_run(experiments.scaling_law_capacity, cfg, mode="missing", root=tmp_path, progress=False)
    table = law_capacity.choice_table({"tiny": (cfg, res)})
    assert table["network"] == ["MLP", "modules (oracle)"] and all(c > 0 for c in table["CPU minutes"])
    assert all(t >= 7 for t in table["settings tried"]) and table["inside the grid"][0].startswith("depth: domain")


def test_the_study_runs_the_networks_its_stored_searches_chose():
    checked = 0
    for name in scaling_law.CPU_TASKS:
        cap_cfg = experiments.scaling_law_capacity.config(name)
        try:
            res = store.load_or_run(experiments.scaling_law_capacity, cap_cfg, mode="read")
        except store.MissingResultError:
            assert name != "cpu", "the sine task's search (the headline) must be stored"
            continue
        chosen = law_capacity.choices(res, cap_cfg)[cap_cfg.tasks[0]]
        net = experiments.scaling_law_sweep.config(name).network(cap_cfg.tasks[0])
        assert (net["mlp_depth"], net["mlp_width"]) == chosen["mlp"][:2], name
        assert (net["module_depth"], net["module_width"]) == chosen["modules"][:2], name
        assert net["mlp_lr"] == pytest.approx(chosen["mlp"][2])
        assert net["module_lr"] == pytest.approx(chosen["modules"][2])
        assert all(flag in (True, "domain") for f in law_capacity.FAMILIES for flag in chosen["interior"][f]), name
        checked += 1
    assert checked >= 1


def test_growth_inputs_and_ratio_text():
    from modscale_lib import law_readout

    n = np.array([[10.0, 2.0**16, np.nan]])
    cens = np.array([["", "above", "missing"]], dtype=object)
    out = law_readout.growth_inputs(n, cens)
    assert out[0, 0] == 10 and np.isinf(out[0, 1]) and np.isnan(out[0, 2])
    r = {"estimate": 1.01, "low": 0.99, "high": 1.04, "censored": False}
    assert law_readout.ratio_text(r) == "1.010 [0.990, 1.040]"
    assert "censored" in law_readout.ratio_text(dict(r, censored=True, bound_a="lower", bound_b=""))


def test_a_paired_contrast_reads_back_the_difference_of_exponents():
    from modscale_lib import law_readout

    cfg, steep = _synthetic_study(alpha=1.0, sd=0.0)
    _, flat = _synthetic_study(alpha=0.0, sd=0.0)
    both = {k: np.concatenate([steep[k], flat[k]], axis=1) for k in ("index", "test_loss")}
    both["method_labels"] = ["monolithic", "modular, oracle"]
    cfg = dataclasses.replace(cfg, methods=("monolithic", "oracle"), max_m=(64, 64))
    c = law_readout.paired_contrast({"cpu": (cfg, both)}, 0.1, "monolithic", "modular, oracle")["sine:2"]
    assert c["seeds"] == len(cfg.seeds) and c["exponent_difference"][0] == pytest.approx(1.0, abs=0.02)
    assert c["level_ratio"][0] == pytest.approx(64.0, rel=0.05)
    # the same two learners stored as two results of the task (the rule's cells are a result of their own)
    one = {
        "cpu": (
            dataclasses.replace(cfg, methods=("monolithic",), max_m=(64,)),
            dict(steep, method_labels=["monolithic"]),
        ),
        "cpu_rule": (
            dataclasses.replace(cfg, methods=("oracle",), max_m=(64,)),
            dict(flat, method_labels=["modular, oracle"]),
        ),
    }
    apart = law_readout.paired_contrast(one, 0.1, "monolithic", "modular, oracle")["sine:2"]
    assert apart["exponent_difference"] == pytest.approx(c["exponent_difference"])
    assert apart["level_ratio"] == pytest.approx(c["level_ratio"]) and apart["seeds"] == c["seeds"]
    assert law_readout.paired_contrast(one, 0.1, "monolithic", "modular, random") == {}
    up = c["upper"]  # from the middle m up, every seed measured there
    assert list(up["m"]) == list(c["m"][(len(c["m"]) - 1) // 2 :]) and up["seeds"] == len(cfg.seeds)
    assert up["exponent_difference"][0] == pytest.approx(1.0, abs=0.02)


def test_the_jump_to_censoring_bounds_the_slope():
    from modscale_lib import law_readout

    n = np.array([[100.0] * 3, [2.0**16] * 3, [2.0**16] * 3])
    cens = np.array([[""] * 3, ["above"] * 3, ["above"] * 3], dtype=object)
    m0, m1, slope = law_readout.jump_bound([4, 8, 16], n, cens, 2.0**16)
    assert (m0, m1) == (4, 8) and slope == pytest.approx(np.log2(2**16 / 100))
    assert law_readout.jump_bound([4, 8, 16], n[:1].repeat(3, 0), cens[:1].repeat(3, 0), 2.0**16) is None


def test_learners_of_several_results_are_gathered_per_task():
    from modscale_lib import law_readout

    cfg, one = _synthetic_study(alpha=1.0, sd=0.0)
    other = dict(one, method_labels=["modular, backfit rule"])
    tasks, labels, n_star, cens = law_readout.by_task({"a": (cfg, one), "b": (cfg, other)}, 0.1)
    assert tasks == ["sine:2"] and labels == ["modular, oracle", "modular, backfit rule"]
    assert n_star.shape == (1, 2, len(cfg.m_grid), len(cfg.seeds)) and not (cens == "missing").any()
    with pytest.raises(ValueError, match="share"):
        law_readout.by_task({"a": (cfg, one), "b": (dataclasses.replace(cfg, seeds=(0, 1)), other)}, 0.1)
