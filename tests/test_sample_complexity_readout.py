"""The read-out of *Sample complexity against dimension* (``modscale_lib.chapters.sample_complexity``): its values
and verdicts on the stored results, checked against the quantities they summarise, and its small functions on
inputs whose answer is known. The wording lives in the notebook's markdown and is not tested here."""

import json
import re
from pathlib import Path

import numpy as np
import pytest

from modscale_lib import experiments, methods
from modscale_lib.chapters import sample_complexity as sc
from modscale_lib.experiments import scaling_law
from modscale_lib.store import chapter_config, load_or_run

NOTEBOOK = Path(__file__).resolve().parent.parent / "book" / "sample_complexity.ipynb"


def _read(exp):
    config = chapter_config(exp)
    return config, load_or_run(exp, config, mode="read")


@pytest.fixture(scope="module")
def read():
    """The stored results, the measurements (about 20 s) and the conclusions."""
    config, res = _read(experiments.sample_complexity_sweep)
    steps_config, steps = _read(experiments.monolithic_steps)
    capacity_config, capacity = _read(experiments.sample_complexity_capacity)
    cost_config, cost = _read(experiments.objective_cost)
    laws, _ = scaling_law.load_stored(("cpu", "cpu_bump"))
    measured = sc.measurements(res, config, steps=steps, steps_config=steps_config, law_studies=laws)
    values = sc.conclusions(
        measured, capacity=capacity, capacity_config=capacity_config, cost=cost, cost_config=cost_config
    )
    return measured, values


def test_every_name_the_chapter_cites_is_a_conclusion(read):
    _, values = read
    cells = json.loads(NOTEBOOK.read_text())["cells"]
    cited = {
        n
        for c in cells
        if c["cell_type"] == "markdown"
        for n in re.findall(r"\{glue:text\}`(\w+)", "".join(c["source"]))
    }
    assert cited and cited <= set(values), sorted(cited - set(values))


def test_counts_follow_the_config(read):
    measured, values = read
    config = measured["config"]
    assert values["oracle_curves"] == len(config.m_grid) * len(config.seeds)
    assert values["oracle_cells"] == len(config.m_grid) and values["n_seeds"] == len(config.seeds)
    assert values["m_max"] == max(config.m_grid) and values["n_min"] == min(config.n_grid)
    learned = [m for m in measured["labels"] if methods.is_modular(m) and m != methods.ORACLE]
    assert values["levels_count"] == len(learned) == values["tuned_count"]
    assert 0 <= values["levels_fewer"] <= values["levels_count"] and 0 <= values["tuned_below"] <= values["tuned_count"]
    assert 0 <= values["oracle_below"] <= values["oracle_curves"] and 0 <= values["strict_oracle_cens"] <= 20


def test_verdicts_agree_with_the_rows(read):
    measured, values = read
    rows = {r["method"]: r for r in measured["rows"]}
    flat = [m for m, r in rows.items() if r["flat"]]
    assert values["flat_methods"] == (", ".join(flat) or "none")
    strict = {r["method"]: r for r in measured["strict_rows"]}[methods.ORACLE]
    assert values["strict_oracle_growth"] == pytest.approx(strict["estimate"])
    assert (values["strict_oracle_contains"] == "contains 1") == (strict["low"] <= 1 <= strict["high"])
    assert values["strict_oracle_span"] == pytest.approx(strict["high"] ** np.ptp(measured["m_grid"]))
    learned = [r for r in measured["strict_rows"] if r["method"] not in (methods.ORACLE, methods.MONOLITHIC)]
    assert values["strict_learned_flat"] == (", ".join(r["method"] for r in learned if r["flat"]) or "none")
    assert values["strict_learned_growing"] == (", ".join(r["method"] for r in learned if r["low"] > 1) or "none")
    assert not any(r["flat"] and r["low"] > 1 for r in learned)  # a flat interval holds 1
    rule = next(m for m in measured["labels"] if methods.rule_variant(m))
    assert values["rule_growth"] == pytest.approx(rows[rule]["estimate"])
    assert values["mono_growth"] == pytest.approx(rows[methods.MONOLITHIC]["estimate"])
    rr = measured["verdicts"]["comparisons"][0]
    assert (values["rr_level"] == "fewer samples than") == (rr["level_word"] == "fewer")


def test_the_rules_similarity_and_its_trend(read):
    measured, values = read
    sim = np.median(measured["res"]["rule_similarity"][measured["four"]][0, :, :, -1], axis=-1)
    assert values["sim_first"] == pytest.approx(sim[0]) and values["sim_last"] == pytest.approx(sim[-1])
    assert values["sim_trend"] == sc.similarity_trend(sim[0], sim[-1])


def test_the_step_study(read):
    measured, values = read
    lrs = np.array(measured["steps_config"].lrs)
    chosen = measured["tuned"]["chosen"]
    assert values["n_steps"] == lrs.size
    assert values["share_larger"] == pytest.approx(np.mean(lrs[chosen] > measured["config"].mlp_lr))
    assert (values["step_verdict"] == "too small") == (values["share_larger"] > 0.5)
    assert 0 <= values["steps_diff"] < 1


def test_cost_and_time_come_from_the_records(read):
    measured, values = read
    assert values["cpu_minutes"] == pytest.approx(measured["res"].metadata["cpu_time_s"] / 60)
    assert values["minutes"] == pytest.approx(measured["res"].metadata["wall_time_s"] / 60)
    assert values["cost_b_lo"] < values["cost_b_hi"] and 1 < values["cost_slope"] < 4


def test_similarity_trend_has_a_tolerance():
    assert sc.similarity_trend(1.0, 0.995) == "does not change"
    assert sc.similarity_trend(1.0, 0.98) == "falls"
    assert sc.similarity_trend(0.5, 0.6) == "rises"
    assert sc.similarity_trend(0.5, 0.505, tolerance=0.001) == "rises"


def test_law_growth_rows_of_no_study_is_empty():
    assert sc.law_growth_rows({}, 0.1) == []


def test_every_table_and_figure_builds(read):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    measured, _ = read
    for name in sc.figures.__all__:
        if name != "cost_table":
            assert getattr(sc, name)(measured) is not None, name
            plt.close("all")
    assert sc.cost_table(*reversed(_read(experiments.objective_cost))) is not None
