"""Learning-curve statistics: the monotone envelope, n* with censoring, growth per dimension with a CI."""

import numpy as np
import pytest

from modscale_lib import measure

N = np.array([100.0, 200.0, 400.0, 800.0, 1600.0])


def test_envelope_is_non_increasing_and_leaves_a_monotone_curve_alone():
    monotone = np.array([1.0, 0.5, 0.3, 0.2, 0.1])
    np.testing.assert_allclose(measure.monotone_envelope(N, monotone), monotone)
    bumpy = np.array([1.0, 0.09, 0.5, 0.5, 0.05])
    env = measure.monotone_envelope(N, bumpy)
    assert np.all(np.diff(env) <= 1e-12) and env[1] > 0.09  # the lone dip is averaged with what follows


def test_a_dip_that_comes_back_does_not_count_as_reaching_the_target():
    bumpy = np.array([1.0, 0.09, 0.5, 0.5, 0.05])
    assert measure.samples_to_reach(N, bumpy, 0.1) < 200  # the first crossing: fooled by the dip
    n_star, censored = measure.samples_needed_monotone(N, bumpy, 0.1)
    assert censored == "" and n_star > 800


def test_censoring_is_reported_on_both_sides():
    assert measure.samples_needed_monotone(N, np.full(5, 0.01), 0.1) == (100.0, "below")
    assert measure.samples_needed_monotone(N, np.full(5, 1.0), 0.1) == (float("inf"), "above")


def test_interpolation_is_linear_in_log_log():
    n_star, _ = measure.samples_needed_monotone(N, np.array([1.0, 0.4, 0.1, 0.05, 0.02]), 0.2)
    assert n_star == pytest.approx(np.exp(np.log(200) + np.log(0.4 / 0.2) / np.log(0.4 / 0.1) * np.log(2)))


def test_growth_ci_covers_the_true_growth_and_compares_methods():
    rng = np.random.default_rng(0)
    m = np.arange(2, 10)
    steep = 50 * 1.5**m * np.exp(0.1 * rng.standard_normal((8, m.size)))
    flat = 50 * 1.0**m * np.exp(0.1 * rng.standard_normal((8, m.size)))
    g, lo, hi = measure.growth_ci(m, steep)
    assert lo <= 1.5 <= hi and lo < g < hi
    g, lo, hi = measure.growth_ci(m, flat)
    assert lo <= 1.0 <= hi
    ratio, lo, hi = measure.growth_ci(m, steep, baseline=flat)
    assert lo > 1.2  # the interval says the steep one grows faster


def test_growth_ci_is_nan_when_a_dimension_is_never_reached():
    n_star = np.full((5, 3), 100.0)
    n_star[:, 2] = np.inf
    g, lo, hi = measure.growth_ci([2, 3, 4], n_star)
    assert np.isnan(g) and np.isnan(lo) and np.isnan(hi)


@pytest.mark.parametrize(
    "args,match",
    [
        ((N, [1.0, 0.5]), "losses must have one value"),
        (([200.0, 100.0], [1.0, 0.5]), "strictly increasing"),
        ((N, [1.0, 0.5, 0.3, -0.2, 0.1]), "losses"),
    ],
)
def test_bad_curves_are_named(args, match):
    with pytest.raises(ValueError, match=match):
        measure.monotone_envelope(*args)
