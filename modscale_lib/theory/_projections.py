"""Modules whose projections miss the true ones, and the calibration of the theory to trained networks
(numpy only)."""

from __future__ import annotations

import numpy as np

from ..core import Array, Boolean, Check, OrNone, Real, RealArray, Seed, Size, Whole, WholeArray, check_size, validated
from ._checks import COUNTS, INPUT_DIM, NOISE, NONNEGATIVE, OUTPUTS, POSITIVE, TARGET, C, broadcast_shape
from ._complexity import P_SEARCH, best_over_p, p_grid
from ._linear_model import loss_formulas
from ._spectra import tail_variance

__all__ = [
    "random_projection_overlap",
    "simulate_hermite_overlap",
    "random_projection_traces",
    "random_projection_sample_complexity",
    "power_law_losses",
    "calibrate_power_law",
]


@validated(input_dim=INPUT_DIM, degree=WholeArray(0, min_size=1))
def random_projection_overlap(input_dim, degree):
    """``E[cos^(2k) theta]`` between a fixed unit vector and a uniformly random one in ``m`` dimensions.

    ``cos^2 theta`` is Beta(1/2, (m-1)/2), whose k-th moment is ``prod_{j<k} (1+2j)/(m+2j)``; for ``k = 1``
    it is ``1/m``. This is the share of a degree-``k`` Hermite component of ``g(u^T x)`` that a module
    reading ``w^T x`` can express (Mehler: ``E[He_k(u^T x) He_k(w^T x)] / k! = (u^T w)^k``).

    Parameters
    ----------
    input_dim : ``m`` (>= 1), broadcast with ``degree`` (integer ``k >= 0``).
    """
    broadcast_shape("input_dim and degree", input_dim, degree)
    return cos_moments(input_dim, degree.astype(float))


def cos_moments(m, k):
    """:func:`random_projection_overlap` of checked float arrays (the theory's inner calls)."""
    from scipy.special import gammaln

    return np.exp(gammaln(k + 0.5) - gammaln(0.5) + gammaln(m / 2) - gammaln(k + m / 2))


@validated(degree=Whole(1, 100), cos_angle=Real(-1.0, 1.0), n_samples=Size(2), seed=Seed())
def simulate_hermite_overlap(degree: int, cos_angle: float, n_samples: int = 200_000, seed: int = 0):
    """Monte Carlo of ``E[h_k(u^T x) h_k(w^T x)]`` for unit vectors with ``u^T w = cos_angle`` and
    ``x ~ N(0, I)``, with ``h_k = He_k / sqrt(k!)`` the normalised probabilists' Hermite polynomial.

    Returns (mean, standard error); the exact value is ``cos_angle**degree``.
    """
    from math import factorial

    from numpy.polynomial.hermite_e import hermeval

    k = degree
    check_size(2 * n_samples, "n_samples")
    rng = np.random.default_rng(seed)
    z1, z2 = rng.standard_normal((2, n_samples))
    u_x = z1
    w_x = cos_angle * z1 + np.sqrt(1 - cos_angle**2) * z2  # w = cos*u + sin*u_perp
    coef = np.zeros(k + 1)
    coef[k] = 1.0 / np.sqrt(factorial(k))
    prod = hermeval(u_x, coef) * hermeval(w_x, coef)
    return float(prod.mean()), float(prod.std(ddof=1) / np.sqrt(prod.size))


def _features(value, name: str, arguments: dict) -> np.ndarray:
    q = Array(finite=False)(value, name)
    if np.any(np.isnan(q)) or np.any(q < 0):  # q = inf is allowed: every feature, the loss floor
        raise ValueError(f"{name} must be >= 0 (inf allowed), got {value!r}"[:300])
    return q


def _at_least_modules(value, name: str, arguments: dict) -> np.ndarray:
    m = INPUT_DIM(value, name)
    if np.any(m < arguments["n_modules"]):
        raise ValueError(
            f"{name} (m) must be >= n_modules ({arguments['n_modules']}) for orthonormal projections, got {value!r}"
        )
    return m


@validated(
    q=Check(_features), n_modules=Whole(1), input_dim=Check(_at_least_modules), alpha=POSITIVE, c=C, n_degrees=Whole(1)
)
def random_projection_traces(q, input_dim, n_modules: int, alpha: float = 1.0, c: float = 1.0, n_degrees: int = 20_000):
    """Expected (seen, missing) variance for ``K`` modules with random orthonormal projections (``b = 1``).

    The task is ``K`` modules on one dimension each, module ``j`` a function of ``u_j^T x`` whose degree-``k``
    Hermite component has variance ``lambda_k / K`` with the default spectrum on one dimension,
    ``lambda_k = c*(k^-alpha - (k+1)^-alpha)``. Network module ``i`` reads ``w_i^T x`` through its first ``q``
    Hermite features. By Mehler's formula it captures ``(u_j^T w_i)^(2k)`` of module ``j``'s degree-``k``
    variance; with orthonormal ``w_i`` the modules' features are orthogonal, and averaging over random
    projections gives, in total, ``seen(q) = K * sum_{k<=q} lambda_k E[cos^(2k)]``. Everything else acts as
    noise: ``missing = c - seen``. (A Gaussian-equivalent model: the captured features are treated as white
    Gaussian features, as in the rest of the theory.)

    Parameters
    ----------
    q : features per module (>= 0, ``inf`` for all of them), broadcast with ``input_dim``.
    input_dim : ``m >= n_modules``.
    c : the spectrum's total variance (> 0).

    Returns
    -------
    (seen, missing) float arrays of the broadcast shape.
    """
    check_size(np.unique(input_dim).size * n_degrees, "n_degrees times the distinct input_dim values")
    broadcast_shape("q and input_dim", input_dim, q)
    return projection_traces(q, input_dim, n_modules, alpha, c, n_degrees)


def projection_traces(q, m, K: int, alpha: float, c: float, n_degrees: int):
    """:func:`random_projection_traces` of checked arguments (the theory's inner calls)."""
    k = np.arange(1, n_degrees + 1, dtype=float)
    lam = c * (k**-alpha - (k + 1) ** -alpha)
    m_flat = np.unique(m)
    cum = np.cumsum(lam * cos_moments(m_flat[:, None], k[None, :]), axis=1)
    cum = np.concatenate([np.zeros((m_flat.size, 1)), cum], axis=1)
    m_b, q_b = np.broadcast_arrays(m, q)
    rows = np.searchsorted(m_flat, m_b)
    cols = np.minimum(q_b, n_degrees).astype(int)  # beyond n_degrees the terms are negligible (O(k^-1-m/2))
    seen = K * cum[rows, cols]
    return seen, np.maximum(c - seen, 0.0)


@validated(
    target=TARGET,
    n_modules=Whole(1),
    input_dim=INPUT_DIM,
    alpha=POSITIVE,
    c=C,
    d=OUTPUTS,
    noise=NOISE,
    **P_SEARCH,
    return_p=Boolean(),
    warn_unreachable=Boolean(),
)
def random_projection_sample_complexity(
    target,
    input_dim,
    n_modules: int,
    *,
    alpha: float = 1.0,
    c: float = 1.0,
    d: int = 1,
    noise: float = 0.0,
    p_max: float = 1e12,
    p_points: int = 400,
    return_p: bool = False,
    warn_unreachable: bool = True,
):
    """Sample complexity of a modular network with random orthonormal projections (``b = 1``), best ``p``.

    Explained in the chapter :doc:`/book/theory_modular`.

    Uses :func:`random_projection_traces`; ``p = K*q`` features in all. Unreachable targets (below the
    noise floor that mismatched projections leave) give ``inf``, with a ``RuntimeWarning`` if
    ``warn_unreachable``. ``c`` is the spectrum's total variance (> 0).
    """
    K = n_modules
    broadcast_shape("target and input_dim", target, input_dim)
    target, m = np.broadcast_arrays(target, input_dim)
    if np.any(m < K):
        raise ValueError(f"input_dim (m) must be >= n_modules ({K}) for orthonormal projections, got {m!r}"[:300])
    p_arr = p_grid(K, p_max, p_points).reshape((1,) * target.ndim + (-1,))
    check_size(target.size * p_arr.size, "the targets times p_points")
    check_size(np.unique(m).size * 20_000, "n_degrees times the distinct input_dim values")
    seen, missing = projection_traces(p_arr / K, m[..., None], K, alpha, c, 20_000)
    n_star, p_used = best_over_p(target[..., None], p_arr, seen, missing, d, noise, search=True, warn=warn_unreachable)
    return (n_star, p_used) if return_p else n_star


@validated(n=COUNTS, p=COUNTS, input_dim=INPUT_DIM, alpha=POSITIVE, c=C, d=Whole(1), noise=NONNEGATIVE)
def power_law_losses(n, p, input_dim, alpha: float = 1.0, c: float = 1.0, d: int = 1, noise: float = 0.0):
    """Expected (train, test) loss under the infinite default power law on ``m = input_dim`` dimensions.

    ``Tr Lambda_2(p) = c*(p+1)^(-alpha/m)`` and ``Tr Lambda_1 = c - Tr Lambda_2``; ``n``, ``p`` and ``input_dim``
    broadcast. This is what the theory predicts for a network with ``p`` parameters trained on ``n`` samples.
    ``c`` (> 0) is the spectrum's total variance.
    """
    a = alpha / input_dim
    broadcast_shape("n, p, input_dim and noise", n, p, a, noise)
    missing = tail_variance(p.astype(float), a, c)
    return loss_formulas((d * n).astype(float), p.astype(float), c - missing, missing, d, noise)


@validated(
    n=RealArray(1.0),
    p=RealArray(1.0),
    input_dim=INPUT_DIM,
    test_loss=Array(finite=False),
    peak_band=Real(0.0),
    alphas=OrNone(RealArray(0.0, low_open=True, ndim=1, min_size=1)),
    c_values=OrNone(RealArray(0.0, low_open=True, ndim=1, min_size=1)),
)
def calibrate_power_law(n, p, input_dim, test_loss, *, peak_band: float = 0.3, alphas=None, c_values=None):
    """Fit the power law's ``alpha`` and ``c`` to measured test losses by least squares in ``log`` loss.

    Points with ``|n - p| <= peak_band * p`` are left out: there the theory's test loss diverges, which no
    finite measurement can match; so are losses that are NaN, infinite or not positive (failed
    measurements). A grid search over ``alphas`` x ``c_values`` (vectorised; by default 241 log-spaced
    values each, alpha in 0.05..20 and c in 0.01..10) returns the best pair.

    Returns
    -------
    dict with ``alpha``, ``c``, ``rmse_log10`` (the fit's root-mean-square error in decades) and
    ``n_points`` used.
    """
    m, loss = input_dim, test_loss
    try:
        n, p, m, loss = (v.ravel() for v in np.broadcast_arrays(n, p, m, loss))
    except ValueError as exc:
        raise ValueError(f"n, p, input_dim and test_loss must broadcast together: {exc}") from None
    with np.errstate(invalid="ignore"):
        keep = (np.abs(n - p) > peak_band * p) & np.isfinite(loss) & (loss > 0)
    if keep.sum() < 2:
        raise ValueError("calibrate_power_law needs at least two finite, positive test_loss values away from the peak")
    n, p, m, loss = n[keep], p[keep], m[keep], loss[keep]
    alphas = np.geomspace(0.05, 20, 241) if alphas is None else alphas
    c_values = np.geomspace(0.01, 10, 241) if c_values is None else c_values
    check_size(alphas.size * c_values.size * n.size, "alphas x c_values x the points")
    A, C = np.meshgrid(alphas, c_values, indexing="ij")
    tail = C[..., None] * (p + 1.0) ** (-A[..., None] / m)
    _, test = loss_formulas(n, p, C[..., None] - tail, tail, 1, np.asarray(0.0))
    err = np.mean((np.log10(test) - np.log10(loss)) ** 2, axis=-1)
    i, j = np.unravel_index(np.nanargmin(err), err.shape)
    return {
        "alpha": float(A[i, j]),
        "c": float(C[i, j]),
        "rmse_log10": float(np.sqrt(err[i, j])),
        "n_points": int(keep.sum()),
    }
