"""The API reference: one page per part of the book (``book/api/*.md``), every public module of the library on
exactly one page, and, in the built HTML, every documented name once across all pages."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PAGES = sorted((ROOT / "book" / "api").glob("*.md"))
HTML = ROOT / "_build" / "html" / "book" / "api"
#: Modules with no API of their own: the command line.
NOT_DOCUMENTED = {"__main__"}


def _book_extension():
    """The book's Sphinx extension, whose parser of the ``modscale-api`` blocks the build itself uses."""
    spec = importlib.util.spec_from_file_location("modscale_book", ROOT / "_ext" / "modscale_book.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


listed = _book_extension().api_modules  # the modules named in a page's modscale-api blocks, in order


def public_modules() -> set[str]:
    """Every public module and package directly under ``modscale_lib`` (no leading underscore)."""
    lib = ROOT / "modscale_lib"
    names = {p.stem for p in lib.glob("*.py")} | {p.parent.name for p in lib.glob("*/__init__.py")}
    return {f"modscale_lib.{n}" for n in names if not n.startswith("_") and n not in NOT_DOCUMENTED} | {
        "modscale_lib.experiments"
    }


def test_there_are_pages_and_the_index_links_each():
    assert len(PAGES) >= 5
    index = (ROOT / "book" / "api.md").read_text()
    for page in PAGES:
        assert f"{{doc}}`api/{page.stem}`" in index, f"book/api.md does not link {page.name}"
        assert f"book/api/{page.stem}" in (ROOT / "_toc.yml").read_text(), f"_toc.yml does not list {page.name}"


def test_every_public_module_is_on_exactly_one_page():
    where: dict[str, list[str]] = {}
    for page in PAGES:
        for name in listed(page):
            where.setdefault(name, []).append(page.stem)
    twice = {name: pages for name, pages in where.items() if len(pages) > 1}
    assert not twice, f"modules on more than one API page: {twice}"
    missing = public_modules() - set(where)
    assert not missing, f"public modules on no API page: {sorted(missing)}"
    unknown = set(where) - public_modules()
    assert not unknown, f"API pages list modules that are not public modules of the library: {sorted(unknown)}"


def test_the_built_pages_document_each_name_once():
    if not HTML.exists():
        pytest.skip("the book is not built (jupyter-book build .)")
    ids: dict[str, list[str]] = {}
    for page in sorted(HTML.glob("*.html")):
        for found in re.findall(r'<dt class="sig sig-object py[^"]*" id="([^"]+)"', page.read_text()):
            ids.setdefault(found, []).append(page.stem)
    assert ids, "no documented names found in the built API pages"
    twice = {name: pages for name, pages in ids.items() if len(pages) > 1}
    assert not twice, f"names documented more than once: {dict(list(twice.items())[:10])}"
