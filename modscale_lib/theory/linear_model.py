"""Closed forms of the linear random-feature model of generalisation (numpy only, no torch).

The model is the one restated in the book's theory chapters: white Gaussian features, task weights
``theta_i ~ N(0, lambda_i)``, a network that sees the first ``p`` features, and the minimum-norm
least-squares fit to ``N = d*n`` scalar equations.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

__all__ = [
    "pinv_frobenius_moment", "simulate_pinv_frobenius_moment", "losses_from_traces", "expected_losses",
    "simulate_losses", "SimulatedLosses", "exponent_inverse_dim", "exponent_geometric", "telescoping_spectrum",
    "power_law_tail", "power_law_spectrum", "geometric_spectrum", "modular_spectrum", "sample_complexity",
    "random_projection_overlap", "simulate_hermite_overlap", "random_projection_traces",
    "random_projection_sample_complexity", "power_law_losses", "calibrate_power_law",
]


def _check_positive_int_array(name: str, value) -> np.ndarray:
    arr = np.asarray(value)
    if arr.size == 0:
        raise ValueError(f"{name} must be non-empty")
    if not np.issubdtype(arr.dtype, np.number) or np.any(~np.isfinite(arr)):
        raise ValueError(f"{name} must be finite numbers, got {value!r}")
    if np.any(arr < 1):
        raise ValueError(f"{name} must be >= 1, got minimum {arr.min()!r}")
    if np.any(arr != np.round(arr)):
        raise ValueError(f"{name} must be whole numbers, got {value!r}")
    return arr.astype(np.int64)


def pinv_frobenius_moment(N, p):
    """``F(N, p) = E ||R^+||_F^2`` for an ``N x p`` matrix ``R`` of i.i.d. standard normal entries.

    By the inverse-Wishart mean, ``F = p / (N - p - 1)`` when ``N > p + 1`` and ``N / (p - N - 1)`` when
    ``p > N + 1``; it is infinite when ``|N - p| <= 1``.

    Parameters
    ----------
    N, p : int or integer arrays (broadcast together), each >= 1. ``N`` is the number of equations
        (rows), ``p`` the number of unknowns (columns).

    Returns
    -------
    float array of the broadcast shape (a 0-d array for scalar inputs), ``inf`` near ``N = p``.
    """
    N = _check_positive_int_array("N", N).astype(float)
    p = _check_positive_int_array("p", p).astype(float)
    return _pinv_moment(N, p)


def _pinv_moment(N, p) -> np.ndarray:
    """:func:`pinv_frobenius_moment` on validated float arrays (shared with the loss formulas)."""
    N, p = np.broadcast_arrays(np.asarray(N, dtype=float), np.asarray(p, dtype=float))
    out = np.full(N.shape, np.inf)
    under = N > p + 1
    over = p > N + 1
    out[under] = p[under] / (N[under] - p[under] - 1)
    out[over] = N[over] / (p[over] - N[over] - 1)
    return out


def simulate_pinv_frobenius_moment(N: int, p: int, trials: int = 1000, seed: int = 0) -> tuple[float, float]:
    """Monte Carlo estimate of ``E ||R^+||_F^2``, through the singular values of sampled matrices.

    ``||R^+||_F^2`` is the sum of the inverse squared non-zero singular values of ``R``, which avoids forming
    the pseudo-inverse and so is an independent path from :func:`pinv_frobenius_moment`.

    Returns
    -------
    (mean, standard error of the mean), both floats.
    """
    N = int(_check_positive_int_array("N", N))
    p = int(_check_positive_int_array("p", p))
    if int(trials) < 2:
        raise ValueError(f"trials must be >= 2 to estimate a standard error, got {trials!r}")
    rng = np.random.default_rng(seed)
    R = rng.standard_normal((int(trials), N, p))
    s = np.linalg.svd(R, compute_uv=False)  # (trials, min(N, p)); full rank with probability one
    values = np.sum(s ** -2.0, axis=1)
    return float(values.mean()), float(values.std(ddof=1) / np.sqrt(values.size))


# ---------------------------------------------------------------------------------------------------------
# Validation helpers
# ---------------------------------------------------------------------------------------------------------
def _check_spectrum(spectrum, min_length: int = 1) -> np.ndarray:
    lam = np.asarray(spectrum, dtype=float)
    if lam.ndim != 1 or lam.size == 0:
        raise ValueError(f"spectrum must be a non-empty 1-D array of eigenvalues, got shape {lam.shape}")
    if not np.all(np.isfinite(lam)) or np.any(lam < 0):
        raise ValueError("spectrum must hold finite, non-negative eigenvalues")
    if np.any(np.diff(lam) > 0):
        raise ValueError("spectrum must be sorted in descending order (lambda_1 >= lambda_2 >= ...)")
    if lam.size < min_length:
        raise ValueError(f"spectrum is too short: it has {lam.size} eigenvalues but p goes up to {min_length}; "
                         f"need len(spectrum) >= max(p)")
    return lam


def _check_nonnegative(name: str, value) -> np.ndarray:
    arr = np.asarray(value, dtype=float)
    if np.any(~np.isfinite(arr)) or np.any(arr < 0):
        raise ValueError(f"{name} must be finite and >= 0, got {value!r}")
    return arr


def _check_input_dim(input_dim) -> np.ndarray:
    m = np.asarray(input_dim, dtype=float)
    if np.any(~np.isfinite(m)) or np.any(m < 1):
        raise ValueError(f"input_dim (m) must be >= 1, got {input_dim!r}")
    return m


# ---------------------------------------------------------------------------------------------------------
# Expected losses
# ---------------------------------------------------------------------------------------------------------
def losses_from_traces(N, p, trace_seen, trace_missing, d: int = 1, noise=0.0):
    """Expected (train, test) loss from the two traces of the split spectrum, broadcasting over arrays.

    This is the core of :func:`expected_losses`; it also serves the infinite spectra whose traces have
    closed forms. With ``s2 = trace_missing + noise`` (the missing features act as label noise):

    * ``N > p + 1`` (under-parameterised): train ``d*s2*(1 - p/N)``, test ``d*s2*(1 + F(N, p))``;
    * ``p > N + 1`` (over-parameterised): train ``0``, test ``d*trace_seen*(1 - N/p) + d*s2*(1 + F(N, p))``;
    * ``|N - p| <= 1``: test ``inf`` (unless ``s2 = 0``: then only the bias remains); train as above.

    Parameters
    ----------
    N : number of scalar equations ``d*n`` (>= 1). p : number of features seen (>= 1).
    trace_seen, trace_missing : ``Tr Lambda_1`` and ``Tr Lambda_2`` (>= 0), broadcast with ``N`` and ``p``.
    d : number of outputs; losses are per sample and summed over outputs. noise : label-noise variance.

    Returns
    -------
    (train, test) : float arrays of the broadcast shape.
    """
    N, p = np.broadcast_arrays(np.asarray(N, dtype=float), np.asarray(p, dtype=float))
    s2 = np.asarray(trace_missing, dtype=float) + np.asarray(noise, dtype=float)
    seen = np.asarray(trace_seen, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        F = _pinv_moment(N, p)
        train = np.where(N > p, d * s2 * (1.0 - p / N), 0.0)
        bias = np.where(p > N, d * seen * (1.0 - N / p), 0.0)
        # With nothing missing and no noise the fit is exact at N >= p: 0 * inf is 0 here, not nan.
        test = bias + np.where(s2 > 0, d * s2 * (1.0 + F), 0.0)
    return train * np.ones_like(test), test


def expected_losses(n, p, spectrum, d: int = 1, noise: float = 0.0):
    """Closed-form expected train and test loss of the minimum-norm fit in the linear model.

    The task is ``y = phi(x)^T theta`` with i.i.d. standard normal features and ``theta_i ~ N(0, lambda_i)``;
    the network sees the first ``p`` features and fits ``N = d*n`` scalar equations by minimum-norm least
    squares. Losses are per sample and summed over the ``d`` outputs (see :func:`losses_from_traces`).

    Parameters
    ----------
    n : number of training samples, int or integer array (>= 1).
    p : number of features (parameters) the network sees, int or integer array (>= 1); broadcast with ``n``.
    spectrum : 1-D array of eigenvalues ``lambda``, sorted descending, of length ``P >= max(p)``.
        Features beyond the array do not exist; add the mass of an infinite tail to ``noise``.
    d : number of outputs (>= 1).
    noise : label-noise variance per output (>= 0).

    Returns
    -------
    (train, test) : float arrays of the broadcast shape of ``n`` and ``p``; ``test`` is ``inf`` where
    ``|d*n - p| <= 1``.
    """
    n = _check_positive_int_array("n", n)
    p = _check_positive_int_array("p", p)
    d = int(_check_positive_int_array("d", d))
    noise = _check_nonnegative("noise", noise)
    lam = _check_spectrum(spectrum, min_length=int(p.max()))
    cumulative = np.concatenate([[0.0], np.cumsum(lam)])
    seen = cumulative[p]
    missing = cumulative[-1] - seen
    return losses_from_traces(d * n, p, seen, np.maximum(missing, 0.0), d=d, noise=noise)


class SimulatedLosses(NamedTuple):
    """Monte Carlo means of the train and test loss, with their standard errors."""

    train: float
    test: float
    train_se: float
    test_se: float


def simulate_losses(n: int, p: int, spectrum, d: int = 1, noise: float = 0.0, trials: int = 200,
                    seed: int = 0) -> SimulatedLosses:
    """Monte Carlo of the linear model, by an independent code path: sample, solve, measure.

    Each trial draws task weights ``theta ~ N(0, diag(spectrum))``, ``n`` training inputs (each gives a
    ``P x d`` block of standard normal features, so ``N = d*n`` rows), labels with Gaussian noise, and the
    minimum-norm least-squares fit on the first ``p`` features (via the SVD-based pseudo-inverse). The train loss
    is measured on the training set; the test loss is the exact expectation over a fresh input given the
    fitted weights, ``d*(||theta_seen - theta_hat||^2 + ||theta_missing||^2 + noise)``, which for Gaussian
    features is what an infinite test set would measure.

    Returns
    -------
    :class:`SimulatedLosses` (train, test, train_se, test_se): means over ``trials`` and their standard errors.
    """
    n = int(_check_positive_int_array("n", n))
    p = int(_check_positive_int_array("p", p))
    d = int(_check_positive_int_array("d", d))
    noise = float(_check_nonnegative("noise", noise))
    lam = _check_spectrum(spectrum, min_length=p)
    if int(trials) < 2:
        raise ValueError(f"trials must be >= 2 to estimate a standard error, got {trials!r}")
    rng = np.random.default_rng(seed)
    N, trials = d * n, int(trials)
    train, test = np.empty(trials), np.empty(trials)
    chunk = max(1, int(2e7 // (N * lam.size)))  # trials per batch, bounding memory to ~160 MB
    for start in range(0, trials, chunk):
        T = min(chunk, trials - start)
        theta = rng.standard_normal((T, lam.size)) * np.sqrt(lam)
        phi = rng.standard_normal((T, N, lam.size))
        y = np.einsum("tnP,tP->tn", phi, theta) + np.sqrt(noise) * rng.standard_normal((T, N))
        # Minimum-norm least squares through the SVD-based pseudo-inverse, batched over trials.
        theta_hat = np.einsum("tpn,tn->tp", np.linalg.pinv(phi[:, :, :p]), y)
        resid = y - np.einsum("tnp,tp->tn", phi[:, :, :p], theta_hat)
        train[start:start + T] = np.sum(resid ** 2, axis=1) / n
        test[start:start + T] = d * (np.sum((theta[:, :p] - theta_hat) ** 2, axis=1)
                                     + np.sum(theta[:, p:] ** 2, axis=1) + noise)
    se = lambda v: float(v.std(ddof=1) / np.sqrt(v.size))  # noqa: E731
    return SimulatedLosses(float(train.mean()), float(test.mean()), se(train), se(test))


# ---------------------------------------------------------------------------------------------------------
# Spectra: how the input dimension m enters
# ---------------------------------------------------------------------------------------------------------
def exponent_inverse_dim(input_dim, alpha: float = 1.0):
    """The decay exponent ``a = alpha / m`` of the default power law (the data-manifold scaling argument)."""
    m = _check_input_dim(input_dim)
    if not alpha > 0:
        raise ValueError(f"alpha must be > 0, got {alpha!r}")
    return alpha / m


def exponent_geometric(input_dim, omega: float = 1.2):
    """The decay exponent ``a = omega^(-m)`` of the variant a third party reads in the paper (``omega > 1``)."""
    m = _check_input_dim(input_dim)
    if not omega > 1:
        raise ValueError(f"omega must be > 1, got {omega!r}")
    return omega ** (-m)


def telescoping_spectrum(P: int, exponent: float, scale: float = 1.0) -> np.ndarray:
    """``lambda_i = c*(i^-a - (i+1)^-a)`` for ``i = 1..P``: a power law whose tail is ``c*(p+1)^-a``.

    The sum of all (infinitely many) eigenvalues is ``c`` (``scale``); the ``P`` returned hold
    ``c*(1 - (P+1)^-a)`` of it, and :func:`power_law_tail` gives the rest.
    """
    P = int(_check_positive_int_array("P", P))
    if not (np.isfinite(exponent) and exponent > 0):
        raise ValueError(f"exponent must be > 0, got {exponent!r}")
    if not (np.isfinite(scale) and scale > 0):
        raise ValueError(f"scale (c) must be > 0, got {scale!r}")
    i = np.arange(1, P + 1, dtype=float)
    return scale * (i ** -exponent - (i + 1) ** -exponent)


def power_law_tail(p, exponent, scale: float = 1.0):
    """``Tr Lambda_2(p) = c*(p+1)^-a``: the variance of all features beyond the first ``p`` (``p >= 0``)."""
    p = _check_nonnegative("p", p)
    return scale * (p + 1.0) ** -np.asarray(exponent, dtype=float)


def power_law_spectrum(P: int, input_dim: int, alpha: float = 1.0, scale: float = 1.0) -> np.ndarray:
    """The default spectrum of a task on ``m = input_dim`` dimensions: telescoping, exponent ``alpha/m``."""
    return telescoping_spectrum(P, float(exponent_inverse_dim(input_dim, alpha)), scale)


def geometric_spectrum(P: int, input_dim: int, omega: float = 1.2, scale: float = 1.0) -> np.ndarray:
    """The variant spectrum: telescoping, exponent ``omega^(-m)``."""
    return telescoping_spectrum(P, float(exponent_geometric(input_dim, omega)), scale)


def modular_spectrum(module_spectrum, n_modules: int) -> np.ndarray:
    """The spectrum of a sum of ``K`` independent modules: ``K`` copies of ``module_spectrum``, each ``/K``.

    The task ``y = K^-1/2 sum_j y_j`` scales each module's variance by ``1/K``; sorted descending, the copies
    interleave, so the first ``p = K*q`` features are the first ``q`` of every module.
    """
    K = int(_check_positive_int_array("n_modules", n_modules))
    lam = _check_spectrum(module_spectrum)
    return np.repeat(lam / K, K)


# ---------------------------------------------------------------------------------------------------------
# Sample complexity
# ---------------------------------------------------------------------------------------------------------
def _smallest_n(target, p, trace_seen, trace_missing, d: int, noise):
    """Smallest integer ``n >= 1`` whose expected test loss is ``<= target`` at fixed ``p``; ``inf`` if none.

    Both regimes are solved exactly. Under-parameterised (``N > p+1``) the test loss ``B*(N-1)/(N-p-1)``,
    with ``B = d*(trace_missing + noise)``, decreases in ``N`` and reaches ``target`` at
    ``N = p + 1 + B*p/(target - B)`` when ``target > B``. Over-parameterised (``N < p-1``) the loss
    ``A*(1 - N/p) + B*(p-1)/(p-1-N)``, ``A = d*trace_seen``, is convex in ``N``; multiplying out
    ``(p-1-N) > 0`` turns the condition into a quadratic inequality whose smaller root is the answer.
    """
    target, p, A, B = np.broadcast_arrays(*(np.asarray(v, dtype=float) for v in (
        target, p, d * np.asarray(trace_seen, dtype=float),
        d * (np.asarray(trace_missing, dtype=float) + np.asarray(noise, dtype=float)))))
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        # Under-parameterised branch; N must also exceed p + 1.
        N_under = np.where(target > B, p + 1 + B * p / (target - B), np.inf)
        n_under = np.maximum(np.ceil(N_under / d), np.floor((p + 1) / d) + 1)
        n_under = np.where(np.isfinite(N_under), n_under, np.inf)
        # Over-parameterised branch: (A/p) N^2 + (target - A(2p-1)/p) N + (A + B - target)(p - 1) <= 0.
        a2 = A / p
        a1 = target - A * (2 * p - 1) / p
        a0 = (A + B - target) * (p - 1)
        disc = a1 ** 2 - 4 * a2 * a0
        root = np.sqrt(np.maximum(disc, 0.0))
        lo = np.where(a2 > 0, (-a1 - root) / (2 * a2), np.where(a1 > 0, -np.inf, -a0 / np.where(a1 == 0, 1, a1)))
        hi = np.where(a2 > 0, (-a1 + root) / (2 * a2), np.where(a1 > 0, -a0 / np.where(a1 == 0, 1, a1), np.inf))
        n_over = np.maximum(np.ceil(np.maximum(lo, 0.0) / d), 1.0)
        feasible = (disc >= 0) & (d * n_over <= np.minimum(hi, p - 2))
        n_over = np.where(feasible, n_over, np.inf)
    return np.minimum(n_under, n_over)


def _check_target_d_noise(target, d, noise) -> tuple[np.ndarray, int, float]:
    target = np.asarray(target, dtype=float)
    if np.any(~np.isfinite(target)) or np.any(target <= 0):
        raise ValueError(f"target must be finite and > 0, got {target!r}")
    return target, int(_check_positive_int_array("d", d)), float(_check_nonnegative("noise", noise))


def _p_grid(n_modules: int, p_max: float, p_points: int) -> np.ndarray:
    """Log-spaced numbers of features up to ``p_max``, whole multiples of ``n_modules``."""
    if not p_max >= n_modules:
        raise ValueError(f"p_max must be >= n_modules ({n_modules}), got {p_max!r}")
    q = np.unique(np.round(np.logspace(0, np.log10(p_max / n_modules), int(p_points))))
    return n_modules * q


def _best_over_p(target, p, trace_seen, trace_missing, d, noise, search: bool, warn: bool = True):
    """Smallest ``n`` at each ``p`` and, if ``search``, the best ``p`` along the last axis; warns on ``inf``."""
    n_star = _smallest_n(target, p, trace_seen, trace_missing, d, noise)
    p_used = np.broadcast_to(p, n_star.shape)
    if search:
        best = np.argmin(n_star, axis=-1)[..., None]
        n_star = np.take_along_axis(n_star, best, axis=-1)[..., 0]
        p_used = np.take_along_axis(p_used, best, axis=-1)[..., 0]
    if warn and np.any(np.isinf(n_star)):
        import warnings

        warnings.warn(f"{int(np.isinf(n_star).sum())} target(s) cannot be reached (at or below the irreducible "
                      f"loss, or not with p <= p_max); their sample complexity is inf", RuntimeWarning,
                      stacklevel=3)
    return n_star, p_used


def sample_complexity(target, input_dim=None, *, exponent: str = "inverse_dim", alpha: float = 1.0,
                      omega: float = 1.2, scale: float = 1.0, n_modules: int | None = None, module_dim: int = 1,
                      d: int = 1, noise: float = 0.0, p=None, p_max: float = 1e12, p_points: int = 400,
                      return_p: bool = False, warn_unreachable: bool = True):
    """The smallest ``n`` whose expected test loss reaches ``target``, for a monolithic or a modular model.

    The task's spectrum is the infinite telescoping power law with total variance ``scale`` (``c``) per output
    and exponent ``a``: ``alpha/m`` (``exponent="inverse_dim"``, the default) or ``omega^(-m)``
    (``exponent="geometric"``). Its traces have closed forms, ``Tr Lambda_2(p) = c*(p+1)^-a``, so nothing is
    truncated.

    * Monolithic (``n_modules=None``): the network sees the first ``p`` features of the ``m``-dimensional
      spectrum, ``m = input_dim``.
    * Modular (``n_modules=K``): the task is a sum of ``K`` modules on ``b = module_dim`` dimensions, each
      with variance ``c/K``, and the network's modules see the right projections with ``p/K`` features each,
      so ``Tr Lambda_2(p) = c*(p/K + 1)^-a(b)``: nothing depends on ``input_dim``, which may be omitted.

    Parameters
    ----------
    target : test loss to reach, > 0, in the loss's units (per sample, summed over the ``d`` outputs; the
        variance of ``y`` is ``d*c``). Broadcasts with ``input_dim``.
    input_dim : ``m`` (>= 1), scalar or array. Required for monolithic models.
    p : fixed number of features (>= 1, broadcast), or ``None`` to choose, for each ``target`` and ``m``, the
        ``p`` that needs the fewest samples, over ``p_points`` log-spaced values up to ``p_max`` (multiples of
        ``K`` for modular models).
    return_p : also return the ``p`` used (the best one when ``p`` is ``None``).

    Returns
    -------
    ``n_star`` (float array of the broadcast shape, ``inf`` where the target is unreachable), or
    ``(n_star, p_used)``. An unreachable target (at or below the irreducible loss ``d*(Tr Lambda_2(p) +
    noise)``, or not reached with ``p <= p_max``) gives ``inf`` and a ``RuntimeWarning`` (unless
    ``warn_unreachable=False``, for sweeps where it is expected); it does not raise, so that whole sweeps stay
    vectorised.
    """
    target, d, noise = _check_target_d_noise(target, d, noise)
    if exponent not in ("inverse_dim", "geometric"):
        raise ValueError(f"exponent must be 'inverse_dim' or 'geometric', got {exponent!r}")
    if not (np.isfinite(scale) and scale > 0):
        raise ValueError(f"scale (c) must be > 0, got {scale!r}")
    if n_modules is None:
        if input_dim is None:
            raise ValueError("input_dim (m) is required for a monolithic model (n_modules=None)")
        dims, K = _check_input_dim(input_dim), 1
    else:
        K = int(_check_positive_int_array("n_modules", n_modules))
        dims = np.asarray(float(_check_positive_int_array("module_dim", module_dim)))
        if input_dim is not None:  # broadcast to its shape, though the answer does not depend on it
            dims = dims + 0.0 * _check_input_dim(input_dim)
    a = exponent_inverse_dim(dims, alpha) if exponent == "inverse_dim" else exponent_geometric(dims, omega)
    target, a = np.broadcast_arrays(target, a)
    if p is None:
        p_arr = _p_grid(K, p_max, p_points).reshape((1,) * target.ndim + (-1,))
        tgt, a_ = target[..., None], a[..., None]
    else:
        p_arr = _check_positive_int_array("p", p).astype(float)
        tgt, a_ = target, a
    missing = power_law_tail(p_arr / K, a_, scale)
    n_star, p_used = _best_over_p(tgt, p_arr, scale - missing, missing, d, noise, search=p is None,
                                  warn=warn_unreachable)
    return (n_star, p_used) if return_p else n_star


# ---------------------------------------------------------------------------------------------------------
# Modular networks whose projections do not match the task's
# ---------------------------------------------------------------------------------------------------------
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

    m = _check_input_dim(input_dim)
    k = np.asarray(degree, dtype=float)
    if np.any(k < 0) or np.any(k != np.round(k)):
        raise ValueError(f"degree must be whole numbers >= 0, got {degree!r}")
    return np.exp(gammaln(k + 0.5) - gammaln(0.5) + gammaln(m / 2) - gammaln(k + m / 2))


def simulate_hermite_overlap(degree: int, cos_angle: float, n_samples: int = 200_000, seed: int = 0):
    """Monte Carlo of ``E[h_k(u^T x) h_k(w^T x)]`` for unit vectors with ``u^T w = cos_angle`` and
    ``x ~ N(0, I)``, with ``h_k = He_k / sqrt(k!)`` the normalised probabilists' Hermite polynomial.

    Returns (mean, standard error); the exact value is ``cos_angle**degree``.
    """
    from numpy.polynomial.hermite_e import hermeval
    from math import factorial

    k = int(_check_positive_int_array("degree", degree))
    if not -1 <= cos_angle <= 1:
        raise ValueError(f"cos_angle must lie in [-1, 1], got {cos_angle!r}")
    rng = np.random.default_rng(seed)
    z1, z2 = rng.standard_normal((2, int(n_samples)))
    u_x = z1
    w_x = cos_angle * z1 + np.sqrt(1 - cos_angle ** 2) * z2  # w = cos*u + sin*u_perp
    coef = np.zeros(k + 1)
    coef[k] = 1.0 / np.sqrt(factorial(k))
    prod = hermeval(u_x, coef) * hermeval(w_x, coef)
    return float(prod.mean()), float(prod.std(ddof=1) / np.sqrt(prod.size))


def random_projection_traces(q, input_dim, n_modules: int, alpha: float = 1.0, scale: float = 1.0,
                             n_degrees: int = 20_000):
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

    Returns
    -------
    (seen, missing) float arrays of the broadcast shape.
    """
    K = int(_check_positive_int_array("n_modules", n_modules))
    m = _check_input_dim(input_dim)
    if np.any(m < K):
        raise ValueError(f"input_dim (m) must be >= n_modules ({K}) for orthonormal projections, got {input_dim!r}")
    q = np.asarray(q, dtype=float)
    if np.any(np.isnan(q)) or np.any(q < 0):  # q = inf is allowed: every feature, the loss floor
        raise ValueError(f"q must be >= 0 (inf allowed), got {q!r}")
    k = np.arange(1, int(n_degrees) + 1, dtype=float)
    lam = scale * (k ** -alpha - (k + 1) ** -alpha)
    m_flat = np.unique(m)
    cum = np.cumsum(lam * random_projection_overlap(m_flat[:, None], k[None, :]), axis=1)
    cum = np.concatenate([np.zeros((m_flat.size, 1)), cum], axis=1)
    m_b, q_b = np.broadcast_arrays(m, q)
    rows = np.searchsorted(m_flat, m_b)
    cols = np.minimum(q_b, n_degrees).astype(int)  # beyond n_degrees the terms are negligible (O(k^-1-m/2))
    seen = K * cum[rows, cols]
    return seen, np.maximum(scale - seen, 0.0)


def random_projection_sample_complexity(target, input_dim, n_modules: int, *, alpha: float = 1.0,
                                        scale: float = 1.0, d: int = 1, noise: float = 0.0,
                                        p_max: float = 1e12, p_points: int = 400, return_p: bool = False,
                                        warn_unreachable: bool = True):
    """Sample complexity of a modular network with random orthonormal projections (``b = 1``), best ``p``.

    Uses :func:`random_projection_traces`; ``p = K*q`` features in all. Unreachable targets (below the
    noise floor that mismatched projections leave) give ``inf``, with a ``RuntimeWarning`` if
    ``warn_unreachable``.
    """
    target, d, noise = _check_target_d_noise(target, d, noise)
    K = int(_check_positive_int_array("n_modules", n_modules))
    target, m = np.broadcast_arrays(target, _check_input_dim(input_dim))
    p_grid = _p_grid(K, p_max, p_points).reshape((1,) * target.ndim + (-1,))
    seen, missing = random_projection_traces(p_grid / K, m[..., None], K, alpha, scale)
    n_star, p_used = _best_over_p(target[..., None], p_grid, seen, missing, d, noise, search=True,
                                  warn=warn_unreachable)
    return (n_star, p_used) if return_p else n_star


# ---------------------------------------------------------------------------------------------------------
# Calibrating the theory to trained networks
# ---------------------------------------------------------------------------------------------------------
def power_law_losses(n, p, input_dim, alpha: float = 1.0, scale: float = 1.0, d: int = 1, noise: float = 0.0):
    """Expected (train, test) loss under the infinite default power law on ``m = input_dim`` dimensions.

    ``Tr Lambda_2(p) = c*(p+1)^(-alpha/m)`` and ``Tr Lambda_1 = c - Tr Lambda_2``; ``n``, ``p`` and ``input_dim``
    broadcast. This is what the theory predicts for a network with ``p`` parameters trained on ``n`` samples.
    """
    n = _check_positive_int_array("n", n)
    p = _check_positive_int_array("p", p)
    a = exponent_inverse_dim(input_dim, alpha)
    if not (np.isfinite(scale) and scale > 0):
        raise ValueError(f"scale (c) must be > 0, got {scale!r}")
    missing = power_law_tail(p, a, scale)
    return losses_from_traces(d * n, p, scale - missing, missing, d=d, noise=noise)


def calibrate_power_law(n, p, input_dim, test_loss, *, peak_band: float = 0.3, alphas=None, scales=None):
    """Fit the power law's ``alpha`` and ``c`` to measured test losses by least squares in ``log`` loss.

    Points with ``|n - p| <= peak_band * p`` are left out: there the theory's test loss diverges, which no
    finite measurement can match. A grid search over ``alphas`` x ``scales`` (vectorised; by default 241
    log-spaced values each, alpha in 0.05..20 and c in 0.01..10) returns the best pair.

    Returns
    -------
    dict with ``alpha``, ``scale``, ``rmse_log10`` (the fit's root-mean-square error in decades) and
    ``n_points`` used.
    """
    n, p, m, loss = (np.asarray(v, dtype=float).ravel() for v in np.broadcast_arrays(n, p, input_dim, test_loss))
    keep = (np.abs(n - p) > peak_band * p) & np.isfinite(loss) & (loss > 0)
    if keep.sum() < 2:
        raise ValueError("calibrate_power_law needs at least two finite, positive losses away from the peak")
    n, p, m, loss = n[keep], p[keep], m[keep], loss[keep]
    alphas = np.geomspace(0.05, 20, 241) if alphas is None else np.asarray(alphas, dtype=float)
    scales = np.geomspace(0.01, 10, 241) if scales is None else np.asarray(scales, dtype=float)
    A, C = np.meshgrid(alphas, scales, indexing="ij")
    tail = C[..., None] * (p + 1.0) ** (-A[..., None] / m)
    _, test = losses_from_traces(n, p, C[..., None] - tail, tail)
    err = np.mean((np.log10(test) - np.log10(loss)) ** 2, axis=-1)
    i, j = np.unravel_index(np.nanargmin(err), err.shape)
    return {"alpha": float(A[i, j]), "scale": float(C[i, j]), "rmse_log10": float(np.sqrt(err[i, j])),
            "n_points": int(keep.sum())}
