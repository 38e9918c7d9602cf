"""Closed forms of the linear model against independent simulation, and input validation."""
import numpy as np
import pytest

from modscale_lib import theory


@pytest.mark.parametrize("N,p", [(40, 10), (10, 40), (60, 30), (30, 60), (25, 5)])
def test_pinv_moment_matches_simulation(N, p):
    mean, sem = theory.simulate_pinv_frobenius_moment(N, p, trials=4000, seed=1)
    exact = float(theory.pinv_frobenius_moment(N, p))
    assert abs(mean - exact) < 4 * sem
    assert abs(mean - exact) / exact < 0.03


def test_pinv_moment_closed_form_values():
    np.testing.assert_allclose(theory.pinv_frobenius_moment([10, 3], [3, 10]), [3 / 6, 3 / 6])
    np.testing.assert_allclose(theory.pinv_frobenius_moment(100, 1), 1 / 98)


def test_pinv_moment_is_infinite_at_the_peak_and_broadcasts():
    N = np.arange(1, 12)[:, None]
    p = np.array([5, 6])[None, :]
    F = theory.pinv_frobenius_moment(N, p)
    assert F.shape == (11, 2)
    assert np.all(np.isinf(F) == (np.abs(N - p) <= 1))
    assert np.all(F[np.isfinite(F)] > 0)


@pytest.mark.parametrize("kwargs,name", [({"N": 0, "p": 3}, "N"), ({"N": 3, "p": -1}, "p"),
                                         ({"N": 2.5, "p": 3}, "N"), ({"N": np.nan, "p": 3}, "N"),
                                         ({"N": [], "p": 3}, "N")])
def test_pinv_moment_rejects_bad_input(kwargs, name):
    with pytest.raises(ValueError, match=f"^{name} must"):
        theory.pinv_frobenius_moment(**kwargs)


def test_simulation_rejects_bad_input():
    with pytest.raises(ValueError, match="trials must be >= 2"):
        theory.simulate_pinv_frobenius_moment(10, 3, trials=1)
    with pytest.raises(ValueError, match="^p must"):
        theory.simulate_pinv_frobenius_moment(10, 0)
