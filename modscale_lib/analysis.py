"""From stored results to what a figure or table shows: panels, predictions, samples needed, summaries.

Numpy only: every function takes a stored :class:`~modscale_lib.store.Result` (or its arrays) and returns
arrays or dicts of arrays, so chapters stay a few lines long and what they show is tested here.
"""

from __future__ import annotations

import numpy as np

from . import core, measure, theory

__all__ = ["recovery_summary", "linear_model_agreement", "modular_against_monolithic"]


def recovery_summary(similarity, level: float = 0.9) -> dict:
    """Per (variant, kernel, seed) summaries of a ``module_recovery`` result.

    similarity: (variant, kernel, seed, true module, found module) cos². Returns ``matched`` (matched mean
    cos²), ``both_found`` (every true module matched above ``level``), ``collapsed`` (two found modules on
    the same true one, each above ``level``) and ``none_found`` (no found module above ``level`` with any
    true module), each of shape (variant, kernel, seed).
    """
    sim = core.array(similarity, "similarity", ndim=5)
    level = core.real(level, "level")
    if 0 in sim.shape:
        raise ValueError(f"similarity must have no empty axis, got shape {sim.shape}")
    matched = np.array([measure.matched_mean(sim[idx]) for idx in np.ndindex(sim.shape[:3])]).reshape(sim.shape[:3])
    closest = np.argmax(sim, axis=3)
    best = sim.max(axis=3)  # each found module's best cos² with a true one
    distinct = np.array([len(set(c)) for c in closest.reshape(-1, closest.shape[-1])]).reshape(closest.shape[:3])
    collapsed = (distinct < sim.shape[-1]) & (best.min(axis=-1) > level)
    return {
        "matched": matched,
        "both_found": matched > level,
        "collapsed": collapsed,
        "none_found": best.max(axis=-1) <= level,
    }


_CONFIG_FIELDS = ("spectrum", "d_values", "n_grid", "p_grid", "n_fixed", "p_fixed", "noise")


def _linear_model_result(res, name: str, arguments: dict) -> dict:
    """A ``linear_model_mc`` result's arrays, each (d, point of its sweep) for ``arguments["config"]``'s grids."""
    config = arguments["config"]
    keys = [f"{sweep}_{stat}{se}" for sweep in "np" for stat in ("test", "train") for se in ("", "_se")]
    out = {k: core.array(v, f"{name}[{k!r}]", finite=False) for k, v in core.entries(res, keys, name).items()}
    for k, v in out.items():
        grid = config.n_grid if k.startswith("n") else config.p_grid
        if v.shape != (len(config.d_values), len(grid)):
            raise ValueError(
                f"{name}[{k!r}] must have shape (d, point) = {(len(config.d_values), len(grid))}, as config's "
                f"grids, got {v.shape}"
            )
    return out


def _linear_model_config(config, name: str, arguments: dict):
    missing = [f for f in _CONFIG_FIELDS if not hasattr(config, f)]
    if missing:
        raise TypeError(f"{name} must be a LinearModelConfig (it lacks {missing}), got {type(config).__name__}")
    return config


@core.validated(config=core.Check(_linear_model_config), res=core.Check(_linear_model_result), band=core.Real(0.0, 1.0))
def linear_model_agreement(res, config, band: float = 0.1) -> dict:
    """How far a ``linear_model_mc`` result lies from the closed forms, per (d, sweep, loss).

    res : the result (or a mapping of its arrays ``n_test``, ``n_test_se``, ... each (d, point)); config : its
    ``LinearModelConfig``. Points within ``band * p`` (band in [0, 1]) of the interpolation peak ``d n = p``
    are left out (the loss is infinite there).
    Returns columns for a table: ``d``, ``sweep``, ``loss``, ``max rel. error``, ``median rel. error``,
    ``within 2 s.e.`` (share of points) and ``points``.
    """
    spectrum = config.spectrum()
    cols = {k: [] for k in ("d", "sweep", "loss", "max rel. error", "median rel. error", "within 2 s.e.", "points")}
    for i, d in enumerate(config.d_values):
        for key, n, p in (
            ("n", np.array(config.n_grid), config.p_fixed),
            ("p", config.n_fixed, np.array(config.p_grid)),
        ):
            train, test = theory.expected_losses(n, p, spectrum, d, config.noise)
            away = np.abs(d * np.asarray(n) - np.asarray(p)) > band * np.asarray(p)
            for stat, th in (("test", test), ("train", train)):
                sim, se = np.asarray(res[f"{key}_{stat}"][i]), np.asarray(res[f"{key}_{stat}_se"][i])
                ok = away & (th > 0)
                rel = np.abs(sim - th)[ok] / th[ok]
                for k, v in zip(
                    cols,
                    (
                        d,
                        key,
                        stat,
                        rel.max(),
                        np.median(rel),
                        np.mean(np.abs(sim - th)[ok] / se[ok] < 2),
                        int(ok.sum()),
                    ),
                ):
                    cols[k].append(v)
    return cols


def modular_against_monolithic(
    n, p: int, input_dims, n_modules: int, module_dim: int, *, alpha: float = 1.0, n_eigenvalues: int = 4000
) -> dict:
    """Expected test loss of a monolithic model against a matched modular one (and the modular train loss),
    at sample counts ``n`` and ``p`` parameters, for each input dimension.

    Spectra are the default power law, ``n_eigenvalues`` kept explicitly and the variance beyond them treated
    as noise, so ``Var(y) = 1``. Returns table columns ``m``, ``n``, ``monolithic test``, ``modular test``,
    ``modular train``.
    """
    n = core.whole_array(np.atleast_1d(core.as_numpy(n)), "n", low=1, ndim=1, min_size=1)
    core.whole_array(input_dims, "input_dims", low=1, ndim=1)
    n_modules = core.whole(n_modules, "n_modules", low=1, high=10**4)
    n_eigenvalues = core.whole(n_eigenvalues, "n_eigenvalues", low=1, high=10**6)
    core.check_size(n_eigenvalues * n_modules, "n_eigenvalues * n_modules")
    module = theory.power_law_spectrum(n_eigenvalues, input_dim=module_dim, alpha=alpha)
    modular = theory.modular_spectrum(module, n_modules)
    modular_rest = float(theory.power_law_tail(n_eigenvalues, theory.exponent_inverse_dim(module_dim, alpha)))
    mod_train, mod_test = theory.expected_losses(n, p, modular, noise=modular_rest)
    cols = {k: [] for k in ("m", "n", "monolithic test", "modular test", "modular train")}
    for m in input_dims:
        mono = theory.power_law_spectrum(n_eigenvalues, input_dim=m, alpha=alpha)
        mono_rest = float(theory.power_law_tail(n_eigenvalues, theory.exponent_inverse_dim(m, alpha)))
        _, mono_test = theory.expected_losses(n, p, mono, noise=mono_rest)
        for i in range(n.size):
            for k, v in zip(cols, (int(m), int(n[i]), mono_test[i], mod_test[i], mod_train[i])):
                cols[k].append(v)
    return cols


# The peers chapter: means and intervals over seeds ---------------------------------------------------------
__all__ += ["PEER_QUANTITIES", "peer_summary", "format_ci", "distinguishable", "best_and_ties", "compare_ci"]

PEER_QUANTITIES = ("union", "grouped", "seconds", "test_loss")


def _peer_arrays(res, name: str, arguments: dict) -> dict:
    """A ``peer_comparison`` result's arrays as float64 (NaN where a run is missing), each with the dimensions
    (task, n, seed, method) (``test_loss`` has more methods: the references), ``seconds`` and ``group_seconds``
    of one shape."""
    keys = PEER_QUANTITIES + ("group_seconds",)
    arrays = {k: core.array(v, f"{name}[{k!r}]", finite=False) for k, v in core.entries(res, keys, name).items()}
    ndims = {a.ndim for a in arrays.values()}
    if len(ndims) != 1 or arrays["union"].ndim < 1 or arrays["seconds"].shape != arrays["group_seconds"].shape:
        shapes = {k: a.shape for k, a in arrays.items()}
        raise ValueError(
            f"{name} must hold arrays of one number of dimensions, seconds and group_seconds of one shape, got {shapes}"
        )
    return arrays


@core.validated(
    res=core.Check(_peer_arrays),
    seed_axis=core.Whole(lambda a: -a["res"]["union"].ndim, lambda a: a["res"]["union"].ndim - 1),
    confidence=core.Real(0.0, 1.0, low_open=True, high_open=True),
)
def peer_summary(res, seed_axis: int = 2, confidence: float = 0.95) -> dict:
    """Mean and bootstrap interval over seeds of each quantity of a ``peer_comparison`` result.

    res : the stored result (or a dict) with arrays (task, n, seed, method) ``union``, ``grouped``,
    ``seconds``, ``group_seconds`` and ``test_loss`` (its methods followed by the references). Returns
    ``{name: (mean, low, high)}``, each (task, n, method), for ``PEER_QUANTITIES``, ``"group_seconds"`` and
    ``"total_seconds"`` (the method's call plus its grouping).
    """
    arrays = dict(res)
    arrays["total_seconds"] = arrays["seconds"] + arrays["group_seconds"]
    return {name: core.bootstrap_ci(arrays[name], axis=seed_axis, confidence=confidence) for name in arrays}


def _number(value, name: str, arguments: dict | None = None) -> float:
    """A real number as a float; NaN (a missing measurement) and infinities allowed."""
    return float(core.array(value, name, ndim=0, finite=False))


def _end(value, name: str, arguments: dict) -> float:
    """An end of the interval around ``arguments["mean"]``: a number, not NaN where the mean is not."""
    out = _number(value, name)
    if np.isnan(out) and not np.isnan(arguments["mean"]):
        raise ValueError(f"{name} must be a number where mean is ({arguments['mean']}), got NaN")
    return out


def _format(value, name: str, arguments: dict) -> str:
    """A format specification of a number, such as ``".3f"``."""
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a format specification such as '.3f', got {type(value).__name__}")
    try:
        format(1.5, value)
    except ValueError as exc:
        raise ValueError(f"{name} must be a format specification of a number such as '.3f', got {value!r}") from exc
    return value


def _interval(value, name: str, arguments: dict) -> tuple:
    """``(mean, low, high)``, three numbers (NaN allowed: a missing measurement)."""
    return tuple(float(v) for v in core.array(value, name, shape=(3,), finite=False))


def _texts(value, name: str, arguments: dict) -> tuple:
    """Two strings."""
    if not isinstance(value, (tuple, list)) or len(value) != 2 or not all(isinstance(v, str) for v in value):
        raise TypeError(f"{name} must be a pair of strings, got {value!r}")
    return tuple(value)


_TOLERANCE = core.Real(0.0)


@core.validated(mean=core.Check(_number), low=core.Check(_end), high=core.Check(_end), fmt=core.Check(_format))
def format_ci(mean, low, high, fmt: str = ".2f") -> str:
    """``"mean [low, high]"`` with ``fmt`` (a format specification such as ``".3f"``); ``"n/a"`` for a NaN
    mean."""
    if not np.isfinite(mean):
        return "n/a"
    return f"{format(float(mean), fmt)} [{format(float(low), fmt)}, {format(float(high), fmt)}]"


@core.validated(a=core.Check(_interval), b=core.Check(_interval), tolerance=_TOLERANCE)
def distinguishable(a: tuple, b: tuple, tolerance: float = 0.0) -> bool:
    """Whether two ``(mean, low, high)`` intervals are more than ``tolerance`` apart (intervals that overlap, or
    nearly do, are not distinguishable)."""
    return bool(a[2] + tolerance < b[1] or b[2] + tolerance < a[1])


def _names(value, name: str, arguments: dict) -> list:
    """One string per entry of ``arguments["mean"]``."""
    size = arguments["mean"].size
    if isinstance(value, (str, bytes)) or not isinstance(value, (tuple, list, np.ndarray)):
        raise TypeError(f"{name} must be a sequence of {size} names, got {type(value).__name__}")
    if len(value) != size or not all(isinstance(v, str) for v in value):
        raise ValueError(f"{name} must hold {size} names (strings), one per mean, got {list(value)!r}"[:300])
    return list(value)


_MEANS = core.Array(ndim=1, finite=False, min_rows=1)
_ENDS = core.Array(ndim=1, finite=False, shape=lambda a: a["mean"].shape)


@core.validated(
    mean=_MEANS,
    low=_ENDS,
    high=_ENDS,
    names=core.Check(_names),
    higher_is_better=core.Boolean(),
    tolerance=_TOLERANCE,
)
def best_and_ties(
    mean, low, high, names, *, higher_is_better: bool = True, tolerance: float = 0.0
) -> tuple[str, list[str]]:
    """The name with the best mean, and the others not distinguishable from it (their interval overlaps the
    best one's, or comes within ``tolerance`` of it: e.g. half the precision a table shows).
    mean, low, high : (M,) over the methods ``names``; NaN means are skipped."""
    if not np.any(np.isfinite(mean)):
        raise ValueError("mean must hold a finite value; every mean is NaN")
    i = int(np.nanargmax(mean) if higher_is_better else np.nanargmin(mean))
    ties = [
        names[j]
        for j in range(len(names))
        if j != i
        and np.isfinite(mean[j])
        and not distinguishable((mean[i], low[i], high[i]), (mean[j], low[j], high[j]), tolerance)
    ]
    return names[i], ties


@core.validated(
    a=core.Check(_interval),
    b=core.Check(_interval),
    fmt=core.Check(_format),
    words=core.Check(_texts),
    names=core.Check(_texts),
    tolerance=_TOLERANCE,
)
def compare_ci(
    a: tuple,
    b: tuple,
    fmt: str = ".2f",
    words: tuple = ("above", "below"),
    names: tuple = ("", ""),
    tolerance: float = 0.0,
) -> str:
    """``"<a>, above <b>"``, ``"<a>, below <b>"`` or ``"<a>, not distinguishable from <b>"``, each ``(mean, low,
    high)`` written by :func:`format_ci` after its name in ``names`` (if any): above or below only when the
    intervals are more than ``tolerance`` apart (:func:`distinguishable`)."""
    text_a, text_b = (f"{name} {format_ci(*v, fmt)}".strip() for name, v in zip(names, (a, b)))
    if not distinguishable(a, b, tolerance):
        return f"{text_a}, not distinguishable from {text_b}"
    return f"{text_a}, {words[0] if a[0] > b[0] else words[1]} {text_b}"


__all__ += ["choose_capacity", "capacity_table"]


def _capacity_scores(res) -> tuple[np.ndarray, np.ndarray]:
    """Geometric-mean validation loss over ``(m, n, seed)`` of every module setting ``(depth, lr, width)`` and
    every MLP setting ``(lr, width)``."""
    # a diverged or missing setting (nan, inf, <= 0) must not be chosen by argmin's silence about nan
    module_val = core.real_array(res["module_val"], "module_val", low=0.0, low_open=True, ndim=6)
    mlp_val = core.real_array(res["mlp_val"], "mlp_val", low=0.0, low_open=True, ndim=5)
    score = lambda a: np.exp(np.log(a).mean(axis=(-3, -2, -1)))
    return score(module_val), score(mlp_val)


def _checked_scores(res, cfg) -> tuple[np.ndarray, np.ndarray]:
    """The scores, after checking that the result's grid is ``cfg``'s (a stored search read with another
    config would pair losses with the wrong settings)."""
    modules, mlps = _capacity_scores(res)
    grid = (len(cfg.module_depths), len(cfg.module_lrs), len(cfg.module_widths))
    if modules.shape != grid or mlps.shape != (len(cfg.mlp_lrs), len(cfg.mlp_widths)):
        raise ValueError(
            f"module_val and mlp_val must match cfg's grid (depth, lr, width) = {grid} and (lr, width) = "
            f"{(len(cfg.mlp_lrs), len(cfg.mlp_widths))}, got {modules.shape} and {mlps.shape}"
        )
    return modules, mlps


def choose_capacity(res, cfg) -> dict:
    """The settings with the lowest mean log validation loss over ``(m, n, seed)``: ``module_depth``,
    ``module_lr``, ``module_width``, ``mlp_lr``, ``mlp_width`` (the values the sweep's configs use)."""
    modules, mlps = _checked_scores(res, cfg)
    d, i, w = np.unravel_index(int(np.argmin(modules)), modules.shape)
    j, v = np.unravel_index(int(np.argmin(mlps)), mlps.shape)
    return {
        "module_depth": cfg.module_depths[d],
        "module_lr": cfg.module_lrs[i],
        "module_width": cfg.module_widths[w],
        "mlp_lr": cfg.mlp_lrs[j],
        "mlp_width": cfg.mlp_widths[v],
    }


def capacity_table(res, cfg) -> dict:
    """The capacity search as a table, lowest geometric-mean validation loss first within each network:
    ``network``, ``depth``, ``width``, ``step size``, ``mean validation loss / Var(y)``."""
    modules, mlps = _checked_scores(res, cfg)
    rows = [
        ("module", cfg.module_depths[d], cfg.module_widths[w], cfg.module_lrs[i], v)
        for (d, i, w), v in np.ndenumerate(modules)
    ]
    rows += [("monolithic", cfg.mlp_depth, cfg.mlp_widths[w], cfg.mlp_lrs[i], v) for (i, w), v in np.ndenumerate(mlps)]
    rows.sort(key=lambda r: (r[0], r[4]))
    names = ("network", "depth", "width", "step size", "mean validation loss / Var(y)")
    return {name: [r[j] for r in rows] for j, name in enumerate(names)}


__all__ += ["tuned_on_validation"]


def tuned_on_validation(val_loss, test_loss, axis: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """The test loss of the setting with the lowest validation loss along ``axis`` (e.g. the step sizes), and
    the index chosen, each with that axis removed. val_loss, test_loss : arrays of one shape; a NaN validation
    loss (a setting that did not run or diverged) is refused rather than silently chosen or skipped."""
    val = core.array(val_loss, "val_loss", finite=False)
    test = core.array(test_loss, "test_loss", shape=val.shape, finite=False)
    if not np.isfinite(val).all():
        raise ValueError(
            f"val_loss must be finite everywhere to choose a setting; {int(np.sum(~np.isfinite(val)))} entries are not"
        )
    chosen = np.argmin(val, axis=axis)
    return np.take_along_axis(test, np.expand_dims(chosen, axis), axis=axis).squeeze(axis), chosen
