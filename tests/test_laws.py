"""modscale_lib.laws: the verdict power / exponential / flat on data with known answers, censoring and bounds,
the intervals against closed forms, the pipeline simulation, the theory's predictions, and bad input."""

import math

import numpy as np
import pytest
from scipy import stats

from modscale_lib import laws, tasks

M = np.array([4, 8, 16, 32, 64], dtype=float)


def _data(law, exponent, seed=0, n_seeds=10, sd=0.3):
    rng = np.random.default_rng(seed)
    base = np.log(200) + (exponent * np.log(M / 4) if law == "power" else exponent * (M - 4))
    return base + sd * rng.standard_normal((n_seeds, M.size))


# -- verdicts on data with known answers ---------------------------------------------------------------------------
@pytest.mark.parametrize("alpha", [0.8, 1.5, 2.5])
def test_power_truth_is_called_power_and_its_interval_covers_alpha(alpha):
    d = laws.decide_law(M, _data("power", alpha, seed=int(10 * alpha), sd=0.15))  # the test's power is ~1 here
    assert d["law"] == "power"
    assert d["alpha"]["low"] < alpha < d["alpha"]["high"]
    assert d["rejected"] == {"power": False, "exponential": True}
    assert d["favoured"]["power"]  # the power law predicts m = 64 better


@pytest.mark.parametrize("beta", [0.05, 0.1])
def test_exponential_truth_is_called_exponential(beta):
    d = laws.decide_law(M, _data("exponential", beta, seed=3, sd=0.15))
    assert d["law"] == "exponential"
    assert d["beta"]["low"] < beta < d["beta"]["high"]
    assert d["slope_change"]["low"] > 0 and d["rate_change"]["low"] < 0 < d["rate_change"]["high"]
    assert d["favoured"]["exponential"]


def test_flat_truth_is_flat_and_a_slow_power_is_not():
    assert laws.decide_law(M, _data("power", 0.0, seed=5))["law"] == "flat"
    d = laws.decide_law(M, _data("power", 0.0, seed=5, n_seeds=3, sd=2.0))  # too noisy to exclude alpha = 1
    assert d["law"] != "flat" and d["alpha"]["high"] >= 1


def test_a_law_that_is_neither_is_not_called_either():
    # n* = 200 + 5 (m - 4) is nearly linear in m in semi-log coordinates; its log-log slope rises and its
    # semi-log slope falls, and the held-out prediction sides with neither strongly enough
    Y = np.log(200 + 5 * (M - 4)) + 0.02 * np.random.default_rng(3).standard_normal((10, M.size))
    d = laws.decide_law(M, Y)
    assert d["rejected"]["power"] and d["law"] == "undecided"
    assert d["favoured"] == {"power": False, "exponential": False} or d["rejected"]["exponential"]


def test_noise_free_power_law_gives_the_exact_exponent():
    Y = np.log(50) + 1.7 * np.log(M)[None, :].repeat(4, axis=0)
    r = laws.fit_law(M, Y, law="power")
    assert r["exponent"]["estimate"] == pytest.approx(1.7)
    assert r["intercept"]["estimate"] == pytest.approx(np.log(50))
    assert r["exponent"]["high"] - r["exponent"]["low"] == pytest.approx(0.0, abs=1e-9)


def test_slope_change_estimates_the_change_of_the_log_log_slope():
    # log n* = a + c (log m)^2 has log-log slope 2 c log m: the change from 4 to 64 is 2 c log 16
    Y = 3.0 + 0.2 * np.log(M)[None, :] ** 2 + np.zeros((3, 1))
    d = laws.decide_law(M, Y)
    assert d["slope_change"]["estimate"] == pytest.approx(2 * 0.2 * np.log(16))


# -- intervals ---------------------------------------------------------------------------------------------------
def test_mean_ci_is_students_interval():
    v = np.array([0.3, -0.2, 1.1, 0.4, 0.9])
    lo, hi = stats.t.interval(0.95, v.size - 1, loc=v.mean(), scale=stats.sem(v))
    assert laws.mean_ci(v) == pytest.approx((v.mean(), lo, hi))


def test_slope_ci_is_students_interval_on_the_seeds_slopes():
    x = np.array([2.0, 3, 5, 9])
    v = np.random.default_rng(1).standard_normal((6, 4)) + 0.3 * x
    slopes = np.array([np.polyfit(x, row, 1)[0] for row in v])
    lo, hi = stats.t.interval(0.9, 5, loc=slopes.mean(), scale=stats.sem(slopes))
    assert laws.slope_ci(x, v, confidence=0.9) == pytest.approx((slopes.mean(), lo, hi))


def test_without_censoring_the_exponent_interval_is_students_on_per_seed_fits():
    Y = _data("power", 1.2, seed=9, n_seeds=7)
    per_seed = np.array([np.polyfit(np.log(M), row, 1)[0] for row in Y])
    lo, hi = stats.t.interval(0.95, 6, loc=per_seed.mean(), scale=stats.sem(per_seed))
    a = laws.fit_law(M, Y)["exponent"]
    assert (a["estimate"], a["low"], a["high"]) == pytest.approx((per_seed.mean(), lo, hi))


def test_percentile_interval_is_narrower_than_the_jackknife_t_with_five_seeds():
    Y = _data("power", 1.0, seed=2, n_seeds=5)
    t = laws.fit_law(M, Y)["exponent"]
    p = laws.fit_law(M, Y, interval="percentile", n_resamples=2000)["exponent"]
    assert p["high"] - p["low"] < t["high"] - t["low"]


# -- censoring ---------------------------------------------------------------------------------------------------
def test_censored_likelihood_recovers_the_exponent_when_a_few_entries_are_censored():
    Y = _data("exponential", 0.08, seed=4)
    top = np.quantile(Y[:, -1], 0.75)
    C = np.where(Y > top, laws.ABOVE, laws.MEASURED)
    assert 0 < C.sum() < Y.shape[0] / 2
    full = laws.fit_law(M, Y, law="exponential")["exponent"]
    cens = laws.fit_law(M, np.minimum(Y, top), C, law="exponential")["exponent"]
    assert cens["fit"] == "censored likelihood" and cens["bound"] == ""
    assert cens["estimate"] == pytest.approx(full["estimate"], abs=2 * full["se"])
    naive = laws.fit_law(M, np.minimum(Y, top), law="exponential")["exponent"]["estimate"]
    assert abs(cens["estimate"] - full["estimate"]) < abs(naive - full["estimate"])


def test_medians_censored_above_at_the_largest_m_make_the_exponent_a_lower_bound():
    Y = _data("power", 2.0, seed=6)
    top = np.log(200) + 2.0 * np.log(8)  # below the truth at m = 32 and 64
    C = np.where(Y > top, laws.ABOVE, laws.MEASURED)
    d = laws.decide_law(M, np.minimum(Y, top), C)
    a = d["alpha"]
    assert a["bound"] == "lower" and a["high"] == math.inf and a["fit"] == "bound"
    assert a["estimate"] < 2.0 and a["low"] < 2.0
    assert d["law"] == "undecided"


def test_codes_may_be_given_by_name():
    Y = _data("exponential", 0.08, seed=4)
    top = np.quantile(Y[:, -1], 0.75)
    names = np.where(Y > top, "above", "measured")
    ints = np.where(Y > top, laws.ABOVE, laws.MEASURED)
    a = laws.fit_law(M, np.minimum(Y, top), names, law="exponential")["exponent"]
    b = laws.fit_law(M, np.minimum(Y, top), ints, law="exponential")["exponent"]
    assert a == b
    with pytest.raises(ValueError, match="codes"):
        laws.fit_law(M, Y, np.full(Y.shape, "maybe"))


def test_medians_censored_below_at_the_smallest_m_also_bound_the_exponent_from_below():
    Y = _data("power", 1.0, seed=7)
    floor = np.log(200) + 1.0 * np.log(2.5)  # above the truth at m = 4 and 8
    C = np.where(Y < floor, laws.BELOW, laws.MEASURED)
    assert laws.fit_law(M, np.maximum(Y, floor), C)["exponent"]["bound"] == "lower"


def test_codes_from_labels_reads_the_growth_module_convention():
    n = np.array([[100.0, np.inf, 64.0], [120.0, 300.0, np.nan]])
    lab = np.array([["", "above", "below"], ["", "", ""]], dtype=object)
    y, c = laws.codes_from_labels(n, lab, n_max=4096)
    assert c.tolist() == [[0, 1, 2], [0, 0, 3]]
    assert y[0, 1] == pytest.approx(np.log(4096)) and np.isnan(y[1, 2])


# -- the pipeline and its coverage ---------------------------------------------------------------------------------
def test_noise_free_pipeline_recovers_the_law_exactly():
    scatter = {"seed_sd": 0.0, "point_sd": 0.0}
    for law, e in (("power", 1.3), ("exponential", 0.07)):
        Y, C, truth = laws.simulate_n_star(law, e, scatter=scatter, n_seeds=3)
        assert np.all(C == laws.MEASURED)
        np.testing.assert_allclose(Y[0], np.broadcast_to(truth, (3, 5)), atol=1e-9)


def test_pipeline_censors_at_the_grid_ends_and_is_deterministic():
    Y, C, _ = laws.simulate_n_star("exponential", 0.2, n_min=64, n_max=2**12, n_reps=2, seed=3)
    assert np.any(C == laws.ABOVE) and np.all(Y[C == laws.ABOVE] == pytest.approx(np.log(64 * np.sqrt(2) ** 12)))
    Y2, C2, _ = laws.simulate_n_star("exponential", 0.2, n_min=64, n_max=2**12, n_reps=2, seed=3)
    assert np.array_equal(Y, Y2) and np.array_equal(C, C2)
    _, C3, _ = laws.simulate_n_star("power", 0.0, n_ref=10, n_min=64)
    assert np.all(C3 == laws.BELOW)


def test_coverage_of_the_jackknife_t_holds_its_level_and_the_verdict_its_error_rate():
    r = laws.coverage(n_reps=150, intervals=("jackknife_t",))
    cov = r["coverage"]["jackknife_t"]
    assert all(v >= 0.9 for truth in cov.values() for v in truth.values())
    err = r["errors"]["jackknife_t"]
    assert err["power_as_exponential"] <= 0.05 and err["exponential_as_power"] <= 0.05
    assert min(r["power"]["jackknife_t"].values()) > 0.8


def test_curve_scatter_measures_what_the_simulation_puts_in():
    rng = np.random.default_rng(0)
    grid = 32 * np.sqrt(2) ** np.arange(16)
    centre = np.log(500) + 0.5 * rng.standard_normal((6, 12))  # (M, S)
    curves = -3.0 * (np.log(grid) - centre[..., None]) + 0.05 * rng.standard_normal((6, 12, grid.size))
    s = laws.curve_scatter(grid, np.exp(curves), 1.0)
    assert s["seed_sd"] == pytest.approx(0.5, rel=0.25)
    assert s["curve_slope"] == pytest.approx(3.0, rel=0.1)
    assert s["point_sd"] == pytest.approx(0.05, rel=0.3)


# -- the theory's predictions --------------------------------------------------------------------------------------
def test_hermite_energies_of_a_sine_match_the_closed_form():
    w, phi = 2.0, 0.7
    e = laws.degree_energies(laws.hermite_coefficients(lambda z: np.sin(w * z[:, 0] + phi), 1, max_degree=25))
    j = np.arange(26)
    closed = (
        np.array([w ** (2 * k) * np.exp(-(w**2)) / math.factorial(k) for k in j]) * np.sin(phi + j * np.pi / 2) ** 2
    )
    np.testing.assert_allclose(e, closed, atol=1e-12)


def test_information_exponent_leap_and_effective_degree_of_hermite_links():
    for k in (1, 2, 3):
        he = np.polynomial.hermite_e.HermiteE.basis(k)
        f = lambda z, he=he, k=k: he(z[:, 0]) / math.sqrt(math.factorial(k))  # noqa: E731
        e = laws.degree_energies(laws.hermite_coefficients(f, 1, max_degree=8))
        assert laws.information_exponent(e) == k and laws.leap(f, 1, max_degree=8) == k
        assert laws.effective_degree(e, 0.01) == k
    # two coordinates: u1 then u2 through a cross term (leap 1); u2 only through He_3 (leap 3)
    assert laws.leap(lambda z: z[:, 0] + z[:, 0] * z[:, 1], 2, max_degree=6) == 1
    assert laws.leap(lambda z: z[:, 0] + (z[:, 1] ** 3 - 3 * z[:, 1]) / 3, 2, max_degree=6) == 3


def test_the_sine_tasks_modules_have_information_exponent_one():
    task = tasks.make_task("sine", 2, 2, 1, seed=0)
    e = laws.degree_energies(laws.hermite_coefficients(laws.task_module(task, 0), 1, max_degree=50))
    assert e[1:].sum() == pytest.approx(1.0, abs=1e-4)  # standardised: all the variance
    assert laws.information_exponent(e) == 1
    assert laws.effective_degree(e, 0.01) > laws.effective_degree(e, 0.1) > 1


def test_prediction_table_places_each_regime():
    p = laws.predictions(0.1, n_draws=2)
    rows = {(t, r): i for i, (t, r) in enumerate(zip(p["task"], p["regime"]))}
    for k in (1, 2, 3):
        assert p["exponent"][rows[f"He_{k}", "kernels and random features"]] == k
        assert p["exponent"][rows[f"He_{k}", "online gradient training"]] == max(1, k - 1)
        assert p["exponent over the range"][rows[f"He_{k}", "kernels and random features"]] < k
    assert all(p["law"][i] == "flat" for (t, r), i in rows.items() if r == "frozen oracle")
    assert all(p["law"][i] == "exponential" for (t, r), i in rows.items() if r.startswith("linear"))
    assert p["exponent"][rows["sine", "kernels and random features"]] > 3
    assert set(p["citation"]) - {""} <= set(laws.REGIMES.values())
    assert laws.monomial_exponent([1000, 2000, 4000], 3) == pytest.approx(3, rel=0.01)


# -- bad input -----------------------------------------------------------------------------------------------------
GOOD = _data("power", 1.0)


@pytest.mark.parametrize("func", [laws.decide_law, laws.fit_law])
@pytest.mark.parametrize(
    "args, match",
    [
        ((np.full(5, 8.0), GOOD), "input_dims"),  # all-equal m
        ((M[:2], GOOD[:, :2]), "input_dims"),  # fewer than 3 m
        ((M[::-1], GOOD), "input_dims"),  # not increasing
        ((-M, GOOD), "input_dims"),  # negative m
        ((M, GOOD[:1]), "log_n_star"),  # one seed
        ((M, GOOD[:, :4]), "log_n_star"),  # wrong shape
        ((M, np.where(np.eye(10, 5, dtype=bool), np.nan, GOOD)), "log_n_star"),  # NaN
        ((M, -GOOD), "log_n_star"),  # n* < 1
        ((M, np.where(np.eye(10, 5, dtype=bool), np.inf, GOOD)), "log_n_star"),  # inf not marked censored
        ((M, GOOD, np.full((10, 4), 0)), "codes"),  # codes of the wrong shape
        ((M, GOOD, np.full((10, 5), 7)), "codes"),  # unknown code
        ((M, GOOD, np.full((10, 5), 3)), "log_n_star"),  # everything missing
    ],
)
def test_bad_input_is_refused_naming_the_parameter(func, args, match):
    with pytest.raises((ValueError, TypeError), match=match):
        func(*args)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"confidence": 1.0}, "confidence"),
        ({"resolution": 1.0}, "resolution"),
        ({"interval": "bca"}, "interval"),
        ({"flat_margin": 0}, "flat_margin"),
    ],
)
def test_bad_options_are_refused(kwargs, match):
    with pytest.raises(ValueError, match=match):
        laws.decide_law(M, GOOD, **kwargs)


def test_other_public_functions_refuse_bad_input():
    with pytest.raises(ValueError, match="values"):
        laws.mean_ci([1.0])
    with pytest.raises(ValueError, match="values"):
        laws.mean_ci([1.0, np.nan])
    with pytest.raises(ValueError, match="x"):
        laws.slope_ci([1.0, 1.0], [[1.0, 2.0], [2.0, 3.0]])
    with pytest.raises(ValueError, match="values"):
        laws.slope_ci([1.0, 2.0], [[1.0, 2.0]])
    with pytest.raises(ValueError, match="law"):
        laws.simulate_n_star("linear", 1.0)
    with pytest.raises(ValueError, match="exponent"):
        laws.simulate_n_star("affine", -0.5)
    with pytest.raises(ValueError, match="input_dims"):
        laws.simulate_n_star("power", 1.0, input_dims=(4, 8))
    with pytest.raises(ValueError, match="n_seeds"):
        laws.simulate_n_star("power", 1.0, n_seeds=1)
    with pytest.raises(ValueError, match="seed_sd"):
        laws.simulate_n_star("power", 1.0, scatter={"seed_sd": -1})
    with pytest.raises(ValueError, match="n_reps"):
        laws.coverage(n_reps=0)
    with pytest.raises(ValueError, match="truths"):
        laws.coverage(truths={"x": ("cubic", 1.0)})
    with pytest.raises(ValueError, match="losses"):
        laws.curve_scatter([1.0, 2.0, 4.0], np.ones((2, 3)), 0.1)
    with pytest.raises(ValueError, match="target"):
        laws.predictions(target=0.0)
    with pytest.raises(TypeError, match="module"):
        laws.hermite_coefficients("sin")
    with pytest.raises(ValueError, match="energies"):
        laws.information_exponent([1.0, 0.0, 0.0])
    with pytest.raises(ValueError, match="max_degree"):
        laws.effective_degree([0.0, 0.5, 0.5], 0.01)
    with pytest.raises(ValueError, match="degree"):
        laws.monomial_exponent([4, 8], -1)
    with pytest.raises(ValueError, match="input_dims"):
        laws.monomial_exponent([8, 8, 8], 2)
    with pytest.raises(TypeError, match="task"):
        laws.task_module("sine")
    with pytest.raises(ValueError, match="censored"):
        laws.codes_from_labels([[1.0, 2.0]], [["", "maybe"]], 10)


def test_the_default_scatter_is_the_stored_sweeps_or_more_pessimistic():
    from pathlib import Path

    from modscale_lib import store

    measured = []
    for path in sorted((Path(__file__).resolve().parent.parent / "results" / "sample_complexity_sweep").glob("*.json")):
        r = store.read(path)
        rel = (np.asarray(r["test_loss"]) / np.asarray(r["var_test"])[:, None, :, :, None])[:, :4]  # main methods
        measured += [laws.curve_scatter(r.config["n_grid"], rel, t) for t in (0.3, 0.1, 0.03)]
    assert len(measured) >= 3  # one stored sweep, three targets
    col = {k: np.array([s[k] for s in measured]) for k in laws.SCATTER}
    assert laws.SCATTER["seed_sd"] >= np.median(col["seed_sd"])  # more scatter than typical
    assert laws.SCATTER["curve_slope"] <= np.median(col["curve_slope"])  # shallower curves: noisier n*
    assert laws.SCATTER["point_sd"] >= col["point_sd"].max()  # noisier points than any measured
    assert col["seed_share"].min() <= laws.SCATTER["seed_share"] <= col["seed_share"].max()
