"""What the chapter *Theory meets trained networks* shows of its measurements: the four-panel figures, the HTML
tables, and the lines its cells print. Each takes ``measured``, the dict of
:func:`~modscale_lib.chapters.theory_vs_networks.measurements`, and draws or formats what it holds; nothing here
computes a measurement (the quantities come from the read-out)."""

from __future__ import annotations

import numpy as np

from ... import core, present, reference, theory_fit
from ...store import check_result
from .readout import (
    ARCH_RULE,
    COVERAGE_QUANTITIES,
    FIT_PROTOCOL,
    MEASURED_RULE,
    PROTOCOL_RULE,
    RATIO_PANELS,
    interpolated_shares,
    modular_m_ratios,
    noise_excess_ratios,
    over_parameterised,
    peak_heights,
    peaked_curves,
    rms_by_panel,
    small_n_ratios,
)

__all__ = [
    "panels_figure",
    "peak_location_table",
    "peak_prominence_table",
    "prominence_coverage_table",
    "location_coverage_table",
    "ratio_table",
    "trend_table",
    "sweep_lines",
    "variance_lines",
    "calibration_lines",
    "rms_lines",
    "interpolation_lines",
    "peak_lines",
    "noise_excess_lines",
    "height_lines",
    "modular_m_lines",
    "ratio_coverage_lines",
    "small_n_lines",
    "authors_lines",
    "over_parameterised_lines",
]

#: The coverage columns' headers, per quantity of :data:`COVERAGE_QUANTITIES`.
COVERAGE_HEADERS = dict(
    zip(
        COVERAGE_QUANTITIES,
        ("prominence, jackknife-t", "prominence, percentile", "location, percentile", "excess at n = p"),
    )
)


# ---------------------------------------------------------------------------------------------------------
# Figures and tables
# ---------------------------------------------------------------------------------------------------------
@core.validated(measured=MEASURED_RULE, arch=ARCH_RULE, protocol=PROTOCOL_RULE)
def panels_figure(measured: dict, arch: str, protocol: str):
    """The four panels (``k``, ``m``, ``p``, ``n``) of one architecture and protocol, networks against the theory
    calibrated for the architecture (:func:`~modscale_lib.theory_fit.theory_networks_figure`)."""
    return theory_fit.theory_networks_figure(
        {pa: measured["data"][arch, protocol, pa] for pa in theory_fit.PANEL_NAMES},
        measured["fits"][arch],
        title=f"{arch} networks, {protocol} protocol",
    )


def _curve_columns(measured: dict) -> dict:
    keys, noises = measured["curves"], measured["config"].noises
    return {
        "network": [k[0] for k in keys],
        "protocol": [k[1] for k in keys],
        "panel": [k[2] for k in keys],
        "σ²": [noises[k[3]] for k in keys],
    }


def _ci3(estimate, low, high) -> str:
    fmt = lambda v: "none" if not np.isfinite(v) else f"{v:.2f}"  # noqa: E731
    return f"{fmt(estimate)} [{fmt(low)}, {fmt(high)}]"


@core.validated(measured=MEASURED_RULE)
def peak_location_table(measured: dict):
    """Per ``p`` and ``n`` curve, where the largest interior maximum of the seed-mean test loss is, against the
    theory's ``n = p``."""
    keys, peaks = measured["curves"], measured["peaks"]
    columns = {
        **_curve_columns(measured),
        "peak at": [peaks[k]["at"] for k in keys],
        "theory's n = p": [peaks[k]["threshold"] for k in keys],
    }
    return present.table(
        columns, formats={"σ²": "g", "peak at": ".0f"}, caption="where the largest interior maximum is"
    )


@core.validated(measured=MEASURED_RULE)
def peak_prominence_table(measured: dict):
    """Per ``p`` and ``n`` curve, the peak's prominence and the excess at ``n = p``, each with its 95% interval."""
    keys, peaks, excess = measured["curves"], measured["peaks"], measured["excess"]
    columns = {
        **_curve_columns(measured),
        "prominence [95% CI]": [
            _ci3(*(peaks[k][q] for q in ("prominence", "prominence_low", "prominence_high"))) for k in keys
        ],
        "excess at n = p [95% CI]": [_ci3(*(excess[k][q] for q in ("excess", "low", "high"))) for k in keys],
    }
    return present.table(columns, formats={"σ²": "g"}, caption="how far it stands out")


def _coverage_table(measured: dict, quantities, caption: str):
    headers = [COVERAGE_HEADERS[q] for q in quantities]
    columns = {
        **_curve_columns(measured),
        **{COVERAGE_HEADERS[q]: [measured["coverage"][k][q] for k in measured["curves"]] for q in quantities},
    }
    return present.table(columns, formats={"σ²": "g", **{h: ".2f" for h in headers}}, caption=caption)


@core.validated(measured=MEASURED_RULE)
def prominence_coverage_table(measured: dict):
    """Per curve, the coverage of the prominence's nominal 95% intervals (jackknife-t, percentile bootstrap)."""
    return _coverage_table(measured, COVERAGE_QUANTITIES[:2], "coverage of the prominence's intervals")


@core.validated(measured=MEASURED_RULE)
def location_coverage_table(measured: dict):
    """Per curve, the coverage of the location's percentile interval and of the excess's Student interval."""
    return _coverage_table(measured, COVERAGE_QUANTITIES[2:], "coverage of the location's and the excess's intervals")


def _ci(t) -> str:
    return "n/a" if not np.isfinite(t[0]) else f"{t[0]:.2f} [{t[1]:.2f}, {t[2]:.2f}]"


def _ratio_rows(measured: dict) -> tuple[list, dict]:
    """The noiseless lines of the ``k`` and ``m`` panels, and the columns that name them."""
    config, data = measured["config"], measured["data"]
    rows = [
        (a, pr, pa, r)
        for a in config.archs
        for pr in config.protocols
        for pa in RATIO_PANELS
        for r in measured["ratios"][a, pr, pa, 0]
    ]
    x = {pa: data[config.archs[0], config.protocols[-1], pa]["x"] for pa in RATIO_PANELS}
    span = {pa: f"{pa}={x[pa][-1]:.0f} / {pa}={x[pa][0]:.0f}" for pa in RATIO_PANELS}
    line = {
        "network": [r[0] for r in rows],
        "protocol": [r[1] for r in rows],
        "ratio": [span[r[2]] for r in rows],
        "p": [r[3]["p"] for r in rows],
    }
    return rows, line


@core.validated(measured=MEASURED_RULE)
def ratio_table(measured: dict):
    """The test-loss ratio from the first ``k`` (or ``m``) to the last, networks with intervals and the theory."""
    rows, line = _ratio_rows(measured)
    columns = {
        **line,
        "test, networks [95% CI]": [_ci(r[3]["test"]) for r in rows],
        "test, theory": [r[3]["theory"] for r in rows],
    }
    return present.table(columns, formats={"test, theory": ".2f"}, caption="the test ratio, networks and theory")


@core.validated(measured=MEASURED_RULE)
def trend_table(measured: dict):
    """The networks' test trend over ``k`` (or ``m``) and their train ratio, with intervals."""
    rows, line = _ratio_rows(measured)
    columns = {
        **line,
        "test trend [95% CI]": [_ci(r[3]["trend"]) for r in rows],
        "train, networks [95% CI]": [_ci(r[3]["train"]) for r in rows],
    }
    return present.table(columns, caption="the test trend and the train ratio, networks")


# ---------------------------------------------------------------------------------------------------------
# Printed lines, section by section
# ---------------------------------------------------------------------------------------------------------
def sweep_lines(res, config) -> str:
    """What the stored result holds: networks, seeds, noise levels, protocols, architectures and steps."""
    check_result(res, config, "network_theory")
    return (
        f"{res['n'].size} networks: {config.n_seeds} seeds x noise variances {config.noises} x "
        f"{len(config.protocols)} protocols x {len(config.archs)} architectures; {config.steps} full-batch Adam "
        "steps each"
    )


@core.validated(measured=MEASURED_RULE)
def variance_lines(measured: dict) -> str:
    """``Var(y)`` over the draws of the task with overlapping projections (``m = 2``, ``k = 5``)."""
    return f"Var(y) over five draws of m = 2, k = 5 (intended: 1): {np.round(measured['variance_draws'], 2)}"


@core.validated(measured=MEASURED_RULE)
def calibration_lines(measured: dict) -> str:
    """Per architecture, the calibrated ``alpha`` with ``c = 1`` and the fit with ``c`` free, with their errors."""
    lines = []
    for arch in measured["config"].archs:
        f, g = measured["fits"][arch], measured["free"][arch]
        lines.append(
            f"{arch:10s} c = 1 fixed: alpha = {f['alpha']:.3g}, rms {f['rms']:.3f} decades on {f['n_points']} "
            f"points | both free: alpha = {g['alpha']:.3g}, c = {g['c']:.3g}, rms {g['rms']:.3f}"
        )
    return "\n".join(lines)


@core.validated(measured=MEASURED_RULE)
def rms_lines(measured: dict) -> str:
    """Per panel, protocol and architecture, the theory's error in decades, everywhere and away from ``n = p``."""
    lines = []
    for (arch, pr, pa), (rms, used, away) in rms_by_panel(measured).items():
        role = "fitted" if (pr, pa) == (FIT_PROTOCOL, "n") else "predicted"
        lines.append(
            f"{arch:10s} {pr:13s} {pa} panel ({role}): rms {rms:.2f} decades over {used} points, "
            f"{away:.2f} away from n = p"
        )
    return "\n".join(lines)


@core.validated(measured=MEASURED_RULE)
def interpolation_lines(measured: dict) -> str:
    """Per architecture and protocol, how many over-parameterised networks interpolated."""
    return "\n".join(
        f"{arch:10s} {pr:13s}: {reached} of {of} networks with p >= 2n reached a train loss below 0.01 Var(y)"
        for (arch, pr), (reached, of) in interpolated_shares(measured).items()
    )


@core.validated(measured=MEASURED_RULE)
def peak_lines(measured: dict) -> str:
    """The curves whose excess at ``n = p`` has an interval above one, with the three points it compares."""
    above, noises = peaked_curves(measured), measured["config"].noises
    lines = [
        f"{len(above)} of {len(measured['curves'])} curves have an excess at n = p whose 95% interval lies above one:"
    ]
    for k in above:
        e = measured["excess"][k]
        lines.append(
            f"  {k[0]}, {k[1]}, {k[2]} panel, noise {noises[k[3]]:g}: {e['excess']:.2f} [{e['low']:.2f}, "
            f"{e['high']:.2f}] (n = {e['points'][1]:.0f} against {e['points'][0]:.0f} and {e['points'][2]:.0f})"
        )
    return "\n".join(lines)


@core.validated(measured=MEASURED_RULE, arch=ARCH_RULE, protocol=PROTOCOL_RULE)
def noise_excess_lines(measured: dict, arch: str = "monolithic", protocol: str = FIT_PROTOCOL) -> str:
    """For one architecture and protocol, each noisy curve's excess at ``n = p`` over the noiseless one's."""
    noises = measured["config"].noises
    return "\n".join(
        f"{a}, {pr}, {pa} panel: excess at noise {noises[j]:g} over noise 0: {r[0]:.2f} [{r[1]:.2f}, {r[2]:.2f}]"
        for (a, pr, pa, j), r in noise_excess_ratios(measured).items()
        if (a, pr) == (arch, protocol)
    )


@core.validated(measured=MEASURED_RULE)
def height_lines(measured: dict) -> str:
    """Per architecture, the networks' and the theory's test loss at ``p = n`` with the largest noise."""
    return "\n".join(
        f"{arch}: at p = {h['p']:.0f}, n = {h['n']:.0f}, noise {h['noise']:g}: networks {h['net'].mean():.2f} Var(y) "
        f"(seeds {h['net'].min():.2f}..{h['net'].max():.2f}), theory {h['theory']:.2f}"
        for arch, h in peak_heights(measured).items()
    )


def _m_span(config, spaced: bool = False) -> str:
    last, first = config.m_grid[-1], config.m_grid[0]
    return f"m = {last} / m = {first}" if spaced else f"m={last}/m={first}"


@core.validated(measured=MEASURED_RULE)
def modular_m_lines(measured: dict) -> str:
    """The modular networks' ratios over ``m`` (one by construction): the first line of each protocol without
    noise, then every estimate, sorted."""
    config = measured["config"]
    lines = []
    for pr in config.protocols:
        r = measured["ratios"]["modular", pr, "m", 0][0]
        lines.append(
            f"modular, {pr}, p = {r['p']}, no noise: test {_m_span(config)} = {_ci(r['test'])}, along the trend "
            f"{_ci(r['trend'])}, train {_ci(r['train'])}; the theory: exactly 1"
        )
    mod = np.round(sorted(modular_m_ratios(measured)), 2)
    lines.append(f"modular {_m_span(config, True)} test ratios (both protocols, lines and noise levels): {mod}")
    return "\n".join(lines)


@core.validated(measured=MEASURED_RULE)
def ratio_coverage_lines(measured: dict) -> str:
    """The coverage of the ratio intervals over permutations, and how many of the data's exclude one."""
    rc, lines = measured["ratio_coverage"], []
    for method in ("jackknife_t", "percentile"):
        v = rc[method]
        lines.append(
            f"{method:11s}: coverage of the ratio 1 over permutations {v['coverage']:.3f}; on the data "
            f"{v['observed']} of {rc['intervals']} intervals exclude 1 (permutations: median {v['null_median']:.0f}, "
            f"95th percentile {v['null_95']:.0f}, P(as many or more) = {v['p_value']:.2f})"
        )
    return "\n".join(lines)


@core.validated(measured=MEASURED_RULE)
def small_n_lines(measured: dict) -> str:
    """Per architecture and protocol, networks over theory at the smallest ``n``, per noise level."""
    config, ratios, lines = measured["config"], small_n_ratios(measured), []
    for arch in config.archs:
        for pr in config.protocols:
            d = measured["data"][arch, pr, "n"]
            parts = [
                f"noise {v:g}: {r[0]:.2f} [{r[1]:.2f}, {r[2]:.2f}]"
                for v, r in zip(config.noises, (ratios[arch, pr, j] for j in range(len(config.noises))))
            ]
            head = f"{arch:10s} {pr:13s} n = {d['x'][0]:.0f}, p = {d['p'][0, 0]:.0f}: networks / theory, "
            lines.append(head + "; ".join(parts))
    return "\n".join(lines)


@core.validated(measured=MEASURED_RULE)
def authors_lines(measured: dict) -> str:
    """The authors' growth over ``m`` and peak locations beside ours (monolithic networks)."""
    config, theirs = measured["config"], reference.LOSS_TRENDS
    m_theirs = theirs["test_loss_vs_m"]["test_loss"]
    ours = ", ".join(
        f"{r['test'][0]:.2f}x at p = {r['p']}" for r in measured["ratios"]["monolithic", "decaying", "m", 0]
    )
    lines = [
        f"{_m_span(config, True)}, test loss: authors {m_theirs[1] / m_theirs[0]:.2f}x ({m_theirs[0]:g} -> "
        f"{m_theirs[1]:g}); ours {ours} (monolithic, decaying, no noise)"
    ]
    for pa, key in (("p", "p_peak"), ("n", "n_peak")):
        v = measured["peaks"]["monolithic", FIT_PROTOCOL, pa, len(config.noises) - 1]
        lines.append(
            f"{pa} panel peak: authors near {theirs[key]:.2g}; ours at {v['at']:.0f}, {v['ratio']:.2f} x the theory's "
            f"n = p ({v['threshold']:.0f}), monolithic, {FIT_PROTOCOL}, noise {config.noises[-1]:g}"
        )
    return "\n".join(lines)


@core.validated(measured=MEASURED_RULE)
def over_parameterised_lines(measured: dict) -> str:
    """The modular networks' and the theory's test loss at ``p`` about four times ``n``, without noise."""
    v = over_parameterised(measured)
    return (
        f"modular, {FIT_PROTOCOL}, p = {v['p']:.0f}, n = {v['n']:.0f}, no noise: networks {v['net']:.3f} Var(y), "
        f"theory {v['theory']:.3f}"
    )
