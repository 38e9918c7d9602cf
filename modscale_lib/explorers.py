"""Interactive explorers for the book's theory pages (ipywidgets; they draw closed forms only)."""
from __future__ import annotations

import numpy as np

from . import plotting, theory

__all__ = ["linear_model_explorer"]


def draw_linear_model(n: int, p: int, d: int = 1, input_dim: int = 2, alpha: float = 1.0, noise: float = 0.05,
                      n_features: int = 400):
    """Draw expected train and test loss against ``n`` (at ``p``) and against ``p`` (at ``n``), with the
    chosen point marked. Returns the figure."""
    import matplotlib.pyplot as plt

    lam = theory.power_law_spectrum(n_features, input_dim, alpha)
    fig, (ax_n, ax_p) = plotting.subplots(1, 2, width=4.4, height=3.2)
    ns = np.arange(1, 2 * n_features // d + 1)
    ps = np.arange(1, n_features + 1)
    for ax, x, (train, test), here, xlabel in (
        (ax_n, ns, theory.expected_losses(ns, p, lam, d, noise), n, f"samples n (p = {p})"),
        (ax_p, ps, theory.expected_losses(n, ps, lam, d, noise), p, f"parameters p (n = {n})"),
    ):
        ax.plot(x, np.where(np.isfinite(test), test, np.nan), color=plotting.OURS, label="test")
        ax.plot(x, train, color=plotting.ACCENT, label="train")
        ax.axvline(here, color=plotting.PAPER, ls=":", lw=1)
        ax.set(xscale="log", yscale="log", xlabel=xlabel, ylabel=f"loss (summed over d = {d} outputs)",
               ylim=(1e-3 * d, 30 * d))
    ax_n.legend()
    fig.suptitle(f"m = {input_dim}, alpha = {alpha:g}, noise = {noise:g}: peak where d*n = p")
    plt.show()
    return fig


def linear_model_explorer():
    """Sliders for ``n``, ``p``, ``d``, ``m``, ``alpha`` and the noise, redrawing :func:`draw_linear_model`."""
    import ipywidgets as widgets

    return widgets.interact(
        draw_linear_model,
        n=widgets.IntSlider(value=60, min=1, max=400, description="n"),
        p=widgets.IntSlider(value=100, min=1, max=400, description="p"),
        d=widgets.IntSlider(value=1, min=1, max=4, description="d"),
        input_dim=widgets.IntSlider(value=2, min=1, max=12, description="m"),
        alpha=widgets.FloatSlider(value=1.0, min=0.25, max=4.0, step=0.25, description="alpha"),
        noise=widgets.FloatLogSlider(value=0.05, base=10, min=-4, max=0, description="noise"),
        n_features=widgets.fixed(400),
    )
