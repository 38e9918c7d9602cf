"""Tests of modscale_lib.peers: known answers, the common contract (shape, orthonormality, determinism) and
the checks on bad input.

Thresholds were set from measurements over data seeds 0-5 at n = 600, m = 8, noise 0.1 (the minimum over
seeds is in each test's comment) and leave a margin of at least 0.05 below that minimum; chance level for
the union overlap ``||U^T U_hat||_F^2 / k`` is ``k / m`` (0.125 or 0.25 here).
"""

import numpy as np
import pytest
import torch

from modscale_lib import peers

M, N = 8, 600


def overlap(true, found):
    return float(np.sum((true.T @ found) ** 2) / true.shape[1])


def make(f, k, seed=0, n=N, m=M, noise=0.1):
    rng = np.random.default_rng([seed, 16])
    U, _ = np.linalg.qr(rng.standard_normal((m, k)))
    X = rng.standard_normal((n, m))
    return X, f(X @ U) + noise * rng.standard_normal(n), U


def mixed(z):  # a periodic-ish direction and a symmetric one
    return np.sin(z[:, 0]) + z[:, 1] ** 2


def monotone2(z):  # two monotone directions: what SIR sees
    return z[:, 0] + z[:, 1] ** 3


def quadratic(z):  # curvature of both signs: what pHd sees
    return z[:, 0] ** 2 - z[:, 1] ** 2


# the simple case each method should solve, with the minimum overlap measured over data seeds 0-5
CASES = {
    "sir": (monotone2, 0.966),
    "save": (mixed, 0.951),
    "phd": (quadratic, 0.966),
    "gkdr": (mixed, 0.996),
    "ppr": (mixed, 1.000),
    "rfm": (mixed, 1.000),
    "egop": (mixed, 0.981),
}


def test_registry_lists_every_method():
    assert set(CASES) == set(peers.METHODS) == set(peers.LABELS)  # a new peer: its case here, its label there


@pytest.mark.parametrize("name", sorted(peers.METHODS))
def test_each_method_recovers_its_simple_case(name):
    f, measured_min = CASES[name]
    X, y, U = make(f, 2, seed=3)
    found = peers.METHODS[name](X, y, 2, seed=0)
    assert overlap(U, found) >= 0.9, (name, overlap(U, found), measured_min)


def test_sir_monotone_single_index():
    X, y, U = make(lambda z: z[:, 0] + 0.5 * z[:, 0] ** 3, 1)  # measured min 0.999
    assert overlap(U, peers.sir(X, y, 1)) >= 0.97


def test_phd_quadratic():
    X, y, U = make(lambda z: z[:, 0] ** 2 + 0.5 * z[:, 1] ** 2, 2, seed=1)
    assert overlap(U, peers.phd(X, y, 2)) >= 0.9


def test_save_symmetric_where_sir_fails():
    X, y, U = make(lambda z: np.abs(z[:, 0]), 1, seed=2)  # SAVE measured min 0.970; SIR mean 0.06
    assert overlap(U, peers.save(X, y, 1)) >= 0.9
    assert overlap(U, peers.sir(X, y, 1)) < 0.4  # E[z | y] does not move along u


def test_active_subspace_is_exact_with_true_gradients():
    rng = np.random.default_rng(0)
    U, _ = np.linalg.qr(rng.standard_normal((M, 2)))
    Z = rng.standard_normal((50, 2))
    grads = np.cos(Z[:, :1]) * U[:, 0] + 2 * Z[:, 1:] * U[:, 1]  # gradient of sin(z1) + z2^2
    found = peers.active_subspace(grads, 2)
    assert found.shape == (M, 2)
    assert overlap(U, found) == pytest.approx(1.0, abs=1e-10)
    with pytest.raises(ValueError, match="all zero"):
        peers.active_subspace(np.zeros((5, 3)), 1)
    with pytest.raises(ValueError, match="n_directions"):
        peers.active_subspace(grads, M + 1)


@pytest.mark.parametrize("name", sorted(peers.METHODS))
def test_shape_orthonormality_determinism(name):
    X, y, _ = make(mixed, 2, n=120, m=6, seed=4)
    fn = peers.METHODS[name]
    first = fn(X, y, 3, seed=5)
    assert first.shape == (6, 3) and first.dtype == np.float64
    np.testing.assert_allclose(first.T @ first, np.eye(3), atol=1e-10)
    np.testing.assert_array_equal(first, fn(X, y, 3, seed=5))
    # torch tensors and float32 are accepted and give the same answer
    tensors = fn(torch.from_numpy(X), torch.from_numpy(y), 3, seed=5)
    np.testing.assert_allclose(tensors, first, atol=1e-12)


def test_seed_changes_seeded_methods():
    X, y, _ = make(mixed, 2, n=120, m=6)
    assert not np.allclose(peers.egop(X, y, 3, seed=0), peers.egop(X, y, 3, seed=1))


def test_egop_independent_of_thread_count():
    X, y, _ = make(mixed, 2, n=120, m=6)
    before = torch.get_num_threads()
    try:
        torch.set_num_threads(1)
        one = peers.egop(X, y, 2, seed=0)
        torch.set_num_threads(2)
        two = peers.egop(X, y, 2, seed=0)
        assert torch.get_num_threads() == 2  # restored after the call
    finally:
        torch.set_num_threads(before)
    np.testing.assert_allclose(one, two, atol=1e-6)


@pytest.mark.parametrize("name", sorted(peers.METHODS))
def test_bad_inputs(name):
    fn = peers.METHODS[name]
    X, y, _ = make(mixed, 2, n=40, m=4)
    bad = X.copy()
    bad[3, 1] = np.nan
    with pytest.raises(ValueError, match="X must be finite"):
        fn(bad, y, 1)
    with pytest.raises(ValueError, match="y must be finite"):
        fn(X, np.where(np.arange(40) == 0, np.inf, y), 1)
    with pytest.raises(ValueError, match="X must be 2-dimensional"):
        fn(X[:, 0], y, 1)
    with pytest.raises(ValueError, match="y must be 1-dimensional"):
        fn(X, y[:, None], 1)
    with pytest.raises(ValueError, match="one entry per row"):
        fn(X, y[:-1], 1)
    with pytest.raises(ValueError, match="at least"):
        fn(X[:7], y[:7], 1)
    with pytest.raises(ValueError, match="constant"):
        fn(X, np.ones(40), 1)
    singular = X.copy()
    singular[:, 2] = 1.0
    with pytest.raises(ValueError, match="singular"):
        fn(singular, y, 1)
    for value in (0, 5, 2.5, -1):
        with pytest.raises(ValueError, match="n_directions"):
            fn(X, y, value)
    for value in ("2", True, None):
        with pytest.raises(TypeError, match="n_directions"):
            fn(X, y, value)
    with pytest.raises(TypeError, match="X"):
        fn(np.array([["a"] * 4] * 40), y, 1)
    with pytest.raises(ValueError, match="seed"):
        fn(X, y, 1, seed=-1)
    assert fn(X, y, 2.0).shape == (4, 2)  # a whole float is taken as an int
