import numpy as np
import pytest

from modscale_lib import metrics


def test_growth_per_dimension_recovers_a_known_factor():
    m = np.arange(2, 10)
    assert metrics.growth_per_dimension(m, 7.0 * 1.36 ** m) == pytest.approx(1.36)
    assert metrics.growth_per_dimension(m, np.full(8, 40.0)) == pytest.approx(1.0)


def test_growth_per_dimension_drops_unusable_points():
    m = np.arange(2, 6)
    assert metrics.growth_per_dimension(m, [4.0, 8.0, np.inf, 32.0]) == pytest.approx(2.0)
    assert np.isnan(metrics.growth_per_dimension(m, [4.0, np.inf, np.inf, 0.0]))
    with pytest.raises(ValueError, match="same shape|one shape"):
        metrics.growth_per_dimension(m, [1.0, 2.0])
