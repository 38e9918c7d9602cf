"""Sample complexity of the linear model: the fewest samples that reach a target loss (numpy only)."""

from __future__ import annotations

import numpy as np

from ..core import Boolean, Choice, OrNone, Real, Whole, check_geometry, check_size, validated
from ._checks import COUNTS, INPUT_DIM, NOISE, OUTPUTS, POSITIVE, TARGET, C, broadcast_shape
from ._spectra import tail_variance

__all__ = ["sample_complexity"]

#: The rules of the search over ``p`` (shared with the sample complexity of random projections).
P_SEARCH = {"p_max": Real(low=lambda a: float(a.get("n_modules") or 1), high=1e300), "p_points": Whole(1, 10**6)}


def smallest_n(target, p, trace_seen, trace_missing, d: int, noise):
    """Smallest integer ``n >= 1`` whose expected test loss is ``<= target`` at fixed ``p``; ``inf`` if none.

    Both regimes are solved exactly. Under-parameterised (``N > p+1``) the test loss ``B*(N-1)/(N-p-1)``,
    with ``B = d*(trace_missing + noise)``, decreases in ``N`` and reaches ``target`` at
    ``N = p + 1 + B*p/(target - B)`` when ``target > B``. Over-parameterised (``N < p-1``) the loss
    ``A*(1 - N/p) + B*(p-1)/(p-1-N)``, ``A = d*trace_seen``, is convex in ``N``; multiplying out
    ``(p-1-N) > 0`` turns the condition into a quadratic inequality whose smaller root is the answer.
    """
    target, p, A, B = np.broadcast_arrays(
        *(
            np.asarray(v, dtype=float)
            for v in (
                target,
                p,
                d * np.asarray(trace_seen, dtype=float),
                d * (np.asarray(trace_missing, dtype=float) + np.asarray(noise, dtype=float)),
            )
        )
    )
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        # Under-parameterised branch; N must also exceed p + 1.
        N_under = np.where(target > B, p + 1 + B * p / (target - B), np.inf)
        n_under = np.maximum(np.ceil(N_under / d), np.floor((p + 1) / d) + 1)
        n_under = np.where(np.isfinite(N_under), n_under, np.inf)
        # Over-parameterised branch: (A/p) N^2 + (target - A(2p-1)/p) N + (A + B - target)(p - 1) <= 0.
        a2 = A / p
        a1 = target - A * (2 * p - 1) / p
        a0 = (A + B - target) * (p - 1)
        disc = a1**2 - 4 * a2 * a0
        root = np.sqrt(np.maximum(disc, 0.0))
        lo = np.where(a2 > 0, (-a1 - root) / (2 * a2), np.where(a1 > 0, -np.inf, -a0 / np.where(a1 == 0, 1, a1)))
        hi = np.where(a2 > 0, (-a1 + root) / (2 * a2), np.where(a1 > 0, -a0 / np.where(a1 == 0, 1, a1), np.inf))
        n_over = np.maximum(np.ceil(np.maximum(lo, 0.0) / d), 1.0)
        feasible = (disc >= 0) & (d * n_over <= np.minimum(hi, p - 2))
        n_over = np.where(feasible, n_over, np.inf)
    return np.minimum(n_under, n_over)


def p_grid(n_modules: int, p_max: float, p_points: int) -> np.ndarray:
    """Log-spaced numbers of features up to ``p_max``, whole multiples of ``n_modules`` (checked arguments)."""
    q = np.unique(np.round(np.logspace(0, np.log10(p_max / n_modules), p_points)))
    return n_modules * q


def best_over_p(target, p, trace_seen, trace_missing, d, noise, search: bool, warn: bool = True):
    """Smallest ``n`` at each ``p`` and, if ``search``, the best ``p`` along the last axis; warns on ``inf``."""
    n_star = smallest_n(target, p, trace_seen, trace_missing, d, noise)
    p_used = np.broadcast_to(p, n_star.shape)
    if search:
        best = np.argmin(n_star, axis=-1)[..., None]
        n_star = np.take_along_axis(n_star, best, axis=-1)[..., 0]
        p_used = np.take_along_axis(p_used, best, axis=-1)[..., 0]
    if warn and np.any(np.isinf(n_star)):
        import warnings

        warnings.warn(
            f"{int(np.isinf(n_star).sum())} target(s) cannot be reached (at or below the irreducible "
            f"loss, or not with p <= p_max); their sample complexity is inf",
            RuntimeWarning,
            stacklevel=3,
        )
    return n_star, p_used


def _dimensions(input_dim, n_modules: int | None, module_dim: int) -> np.ndarray:
    """The dimensions the exponent depends on: ``m`` for a monolithic model, ``b`` for a modular one (broadcast
    to the shape of ``input_dim`` when given, though the answer does not depend on it)."""
    if n_modules is None:
        if input_dim is None:
            raise ValueError("input_dim (m) is required for a monolithic model (n_modules=None)")
        return input_dim
    dims = np.asarray(float(module_dim))
    if input_dim is None:
        return dims
    check_geometry(n_modules, module_dim, float(input_dim.min()), what="sample_complexity's modular model")
    return dims + 0.0 * input_dim


@validated(
    target=TARGET,
    input_dim=OrNone(INPUT_DIM),
    exponent=Choice(("inverse_dim", "geometric")),
    alpha=POSITIVE,
    omega=Real(1.0, low_open=True),
    c=C,
    n_modules=OrNone(Whole(1, 10**12)),
    module_dim=Whole(1, 10**12),
    d=OUTPUTS,
    noise=NOISE,
    p=OrNone(COUNTS),
    **P_SEARCH,
    return_p=Boolean(),
    warn_unreachable=Boolean(),
)
def sample_complexity(
    target,
    input_dim=None,
    *,
    exponent: str = "inverse_dim",
    alpha: float = 1.0,
    omega: float = 1.2,
    c: float = 1.0,
    n_modules: int | None = None,
    module_dim: int = 1,
    d: int = 1,
    noise: float = 0.0,
    p=None,
    p_max: float = 1e12,
    p_points: int = 400,
    return_p: bool = False,
    warn_unreachable: bool = True,
):
    """The smallest ``n`` whose expected test loss reaches ``target``, for a monolithic or a modular model.

    Explained in the chapter :doc:`/book/theory_dimension`.

    The task's spectrum is the infinite telescoping power law with total variance ``c`` (> 0) per output
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
    input_dim : ``m`` (>= 1), scalar or array. Required for monolithic models; for modular ones, when given,
        ``n_modules * module_dim <= input_dim`` is required (the modules' orthogonal projections must fit).
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
    K = 1 if n_modules is None else n_modules
    dims = _dimensions(input_dim, n_modules, module_dim)
    a = alpha / dims if exponent == "inverse_dim" else omega ** (-dims)
    broadcast_shape("target and input_dim", target, a)
    target, a = np.broadcast_arrays(target, a)
    if p is None:
        p_arr = p_grid(K, p_max, p_points).reshape((1,) * target.ndim + (-1,))
        check_size(target.size * p_arr.size, "the targets times p_points")
        tgt, a_ = target[..., None], a[..., None]
    else:
        p_arr = p.astype(float)
        tgt, a_ = target, a
        broadcast_shape("p and target", p_arr, target)
    missing = tail_variance(p_arr / K, a_, c)
    n_star, p_used = best_over_p(tgt, p_arr, c - missing, missing, d, noise, search=p is None, warn=warn_unreachable)
    return (n_star, p_used) if return_p else n_star
