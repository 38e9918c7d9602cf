"""The book's small Sphinx extension (loaded through ``sphinx: local_extensions`` in ``_config.yml``).

* An author-year pybtex style (``bibtex_default_style: authoryear``): the bibliography's entries are labelled
  "Boopathy et al., 2025", like the author-year citations in the text, not [1], [2], ...
* Offline MathJax: ``mathjax_path`` points into ``_static/mathjax/``, but jupyter-book adds every ``*.js``
  under ``_static`` to ``html_js_files``, which would load MathJax a second time, on every page and before its
  configuration. Those entries are dropped.
* No thebe: it is off (``launch_buttons.thebe: false``), but jupyter-book always loads sphinx-thebe, whose
  inline ``const THEBE_JS_URL = ...`` Sphinx 7 emits twice (a SyntaxError in every page's console). Its
  assets are dropped, and identical inline scripts are emitted once.
* The ``modscale-api`` directive: one line per module, each becoming a section with the module's autodoc; a
  member re-exported from another listed module is documented in its home module only (one path per name).
* A link to a name at a module that re-exports it resolves to the name's documented home.
* Docstring sections as the library writes them: numpydoc-shaped headers, but prose on the ``name :`` line
  (``n : number of training samples, int (>= 1).``), which napoleon would read as a type. Those sections
  become a rubric and one bullet per entry, before napoleon sees them.
* The version on every page: the package's version, read from ``pyproject.toml``, becomes Sphinx's
  ``version`` and ``release`` and a line in every page's footer (with the licences of code and text).
"""

from __future__ import annotations

import re
from pathlib import Path

from docutils import nodes
from docutils.statemachine import StringList
from pybtex.plugin import register_plugin
from pybtex.style.formatting.plain import Style as PlainStyle
from pybtex.style.labels import BaseLabelStyle
from sphinx.util.docutils import SphinxDirective


# ---------------------------------------------------------------------------------------------------------
# Bibliography: author-year labels
# ---------------------------------------------------------------------------------------------------------
def _last_name(person) -> str:
    return re.sub(r"[{}]", "", " ".join(person.prelast_names + person.last_names))


class AuthorYearLabelStyle(BaseLabelStyle):
    """Labels "Krizhevsky, 2009", "Hastie and Montanari, 2022", "Boopathy et al., 2025" (a, b, ... on clashes)."""

    def format_labels(self, sorted_entries):
        labels = []
        for entry in sorted_entries:
            persons = entry.persons.get("author") or entry.persons.get("editor") or []
            names = [_last_name(p) for p in persons]
            if not names:
                who = entry.fields.get("organization", entry.key)
            elif len(names) == 1:
                who = names[0]
            elif len(names) == 2:
                who = f"{names[0]} and {names[1]}"
            else:
                who = f"{names[0]} et al."
            labels.append(f"{who}, {entry.fields.get('year', 'n.d.')}")
        counts = {label: labels.count(label) for label in labels}
        seen: dict[str, int] = {}
        for label in labels:
            if counts[label] > 1:
                seen[label] = seen.get(label, 0) + 1
                yield label + "abcdefghijklmnopqrstuvwxyz"[seen[label] - 1]
            else:
                yield label


class AuthorYearStyle(PlainStyle):
    """pybtex's ``plain`` formatting and author-year-title sorting, with author-year labels."""

    default_label_style = "authoryear"


register_plugin("pybtex.style.labels", "authoryear", AuthorYearLabelStyle)
register_plugin("pybtex.style.formatting", "authoryear", AuthorYearStyle)


# ---------------------------------------------------------------------------------------------------------
# Assets: offline MathJax loaded once, no thebe, no duplicated inline scripts
# ---------------------------------------------------------------------------------------------------------
def _asset_name(entry) -> str:
    return str(entry[0] if isinstance(entry, (tuple, list)) else entry)


def _drop_mathjax_from_js_files(app, config) -> None:
    config.html_js_files = [f for f in config.html_js_files if not _asset_name(f).startswith("mathjax/")]


def _is_thebe(asset) -> bool:
    filename = str(getattr(asset, "filename", asset) or "")
    body = str(getattr(asset, "attributes", {}).get("body", ""))
    return "sphinx-thebe" in filename or "THEBE_JS_URL" in body


def _clean_page_assets(app, pagename, templatename, context, doctree) -> None:
    if "script_files" in context:
        kept, seen = [], set()
        for js in context["script_files"]:
            key = (
                str(getattr(js, "filename", js) or ""),
                tuple(sorted((k, str(v)) for k, v in getattr(js, "attributes", {}).items())),
            )
            if _is_thebe(js) or key in seen:
                continue
            seen.add(key)
            kept.append(js)
        context["script_files"] = kept
    if "css_files" in context:
        context["css_files"] = [css for css in context["css_files"] if not _is_thebe(css)]


# ---------------------------------------------------------------------------------------------------------
# API reference: one line per module
# ---------------------------------------------------------------------------------------------------------
def public_home(obj) -> str | None:
    """The public module a function or class belongs to: its ``__module__`` up to the first private part
    (``modscale_lib.core._seeding`` -> ``modscale_lib.core``); None for an object without one."""
    module = getattr(obj, "__module__", None)
    if not isinstance(module, str) or not module.startswith("modscale_lib"):
        return None
    parts = module.split(".")
    cut = next((i for i, part in enumerate(parts) if part.startswith("_")), len(parts))
    return ".".join(parts[:cut])


def _borrowed(name: str, listed: set[str]) -> list[str]:
    """The members of module ``name``'s ``__all__`` whose public home is another listed module: documented
    there, so that each name has one path on the page."""
    import importlib

    module = importlib.import_module(name)
    out = []
    for member in getattr(module, "__all__", []):
        home = public_home(getattr(module, member, None))
        if home is not None and home != name and home in listed:
            out.append(member)
    return out


def _package_data(name: str) -> list[str]:
    """``py:data`` entries for the constants a package's ``__all__`` takes from its private modules, with the
    ``#:`` comments they have there (autodoc reads a package's own source only, so it would leave them out)."""
    import importlib

    from sphinx.pycode import ModuleAnalyzer

    package = importlib.import_module(name)
    if not hasattr(package, "__path__"):
        return []
    own = ModuleAnalyzer.for_module(name).find_attr_docs()
    docs = {}
    for sub in sorted(getattr(package, "__dict__", {})):
        module = getattr(package, sub)
        if sub.startswith("_") and getattr(module, "__name__", "").startswith(name + "."):
            for (_, attr), lines in ModuleAnalyzer.for_module(module.__name__).find_attr_docs().items():
                docs.setdefault(attr, lines)
    out = []
    for member in getattr(package, "__all__", []):
        value = getattr(package, member)
        if callable(value) or ("", member) in own or member in ("__version__",):
            continue
        out += [f".. py:data:: {member}", f"   :module: {name}"]
        if isinstance(value, (int, float, str, tuple)) and len(repr(value)) <= 80:
            out.append(f"   :value: {value!r}")
        out += ["", *(f"   {line}" for line in docs.get(member, [])), ""]
    return out


def _listed_everywhere(srcdir: str) -> set[str]:
    """The modules named in every ``modscale-api`` block of the API pages (``book/api.md``, ``book/api/*.md``)."""
    from pathlib import Path

    root = Path(srcdir) / "book"
    pages = [root / "api.md", *sorted((root / "api").glob("*.md"))]
    return {name for page in pages if page.exists() for name in api_modules(page)}


def api_modules(page: Path) -> list[str]:
    """The modules named in a page's ``modscale-api`` blocks, in order (tests/test_api_pages.py reads them too)."""
    names, inside = [], False
    for line in page.read_text().splitlines():
        if line.startswith("```{modscale-api}"):
            inside = True
        elif line.startswith("```"):
            inside = False
        elif inside and line.strip():
            names.append(line.strip())
    return names


class ModuleSections(SphinxDirective):
    """``modscale-api``: each content line names a module; each becomes a section holding its autodoc. A member
    that a listed module re-exports from another listed module is documented in its home module only."""

    has_content = True

    def run(self):
        sections = []
        # every module listed on any API page: a re-exported member is documented in its home, on whichever page
        listed = {line.strip() for line in self.content if line.strip()} | _listed_everywhere(self.env.srcdir)
        for line in self.content:
            name = line.strip()
            if not name:
                continue
            section = nodes.section(ids=[nodes.make_id(f"api-{name}")], names=[nodes.fully_normalize_name(name)])
            section += nodes.title("", "", nodes.literal(name, name))
            # autodoc emits reStructuredText, which MyST parses only inside eval-rst
            options = [f"   :exclude-members: {', '.join(b)}" for b in [_borrowed(name, listed)] if b]
            body = StringList(
                ["```{eval-rst}", f".. automodule:: {name}", *options, "", *_package_data(name), "```"],
                source=self.get_source_info()[0],
            )
            self.state.nested_parse(body, self.content_offset, section)
            self.state.document.note_implicit_target(section, section)
            sections.append(section)
        return sections


# ---------------------------------------------------------------------------------------------------------
# Docstrings: "name : prose" sections as bullets
# ---------------------------------------------------------------------------------------------------------
_LISTED_SECTIONS = {"Parameters", "Other Parameters", "Returns", "Yields", "Raises", "Warns", "Attributes"}
_NAME_ONLY = re.compile(r"^[\w.*]+(?:\s*,\s*[\w.*]+)*$")


def _section_headers(lines):
    return [
        i
        for i in range(len(lines) - 1)
        if lines[i].strip()
        and re.fullmatch(r"-{3,}", lines[i + 1].strip() or "x")
        and len(lines[i + 1].strip()) >= len(lines[i].strip())
    ]


def _bullets(body: list[str]) -> list[str]:
    entries: list[list[str]] = []
    for line in body:
        if not line.strip():
            continue
        starts = not line[:1].isspace() and (" : " in line or _NAME_ONLY.match(line.strip()) or not entries)
        if starts:
            entries.append([line.strip()])
        else:
            entries[-1].append(line.strip())
    out = []
    for entry in entries:
        head, text = entry[0], " ".join(entry[1:])
        if " : " in head:
            name, rest = head.split(" : ", 1)
            text = f"{rest} {text}".strip()
        elif _NAME_ONLY.match(head):
            name = head
        else:
            name, text = "", f"{head} {text}".strip()
        if name and "`" not in name:
            name = f"``{name.strip()}``"
        out.append(f"* {name} -- {text}" if name and text else f"* {name or text}")
    return out


def _listed_sections_as_bullets(app, what, name, obj, options, lines) -> None:
    headers = _section_headers(lines)
    if not any(lines[i].strip() in _LISTED_SECTIONS for i in headers):
        return
    bounds = headers + [len(lines)]
    new = lines[: bounds[0]]
    for start, end in zip(bounds[:-1], bounds[1:]):
        title = lines[start].strip()
        if title in _LISTED_SECTIONS:
            new += [f".. rubric:: {title}", ""] + _bullets(lines[start + 2 : end]) + [""]
        else:
            new += lines[start:end]
    lines[:] = new


# ---------------------------------------------------------------------------------------------------------
# The version on every page
# ---------------------------------------------------------------------------------------------------------
def package_version(pyproject: Path) -> str:
    """``[project] version`` of a ``pyproject.toml``."""
    text = pyproject.read_text()
    try:
        import tomllib
    except ImportError:  # Python 3.10: the one key, read by hand
        section = re.search(r"^\[project\]\s*$(.*?)(?=^\[|\Z)", text, flags=re.M | re.S)
        match = section and re.search(r'^version\s*=\s*"([^"]+)"', section.group(1), flags=re.M)
        if not match:
            raise ValueError(f"{pyproject} has no [project] version") from None
        return match.group(1)
    return tomllib.loads(text)["project"]["version"]


def _stamp_version(app, config) -> None:
    version = package_version(Path(__file__).resolve().parent.parent / "pyproject.toml")
    config.version = config.release = version
    footer = (
        f'<p class="modscale-version">modscale {version} &middot; code under the MIT licence, text under CC BY 4.0</p>'
    )
    config.html_theme_options = {
        **(config.html_theme_options or {}),
        "extra_footer": footer + str((config.html_theme_options or {}).get("extra_footer", "")),
    }


# ---------------------------------------------------------------------------------------------------------
# Cross-references to a name's documented path
# ---------------------------------------------------------------------------------------------------------
def _documented_path(target: str) -> str | None:
    """The documented path of the object at ``target`` (``modscale_lib.rule.moment_span`` ->
    ``modscale_lib.rule.moment_span``: a name that a module re-exports is documented once, at its home), or
    None when ``target`` is that path already or names nothing."""
    import importlib

    parts = target.split(".")
    for i in range(len(parts) - 1, 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:i]))
        except ImportError:
            continue
        try:
            for attr in parts[i:]:
                obj = getattr(obj, attr)
        except AttributeError:
            return None
        owner = obj if isinstance(obj, type) or callable(obj) else None
        home = public_home(owner) if owner is not None else None
        qualname = getattr(obj, "__qualname__", None)
        if home is None or not qualname:
            return None
        new = f"{home}.{qualname}"
        return new if new != target else None
    return None


def _resolve_moved(app, env, node, contnode):
    """``missing-reference``: a Python cross-reference to a name's old path resolves to its documented one."""
    target = str(node.get("reftarget", ""))
    if node.get("refdomain") != "py":
        return None
    if not target.startswith("modscale_lib") and str(node.get("py:module") or "").startswith("modscale_lib"):
        target = f"{node['py:module']}.{target}"  # a name relative to the module whose docstring links it
    if not target.startswith("modscale_lib"):
        return None
    new = _documented_path(target)
    if new is None:
        return None
    domain = env.get_domain("py")
    return domain.resolve_xref(env, node.get("refdoc", ""), app.builder, node["reftype"], new, node, contnode)


def setup(app):
    app.connect("missing-reference", _resolve_moved)
    app.connect("autodoc-process-docstring", _listed_sections_as_bullets, priority=400)  # before napoleon
    app.connect("config-inited", _drop_mathjax_from_js_files)
    app.connect("config-inited", _stamp_version)
    app.connect("html-page-context", _clean_page_assets, priority=900)
    app.add_directive("modscale-api", ModuleSections)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
