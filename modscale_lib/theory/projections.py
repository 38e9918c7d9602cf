"""Modules whose projections miss the true ones, and the calibration of the theory to trained networks
(numpy only)."""
from __future__ import annotations

import numpy as np

from .. import validation
from .checks import check_c, check_input_dim, check_positive_int_array, check_target_d_noise
from .linear_model import losses_from_traces
from .complexity import best_over_p, p_grid
from .spectra import exponent_inverse_dim, power_law_tail

__all__ = ["random_projection_overlap", "simulate_hermite_overlap", "random_projection_traces",
           "random_projection_sample_complexity", "power_law_losses", "calibrate_power_law"]

def random_projection_overlap(input_dim, degree):
    """``E[cos^(2k) theta]`` between a fixed unit vector and a uniformly random one in ``m`` dimensions.

    ``cos^2 theta`` is Beta(1/2, (m-1)/2), whose k-th moment is ``prod_{j<k} (1+2j)/(m+2j)``; for ``k = 1``
    it is ``1/m``. This is the share of a degree-``k`` Hermite component of ``g(u^T x)`` that a module
    reading ``w^T x`` can express (Mehler: ``E[He_k(u^T x) He_k(w^T x)] / k! = (u^T w)^k``).

    Parameters
    ----------
    input_dim : ``m`` (>= 1), broadcast with ``degree`` (integer ``k >= 0``).
    """
    from scipy.special import gammaln

    m = check_input_dim(input_dim)
    k = validation.whole_array(degree, "degree", low=0, min_size=1).astype(float)
    try:
        validation.check_size(int(np.prod(np.broadcast_shapes(m.shape, k.shape), dtype=object)),
                              "the broadcast of input_dim and degree")
    except ValueError as exc:
        if "asks for" in str(exc):
            raise
        raise ValueError(f"input_dim and degree must broadcast together: {exc}") from None
    return np.exp(gammaln(k + 0.5) - gammaln(0.5) + gammaln(m / 2) - gammaln(k + m / 2))


def simulate_hermite_overlap(degree: int, cos_angle: float, n_samples: int = 200_000, seed: int = 0):
    """Monte Carlo of ``E[h_k(u^T x) h_k(w^T x)]`` for unit vectors with ``u^T w = cos_angle`` and
    ``x ~ N(0, I)``, with ``h_k = He_k / sqrt(k!)`` the normalised probabilists' Hermite polynomial.

    Returns (mean, standard error); the exact value is ``cos_angle**degree``.
    """
    from numpy.polynomial.hermite_e import hermeval
    from math import factorial

    k = validation.whole(degree, "degree", low=1, high=100)
    cos_angle = validation.real(cos_angle, "cos_angle", low=-1.0, high=1.0)
    n_samples = validation.whole(n_samples, "n_samples", low=2)
    validation.check_size(2 * n_samples, "n_samples")
    rng = np.random.default_rng(validation.seed(seed))
    z1, z2 = rng.standard_normal((2, n_samples))
    u_x = z1
    w_x = cos_angle * z1 + np.sqrt(1 - cos_angle ** 2) * z2  # w = cos*u + sin*u_perp
    coef = np.zeros(k + 1)
    coef[k] = 1.0 / np.sqrt(factorial(k))
    prod = hermeval(u_x, coef) * hermeval(w_x, coef)
    return float(prod.mean()), float(prod.std(ddof=1) / np.sqrt(prod.size))


def random_projection_traces(q, input_dim, n_modules: int, alpha: float = 1.0, c: float = 1.0,
                             n_degrees: int = 20_000, *, scale: float | None = None):
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
    c : the spectrum's total variance (> 0); ``scale`` is its deprecated name.

    Returns
    -------
    (seen, missing) float arrays of the broadcast shape.
    """
    c = check_c(c, scale, "random_projection_traces")
    K = validation.whole(n_modules, "n_modules", low=1)
    m = check_input_dim(input_dim)
    if np.any(m < K):
        raise ValueError(f"input_dim (m) must be >= n_modules ({K}) for orthonormal projections, got {input_dim!r}")
    q = validation.array(q, "q", finite=False)
    if np.any(np.isnan(q)) or np.any(q < 0):  # q = inf is allowed: every feature, the loss floor
        raise ValueError(f"q must be >= 0 (inf allowed), got {q!r}"[:300])
    alpha = validation.real(alpha, "alpha", low=0.0, low_open=True)
    n_degrees = validation.whole(n_degrees, "n_degrees", low=1)
    try:
        shape = np.broadcast_shapes(m.shape, q.shape)
    except ValueError as exc:
        raise ValueError(f"q and input_dim must broadcast together: {exc}") from None
    validation.check_size(np.unique(m).size * n_degrees, "n_degrees times the distinct input_dim values")
    validation.check_size(int(np.prod(shape, dtype=object)), "the broadcast of q and input_dim")
    k = np.arange(1, n_degrees + 1, dtype=float)
    lam = c * (k ** -alpha - (k + 1) ** -alpha)
    m_flat = np.unique(m)
    cum = np.cumsum(lam * random_projection_overlap(m_flat[:, None], k[None, :]), axis=1)
    cum = np.concatenate([np.zeros((m_flat.size, 1)), cum], axis=1)
    m_b, q_b = np.broadcast_arrays(m, q)
    rows = np.searchsorted(m_flat, m_b)
    cols = np.minimum(q_b, n_degrees).astype(int)  # beyond n_degrees the terms are negligible (O(k^-1-m/2))
    seen = K * cum[rows, cols]
    return seen, np.maximum(c - seen, 0.0)


def random_projection_sample_complexity(target, input_dim, n_modules: int, *, alpha: float = 1.0,
                                        c: float = 1.0, d: int = 1, noise: float = 0.0,
                                        p_max: float = 1e12, p_points: int = 400, return_p: bool = False,
                                        warn_unreachable: bool = True, scale: float | None = None):
    """Sample complexity of a modular network with random orthonormal projections (``b = 1``), best ``p``.

    Explained in the chapter :doc:`/book/theory_modular`.

    Uses :func:`random_projection_traces`; ``p = K*q`` features in all. Unreachable targets (below the
    noise floor that mismatched projections leave) give ``inf``, with a ``RuntimeWarning`` if
    ``warn_unreachable``. ``c`` is the spectrum's total variance (> 0); ``scale`` its deprecated name.
    """
    c = check_c(c, scale, "random_projection_sample_complexity")
    target, d, noise = check_target_d_noise(target, d, noise)
    K = validation.whole(n_modules, "n_modules", low=1)
    return_p = validation.boolean(return_p, "return_p")
    warn_unreachable = validation.boolean(warn_unreachable, "warn_unreachable")
    try:
        target, m = np.broadcast_arrays(target, check_input_dim(input_dim))
    except ValueError as exc:
        raise ValueError(f"target and input_dim must broadcast together: {exc}") from None
    p_arr = p_grid(K, p_max, p_points).reshape((1,) * target.ndim + (-1,))
    validation.check_size(target.size * p_arr.size, "the targets times p_points")
    seen, missing = random_projection_traces(p_arr / K, m[..., None], K, alpha, c)
    n_star, p_used = best_over_p(target[..., None], p_arr, seen, missing, d, noise, search=True,
                                  warn=warn_unreachable)
    return (n_star, p_used) if return_p else n_star


# ---------------------------------------------------------------------------------------------------------
# Calibrating the theory to trained networks
# ---------------------------------------------------------------------------------------------------------
def power_law_losses(n, p, input_dim, alpha: float = 1.0, c: float = 1.0, d: int = 1, noise: float = 0.0, *,
                     scale: float | None = None):
    """Expected (train, test) loss under the infinite default power law on ``m = input_dim`` dimensions.

    ``Tr Lambda_2(p) = c*(p+1)^(-alpha/m)`` and ``Tr Lambda_1 = c - Tr Lambda_2``; ``n``, ``p`` and ``input_dim``
    broadcast. This is what the theory predicts for a network with ``p`` parameters trained on ``n`` samples.
    ``c`` (> 0) is the spectrum's total variance; ``scale`` its deprecated name.
    """
    c = check_c(c, scale, "power_law_losses")
    n = check_positive_int_array("n", n)
    p = check_positive_int_array("p", p)
    d = validation.whole(d, "d", low=1)
    a = exponent_inverse_dim(input_dim, alpha)
    missing = power_law_tail(p, a, c)
    return losses_from_traces(d * n, p, c - missing, missing, d=d, noise=noise)


def calibrate_power_law(n, p, input_dim, test_loss, *, peak_band: float = 0.3, alphas=None, c_values=None,
                        scales=None):
    """Fit the power law's ``alpha`` and ``c`` to measured test losses by least squares in ``log`` loss.

    Points with ``|n - p| <= peak_band * p`` are left out: there the theory's test loss diverges, which no
    finite measurement can match; so are losses that are NaN, infinite or not positive (failed
    measurements). A grid search over ``alphas`` x ``c_values`` (vectorised; by default 241 log-spaced
    values each, alpha in 0.05..20 and c in 0.01..10) returns the best pair. ``scales`` is the deprecated
    name of ``c_values``.

    Returns
    -------
    dict with ``alpha``, ``c``, ``rmse_log10`` (the fit's root-mean-square error in decades) and
    ``n_points`` used; also ``scale``, the same number as ``c`` under its old name, kept for one release.
    """
    if scales is not None:
        import warnings

        warnings.warn("calibrate_power_law(scales=...) is deprecated: use c_values", DeprecationWarning, stacklevel=2)
        if c_values is not None:
            raise TypeError("calibrate_power_law: give c_values once (scales is its deprecated name)")
        c_values = scales
    n = validation.real_array(n, "n", low=1.0)
    p = validation.real_array(p, "p", low=1.0)
    m = check_input_dim(input_dim)
    loss = validation.array(test_loss, "test_loss", finite=False)
    peak_band = validation.real(peak_band, "peak_band", low=0.0)
    try:
        n, p, m, loss = (v.ravel() for v in np.broadcast_arrays(n, p, m, loss))
    except ValueError as exc:
        raise ValueError(f"n, p, input_dim and test_loss must broadcast together: {exc}") from None
    with np.errstate(invalid="ignore"):
        keep = (np.abs(n - p) > peak_band * p) & np.isfinite(loss) & (loss > 0)
    if keep.sum() < 2:
        raise ValueError("calibrate_power_law needs at least two finite, positive test_loss values away from the "
                         "peak")
    n, p, m, loss = n[keep], p[keep], m[keep], loss[keep]
    alphas = (np.geomspace(0.05, 20, 241) if alphas is None
              else validation.real_array(alphas, "alphas", low=0.0, low_open=True, ndim=1, min_size=1))
    c_values = (np.geomspace(0.01, 10, 241) if c_values is None
                else validation.real_array(c_values, "c_values", low=0.0, low_open=True, ndim=1, min_size=1))
    validation.check_size(alphas.size * c_values.size * n.size, "alphas x c_values x the points")
    A, C = np.meshgrid(alphas, c_values, indexing="ij")
    tail = C[..., None] * (p + 1.0) ** (-A[..., None] / m)
    _, test = losses_from_traces(n, p, C[..., None] - tail, tail)
    err = np.mean((np.log10(test) - np.log10(loss)) ** 2, axis=-1)
    i, j = np.unravel_index(np.nanargmin(err), err.shape)
    return {"alpha": float(A[i, j]), "c": float(C[i, j]), "rmse_log10": float(np.sqrt(err[i, j])),
            "n_points": int(keep.sum()), "scale": float(C[i, j])}
