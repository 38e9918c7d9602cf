"""Trained networks against the linear theory (the chapter *Theory meets trained networks*): arrange the stored
``network_theory`` result by panel, predict each point from the theory, calibrate its spectrum once, measure
the error in decades, and compare losses across settings (ratios of geometric means over seeds, trends in
``log`` loss) with intervals over seeds that hold their level: Student's and the jackknife-t of
:mod:`modscale_lib.laws`, checked on the modular ``m`` panels, whose ratios are 1 by construction
(:func:`ratio_coverage`). The interpolation peak is :mod:`modscale_lib.theory_peaks`.

Losses are in units of the label variance ``Var(y) = 1 + sigma^2`` (exact: every setting has ``K*b <= m``).
The theory is the power-law model of :mod:`modscale_lib.theory` with total variance ``c`` and label-noise
variance ``sigma^2``: for a monolithic network on ``m`` inputs the features beyond the first ``p`` carry
``c*(p+1)^(-alpha/m)``; for a modular one with ``K`` modules of dimension ``b = 1`` reading the true projections,
``c*(p/K+1)^(-alpha)``, whatever ``m``. Numpy only (and matplotlib for the figure).
"""

from __future__ import annotations

import numpy as np

from . import core, laws, theory
from .law_readout import RESULT

__all__ = [
    "PANEL_NAMES",
    "panel_data",
    "theory_losses",
    "predict",
    "calibrate",
    "rms_decades",
    "ratio_ci",
    "trend_ratio",
    "end_ratios",
    "ratio_coverage",
    "interpolated_share",
    "panel_columns",
    "theory_networks_figure",
]

PANEL_NAMES = ("k", "m", "p", "n")
ARCHS = ("monolithic", "modular")
PROTOCOLS = ("interpolating", "decaying")
_GRID = {"k": "k", "m": "m", "p": "p", "n": "n"}
FIELDS = ("arch", "protocol", "panel", "k", "m", "p", "n", "line", "seed", "noise", "n_params", "train_loss")
FIELDS += ("test_loss", "var_y")


# -- what the public functions take, checked once at the boundary (core's declarative rules) ---------------
def _panel(value, name: str, arguments=None) -> dict:
    """A panel of :func:`panel_data`: its arrays of consistent shapes, counts > 0, losses >= 0 (NaN: not run)."""
    keys = ("x", "lines", "noises", "seeds", "n", "p", "m", "k", "train", "test", "arch", "panel")
    if not isinstance(value, dict) or any(k not in value for k in keys):
        raise ValueError(f"{name} must be a panel of theory_fit.panel_data (a dict with {keys})")
    core.choice(value["arch"], f"{name}['arch']", ARCHS)
    core.choice(value["panel"], f"{name}['panel']", PANEL_NAMES)
    core.real_array(value["noises"], f"{name}['noises']", low=0.0, ndim=1, min_size=1)
    L, V, S, X = (np.size(value[k]) for k in ("lines", "noises", "seeds", "x"))
    for key in ("n", "p", "m", "k"):
        core.real_array(value[key], f"{name}[{key!r}]", low=0.0, low_open=True)
        core.array(value[key], f"{name}[{key!r}]", shape=(L, X))
    for key in ("train", "test"):
        arr = core.array(value[key], f"{name}[{key!r}]", shape=(L, V, S, X), finite=False)
        if np.any(arr < 0) or np.any(np.isinf(arr)):
            raise ValueError(f"{name}[{key!r}] must hold losses >= 0 (NaN where not run)")
    return value


def _panels(value, name: str, arguments=None) -> list:
    """One panel, or a non-empty list of them."""
    panels = [value] if isinstance(value, dict) else value
    if not isinstance(panels, (list, tuple)) or not panels:
        raise TypeError(f"{name} must be a panel of panel_data or a non-empty list of them, got {value!r}"[:200])
    return [_panel(d, f"{name}[{i}]") for i, d in enumerate(panels)]


def panel_index(key: str) -> core.Rule:
    """An index into the panel ``data``'s axis ``key`` (``"noises"`` or ``"lines"``)."""
    return core.Whole(0, lambda a: np.size(a["data"][key]) - 1)


def _counts(low: float) -> core.Rule:
    return core.Check(lambda v, name, a: core.real_array(v, name, low=low, low_open=low == 0.0))


def _broadcast(value, name: str, arguments: dict) -> np.ndarray:
    noise = core.real_array(value, name, low=0.0)
    try:
        np.broadcast_shapes(*(np.shape(arguments[k]) for k in ("n", "p", "m", "k")), noise.shape)
    except ValueError:
        raise ValueError(f"n, p, m, k and {name} must broadcast together") from None
    return noise


PANEL, PANELS, POSITIVE = core.Check(_panel), core.Check(_panels), core.Real(0.0, low_open=True)
CONFIDENCE = core.Real(0.5, 1.0, high_open=True)


@core.validated(res=RESULT(*FIELDS))
def panel_data(res, arch: str, protocol: str, panel: str) -> dict:
    """One panel of one architecture and protocol as arrays.

    Returns a dict: ``x`` (X,) the swept values (targets for ``p``), ``lines`` (L,) the ``p`` of each light line
    (0 for the ``p`` and ``n`` panels), ``noises`` (V,) label-noise variances, ``seeds`` (S,); ``n``, ``p``
    (measured trainable parameters), ``m``, ``k`` each (L, X); ``train`` and ``test`` (L, V, S, X) in units of
    ``Var(y)``; ``arch``, ``protocol``, ``panel``.
    """
    arch = core.choice(arch, "arch", ARCHS)
    protocol = core.choice(protocol, "protocol", PROTOCOLS)
    panel = core.choice(panel, "panel", PANEL_NAMES)
    col = {f: np.asarray(res[f]) for f in FIELDS}
    sel = (
        (col["arch"] == ARCHS.index(arch))
        & (col["protocol"] == PROTOCOLS.index(protocol))
        & (col["panel"] == PANEL_NAMES.index(panel))
    )
    if not sel.any():
        raise ValueError(f"the result holds no {arch} networks trained with the {protocol} protocol in panel {panel}")
    c = {f: v[sel] for f, v in col.items()}
    x, lines = np.unique(c[_GRID[panel]]), np.unique(c["line"])
    noises, seeds = np.unique(c["noise"]), np.unique(c["seed"])
    shape = (lines.size, noises.size, seeds.size, x.size)
    out = {name: np.full(shape, np.nan) for name in ("train", "test", "n", "p", "m", "k")}
    idx = (
        np.searchsorted(lines, c["line"]),
        np.searchsorted(noises, c["noise"]),
        np.searchsorted(seeds, c["seed"]),
        np.searchsorted(x, c[_GRID[panel]]),
    )
    out["train"][idx] = c["train_loss"] / c["var_y"]
    out["test"][idx] = c["test_loss"] / c["var_y"]
    for name, field in (("n", "n"), ("p", "n_params"), ("m", "m"), ("k", "k")):
        out[name][idx] = c[field]
        out[name] = out[name][:, 0, 0, :]  # the same for every noise level and seed
    return dict(
        out,
        x=x.astype(float),
        lines=lines.astype(int),
        noises=noises,
        seeds=seeds,
        arch=arch,
        protocol=protocol,
        panel=panel,
    )


@core.validated(
    n=_counts(1.0),
    p=_counts(1.0),
    m=_counts(0.0),
    k=_counts(1.0),
    noise=core.Check(_broadcast),
    modular=core.Boolean(),
)
def theory_losses(n, p, m, k, noise, alpha: float, c: float = 1.0, modular: bool = False):
    """The theory's expected (train, test) loss in units of ``Var(y) = 1 + noise``, broadcasting over arrays.

    ``p`` features (the network's trainable parameters), ``n`` samples, ``m`` inputs, ``k`` modules, label-noise
    variance ``noise``; spectrum ``c``, ``alpha`` (see the module docstring). ``modular`` selects the modular
    network with the true projections, whose loss does not depend on ``m``.
    """
    alpha = core.real(alpha, "alpha", low=0.0, low_open=True)
    c = core.real(c, "c", low=0.0, low_open=True)
    return _theory_losses(n, p, m, k, noise, alpha, c, modular)


def _theory_losses(n, p, m, k, noise, alpha: float, c: float, modular: bool):
    """:func:`theory_losses` on checked arguments (the calibration's grid search calls it 10^5 times)."""
    n, p, m, k, noise = np.broadcast_arrays(*(np.asarray(v, dtype=float) for v in (n, p, m, k, noise)))
    tail = theory.power_law_tail(p / k, alpha, c) if modular else theory.power_law_tail(p, alpha / m, c)
    train, test = theory.losses_from_traces(np.round(n), np.round(p), c - tail, tail, noise=noise)
    return train / (1.0 + noise), test / (1.0 + noise)


@core.validated(data=PANEL)
def predict(data: dict, alpha: float, c: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """The theory's (train, test) at every point of :func:`panel_data`, each (L, V, X)."""
    alpha = core.real(alpha, "alpha", low=0.0, low_open=True)
    c = core.real(c, "c", low=0.0, low_open=True)
    return _predict(data, alpha, c)


def _predict(data: dict, alpha: float, c: float) -> tuple[np.ndarray, np.ndarray]:
    """:func:`predict` on a checked panel, ``alpha`` and ``c``."""
    noise = data["noises"][None, :, None]
    args = (data["n"][:, None], data["p"][:, None], data["m"][:, None], data["k"][:, None], noise)
    return _theory_losses(*args, alpha, c, data["arch"] == "modular")


def _away(data: dict, band: float) -> np.ndarray:
    """(L, X): the points farther than ``band * p`` from the interpolation threshold ``n = p``."""
    return np.abs(data["n"] - data["p"]) > band * data["p"]


@core.validated(datas=PANELS)
def calibrate(datas, *, c: float | None = 1.0, band: float = 0.3, alphas=None, c_values=None) -> dict:
    """Fit the spectrum to the seed-mean test losses of the panels ``datas`` (one architecture), least squares
    in ``log10``, leaving out the points within ``band * p`` of ``n = p`` (where the theory diverges).

    ``c = 1`` (the default) fixes the spectrum's total variance at the task's noiseless variance, so ``alpha`` is
    the only free constant; ``c=None`` fits both (grid search over ``alphas`` x ``c_values``, by default 400
    log-spaced values of ``alpha`` in 0.02..20 and 250 of ``c`` in 0.02..50, wide enough that the stored study's
    free fits end inside it). Returns ``alpha``, ``c``, ``rms`` (decades, on the points used) and ``n_points``.
    """
    band = core.real(band, "band", low=0.0)
    alphas = (
        np.geomspace(0.02, 20, 400)
        if alphas is None
        else core.real_array(alphas, "alphas", low=0.0, low_open=True, ndim=1)
    )
    if c is None:
        c_values = (
            np.geomspace(0.02, 50, 250)
            if c_values is None
            else core.real_array(c_values, "c_values", low=0.0, low_open=True, ndim=1)
        )
    else:
        c_values = np.array([core.real(c, "c", low=0.0, low_open=True)])
    best = (np.inf, None, None, 0)
    for cv in c_values:
        err, count = np.zeros(alphas.size), 0
        for d in datas:
            net = np.log10(np.nanmean(d["test"], axis=2))  # (L, V, X)
            keep = np.broadcast_to(_away(d, band)[:, None, :], net.shape) & np.isfinite(net)
            for i, a in enumerate(alphas):
                _, test = _predict(d, float(a), float(cv))
                err[i] += np.sum((np.log10(test[keep]) - net[keep]) ** 2)
            count += int(keep.sum())
        if count < 2:
            raise ValueError("calibrate needs at least two finite losses away from the peak")
        i = int(np.nanargmin(err))
        if err[i] / count < best[0]:
            best = (err[i] / count, float(alphas[i]), float(cv), count)
    return {"alpha": best[1], "c": best[2], "rms": float(np.sqrt(best[0])), "n_points": best[3]}


@core.validated(data=PANEL, band=core.OrNone(core.Real(0.0)))
def rms_decades(data: dict, alpha: float, c: float = 1.0, *, band: float | None = None) -> tuple[float, int]:
    """Root-mean-square error, in decades, of the theory's test loss against the networks' seed-mean test loss
    over the panel's points (all lines and noise levels) where both are finite and positive; with ``band``,
    only those farther than ``band * p`` from ``n = p``. Returns ``(rms, points used)``."""
    net = np.nanmean(data["test"], axis=2)
    _, test = predict(data, alpha, c)
    keep = np.isfinite(net) & (net > 0) & np.isfinite(test) & (test > 0)
    if band is not None:
        keep &= np.broadcast_to(_away(data, band)[:, None, :], keep.shape)
    if not keep.any():
        return float("nan"), 0
    return float(np.sqrt(np.mean((np.log10(test[keep]) - np.log10(net[keep])) ** 2))), int(keep.sum())


def ratio_ci(a, b, *, confidence: float = 0.95) -> tuple[float, float, float]:
    """The ratio of the geometric means of ``a`` and ``b`` over seeds, ``exp(mean(log a - log b))``, with
    Student's interval on the per-seed log ratios (:func:`modscale_lib.laws.mean_ci`; ``a`` and ``b`` (S,)
    positive, paired by seed): ``(ratio, low, high)``. With 5 seeds the percentile bootstrap this replaces
    covered a true ratio of 1 in far fewer than 95 percent of cases (:func:`ratio_coverage`)."""
    a = core.real_array(a, "a", low=0.0, low_open=True, ndim=1)
    b = core.real_array(b, "b", low=0.0, low_open=True, ndim=1)
    if a.shape != b.shape:
        raise ValueError(f"a and b must have one shape (paired seeds), got {a.shape} and {b.shape}")
    return tuple(float(np.exp(v)) for v in laws.mean_ci(np.log(a) - np.log(b), confidence=confidence))


def trend_ratio(x, values, *, confidence: float = 0.95):
    """The ratio from the first to the last ``x`` implied by the least-squares line through ``log`` of every
    seed's loss at every ``x`` (values: (S, X), positive), pooled over seeds, with the jackknife-t interval over
    seeds (:func:`modscale_lib.laws.slope_ci`): ``(ratio, low, high)``. It uses every point of the panel, so one
    unlucky task draw at an end moves it less than the ratio of the end points."""
    x = core.real_array(x, "x", ndim=1, min_size=2)
    values = core.real_array(values, "values", low=0.0, low_open=True, ndim=2)
    if values.shape[1] != x.size:
        raise ValueError(f"values must have one column per x ({x.size}), got shape {values.shape}")
    span = x[-1] - x[0]
    return tuple(float(np.exp(v * span)) for v in laws.slope_ci(x, np.log(values), confidence=confidence))


@core.validated(data=PANEL, noise_index=panel_index("noises"), floor=core.Real(0.0))
def end_ratios(data: dict, alpha: float, c: float = 1.0, noise_index: int = 0, *, floor: float = 0.01) -> list[dict]:
    """For each light line of a ``k`` or ``m`` panel: the loss at the last swept value over the first (e.g.
    ``m = 9`` over ``m = 2``), networks' test and train as ratios of geometric means over seeds with
    Student's interval on the per-seed log ratios (:func:`ratio_ci`), the test ratio along the fitted trend
    over every value (:func:`trend_ratio`, ``"trend"``), and the theory's test ratio; each a tuple ``(ratio,
    low, high)``. A train ratio is ``nan`` where the first train loss is below ``floor * Var(y)`` (an
    interpolating fit: the ratio of two near-zeros means nothing) or a loss is not positive."""
    _, test = predict(data, alpha, c)
    out = []
    for li, line in enumerate(data["lines"]):
        row = {
            "p": int(line),
            "theory": float(test[li, noise_index, -1] / test[li, noise_index, 0]),
            "trend": trend_ratio(data["x"], data["test"][li, noise_index], confidence=0.95),
        }
        for stat in ("test", "train"):
            a = data[stat][li, noise_index]
            skip = (stat == "train" and a[:, 0].mean() < floor) or np.any(a[:, [0, -1]] <= 0)
            row[stat] = (float("nan"),) * 3 if skip else ratio_ci(a[:, -1], a[:, 0])
        out.append(row)
    return out


def _chapter_intervals(x, test, train, method: str, rng, confidence: float, floor: float) -> list[tuple]:
    """Every interval the chapter glues from one line of an ``m`` panel (test (V, S, X), train likewise): per
    noise level the end-point test and train ratios (train only where its first value is above ``floor``) and
    the trend; by the chapter's method (``"jackknife_t"``) or the percentile bootstrap it replaced (ratios of
    means, 500 resamples)."""
    out = []
    for j in range(test.shape[0]):
        pairs = [(test[j, :, -1], test[j, :, 0])]
        if train[j, :, 0].mean() >= floor and np.all(train[j][:, [0, -1]] > 0):
            pairs.append((train[j, :, -1], train[j, :, 0]))
        if method == "jackknife_t":
            out += [ratio_ci(a, b, confidence=confidence) for a, b in pairs]
            out.append(trend_ratio(x, test[j], confidence=confidence))
            continue
        idx = rng.integers(0, test.shape[1], (500, test.shape[1]))
        out += [(np.nan, *core.percentile_interval(a[idx].mean(1) / b[idx].mean(1), confidence)) for a, b in pairs]
        y = np.log(test[j][idx].mean(axis=1))  # (B, X)
        xc = x - x.mean()
        slope = (y - y.mean(axis=1, keepdims=True)) @ xc / np.sum(xc**2)
        out.append((np.nan, *core.percentile_interval(np.exp(slope * (x[-1] - x[0])), confidence)))
    return out


@core.validated(datas=PANELS, confidence=CONFIDENCE, floor=core.Real(0.0))
def ratio_coverage(
    datas, *, n_permutations: int = 200, confidence: float = 0.95, floor: float = 0.01, seed: int = 0
) -> dict:
    """How often the chapter's ``m``-ratio intervals contain 1 where the truth is 1, measured on the data.

    datas : ``m`` panels (:func:`panel_data`) of modular networks with the true projections: their task is the
    same up to rotation at every ``m``, and every (seed, ``m``) has its own task draw and initial weights, so
    the (seed, ``m``) cells of a line are exchangeable. Each permutation of the cells (the same for every noise
    level and for train and test, which share draws) is a dataset whose ratios are 1 by construction.

    Returns, per method (``"jackknife_t"``, the chapter's; ``"percentile"``, the bootstrap it replaced):
    ``coverage`` (share of intervals containing 1 over the permutations), ``observed`` (how many of the real
    data's intervals exclude 1), ``null_median`` and ``null_95`` (quantiles of that count over the
    permutations), ``p_value`` (share of permutations excluding as many or more); ``intervals`` (how many).
    """
    n_permutations = core.whole(n_permutations, "n_permutations", low=10, high=10**5)
    rng = np.random.default_rng(core.seed(seed))
    out = {}
    for method in ("jackknife_t", "percentile"):

        def count(perm_rng, method=method):  # called in this iteration only
            n_out, n_all = 0, 0
            for d in datas:
                for li in range(d["lines"].size):
                    test, train = d["test"][li], d["train"][li]
                    if perm_rng is not None:
                        perm = perm_rng.permutation(test.shape[1] * test.shape[2])
                        test, train = (a.reshape(a.shape[0], -1)[:, perm].reshape(a.shape) for a in (test, train))
                    ivs = _chapter_intervals(d["x"], test, train, method, rng, confidence, floor)
                    n_out += sum(not (lo <= 1.0 <= hi) for _, lo, hi in ivs)
                    n_all += len(ivs)
            return n_out, n_all

        observed, n_all = count(None)
        null = np.array([count(rng)[0] for _ in range(n_permutations)])
        out[method] = {
            "coverage": float(1 - null.mean() / n_all),
            "observed": int(observed),
            "null_median": float(np.median(null)),
            "null_95": float(np.percentile(null, 95)),
            "p_value": float(np.mean(null >= observed)),
        }
    out["intervals"] = n_all
    return out


@core.validated(data=PANEL, level=POSITIVE, factor=POSITIVE)
def interpolated_share(data: dict, level: float = 0.01, factor: float = 2.0) -> tuple[int, int]:
    """How many over-parameterised networks (``p >= factor * n``) of a panel reached a training loss below
    ``level * Var(y)``: ``(reached, of)``."""
    over = np.broadcast_to((data["p"] >= factor * data["n"])[:, None, None, :], data["train"].shape)
    return int(np.sum(data["train"][over] < level)), int(over.sum())


@core.validated(data=PANEL, line_index=panel_index("lines"))
def panel_columns(data: dict, alpha: float, c: float = 1.0, line_index: int = 0) -> dict:
    """Table columns for one line of a panel: the swept value, and per noise level the networks' seed-mean
    test loss and the theory's, in units of ``Var(y)``."""
    x = data["p"][line_index] if data["panel"] == "p" else data["x"]
    cols = {data["panel"]: np.round(x).astype(int)}
    _, test = predict(data, alpha, c)
    for j, v in enumerate(data["noises"]):
        cols[f"net, σ²={v:g}"] = np.nanmean(data["test"][line_index, j], axis=0)
        cols[f"theory, σ²={v:g}"] = test[line_index, j]
    return cols


NOISE_COLOURS = ("#1f5fa8", "#e07b28", "#2a9d5c")
LINE_MARKERS = ("o", "s", "^")
_LABELS = {
    "k": "number of modules k",
    "m": "input dimension m",
    "p": "trainable parameters p",
    "n": "training samples n",
}


def _four(value, name: str, arguments=None) -> dict:
    if not isinstance(value, dict) or set(value) != set(PANEL_NAMES):
        raise ValueError(f"{name} must be a dict of the panels {PANEL_NAMES}, got {type(value).__name__}")
    return {k: _panel(value[k], f"{name}[{k!r}]") for k in value}


def _fits(value, name: str, arguments=None) -> dict:
    if not isinstance(value, dict) or "alpha" not in value or "c" not in value:
        raise ValueError(f"{name} must be a dict with alpha and c (of calibrate)")
    return {k: core.real(value[k], f"{name}[{k!r}]", low=0.0, low_open=True) for k in ("alpha", "c")}


def _ylim(value, name: str, arguments=None) -> tuple:
    if not isinstance(value, (tuple, list)) or len(value) != 2:
        raise TypeError(f"{name} must be a pair (bottom, top), got {value!r}")
    low = core.real(value[0], f"{name}[0]", low=0.0, low_open=True)
    return low, core.real(value[1], f"{name}[1]", low=low, low_open=True)


def _text(value, name: str, arguments=None) -> str:
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a string, got {type(value).__name__}")
    return value


@core.validated(
    panels=core.Check(_four),
    fits=core.Check(_fits),
    title=core.Check(_text),
    ylim=core.Check(_ylim),
    width=core.Real(1.0, 30.0),
)
def theory_networks_figure(panels: dict, fits: dict, *, title: str = "", ylim=(3e-3, 30), width: float = 7.5):
    """The four panels (``k``, ``m``, ``p``, ``n``) of one architecture and protocol in a 2 x 2 grid, sized for
    the book's column (``width`` inches, text 9 pt or more): networks' seed-mean test loss (solid, markers: one
    per light line), theory (dashed), one colour per noise level, train loss faint; a dotted vertical line at
    the theory's threshold ``n = p``. ``panels``: ``{panel: panel_data}``; ``fits``: ``{"alpha", "c"}``.
    Returns the figure."""
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D

    fig, axes = plt.subplots(2, 2, figsize=(width, 0.9 * width), layout="constrained")
    for ax, name in zip(axes.ravel(), PANEL_NAMES):
        d = panels[name]
        _, test = predict(d, fits["alpha"], fits["c"])
        x_all = d["p"] if name == "p" else np.broadcast_to(d["x"], d["p"].shape)
        for j, colour in enumerate(NOISE_COLOURS[: d["noises"].size]):
            for li in range(d["lines"].size):
                mk = LINE_MARKERS[li % len(LINE_MARKERS)]
                ax.plot(x_all[li], np.nanmean(d["test"][li, j], axis=0), color=colour, marker=mk, ms=4)
                ax.plot(x_all[li], np.nanmean(d["train"][li, j], axis=0), color=colour, lw=0.8, alpha=0.35)
                shown = np.where(np.isfinite(test[li, j]) & (test[li, j] > 0), test[li, j], np.nan)
                ax.plot(x_all[li], shown, color=colour, ls="--", lw=1.2)
        if name in "pn":
            ax.set_xscale("log")
            ax.axvline(d["n"][0, 0] if name == "p" else d["p"][0, 0], color="grey", ls=":", lw=1)
        ax.set(yscale="log", ylim=ylim)
        ax.set_xlabel(_LABELS[name], fontsize=10)
        ax.set_ylabel("loss / Var(y)", fontsize=10)
        ax.tick_params(labelsize=9)
    d = panels["k"]
    handles = [Line2D([], [], color=col, label=f"σ² = {v:g}") for col, v in zip(NOISE_COLOURS, d["noises"])]
    handles += [
        Line2D([], [], color="k", ls="--", label="theory (test)"),
        Line2D([], [], color="k", lw=0.8, alpha=0.35, label="networks (train)"),
    ]
    handles += [
        Line2D([], [], color="k", marker=LINE_MARKERS[i], ls="none", label=f"k, m panels: p = {p}")
        for i, p in enumerate(d["lines"])
    ]
    fig.legend(handles=handles, loc="outside lower center", ncol=3, fontsize=9)
    if title:
        fig.suptitle(title, fontsize=11)
    return fig
