"""The library's shape: arrows that point down the book's order, private modules behind public packages, short
functions, and notebook code cells short enough to read (15 lines at most).

The rules (``shared/DESIGN.md``), each a test below:

* no import cycle inside ``modscale_lib``;
* directions: ``core`` imports nothing of the library; ``store``, ``theory`` and ``peers`` import only ``core``;
  ``present`` imports no experiment; ``measure`` and the chapters' read-outs import no torch; nothing imports
  ``chapters/`` (a chapter only its own folder). Rules for packages that do not exist yet apply once they do;
* no module imports a private name (``_x``) of another module, nor a private module of another package;
* no function is longer than :data:`MAX_FUNCTION_LINES`, except those in :data:`LONG_FUNCTIONS`, each at the
  length it has now, so that the list can only shrink;
* a notebook's code that is neither plumbing (imports, ``glue``) nor a figure or table is at most
  :data:`NOTEBOOK_CODE_BUDGET` lines: the computing belongs in the chapter's read-out, where it is tested.
  :data:`OVER_BUDGET` lists the notebooks above it today, each at its count, so that the list can only shrink.
"""

import ast
import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "modscale_lib"
MODULES = sorted(PACKAGE.rglob("*.py"))
#: A function's code, from the first statement after its docstring to its last line: the signature and the
#: docstring are not counted, as ``ruff format`` puts each parameter of a long signature on a line of its own.
MAX_FUNCTION_LINES = 60
MAX_CELL_LINES = 15
#: Lines of a notebook's code outside plumbing and figure cells (see :func:`_computing_lines`).
NOTEBOOK_CODE_BUDGET = 40
#: Notebooks over the budget today, with their count; an entry drops as the chapter's package takes the code.
OVER_BUDGET: dict[str, int] = {}

#: Functions longer than MAX_FUNCTION_LINES today, with their length: a listed function may not grow, and its
#: entry goes (or its number drops) when it is split or shortened. Empty since the restructuring of issue 23
#: split the last two (``networks.fit`` and ``rule.find_module_projections``); keep it empty.
LONG_FUNCTIONS: dict[str, int] = {}


def _name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


KNOWN = {_name(p) for p in MODULES}


def _import_nodes(path: Path):
    """``(module, names)`` for every import of ``path`` (at module level or inside functions): the absolute
    module imported from, and the names imported (``None`` for ``import x``)."""
    name = _name(path)
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, None
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                yield ".".join(base + ([node.module] if node.module else [])), [a.name for a in node.names]
            else:
                yield node.module or "", [a.name for a in node.names]


def _imports(path: Path) -> set[str]:
    """Modules of modscale_lib that ``path`` imports (``from . import x`` imports the submodule x if there is one)."""
    out = set()
    for mod, names in _import_nodes(path):
        if not mod.startswith("modscale_lib"):
            continue
        subs = [f"{mod}.{n}" for n in names or []]
        hits = [s for s in subs if s in KNOWN]
        out |= set(hits) if hits else {mod}
    out.discard(_name(path))
    return out


def _imports_torch(path: Path) -> bool:
    return any(mod.split(".")[0] == "torch" for mod, _ in _import_nodes(path))


GRAPH = {_name(p): _imports(p) for p in MODULES}
PATHS = {_name(p): p for p in MODULES}


def _short(module: str) -> str:
    return module.removeprefix("modscale_lib.")


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


# ---------------------------------------------------------------------------------------------------------
# Directions
# ---------------------------------------------------------------------------------------------------------
def _in(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def _library_deps(module: str) -> set[str]:
    """What ``module`` imports of the library outside its own top-level package."""
    top = ".".join(module.split(".")[:2])
    return {d for d in GRAPH[module] if not _in(d, top) and d != "modscale_lib"}


ONLY_CORE = ("modscale_lib.store", "modscale_lib.theory", "modscale_lib.peers")


@pytest.mark.parametrize("module", sorted(GRAPH), ids=[_short(m) for m in sorted(GRAPH)])
def test_arrows_point_down(module):
    deps = _library_deps(module)
    if _in(module, "modscale_lib.core"):
        assert not deps, f"core imports nothing of the library; {module} imports {sorted(deps)}"
    if any(_in(module, p) for p in ONLY_CORE):
        bad = {d for d in deps if not _in(d, "modscale_lib.core")}
        assert not bad, f"{module} may import only modscale_lib.core of the library, not {sorted(bad)}"
    if _in(module, "modscale_lib.present"):
        bad = {
            d
            for d in GRAPH[module]
            if _in(d, "modscale_lib.experiments") or re.fullmatch(r"modscale_lib\.chapters\.\w+\.experiment", d)
        }
        assert not bad, f"present imports no experiment; {module} imports {sorted(bad)}"
    if _in(module, "modscale_lib.measure") or re.fullmatch(r"modscale_lib\.chapters\.\w+\.readout", module):
        assert not _imports_torch(PATHS[module]), f"{module} imports torch: measurements and read-outs run on numpy"
    for dep in GRAPH[module]:
        if _in(dep, "modscale_lib.chapters"):
            own = ".".join(module.split(".")[:3])
            assert _in(module, "modscale_lib.chapters") and _in(dep, own), (
                f"nothing imports a chapter but the chapter's own folder; {module} imports {dep}"
            )


@pytest.mark.parametrize(
    "leaf",
    [
        "modscale_lib.core",
        "modscale_lib.store",
        "modscale_lib.measure",
        "modscale_lib.methods",
        "modscale_lib.reference",
        "modscale_lib.analysis",
        "modscale_lib.present",
        "modscale_lib.theory",
    ],
)
def test_leaves_import_no_experiment_and_no_torch_at_module_level(leaf):
    for module in (m for m in GRAPH if _in(m, leaf)):
        deps = GRAPH[module]
        assert not any(d.startswith("modscale_lib.experiments") for d in deps), f"{module} imports {deps}"
        tree = ast.parse(PATHS[module].read_text())
        top = {a.name.split(".")[0] for n in tree.body if isinstance(n, ast.Import) for a in n.names}
        top |= {(n.module or "").split(".")[0] for n in tree.body if isinstance(n, ast.ImportFrom) and not n.level}
        assert "torch" not in top, f"{module} imports torch at module level"


# ---------------------------------------------------------------------------------------------------------
# Private names and modules
# ---------------------------------------------------------------------------------------------------------
def _private_imports(path: Path) -> list[str]:
    """Private names imported from another module, and private modules imported from another package."""
    here = _name(path)
    own = here if path.name == "__init__.py" else here.rsplit(".", 1)[0]
    found = []
    for mod, names in _import_nodes(path):
        if not mod.startswith("modscale_lib"):
            continue
        for name in names or []:
            if name.startswith("__") and name.endswith("__"):
                continue  # __all__, __version__: names of every module, not private ones
            target = f"{mod}.{name}"
            if target in KNOWN:  # a module: private ones only from inside their package
                if name.startswith("_") and name != "__main__" and mod != own:
                    found.append(target)
            elif name.startswith("_"):
                found.append(target)
        parts = mod.split(".")
        for i, part in enumerate(parts):
            if part.startswith("_") and ".".join(parts[:i]) != own and not _in(here, ".".join(parts[:i])):
                found.append(mod)
                break
    return found


@pytest.mark.parametrize("path", MODULES, ids=[_short(_name(p)) for p in MODULES])
def test_no_module_imports_private_names_of_another(path):
    module = _short(_name(path))
    found = _private_imports(path)
    assert not found, f"{module} imports private names or modules of another: {found}"


# ---------------------------------------------------------------------------------------------------------
# Function length
# ---------------------------------------------------------------------------------------------------------
def _code_lines(function: ast.FunctionDef) -> int:
    """Lines of ``function``'s code: from its first statement after the docstring to its end."""
    body = function.body
    first = body[0]
    if len(body) > 1 and isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
        body = body[1:] if isinstance(first.value.value, str) else body
    return function.end_lineno - body[0].lineno + 1


def _function_lengths() -> dict[str, int]:
    """``path::Class.function`` -> lines of its code (:func:`_code_lines`), for every function and method."""
    out = {}

    def walk(node, path, prefix):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                out[f"{path}::{prefix}{child.name}"] = _code_lines(child)
                walk(child, path, f"{prefix}{child.name}.")
            elif isinstance(child, ast.ClassDef):
                walk(child, path, f"{prefix}{child.name}.")

    for p in MODULES:
        walk(ast.parse(p.read_text()), p.relative_to(ROOT).as_posix(), "")
    return out


LENGTHS = _function_lengths()


def test_functions_are_short():
    long = {name: n for name, n in LENGTHS.items() if n > MAX_FUNCTION_LINES}
    allowed = {name: LONG_FUNCTIONS.get(name, 0) for name in long}
    over = {name: n for name, n in long.items() if n > allowed[name]}
    assert not over, (
        f"functions longer than {MAX_FUNCTION_LINES} lines (split them; the allowed lengths are "
        f"{ {k: allowed[k] for k in over} }): {over}"
    )


@pytest.mark.parametrize("name", sorted(LONG_FUNCTIONS))
def test_the_list_of_long_functions_only_shrinks(name):
    assert name in LENGTHS, f"{name} is gone: delete its entry from LONG_FUNCTIONS"
    assert LENGTHS[name] > MAX_FUNCTION_LINES, f"{name} has {LENGTHS[name]} lines now: delete its entry"
    assert LENGTHS[name] == LONG_FUNCTIONS[name], (
        f"{name} has {LENGTHS[name]} lines, listed at {LONG_FUNCTIONS[name]}: set its entry to its length"
    )


# ---------------------------------------------------------------------------------------------------------
# Notebooks
# ---------------------------------------------------------------------------------------------------------
NOTEBOOKS = sorted((ROOT / "book").glob("*.ipynb"))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_code_cells_are_short(path):
    cells = json.loads(path.read_text())["cells"]
    long = [
        (i, len("".join(c["source"]).strip().splitlines()))
        for i, c in enumerate(cells)
        if c["cell_type"] == "code" and len("".join(c["source"]).strip().splitlines()) > MAX_CELL_LINES
    ]
    assert not long, f"{path.name}: code cells longer than {MAX_CELL_LINES} lines (cell, lines): {long}"


#: A figure or table cell: it shows something (its code is presentation, counted by nothing here).
_SHOWS = re.compile(r"plt\.show\(\)|display\(")
#: Plumbing lines (imports, glue, comments, blank lines and lone closing brackets), in any cell.
_PLUMBING = re.compile(r"^\s*(import |from \S+ import|glue\(|#|$|[)\]}]+,?\s*$)")


def _computing_lines(path: Path) -> int:
    """Lines of code in ``path``'s cells that compute: neither in a cell that shows a figure or table nor
    plumbing."""
    count = 0
    for cell in json.loads(path.read_text())["cells"]:
        source = "".join(cell["source"])
        if cell["cell_type"] != "code" or _SHOWS.search(source):
            continue
        count += sum(1 for line in source.splitlines() if not _PLUMBING.match(line))
    return count


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_computing_code_is_within_budget(path):
    lines, allowed = _computing_lines(path), OVER_BUDGET.get(path.stem, NOTEBOOK_CODE_BUDGET)
    assert lines <= allowed, (
        f"{path.name} has {lines} lines of code that compute (budget {allowed}): move the computing into "
        f"modscale_lib/chapters/{path.stem}/readout.py"
    )


@pytest.mark.parametrize("stem", sorted(OVER_BUDGET))
def test_the_list_of_notebooks_over_budget_only_shrinks(stem):
    lines = _computing_lines(ROOT / "book" / f"{stem}.ipynb")
    assert lines > NOTEBOOK_CODE_BUDGET, f"{stem} has {lines} lines now, within budget: delete its entry"
    assert lines == OVER_BUDGET[stem], f"{stem} has {lines} lines, listed at {OVER_BUDGET[stem]}: set its entry"
