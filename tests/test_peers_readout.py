"""The read-out of the chapter *How classic dimension reduction compares* (``modscale_lib.chapters.peers``): its
values and verdicts on the stored ``peer_comparison`` result (read, not recomputed), and on synthetic results
whose answers are known."""

import json
import re
from pathlib import Path

import matplotlib
import numpy as np
import pytest
from notebook_glue import assert_glued

from modscale_lib import experiments, store
from modscale_lib.chapters import peers as chapter

matplotlib.use("Agg")
NOTEBOOK = Path(__file__).resolve().parent.parent / "book" / "peers.ipynb"
VERDICTS = ("above", "below", "not distinguishable from")


@pytest.fixture(scope="module")
def stored():
    config = store.chapter_config(experiments.peer_comparison)
    res = store.load_or_run(experiments.peer_comparison, config, mode="read")
    measured = chapter.measurements(res, config)
    return res, config, measured, chapter.conclusions(res, config, measured=measured)


def _synthetic(union=None, test_loss=None, seconds=None, seeds=5):
    """A ``peer_comparison`` result of the cpu config whose every seed gives the same value (so every interval
    is a point): ``union``, ``test_loss`` and ``seconds`` map a method to its value (0.5, 0.5 and 1.0 by
    default); the grouped overlap is the union overlap; the references' test loss is 0.01 (oracle), 1 (random)."""
    config = experiments.PeerComparisonConfig.cpu()
    reference = store.load_or_run(
        experiments.peer_comparison, store.chapter_config(experiments.peer_comparison), mode="read"
    )
    names, refs = [str(n) for n in reference["methods"]], [str(n) for n in reference["references"]]
    shape = (len(config.tasks), len(config.n_grid), seeds)

    def filled(values, default, columns):
        return np.stack([np.full(shape, (values or {}).get(name, default)) for name in columns], axis=-1)

    arrays = {
        "union": filled(union, 0.5, names),
        "grouped": filled(union, 0.5, names),
        "seconds": filled(seconds, 1.0, names),
        "group_seconds": filled(None, 0.25, names),
        "test_loss": filled({"oracle": 0.01, "random": 1.0, **(test_loss or {})}, 0.5, names + refs),
    }
    res = store.Result(
        "peer_comparison",
        reference.version,
        "synthetic",
        store.canonical_config(config),
        {"methods": names, "references": refs},
        arrays,
        {},
    )
    return res, config


def test_conclusions_hold_every_name_the_chapter_cites(stored):
    values = stored[3]
    markdown = "\n".join("".join(c["source"]) for c in json.loads(NOTEBOOK.read_text())["cells"])
    cited = set(re.findall(r"\{glue:text\}`([^`:]+)", markdown))
    assert len(cited) > 50
    assert not cited - set(values), f"names the chapter cites but the read-out lacks: {sorted(cited - set(values))}"


def test_conclusions_are_what_the_notebook_glued(stored):
    """The committed notebook's glued values, compared at the precision nbval compares them."""
    assert_glued(NOTEBOOK, stored[3])


def test_the_stored_verdicts(stored):
    res, config, measured, v = stored
    assert (v["n_small"], v["n_large"], v["n_seeds"]) == (config.n_grid[0], config.n_grid[-1], len(config.seeds))
    comparisons = [k for k in v if "_vs_" in k]
    assert len(comparisons) == len(config.tasks) * 2 * 3 * len(chapter.PAIRS)
    for key in comparisons:
        assert any(f", {word} " in v[key] for word in VERDICTS), key
    # every comparison names the best of its groups, and says above or below only where the intervals are apart
    a = chapter.interval(measured, "grouped", -1, -1, "grouped rule")
    b = chapter.interval(measured, "grouped", -1, -1, chapter.best_in_group(measured, "grouped", -1, -1, "moment"))
    word = "above" if a[1] > b[2] + chapter.COMPARE_TOLERANCE else "not distinguishable from"
    assert f", {word} " in v[f"grouped_large_{config.tasks[-1]}_grouped_vs_moment"]
    # the counts of wins are out of the nine (task, n) cells, and the grouped variant is never alone ahead
    cells = len(config.tasks) * len(config.n_grid)
    assert all(v[k].endswith(f" of {cells}") for k in v if "_wins_" in k)
    assert v["grouped_alone"] == v["newton_alone"] == "nowhere"
    low, high = chapter.group_costs(measured)["moment"]
    assert 0 < low <= high and v["cost_moment"] == f"{low:.2g} to {high:.2g} s"


def test_synthetic_verdicts_and_bests():
    union = {"spectral rule": 0.9, "paper rule": 0.7, "rfm": 0.8, "sir": 0.6, "grouped rule": 0.8}
    res, config = _synthetic(union=union, test_loss={"newton rule": 0.1, "egop": 0.2, "rfm": 0.1})
    measured = chapter.measurements(res, config)
    assert chapter.interval(measured, "union", 0, 0, "spectral rule") == (0.9, 0.9, 0.9)
    assert chapter.best_in_group(measured, "union", 0, 0, "kernel search") == "spectral rule"
    assert chapter.best_in_group(measured, "test_loss", 0, 0, "fitted", higher=False) in ("rfm",)
    assert chapter.versus(measured, "union", 0, 0, "kernel search", "moment") == (
        "spectral rule 0.900 [0.900, 0.900], above sir 0.600 [0.600, 0.600]"
    )
    assert chapter.versus(measured, "union", 0, -1, "grouped", "kernel search") == (
        "grouped rule 0.800 [0.800, 0.800], below spectral rule 0.900 [0.900, 0.900]"
    )
    # equal test losses are not distinguishable; a lower loss is "below"
    assert ", not distinguishable from rfm" in chapter.versus(measured, "test_loss", 1, 0, "newton", "fitted")
    assert chapter.versus(measured, "test_loss", 1, 0, "newton", "moment").startswith(
        "newton rule 0.100 [0.100, 0.100], below"
    )
    v = chapter.conclusions(res, config, measured=measured)
    assert (
        v["oracle_small_sine_m8_K2"] == "0.010 [0.010, 0.010]"
        and v["random_large_sine_m8_K2"] == "1.000 [1.000, 1.000]"
    )
    assert v["paper_union_large_sine_m16_K2"] == "0.70 [0.70, 0.70]"
    # the spectral rule is alone best in union and grouped overlap everywhere; newton and rfm tie on test loss
    assert v["kernel_wins_union"] == "9 of 9" and v["rfm_wins_union"] == "0 of 9"
    assert v["newton_wins_test_loss"] == "9 of 9" and v["rfm_wins_test_loss"] == "9 of 9"
    assert v["grouped_alone"] == v["newton_alone"] == "nowhere"
    alone = chapter.ahead(measured)
    assert set(alone) == {"spectral rule"} and len(alone["spectral rule"]) == 2 * 9


def test_synthetic_costs():
    seconds = {"sir": 0.001, "phd": 0.004, "paper rule": 2.0, "backfit rule": 8.0, "rfm": 18.0}
    res, config = _synthetic(seconds=seconds)
    measured = chapter.measurements(res, config)
    cost = chapter.group_costs(measured)
    assert cost["moment"] == (0.001, 1.0) and cost["kernel search"] == (1.0, 8.0) and cost["rfm"] == (18.0, 18.0)
    v = chapter.conclusions(res, config, measured=measured)
    assert v["cost_grouping"] == "0.25 s" and v["cost_rfm"] == "18 s" and v["cost_ratio"] == "1"
    rows = chapter.best_and_ties(measured)
    assert len(rows) == 9 and all(r["union"][0] == "sir" and len(r["union"][1]) == 13 for r in rows)


def test_figures_and_tables(stored):
    res, config, measured, _ = stored
    fig = chapter.samples_figure(measured)
    assert len(fig.axes) == 3 * len(config.tasks)
    table = chapter.peer_table(measured, 0, -1).data
    assert table.count("<tr") == 1 + len(measured["names"]) + len(measured["references"])
    assert chapter.best_table(measured).data.count("<tr") == 1 + len(config.tasks) * len(config.n_grid)
    assert chapter.cost_table(measured).data.count("<tr") == 1 + len(chapter.GROUPS)
    assert chapter.task_labels(measured)[-1].endswith("b = 2")
    assert chapter.dimension_lines(measured).startswith("b = 1:")
    assert res.key in chapter.setup_lines(measured)
    with pytest.raises(ValueError, match="task"):
        chapter.peer_table(measured, 3, 0)


def test_conclusions_refuse_what_is_not_the_stored_result(stored):
    res, config, measured, _ = stored
    with pytest.raises(TypeError, match="res"):
        chapter.conclusions({"union": np.ones(3)}, config)
    with pytest.raises(ValueError, match="config"):
        chapter.conclusions(res, experiments.PeerComparisonConfig.tiny(), measured=measured)
    with pytest.raises(ValueError, match="measured"):
        chapter.conclusions(res, config, measured=dict(measured, res=None))
    with pytest.raises(ValueError, match="group"):
        chapter.best_in_group(measured, "union", 0, 0, "neural")
