"""Numbers in the chapters' prose come from computations: a markdown cell holds no decimal number, percentage
or factor (``1.5x``, ``2×``) outside maths, code and glue roles, except the inputs and definitions listed
here, each with its reason. Results are glued (``{glue:text}`name:.3f```) or printed by a cell."""
import json
import re
from pathlib import Path

import pytest

BOOK = Path(__file__).resolve().parent.parent / "book"
NOTEBOOKS = sorted(BOOK.glob("*.ipynb"))

# (notebook, number as written): why it may be typed
ALLOWED = {
    ("finding_modules", "0.9"): "the threshold of matched cos² at which a module counts as found (a definition)",
    ("sample_complexity", "95%"): "the confidence level of the bootstrap intervals (a definition)",
    ("using_this_book", "95%"): "the coverage of a two-standard-error band under a normal law (a fact, not a result)",
    ("peers", "95%"): "the confidence level of the bootstrap intervals (a definition)",
    ("compositional_cifar", "95%"): "the confidence level of the bootstrap intervals (a definition)",
}

NUMBER = re.compile(r"(?<![\w.])(\d+(?:\.\d+)?\s*[×x](?!\w)|\d+(?:\.\d+)?\s*%|\d+\.\d+)")


def prose(text: str) -> str:
    """Markdown with maths, code, roles' targets, links and HTML removed."""
    text = re.sub(r"```.*?```", " ", text, flags=re.S)
    text = re.sub(r"\$\$.*?\$\$", " ", text, flags=re.S)
    text = re.sub(r"\\begin\{(\w+\*?)\}.*?\\end\{\1\}", " ", text, flags=re.S)
    text = re.sub(r"\$[^$\n]+\$", " ", text)
    text = re.sub(r"`[^`\n]*`", " ", text)
    text = re.sub(r"\]\([^)]*\)", "]", text)
    return re.sub(r"<[^>\n]*>", " ", text)


def typed_numbers(path: Path) -> list[str]:
    found = []
    for i, cell in enumerate(json.loads(path.read_text())["cells"]):
        if cell["cell_type"] == "markdown":
            for match in NUMBER.finditer(prose("".join(cell["source"]))):
                if (path.stem, match.group(1).strip()) not in ALLOWED:
                    found.append(f"cell {i}: {match.group(1)!r}")
    return found


def test_the_lint_finds_typed_results():
    assert NUMBER.findall(prose("grows 1.24x per dimension, 20% of runs, to 0.53")) == ["1.24x", "20%", "0.53"]
    assert NUMBER.findall(prose("$\\sigma = 0.2$ and `lr=0.05` and {glue:text}`g:.2f`")) == []


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_no_result_is_typed_into_markdown(path):
    assert not typed_numbers(path), (f"{path.name}: numbers typed into markdown (glue or print them, or add an "
                                     f"input to ALLOWED with its reason): {typed_numbers(path)}")
