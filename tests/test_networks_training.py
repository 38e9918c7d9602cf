"""Batched ensembles: parameter counts, independence from the ensemble, training equivalence, failure modes."""

import numpy as np
import pytest
import torch

from modscale_lib.networks import (
    MLPEnsemble,
    ModularEnsemble,
    TrainingDivergedError,
    evaluate,
    fit,
    mlp_param_count,
    random_projections,
)
from modscale_lib.tasks import SineWaveTask


@pytest.fixture(scope="module")
def data():
    task = SineWaveTask(4, 2, seed=0)
    return task, task.sample(400, seed=0), task.sample(300, seed=1)


def test_parameter_counts():
    assert mlp_param_count(4, 10, 1) == 4 * 10 + 10 + 10 + 1
    assert mlp_param_count(3, 5, 2, n_outputs=2) == (3 * 5 + 5) + (5 * 5 + 5) + (5 * 2 + 2)
    ens = MLPEnsemble(3, input_dim=4, width=16, depth=2, widths=[4, 8, 16])
    np.testing.assert_array_equal(ens.n_params(), [mlp_param_count(4, w, 2) for w in (4, 8, 16)])
    mod = ModularEnsemble(2, input_dim=6, n_modules=3, module_dim=2, width=5)
    np.testing.assert_array_equal(mod.n_params(), 3 * mlp_param_count(2, 5, 1) + 3 * 6 * 2)


def test_a_model_does_not_depend_on_its_ensemble():
    big = MLPEnsemble(4, input_dim=3, width=12, widths=[3, 12, 7, 12], seeds=[5, 6, 7, 8])
    alone = MLPEnsemble(1, input_dim=3, width=12, widths=[7], seeds=[7])
    x = torch.randn(10, 3)
    torch.testing.assert_close(big(x)[2], alone(x)[0])


def test_masked_units_are_inert():
    ens = MLPEnsemble(1, input_dim=3, width=12, widths=[4])
    narrow = MLPEnsemble(1, input_dim=3, width=4, widths=[4])
    with torch.no_grad():  # copy the narrow model's weights into the first units of the wide one
        ens.net.weights[0][:, :, :4] = narrow.net.weights[0]
        ens.net.biases[0][:, :, :4] = narrow.net.biases[0]
        ens.net.weights[1][:, :4, :] = narrow.net.weights[1]
        ens.net.biases[1][:] = narrow.net.biases[1]
    x = torch.randn(20, 3)
    torch.testing.assert_close(ens(x), narrow(x))


def test_batched_training_equals_one_model_at_a_time(data):
    _, (X, y), (Xv, yv) = data
    widths, seeds, n = [8, 16, 32], [0, 1, 2], [400, 150, 300]
    batched = MLPEnsemble(3, 4, 32, widths=widths, seeds=seeds)
    res = fit(batched, X, y, n_samples=n, steps=200, lr=3e-3, batch_size=64, progress=False)
    test = evaluate(batched, Xv, yv)
    for e in range(3):
        single = MLPEnsemble(1, 4, 32, widths=[widths[e]], seeds=[seeds[e]])
        one = fit(single, X, y, n_samples=[n[e]], steps=200, lr=3e-3, batch_size=64, progress=False)
        assert one.train_loss[0] == pytest.approx(res.train_loss[e], rel=1e-4)
        assert evaluate(single, Xv, yv)[0] == pytest.approx(test[e], rel=1e-4)


def test_modular_batched_training_equals_one_model_at_a_time(data):
    task, (X, y), _ = data
    batched = ModularEnsemble(2, 4, 2, 1, width=8, seeds=[3, 4])
    res = fit(batched, X, y, steps=100, lr=3e-3, batch_size=None, progress=False)
    for e, seed in enumerate((3, 4)):
        single = ModularEnsemble(1, 4, 2, 1, width=8, seeds=[seed])
        one = fit(single, X, y, steps=100, lr=3e-3, batch_size=None, progress=False)
        assert one.train_loss[0] == pytest.approx(res.train_loss[e], rel=1e-4)


def test_training_lowers_the_loss_and_true_projections_help(data):
    task, (X, y), (Xv, yv) = data
    before = evaluate(MLPEnsemble(2, 4, 64, seeds=[0, 1]), Xv, yv)
    mlp = MLPEnsemble(2, 4, 64, seeds=[0, 1])
    fit(mlp, X, y, steps=600, lr=3e-3, batch_size=128, progress=False)
    assert np.all(evaluate(mlp, Xv, yv) < 0.8 * before)
    oracle = ModularEnsemble(2, 4, 2, 1, width=32, projections=task.projections, seeds=[0, 1])
    fit(oracle, X, y, steps=600, lr=3e-3, batch_size=128, progress=False)
    assert np.all(evaluate(oracle, Xv, yv) < evaluate(mlp, Xv, yv))


def test_early_stopping_keeps_the_best_weights(data):
    _, (X, y), (Xv, yv) = data
    mlp = MLPEnsemble(2, 4, 256, seeds=[0, 1])
    res = fit(
        mlp,
        X[:40],
        y[:40],
        X_val=Xv,
        y_val=yv,
        steps=3000,
        lr=1e-2,
        batch_size=None,
        patience=3,
        eval_every=50,
        progress=False,
    )
    assert res.history_steps[-1] < 3000  # stopped early: 40 samples are overfitted quickly
    np.testing.assert_allclose(evaluate(mlp, Xv, yv), res.val_loss, rtol=1e-5)
    assert np.all(res.val_loss <= res.history_val.min(axis=0) + 1e-7)


def test_divergence_is_reported_with_the_model_config(data):
    _, (X, y), _ = data
    mlp = MLPEnsemble(2, 4, 64, seeds=[0, 1])
    with pytest.raises(TrainingDivergedError, match=r"model \d \(\{'width': 64"):
        fit(
            mlp,
            X,
            1e3 * y,
            optimizer="sgd",
            lr=10.0,
            steps=200,
            eval_every=10,
            progress=False,
            model_configs=[{"width": 64, "seed": 0}, {"width": 64, "seed": 1}],
        )


def test_bad_arguments(data):
    _, (X, y), _ = data
    mlp = MLPEnsemble(2, 4, 8)
    with pytest.raises(ValueError, match="optimizer must be"):
        fit(mlp, X, y, optimizer="lbfgs", progress=False)
    with pytest.raises(ValueError, match="n_samples must hold 2 whole numbers in 1..400"):
        fit(mlp, X, y, n_samples=[10, 500], progress=False)
    with pytest.raises(ValueError, match=r"X must have shape \(n, 4\)"):
        fit(mlp, X[:, :3], y, progress=False)
    with pytest.raises(ValueError, match="contains NaN"):
        fit(mlp, np.where(np.arange(4) == 0, np.nan, X), y, progress=False)
    with pytest.raises(ValueError, match="patience .* needs validation data"):
        fit(mlp, X, y, patience=3, progress=False)
    with pytest.raises(ValueError, match="module_dim must be <= input_dim"):
        ModularEnsemble(1, 3, 2, module_dim=4)
    with pytest.raises(ValueError, match="widths must lie in 1..width"):
        MLPEnsemble(2, 3, 8, widths=[4, 9])
    with pytest.raises(ValueError, match="projections must have shape"):
        ModularEnsemble(2, 4, 2, 1, projections=np.zeros((3, 2, 4, 1)))


def test_random_projections_are_orthonormal_and_seeded():
    U = random_projections(3, 2, 6, 2, seeds=[1, 2, 3])
    eye = torch.einsum("ekmb,ekmc->ekbc", U, U)
    torch.testing.assert_close(eye, torch.eye(2).expand_as(eye), atol=1e-5, rtol=0)
    torch.testing.assert_close(U[1], random_projections(1, 2, 6, 2, seeds=[2])[0])
