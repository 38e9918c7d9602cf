import numpy as np
import pytest

from modscale_lib import measure


def test_growth_per_dimension_recovers_a_known_factor():
    m = np.arange(2, 10)
    assert measure.growth_per_dimension(m, 7.0 * 1.36**m) == pytest.approx(1.36)
    assert measure.growth_per_dimension(m, np.full(8, 40.0)) == pytest.approx(1.0)


def test_growth_per_dimension_drops_unusable_points():
    m = np.arange(2, 6)
    assert measure.growth_per_dimension(m, [4.0, 8.0, np.inf, 32.0]) == pytest.approx(2.0)
    assert np.isnan(measure.growth_per_dimension(m, [4.0, np.inf, np.inf, 0.0]))
    with pytest.raises(ValueError, match="same shape|one shape"):
        measure.growth_per_dimension(m, [1.0, 2.0])


def _unit(v):
    v = np.asarray(v, dtype=float)
    return (v / np.linalg.norm(v))[:, None]


def test_principal_cosines_and_module_similarity():
    e = np.eye(3)
    assert measure.principal_cosines(e[:, :2], e[:, 1:]).tolist() == pytest.approx([1.0, 0.0])
    U = np.stack([_unit([1, 0, 0]), _unit([0, 1, 0])])
    V = np.stack([_unit([0, 1, 1]), _unit([1, 0, 0])])
    np.testing.assert_allclose(measure.module_similarity(U, V), [[0.0, 1.0], [0.5, 0.0]], atol=1e-12)


def test_matched_similarity_ignores_order_and_sign():
    U = np.stack([_unit([1, 0, 0, 0]), _unit([0, 1, 0, 0])])
    V = np.stack([-U[1], U[0]])
    assert measure.matched_similarity(U, V) == pytest.approx(1.0)
    assert measure.similarity_score(U, V) == pytest.approx(1.0)
    collapsed = np.stack([U[0], U[0]])
    assert measure.matched_similarity(U, collapsed) == pytest.approx(0.5)


def test_union_span_error_sees_mixtures_as_spanning():
    U = np.stack([_unit([1, 0, 0]), _unit([0, 1, 0])])
    mixed = np.stack([_unit([1, 1, 0]), _unit([1, -1, 0])])
    assert measure.union_span_error(U, mixed) == pytest.approx(0.0, abs=1e-12)
    assert measure.matched_similarity(U, mixed) == pytest.approx(0.5)
    assert measure.union_span_error(U, np.stack([_unit([0, 0, 1])])) == pytest.approx(1.0)


def test_similarity_rejects_non_orthonormal_input():
    with pytest.raises(ValueError, match="orthonormal"):
        measure.module_similarity(np.ones((1, 3, 1)), np.stack([_unit([1, 0, 0])]))
    with pytest.raises(ValueError, match="share"):
        measure.module_similarity(np.stack([_unit([1, 0, 0])]), np.stack([_unit([1, 0])]))


def test_samples_to_reach_interpolates_in_log_n():
    n = [100, 200, 400, 800]
    expected = np.exp(np.log(200) + 0.5 * np.log(2))
    assert measure.samples_to_reach(n, [0.9, 0.5, 0.3, 0.1], 0.4) == pytest.approx(expected)
    assert measure.samples_to_reach(n, [0.2, 0.1, 0.05, 0.01], 0.4) == 100.0
    assert measure.samples_to_reach(n, [0.9, 0.8, 0.7, 0.6], 0.4) == float("inf")
    # a curve that dips below and climbs back: the first crossing counts
    assert measure.samples_to_reach(n, [0.9, 0.3, 0.6, 0.2], 0.3) == pytest.approx(200.0)
    with pytest.raises(ValueError, match="increasing"):
        measure.samples_to_reach([200, 100], [0.5, 0.4], 0.3)


def test_a_nan_beside_the_crossing_is_skipped_not_returned():
    n = [10, 20, 40, 80]
    # the crossing interpolates from the last measured point above the target, skipping the failed one
    skipped = measure.samples_to_reach(n, [1.0, np.nan, 0.05, 0.01], 0.1)
    assert skipped == pytest.approx(measure.samples_to_reach([10, 40], [1.0, 0.05], 0.1))
    # nothing measured before the first point at the target: that point, an upper bound, never NaN
    assert measure.samples_to_reach(n, [np.nan, 0.05, 0.01, 0.0], 0.1) == 20.0


def test_a_growth_needs_two_distinct_dimensions():
    with pytest.raises(ValueError, match="input_dims must hold at least two distinct dimensions"):
        measure.growth_per_dimension([8, 8, 8], [10, 20, 30])
    assert np.isnan(measure.growth_per_dimension([4, 8], [10, np.inf]))  # a failed measurement: no growth
