"""Numbers in the book's prose come from computations: results are glued (``{glue:text}`name:.3f```) or printed
by a cell, never typed. This lint reads every page of ``book/``: the markdown cells and figure captions (cell
metadata ``mystnb.figure.caption``) of the notebooks, and the ``.md`` pages. It strips code (fences, spans),
link targets, HTML tags and the glue roles, keeps the text of prose directives (admonitions, notes, figures),
and flags what states a result:

* **typed numbers** outside maths: a decimal (``0.53``), a percentage (``20%``), a factor (``1.5x``, ``2×``);
* **numbers inside maths** (inline ``$...$`` and display maths) that are results: a decimal, a per cent sign
  (``\\%``), or any number after ``\\approx``, ``\\simeq`` or ``\\sim``. Whole numbers in maths are symbols'
  values (``$K = 2$``, ``$m \\le 5$``) and are not flagged: they are inputs far more often than results;
* **spelled-out percentages**: any ``percent``, ``per cent`` or ``percentage point``;
* **whole numbers that state results**, outside maths: a count of outcomes (``in 2 of 6 curves``, ``three of
  the four``; not ``one of``), a hedged quantity (``about 114``, ``nearly three``, ``roughly a third``), a
  factor in words (``three times``, ``ten times ours``, ``4-fold``, ``twice``), a fraction in words (``a
  third``, ``two fifths``), and a duration (``8 s``, ``about a minute``, ``in minutes``, ``a few seconds``).

Counts that describe the design (``two protocols``, ``$K = 2$ modules``) are not flagged: they are inputs.
What is typed on purpose is listed in ``ALLOWED`` with its reason; numbers of ``choices.md`` that
``tests/test_choices.py`` checks against the configs are allowed there (they are inputs, verified).
"""

import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BOOK = ROOT / "book"
PAGES = sorted(p for p in BOOK.iterdir() if p.suffix in (".ipynb", ".md"))

# (page, what is typed, as the lint reports it): why it may be typed
ALLOWED = {
    ("finding_modules", "0.9"): "the threshold of matched cos² at which a module counts as found (a definition)",
    ("sample_complexity", "95%"): "the confidence level of the bootstrap intervals (a definition)",
    ("using_this_book", "95%"): "the coverage of a two-standard-error band under a normal law (a fact, not a result)",
    ("peers", "95%"): "the confidence level of the bootstrap intervals (a definition)",
    ("choices", "95%"): "the confidence level of the bootstrap intervals (a definition)",
    ("finding_modules", "95%"): "the confidence level of the bootstrap intervals (a definition)",
    ("grouping_modules", "95%"): "the confidence level of the bootstrap intervals (a definition)",
    ("grouping_modules", "twice"): "steps 2 to 4 of the grouping run in two rounds (an input, rounds=2)",
    ("grouping_modules", "0.9"): "the grouped-overlap level a run must reach (an input, failure_rows' level)",
    ("grouping_modules", "0.95"): "the union-overlap level that tells a missed span (an input, span_level)",
    ("grouping_modules", "four fifths"): "the share of points the smooth model is fitted on (an input of grouping)",
    ("sample_complexity", "0.1"): "the main target, 0.1 Var(y) (an input set in the chapter's code)",
    ("sample_complexity", "0.01"): "the strict target, 0.01 Var(y) (an input set in the chapter's code)",
    ("sample_complexity", "twice"): "the out-of-distribution inputs' scale, sigma = 2 (an input, ood_input_std)",
    ("findings", "95%"): "the confidence level of the chapters' intervals (a definition)",
    ("choices", "30%"): "the band around n = p left out of the calibration (an input, theory_fit.calibrate)",
    ("choices", "0.3"): "the smallest target of the theory chapter's figure (an input set in its code)",
    ("choices", "0.8"): "the largest target of the theory chapter's figure (an input set in its code)",
    ("choices", "0.25"): "the middle label-noise variance of the theory-vs-networks grid (an input)",
    ("choices", "0.1"): "the deflation's smallest ridge (an input of learning_rule)",
    ("choices", "1%"): "the scaling law's plateau, min_delta (an input; test_choices checks it against the config)",
    ("choices", "one fifth"): "the share held out by construction: class sums are uniform mod 5 (holdout_mod=5)",
    ("theory_vs_networks", "95%"): "the confidence level of the intervals (a definition)",
    ("theory_vs_networks", "0.25"): "the middle label-noise variance of the grid (an input)",
    ("sine_wave_task", "0.5"): "the second component's amplitude, from tasks.DEFAULT_AMPLITUDES (an input)",
    ("sine_wave_task", "0.2"): "the third component's amplitude, from tasks.DEFAULT_AMPLITUDES (an input)",
}

# TEMPORARY. Pages owned by other work that still type results when this lint was extended (to .md pages,
# maths, spelled-out percentages and whole numbers): one entry per page, naming what it types. The page passes
# while it types nothing else; once it is clean the test fails until its entry is deleted. Some tokens are
# inputs or definitions (a confidence level, a threshold, a target): move those to ALLOWED with their reason.
# Do not add pages to this list; fix them.
KNOWN_FAILURES: dict[str, tuple[str, ...]] = {}

NUMWORD = (
    r"one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen|sixteen|"
    r"seventeen|eighteen|nineteen|twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety|hundred|"
    r"thousand|dozen"
)
QTY = rf"(?:\d[\d,]*(?:\.\d+)?|(?:{NUMWORD})(?:[- ](?:{NUMWORD}))*)"
FRACTION = r"(?:half|halves|third|thirds|quarter|quarters|fifth|fifths|tenth|tenths)"
TIME = r"(?:ms|s(?![.\w])|secs?|seconds?|mins?|minutes?|h(?![.\w])|hrs?|hours?|days?)"
HEDGE = r"(?:about|around|approximately|roughly|nearly|almost|close to|(?:just|well) (?:over|under|below|above))"

NUMBER = re.compile(r"(?<![\w.])(\d+(?:\.\d+)?\s*[×x](?!\w)|\d+(?:\.\d+)?\s*%|\d+\.\d+)")
WORDS = re.compile(
    "|".join(
        [
            rf"\b{HEDGE} {QTY}(?: {TIME}| {FRACTION}| times)?\b(?![.,]\d)",
            rf"\b{HEDGE} (?:a few|several|an?) (?:{TIME}|{FRACTION}|times|percent|per cent)\b",
            rf"\b(?!one\b){QTY} (?:out )?of (?:the |all )?{QTY}\b",
            rf"\b{QTY}(?: times|-fold| fold)\b|\b(?:twice|thrice)\b",
            rf"\b(?:a|one|two|three|four) {FRACTION}(?![-\w]| part(?:y|ies))",
            rf"\b(?:{QTY}|a few|several) {TIME}\b|\ban? (?:minute|hour|day)\b",
            r"\b(?:in|within|under) (?:a few |several )?(?:seconds|minutes|hours)\b",
            r"\b(?:percent|per cent|percentage points?)\b",
        ]
    ),
    re.IGNORECASE,
)
MATH_RESULT = re.compile(r"\d+(?:\.\d+)?\s*\\%|\d+\.\d+|\\%|\\(?:approx|simeq|sim)\s*\{?\s*\d[\d,.]*")

PROSE_DIRECTIVES = {
    "admonition",
    "note",
    "tip",
    "important",
    "warning",
    "caution",
    "attention",
    "hint",
    "seealso",
    "dropdown",
    "figure",
    "margin",
    "sidebar",
    "topic",
    "epigraph",
    "danger",
    "error",
}
FENCE = re.compile(r"^\s*(`{3,}|:{3,})\s*(?:\{([\w:-]+)\})?(.*)$")


def _unfence(text: str) -> str:
    """Code blocks and non-prose directives dropped; prose directives' titles and bodies kept, options not."""
    out, stack = [], []  # stack of (fence, keep)
    for line in text.splitlines():
        if stack and re.match(rf"^\s*{re.escape(stack[-1][0][0])}{{{len(stack[-1][0])},}}\s*$", line):
            stack.pop()
            continue
        keeping = all(keep for _, keep in stack)
        match = FENCE.match(line)
        if match and (match.group(2) is not None or match.group(1)[0] == "`"):
            keep = keeping and (match.group(2) or "") in PROSE_DIRECTIVES
            stack.append((match.group(1), keep))
            if keep:
                out.append(match.group(3))
            continue
        if keeping and not re.match(r"^\s*:[\w-]+:", line):
            out.append(line)
    return "\n".join(out)


def split_maths(text: str) -> tuple[str, list[str]]:
    """(prose, maths): markdown with code, roles' targets, links, HTML and maths removed, and the maths."""
    text = _unfence(text)
    text = re.sub(r"<!--.*?-->", " ", text, flags=re.S)
    text = re.sub(r"`[^`\n]*`", " ", text)
    maths = []

    def keep(match):
        maths.append(match.group(0))
        return " "

    text = re.sub(r"\$\$.*?\$\$", keep, text, flags=re.S)
    text = re.sub(r"\\begin\{(\w+\*?)\}.*?\\end\{\1\}", keep, text, flags=re.S)
    text = re.sub(r"(?<!\\)\$[^$\n]+?(?<!\\)\$", keep, text)
    text = re.sub(r"\]\([^)]*\)", "]", text)
    text = re.sub(r"\{[\w:-]+\}", " ", text)  # role names ({glue:text}, {doc}, {eq}) and directive names
    return re.sub(r"<[^>\n]*>", " ", text), maths


def prose(text: str) -> str:
    return split_maths(text)[0]


def findings(text: str) -> list[str]:
    """What a piece of markdown types that states a result (normalised: lower case, single spaces)."""
    body, maths = split_maths(text)
    found = [m.group(1) for m in NUMBER.finditer(body)]
    found += [m.group(0) for m in WORDS.finditer(body)]
    found += [m.group(0) for formula in maths for m in MATH_RESULT.finditer(formula)]
    return [re.sub(r"\s+", " ", f.strip().lower()).replace("\\%", "%") for f in found]


def page_texts(path: Path) -> list[tuple[str, str]]:
    """(where, markdown) for each piece of prose of a page."""
    if path.suffix == ".md":
        return [("page", path.read_text())]
    texts = []
    for i, cell in enumerate(json.loads(path.read_text())["cells"]):
        if cell["cell_type"] == "markdown":
            texts.append((f"cell {i}", "".join(cell["source"])))
        caption = cell.get("metadata", {}).get("mystnb", {}).get("figure", {}).get("caption")
        if caption:
            texts.append((f"cell {i} caption", caption))
    return texts


def _verified_choices() -> set[str]:
    """Numbers that tests/test_choices.py checks against the configs (so choices.md may state them)."""
    import sys

    sys.path.insert(0, str(Path(__file__).parent))
    from test_choices import EXPECTED

    return {n for phrases in EXPECTED.values() for phrase in phrases() for n in re.findall(r"\d+(?:\.\d+)?", phrase)}


def typed_numbers(path: Path) -> list[str]:
    verified = _verified_choices() if path.stem == "choices" else set()
    found = []
    for where, text in page_texts(path):
        for token in findings(text):
            if (path.stem, token) not in ALLOWED and token not in verified:
                found.append(f"{where}: {token!r}")
    return found


def test_the_lint_finds_typed_results():
    assert findings("grows 1.24x per dimension, 20% of runs, to 0.53") == ["1.24x", "20%", "0.53"]
    assert findings("$\\sigma = 0.2$ and `lr=0.05` and {glue:text}`g:.2f` and [a](x_1.5.html)") == ["0.2"]
    assert findings("$K = 2$ modules, $m \\le 5$, $10^{12}$, two protocols and 3 seeds") == []
    assert findings("a gain $\\approx 3$, or $5\\%$") == ["\\approx 3", "5%"]
    assert findings("$$\nL = 0.25\\,c\n$$") == ["0.25"]
    assert findings("a few percent, 3 per cent, two percentage points") == ["percent", "per cent", "percentage points"]
    assert findings("in 2 of 6 curves; three of the four methods; one of the modules") == [
        "2 of 6",
        "three of the four",
    ]
    assert findings("about 114 s at n; nearly three times; ten times ours; 4-fold; twice") == [
        "about 114 s",
        "nearly three times",
        "ten times",
        "4-fold",
        "twice",
    ]
    assert findings("computed in about a minute; runs in minutes; took 8 s; a third of the variance") == [
        "about a minute",
        "in minutes",
        "8 s",
        "a third",
    ]
    assert (
        findings(
            "about the model; almost all of them; 2 s.e. bars; one of two; as; ones; tens; a second "
            "output; a third-party reading; as a third party reports; around a peak"
        )
        == []
    )


def test_the_lint_reads_directives_and_captions():
    text = "```{admonition} Summary\n:class: tip\nIt is 0.53.\n```\n```python\nx = 0.5\n```\n"
    assert findings(text) == ["0.53"]
    assert findings("```{bibliography}\n:style: 1.5\n```") == []


@pytest.mark.parametrize("path", PAGES, ids=[p.stem for p in PAGES])
def test_no_result_is_typed_into_prose(path):
    typed = typed_numbers(path)
    known = KNOWN_FAILURES.get(path.stem)
    if known is None:
        assert not typed, (
            f"{path.name}: results typed into the prose (glue or print them, or, for an input or a "
            f"definition, add it to ALLOWED with its reason): {typed}"
        )
        return
    new = [t for t in typed if t.split(": ", 1)[1].strip("'\"") not in known]
    assert not new, f"{path.name} types more results than its temporary KNOWN_FAILURES entry lists: {new}"
    assert typed, f"{path.name} is clean now: delete its temporary entry from KNOWN_FAILURES"


def test_every_allowed_entry_is_used():
    """An entry whose page no longer types its number is stale: delete it, so the list stays a list of reasons."""
    used = {(p.stem, token) for p in PAGES for _, text in page_texts(p) for token in findings(text)}
    assert not set(ALLOWED) - used, f"ALLOWED entries that no page types any more: {sorted(set(ALLOWED) - used)}"


def test_known_failures_name_pages():
    stems = {p.stem for p in PAGES}
    assert set(KNOWN_FAILURES) <= stems, f"KNOWN_FAILURES names pages that do not exist: {set(KNOWN_FAILURES) - stems}"
