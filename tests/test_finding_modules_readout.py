"""The read-out of the chapter *Finding the modules* (``modscale_lib.chapters.finding_modules``): its values and
verdicts on the three stored results (read, not recomputed), and on stored results whose arrays are replaced by
synthetic ones with known answers."""

import dataclasses
import json
import re
from pathlib import Path

import matplotlib
import numpy as np
import pytest
from notebook_glue import assert_glued

from modscale_lib import experiments, store
from modscale_lib.chapters import finding_modules as chapter

matplotlib.use("Agg")
NOTEBOOK = Path(__file__).resolve().parent.parent / "book" / "finding_modules.ipynb"
EXPERIMENTS = (experiments.module_recovery, experiments.projection_training, experiments.rule_sensitivity)


def _read(exp):
    config = store.chapter_config(exp)
    return store.load_or_run(exp, config, mode="read"), config


@pytest.fixture(scope="module")
def stored():
    (rec, rc), (tr, tc), (sens, sc) = (_read(e) for e in EXPERIMENTS)
    measured = chapter.recovery(rec, rc), chapter.training(tr, tc), chapter.sensitivity(sens, sc)
    return (*measured, chapter.conclusions(*measured))


def _replaced(res, **arrays):
    """The stored result ``res`` with some of its arrays replaced."""
    values = {k: v for k, v in res.values.items() if k not in arrays}
    return dataclasses.replace(res, values=values, arrays={**res.arrays, **arrays})


def test_conclusions_hold_every_name_the_chapter_cites(stored):
    values = stored[3]
    markdown = "\n".join("".join(c["source"]) for c in json.loads(NOTEBOOK.read_text())["cells"])
    cited = set(re.findall(r"\{glue:text\}`([^`:]+)", markdown))
    assert len(cited) > 40
    assert not cited - set(values), f"names the chapter cites but the read-out lacks: {sorted(cited - set(values))}"


def test_conclusions_are_what_the_notebook_glued(stored):
    """The committed notebook's glued values, compared at the precision nbval compares them."""
    assert_glued(NOTEBOOK, stored[3])


def test_the_stored_counts_and_verdicts(stored):
    rec, tr, sens, v = stored
    seeds = len(rec["config"].seeds)
    for variant in rec["config"].variants:
        found, collapsed, none = (v[f"{variant}_{k}"] for k in ("both_found", "collapsed", "none_found"))
        assert 0 <= found + collapsed + none <= seeds and found + none <= seeds
    assert v["defl_between"] <= v["defl_failed"] == seeds - v["deflation_both_found"]
    assert v["repaired"] <= v["defl_failed"] and v["backfit_cost"] > 1
    mean, low, high = chapter.matched_interval(rec, "backfit")
    assert low <= mean <= high and v["backfit_vs_paper"].startswith(f"backfit {mean:.3f}")
    fails = [] if v["sens_fail"] == "none" else v["sens_fail"].split(", ")
    assert v["sens_ok"] + len(fails) == v["sens_total"]
    assert v["default_ridge"] == 0.01 and v["default_batch"] == 512 and v["default_steps"] == 300
    assert v["loss_lowest"] in tr["config"].inits and v["loss_least_var"] in tr["config"].inits
    assert 0 < v["pat_time"] < 1 and v["stuck"] <= v["tr_seeds"]
    assert sens["rows"][sens["default"]] == ("ridge", "0.01")


def _synthetic_similarity(config):
    """paper: collapsed in seeds 0-2, none found in seed 3, both found in seed 4; deflation: both found but in
    seed 2, where its first search settles between the two modules; backfit: both found everywhere."""
    V, Kn, S = len(config.variants), len(config.kernels), len(config.seeds)
    both, collapsed, between = np.eye(2), np.array([[1.0, 1.0], [0.0, 0.0]]), np.full((2, 2), 0.5)
    sim = np.broadcast_to(both, (V, Kn, S, 2, 2)).copy()
    paper, deflation = config.variants.index("paper"), config.variants.index("deflation")
    sim[paper, :, :3], sim[paper, :, 3] = collapsed, between
    sim[deflation, :, 2] = [[0.5, 0.0], [0.5, 1.0]]
    return sim


def test_synthetic_recovery():
    res, config = _read(experiments.module_recovery)
    seconds = np.ones(res["seconds"].shape)
    seconds[config.variants.index("backfit")] = 3.0
    res = _replaced(res, similarity=_synthetic_similarity(config), seconds=seconds)
    rec = chapter.recovery(res, config)
    (tr, tc), (sens, sc) = _read(experiments.projection_training), _read(experiments.rule_sensitivity)
    v = chapter.conclusions(rec, chapter.training(tr, tc), chapter.sensitivity(sens, sc))
    assert (v["paper_collapsed"], v["paper_none_found"], v["paper_both_found"]) == (3, 1, 1)
    assert (v["deflation_both_found"], v["defl_failed"], v["defl_between"], v["repaired"]) == (4, 1, 1, 1)
    assert (v["backfit_both_found"], v["backfit_collapsed"], v["kernels_ok"]) == (5, 0, 3)
    assert v["backfit_cost"] == pytest.approx(3.0) and v["kernel_spread"] == 0.0 and v["paper_none_kernels"] == 3
    assert chapter.matched_interval(rec, "backfit") == (1.0, 1.0, 1.0)
    assert v["backfit_vs_paper"].startswith("backfit 1.000 [1.000, 1.000], above paper")
    assert v["paper_matched"] == pytest.approx(0.5)  # the median over the four failed seeds: 0.5 each


def test_synthetic_sensitivity_and_training():
    sens, config = _read(experiments.rule_sensitivity)
    rows = list(zip(sens["changed"], sens["value"]))
    matched, cpu = np.ones(sens["matched"].shape), np.full(sens["cpu_seconds"].shape, 10.0)
    lr = rows.index(("lr", "0.2"))
    matched[lr, 0] = 0.5
    cpu[rows.index(("patience", str(config.patiences[0])))] = 2.5
    s = chapter.sensitivity(_replaced(sens, matched=matched, cpu_seconds=cpu), config)
    assert s["robust"][lr] is False and sum(s["robust"].values()) == len(s["distinct"]) - 1
    tr, tc = _read(experiments.projection_training)
    loss = np.array([[0.2, 0.2, 0.2, 0.2, 0.2], [0.3] * 5, [0.1, 0.12, 0.08, 0.1, 0.1], [0.1, 0.1, 0.1, 0.1, 0.1]])
    t = chapter.training(_replaced(tr, test_loss=loss), tc)
    assert t["loss_ci"]["newton"] == pytest.approx((0.1, 0.1, 0.1)) and t["loss_ci"]["random"][0] == pytest.approx(0.2)
    rr, rc = _read(experiments.module_recovery)
    v = chapter.conclusions(chapter.recovery(rr, rc), t, s)
    assert v["sens_fail"] == "lr = 0.2" and v["pat_time"] == 0.25 and v["pat_worst"] == v["default_worst"] == 1.0
    assert v["loss_least_var"] == "random" and v["loss_lowest"] in ("backfit", "newton")
    assert v["loss_newton_vs_random"] == "newton 0.100 [0.100, 0.100], below random 0.200 [0.200, 0.200]"


def test_figures_tables_and_lines(stored):
    rec, tr, sens, _ = stored
    assert len(chapter.recovery_figure(rec).axes) == len(rec["config"].variants)
    assert chapter.recovery_table(rec).data.count("<tr") == 1 + len(rec["config"].variants) * len(rec["config"].kernels)
    assert len(chapter.training_figure(tr).axes) == 2
    assert chapter.training_table(tr).data.count("<tr") == 1 + len(tr["config"].inits)
    assert chapter.sensitivity_table(sens).data.count("<tr") == 1 + len(sens["rows"])
    assert rec["res"].key in chapter.recovery_lines(rec) and tr["res"].key in chapter.training_lines(tr)
    assert sens["res"].key in chapter.sensitivity_lines(sens) and len(chapter.authors_lines().splitlines()) == 2


def test_the_read_out_refuses_what_is_not_its_stored_result(stored):
    rec, tr, sens, _ = stored
    with pytest.raises(TypeError, match="res"):
        chapter.recovery({"similarity": np.ones((1, 1, 1, 2, 2))}, rec["config"])
    with pytest.raises(ValueError, match="res"):
        chapter.training(rec["res"], rec["config"])
    with pytest.raises(ValueError, match="config"):
        chapter.sensitivity(sens["res"], experiments.RuleSensitivityConfig.tiny())
    with pytest.raises(ValueError, match="trained"):
        chapter.conclusions(rec, rec, sens)
    with pytest.raises(ValueError, match="variant"):
        chapter.matched_interval(rec, "newton")
