"""The scaling-law chapter's verdicts in words (modscale_lib.chapters.scaling_law), on small synthetic inputs."""

from __future__ import annotations

import math

import numpy as np
import pytest

from modscale_lib import methods
from modscale_lib.chapters import scaling_law as lv

INF = math.inf


def _decision(law, low, high, estimate=None, above=0, below=0):
    est = (low + high) / 2 if estimate is None else estimate
    censored = {"above": above, "below": below, "missing": 0}
    return {"law": law, "alpha": {"estimate": est, "low": low, "high": high}, "censored": censored}


def _contrast(diff, ratio, upper=None, seeds=8):
    c = {
        "seeds": seeds,
        "m": np.array([4.0, 8, 16, 32, 64]),
        "exponent_difference": diff,
        "level_ratio": ratio,
        "upper": None,
    }
    if upper is not None:
        c["upper"] = {"seeds": seeds, "m": np.array([16.0, 32, 64]), "exponent_difference": upper}
    return c


PRED_ROWS = [  # the sine family: kernel m^12 (8.53 over the range), gradient training m^1, an exponential
    {
        "task": "sine",
        "regime": "linear random features, the paper's spectrum",
        "law": "exponential",
        "bound": False,
        "exponent": math.nan,
        "exponent over the range": math.nan,
    },
    {
        "task": "sine",
        "regime": lv.KERNEL,
        "law": "power",
        "bound": False,
        "exponent": 12.0,
        "exponent over the range": 8.53,
    },
    {
        "task": "sine",
        "regime": lv.ONLINE,
        "law": "power",
        "bound": False,
        "exponent": 1.0,
        "exponent over the range": 1.0,
    },
    {
        "task": "sine",
        "regime": "learned projections",
        "law": "power",
        "bound": True,
        "exponent": 1.0,
        "exponent over the range": 1.0,
    },
    {
        "task": "He_1",
        "regime": lv.ONLINE,
        "law": "power",
        "bound": False,
        "exponent": 1.0,
        "exponent over the range": 1.0,
    },
]


class _Result:
    def __init__(self, name):
        self.name = name

    def provenance(self):
        return f"provenance of {self.name}"


def test_stored_results_are_split_into_studies_read_and_waiting():
    stored = {n: (None, _Result(n)) for n in ("cpu_sine", "cpu_sine_rule", "cpu_he1_rule", "cpu_he2")}
    studies, read, waiting = lv.partition_stored(stored, {"cpu_sine_rule", "cpu_he1_rule"})
    assert list(studies) == ["cpu_sine", "cpu_he2"]
    assert list(read) == ["cpu_sine", "cpu_sine_rule", "cpu_he2"]
    assert waiting == ["cpu_he1_rule"]
    lines = lv.stored_lines(read, {"cpu_he3": "python -m modscale run x"}, waiting)
    assert lines == [
        "provenance of cpu_sine",
        "provenance of cpu_sine_rule",
        "provenance of cpu_he2",
        "not computed yet: cpu_he3, with  python -m modscale run x",
        "stored, read once its task's study is: cpu_he1_rule",
    ]


def test_a_measured_exponent_is_consistent_with_the_regimes_its_interval_holds():
    assert (
        lv.regimes_consistent("sine:2", _decision("power", 0.8, 1.2), PRED_ROWS) == f"{lv.ONLINE}, learned projections"
    )
    assert (
        lv.regimes_consistent("sine:2", _decision("power", 7.0, 9.0), PRED_ROWS) == f"{lv.KERNEL}, learned projections"
    )  # a lower bound m^>=1 holds any larger one
    assert lv.regimes_consistent("sine:2", _decision("power", 0.2, 0.5), PRED_ROWS) == "none"
    assert (
        lv.regimes_consistent("sine:2", _decision("exponential", 3.0, 4.0), PRED_ROWS)
        == "linear random features, the paper's spectrum, learned projections"
    )
    unbounded = {"above": (3, 0), "below": (0, 50), "above and below": (2, 4)}
    for side, (above, below) in unbounded.items():  # named by the side(s) of its censored entries
        decision = _decision("undecided", -INF, INF, 0.0, above, below)
        assert lv.regimes_consistent("sine:2", decision, PRED_ROWS) == f"not measured (censored {side})"


def test_the_regime_table_and_its_glues():
    decided = {
        ("sine:2", methods.MONOLITHIC): _decision("power", 0.8, 1.2, 1.0),
        ("sine:2", methods.RANDOM_FEATURES): _decision("undecided", -INF, INF, 0.5, above=6),
    }
    rows = lv.regime_table(decided, PRED_ROWS)
    assert rows["alpha [95% CI]"] == ["1.00 [0.80, 1.20]", "0.50 [-inf, inf]"]
    assert rows["its own regime"] == [lv.ONLINE, lv.KERNEL]
    glues = lv.regime_glues(rows, {"mlp": methods.MONOLITHIC, "rf": methods.RANDOM_FEATURES, "oracle": methods.ORACLE})
    assert glues == {
        "regimes_mlp": f"sine:2: {lv.ONLINE}, learned projections",
        "regimes_rf": "sine:2: not measured (censored above)",
        "regimes_oracle": "not measured",
    }


@pytest.mark.parametrize(
    "diff, upper, signs",
    [
        ((0.3, 0.1, 0.5), None, (1, 1)),  # no upper range: the whole range decides
        ((-0.3, -0.5, -0.1), None, (-1, -1)),
        ((0.1, -0.1, 0.3), (0.4, 0.1, 0.7), (1, 0)),  # shown in the upper range only: persistent
        ((0.3, 0.1, 0.5), (0.1, -0.2, 0.4), (0, 1)),  # the whole range only: not persistent
        ((-0.3, -0.5, -0.1), (0.4, 0.1, 0.7), (0, -1)),  # the upper range contradicts the whole range
        ((0.0, -0.2, 0.2), (0.0, -0.3, 0.3), (0, 0)),
    ],
)
def test_a_difference_of_exponents_persists_only_in_the_upper_range(diff, upper, signs):
    assert lv.exponent_sign(_contrast(diff, (2.0, 1.5, 2.5), upper)) == signs


def test_the_contrast_table_names_the_persistent_pairs():
    contrasts = {
        ("sine:2", methods.RANDOM): _contrast((0.14, -0.11, 0.39), (3.2, 1.86, 5.5), (0.12, -0.46, 0.7)),
        ("he1:2", methods.RANDOM): _contrast((0.29, 0.19, 0.38), (2.22, 1.95, 2.52), (0.16, 0.03, 0.28)),
    }
    rows, persistent = lv.contrast_table(contrasts)
    assert persistent == [f"he1:2 against {methods.RANDOM}"]
    assert rows["upper range"][0] == "0.12 [-0.46, 0.70] over m = 16..64 (8 seeds)"
    assert rows["n* ratio at the largest m"][1] == "2.22 [1.95, 2.52] at m = 64"
    assert lv.contrast_table({("sine:2", "x"): _contrast((0.0, -1, 1), (1, 0.5, 2))})[0]["upper range"] == ["none"]


def _words(*cases):
    """contrast_words of (task, other, diff, ratio, upper) cases."""
    return lv.contrast_words({(t, o): _contrast(d, r, u) for t, o, d, r, u in cases})


def test_the_words_of_a_contrast():
    ((pair, law, level, span, ratio, persist),) = _words(
        ("he1:2", "R", (0.29, 0.19, 0.38), (2.22, 1.95, 2.52), (0.16, 0.03, 0.28))
    )
    assert (pair, law, level, persist) == (
        "he1:2 against R",
        "a larger exponent for the MLP",
        "the MLP needs more samples",
        1,
    )
    assert span == "0.29 [0.19, 0.38]; upper range 0.16 [0.03, 0.28]" and ratio == "2.2x [1.9, 2.5]"
    ((_, law, level, _, _, persist),) = _words(("s:2", "R", (0.3, 0.1, 0.5), (0.5, 0.3, 0.8), (0.1, -0.2, 0.4)))
    assert law == "a larger exponent for the MLP over the whole range, not shown in the upper range"
    assert (level, persist) == ("the MLP needs fewer", 0)
    ((_, law, level, _, _, _),) = _words(("s:2", "R", (0.0, -0.1, 0.1), (1.0, 0.5, 2.0), None))
    assert (law, level) == ("no difference of exponents shown", "no ratio shown")


MORE, FEWER, NONE = (3.0, 2.0, 4.0), (0.5, 0.3, 0.8), (1.0, 0.5, 2.0)
FLAT = (0.0, -0.1, 0.1)


def test_the_modularity_word_takes_each_branch():
    assert lv.modularity_word([]) == "was not compared"
    persistent = _words(("a:2", "R", (0.3, 0.1, 0.5), MORE, None), ("b:2", "R", FLAT, MORE, None))
    assert lv.modularity_word(persistent) == (
        "changes the exponent where a difference persists in the upper "
        "range: a:2 against R (a larger exponent for the MLP)"
    )
    more = _words(("a:2", "R", FLAT, MORE, None), ("b:2", "O", FLAT, MORE, None))
    assert lv.modularity_word(more) == "buys a constant factor in samples; no change of exponent is shown"
    mixed = _words(
        ("a:2", "R", FLAT, MORE, None),
        ("b:2", "R", FLAT, MORE, None),
        ("c:2", "R", FLAT, FEWER, None),
        ("a:2", "O", FLAT, NONE, None),
    )
    assert lv.modularity_word(mixed) == (
        "shows no persistent change of exponent; what differs is the constant: the MLP needs more samples than R "
        "on a:2 and b:2; the MLP needs fewer samples than R on c:2; no ratio is shown between the MLP and O on a:2"
    )


def test_claim_needs_takes_each_branch():
    flat = _words(("a:2", "R", FLAT, MORE, None))
    assert lv.claim_needs(flat, {"a:2": "power"}) == (
        "neither holds on any task measured here. On these tasks modularity changes the constant of n*(m), not its "
        "exponent, and the monolithic MLP shows no exponential for it to break"
    )
    larger_modular = _words(("a:2", "R", (-0.3, -0.5, -0.1), MORE, None), ("b:2", "R", FLAT, MORE, None))
    needs = lv.claim_needs(larger_modular, {"a:2": "power"})
    assert needs.startswith("neither holds on any task measured here. On these tasks modularity lowers the exponent")
    assert "the modular network's exponent is the larger (a:2 against R)" in needs
    larger_mlp = _words(("a:2", "R", (0.3, 0.1, 0.5), MORE, None))
    assert lv.claim_needs(larger_mlp, {"a:2": "exponential", "b:2": "power"}) == (
        "it holds on a:2: the MLP's law is exponential; a:2 against R: a larger exponent for the MLP "
        "(0.30 [0.10, 0.50])"
    )
    assert lv.claim_needs([], {"a:2": "power"}) == "neither holds on any task measured here"


def test_the_claim_verdicts_are_keyed_by_their_glue_names():
    contrasts = {("sine:2", methods.RANDOM): _contrast(FLAT, MORE)}
    decided = {
        ("sine:2", methods.MONOLITHIC): _decision("power", 0.8, 1.2, 1.0),
        ("sine:2", methods.RANDOM): _decision("undecided", 0.5, 2.0, 1.0),
    }
    out = lv.claim_verdicts(contrasts, decided, PRED_ROWS)
    assert list(out) == ["contrast_verdict", "modularity_word", "claim_exponential", "claim_mlp", "claim_needs"]
    assert out["contrast_verdict"] == (
        f"sine:2 against {methods.RANDOM}: no difference of exponents shown (0.00 "
        "[-0.10, 0.10]), and at the largest m the MLP needs more samples (3.0x "
        "[2.0, 4.0])"
    )
    assert out["claim_exponential"] == (
        "the test calls no learner's n* exponential on any of the 2 (task, learner) pairs"
    )
    assert out["claim_mlp"] == (
        "sine:2: power, alpha 1.00 [0.80, 1.20], whose interval holds gradient training's "
        "m^1 and lies below the kernel's count"
    )
    exp = lv.claim_verdicts({}, {("sine:2", methods.MONOLITHIC): _decision("exponential", 0.8, 1.2)}, PRED_ROWS)
    assert exp["claim_exponential"] == f"the test calls an exponential for sine:2 {methods.MONOLITHIC}"
    assert exp["contrast_verdict"] == "not compared" and exp["modularity_word"] == "was not compared"
    assert exp["claim_needs"] == "it holds on sine:2: the MLP's law is exponential"
    assert lv.claim_verdicts({}, {}, PRED_ROWS)["claim_mlp"] == "not measured"


def test_claim_mlp_names_each_tasks_own_gradient_prediction():
    """He_3's gradient training predicts m^2: an interval holding 1 lies below it, and says so with m^2."""
    he3 = [dict(r, task="He_3") for r in PRED_ROWS if r["task"] == "sine"]
    online = next(r for r in he3 if r["regime"] == lv.ONLINE)
    online.update(exponent=2.0, **{"exponent over the range": 2.0})
    decided = {("he3:2", methods.MONOLITHIC): _decision("power", 0.74, 1.02, 0.88)}
    assert lv.claim_verdicts({}, decided, he3)["claim_mlp"] == (
        "he3:2: power, alpha 0.88 [0.74, 1.02], whose interval lies below gradient training's m^2 and lies below "
        "the kernel's count"
    )
    decided = {("he3:2", methods.MONOLITHIC): _decision("power", 2.2, 2.6, 2.4)}
    assert "lies above gradient training's m^2" in lv.claim_verdicts({}, decided, he3)["claim_mlp"]


def test_the_law_figure_puts_its_legend_in_a_spare_panel():
    import matplotlib.pyplot as plt

    from modscale_lib.chapters import scaling_law as law_figures

    n = np.tile(np.array([10.0, 20, 40])[None, None, :, None], (5, 1, 1, 3))
    cens = np.full(n.shape, "", dtype=object)
    fig = law_figures.law_figure([4, 8, 16], n, cens, [methods.MONOLITHIC], list("abcde"), columns=2)
    axes = [ax for ax in fig.axes if ax.get_visible()]
    assert len(axes) == 6 and not fig.legends and axes[5].get_legend() is not None
    assert fig.get_size_inches()[0] <= 8.5
    plt.close(fig)
    fig = law_figures.law_figure([4, 8, 16], n[:2], cens[:2], [methods.MONOLITHIC], list("ab"), columns=2)
    assert len(fig.legends) == 1
    plt.close(fig)


def test_short_label_names_every_learner_and_refuses_others():
    from modscale_lib import law_readout, methods

    assert [
        law_readout.short_label(x)
        for x in (methods.MONOLITHIC, methods.RANDOM_FEATURES, methods.RANDOM, methods.ORACLE, "modular, newton rule")
    ] == ["MLP", "RF", "random", "oracle", "newton rule"]
    with pytest.raises(ValueError, match="label"):
        law_readout.short_label("a perceptron")
