"""Random-feature ridge regression: the closed form against a direct solve, the dual against the primal, the
accumulated Gram matrix against a fresh one, and what the random offsets buy."""

import numpy as np
import pytest
import torch

from modscale_lib.networks import RIDGES, RandomFeatureRidge
from modscale_lib.tasks import make_task


def _data(m=6, n=600, kind="he2", seed=0):
    task = make_task(kind, m, 1, 1, seed=seed)
    return task.sample(n, seed=0), task.sample(200, seed=3), task.sample(300, seed=1)


def _direct(rf, X, y, n, lam, Xt, yt):
    phi = rf.features(X[:n]).double().numpy()
    scale = np.trace(phi.T @ phi) / (n * rf.n_features)
    theta = np.linalg.solve(phi.T @ phi / n + lam * scale * np.eye(rf.n_features), phi.T @ y[:n] / n)
    return float(np.mean((rf.features(Xt).double().numpy() @ theta - yt) ** 2))


@pytest.mark.parametrize("n", [40, 300])  # the dual (n <= p) and the primal (n > p) solve
def test_the_closed_form_matches_a_direct_ridge_solve(n):
    (X, y), (Xv, yv), (Xt, yt) = _data()
    rf = RandomFeatureRidge(6, 100, seed=1)
    out = rf.losses(X, y, n, Xv, yv, Xt, yt)
    lam = RIDGES[out["ridge_index"]]
    # the primal's Gram matrix sums float32 products of row blocks in float64: agreement to about 1e-4
    assert out["test_loss"] == pytest.approx(_direct(rf, X, y, n, lam, Xt, yt), rel=1e-3)
    assert out["val_loss"].shape == (len(RIDGES),) and out["val_loss"][out["ridge_index"]] == out["val_loss"].min()


def test_the_accumulated_gram_matrix_is_the_fresh_one_in_any_order():
    (X, y), (Xv, yv), (Xt, yt) = _data(n=3000)
    path = RandomFeatureRidge(6, 64, seed=2)
    along = [path.losses(X, y, n, Xv, yv, Xt, yt)["test_loss"] for n in (100, 900, 3000, 500)]
    fresh = [
        RandomFeatureRidge(6, 64, seed=2).losses(X, y, n, Xv, yv, Xt, yt)["test_loss"] for n in (100, 900, 3000, 500)
    ]
    np.testing.assert_allclose(along, fresh, rtol=1e-4)  # float32 row blocks split elsewhere


def test_more_samples_fit_a_degree_two_link_and_the_offsets_carry_odd_degrees():
    (X, y), (Xv, yv), (Xt, yt) = _data(m=4, n=4000, kind="he2")
    rf = RandomFeatureRidge(4, 512, seed=0)
    losses = [rf.losses(X, y, n, Xv, yv, Xt, yt)["test_loss"] for n in (16, 4000)]
    assert losses[1] < 0.05 and losses[1] < losses[0] / 5
    # He_3 needs odd-degree features: the offsets c give them (a ReLU of w.x alone has none above degree 1)
    (X, y), (Xv, yv), (Xt, yt) = _data(m=4, n=4000, kind="he3")
    assert RandomFeatureRidge(4, 512, seed=0).losses(X, y, 4000, Xv, yv, Xt, yt)["test_loss"] < 0.3
    no_offsets = RandomFeatureRidge(4, 512, seed=0)
    no_offsets.c = torch.zeros_like(no_offsets.c)
    assert no_offsets.losses(X, y, 4000, Xv, yv, Xt, yt)["test_loss"] > 0.8


def test_bad_input_is_refused_with_the_parameter_named():
    (X, y), (Xv, yv), (Xt, yt) = _data()
    with pytest.raises(ValueError, match="n"):
        RandomFeatureRidge(6, 10, seed=0).losses(X, y, len(X) + 1, Xv, yv, Xt, yt)
    with pytest.raises(ValueError, match="X"):
        RandomFeatureRidge(5, 10, seed=0).losses(X, y, 10, Xv, yv, Xt, yt)
    with pytest.raises(ValueError, match="ridges"):
        RandomFeatureRidge(6, 10, seed=0, ridges=(1.0, 0.1))
    with pytest.raises(ValueError, match="n_features"):
        RandomFeatureRidge(6, 0, seed=0)
