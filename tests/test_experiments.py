"""Common checks over every registered experiment, in the spirit of scikit-learn's estimator checks: its named
configs build and validate, round-trip through JSON with a stable key, refuse bad values before computing,
and the experiment runs end to end at a tiny size. Plus the sample-complexity sweep's own invariants."""

import dataclasses
import json
import math

import numpy as np
import pytest

from modscale_lib import experiments, store

EXPERIMENTS = sorted(store.REGISTRY.values(), key=lambda e: e.name)
IDS = [e.name for e in EXPERIMENTS]


def test_every_chapter_module_registers_its_experiments():
    names = {e.name for e in EXPERIMENTS}
    assert {
        "pinv_moment",
        "linear_model_mc",
        "network_theory",
        "module_recovery",
        "rule_sensitivity",
        "projection_training",
        "sample_complexity_sweep",
        "objective_cost",
        "compositional_accuracy",
    } <= names
    for exp in EXPERIMENTS:
        # One name: the registry's, the function's, the results folder's; a chapter module named like its notebook.
        assert getattr(experiments, exp.name) is exp
        assert exp.func.__name__ == exp.name
        assert exp.chapter in {m.__name__.rsplit(".", 1)[1] for m in experiments.CHAPTERS}


@pytest.mark.parametrize("exp", EXPERIMENTS, ids=IDS)
def test_named_configs_build_validate_and_round_trip(exp):
    assert "cpu" in exp.configs and "full" in exp.configs
    for name in exp.configs:
        cfg = exp.config(name)
        assert isinstance(cfg, exp.config_type)
        stored = json.loads(json.dumps(store.canonical_config(cfg)))
        again = exp.config_from_dict(stored)
        assert again == cfg
        assert store.result_key(exp.name, exp.version, again) == store.result_key(exp.name, exp.version, cfg)
    with pytest.raises((KeyError, ValueError)):
        exp.config("no_such_config")


@pytest.mark.parametrize("exp", EXPERIMENTS, ids=IDS)
def test_whole_numbers_given_as_floats_keep_the_key(exp):
    cfg = exp.config("cpu")
    key = store.result_key(exp.name, exp.version, cfg)
    ints = {f.name: float(getattr(cfg, f.name)) for f in dataclasses.fields(cfg) if type(getattr(cfg, f.name)) is int}
    if not ints:
        pytest.skip(f"{exp.name}: no whole-number fields")
    floated = dataclasses.replace(cfg, **ints)
    assert store.result_key(exp.name, exp.version, floated) == key


def _bad_values(value):
    out = [float("nan"), "bogus", object()]
    if isinstance(value, bool):
        return out
    if isinstance(value, int):
        out += [-1, 2.5, math.inf]
    elif isinstance(value, float):
        out += [-1.0, math.inf]
    elif isinstance(value, tuple):
        out += [(), ("bogus",), (float("nan"),)]
    return out


EMPTY_ALLOWED = {
    "control_modules",  # () means "no controls" (the non-separable sweep)
    "bracket_all",
}  # () means "every method brackets the main target only" (scaling law)


@pytest.mark.parametrize("exp", EXPERIMENTS, ids=IDS)
def test_bad_config_values_are_refused_with_the_field_named(exp):
    cfg = exp.config("cpu")
    for f in dataclasses.fields(cfg):
        for bad in _bad_values(getattr(cfg, f.name)):
            if bad == -1 and f.name in ("batch_size",) and getattr(cfg, f.name) == 0:
                continue
            if bad == () and f.name in EMPTY_ALLOWED:
                continue
            with pytest.raises((TypeError, ValueError), match=f.name):
                dataclasses.replace(cfg, **{f.name: bad})


NEEDS_CIFAR = ("compositional_accuracy", "compositional_tuning")  # end to end on synthetic images: test_compositional


@pytest.mark.parametrize(
    "exp", [e for e in EXPERIMENTS if e.name not in NEEDS_CIFAR], ids=[i for i in IDS if i not in NEEDS_CIFAR]
)
def test_runs_end_to_end_at_a_tiny_size(exp):
    out = exp(exp.config_type.tiny())
    assert isinstance(out, dict) and out
    for name, value in out.items():
        if isinstance(value, np.ndarray) and value.dtype.kind == "f":
            assert np.isfinite(value).any(), f"{exp.name}: output {name} is all NaN"


def test_sample_complexity_sweep_at_a_tiny_size():
    cfg = experiments.SampleComplexityConfig.tiny()
    res = experiments.sample_complexity_sweep(cfg)
    M = len(cfg.methods)
    assert res["test_loss"].shape == (1, M, 1, 1, 3) and res["methods"] == list(cfg.methods)
    # every method runs at every n here (control_every=1 would be the full grid; tiny controls every 2nd n)
    ran = np.isfinite(res["test_loss"][0, :, 0, 0])
    controls = [cfg.methods.index(c) for c in experiments.sample_complexity.CONTROLS]
    assert ran[[i for i in range(M) if i not in controls]].all()
    assert ran[controls][:, :: cfg.control_every].all() and not ran[controls][:, 1 :: cfg.control_every].any()
    assert np.all(res["ood_loss"][np.isfinite(res["ood_loss"])] > 0)
    assert np.all((res["rule_similarity"] >= 0) & (res["rule_similarity"] <= 1 + 1e-9))
    assert int(res["extra_steps"][0, 0, 0]) > 0


def test_the_non_separable_sweep_runs_the_default_rule_on_modules_of_two_dimensions():
    cfg = dataclasses.replace(
        experiments.SampleComplexityConfig.tiny(), task="bump_ridge", module_dim=2, control_modules=(), n_grid=(60, 120)
    )
    # the default rule (newton) at b = 2 too, and no controls there
    assert cfg.methods == experiments.sample_complexity.main_methods() and "newton" in cfg.methods[2]
    res = experiments.sample_complexity_sweep(cfg)
    assert res["test_loss"].shape == (1, 4, 1, 1, 2) and np.isfinite(res["test_loss"]).all()
    assert np.all((res["rule_similarity"] >= 0) & (res["rule_similarity"] <= 1 + 1e-9))
    with pytest.raises(ValueError, match="module_dim"):
        dataclasses.replace(cfg, task="sine")  # sums of ridges: modules of b = 2 not identifiable
    with pytest.raises(ValueError, match="control_modules"):
        dataclasses.replace(cfg, control_modules=(2,))
    with pytest.raises(ValueError, match="module_counts"):
        dataclasses.replace(cfg, module_dim=3)  # K * b = 6 > m = 4


def test_the_oracle_in_the_shared_ensemble_matches_a_run_alone():
    # The sweep trains oracle, rule and random starts as one ensemble, the oracle's projections frozen by a
    # per-model gradient mask; a frozen oracle alone, with the same seeds, gives the same test loss.
    import torch

    from modscale_lib.experiments import sample_complexity as sc
    from modscale_lib.networks import ModularEnsemble
    from modscale_lib.tasks import SineWaveTask

    cfg = dataclasses.replace(experiments.SampleComplexityConfig.tiny(), seeds=(1,))
    res = experiments.sample_complexity_sweep(cfg)
    task = SineWaveTask(4, 2, seed=1)
    X, y, Xv, yv = sc._data(task, max(cfg.n_grid), cfg.n_val)
    Xt, yt = task.sample(cfg.n_test, seed=1)
    model = ModularEnsemble(
        3,
        4,
        2,
        1,
        width=cfg.module_width,
        depth=cfg.module_depth,
        projections=np.broadcast_to(task.projections, (3, 2, 4, 1)),
        train_projections=False,
        seeds=[1000 + j for j in range(3)],
    )
    sc._train(model, X, y, Xv, yv, list(cfg.n_grid), cfg, cfg.module_lr)
    with torch.no_grad():
        alone = sc._losses(model(torch.as_tensor(Xt, dtype=torch.float32)), yt)
    np.testing.assert_allclose(alone, res["test_loss"][0, cfg.methods.index("modular, oracle"), 0, 0], rtol=2e-4)


def test_sample_complexity_refuses_more_modules_than_dimensions():
    with pytest.raises(ValueError, match="module_counts"):
        dataclasses.replace(experiments.SampleComplexityConfig.tiny(), module_counts=(8,), control_modules=(8,))
    with pytest.raises(ValueError, match="control_modules"):
        dataclasses.replace(experiments.SampleComplexityConfig.tiny(), control_modules=(3,))


def test_capacity_choice_is_the_lowest_mean_log_validation_loss():
    from modscale_lib.experiments.sample_complexity import choose_capacity

    cfg = experiments.CapacityConfig.tiny()
    module_val = np.ones((1, 1, 2, 1, 1, 1))
    module_val[0, 0, 1] = 0.5
    mlp_val = np.full((1, 1, 1, 1, 1), 0.3)
    chosen = choose_capacity({"module_val": module_val, "mlp_val": mlp_val}, cfg)
    assert chosen == {"module_depth": 1, "module_lr": 1e-2, "module_width": 8, "mlp_lr": 1e-2, "mlp_width": 8}


@pytest.mark.parametrize("name", ["cpu"])
def test_the_sweeps_networks_are_the_ones_the_validation_search_chose(name):
    # Each stored sweep's capacity fields must be its stored validation search's choice, not hand-picked values.
    from modscale_lib.experiments.sample_complexity import choose_capacity

    cap_cfg = experiments.sample_complexity_capacity.config(name)
    res = store.load_or_run(experiments.sample_complexity_capacity, cap_cfg, mode="read")
    sweep = experiments.sample_complexity_sweep.config(name)
    assert (sweep.task, sweep.module_dim) == (cap_cfg.task, cap_cfg.module_dim)
    for name, value in choose_capacity(res, cap_cfg).items():
        assert getattr(sweep, name) == value, name


def test_rule_flops_count_the_searches():
    from modscale_lib.experiments.sample_complexity import rule_flops

    cfg = experiments.SampleComplexityConfig.cpu()
    one = rule_flops(4096, 8, 1, cfg)
    assert rule_flops(4096, 8, 4, cfg) == pytest.approx(4 * one)
    assert rule_flops(64, 8, 1, cfg) < one  # minibatches never larger than n
    assert one > cfg.rule_steps * 2 * cfg.rule_batch**2 * 256


def test_a_killed_sample_complexity_sweep_resumes_to_the_same_result(tmp_path, monkeypatch):
    from modscale_lib.experiments import sample_complexity as chapter

    cfg = dataclasses.replace(experiments.SampleComplexityConfig.tiny(), m_grid=(2, 3), seeds=(0, 1))
    whole = experiments.sample_complexity_sweep(cfg)  # direct call: every cell, nothing stored
    real, calls = chapter._sweep_cell, []

    def dies_on_the_third(cfg_, K, m, seed):
        calls.append((m, seed))
        if len(calls) == 3:
            raise KeyboardInterrupt("killed")
        return real(cfg_, K, m, seed)

    monkeypatch.setattr(chapter, "_sweep_cell", dies_on_the_third)
    with pytest.raises(KeyboardInterrupt):
        store.load_or_run(experiments.sample_complexity_sweep, cfg, mode="missing", root=tmp_path, progress=False)
    monkeypatch.setattr(chapter, "_sweep_cell", lambda c, K, m, s: calls.append((m, s)) or real(c, K, m, s))
    resumed = store.load_or_run(experiments.sample_complexity_sweep, cfg, mode="missing", root=tmp_path, progress=False)
    assert len(calls) == 3 + 2  # the two stored cells were not recomputed
    for name in ("test_loss", "ood_loss", "rule_similarity", "var_test", "var_ood", "best_step"):
        np.testing.assert_array_equal(resumed[name], whole[name])


def test_the_monolithic_steps_study_reproduces_the_sweeps_monolithic_network_at_its_step():
    # The study repeats the sweep's monolithic networks (tasks, data, seeds) at several steps; at the sweep's own
    # step it must give the sweep's test losses, or the step comparison would compare different networks.
    base = experiments.SampleComplexityConfig.tiny()
    cfg = experiments.MonolithicStepsConfig(sweep="tiny", lrs=(base.mlp_lr, 1e-2))
    steps = experiments.monolithic_steps(cfg)
    sweep = experiments.sample_complexity_sweep(base)
    assert steps["test_loss"].shape == (1, 2, 1, 1, len(base.n_grid))
    np.testing.assert_allclose(steps["test_loss"][0, 0], sweep["test_loss"][0, 0], rtol=1e-5)
    with pytest.raises(ValueError, match="sweep"):
        experiments.MonolithicStepsConfig(sweep="bogus")
