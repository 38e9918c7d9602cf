"""The read-out of *Exponential or polynomial?* (``modscale_lib.chapters.scaling_law``): its conclusions on the stored
study (read mode, seconds) are what the notebook glues and agree with one another, and its helpers give the known
answer on small synthetic inputs. Values and verdicts are asserted, not wording."""

import json
import re
from pathlib import Path
from types import SimpleNamespace

import matplotlib
import numpy as np
import pytest
from notebook_glue import assert_glued

from modscale_lib import laws, methods
from modscale_lib.chapters import scaling_law as sl

matplotlib.use("Agg")
NOTEBOOK = Path(__file__).resolve().parent.parent / "book" / "scaling_law.ipynb"


@pytest.fixture(scope="module")
def chapter():
    """The stored study, its measurements and its conclusions, as the notebook's result cell reads them."""
    from modscale_lib import experiments, store
    from modscale_lib.experiments import scaling_law
    from modscale_lib.networks import RIDGES

    stored, missing = scaling_law.load_stored()
    capacity = experiments.scaling_law_capacity
    searches = {
        n: (capacity.config(n), store.load_or_run(capacity, capacity.config(n), mode="read"))
        for n in stored
        if n not in scaling_law.RULE_CONFIGS
    }
    measured = sl.measurements(
        stored,
        missing,
        searches,
        rule_configs=scaling_law.RULE_CONFIGS,
        rule_label=scaling_law.method_label("rule", scaling_law.RULE_VARIANT),
        rule_min_samples=scaling_law.RULE_MIN_SAMPLES,
        rule_i_min=scaling_law.ScalingLawConfig.cpu_rule().i_min,
        n_ridges=len(RIDGES),
    )
    return measured, sl.conclusions(measured)


def test_conclusions_are_what_the_notebook_glued(chapter):
    """The committed notebook's glued values, compared at the precision nbval compares them."""
    assert_glued(NOTEBOOK, chapter[1])


def test_every_cited_name_is_concluded(chapter):
    _, values = chapter
    cited = set()
    for cell in json.loads(NOTEBOOK.read_text())["cells"]:
        if cell["cell_type"] == "markdown":
            cited |= {m.split(":")[0] for m in _citations("".join(cell["source"]))}
    assert cited <= set(values), sorted(cited - set(values))


def _citations(text: str) -> list[str]:
    """The names a markdown cell glues, with their format (``name:.2f``)."""
    return re.findall(r"\{glue:text\}`([^`]+)`", text)


def test_the_law_counts_add_up_and_match_the_decisions(chapter):
    measured, values = chapter
    counts = [values[f"n_{law}"] for law in laws.VERDICTS]
    assert sum(counts) == values["n_pairs"] == len(measured["decided"])
    laws_decided = [d["law"] for d in measured["decided"].values()]
    assert counts == [laws_decided.count(law) for law in laws.VERDICTS]
    # the figure's takeaway and the claim name the same counts
    assert values["figure_takeaway"] == "; ".join(f"{law}: {n}" for law, n in zip(laws.VERDICTS, counts))
    assert (values["n_exponential"] == 0) == ("no learner" in values["claim_exponential"])


def test_the_training_and_coverage_values(chapter):
    measured, values = chapter
    assert 0.0 <= values["share_below_cap"] <= 1.0 and 0.0 <= values["step_at_limit"] <= 1.0
    assert values["n_networks"] == sum(measured["stopping"]["networks"])
    np.testing.assert_allclose(measured["shares"].sum(), 1.0)
    np.testing.assert_allclose(measured["ridge"].sum(), 1.0)
    assert values["confidence"] == 0.95
    # the chapter says the intervals hold their level: the lowest simulated coverage is near the nominal
    assert values["coverage_min"] >= 0.9
    assert values["seed_sd"] > 0
    above, of = (int(x) for x in values["nets_censored_above"].split(" of "))
    assert 0 <= above <= of


def test_the_verdicts_per_learner_match_the_decisions(chapter):
    measured, values = chapter
    labels = {**sl.LEARNER_KEYS, "rule": measured["rule_label"]}
    for key, label in labels.items():
        mine = {t: d["law"] for (t, lab), d in measured["decided"].items() if lab == label}
        for task, law in mine.items():
            assert f"{law} on {task}" in values[f"verdicts_{key}"]
        assert all(f"{task}: " in values[f"regimes_{key}"] for task in mine)
    # the oracle is flat by construction: no learned-projection verdict of it is a power or an exponential
    oracle = [d["law"] for (t, lab), d in measured["decided"].items() if lab == methods.ORACLE]
    assert set(oracle) <= {"flat", "undecided"}


def test_the_theory_values(chapter):
    _, values = chapter
    # kernels need every degree up to ell: a tighter target needs at least as many
    assert values["ell_sine_main"] >= values["ell_sine_second"] >= 1
    assert values["ell_bump_main"] >= values["ell_bump_second"] >= 1
    he = [float(x) for x in values["kernel_range_he"].split(", ")]
    assert he == sorted(he) and all(0 < x < k for x, k in zip(he, (1, 2, 3)))


def test_the_compute_values(chapter):
    measured, values = chapter
    expected = sum(r.metadata["cpu_time_s"] for _, r in [*measured["stored"].values(), *measured["searches"].values()])
    assert values["cpu_total"] == pytest.approx(expected / 60)
    assert values["not_computed"] == (", ".join(f"`{n}`" for n in measured["missing"]) or "none")


def test_figures_and_tables_build(chapter):
    import matplotlib.pyplot as plt

    measured, _ = chapter
    plt.close(sl.samples_figure(measured))
    for table in (sl.methods_table, sl.stopping_table, sl.fits_table, sl.curvature_table, sl.placement_table):
        assert "<table" in table(measured).data
    for lines in (sl.provenance_lines, sl.choice_lines, sl.decision_lines, sl.coverage_lines):
        assert lines(measured)
    assert len(sl.decision_lines(measured, "second").splitlines()) == len(measured["decided2"])


# ---------------------------------------------------------------------------------------------------------
# Small synthetic inputs whose answer is known
# ---------------------------------------------------------------------------------------------------------
class _Result(dict):
    def provenance(self):
        return "a synthetic result"


def _study(choice_mlp: int, choice_rf: int, n_options: int = 3):
    """One task, two methods (MLP, random features), 3 dims, 2 seeds, 2 visits; every choice the same."""
    cfg = SimpleNamespace(
        tasks=("sine:2",),
        steps=100,
        methods=("monolithic", "random_features"),
        mlp_lr_slots=tuple(range(n_options)),
    )
    shape = (1, 2, 3, 2, 2)
    choice = np.stack([np.full(shape[2:], float(choice_mlp)), np.full(shape[2:], float(choice_rf))])[None]
    best = np.full((*shape, 1), 40.0)
    best[0, 0, 0, 0, 0] = 100.0  # one network's best step is its last
    res = _Result(
        method_labels=[methods.MONOLITHIC, methods.RANDOM_FEATURES],
        choice=choice,
        best_step=best,
        steps=np.full((*shape, 1), 100.0),
    )
    return cfg, res


def test_choice_rates_read_every_choice():
    cfg, res = _study(choice_mlp=2, choice_rf=0)
    shares, ridge = sl.choice_rates({"a": (cfg, res)}, 4)
    np.testing.assert_array_equal(shares, [0, 0, 1])
    np.testing.assert_array_equal(ridge, [1, 0, 0, 0])
    # two studies are averaged
    cfg2, res2 = _study(choice_mlp=0, choice_rf=3)
    shares, ridge = sl.choice_rates({"a": (cfg, res), "b": (cfg2, res2)}, 4)
    np.testing.assert_array_equal(shares, [0.5, 0, 0.5])
    np.testing.assert_array_equal(ridge, [0.5, 0, 0, 0.5])


def test_stopping_columns_count_each_network_once():
    cfg, res = _study(0, 0)
    cols = sl.stopping_columns({"a": (cfg, res)}, {"a": (cfg, res)})
    assert cols["task"] == ["sine:2", "sine:2"]
    assert cols["networks"] == [12, 12]
    # one of the MLP's 12 networks had its best step at the last step of its run
    assert cols["share best below cap"][0] == pytest.approx(11 / 12)
    assert cols["share best below cap"][1] == 1.0


def test_pick_reads_one_row():
    predicted = {"task": ["sine", "sine", "He_1"], "regime": ["a", "b", "a"], "exponent": [1.0, 2.0, 3.0]}
    assert sl.pick(predicted, "sine", "b", "exponent") == 2.0
    assert sl.pick(predicted, "He_1", "a", "exponent") == 3.0
    with pytest.raises(ValueError, match="family"):
        sl.pick(predicted, "He_2", "a", "exponent")
    with pytest.raises(ValueError, match="column"):
        sl.pick(predicted, "sine", "a", "basis")


def test_conclusions_refuse_what_is_not_the_measurements(chapter):
    measured, _ = chapter
    with pytest.raises(ValueError, match="measured"):
        sl.conclusions({k: v for k, v in measured.items() if k != "coverage"})
    with pytest.raises(ValueError, match="measured"):
        sl.conclusions(None)
