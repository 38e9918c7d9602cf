"""The library's shape: no import cycle inside modscale_lib, the store a leaf, modules of one concept (about
400 lines at most), and notebook code cells short enough to read (15 lines at most)."""
import ast
import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "modscale_lib"
MODULES = sorted(PACKAGE.rglob("*.py"))
MAX_LINES = 440        # "about 400": a module past this holds two concepts
MAX_CELL_LINES = 15


def _name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _imports(path: Path) -> set[str]:
    """Modules of modscale_lib that ``path`` imports, at module level or inside functions."""
    name = _name(path)
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    out = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names if a.name.startswith("modscale_lib")}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[:len(base) - node.level + 1]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            if not mod.startswith("modscale_lib"):
                continue
            # `from . import x` imports the submodule x when there is one
            subs = [f"{mod}.{a.name}" for a in node.names]
            known = {_name(p) for p in MODULES}
            hits = [s for s in subs if s in known]
            out |= set(hits) if hits else {mod}
    out.discard(name)
    return out


GRAPH = {_name(p): _imports(p) for p in MODULES}


def _edges_without_package_reexports():
    # A package's __init__ re-exporting its own submodules is not a dependency of those submodules.
    graph = {}
    for mod, deps in GRAPH.items():
        graph[mod] = {d for d in deps if not (d == mod.rsplit(".", 1)[0] and mod.startswith(d + "."))}
    return graph


def test_no_import_cycle_inside_the_package():
    graph = _edges_without_package_reexports()
    state: dict[str, int] = {}

    def visit(node, path):
        state[node] = 1
        for dep in graph.get(node, ()):
            if state.get(dep) == 1:
                raise AssertionError("import cycle: " + " -> ".join(path + [dep]))
            if dep not in state:
                visit(dep, path + [dep])
        state[node] = 2

    for mod in graph:
        if mod not in state:
            visit(mod, [mod])


@pytest.mark.parametrize("leaf", ["modscale_lib.results", "modscale_lib.cells", "modscale_lib.validation",
                                  "modscale_lib.metrics", "modscale_lib.methods", "modscale_lib.reference",
                                  "modscale_lib.analysis", "modscale_lib.plotting"])
def test_leaves_import_no_experiment_and_no_torch(leaf):
    path = PACKAGE / (leaf.split(".", 1)[1].replace(".", "/") + ".py")
    deps = GRAPH[leaf]
    assert not any(d.startswith("modscale_lib.experiments") for d in deps), f"{leaf} imports {deps}"
    tree = ast.parse(path.read_text())
    top = {a.name.split(".")[0] for n in tree.body if isinstance(n, ast.Import) for a in n.names}
    top |= {(n.module or "").split(".")[0] for n in tree.body if isinstance(n, ast.ImportFrom) and not n.level}
    assert "torch" not in top, f"{leaf} imports torch at module level"


@pytest.mark.parametrize("path", MODULES, ids=[_name(p) for p in MODULES])
def test_modules_stay_small(path):
    n = len(path.read_text().splitlines())
    assert n <= MAX_LINES, f"{_name(path)} has {n} lines: split it along its concepts"


NOTEBOOKS = sorted((ROOT / "book").glob("*.ipynb"))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_code_cells_are_short(path):
    cells = json.loads(path.read_text())["cells"]
    long = [(i, len("".join(c["source"]).strip().splitlines())) for i, c in enumerate(cells)
            if c["cell_type"] == "code" and len("".join(c["source"]).strip().splitlines()) > MAX_CELL_LINES]
    assert not long, f"{path.name}: code cells longer than {MAX_CELL_LINES} lines (cell, lines): {long}"
