"""The sine-wave task's contract: shapes, orthonormal projections, unit variance for every K, seeds, errors."""

import numpy as np
import pytest

from modscale_lib.tasks import SineWaveTask


@pytest.mark.parametrize("m,K,b", [(6, 2, 1), (9, 3, 3), (3, 5, 2), (1, 1, 1)])
def test_shapes_and_dtypes(m, K, b):
    task = SineWaveTask(m, K, module_dim=b, seed=1)
    X, y = task.sample(50, seed=0)
    assert X.shape == (50, m) and y.shape == (50,) and X.dtype == y.dtype == np.float32
    assert task.projections.shape == (K, m, b)
    assert task.module_outputs(X).shape == (50, K)
    Xo, yo = task.sample_ood(20, seed=0)
    assert Xo.shape == (20, m) and yo.shape == (20,)


@pytest.mark.parametrize("m,K,b", [(6, 2, 1), (9, 3, 3), (3, 5, 2)])
def test_projections_are_orthonormal(m, K, b):
    U = SineWaveTask(m, K, module_dim=b, seed=2).projections
    for k in range(K):
        np.testing.assert_allclose(U[k].T @ U[k], np.eye(b), atol=1e-12)
    if K * b <= m:  # then the modules are mutually orthogonal too
        stacked = U.transpose(1, 0, 2).reshape(m, K * b)
        np.testing.assert_allclose(stacked.T @ stacked, np.eye(K * b), atol=1e-12)


@pytest.mark.parametrize("K", [1, 2, 3, 5, 9])
def test_variance_is_one_for_every_number_of_modules(K):
    task = SineWaveTask(10, K, seed=K)
    _, y = task.sample(200_000, seed=1)
    assert abs(float(y.mean())) < 0.01
    assert float(y.var()) == pytest.approx(1.0, abs=0.015)
    modules = task.module_outputs(task.sample(200_000, seed=2)[0])
    np.testing.assert_allclose(modules.mean(axis=0), 0.0, atol=0.01)
    np.testing.assert_allclose(modules.var(axis=0), 1.0, atol=0.02)


def test_noise_adds_its_variance_and_target_matches_modules():
    task = SineWaveTask(5, 2, noise=0.5, seed=0)
    X, y = task.sample(100_000, seed=3)
    assert float(np.var(y - task.target(X))) == pytest.approx(0.25, rel=0.02)
    np.testing.assert_allclose(task.target(X), task.module_outputs(X).sum(axis=1) / np.sqrt(2), rtol=1e-5)


def test_one_module_is_the_illustrated_sum_of_sines():
    task = SineWaveTask(3, 1, seed=4)
    X, _ = task.sample(10, seed=0)
    t = X.astype(float) @ task.projections[0, :, 0]
    sign = np.sign(task.omegas[0, :, 0])
    raw = sum(a * np.sin(s * f * t + ph) for a, s, f, ph in zip((1.0, 0.5, 0.2), sign, (1, 3, 5), task.phases[0]))
    expected = (raw - task.module_means[0]) / task.module_stds[0]
    np.testing.assert_allclose(task.module_outputs(X)[:, 0], expected, rtol=1e-5, atol=1e-6)


def test_determinism_by_seed():
    a, b = SineWaveTask(6, 2, seed=3), SineWaveTask(6, 2, seed=3)
    np.testing.assert_array_equal(a.projections, b.projections)
    np.testing.assert_array_equal(a.sample(30, seed=5)[1], b.sample(30, seed=5)[1])
    assert not np.array_equal(a.sample(30, seed=5)[0], a.sample(30, seed=6)[0])
    assert not np.array_equal(a.projections, SineWaveTask(6, 2, seed=4).projections)
    assert not np.array_equal(a.sample(30, seed=5)[0], a.sample_ood(30, seed=5, input_std=1.0)[0])


def test_out_of_distribution_inputs_are_wider():
    task = SineWaveTask(4, 2, seed=0)
    Xo, _ = task.sample_ood(50_000, seed=0, input_std=3.0)
    assert float(Xo.std()) == pytest.approx(3.0, rel=0.02)


@pytest.mark.parametrize(
    "kwargs,match",
    [
        ({"input_dim": 2, "n_modules": 1, "module_dim": 3}, r"module_dim must be a whole number in \[1, 2\]"),
        ({"input_dim": 0, "n_modules": 1}, "input_dim must be a whole number >= 1"),
        ({"input_dim": 3, "n_modules": 0}, "n_modules must be a whole number >= 1"),
        ({"input_dim": 3, "n_modules": 1, "n_components": 0}, r"n_components must be a whole number in \[1, 3\]"),
        (
            {"input_dim": 3, "n_modules": 1, "n_components": 4},
            r"n_components must be a whole number in \[1, 3\], got 4",
        ),
        ({"input_dim": 3, "n_modules": 1, "noise": -0.1}, r"noise must be in \[0.0"),
        ({"input_dim": 3.5, "n_modules": 1}, "input_dim must be a whole number"),
    ],
)
def test_bad_parameters_are_named(kwargs, match):
    with pytest.raises(ValueError, match=match):
        SineWaveTask(**kwargs)


def test_bad_sampling_arguments():
    task = SineWaveTask(3, 1)
    with pytest.raises(ValueError, match="n must be a whole number"):
        task.sample(0, seed=0)
    with pytest.raises(ValueError, match="input_std must be"):
        task.sample_ood(5, seed=0, input_std=0.0)
    with pytest.raises(ValueError, match=r"X must have shape \(any, 3\)"):
        task.module_outputs(np.zeros((4, 2)))
