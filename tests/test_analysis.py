"""Means and bootstrap intervals over seeds (core.bootstrap_ci) and the peers chapter's summaries."""

import numpy as np
import pytest

from modscale_lib import analysis, core


def test_bootstrap_ci_shapes_mean_and_order():
    rng = np.random.default_rng(0)
    values = rng.normal(size=(3, 4, 8))
    mean, low, high = core.bootstrap_ci(values, axis=-1, n_resamples=200)
    assert mean.shape == low.shape == high.shape == (3, 4)
    np.testing.assert_allclose(mean, values.mean(axis=-1))
    assert np.all(low <= mean) and np.all(mean <= high) and np.all(low < high)
    again = core.bootstrap_ci(np.moveaxis(values, -1, 0), axis=0, n_resamples=200)
    np.testing.assert_allclose(again[0], mean)


def test_bootstrap_ci_covers_a_known_mean_and_narrows_with_more_seeds():
    rng = np.random.default_rng(1)
    few = rng.normal(5.0, 1.0, size=(40, 10))
    many = rng.normal(5.0, 1.0, size=(40, 200))
    _, lo, hi = core.bootstrap_ci(few, n_resamples=300)
    assert np.mean((lo <= 5) & (5 <= hi)) > 0.7  # percentile bootstrap, 10 seeds: roughly 95 %
    _, lo2, hi2 = core.bootstrap_ci(many, n_resamples=300)
    assert np.median(hi2 - lo2) < 0.5 * np.median(hi - lo)


def test_bootstrap_ci_degenerate_slices_and_nans():
    values = np.array([[2.0, 2.0, 2.0], [1.0, np.nan, 3.0], [np.nan, np.nan, np.nan], [4.0, np.nan, np.nan]])
    mean, low, high = core.bootstrap_ci(values, n_resamples=100)
    assert (mean[0], low[0], high[0]) == (2.0, 2.0, 2.0)
    assert mean[1] == 2.0 and low[1] >= 1.0 and high[1] <= 3.0
    assert np.all(np.isnan([mean[2], low[2], high[2]]))
    assert (mean[3], low[3], high[3]) == (4.0, 4.0, 4.0)


def test_bootstrap_ci_refuses_bad_arguments():
    with pytest.raises(ValueError, match="confidence"):
        core.bootstrap_ci(np.ones(3), confidence=1.5)
    with pytest.raises(ValueError, match="at least one"):
        core.bootstrap_ci(np.ones((2, 0)))


def test_bootstrap_ci_is_reproducible():
    values = np.random.default_rng(2).normal(size=(2, 6))
    a, b = core.bootstrap_ci(values, seed=3), core.bootstrap_ci(values, seed=3)
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x, y)


def _fake_peer_result(T=2, N=3, S=5, M=4):
    rng = np.random.default_rng(0)
    shape = (T, N, S, M)
    return {
        "union": rng.uniform(size=shape),
        "grouped": rng.uniform(size=shape),
        "seconds": rng.uniform(size=shape),
        "group_seconds": np.ones(shape),
        "test_loss": rng.uniform(size=(T, N, S, M + 2)),
    }


def test_peer_summary_reduces_the_seed_axis():
    res = _fake_peer_result()
    summary = analysis.peer_summary(res)
    assert set(summary) == set(analysis.PEER_QUANTITIES) | {"group_seconds", "total_seconds"}
    assert summary["union"][0].shape == (2, 3, 4) and summary["test_loss"][0].shape == (2, 3, 6)
    np.testing.assert_allclose(summary["total_seconds"][0], res["seconds"].mean(axis=2) + 1)


def test_format_ci_and_distinguishable():
    assert analysis.format_ci(0.5, 0.41, 0.6) == "0.50 [0.41, 0.60]"
    assert analysis.format_ci(np.nan, np.nan, np.nan) == "n/a"
    assert analysis.format_ci(12.345, 10, 15, ".3g") == "12.3 [10, 15]"
    assert analysis.distinguishable((1, 0.9, 1.1), (2, 1.9, 2.1))
    assert not analysis.distinguishable((1, 0.9, 1.5), (1.4, 1.2, 1.6))


def test_best_and_ties():
    names = ["a", "b", "c", "d"]
    mean, low, high = (
        np.array([0.9, 0.85, 0.5, np.nan]),
        np.array([0.8, 0.7, 0.4, np.nan]),
        np.array([1, 0.95, 0.6, np.nan]),
    )
    assert analysis.best_and_ties(mean, low, high, names) == ("a", ["b"])
    assert analysis.best_and_ties(mean, low, high, names, higher_is_better=False) == ("c", [])
    with pytest.raises(ValueError):
        analysis.best_and_ties([np.nan], [np.nan], [np.nan], ["a"])


def test_compare_ci_says_above_below_or_not_distinguishable():
    assert analysis.compare_ci((1, 0.9, 1.1), (2, 1.9, 2.1)) == "1.00 [0.90, 1.10], below 2.00 [1.90, 2.10]"
    assert analysis.compare_ci((2, 1.9, 2.1), (1, 0.9, 1.1), ".1f") == "2.0 [1.9, 2.1], above 1.0 [0.9, 1.1]"
    text = analysis.compare_ci((1, 0.9, 1.5), (1.4, 1.2, 1.6), ".1f")
    assert text.endswith("not distinguishable from 1.4 [1.2, 1.6]")
    assert "faster than" in analysis.compare_ci((1, 0.9, 1.1), (2, 1.9, 2.1), words=("slower than", "faster than"))
    assert (
        analysis.compare_ci((1, 0.9, 1.1), (2, 1.9, 2.1), names=("a", "b"))
        == "a 1.00 [0.90, 1.10], below b 2.00 [1.90, 2.10]"
    )


def test_tolerance_ties_intervals_closer_than_it():
    a, b = (1.0, 0.999, 1.0), (0.997, 0.996, 0.998)
    assert analysis.distinguishable(a, b) and not analysis.distinguishable(a, b, tolerance=0.005)
    assert analysis.best_and_ties(*zip(a, b), ["a", "b"]) == ("a", [])
    assert analysis.best_and_ties(*zip(a, b), ["a", "b"], tolerance=0.005) == ("a", ["b"])
    assert "not distinguishable" in analysis.compare_ci(a, b, ".3f", tolerance=0.005)
