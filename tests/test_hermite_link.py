"""The Hermite link tasks: y = sum_j He_k(u_j . x) / sqrt(K k!), Var(y) = 1 exactly, information exponent k."""

import math

import numpy as np
import pytest

from modscale_lib.tasks import LINK_KINDS, HermiteLinkTask, check_task_kind, link_degree, make_task


@pytest.mark.parametrize("k", [1, 2, 3])
@pytest.mark.parametrize("K", [1, 2])
def test_variance_is_one_and_the_link_is_the_hermite_polynomial(k, K):
    task = make_task(f"he{k}", 16, K, 1, seed=3)
    assert isinstance(task, HermiteLinkTask) and task.degree == k
    # exact moments of one standardised module by Gauss-Hermite quadrature (weight exp(-t^2/2))
    nodes, weights = np.polynomial.hermite_e.hermegauss(20)
    weights = weights / weights.sum()
    g = (task._raw(nodes[:, None, None].repeat(K, 1)) - task.module_means) / task.module_stds
    np.testing.assert_allclose(weights @ g, 0.0, atol=1e-12)
    np.testing.assert_allclose(weights @ g**2, 1.0, rtol=1e-12)
    X, y = task.sample(400_000, seed=1)
    assert abs(float(y.mean())) < 0.01
    assert float(y.var()) == pytest.approx(1.0, abs=0.01 * 4**k)  # He_k^2 has heavy tails for k = 3
    t = X.astype(float) @ task.projections[:, :, 0].T  # (n, K)
    he = {1: t, 2: t**2 - 1, 3: t**3 - 3 * t}[k]
    np.testing.assert_allclose(y[:50], he[:50].sum(axis=1) / math.sqrt(K * math.factorial(k)), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("k", [2, 3])
def test_information_exponent_is_the_degree(k):
    """He_k is orthogonal to every lower Hermite polynomial of the projection: no lower-degree signal."""
    task = make_task(f"he{k}", 8, 1, 1, seed=0)
    X, y = task.sample(400_000, seed=2)
    t = X.astype(float) @ task.projections[0, :, 0]
    for lower in [t] if k == 2 else [t, t**2 - 1]:
        assert abs(float(np.mean(y * lower))) < 0.02


def test_projections_orthonormal_and_samples_nested():
    task = make_task("he2", 10, 3, 1, seed=5)
    U = task.projections[:, :, 0]
    np.testing.assert_allclose(U @ U.T, np.eye(3), atol=1e-12)
    X, y = task.sample(100, seed=0)
    X2, y2 = task.sample(40, seed=0)
    np.testing.assert_array_equal(X[:40], X2)  # the first n rows of a larger pool are the smaller pool
    np.testing.assert_array_equal(y[:40], y2)
    assert not np.array_equal(task.sample(40, seed=1)[0], X2)


def test_bad_input_is_refused_with_the_parameter_named():
    with pytest.raises(ValueError, match="module_dim"):
        check_task_kind("he2", 2)
    with pytest.raises(ValueError, match="n_modules"):
        HermiteLinkTask(2, 3, 2)
    with pytest.raises(ValueError, match="degree"):
        HermiteLinkTask(4, 1, len(LINK_KINDS) + 1)
    assert link_degree("he3") == 3 and link_degree("sine") is None
