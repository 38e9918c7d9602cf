"""From stored results to what a figure or table shows: panels, predictions, samples needed, summaries.

Numpy only: every function takes a stored :class:`~modscale_lib.results.Result` (or its arrays) and returns
arrays or dicts of arrays, so chapters stay a few lines long and what they show is tested here.
"""
from __future__ import annotations

import numpy as np

from . import metrics, theory, validation

__all__ = ["network_theory_panels", "network_theory_predictions", "panel_summary", "network_theory_trends",
           "samples_needed", "similarity_samples_needed", "recovery_summary", "linear_model_agreement",
           "modular_against_monolithic", "PANELS"]

PANELS = {  # panel name: (swept variable, variable that labels the light lines)
    "k": ("k", "p"), "m": ("m", "p"), "p": ("n_params", "m"), "n": ("n", "m"),
}


def network_theory_panels(res) -> dict:
    """Arrange a ``network_theory`` result by panel, for tables and the four-panel figure.

    Returns ``{panel: {line_value: {"x", "n", "p", "m", "train", "test"}}}`` where ``x`` is the swept variable
    (the measured parameter count for the ``p`` panel), ``train``/``test`` are ``(n_seeds, len(x))`` arrays and
    ``n``, ``p``, ``m`` give each point's sample count, parameter count (mean over seeds) and input dimension.
    """
    panel_ids = np.asarray(res["panel"])
    seed_col = np.asarray(res["seed"])
    out = {}
    for pid, name in enumerate("kmpn"):
        sweep, line_key = PANELS[name]
        rows = panel_ids == pid
        line_field = "p" if line_key == "p" else "m"
        line_col = np.asarray(res[line_field])
        lines = {}
        for line in np.unique(line_col[rows]):
            sel = rows & (line_col == line)
            grid_field = "p" if name == "p" else sweep  # group by the target p; plot the measured count
            grid_col = np.asarray(res[grid_field])
            grid, seeds = np.unique(grid_col[sel]), np.unique(seed_col[sel])
            table = {f: np.full((seeds.size, grid.size), np.nan) for f in
                     ("train_loss", "test_loss", "n_params", "n", "m")}
            for i, seed in enumerate(seeds):
                for j, g in enumerate(grid):
                    hit = np.flatnonzero(sel & (seed_col == seed) & (grid_col == g))
                    for f in table:
                        table[f][i, j] = np.asarray(res[f])[hit[0]]
            x = table["n_params"].mean(axis=0) if name == "p" else grid.astype(float)
            lines[int(line)] = {"x": x, "n": table["n"].mean(axis=0), "p": table["n_params"].mean(axis=0),
                                "m": table["m"].mean(axis=0), "train": table["train_loss"],
                                "test": table["test_loss"]}
        out[name] = lines
    return out


def network_theory_predictions(panels: dict, alpha: float, c: float, noise: float = 0.0) -> dict:
    """The calibrated theory's (train, test) loss at every point of :func:`network_theory_panels`.

    ``alpha`` and ``c`` are the power-law spectrum's exponent constant and scale (``theory.power_law_losses``).
    """
    alpha = validation.real(alpha, "alpha", low=0.0, low_open=True)
    c = validation.real(c, "c", low=0.0, low_open=True)
    noise = validation.real(noise, "noise", low=0.0)
    pred = {}
    for name, lines in panels.items():
        pred[name] = {}
        for line, d in lines.items():
            train, test = theory.power_law_losses(np.round(d["n"]).astype(int), np.round(d["p"]).astype(int),
                                                  d["m"], alpha=alpha, c=c, noise=noise)
            pred[name][line] = {"x": d["x"], "train": train, "test": test}
    return pred


def panel_summary(panels: dict, predictions: dict, name: str) -> tuple[np.ndarray, dict]:
    """One panel's bold lines as numbers: the swept values and the networks' and theory's mean train and
    test loss there (averaged over the light lines, and over seeds for the networks)."""
    lines, pred = panels[name], predictions[name]
    x = np.mean([d["x"] for d in lines.values()], axis=0)
    cols = {}
    for who in ("net", "theory"):
        for stat in ("train", "test"):
            rows = [d[stat].mean(axis=0) if who == "net" else pred[k][stat] for k, d in lines.items()]
            cols[f"{who} {stat}"] = np.mean(rows, axis=0)
    return x, cols


def samples_needed(n_grid, losses, variance, target: float) -> np.ndarray:
    """Samples each (method, m) needs to reach ``target * Var(y)``: the median over seeds of
    :func:`modscale_lib.metrics.samples_to_reach` (first crossing, interpolated in log n; ``inf`` if never reached).

    n_grid: (N,); losses: (method, m, seed, N); variance: (m, seed). Returns (method, m).
    """
    losses = validation.array(losses, "losses", ndim=4, finite=False)
    variance = validation.real_array(variance, "variance", low=0.0, low_open=True, ndim=2)
    target = validation.real(target, "target", low=0.0, low_open=True)
    if variance.shape != losses.shape[1:3]:
        raise ValueError(f"variance must have shape (m, seed) = {losses.shape[1:3]}, got {variance.shape}")
    out = np.empty(losses.shape[:3])
    for idx in np.ndindex(out.shape):
        out[idx] = metrics.samples_to_reach(n_grid, losses[idx], target * variance[idx[1:]])
    return np.median(out, axis=2)


def similarity_samples_needed(n_grid, similarity, level: float) -> np.ndarray:
    """Samples a rule needs for its matched mean cos² to reach ``level``: median over seeds.

    similarity: (rule, m, seed, N). Returns (rule, m)."""
    sim = validation.array(similarity, "similarity", ndim=4, finite=False)
    level = validation.real(level, "level")
    out = np.empty(sim.shape[:3])
    for idx in np.ndindex(out.shape):
        out[idx] = metrics.samples_to_reach(n_grid, -sim[idx], -level)
    return np.median(out, axis=2)


def recovery_summary(similarity, level: float = 0.9) -> dict:
    """Per (variant, kernel, seed) summaries of a ``module_recovery`` result.

    similarity: (variant, kernel, seed, true module, found module) cos². Returns ``matched`` (matched mean
    cos²), ``both_found`` (every true module matched above ``level``), ``collapsed`` (two found modules on
    the same true one, each above ``level``) and ``none_found`` (no found module above ``level`` with any
    true module), each of shape (variant, kernel, seed).
    """
    sim = validation.array(similarity, "similarity", ndim=5)
    level = validation.real(level, "level")
    if 0 in sim.shape:
        raise ValueError(f"similarity must have no empty axis, got shape {sim.shape}")
    matched = np.array([metrics.matched_mean(sim[idx]) for idx in np.ndindex(sim.shape[:3])]).reshape(sim.shape[:3])
    closest = np.argmax(sim, axis=3)
    best = sim.max(axis=3)                       # each found module's best cos² with a true one
    distinct = np.array([len(set(c)) for c in closest.reshape(-1, closest.shape[-1])]).reshape(closest.shape[:3])
    collapsed = (distinct < sim.shape[-1]) & (best.min(axis=-1) > level)
    return {"matched": matched, "both_found": matched > level, "collapsed": collapsed,
            "none_found": best.max(axis=-1) <= level}


def linear_model_agreement(res, config, band: float = 0.1) -> dict:
    """How far a ``linear_model_mc`` result lies from the closed forms, per (d, sweep, loss).

    Points within ``band * p`` of the interpolation peak ``d n = p`` are left out (the loss is infinite there).
    Returns columns for a table: ``d``, ``sweep``, ``loss``, ``max rel. error``, ``median rel. error``,
    ``within 2 s.e.`` (share of points) and ``points``.
    """
    spectrum = config.spectrum()
    cols = {k: [] for k in ("d", "sweep", "loss", "max rel. error", "median rel. error", "within 2 s.e.", "points")}
    for i, d in enumerate(config.d_values):
        for key, n, p in (("n", np.array(config.n_grid), config.p_fixed), ("p", config.n_fixed, np.array(config.p_grid))):
            train, test = theory.expected_losses(n, p, spectrum, d, config.noise)
            away = np.abs(d * np.asarray(n) - np.asarray(p)) > band * np.asarray(p)
            for stat, th in (("test", test), ("train", train)):
                sim, se = np.asarray(res[f"{key}_{stat}"][i]), np.asarray(res[f"{key}_{stat}_se"][i])
                ok = away & (th > 0)
                rel = np.abs(sim - th)[ok] / th[ok]
                for k, v in zip(cols, (d, key, stat, rel.max(), np.median(rel),
                                       np.mean(np.abs(sim - th)[ok] / se[ok] < 2), int(ok.sum()))):
                    cols[k].append(v)
    return cols


def modular_against_monolithic(n, p: int, input_dims, n_modules: int, module_dim: int, *, alpha: float = 1.0,
                               n_eigenvalues: int = 4000) -> dict:
    """Expected test loss of a monolithic model against a matched modular one (and the modular train loss),
    at sample counts ``n`` and ``p`` parameters, for each input dimension.

    Spectra are the default power law, ``n_eigenvalues`` kept explicitly and the variance beyond them treated
    as noise, so ``Var(y) = 1``. Returns table columns ``m``, ``n``, ``monolithic test``, ``modular test``,
    ``modular train``.
    """
    n = validation.whole_array(np.atleast_1d(validation.as_numpy(n)), "n", low=1, ndim=1, min_size=1)
    validation.whole_array(input_dims, "input_dims", low=1, ndim=1)
    n_modules = validation.whole(n_modules, "n_modules", low=1, high=10 ** 4)
    n_eigenvalues = validation.whole(n_eigenvalues, "n_eigenvalues", low=1, high=10 ** 6)
    validation.check_size(n_eigenvalues * n_modules, "n_eigenvalues * n_modules")
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


def _peak(x, test) -> tuple[float, bool, float]:
    i = int(np.argmax(test))
    return float(x[i]), bool(0 < i < len(test) - 1), float(test[i] / np.median(test))


def network_theory_trends(summary: dict) -> dict:
    """The trends the authors report, measured on :func:`panel_summary` of every panel: the spread of the test
    loss over ``k`` (max/min, networks and theory), its growth from the first to the last ``m``, and where the
    ``p`` and ``n`` panels peak (``(location, interior?, height / median)``)."""
    k, m = summary["k"][1], summary["m"][1]
    out = {"k_spread": k["net test"].max() / k["net test"].min(),
           "k_spread_theory": k["theory test"].max() / k["theory test"].min(),
           "m_growth": m["net test"][-1] / m["net test"][0],
           "m_growth_theory": m["theory test"][-1] / m["theory test"][0]}
    for name in ("p", "n"):
        x, cols = summary[name]
        out[f"{name}_peak"] = _peak(x, cols["net test"])
    return out


# The peers chapter: means and intervals over seeds ---------------------------------------------------------
__all__ += ["PEER_QUANTITIES", "peer_summary", "format_ci", "distinguishable", "best_and_ties", "compare_ci"]

PEER_QUANTITIES = ("union", "grouped", "seconds", "test_loss")


def peer_summary(res, seed_axis: int = 2, confidence: float = 0.95) -> dict:
    """Mean and bootstrap interval over seeds of each quantity of a ``peer_comparison`` result.

    res : the stored result (or a dict) with arrays (task, n, seed, method) ``union``, ``grouped``,
    ``seconds``, ``group_seconds`` and ``test_loss`` (its methods followed by the references). Returns
    ``{name: (mean, low, high)}``, each (task, n, method), for ``PEER_QUANTITIES``, ``"group_seconds"`` and
    ``"total_seconds"`` (the method's call plus its grouping).
    """
    arrays = {name: np.asarray(res[name], dtype=float) for name in PEER_QUANTITIES + ("group_seconds",)}
    arrays["total_seconds"] = arrays["seconds"] + arrays["group_seconds"]
    return {name: metrics.bootstrap_ci(arrays[name], axis=seed_axis, confidence=confidence) for name in arrays}


def format_ci(mean, low, high, fmt: str = ".2f") -> str:
    """``"mean [low, high]"`` with ``fmt``; ``"n/a"`` for a NaN mean."""
    if not np.isfinite(mean):
        return "n/a"
    return f"{format(float(mean), fmt)} [{format(float(low), fmt)}, {format(float(high), fmt)}]"


def distinguishable(a: tuple, b: tuple, tolerance: float = 0.0) -> bool:
    """Whether two ``(mean, low, high)`` intervals are more than ``tolerance`` apart (intervals that overlap, or
    nearly do, are not distinguishable)."""
    return bool(a[2] + tolerance < b[1] or b[2] + tolerance < a[1])


def best_and_ties(mean, low, high, names, *, higher_is_better: bool = True,
                  tolerance: float = 0.0) -> tuple[str, list[str]]:
    """The name with the best mean, and the others not distinguishable from it (their interval overlaps the
    best one's, or comes within ``tolerance`` of it: e.g. half the precision a table shows).
    mean, low, high : (M,) over the methods ``names``; NaN means are skipped."""
    mean, low, high = (np.asarray(v, dtype=float) for v in (mean, low, high))
    if not np.any(np.isfinite(mean)):
        raise ValueError("every mean is NaN")
    i = int(np.nanargmax(mean) if higher_is_better else np.nanargmin(mean))
    ties = [names[j] for j in range(len(names)) if j != i and np.isfinite(mean[j])
            and not distinguishable((mean[i], low[i], high[i]), (mean[j], low[j], high[j]), tolerance)]
    return names[i], ties


def compare_ci(a: tuple, b: tuple, fmt: str = ".2f", words: tuple = ("above", "below"),
               names: tuple = ("", ""), tolerance: float = 0.0) -> str:
    """``"<a>, above <b>"``, ``"<a>, below <b>"`` or ``"<a>, not distinguishable from <b>"``, each ``(mean, low,
    high)`` written by :func:`format_ci` after its name in ``names`` (if any): above or below only when the
    intervals are more than ``tolerance`` apart (:func:`distinguishable`)."""
    text_a, text_b = (f"{name} {format_ci(*v, fmt)}".strip() for name, v in zip(names, (a, b)))
    if not distinguishable(a, b, tolerance):
        return f"{text_a}, not distinguishable from {text_b}"
    return f"{text_a}, {words[0] if a[0] > b[0] else words[1]} {text_b}"

