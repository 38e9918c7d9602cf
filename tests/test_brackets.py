"""The bracketing search: where it trains next, when it stops, and the n* it reads, on synthetic curves."""

import math

import numpy as np
import pytest

from modscale_lib import brackets

I_MIN, I_MAX = 6, 32


def _search(curve, targets, start, i_min=I_MIN, i_max=I_MAX, rounds=40):
    """Run the search on a noiseless curve ``loss(n)``; returns the visits."""
    visited = {}
    for _ in range(rounds):
        i = brackets.next_index(visited, targets, start, i_min, i_max)
        if i is None:
            return visited
        assert i not in visited and i_min <= i <= i_max
        visited[i] = curve(brackets.grid_n(i))
    raise AssertionError("the search did not stop")


def test_grid_is_a_factor_sqrt2_apart():
    n = brackets.grid_n(np.arange(6, 33))
    assert n[0] == 8 and n[-1] == 2**16 and brackets.grid_n(13) == 91
    np.testing.assert_allclose(n[1:] / n[:-1], math.sqrt(2), rtol=0.07)
    assert brackets.grid_index(2**10) == pytest.approx(20)


@pytest.mark.parametrize("start", [6, 12, 20, 30])
@pytest.mark.parametrize("alpha", [0.5, 1.0, 2.0])
def test_the_search_brackets_every_target_and_reads_the_power_law_crossing(start, alpha):
    """loss = (n / n0)^(-alpha): the crossing of target t is n0 * t^(-1/alpha), exact in log-log."""
    n0 = 300.0

    def curve(n):
        return (n / n0) ** -alpha

    visited = _search(curve, (0.1, 0.3), start)
    for t in (0.1, 0.3):
        n_star, cens = brackets.crossing(visited, t, I_MIN, I_MAX)
        truth = n0 * t ** (-1 / alpha)
        assert cens == "" and n_star == pytest.approx(truth, rel=0.03)  # grid rounding only
        fails = [i for i, v in visited.items() if v > t and brackets.grid_n(i) < truth]
        wins = [i for i, v in visited.items() if v <= t]
        assert min(wins) - max(fails) == 1  # resolved to a factor sqrt(2)
    distance = abs(start - brackets.grid_index(n0 * 0.1 ** (-1 / alpha)))
    assert len(visited) <= 5 + distance / 3  # long steps far from the crossing


def test_censoring_at_both_ends_and_the_bound_it_gives():
    easy = _search(lambda n: 0.01, (0.1,), 12)
    assert brackets.crossing(easy, 0.1, I_MIN, I_MAX) == (8.0, "below")
    hard = _search(lambda n: 0.5, (0.1,), 12)
    assert max(hard) == I_MAX and brackets.crossing(hard, 0.1, I_MIN, I_MAX) == (2.0**16, "above")
    assert brackets.crossing({}, 0.1, I_MIN, I_MAX)[1] == "missing"
    assert brackets.crossing({10: 0.5, 14: 0.05}, 0.1, I_MIN, I_MAX) == (
        pytest.approx(math.nan, nan_ok=True),
        "missing",
    )  # not yet resolved


def test_a_dip_below_the_target_that_comes_back_is_read_at_the_first_crossing_from_below():
    visited = {10: 0.5, 11: 0.08, 12: 0.2, 13: 0.05}
    n_star, cens = brackets.crossing(visited, 0.1, I_MIN, I_MAX)
    assert cens == "" and brackets.grid_n(10) < n_star < brackets.grid_n(11)
    nan_counts_as_failure = {10: math.inf, 11: 0.05}
    assert brackets.crossing(nan_counts_as_failure, 0.1, I_MIN, I_MAX) == (brackets.grid_n(11) * 1.0, "")


def test_crossings_reads_stored_visits_with_padding():
    index = np.array([[10, 12, 11, -1], [12, 14, -1, -1]])
    loss = np.array([[0.5, 0.05, 0.2, np.nan], [0.05, 0.01, np.nan, np.nan]])
    n_star, cens = brackets.crossings(index, loss, 0.1, I_MIN, I_MAX)
    assert cens.tolist() == ["", "missing"] and brackets.grid_n(11) < n_star[0] < brackets.grid_n(12)
    with pytest.raises(ValueError, match="one shape"):
        brackets.crossings(index[:, :2], loss, 0.1, I_MIN, I_MAX)


def test_the_start_follows_the_previous_dimensions():
    assert brackets.start_index([], 8, 12, I_MIN, I_MAX) == 12
    one = brackets.start_index([(4, math.log(256))], 8, 12, I_MIN, I_MAX)
    assert brackets.grid_n(one) == 512  # n* proportional to m
    two = brackets.start_index([(4, math.log(100)), (8, math.log(400))], 16, 12, I_MIN, I_MAX)
    assert brackets.grid_n(two) == pytest.approx(1600, rel=0.2)  # slope 2 continued
    assert brackets.start_index([(4, math.log(100)), (8, math.inf)], 16, 12, I_MIN, I_MAX) == I_MAX
    flat = brackets.start_index([(4, math.log(100)), (8, math.log(50))], 16, 12, I_MIN, I_MAX)
    assert brackets.grid_n(flat) == pytest.approx(50, rel=0.2)  # a falling slope is clipped at 0


@pytest.mark.parametrize("seed", range(5))
def test_a_noisy_curve_is_still_bracketed_to_a_factor_sqrt2(seed):
    rng = np.random.default_rng(seed)
    noise = {i: math.exp(0.15 * rng.standard_normal()) for i in range(I_MIN, I_MAX + 1)}

    def curve(n):
        return noise[round(brackets.grid_index(n))] * (n / 500.0) ** -1.0

    visited = _search(curve, (0.1, 0.3), 14)
    for t in (0.1, 0.3):
        n_star, cens = brackets.crossing(visited, t, I_MIN, I_MAX)
        assert cens == "" and 0.5 < n_star / (500 / t) < 2.0
