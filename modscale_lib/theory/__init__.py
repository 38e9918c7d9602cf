"""Closed forms of the linear random-feature model of generalisation (numpy only, no torch).

The model is the one restated in the book's theory chapters: white Gaussian features, task weights
``theta_i ~ N(0, lambda_i)``, a network that sees the first ``p`` features, and the minimum-norm
least-squares fit to ``N = d*n`` scalar equations. Its parts, one private module each: the linear model (the
pseudo-inverse moment, expected and simulated losses), the spectra (how ``m`` enters), the sample complexity
(the fewest samples reaching a target) and the projections (mismatched modules, and the calibration against
trained networks). Every public name is available as ``theory.NAME``; each checks its arguments once, with
:func:`modscale_lib.core.validated`.
"""

from ._complexity import *  # noqa: F403
from ._complexity import __all__ as _complexity_all
from ._linear_model import *  # noqa: F403
from ._linear_model import __all__ as _linear_model_all
from ._projections import *  # noqa: F403
from ._projections import __all__ as _projections_all
from ._spectra import *  # noqa: F403
from ._spectra import __all__ as _spectra_all

__all__ = [*_linear_model_all, *_spectra_all, *_complexity_all, *_projections_all]
