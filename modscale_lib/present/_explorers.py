"""Explorers for the book's theory pages: they draw closed forms only.

* :func:`static_linear_model_explorer`: sliders and a plot in plain HTML and JavaScript, with no kernel and
  no network, so they work in the built book (and in a notebook).
* :func:`linear_model_explorer`: the same with ipywidgets and matplotlib, for a live notebook.
"""

from __future__ import annotations

import itertools
import json

import numpy as np

from .. import theory
from ..core import Real, Size, Whole, validated
from . import _plotting as plotting

__all__ = ["static_linear_model_explorer", "linear_model_explorer", "draw_linear_model", "LINEAR_MODEL_SLIDERS"]

# name -> (label, minimum, maximum, step, initial); "noise" (the label-noise variance) moves on a log10 scale.
LINEAR_MODEL_SLIDERS = {
    "n": ("samples n", 1, 400, 1, 60),
    "p": ("parameters p", 1, 400, 1, 100),
    "d": ("outputs d", 1, 4, 1, 1),
    "m": ("input dimension m", 1, 12, 1, 2),
    "alpha": ("exponent \u03b1", 0.25, 4.0, 0.25, 1.0),
    "noise": ("label noise \u03c3\u00b2 (log scale)", -4.0, 0.0, 0.1, -1.3),
}


_EXPLORER = {
    "n_features": Size(2, 100_000),
    "n": Whole(1, 10**7),
    "p": Whole(1, high=lambda a: a["n_features"]),
    "d": Whole(1, 1000),
    "input_dim": Real(1.0, 10**4),
    "alpha": Real(0.0, 100.0, low_open=True),
    "noise": Real(0.0, 10**6),
}


@validated(**_EXPLORER)
def draw_linear_model(
    n: int, p: int, d: int = 1, input_dim: int = 2, alpha: float = 1.0, noise: float = 0.05, n_features: int = 400
):
    """Draw expected train and test loss against ``n`` (at ``p``) and against ``p`` (at ``n``), with the
    chosen point marked, for :func:`modscale_lib.theory.power_law_spectrum` on ``n_features`` features.
    ``n`` runs over the explorer's slider range, ``p`` up to ``n_features``.

    Returns the figure (it does not show it: end a notebook line with ``;`` to draw it once).
    """
    lam = theory.power_law_spectrum(n_features, input_dim, alpha)
    fig, (ax_n, ax_p) = plotting.subplots(1, 2, width=plotting.COLUMN_INCHES / 2, height=3.0, sharey=True)
    ns = np.arange(1, LINEAR_MODEL_SLIDERS["n"][2] + 1)
    ps = np.arange(1, n_features + 1)
    for ax, x, (train, test), here, xlabel, title in (
        (ax_n, ns, theory.expected_losses(ns, p, lam, d, noise), n, "samples $n$", f"against $n$, at $p = {p}$"),
        (ax_p, ps, theory.expected_losses(n, ps, lam, d, noise), p, "parameters $p$", f"against $p$, at $n = {n}$"),
    ):
        ax.plot(x, np.where(np.isfinite(test), test, np.nan), color=plotting.OURS, label="test")
        ax.plot(x, train, color=plotting.ACCENT, label="train")
        ax.axvline(here, color=plotting.PAPER, ls=":", lw=1)
        ax.set(xscale="log", yscale="log", xlabel=xlabel, title=title, ylim=(1e-3 * d, 30 * d))
    ax_n.set_ylabel(f"expected loss (sum over $d = {d}$)")
    ax_n.legend()
    fig.suptitle(
        f"$m = {input_dim}$, $\\alpha = {alpha:g}$, $\\sigma^2 = {noise:.2g}$: the test loss peaks at $dn = p$"
    )
    return fig


def linear_model_explorer():
    """ipywidgets sliders for ``n``, ``p``, ``d``, ``m``, ``alpha`` and the noise, redrawing
    :func:`draw_linear_model` once per change. Needs a live kernel; the built book uses
    :func:`static_linear_model_explorer`.
    """
    import ipywidgets as widgets
    import matplotlib.pyplot as plt

    def draw(**kwargs):
        draw_linear_model(**kwargs)
        plt.show()  # shown here, and nothing returned for interact to display a second time

    s = LINEAR_MODEL_SLIDERS
    return widgets.interact(
        draw,
        n=widgets.IntSlider(value=s["n"][4], min=s["n"][1], max=s["n"][2], description="n"),
        p=widgets.IntSlider(value=s["p"][4], min=s["p"][1], max=s["p"][2], description="p"),
        d=widgets.IntSlider(value=s["d"][4], min=s["d"][1], max=s["d"][2], description="d"),
        input_dim=widgets.IntSlider(value=s["m"][4], min=s["m"][1], max=s["m"][2], description="m"),
        alpha=widgets.FloatSlider(
            value=s["alpha"][4], min=s["alpha"][1], max=s["alpha"][2], step=s["alpha"][3], description="\u03b1"
        ),
        noise=widgets.FloatLogSlider(
            value=10 ** s["noise"][4], base=10, min=s["noise"][1], max=s["noise"][2], description="\u03c3\u00b2"
        ),
        n_features=widgets.fixed(400),
    )


# The explorer's JavaScript: the closed forms of theory.expected_losses on theory.power_law_spectrum (whose
# traces telescope: Tr Lambda_1(p) = 1 - (p+1)^-a, Tr Lambda_2(p) = (p+1)^-a - (P+1)^-a, a = alpha/m), a
# two-panel log-log plot on a canvas (each panel's x axis spans its slider's range; text at FONT_PX CSS px, the
# house 9 pt and up), and a readout whose data-* attributes carry the values (the browser test compares them with
# theory.expected_losses). The readout names only points inside the sliders' ranges.
_LINEAR_MODEL_JS = r"""
window.modscaleLinearExplorer = window.modscaleLinearExplorer || (function () {
  var FONT_PX = 12, TITLE_PX = 13;
  function pinvMoment(N, p) {
    if (N > p + 1) return p / (N - p - 1);
    if (p > N + 1) return N / (p - N - 1);
    return Infinity;
  }
  function losses(n, p, d, m, alpha, noise, P) {
    var a = alpha / m, N = d * n;
    var seen = 1 - Math.pow(p + 1, -a);
    var missing = Math.max(Math.pow(p + 1, -a) - Math.pow(P + 1, -a), 0);
    var s2 = missing + noise;
    var train = N > p ? d * s2 * (1 - p / N) : 0;
    var bias = p > N ? d * seen * (1 - N / p) : 0;
    var test = bias + (s2 > 0 ? d * s2 * (1 + pinvMoment(N, p)) : 0);
    return {train: train, test: test};
  }
  function tick(e) { return e >= 0 ? String(Math.pow(10, e)) : "0." + "0".repeat(-e - 1) + "1"; }
  function fmt(x) {
    if (!isFinite(x)) return "\u221e (the interpolation peak)";
    if (x === 0) return "0";
    return x.toPrecision(4);
  }
  function num(x) { return Number.isInteger(x) ? String(x) : x.toFixed(1); }
  function panel(ctx, box, xs, curves, here, xlabel, ylabel, title, ylim, colour) {
    var x0 = box.x + 70, x1 = box.x + box.w - 10, y0 = box.y + box.h - 44, y1 = box.y + 26;
    var lx0 = Math.log10(xs[0]), lx1 = Math.log10(xs[xs.length - 1]);
    var ly0 = Math.log10(ylim[0]), ly1 = Math.log10(ylim[1]);
    function X(v) { return x0 + (Math.log10(v) - lx0) / (lx1 - lx0) * (x1 - x0); }
    function Y(v) { return y0 - (Math.log10(v) - ly0) / (ly1 - ly0) * (y0 - y1); }
    ctx.strokeStyle = colour; ctx.fillStyle = colour; ctx.lineWidth = 1;
    ctx.strokeRect(x0, y1, x1 - x0, y0 - y1);
    ctx.font = FONT_PX + "px sans-serif"; ctx.textAlign = "center"; ctx.textBaseline = "top";
    for (var e = Math.ceil(lx0); e <= Math.floor(lx1); e++) {
      ctx.beginPath(); ctx.moveTo(X(Math.pow(10, e)), y0); ctx.lineTo(X(Math.pow(10, e)), y0 + 4); ctx.stroke();
      ctx.fillText(tick(e), X(Math.pow(10, e)), y0 + 6);
    }
    ctx.textAlign = "right"; ctx.textBaseline = "middle";
    for (var f = Math.ceil(ly0); f <= Math.floor(ly1); f++) {
      ctx.beginPath(); ctx.moveTo(x0 - 4, Y(Math.pow(10, f))); ctx.lineTo(x0, Y(Math.pow(10, f))); ctx.stroke();
      ctx.fillText(tick(f), x0 - 6, Y(Math.pow(10, f)));
    }
    ctx.textAlign = "center"; ctx.textBaseline = "alphabetic";
    ctx.fillText(xlabel, (x0 + x1) / 2, box.y + box.h - 6);
    ctx.save(); ctx.translate(box.x + 14, (y0 + y1) / 2); ctx.rotate(-Math.PI / 2);
    ctx.fillText(ylabel, 0, 0); ctx.restore();
    ctx.font = TITLE_PX + "px sans-serif"; ctx.fillText(title, (x0 + x1) / 2, box.y + 16);
    ctx.save(); ctx.beginPath(); ctx.rect(x0, y1, x1 - x0, y0 - y1); ctx.clip();
    ctx.setLineDash([2, 3]); ctx.strokeStyle = "#a0a0a0";
    ctx.beginPath(); ctx.moveTo(X(here), y0); ctx.lineTo(X(here), y1); ctx.stroke(); ctx.setLineDash([]);
    curves.forEach(function (c) {
      ctx.strokeStyle = c.colour; ctx.lineWidth = 1.8; ctx.beginPath();
      var pen = false;
      for (var i = 0; i < xs.length; i++) {
        var v = c.values[i];
        if (!(isFinite(v) && v > 0)) { pen = false; continue; }
        var yy = Math.max(Math.min(Y(v), y0 + 50), y1 - 50);
        if (pen) ctx.lineTo(X(xs[i]), yy); else ctx.moveTo(X(xs[i]), yy);
        pen = true;
      }
      ctx.stroke();
    });
    ctx.restore();
  }
  return function (id, sliders, P) {
    var root = document.getElementById(id);
    var canvas = root.querySelector("canvas"), out = root.querySelector(".modscale-readout");
    var inputs = {};
    Object.keys(sliders).forEach(function (k) { inputs[k] = root.querySelector("input[name=" + k + "]"); });
    var nMax = sliders.n[1], pMax = P;
    function values() {
      var v = {};
      Object.keys(inputs).forEach(function (k) { v[k] = parseFloat(inputs[k].value); });
      v.noise = Math.pow(10, v.noise);
      return v;
    }
    function peaks(v) {
      // where d n = p on each panel, said only inside the slider's range
      var atN = v.p / v.d, atP = v.d * v.n;
      var left = atN >= 1 && atN <= nMax ? "at n = " + num(atN) + " on the left" :
        "outside the left panel (n from 1 to " + nMax + ")";
      var right = atP >= 1 && atP <= pMax ? "at p = " + num(atP) + " on the right" :
        "beyond the right panel's p = " + pMax;
      return "The test loss peaks where d\u00b7n = p: " + left + ", " + right + ".";
    }
    function draw() {
      var v = values(), here = losses(v.n, v.p, v.d, v.m, v.alpha, v.noise, P);
      Object.keys(inputs).forEach(function (k) {
        root.querySelector("output[for=" + id + "-" + k + "]").textContent = k === "noise" ?
          v.noise.toPrecision(2) : String(v[k]);
      });
      out.dataset.n = v.n; out.dataset.p = v.p; out.dataset.d = v.d; out.dataset.m = v.m;
      out.dataset.alpha = v.alpha; out.dataset.noise = v.noise;
      out.dataset.train = here.train; out.dataset.test = here.test;
      out.textContent = "At n = " + v.n + ", p = " + v.p + ", d = " + v.d + ", m = " + v.m + ", \u03b1 = " +
        v.alpha + ", \u03c3\u00b2 = " + v.noise.toPrecision(2) + ": expected train loss " + fmt(here.train) +
        ", test loss " + fmt(here.test) + ". " + peaks(v);
      var width = Math.max(root.clientWidth, 320), height = 320, ratio = window.devicePixelRatio || 1;
      canvas.width = Math.round(width * ratio); canvas.height = Math.round(height * ratio);
      canvas.style.width = width + "px"; canvas.style.height = height + "px";
      var ctx = canvas.getContext("2d");
      ctx.setTransform(ratio, 0, 0, ratio, 0, 0); ctx.clearRect(0, 0, width, height);
      var colour = getComputedStyle(root).color || "#333";
      var ns = [], ps = [], nTrain = [], nTest = [], pTrain = [], pTest = [];
      for (var n = 1; n <= nMax; n++) {
        var a = losses(n, v.p, v.d, v.m, v.alpha, v.noise, P); ns.push(n); nTrain.push(a.train); nTest.push(a.test);
      }
      for (var p = 1; p <= pMax; p++) {
        var b = losses(v.n, p, v.d, v.m, v.alpha, v.noise, P); ps.push(p); pTrain.push(b.train); pTest.push(b.test);
      }
      var ylim = [1e-3 * v.d, 30 * v.d], half = width / 2, ylabel = "expected loss (sum over d = " + v.d + ")";
      panel(ctx, {x: 0, y: 0, w: half, h: height}, ns,
            [{values: nTest, colour: "#1f5fa8"}, {values: nTrain, colour: "#c8553d"}],
            v.n, "samples n", ylabel, "against n, at p = " + v.p, ylim, colour);
      panel(ctx, {x: half, y: 0, w: half, h: height}, ps,
            [{values: pTest, colour: "#1f5fa8"}, {values: pTrain, colour: "#c8553d"}],
            v.p, "parameters p", ylabel, "against p, at n = " + v.n, ylim, colour);
    }
    Object.keys(inputs).forEach(function (k) { inputs[k].addEventListener("input", draw); });
    window.addEventListener("resize", draw);
    root.modscale = {losses: function (n, p, d, m, alpha, noise) { return losses(n, p, d, m, alpha, noise, P); },
                     draw: draw};
    draw();
  };
})();
"""

_ids = itertools.count(1)


@validated(n_features=_EXPLORER["n_features"])
def static_linear_model_explorer(n_features: int = 400):
    """The linear model's explorer as self-contained HTML and JavaScript (no kernel, no network).

    Sliders for ``n``, ``p``, ``d``, ``m``, ``alpha`` and the label-noise variance redraw the expected train and
    test losses of :func:`modscale_lib.theory.expected_losses` on :func:`modscale_lib.theory.power_law_spectrum`
    (``n_features`` features), against ``n`` (over the ``n`` slider's range) and against ``p`` (up to
    ``n_features``, the ``p`` slider's maximum), and print their values at the chosen point; the readout names
    the interpolation peak only where it lies inside those ranges.

    Returns
    -------
    An ``IPython.display.HTML`` object; display it (it is the cell's output) to draw the explorer.
    """
    from IPython.display import HTML

    uid = f"modscale-linear-explorer-{next(_ids)}"
    rows = []
    for name, (label, lo, hi, step, value) in LINEAR_MODEL_SLIDERS.items():
        hi = n_features if name == "p" else hi
        rows.append(
            f'<label style="display:flex;gap:0.5em;align-items:center">'
            f'<span style="min-width:9em">{label}</span>'
            f'<input type="range" name="{name}" id="{uid}-{name}" min="{lo}" max="{hi}" step="{step}" '
            f'value="{value:.6g}" style="flex:1;min-width:0">'
            f'<output for="{uid}-{name}" style="min-width:3.5em;text-align:right"></output></label>'
        )
    legend = (
        '<span style="color:#1f5fa8">&#9644; expected test loss</span>&emsp;'
        '<span style="color:#c8553d">&#9644; expected train loss</span>'
    )
    html = (
        f'<div id="{uid}" class="modscale-explorer" style="max-width:100%;overflow:hidden">'
        f'<div style="display:grid;grid-template-columns:repeat(auto-fit,minmax(16em,1fr));gap:0.2em 1.5em">'
        f"{''.join(rows)}</div>"
        f'<canvas role="img" aria-label="expected train and test loss against n and against p" '
        f'style="display:block;max-width:100%"></canvas>'
        f'<div style="font-size:0.9em">{legend}</div>'
        f'<p class="modscale-readout" aria-live="polite"></p>'
        f'<script>{_LINEAR_MODEL_JS}\nwindow.modscaleLinearExplorer("{uid}", '
        f"{json.dumps({k: v[1:] for k, v in LINEAR_MODEL_SLIDERS.items()})}, {n_features});</script>"
        f"</div>"
    )
    return HTML(html)
