"""The book's hygiene: every notebook is in the table of contents, titled, and executed once, in order.

nbval silently skips cells that were never executed, so this guard is what makes the nbval run meaningful.
"""
import json
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "book").rglob("*.ipynb"))
NOTEBOOKS = [p for p in NOTEBOOKS if ".ipynb_checkpoints" not in p.parts]


def _toc_files():
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = [toc["root"]]
    for part in toc.get("parts", []):
        files += [ch["file"] for ch in part.get("chapters", [])]
    return files


def _resolve(entry):
    matches = [ROOT / f"{entry}{ext}" for ext in (".md", ".ipynb") if (ROOT / f"{entry}{ext}").exists()]
    assert len(matches) == 1, f"_toc.yml entry {entry!r} should match exactly one .md or .ipynb file"
    return matches[0]


def test_toc_entries_exist_and_every_page_is_listed():
    listed = {_resolve(entry) for entry in _toc_files()}
    pages = {p for p in (ROOT / "book").rglob("*") if p.suffix in (".md", ".ipynb")
             and ".ipynb_checkpoints" not in p.parts}
    assert pages - listed == set(), "pages not in _toc.yml are not built"


def test_there_are_notebooks():
    assert NOTEBOOKS


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_is_titled_and_executed_in_order(path):
    nb = json.loads(path.read_text())
    cells = nb["cells"]
    markdown = [c for c in cells if c["cell_type"] == "markdown"]
    assert markdown and "".join(markdown[0]["source"]).lstrip().startswith("# "), \
        "the first markdown cell must start with a '# ' title"
    code = [c for c in cells if c["cell_type"] == "code" and "".join(c["source"]).strip()]
    counts = [c["execution_count"] for c in code]
    assert counts == list(range(1, len(code) + 1)), \
        f"code cells must be executed once, in order, on a fresh kernel; found {counts}"
    for i, c in enumerate(code):
        for out in c.get("outputs", []):
            assert out["output_type"] != "error", f"code cell {i + 1} stores an error"
            text = "".join(out.get("text", ""))
            assert "Traceback" not in text, f"code cell {i + 1} stores a traceback"
            assert "[modscale] computing" not in text, \
                f"code cell {i + 1} computed a result: re-execute in the default read mode"
