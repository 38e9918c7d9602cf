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


@pytest.mark.parametrize(
    "kwargs,name",
    [
        ({"N": 0, "p": 3}, "N"),
        ({"N": 3, "p": -1}, "p"),
        ({"N": 2.5, "p": 3}, "N"),
        ({"N": np.nan, "p": 3}, "N"),
        ({"N": [], "p": 3}, "N"),
    ],
)
def test_pinv_moment_rejects_bad_input(kwargs, name):
    with pytest.raises(ValueError, match=f"^{name} must"):
        theory.pinv_frobenius_moment(**kwargs)


def test_simulation_rejects_bad_input():
    with pytest.raises(ValueError, match="trials must be a whole number >= 2"):
        theory.simulate_pinv_frobenius_moment(10, 3, trials=1)
    with pytest.raises(ValueError, match="^p must"):
        theory.simulate_pinv_frobenius_moment(10, 0)


# --- expected losses against Monte Carlo --------------------------------------------------------------
SPECTRUM = theory.power_law_spectrum(50, input_dim=2, alpha=1.0)
GRID = [
    (n, p, d) for d in (1, 2, 3) for p in (10, 40) for n in (4, 12, 30, 60) if abs(d * n - p) >= max(5, 0.3 * p)
]  # away from the interpolation peak d*n = p


def test_grid_covers_both_regimes_and_all_d():
    assert {d for _, _, d in GRID} == {1, 2, 3}
    assert any(d * n > p + 1 for n, p, d in GRID) and any(p > d * n + 1 for n, p, d in GRID)


@pytest.mark.parametrize("n,p,d", GRID)
def test_expected_losses_match_simulation(n, p, d):
    train, test = theory.expected_losses(n, p, SPECTRUM, d=d, noise=0.05)
    sim = theory.simulate_losses(n, p, SPECTRUM, d=d, noise=0.05, trials=3000, seed=n + 100 * p + d)
    assert abs(sim.test - test) / test < 0.03
    assert abs(sim.train - train) <= 0.03 * train + 1e-9


def test_expected_losses_broadcast_fast_and_regimes():
    import time

    lam = theory.power_law_spectrum(200, 3)
    n, p = np.arange(1, 201)[:, None], np.arange(1, 200)[None, :]
    start = time.perf_counter()
    train, test = theory.expected_losses(n, p, lam, d=2)
    assert time.perf_counter() - start < 0.05
    assert train.shape == test.shape == (200, 199)
    assert np.all(np.isinf(test) == (np.abs(2 * n - p) <= 1))
    assert np.all(train[2 * n <= p] == 0) and np.all(train[2 * n > p] > 0)
    # infinitely many samples: the loss is the missing variance, summed over outputs
    _, far = theory.expected_losses(10**7, 50, lam, d=2)
    np.testing.assert_allclose(far, 2 * lam[50:].sum(), rtol=1e-4)


def test_nothing_missing_and_no_noise_is_exact_at_the_peak():
    lam = np.array([1.0, 0.5, 0.25])
    train, test = theory.expected_losses([2, 3, 4, 9], 3, lam)
    np.testing.assert_allclose(test, [1.75 * (1 - 2 / 3), 0.0, 0.0, 0.0])
    np.testing.assert_allclose(train, 0.0)


def test_label_noise_acts_like_missing_features():
    lam = np.array([3.0, 2.0, 1.0, 0.5])
    with_tail = theory.expected_losses(40, 3, lam)
    as_noise = theory.expected_losses(40, 3, lam[:3], noise=0.5)
    np.testing.assert_allclose(with_tail, as_noise)


@pytest.mark.parametrize(
    "kwargs,match",
    [
        ({"n": 0}, "^n must"),
        ({"p": 0}, "^p must"),
        ({"d": 0}, "^d must"),
        ({"noise": -0.1}, "^noise must"),
        ({"spectrum": [1.0, -0.5, 0.1]}, "non-negative"),
        ({"spectrum": [0.1, 0.5, 1.0]}, "descending"),
        ({"p": 5, "spectrum": [1.0, 0.5]}, "too short"),
        ({"spectrum": np.ones((2, 2))}, "1-dimensional"),
    ],
)
def test_expected_losses_reject_bad_input(kwargs, match):
    args = {"n": 10, "p": 2, "spectrum": [1.0, 0.5, 0.1]} | kwargs
    with pytest.raises(ValueError, match=match):
        theory.expected_losses(**args)


# --- spectra --------------------------------------------------------------------------------------------
def test_spectra_shapes_tails_and_validation():
    lam = theory.power_law_spectrum(1000, input_dim=4, alpha=2.0, c=3.0)
    assert lam.shape == (1000,) and np.all(np.diff(lam) <= 0)
    tail = theory.power_law_tail(10, 0.5, 3.0) - theory.power_law_tail(1000, 0.5, 3.0)
    np.testing.assert_allclose(lam[10:].sum(), tail)
    geo = theory.geometric_spectrum(10, input_dim=3, omega=2.0)
    np.testing.assert_allclose(geo, theory.telescoping_spectrum(10, 2.0**-3))
    mod = theory.modular_spectrum(np.array([0.5, 0.3, 0.2]), 4)
    assert mod.shape == (12,) and np.isclose(mod.sum(), 1.0) and np.all(np.diff(mod) <= 0)
    with pytest.raises(ValueError, match=r"input_dim"):
        theory.power_law_spectrum(10, 0)
    with pytest.raises(ValueError, match="omega must be > 1"):
        theory.geometric_spectrum(10, 3, omega=1.0)
    with pytest.raises(ValueError, match="n_modules must be a whole number >= 1"):
        theory.modular_spectrum([1.0], 0)


# --- sample complexity ----------------------------------------------------------------------------------
def _brute_force_n_star(target, p, a, d=1, noise=0.0, n_max=200_000):
    n = np.arange(1, n_max + 1)
    tail = theory.power_law_tail(p, a)
    _, test = theory.losses_from_traces(d * n, p, 1.0 - tail, tail, d=d, noise=noise)
    hits = np.flatnonzero(test <= target)
    return float(n[hits[0]]) if hits.size else np.inf


@pytest.mark.parametrize(
    "target,p,m,d,noise",
    [
        (0.6, 30, 2, 1, 0.0),
        (0.6, 3000, 2, 1, 0.0),
        (0.8, 100, 3, 2, 0.1),
        (1.5, 400, 4, 3, 0.05),
        (0.9, 5, 6, 1, 0.0),
        (0.95, 2000, 8, 1, 0.0),
    ],
)
def test_sample_complexity_at_fixed_p_matches_brute_force(target, p, m, d, noise):
    n_star = theory.sample_complexity(target, m, p=p, d=d, noise=noise)
    assert float(n_star) == _brute_force_n_star(target, p, 1.0 / m, d=d, noise=noise)


def test_best_p_is_the_minimum_over_p_and_grows_with_m():
    m = np.arange(2, 10)
    n_star, p_best = theory.sample_complexity(0.6, m, return_p=True)
    assert np.all(np.diff(n_star) > 0)
    for i, mi in enumerate(m):
        with pytest.warns(RuntimeWarning, match="cannot be reached"):  # small p cannot reach 0.6 at all
            others = theory.sample_complexity(0.6, mi, p=np.unique(np.logspace(0, 6, 50).round()))
        assert n_star[i] <= others.min()
        assert n_star[i] == theory.sample_complexity(0.6, mi, p=int(p_best[i]))


def test_modular_sample_complexity_does_not_depend_on_m():
    m = np.arange(3, 17)
    modular = theory.sample_complexity(0.5, m, n_modules=3, module_dim=1)
    with pytest.raises(ValueError, match="n_modules \\* module_dim"):  # an impossible geometry
        theory.sample_complexity(0.3, 2, n_modules=2, module_dim=8)
    assert np.all(modular == modular[0])
    mono = theory.sample_complexity(0.5, m)
    assert np.all(mono[1:] > modular[1:])


def test_sample_complexity_is_vectorised_and_fast():
    import time

    start = time.perf_counter()
    out = theory.sample_complexity(np.array([0.9, 0.7, 0.5])[:, None], np.arange(2, 10)[None, :])
    assert time.perf_counter() - start < 1.0
    assert out.shape == (3, 8)
    assert np.all(np.diff(out, axis=0) > 0)  # a lower target needs more samples


def test_unreachable_target_is_inf_with_a_warning():
    with pytest.warns(RuntimeWarning, match="cannot be reached"):
        out = theory.sample_complexity(0.05, 2, noise=0.1)  # irreducible loss d*noise = 0.1
    assert np.isinf(out)
    with pytest.warns(RuntimeWarning):
        assert np.isinf(theory.sample_complexity(0.2, 2, p=3))  # below the tail at p = 3: (4)^(-1/2) = 0.5


@pytest.mark.parametrize(
    "kwargs,match",
    [
        ({"target": 0.0}, "^target must"),
        ({"target": -1.0}, "^target must"),
        ({"input_dim": 0}, r"^input_dim \(m\) must"),
        ({"input_dim": None}, "input_dim .* is required"),
        ({"exponent": "cubic"}, "^exponent must be"),
        ({"n_modules": 0}, "^n_modules must be"),
        ({"p": 0}, "^p must"),
        ({"d": 0}, "^d must"),
    ],
)
def test_sample_complexity_rejects_bad_input(kwargs, match):
    args = {"target": 0.5, "input_dim": 3} | kwargs
    with pytest.raises(ValueError, match=match):
        theory.sample_complexity(**args)


# --- mismatched projections -------------------------------------------------------------------------------
def test_random_projection_overlap_moments():
    np.testing.assert_allclose(theory.random_projection_overlap(5, [0, 1, 2, 3]), [1, 1 / 5, 3 / 35, 15 / 315])
    np.testing.assert_allclose(theory.random_projection_overlap(1, [1, 4]), [1.0, 1.0])
    rng = np.random.default_rng(0)
    w = rng.standard_normal((200_000, 7))
    cos2 = w[:, 0] ** 2 / np.sum(w**2, axis=1)  # against the first axis, for random directions in 7 dims
    for k in (1, 2, 3):
        assert np.mean(cos2**k) == pytest.approx(float(theory.random_projection_overlap(7, k)), rel=0.03)
    with pytest.raises(ValueError, match="^degree must"):
        theory.random_projection_overlap(3, 1.5)


@pytest.mark.parametrize("k,cos", [(1, 0.6), (2, -0.7), (3, 0.5)])
def test_hermite_overlap_is_a_power_of_the_cosine(k, cos):
    mean, se = theory.simulate_hermite_overlap(k, cos, n_samples=400_000, seed=k)
    assert abs(mean - cos**k) < 4 * se


def test_random_projection_traces_and_floor():
    m = np.arange(2, 12)
    seen, missing = theory.random_projection_traces(np.inf, m, 2)
    np.testing.assert_allclose(seen + missing, 1.0)
    assert np.all(np.diff(missing) > 0)  # the floor rises with m
    # K = m random orthonormal directions span the input: every linear component is captured
    seen_1, _ = theory.random_projection_traces(1, 3, 3)
    np.testing.assert_allclose(seen_1, 1.0 - 2.0**-1.0)  # lambda_1 = c*(1 - 1/2) with alpha = 1
    with pytest.raises(ValueError, match=r"input_dim \(m\) must be >= n_modules"):
        theory.random_projection_traces(5, 2, 3)
    with pytest.raises(ValueError, match="^q must be >= 0"):
        theory.random_projection_traces(-1, 4, 2)


def test_random_projections_lose_to_matched_ones():
    m = np.arange(2, 10)
    matched = theory.sample_complexity(0.8, m, n_modules=2)
    random = theory.random_projection_sample_complexity(0.8, m, 2, warn_unreachable=False)
    assert np.all(random >= matched)
    assert np.isinf(random[-1]) and np.isfinite(random[0])
    with pytest.warns(RuntimeWarning, match="cannot be reached"):
        theory.random_projection_sample_complexity(0.8, 9, 2)


# --- calibration to measured losses ------------------------------------------------------------------------
def test_power_law_losses_match_the_truncated_spectrum_plus_tail():
    m, alpha, P = 3, 1.5, 5000
    lam = theory.power_law_spectrum(P, m, alpha)
    rest = float(theory.power_law_tail(P, alpha / m))
    n, p = np.array([20, 200, 2000]), 100
    np.testing.assert_allclose(theory.power_law_losses(n, p, m, alpha), theory.expected_losses(n, p, lam, noise=rest))


def test_calibration_recovers_known_parameters():
    n = np.geomspace(50, 50_000, 12).round()
    m = np.array([3, 5, 7])[:, None]
    _, loss = theory.power_law_losses(n.astype(int), 1000, m, alpha=1.7, c=0.6)
    fit = theory.calibrate_power_law(n[None, :], 1000, m, loss)
    assert fit["alpha"] == pytest.approx(1.7, rel=0.03)
    assert fit["c"] == pytest.approx(0.6, rel=0.03) and "scale" not in fit  # its old name is gone
    assert fit["rmse_log10"] < 0.01
    assert fit["n_points"] < loss.size  # the points near n = p were left out
    with pytest.raises(ValueError, match="at least two"):
        theory.calibrate_power_law([1000], 1000, 3, [0.5])
