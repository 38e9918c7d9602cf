"""The chapter *Theory meets trained networks*: its experiment's config and sweep (tiny), and the analysis of
:mod:`modscale_lib.theory_fit` on synthetic panels whose answers are known."""

import inspect
import json
import re
from pathlib import Path

import matplotlib
import matplotlib.text
import numpy as np
import pytest
from notebook_glue import assert_glued
from scipy import stats

from modscale_lib import experiments, theory, theory_fit, theory_peaks
from modscale_lib.store import Cells

matplotlib.use("Agg")
CFG = experiments.NetworkTheoryConfig


@pytest.fixture(scope="module")
def tiny_result():
    return experiments.network_theory.func(CFG.tiny(), Cells(None, progress=False))


def test_config_refuses_settings_where_the_variance_is_not_exact():
    with pytest.raises(ValueError, match="k_grid"):
        CFG(k_grid=(1, 7), m_fixed=6)
    with pytest.raises(ValueError, match="k_fixed"):
        CFG(k_fixed=3, m_grid=(2, 3))
    with pytest.raises(ValueError, match="noises"):
        CFG(noises=(0.0, 0.0))
    with pytest.raises(ValueError, match="protocols"):
        CFG(protocols=("sgd",))


def test_specs_cover_each_panel():
    cfg = CFG.cpu()
    assert len(cfg.specs("k")) == len(cfg.k_grid) * len(cfg.p_lines)
    assert {s["n"] for s in cfg.specs("p")} == {cfg.n_fixed}
    assert [s["n"] for s in cfg.specs("n")] == list(cfg.n_grid)
    assert all(s["k"] <= s["m"] for pa in "kmpn" for s in cfg.specs(pa))
    with pytest.raises(ValueError):
        cfg.specs("q")


def test_tiny_sweep_rows_and_normalisation(tiny_result):
    cfg = CFG.tiny()
    res = tiny_result
    per_cell = {pa: len(cfg.specs(pa)) * cfg.n_seeds * len(cfg.noises) for pa in "kmpn"}
    assert res["k"].size == len(cfg.archs) * len(cfg.protocols) * sum(per_cell.values())
    np.testing.assert_allclose(res["var_y"], 1.0 + res["noise"])
    assert np.all(np.isfinite(res["test_loss"])) and np.all(res["train_loss"] >= 0)
    # modular networks count only their trainable modules, not the frozen projections
    mod = res["arch"] == 1
    assert np.all(res["n_params"][mod] % res["k"][mod] == 0)
    d = theory_fit.panel_data(res, "modular", "decaying", "m")
    assert d["test"].shape == (len(cfg.p_lines), len(cfg.noises), cfg.n_seeds, len(cfg.m_grid))
    with pytest.raises(ValueError):
        theory_fit.panel_data(res, "modular", "bogus", "m")


def test_noise_levels_share_task_inputs_and_initialisation(tiny_result):
    res = tiny_result
    sel = (res["arch"] == 0) & (res["protocol"] == 0) & (res["panel"] == 2) & (res["seed"] == 0)
    # the same settings appear once per noise level, with the same width
    widths = {(int(p), float(v)): int(w) for p, v, w in zip(res["p"][sel], res["noise"][sel], res["width"][sel])}
    assert len({w for (p, _), w in widths.items() if p == res["p"][sel][0]}) == 1


def test_theory_losses_match_the_theory_package():
    train, test = theory_fit.theory_losses(200, 50, 5, 2, 0.25, alpha=1.5, c=1.0)
    ref = theory.power_law_losses(200, 50, 5, alpha=1.5, c=1.0, noise=0.25)
    np.testing.assert_allclose([train, test], np.array(ref) / 1.25)


def test_modular_theory_does_not_depend_on_m():
    _, a = theory_fit.theory_losses(200, 50, 2, 2, 0.0, alpha=1.0, modular=True)
    _, b = theory_fit.theory_losses(200, 50, 9, 2, 0.0, alpha=1.0, modular=True)
    _, mono2 = theory_fit.theory_losses(200, 50, 2, 2, 0.0, alpha=1.0)
    _, mono9 = theory_fit.theory_losses(200, 50, 9, 2, 0.0, alpha=1.0)
    assert a == b and mono9 > mono2


def _synthetic(panel="n", alpha=1.3, c=1.0, arch="monolithic", seeds=5, peak_at=None):
    x = np.array([20, 40, 80, 100, 120, 200, 400, 800], dtype=float)
    noises = np.array([0.0, 1.0])
    n = x[None] if panel == "n" else np.full((1, x.size), 100.0)
    p = np.full((1, x.size), 100.0) if panel == "n" else x[None]
    d = dict(
        x=x,
        lines=np.array([0]),
        noises=noises,
        seeds=np.arange(seeds),
        n=n,
        p=p,
        m=np.full_like(n, 5.0),
        k=np.full_like(n, 2.0),
        arch=arch,
        protocol="interpolating",
        panel=panel,
    )
    train, test = theory_fit.theory_losses(
        n[:, None], p[:, None], 5, 2, noises[None, :, None], alpha, c, modular=arch == "modular"
    )
    test = np.where(np.isfinite(test), test, 50.0)
    if peak_at is not None:
        test = np.ones_like(test) + 3.0 * (x == peak_at)
    rng = np.random.default_rng(0)
    d["test"] = test[:, :, None, :] * np.exp(0.01 * rng.standard_normal((1, 2, seeds, x.size)))
    d["train"] = np.broadcast_to(train[:, :, None, :], d["test"].shape).copy()
    return d


def test_calibrate_recovers_alpha_and_rms_is_zero_on_the_theory():
    d = _synthetic(alpha=1.3)
    fit = theory_fit.calibrate(d)
    assert fit["c"] == 1.0 and abs(np.log(fit["alpha"] / 1.3)) < 0.05 and fit["rms"] < 0.02
    both = theory_fit.calibrate(d, c=None)
    assert abs(np.log(both["c"])) < 0.1
    rms, used = theory_fit.rms_decades(d, 1.3, band=0.3)
    assert rms < 0.02 and used > 0


def test_locate_peak_finds_an_interior_peak_and_reports_an_edge():
    d = _synthetic("p", peak_at=120.0)
    peak = theory_peaks.locate_peak(d, 1)
    assert peak["at"] == 120.0 and peak["ratio"] == pytest.approx(1.2) and peak["prominence"] > 3
    assert peak["at_low"] <= 120.0 <= peak["at_high"] and peak["seeds_at_edge"] == 0
    falling = _synthetic("p")
    falling["test"] = np.broadcast_to(np.linspace(2.0, 1.0, 8), falling["test"].shape).copy()
    edge = theory_peaks.locate_peak(falling, 0)
    assert np.isnan(edge["prominence"]) and edge["seeds_at_edge"] == 1
    with pytest.raises(ValueError):
        theory_peaks.locate_peak(dict(d, panel="k"), 0)


def test_ratio_ci_and_interpolated_share():
    a = np.array([1.0, 1.1, 0.9, 1.05, 0.95])
    r, lo, hi = theory_fit.ratio_ci(2 * a, a)
    assert r == pytest.approx(2.0) and lo == pytest.approx(2.0) and hi == pytest.approx(2.0)
    r, lo, hi = theory_fit.ratio_ci(a[::-1], a)
    assert lo < 1.0 < hi
    # the ratio of geometric means with Student's interval on the per-seed log ratios
    b = np.array([2.0, 1.0, 3.0, 1.5, 2.5])
    logs = np.log(b / a)
    t_lo, t_hi = stats.t.interval(0.95, 4, loc=logs.mean(), scale=stats.sem(logs))
    assert theory_fit.ratio_ci(b, a) == pytest.approx((np.exp(logs.mean()), np.exp(t_lo), np.exp(t_hi)))
    with pytest.raises(ValueError, match="a"):
        theory_fit.ratio_ci(-a, a)
    d = _synthetic("p")
    reached, of = theory_fit.interpolated_share(d)
    assert of == 3 * 5 * 2 and reached == of  # p = 200, 400, 800 >= 2n: the theory's train loss is zero there


def test_columns_and_figure_build():
    d = _synthetic("n")
    cols = theory_fit.panel_columns(d, 1.3)
    assert list(cols)[0] == "n" and len(cols) == 1 + 2 * 2
    panels = {pa: dict(_synthetic("n" if pa == "n" else "p"), panel=pa) for pa in theory_fit.PANEL_NAMES}
    fig = theory_fit.theory_networks_figure(panels, {"alpha": 1.3, "c": 1.0}, title="interpolating")
    assert len(fig.axes) == 4 and fig.get_figwidth() <= 7.7  # the book's column at 100 dpi
    sizes = [t.get_fontsize() for t in fig.findobj(matplotlib.text.Text) if t.get_text()]
    assert min(sizes) >= 9  # legible at column width


def test_trend_ratio_reads_a_clean_exponential_and_end_ratios_rows():
    x = np.array([2.0, 3.0, 5.0, 7.0, 9.0])
    values = np.exp(0.1 * x)[None, :] * np.ones((5, 1))
    r, lo, hi = theory_fit.trend_ratio(x, values)
    assert r == pytest.approx(np.exp(0.7)) and lo == pytest.approx(r) and hi == pytest.approx(r)
    with pytest.raises(ValueError):
        theory_fit.trend_ratio(x, values[:, :3])
    d = dict(_synthetic("n"), panel="m")
    rows = theory_fit.end_ratios(d, 1.3)
    assert len(rows) == 1 and set(rows[0]) == {"p", "theory", "trend", "test", "train"}


def test_trend_ratio_is_the_mean_seed_slope_with_students_interval():
    x = np.array([2.0, 3.0, 5.0, 7.0, 9.0])
    values = np.exp(0.1 * x + np.random.default_rng(2).normal(0, 0.2, (5, 5)))
    slopes = np.array([np.polyfit(x, np.log(v), 1)[0] for v in values])
    lo, hi = stats.t.interval(0.95, 4, loc=slopes.mean(), scale=stats.sem(slopes))
    assert theory_fit.trend_ratio(x, values) == pytest.approx(tuple(np.exp(np.array([slopes.mean(), lo, hi]) * 7)))


def _null_m_panel(seeds=5, seed=0):
    """An m panel whose losses have one distribution at every m (the modular networks' case)."""
    d = dict(_synthetic("n", seeds=seeds), panel="m")
    rng = np.random.default_rng(seed)
    d["x"] = np.array([2.0, 3, 5, 7, 9, 11, 13, 15])
    d["test"] = np.exp(rng.normal(-1, 0.5, d["test"].shape))
    d["train"] = np.exp(rng.normal(-2, 0.5, d["test"].shape))
    return d


def test_ratio_coverage_holds_the_level_where_the_percentile_bootstrap_does_not():
    cov = theory_fit.ratio_coverage([_null_m_panel()], n_permutations=100)
    assert cov["intervals"] == 2 * 3  # two noise levels: test, train and trend each
    assert cov["jackknife_t"]["coverage"] >= 0.9
    assert cov["percentile"]["coverage"] < cov["jackknife_t"]["coverage"]
    assert 0 <= cov["jackknife_t"]["p_value"] <= 1


def _peaked(height=2.0, sd=0.2, seeds=8, seed=0):
    d = _synthetic("n", seeds=seeds)
    base = np.array([4.0, 2.5, 2.0, 2.0 * height, 1.6, 1.2, 0.8, 0.5])
    rng = np.random.default_rng(seed)
    d["test"] = base * np.exp(sd * rng.standard_normal(d["test"].shape))
    return d, base


def test_peak_excess_reads_a_peak_at_the_threshold_and_its_absence():
    d, base = _peaked(height=2.0, sd=0.0)
    ex = theory_peaks.peak_excess(d, 0)
    assert ex["points"] == (40.0, 100.0, 200.0)  # n = p / 2, p, 2 p on the grid (nearest in log)
    assert ex["excess"] == pytest.approx(base[3] / np.sqrt(base[1] * base[5]))
    d, _ = _peaked(height=1.0, sd=0.3)
    ex = theory_peaks.peak_excess(d, 0)
    assert ex["low"] < 1.0  # a falling curve: no peak shown
    d2, _ = _peaked(height=3.0, sd=0.1)
    d2["test"][:, 0] = d["test"][:, 0]
    ratio, lo, hi = theory_peaks.excess_ratio(d2, 1, 0)
    assert lo > 1.0  # noise level 1 peaks higher, paired by seed
    with pytest.raises(ValueError, match="factor"):
        theory_peaks.peak_excess(d, 0, factor=1.0)


def test_peak_coverage_of_the_pre_specified_excess_holds_its_level():
    d, _ = _peaked(height=1.5, sd=0.3, seeds=5)
    cov = theory_peaks.peak_coverage(d, 0, n_reps=200)
    assert cov["excess_coverage"] >= 0.9
    assert 0 <= cov["prominence_percentile"] <= 1 and 0 <= cov["location"] <= 1
    assert cov["prominence"] > 1 and cov["at"] == 100.0


# ---------------------------------------------------------------------------------------------------------
# The chapter's read-out (modscale_lib.chapters.theory_vs_networks) on the stored result
# ---------------------------------------------------------------------------------------------------------
NOTEBOOK = Path(__file__).resolve().parent.parent / "book" / "theory_vs_networks.ipynb"
SIDES = {"lies above one", "lies below one", "includes one"}


@pytest.fixture(scope="module")
def chapter():
    """The stored result, its config, the chapter's measurements (about a minute: the calibration's grid with
    ``c`` free) and its conclusions."""
    from modscale_lib import store
    from modscale_lib.chapters import theory_vs_networks as tvn

    config = store.chapter_config(experiments.network_theory)
    res = store.load_or_run(experiments.network_theory, config, mode="read")
    measured = tvn.measurements(res, config)
    return res, config, measured, tvn.conclusions(res, config, measured=measured)


def _cells(kind):
    return ["".join(c["source"]) for c in json.loads(NOTEBOOK.read_text())["cells"] if c["cell_type"] == kind]


def test_conclusions_hold_every_name_the_chapter_cites(chapter):
    values = chapter[3]
    cited = set(re.findall(r"\{glue:text\}`([^`:]+)", "\n".join(_cells("markdown"))))
    assert len(cited) > 100
    assert not cited - set(values), f"names the chapter cites but the read-out lacks: {sorted(cited - set(values))}"
    assert all(isinstance(v, (int, float, str, np.integer, np.floating)) for v in values.values())


def test_conclusions_are_what_the_notebook_glued(chapter):
    """The committed notebook's glued values, compared at the precision nbval compares them."""
    assert_glued(NOTEBOOK, chapter[3])


def test_config_values_and_provenance(chapter):
    res, config, _, v = chapter
    assert (v["n_fixed"], v["p_fixed"], v["steps"], v["n_seeds"]) == (
        config.n_fixed,
        config.p_fixed,
        config.steps,
        config.n_seeds,
    )
    assert [v[f"noise{j}"] for j in range(len(config.noises))] == list(config.noises)
    assert v["lr_end"] == pytest.approx(config.lr_decaying * config.lr_decay) and v["lr_end"] < v["lr_dec"]
    assert v["wall_min"] == pytest.approx(res.metadata["wall_time_s"] / 60) and v["wall_min"] > 0
    # with k > m the target's variance is not fixed: the draws fall on both sides of the intended one
    assert 0 < v["var_lo"] < 1 < v["var_hi"]


def test_calibration_and_errors(chapter):
    _, config, measured, v = chapter
    for arch in config.archs:
        assert 0.02 <= v[f"alpha_{arch}"] <= 20 and 0.02 <= v[f"cfree_{arch}"] <= 50  # inside calibrate's grids
        assert measured["free"][arch]["rms"] <= measured["fits"][arch]["rms"]  # one more free constant fits better
    rms = {k: x for k, x in v.items() if k.startswith("rms_") and k not in ("rms_best", "rms_worst")}
    assert len(rms) == len(config.archs) * len(config.protocols) * 4
    assert v["rms_best"] == min(rms.values()) and v["rms_worst"] == max(rms.values()) and v["rms_best"] > 0
    # the chapter's verdict: the monolithic panels are the closer ones
    assert max(x for k, x in rms.items() if "monolithic" in k) < min(x for k, x in rms.items() if "modular" in k)
    assert all(0 <= v[f"interp_{a}_{pr}"] <= 100 for a in config.archs for pr in config.protocols)


def _triples(values, prefix):
    """``(estimate, low, high)`` of every interval glued under ``prefix`` (names ``X``, ``X_lo``, ``X_hi``)."""
    return {
        k: (x, values[k + "_lo"], values[k + "_hi"])
        for k, x in values.items()
        if k.startswith(prefix) and k + "_lo" in values
    }


@pytest.mark.parametrize("prefix", ["ex_", "exr_", "small_", "r_"])
def test_every_interval_holds_its_estimate_and_its_verdict_matches(chapter, prefix):
    values = chapter[3]
    triples = _triples(values, prefix)
    assert triples
    for name, (est, lo, hi) in triples.items():
        if np.isfinite(est):
            assert lo <= est <= hi, name
        if name + "_v" in values:
            assert values[name + "_v"] in SIDES
            assert (values[name + "_v"] == "lies above one") == (lo > 1), name
            assert (values[name + "_v"] == "lies below one") == (hi < 1), name


def test_the_peak_verdicts(chapter):
    _, config, measured, v = chapter
    assert (
        v["n_curves"] == len(measured["curves"]) == len(config.archs) * len(config.protocols) * 2 * len(config.noises)
    )
    above = [k for k in _triples(v, "ex_") if v[k + "_lo"] > 1]
    assert v["n_above"] == len(above)
    # the chapter: with sigma^2 = 1 the monolithic networks trained to interpolate peak at n = p on both panels
    assert set(above) == {"ex_monolithic_interpolating_p_2", "ex_monolithic_interpolating_n_2"}
    for q in ("prominence_jackknife_t", "prominence_percentile", "location", "excess_coverage"):
        assert 0 <= v[f"cov_{q}_min"] <= v[f"cov_{q}_max"] <= 1
    for arch in config.archs:  # the theory overstates the peak's height
        assert v[f"height_ratio_{arch}"] == pytest.approx(v[f"height_theory_{arch}"] / v[f"height_net_{arch}"])
        assert v[f"height_ratio_{arch}"] > 1


def test_the_ratio_verdicts(chapter):
    _, config, _, v = chapter
    for name, (_, lo, hi) in _triples(v, "r_").items():
        if name.endswith("_0_test"):  # noise 0: the side the theory lies on
            key = "v_" + name[2:].removesuffix("_0_test")
            theory = v[name.removesuffix("_test") + "_theory"]
            assert v[key] == ("inside" if lo <= theory <= hi else "below" if theory < lo else "above"), key
    mod = [v[k] for k in v if k.startswith("r_modular_") and "_m_" in k and k.endswith("_test")]
    assert v["mod_m_max_factor"] == pytest.approx(max(max(mod), 1 / min(mod))) and v["mod_m_max_factor"] >= 1
    for method in ("jackknife_t", "percentile"):
        assert 0 <= v[f"rc_{method}_coverage"] <= 1 and 0 <= v[f"rc_{method}_p_value"] <= 1
        assert 0 <= v[f"rc_{method}_observed"] <= v["rc_intervals"]


def test_few_samples_and_the_authors(chapter):
    _, config, _, v = chapter
    above = [v[k] for k, (_, lo, _) in _triples(v, "small_monolithic_").items() if lo > 1]
    assert v["small_mono_above"] == len(above) <= 2 * len(config.noises)
    assert v["small_mono_above_max"] == (max(above) if above else pytest.approx(float("nan"), nan_ok=True))
    assert v["theirs_m_ratio"] > 1 and v["scale_ratio"] > 0
    assert v["over_ratio"] == pytest.approx(v["over_p"] / config.n_fixed) and v["over_ratio"] > 2
    assert v["over_net"] < v["over_theory"]  # the theory's bias term over-parameterised, which the networks beat


def test_figures_tables_and_printed_lines(chapter):
    from modscale_lib.chapters import theory_vs_networks as tvn

    res, config, measured, _ = chapter
    fig = tvn.panels_figure(measured, "modular", "decaying")
    assert len(fig.axes) == 4
    with pytest.raises(ValueError, match="arch"):
        tvn.panels_figure(measured, "transformer", "decaying")
    table = tvn.peak_prominence_table(measured).data
    assert table.count("<tr") == 1 + len(measured["curves"])
    assert str(res["n"].size) in tvn.sweep_lines(res, config)
    lines = tvn.rms_lines(measured).splitlines()
    assert len(lines) == len(config.archs) * len(config.protocols) * 4 and sum("fitted" in s for s in lines) == 2


def test_conclusions_refuse_what_is_not_the_stored_result(chapter):
    from modscale_lib.chapters import theory_vs_networks as tvn

    res, config, measured, _ = chapter
    with pytest.raises(TypeError, match="res"):
        tvn.conclusions({"n": np.ones(3)}, config)
    with pytest.raises(ValueError, match="config"):
        tvn.conclusions(res, CFG.tiny(), measured=measured)
    with pytest.raises(ValueError, match="measured"):
        tvn.conclusions(res, config, measured=dict(measured, res=None))


def _first_parameter(function) -> str | None:
    return next(iter(inspect.signature(function).parameters), None)


def test_functions_of_the_measurements_check_them_first(chapter):
    """The real measurements pass check_measured as they are; with one entry dropped or out of the config's
    layout, every public function that takes them refuses them, naming ``measured``."""
    from modscale_lib.chapters import theory_vs_networks as tvn

    _, config, measured, _ = chapter
    assert tvn.check_measured(measured) is measured
    takers = [n for n in tvn.__all__ if callable(getattr(tvn, n)) and _first_parameter(getattr(tvn, n)) == "measured"]
    assert len(takers) == 28  # the read-out's eight, check_measured and the figures' nineteen
    data = {k: v for k, v in measured["data"].items() if k != (config.archs[0], tvn.FIT_PROTOCOL, "n")}
    for broken in (dict(measured, data=data), dict(measured, curves=measured["curves"][1:]), {"data": data}):
        for name in takers:
            if name == "check_measured":
                continue
            with pytest.raises(ValueError, match="measured"):
                getattr(tvn, name)(broken, *(("modular", "decaying") if name == "panels_figure" else ()))
    with pytest.raises(ValueError, match="arch"):
        tvn.noise_excess_lines(measured, "transformer")
    assert tvn.noise_excess_lines(measured) == tvn.noise_excess_lines(measured, "monolithic", tvn.FIT_PROTOCOL)


def test_the_api_page_states_the_read_outs_constants():
    """The chapter's constants are written out on its API page (autodoc leaves out a package's imported
    constants): the values there are the library's."""
    from modscale_lib.chapters import theory_vs_networks as tvn

    page = (Path(__file__).resolve().parent.parent / "book" / "api" / "measure.md").read_text()
    for name in ("BAND", "FIT_PROTOCOL", "COVERAGE_QUANTITIES"):
        assert f".. py:data:: {name}\n" in page and name in tvn.__all__
    assert f"   :value: {tvn.BAND!r}\n" in page and f"   :value: {tvn.FIT_PROTOCOL!r}\n" in page
