"""Closed forms of the linear random-feature model of generalisation (numpy only, no torch).

The model is the one restated in the book's theory chapters: white Gaussian features, task weights
``theta_i ~ N(0, lambda_i)``, a network that sees the first ``p`` features, and the minimum-norm
least-squares fit to ``N = d*n`` scalar equations. Its parts, one module each: :mod:`.linear_model` (the
pseudo-inverse moment, expected and simulated losses), :mod:`.spectra` (how ``m`` enters),
:mod:`.complexity` (the fewest samples reaching a target) and :mod:`.projections` (mismatched modules,
and the calibration against trained networks). Every public name is available as ``theory.NAME``.
"""
from .linear_model import *  # noqa: F401,F403
from .linear_model import __all__ as _linear_model
from .projections import *  # noqa: F401,F403
from .projections import __all__ as _projections
from .complexity import *  # noqa: F401,F403
from .complexity import __all__ as _sample_complexity
from .spectra import *  # noqa: F401,F403
from .spectra import __all__ as _spectra

__all__ = [*_linear_model, *_spectra, *_sample_complexity, *_projections]
