"""The helpers that chapters call to turn stored results into tables and figures (analysis, present.table)."""

import numpy as np
import pytest

from modscale_lib import analysis, present, theory


def test_recovery_summary_counts_collapse_and_success():
    found_both = np.array([[0.99, 0.01], [0.01, 0.98]])
    collapsed = np.array([[0.97, 0.96], [0.02, 0.03]])  # both starts on true module 1
    between = np.array([[0.5, 0.5], [0.5, 0.5]])
    sim = np.stack([found_both, collapsed, between])[None, None]  # (1, 1, 3 seeds, 2, 2)
    s = analysis.recovery_summary(sim)
    assert s["both_found"][0, 0].tolist() == [True, False, False]
    assert s["collapsed"][0, 0].tolist() == [False, True, False]
    assert s["none_found"][0, 0].tolist() == [False, False, True]


def test_modular_against_monolithic_matches_the_closed_forms():
    cols = analysis.modular_against_monolithic(np.array([200]), 50, (2, 9), 2, 1, n_eigenvalues=500)
    assert cols["m"] == [2, 9] and cols["n"] == [200, 200]
    # the modular network's loss does not depend on m; the monolithic one's grows with it
    assert cols["modular test"][0] == cols["modular test"][1]
    assert cols["monolithic test"][1] > cols["monolithic test"][0]
    spectrum = theory.power_law_spectrum(500, input_dim=9)
    rest = float(theory.power_law_tail(500, theory.exponent_inverse_dim(9)))
    assert cols["monolithic test"][1] == pytest.approx(float(theory.expected_losses(200, 50, spectrum, noise=rest)[1]))


def test_table_renders_escaped_html_with_formats():
    html = present.table(
        {"method": ["a<b"], "n*": [np.inf], "share": [0.25], "count": [1234]}, formats={"share": ".0%"}
    ).data
    assert "<th>method</th>" in html and "a&lt;b" in html and "not reached" in html
    assert "25%" in html and "1,234" in html


@pytest.mark.parametrize("bad,match", [({"a": [1], "b": [1, 2]}, "same length"), ({"a": [1]}, "formats")])
def test_table_refuses_ragged_columns_and_unknown_formats(bad, match):
    formats = {"zzz": ".1f"} if match == "formats" else None
    with pytest.raises(ValueError, match=match):
        present.table(bad, formats=formats)


from modscale_lib import growth  # noqa: E402


def test_samples_needed_curves_censor_both_ends_and_skip_unmeasured_points():
    n = np.array([10.0, 20.0, 40.0, 80.0])
    losses = np.array(
        [
            [1.0, 0.5, 0.25, 0.1],  # reaches 0.3 between 20 and 40
            [0.2, 0.1, 0.1, 0.1],  # already there
            [1.0, 1.0, 0.9, 0.8],  # never
            [1.0, np.nan, 0.25, np.nan],  # measured at two points only
            [np.nan] * 4,
        ]
    )
    n_star, censored = growth.samples_needed_curves(n, losses, 1.0, 0.3)
    assert 20 < n_star[0] < 40 and censored[0] == ""
    assert n_star[1] == 10 and censored[1] == "below"
    assert np.isinf(n_star[2]) and censored[2] == "above"
    assert 10 < n_star[3] < 40
    assert np.isnan(n_star[4])


def test_growth_rows_flag_flat_methods_censoring_and_ratios():
    m = np.array([4, 8, 16, 32])
    rng = np.random.default_rng(0)
    flat = 100 * np.exp(rng.normal(0, 0.05, (5, 1))) * np.ones((1, 4))
    steep = 100 * 1.1 ** m[None, :] * np.exp(rng.normal(0, 0.05, (5, 4)))
    steep_censored = steep.copy()
    steep_censored[:, -1] = np.inf
    n_star = np.stack([flat.T, steep.T, steep_censored.T])  # (method, m, seed)
    rows = growth.growth_rows(m, n_star, 4096, ["flat", "steep", "censored"], baseline=1)
    assert rows[0]["flat"] and not rows[1]["flat"]
    assert rows[1]["low"] > 1.05 and rows[2]["lower_bound"]
    assert rows[0]["ratio"]["high"] < 1 and rows[1]["ratio"] is None
    assert growth.growth_line(rows[2]).startswith("growth per dimension >= ")
    assert "[95% CI" in growth.growth_line(rows[0])


def test_at_largest_n_takes_each_curves_last_measured_point():
    a = np.array([[1.0, 2.0, 3.0], [1.0, 2.0, np.nan], [np.nan] * 3])
    out = growth.at_largest_n(a)
    assert out[0] == 3.0 and out[1] == 2.0 and np.isnan(out[2])


def test_oracle_check_counts_settings_where_the_oracle_is_distinguishably_worse():
    labels = ("monolithic", "modular, oracle")
    last = np.empty((1, 2, 2, 5))
    last[0, 0] = [[0.10, 0.11, 0.12, 0.10, 0.11], [0.10, 0.11, 0.12, 0.10, 0.11]]
    last[0, 1] = [[0.01, 0.02, 0.01, 0.02, 0.01], [0.50, 0.52, 0.51, 0.50, 0.53]]  # better at m=4, worse at m=8
    table, worse = growth.oracle_check(last, labels, (2,), np.array([4, 8]))
    assert worse == 1 and table["m"] == [4, 8] and "[" in table["modular, oracle"][0]


def test_verdicts_and_controls_state_what_the_intervals_say():
    m = np.array([4, 8, 16, 32])
    rng = np.random.default_rng(1)

    def noise():
        return np.exp(rng.normal(0, 0.05, (4, 5)))

    flat = 100 * noise()
    steep = 100 * (1.15**m)[:, None] * noise()
    n_star = np.stack([steep, flat, flat * 1.5, flat * 3])[None]  # (K=1, method, m, seed)
    labels = ["monolithic", "modular, oracle", "modular, backfit rule", "modular, random"]
    out = growth.verdicts(m, n_star, 1e6, labels, (2,))
    flat = growth.flat_text({2: growth.growth_rows(m, n_star[0], 1e6, labels)})
    assert "modular, oracle" in flat and "monolithic" not in flat
    assert "needs 0.50x" in out["glue"]["rule_vs_random"] and "(fewer)" in out["glue"]["rule_vs_random"]
    assert "grows more slowly than monolithic" in out["glue"]["modular_vs_mono"]
    # controls: losses that reach 0.1 Var(y) at known n on a grid, controls measured at every 2nd n
    n_grid = np.array([64.0, 90, 128, 181, 256])

    def curve(n0):
        return np.where(n_grid >= n0, 0.05, 0.5)

    labs = labels + [
        "modular, backfit rule, K/2 modules",
        "modular, backfit rule, 2K modules",
        "modular, random, K averaged",
        "monolithic, compute-matched",
        "modules without projections",
    ]
    rel = np.stack([np.stack([np.stack([curve(100 + 10 * a)] * 5) for a in range(4)]) for _ in labs])
    ctl = growth.control_rows(n_grid, m, rel, labs, 2, 0.1)
    assert set(ctl["glue"]) == {"q2", "q3", "q4", "q5"} and len(ctl["table"]["method"]) == len(labs)


def test_summary_texts_name_every_method_with_its_interval():
    def row(name, g):
        return {"method": name, "estimate": g, "low": g - 0.01, "high": g + 0.01, "lower_bound": False}

    rows = {
        2: [row("monolithic", 1.2), row("modular, oracle", 1.0)],
        4: [row("monolithic", 1.3), row("modular, oracle", 1.01)],
    }
    out = growth.summary_texts(rows, "K = 2: modular, oracle", [row("modules without projections", 1.1)], 4)
    assert "modular, oracle 1.010 [1.000, 1.020]" in out["headline"] and "at K = 4" in out["headline"]
    assert "K = 2: 1.200" in out["summary_mono"] and "modules without projections 1.100" in out["summary_controls"]


def test_censored_comparisons_are_bounds_not_orderings():
    m = np.array([4, 8, 16, 32])
    rng = np.random.default_rng(2)
    rule = 100 * (1.05**m)[:, None] * np.exp(rng.normal(0, 0.05, (4, 5)))
    censored_mono = np.where(m[:, None] >= 16, np.inf, 300 * (1.05**m)[:, None] * np.ones((1, 5)))
    never = np.full((4, 5), np.inf)
    text = growth._compare("rule", "mono", m, rule, censored_mono, 4096)
    assert "at most" in text and "grows faster" not in text
    assert "never reaches" in growth._compare("never", "rule", m, never, rule, 4096)
    assert "at least" in growth._compare("mono", "rule", m, censored_mono, rule, 4096)
    row = growth.growth_rows(m, never[None], 4096, ["never"])[0]
    assert row["never"] and "reached at no m" in growth.growth_line(row)


def test_learned_levels_are_multiples_of_the_monolithic_network():
    n_star = np.ones((1, 3, 2, 5)) * np.array([400.0, 100.0, 200.0])[None, :, None, None]
    labels = ["monolithic", "modular, oracle", "modular, random"]
    text = growth.learned_levels(np.array([4, 8]), n_star, 4096, labels, (2,))
    assert text == "K = 2, modular, random: 0.50x [0.50, 0.50]."


def test_censoring_below_and_above_make_the_growth_a_bound_in_the_right_direction():
    bound = growth.censoring_bound
    assert bound([100, 200, 400], 4096, 64) == ""
    assert bound([64, 200, 400], 4096, 64) == "lower"  # the truth at the smallest m is smaller: steeper
    assert bound([100, 200, 4096], 4096, 64) == "lower"  # not reached at the largest m: steeper
    assert bound([100, 200, 64], 4096, 64) == "upper"  # reached at the first n at the largest m: flatter
    assert bound([64, 64, 64], 4096, 64) == "all"
    assert bound([64, 200, 64], 4096, 64) == "mixed"
    assert bound([64, 200, 400], 4096, None) == ""  # without n_min nothing counts as censored below


def test_a_growth_resting_on_medians_censored_below_is_not_called_flat_nor_ordered():
    m = np.array([4, 8, 16, 32])
    always = np.full((5, 4), 64.0)  # (seed, m): reached at the first n everywhere
    steep = 64.0 * 1.1 ** (m - 4)[None, :] * np.linspace(0.95, 1.05, 5)[:, None]
    rows = growth.growth_rows(m, np.stack([always.T, steep.T]), 4096, ["oracle", "steep"], n_min=64)
    assert rows[0]["always"] and not rows[0]["flat"] and "not measured" in growth.growth_line(rows[0])
    text = growth._compare("oracle", "steep", m, always.T, steep.T, 4096, 64)
    assert "first n at every m" in text and "more slowly" not in text
    # the steep method censored below at m = 4 only: its growth is a lower bound, so "faster" is not said of it
    # against a method whose growth is exact, unless the interval is above 1 (it is here)
    part = steep.copy()
    part[:, 0] = 64.0
    row = growth.growth_rows(m, part.T[None], 4096, ["part"], n_min=64)[0]
    assert row["lower_bound"] and growth.growth_line(row).startswith("growth per dimension >= ")


def test_flat_evidence_states_the_range_an_interval_allows_and_bounds_the_ratio():
    m = np.array([4, 8, 16, 32])
    flat = 200.0 * np.linspace(0.9, 1.1, 5)[:, None] * np.ones((1, 4))  # (seed, m)
    mono = np.full((5, 4), np.inf)
    mono[:, :2] = [300.0, 900.0]  # censored above at large m
    n_star = np.stack([mono.T, flat.T])[None]  # (K, method, m, seed)
    cens = np.where(np.isinf(n_star), "above", "")
    text = growth.flat_evidence(m, n_star, cens, 4096, 64, ["monolithic", "modular, oracle"], (2,))
    assert text.startswith("K = 2: growth per dimension 1.000x") and "from m = 4 to 32" in text
    assert "(0 of 20 curves censored)" in text and "the monolithic network's growth per dimension >= " in text


def test_tuned_on_validation_picks_by_validation_never_by_test():
    val = np.array([[[0.5, 0.2], [0.3, 0.4]]])  # (K, lr, n): lr 1 best at n 0, lr 0 best at n 1
    test = np.array([[[0.1, 0.9], [0.8, 0.05]]])  # the test set would choose the other way round
    picked, chosen = analysis.tuned_on_validation(val, test, axis=1)
    np.testing.assert_array_equal(chosen, [[1, 0]])
    np.testing.assert_allclose(picked, [[0.8, 0.9]])
    with pytest.raises(ValueError, match="val_loss"):
        analysis.tuned_on_validation(np.array([[np.nan, 1.0]]), np.ones((1, 2)))
