"""Fit ``log n* = a + alpha log m`` (power) and ``log n* = a + beta m`` (exponential) to censored samples-needed
per (seed, m), with intervals over seeds, and decide which law the data follow.

Estimator. Each entry of ``log_n_star`` (S, M) is measured, censored above (the target was not reached at the
largest ``n`` tried: ``n*`` is larger than the value), censored below (reached already at the smallest ``n``
tried: ``n*`` is at most the value) or missing. Entries are pooled over seeds into one regression:

* nothing censored: least squares;
* some entries censored, but at every ``m`` fewer than half of the seeds on each side (so that the median at
  every ``m`` is measured): the censored-normal (Tobit) likelihood (Tobin 1958), maximised by Newton steps in
  Olsen's parametrisation, in which it is concave (Olsen 1978);
* a median censored at some ``m``: the fit rests on censored values, so it is made with each censored entry at
  its limit and reported as a **bound**. A fitted quantity is linear in the data, ``q = sum_i w_i y_i``; moving
  an entry censored above up (or one censored below down) changes ``q`` by the sign of ``w_i`` (or of
  ``-w_i``). When every such change has one sign, the fit is a lower (or upper) bound, and so is the matching
  end of its interval (the clipped data are a sample of their own population, whose value bounds the truth);
  otherwise there is no bound. The side of the interval that does not hold is set to an infinity.

Intervals. Seeds are the independent units, so the interval is the jackknife over seeds with Student's ``t`` on
``S - 1`` degrees of freedom (the "jackknife-t"): leave each seed out, refit, ``se^2 = (S-1)/S sum (q_i -
mean q)^2``, ``q +- t se``. Without censoring and with every seed measured at every ``m``, a fitted
coefficient is the mean of the seeds' own coefficients and this is exactly Student's interval for that mean,
exact for normal scatter; with censoring it is the jackknife of a smooth estimator. The percentile bootstrap
over seeds (``interval="percentile"``) is offered for comparison: with 5 to 10 seeds it is too narrow
(Efron and Tibshirani 1993), which :func:`~modscale_lib.laws.coverage` measures.

Decision (:func:`~modscale_lib.laws.decide_law`). In log-log coordinates a power law is a straight line and an
exponential is
convex; in semi-log coordinates an exponential is straight and a power law is concave. So the test fits a
quadratic in each: ``slope_change`` is the change of the fitted log-log slope ``d log n*/d log m`` from the
smallest to the largest ``m`` (zero for a power law, about ``beta (m_max - m_min)`` for an exponential), and
``rate_change`` the change of ``d log n*/d m`` (zero for an exponential, ``alpha (1/m_max - 1/m_min) < 0`` for
a power law). A law is rejected when its interval excludes zero; the verdict is the law that is not rejected
while the other is, provided the held-out prediction of the largest ``m`` from the others also favours it. So
a power truth is called exponential only if its ``slope_change`` interval misses zero: at most ``1 -
confidence`` of the time when the intervals hold their level (measured, with the power of the test, by
:func:`~modscale_lib.laws.coverage`). Numpy and scipy only.
"""

from __future__ import annotations

import math

import numpy as np

from .. import core
from ._regression import ABOVE, BELOW, MEASURED, MISSING, interval_from, replicates, tobit, wls

__all__ = [
    "MEASURED",
    "ABOVE",
    "BELOW",
    "MISSING",
    "VERDICTS",
    "INTERVALS",
    "codes_from_labels",
    "fit_law",
    "decide_law",
    "mean_ci",
    "slope_ci",
]

LAWS = ("power", "exponential")
VERDICTS = ("power", "exponential", "flat", "undecided")
INTERVALS = ("jackknife_t", "percentile")
SQRT2 = math.sqrt(2.0)


# -- input ------------------------------------------------------------------------------------------------------
def _counts(value, name: str, arguments=None) -> np.ndarray:
    """(S, M) sample counts: > 0, ``inf`` where not reached, NaN where not measured."""
    n = core.array(value, name, ndim=2, finite=False)
    if np.any(n <= 0):
        raise ValueError(f"{name} must hold sample counts > 0 (inf: not reached, NaN: not measured)")
    return n


@core.validated(n_star=core.Check(_counts))
def codes_from_labels(n_star, censored, n_max: float):
    """``(log_n_star, codes)`` from :func:`modscale_lib.growth.samples_needed_curves`' ``(n_star, censored)``.

    n_star : (S, M) samples needed, ``inf`` where not reached, NaN where not measured. censored : (S, M)
    strings ``""``, ``"above"``, ``"below"``. n_max : the largest ``n`` tried, the lower bound of an entry
    censored above. Returns float (S, M) ``log n*`` and int (S, M) codes (``MEASURED``, ``ABOVE``,
    ``BELOW``, ``MISSING``).
    """
    n, lab = n_star, np.asarray(censored, dtype=object)
    if lab.shape != n.shape:
        raise ValueError(f"censored must have the shape of n_star {n.shape}, got {lab.shape}")
    bad = sorted({str(v) for v in lab.ravel()} - {"", "above", "below"})
    if bad:
        raise ValueError(f"censored must hold '', 'above' or 'below', got {bad}")
    n_max = core.real(n_max, "n_max", low=1.0)
    codes = np.select([np.isnan(n), lab == "above", lab == "below"], [MISSING, ABOVE, BELOW], MEASURED)
    value = np.where(codes == ABOVE, n_max, np.where(codes == MISSING, np.nan, n))
    if np.any(np.isinf(value)):
        raise ValueError("n_star is infinite where censored is not 'above'")
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.log(value), codes.astype(np.int64)


CODE_NAMES = {"measured": MEASURED, "": MEASURED, "above": ABOVE, "below": BELOW, "missing": MISSING}


def _codes(codes) -> np.ndarray:
    """Censoring codes as ints: ints 0..3, or the names of ``CODE_NAMES`` (``""`` is measured, as in
    :mod:`modscale_lib.growth`)."""
    arr = np.asarray(codes)
    if arr.dtype.kind in "UO":
        bad = sorted({str(v) for v in arr.ravel()} - set(CODE_NAMES))
        if bad:
            raise ValueError(f"codes must be 0..3 or one of {sorted(CODE_NAMES)}, got {bad}")
        arr = np.vectorize(CODE_NAMES.get, otypes=[np.int64])(arr) if arr.size else arr.astype(np.int64)
    return core.whole_array(arr, "codes", low=MEASURED, high=MISSING, ndim=2)


def _check(input_dims, log_n_star, codes, confidence, resolution=SQRT2):
    """Validated ``(m, Y, C, confidence, resolution)``, every check before any fitting."""
    m = core.real_array(input_dims, "input_dims", low=0.0, low_open=True, ndim=1, min_size=3)
    if np.ptp(m) == 0:
        raise ValueError(f"input_dims must not be all equal, got {m.tolist()}")
    if np.any(np.diff(m) <= 0):
        raise ValueError(f"input_dims must be strictly increasing (distinct dimensions), got {m.tolist()}")
    Y = core.array(log_n_star, "log_n_star", ndim=2, finite=False)
    if Y.shape[1] != m.size:
        raise ValueError(f"log_n_star must have one column per input dimension ({m.size}), got shape {Y.shape}")
    if Y.shape[0] < 2:
        raise ValueError(f"log_n_star must hold at least 2 seeds (rows), got {Y.shape[0]}")
    C = np.zeros(Y.shape, dtype=np.int64) if codes is None else _codes(codes)
    if C.shape != Y.shape:
        raise ValueError(f"codes must have the shape of log_n_star {Y.shape}, got {C.shape}")
    used = C != MISSING
    if np.any(np.isnan(Y[used])):
        raise ValueError("log_n_star holds NaN where codes does not say missing (code 3)")
    if np.any(np.isinf(Y[used])):
        raise ValueError(
            "log_n_star must be finite: give a target not reached as the log of the largest n tried, "
            "with code ABOVE (1)"
        )
    if np.any(Y[used] < 0):
        raise ValueError(f"log_n_star must be >= 0 (n* >= 1 sample); its smallest is {Y[used].min():.4g}")
    per_m = used.sum(axis=0)
    if np.any(per_m < 2):
        raise ValueError(
            f"log_n_star must have at least 2 seeds that are not missing at every m; input_dims "
            f"{m[per_m < 2].tolist()} have {per_m[per_m < 2].tolist()}"
        )
    confidence = core.real(confidence, "confidence", low=0.5, high=1.0, high_open=True)
    resolution = core.real(resolution, "resolution", low=1.0, low_open=True)
    return m, Y, C, confidence, resolution


def _mode(C) -> str:
    """``"ols"`` (nothing censored), ``"tobit"`` (every median measured) or ``"clipped"`` (a fit on bounds)."""
    if not np.any((C == ABOVE) | (C == BELOW)):
        return "ols"
    used = np.sum(C != MISSING, axis=0)
    half = 0.5 * used
    if np.any(np.sum(C == ABOVE, axis=0) >= half) or np.any(np.sum(C == BELOW, axis=0) >= half):
        return "clipped"
    return "tobit"


def _designs(m: np.ndarray) -> dict:
    """Per model, the design over the M dimensions (M, p), centred and scaled for conditioning, and the linear
    functionals (p,) that turn its coefficients into the reported quantities."""
    one = np.ones(m.size)
    lx = np.log(m)
    z, cz, sz = (lx - lx.mean()) / lx.std(), lx.mean(), lx.std()
    w, cw, sw = (m - m.mean()) / m.std(), m.mean(), m.std()
    return {
        "power": (
            np.column_stack([one, z]),
            {"exponent": np.array([0.0, 1 / sz]), "intercept": np.array([1.0, -cz / sz])},
        ),
        "exponential": (
            np.column_stack([one, w]),
            {"exponent": np.array([0.0, 1 / sw]), "intercept": np.array([1.0, -cw / sw])},
        ),
        "log_quadratic": (
            np.column_stack([one, z, z**2]),
            {"slope_change": np.array([0.0, 0.0, 2 * (z[-1] - z[0]) / sz])},
        ),
        "linear_quadratic": (
            np.column_stack([one, w, w**2]),
            {"rate_change": np.array([0.0, 0.0, 2 * (w[-1] - w[0]) / sw])},
        ),
        "location": (one[:, None], {"location": np.array([1.0])}),
    }


def _bound(X, kind, q) -> str:
    """What a fit on clipped data is for the functional ``q`` (see the module docstring): ``""`` (nothing
    censored moves it), ``"lower"``, ``"upper"`` or ``"none"``."""
    L = q @ np.linalg.pinv(X)
    eff = np.where(kind == ABOVE, L, np.where(kind == BELOW, -L, 0.0))
    tol = 1e-9 * max(np.abs(L).max(), 1e-300)
    pos, neg = bool(np.any(eff > tol)), bool(np.any(eff < -tol))
    return "" if not (pos or neg) else "lower" if not neg else "upper" if not pos else "none"


def _fit(Y, C, cols, design, columns, seed_weights, interval, confidence, eta_max) -> tuple[dict, np.ndarray]:
    """Fit one design on the entries of ``columns``; returns ``({name: interval dict with "bound"}, values)``
    where values (R, quantities) holds every replicate (row 0: the full data)."""
    X_cols, functionals = design
    sel = (C != MISSING) & np.isin(cols, columns)
    s_idx, j_idx = np.nonzero(sel)
    X, y, kind = X_cols[j_idx], Y[s_idx, j_idx], C[s_idx, j_idx]
    mode = _mode(C[:, columns])
    W = seed_weights[:, s_idx]
    if mode == "tobit":
        theta = tobit(X, y, kind, W, eta_max)
    else:
        theta = wls(X, y, W)
    Q = np.stack(list(functionals.values()), axis=1)  # (p, quantities)
    values = theta @ Q
    out = {}
    for i, name in enumerate(functionals):
        res = interval_from(values[:, i], interval, confidence)
        res["bound"] = _bound(X, kind, Q[:, i]) if mode == "clipped" else ""
        if res["bound"] in ("upper", "none"):
            res["low"] = -math.inf
        if res["bound"] in ("lower", "none"):
            res["high"] = math.inf
        res["fit"] = {"ols": "least squares", "tobit": "censored likelihood", "clipped": "bound"}[mode]
        out[name] = res
    return out, values


def _setup(input_dims, log_n_star, codes, confidence, resolution, interval, n_resamples, seed):
    m, Y, C, confidence, resolution = _check(input_dims, log_n_star, codes, confidence, resolution)
    interval = core.choice(interval, "interval", INTERVALS)
    n_resamples = core.whole(n_resamples, "n_resamples", low=10, high=10**6)
    seed = core.seed(seed)
    keep = np.any(C != MISSING, axis=1)  # seeds with no entry carry no information
    Y, C = Y[keep], C[keep]
    cols = np.broadcast_to(np.arange(m.size), Y.shape)
    weights = replicates(Y.shape[0], interval, n_resamples, seed)
    eta_max = math.sqrt(12.0) / math.log(resolution)  # sigma >= the SD of a rounding to the grid
    return m, Y, C, cols, weights, dict(interval=interval, confidence=confidence, eta_max=eta_max)


def fit_law(
    input_dims,
    log_n_star,
    codes=None,
    *,
    law: str = "power",
    confidence: float = 0.95,
    resolution: float = SQRT2,
    interval: str = "jackknife_t",
    n_resamples: int = 999,
    seed: int = 0,
) -> dict:
    """Fit one law to samples-needed over seeds and dimensions, with its interval over seeds.

    Parameters
    ----------
    input_dims : (M,) the dimensions ``m``, strictly increasing, M >= 3.
    log_n_star : (S, M) natural log of ``n*`` per seed and ``m``, S >= 2 (>= 2 seeds not missing at every m);
        for an entry censored above, the log of the largest ``n`` tried; censored below, of the smallest.
    codes : (S, M) ints, ``MEASURED`` (0), ``ABOVE`` (1: ``n*`` is larger), ``BELOW`` (2: ``n*`` is
        at most the value) or ``MISSING`` (3), or the same as strings ``"measured"`` (or ``""``),
        ``"above"``, ``"below"``, ``"missing"``; ``None``: all measured.
    law : ``"power"`` (``log n* = a + alpha log m``) or ``"exponential"`` (``log n* = a + beta m``).
    confidence : of the interval. resolution : the ratio between neighbouring ``n`` of the search grid (> 1);
        it floors the scatter the censored fit may assume. interval : ``"jackknife_t"`` (default) or
        ``"percentile"`` (bootstrap over seeds, ``n_resamples`` draws from ``seed``), see the module docstring.

    Returns
    -------
    dict: ``law``; ``exponent`` (``alpha``, or ``beta`` per added dimension in natural-log units) and
    ``intercept`` ``a``, each a dict ``estimate, low, high, se, bound, fit`` (``bound``: ``""``, ``"lower"``,
    ``"upper"`` or ``"none"``, the interval's side that does not hold set to an infinity; ``fit``: ``"least
    squares"``, ``"censored likelihood"`` or ``"bound"``); ``n_seeds``, ``confidence``, ``interval``.
    """
    law = core.choice(law, "law", LAWS)
    m, Y, C, cols, weights, opts = _setup(
        input_dims, log_n_star, codes, confidence, resolution, interval, n_resamples, seed
    )
    res, _ = _fit(Y, C, cols, _designs(m)[law], np.arange(m.size), weights, **opts)
    return {
        "law": law,
        **res,
        "n_seeds": int(Y.shape[0]),
        "confidence": opts["confidence"],
        "interval": opts["interval"],
    }


def _zero_excluded(q: dict) -> bool:
    return bool(q["low"] > 0 or q["high"] < 0)


def decide_law(
    input_dims,
    log_n_star,
    codes=None,
    *,
    confidence: float = 0.95,
    resolution: float = SQRT2,
    flat_margin: float = 1.0,
    interval: str = "jackknife_t",
    n_resamples: int = 999,
    seed: int = 0,
) -> dict:
    """Which law ``n*(m)`` follows: ``"power"``, ``"exponential"``, ``"flat"`` or ``"undecided"``, with evidence.

    Parameters as :func:`~modscale_lib.laws.fit_law`; ``flat_margin`` (> 0) the power-law exponent that "flat" must
    exclude
    (default 1: ``n*`` proportional to ``m``, what learning a projection needs at least).

    The verdict (see the module docstring): ``"flat"`` when the interval of ``alpha`` is exact, contains 0 and
    lies below ``flat_margin``; otherwise ``"power"`` when ``rate_change``'s interval excludes zero (the
    exponential is rejected), ``slope_change``'s is exact and contains it, and the held-out prediction of the
    largest ``m`` favours the power law (the interval of ``difference`` lies below zero); ``"exponential"`` in
    the mirror case; ``"undecided"`` otherwise (neither law rejected, both rejected, a held-out prediction
    that does not side with the curvature, or bounds that cannot tell). The held-out condition guards
    against laws that are neither: ``n* = A + B m`` with ``A`` large is nearly linear in ``m`` in semi-log
    coordinates, and without it was called exponential in up to a quarter of simulated cases.

    Returns
    -------
    dict: ``law`` (one of ``VERDICTS``); ``alpha`` and ``beta`` (the two fits' exponents) and
    ``slope_change``, ``rate_change``, each a dict ``estimate, low, high, se, bound, fit`` as
    :func:`~modscale_lib.laws.fit_law`; ``heldout``: both laws fitted without the largest ``m`` and asked to predict its
    ``log n*`` (``m``; ``power`` and ``exponential``: predicted minus fitted location there, in natural log
    units; ``difference``: ``|error power| - |error exponential|`` with its interval, negative when the power
    law predicts better); ``rejected``: ``{"power": bool, "exponential": bool}`` (curvature intervals);
    ``favoured``: ``{"power": bool, "exponential": bool}`` (held-out interval); ``censored``: counts of
    entries ``above``, ``below``, ``missing``; ``fit`` (of ``alpha``); ``n_seeds``, ``confidence``,
    ``interval``, ``flat_margin``.
    """
    flat_margin = core.real(flat_margin, "flat_margin", low=0.0, low_open=True)
    m, Y, C, cols, weights, opts = _setup(
        input_dims, log_n_star, codes, confidence, resolution, interval, n_resamples, seed
    )
    d, every = _designs(m), np.arange(m.size)
    fits = {
        name: _fit(Y, C, cols, d[name], every, weights, **opts)
        for name in ("power", "exponential", "log_quadratic", "linear_quadratic")
    }
    alpha, beta = fits["power"][0]["exponent"], fits["exponential"][0]["exponent"]
    slope, rate = fits["log_quadratic"][0]["slope_change"], fits["linear_quadratic"][0]["rate_change"]
    heldout = _heldout(m, Y, C, cols, d, weights, opts)
    rejected = {"power": _zero_excluded(slope), "exponential": _zero_excluded(rate)}
    diff = heldout["difference"]
    favoured = {"power": bool(diff["high"] < 0), "exponential": bool(diff["low"] > 0)}
    flat = alpha["bound"] == "" and alpha["low"] <= 0 <= alpha["high"] < flat_margin
    if flat:
        law = "flat"
    elif rejected["exponential"] and not rejected["power"] and slope["bound"] == "" and favoured["power"]:
        law = "power"
    elif rejected["power"] and not rejected["exponential"] and rate["bound"] == "" and favoured["exponential"]:
        law = "exponential"
    else:
        law = "undecided"
    return {
        "law": law,
        "alpha": alpha,
        "beta": beta,
        "slope_change": slope,
        "rate_change": rate,
        "heldout": heldout,
        "rejected": rejected,
        "favoured": favoured,
        "censored": {
            "above": int(np.sum(C == ABOVE)),
            "below": int(np.sum(C == BELOW)),
            "missing": int(np.sum(C == MISSING)),
        },
        "fit": alpha["fit"],
        "n_seeds": int(Y.shape[0]),
        "confidence": opts["confidence"],
        "interval": opts["interval"],
        "flat_margin": flat_margin,
    }


def _heldout(m, Y, C, cols, d, weights, opts) -> dict:
    """Both laws fitted on every ``m`` but the largest, predicting ``log n*`` there (see
    :func:`~modscale_lib.laws.decide_law`)."""
    last, rest = m.size - 1, np.arange(m.size - 1)
    loc, loc_values = _fit(Y, C, cols, d["location"], [last], weights, **opts)
    errors, out = {}, {"m": float(m[-1])}
    for law in LAWS:
        X_cols, _ = d[law]
        _, values = _fit(Y, C, cols, (X_cols, {"prediction": X_cols[last]}), rest, weights, **opts)
        errors[law] = values[:, 0] - loc_values[:, 0]
        out[law] = float(errors[law][0])
    diff = interval_from(np.abs(errors["power"]) - np.abs(errors["exponential"]), opts["interval"], opts["confidence"])
    censored = bool(np.any((C == ABOVE) | (C == BELOW)))
    diff["bound"] = "none" if censored and _mode(C) == "clipped" else ""
    if diff["bound"]:
        diff["low"], diff["high"] = -math.inf, math.inf
    out["difference"] = diff
    return out


def mean_ci(values, *, confidence: float = 0.95) -> tuple[float, float, float]:
    """The mean over seeds of ``values`` (S,), S >= 2, with Student's interval (the jackknife-t of a mean):
    ``(mean, low, high)``."""
    v = core.array(values, "values", ndim=1)
    if v.size < 2:
        raise ValueError(f"values must hold at least 2 seeds, got {v.size}")
    confidence = core.real(confidence, "confidence", low=0.5, high=1.0, high_open=True)
    W = replicates(v.size, "jackknife_t", 10, 0)
    res = interval_from(wls(np.ones((v.size, 1)), v, W)[:, 0], "jackknife_t", confidence)
    return res["estimate"], res["low"], res["high"]


def slope_ci(x, values, *, confidence: float = 0.95) -> tuple[float, float, float]:
    """The least-squares slope of ``values`` (S, X) on ``x`` (X,), pooled over the S >= 2 seeds, with the
    jackknife-t interval over seeds: ``(slope, low, high)``. Without missing values the slope is the mean of
    the seeds' own slopes and the interval is Student's for that mean."""
    x = core.real_array(x, "x", ndim=1, min_size=2)
    v = core.array(values, "values", ndim=2)
    if v.shape[1] != x.size or v.shape[0] < 2:
        raise ValueError(f"values must be (S >= 2 seeds, {x.size}), one column per x, got shape {v.shape}")
    if np.ptp(x) == 0:
        raise ValueError(f"x must not be all equal, got {x.tolist()}")
    confidence = core.real(confidence, "confidence", low=0.5, high=1.0, high_open=True)
    X = np.column_stack([np.ones(v.size), np.tile(x, v.shape[0])])
    W = replicates(v.shape[0], "jackknife_t", 10, 0)[:, np.repeat(np.arange(v.shape[0]), x.size)]
    res = interval_from(wls(X, v.ravel(), W)[:, 1], "jackknife_t", confidence)
    return res["estimate"], res["low"], res["high"]
