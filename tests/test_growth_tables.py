"""modscale_lib.growth_tables: the growth read-outs as table columns and short phrases."""

import numpy as np

from modscale_lib import growth, growth_tables, present

M = np.array([4, 8, 16, 32])
RNG = np.random.default_rng(3)
RULE = 100 * (1.05**M)[:, None] * np.exp(RNG.normal(0, 0.05, (4, 5)))  # (m, seed)
FLAT = 100 * np.exp(RNG.normal(0, 0.05, (4, 5)))
CENSORED = np.where(M[:, None] >= 16, np.inf, 300 * (1.05**M)[:, None] * np.ones((1, 5)))
NEVER = np.full((4, 5), np.inf)


def test_comparison_agrees_with_the_sentence():
    for a, b in ((RULE, CENSORED), (NEVER, RULE), (CENSORED, RULE), (FLAT, RULE), (RULE, FLAT), (NEVER, NEVER)):
        c = growth.comparison("a", "b", M, a, b, 4096)
        text = growth._compare("a", "b", M, a, b, 4096)
        assert c["ratio_text"] in text or c["growth"] == "never"
        if c["level"] is not None:
            assert f"{c['level'][0]:.2f}x" in text and (c["level_bound"] in text)
        said = {
            "slower": "grows more slowly",
            "faster": "grows faster",
            "never": "never reaches",
            "unordered": "not ordered",
            "alike": "grows like",
        }[c["growth"]]
        assert said in text
    assert growth.comparison("a", "b", M, NEVER, NEVER, 4096)["level_word"] == "neither"
    assert growth.comparison("a", "b", M, FLAT, RULE, 4096)["growth"] == "slower"
    assert growth.comparison("a", "b", M, RULE, CENSORED, 4096)["level_bound"] == "at most"


def test_growth_table_has_one_kind_of_value_per_column():
    rows = growth.growth_rows(M, np.stack([RULE, FLAT, NEVER]), 4096, ["rule", "flat", "never"])
    cols = growth_tables.growth_table(rows)
    assert cols["method"] == ["rule", "flat", "never"]
    g = cols["growth per dimension"]
    assert g[0] > 1.02 and np.isnan(g[2]) and cols["95% interval"][2] == ""
    assert cols["flat in $m$"] == [False, True, False]
    assert cols["what it is"] == ["measured", "measured", "target reached at no m"]
    present.table(cols, formats={"growth per dimension": ".3f"})  # renders
    assert "flat in $m$" not in growth_tables.growth_table(rows, flat=False)


def test_comparison_table_and_phrases():
    comps = [
        {"question": "Q2", **growth.comparison("a", "b", M, RULE, CENSORED, 4096)},
        {"question": "Q3", **growth.comparison("c", "d", M, NEVER, NEVER, 4096)},
    ]
    cols = growth_tables.comparison_table(comps, first="question")
    assert list(cols)[:3] == ["question", "method", "against"]
    level = "samples at $m = 32$, as a multiple [95% CI]"
    assert cols[level][0].startswith("at most ") and cols[level][1] == ""
    assert cols["samples"][1] == "neither reaches the target"
    assert "against" not in growth_tables.comparison_table(comps[:1])
    assert growth_tables.growth_phrase(comps[1]).startswith("never reaches")
    assert growth_tables.level_phrase(comps[1]).startswith("more samples than the grid holds")
    for word in growth_tables.GROWTH_WORDS:
        assert growth_tables.growth_phrase({"growth": word})
    for word in growth_tables.LEVEL_WORDS:
        assert growth_tables.level_phrase({"level_word": word})


def test_growth_text_marks_bounds():
    row = {"method": "x", "estimate": 1.05, "low": 1.04, "high": 1.06, "bound": "lower"}
    assert growth_tables.growth_text(row) == "≥ 1.050 [1.040, 1.060]"
    assert growth_tables.growth_text({**row, "bound": ""}) == "1.050 [1.040, 1.060]"
    assert growth_tables.growth_text({**row, "bound": "mixed"}).endswith("(no bound)")
    assert growth_tables.growth_text({**row, "never": True}) == "target reached at no m"
