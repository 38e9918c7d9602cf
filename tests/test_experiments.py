"""Experiment configs validate their fields, and the sample-complexity sweep runs end to end at a tiny size."""
import dataclasses

import numpy as np
import pytest

from modscale_lib import experiments


def test_sample_complexity_rejects_an_unknown_method():
    with pytest.raises(ValueError, match="methods must be among"):
        dataclasses.replace(experiments.SampleComplexityConfig(), methods=("monolithic", "modular, magic rule"))


def test_sample_complexity_sweep_at_a_tiny_size():
    cfg = experiments.SampleComplexityConfig(m_grid=(3,), n_grid=(60, 120), seeds=(0,), steps=30, rule_steps=5,
                                             n_test=200)
    res = experiments.sample_complexity_sweep.func(cfg)
    assert res["test_loss"].shape == (6, 1, 1, 2) and np.all(np.isfinite(res["test_loss"]))
    assert res["ood_loss"].shape == (6, 1, 1, 2) and np.all(res["ood_loss"] > 0)
    assert res["rules"] == ["paper", "backfit", "spectral"]
    assert np.all((res["rule_similarity"] >= 0) & (res["rule_similarity"] <= 1 + 1e-9))


def test_modular_methods_in_one_ensemble_match_separate_runs():
    # The sweep trains the five modular methods as one ensemble; a method alone must give the same losses.
    base = dict(m_grid=(3,), n_grid=(60, 120), seeds=(1,), steps=30, rule_steps=5, n_test=200)
    together = experiments.sample_complexity_sweep.func(experiments.SampleComplexityConfig(**base))
    alone = experiments.sample_complexity_sweep.func(
        experiments.SampleComplexityConfig(**base, methods=("modular, oracle",)))
    np.testing.assert_allclose(alone["test_loss"][0], together["test_loss"][5], rtol=1e-4)
