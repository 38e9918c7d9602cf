"""Common checks over every registered experiment, in the spirit of scikit-learn's estimator checks: its named
configs build and validate, round-trip through JSON with a stable key, refuse bad values before computing,
and the experiment runs end to end at a tiny size. Plus the sample-complexity sweep's own invariants."""
import dataclasses
import json
import math

import numpy as np
import pytest

from modscale_lib import experiments, results

EXPERIMENTS = sorted(results.REGISTRY.values(), key=lambda e: e.name)
IDS = [e.name for e in EXPERIMENTS]


def test_every_chapter_module_registers_its_experiments():
    names = {e.name for e in EXPERIMENTS}
    assert {"pinv_moment", "linear_model_mc", "network_theory", "module_recovery", "rule_sensitivity",
            "projection_training", "sample_complexity_sweep", "objective_cost", "compositional_accuracy"} <= names
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
        stored = json.loads(json.dumps(results._plain(cfg)))
        again = exp.config_from_dict(stored)
        assert again == cfg
        assert results.result_key(exp.name, exp.version, again) == results.result_key(exp.name, exp.version, cfg)
    with pytest.raises((KeyError, ValueError)):
        exp.config("no_such_config")


@pytest.mark.parametrize("exp", EXPERIMENTS, ids=IDS)
def test_whole_numbers_given_as_floats_keep_the_key(exp):
    cfg = exp.config("cpu")
    key = results.result_key(exp.name, exp.version, cfg)
    ints = {f.name: float(getattr(cfg, f.name)) for f in dataclasses.fields(cfg)
            if type(getattr(cfg, f.name)) is int}
    assert ints, f"{exp.name}: expected some whole-number fields"
    floated = dataclasses.replace(cfg, **ints)
    assert results.result_key(exp.name, exp.version, floated) == key


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


@pytest.mark.parametrize("exp", EXPERIMENTS, ids=IDS)
def test_bad_config_values_are_refused_with_the_field_named(exp):
    cfg = exp.config("cpu")
    for f in dataclasses.fields(cfg):
        for bad in _bad_values(getattr(cfg, f.name)):
            if bad == -1 and f.name in ("batch_size",) and getattr(cfg, f.name) == 0:
                continue
            with pytest.raises((TypeError, ValueError), match=f.name):
                dataclasses.replace(cfg, **{f.name: bad})


@pytest.mark.parametrize("exp", [e for e in EXPERIMENTS if e.name != "compositional_accuracy"],
                         ids=[i for i in IDS if i != "compositional_accuracy"])
def test_runs_end_to_end_at_a_tiny_size(exp):
    out = exp(exp.config_type.tiny())
    assert isinstance(out, dict) and out
    for name, value in out.items():
        if isinstance(value, np.ndarray) and value.dtype.kind == "f":
            assert np.isfinite(value).any(), f"{exp.name}: output {name} is all NaN"


def test_sample_complexity_sweep_at_a_tiny_size():
    cfg = experiments.SampleComplexityConfig.tiny()
    res = experiments.sample_complexity_sweep(cfg)
    assert res["test_loss"].shape == (6, 1, 1, 2) and np.all(np.isfinite(res["test_loss"]))
    assert res["ood_loss"].shape == (6, 1, 1, 2) and np.all(res["ood_loss"] > 0)
    assert res["rules"] == ["paper", "backfit", "spectral"]
    assert np.all((res["rule_similarity"] >= 0) & (res["rule_similarity"] <= 1 + 1e-9))


def test_modular_methods_in_one_ensemble_match_separate_runs():
    # The sweep trains the five modular methods as one ensemble; a method alone must give the same losses.
    base = experiments.SampleComplexityConfig.tiny()
    together = experiments.sample_complexity_sweep(dataclasses.replace(base, seeds=(1,)))
    alone = experiments.sample_complexity_sweep(dataclasses.replace(base, seeds=(1,),
                                                                         methods=("modular, oracle",)))
    np.testing.assert_allclose(alone["test_loss"][0], together["test_loss"][5], rtol=1e-4)


def test_sample_complexity_refuses_more_modules_than_dimensions():
    with pytest.raises(ValueError, match="n_modules"):
        dataclasses.replace(experiments.SampleComplexityConfig.tiny(), n_modules=4)


def test_a_killed_sample_complexity_sweep_resumes_to_the_same_result(tmp_path, monkeypatch):
    from modscale_lib.experiments import sample_complexity as chapter

    cfg = dataclasses.replace(experiments.SampleComplexityConfig.tiny(), m_grid=(2, 3), seeds=(0, 1))
    whole = experiments.sample_complexity_sweep(cfg)           # direct call: every cell, nothing stored
    real, calls = chapter._sweep_cell, []

    def dies_on_the_third(cfg_, m, seed):
        calls.append((m, seed))
        if len(calls) == 3:
            raise KeyboardInterrupt("killed")
        return real(cfg_, m, seed)

    monkeypatch.setattr(chapter, "_sweep_cell", dies_on_the_third)
    with pytest.raises(KeyboardInterrupt):
        results.load_or_run(experiments.sample_complexity_sweep, cfg, mode="missing", root=tmp_path, progress=False)
    monkeypatch.setattr(chapter, "_sweep_cell", lambda c, m, s: calls.append((m, s)) or real(c, m, s))
    resumed = results.load_or_run(experiments.sample_complexity_sweep, cfg, mode="missing", root=tmp_path,
                                  progress=False)
    assert len(calls) == 3 + 2                                 # the two stored cells were not recomputed
    for name in ("test_loss", "ood_loss", "rule_similarity", "var_test", "var_ood"):
        np.testing.assert_array_equal(resumed[name], whole[name])
