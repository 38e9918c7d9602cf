"""The helpers that chapters call to turn stored results into tables and figures (analysis, plotting.table)."""
import numpy as np
import pytest

from modscale_lib import analysis, plotting, theory


def test_samples_needed_is_the_median_first_crossing():
    n_grid = np.array([100, 200, 400, 800])
    # (method, m, seed, n): seed 0 crosses 0.5 at n = 200, seed 1 at 400, seed 2 never
    curves = np.array([[1.0, 0.5, 0.4, 0.3], [1.0, 0.8, 0.5, 0.3], [1.0, 0.9, 0.8, 0.7]])
    losses = curves[None, None]
    out = analysis.samples_needed(n_grid, losses, np.ones((1, 3)), 0.5)
    assert out.shape == (1, 1) and out[0, 0] == pytest.approx(400)


def test_similarity_samples_needed_mirrors_losses():
    n_grid = np.array([100, 200, 400])
    sim = np.array([[0.2, 0.95, 0.99], [0.1, 0.5, 0.95], [0.3, 0.92, 0.93]])[None, None]
    assert analysis.similarity_samples_needed(n_grid, sim, 0.9)[0, 0] == pytest.approx(200, rel=0.05)


def test_recovery_summary_counts_collapse_and_success():
    found_both = np.array([[0.99, 0.01], [0.01, 0.98]])
    collapsed = np.array([[0.97, 0.96], [0.02, 0.03]])     # both starts on true module 1
    between = np.array([[0.5, 0.5], [0.5, 0.5]])
    sim = np.stack([found_both, collapsed, between])[None, None]   # (1, 1, 3 seeds, 2, 2)
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


def test_network_theory_trends_reads_the_peaks():
    x = np.array([100.0, 300.0, 1000.0, 3000.0])
    flat = {"net test": np.array([1.0, 1.0, 2.0, 1.0]), "theory test": np.ones(4)}
    summary = {"k": (x, flat), "m": (x, flat), "p": (x, flat), "n": (x, {"net test": np.array([4.0, 3, 2, 1])})}
    t = analysis.network_theory_trends(summary)
    assert t["k_spread"] == 2.0 and t["p_peak"] == (1000.0, True, 2.0)
    assert t["n_peak"][1] is False                            # at the edge: no peak


def test_table_renders_escaped_html_with_formats():
    html = plotting.table({"method": ["a<b"], "n*": [np.inf], "share": [0.25], "count": [1234]},
                          formats={"share": ".0%"}).data
    assert "<th>method</th>" in html and "a&lt;b" in html and "not reached" in html
    assert "25%" in html and "1,234" in html


@pytest.mark.parametrize("bad,match", [({"a": [1], "b": [1, 2]}, "same length"), ({"a": [1]}, "formats")])
def test_table_refuses_ragged_columns_and_unknown_formats(bad, match):
    formats = {"zzz": ".1f"} if match == "formats" else None
    with pytest.raises(ValueError, match=match):
        plotting.table(bad, formats=formats)
