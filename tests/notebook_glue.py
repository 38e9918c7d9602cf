"""The values a committed notebook glues, compared as nbval compares them: after the patterns of
``tests/nbval_sanitize.cfg``, which keep a float's repr to 10 significant digits (its last digits differ between
CPUs and math libraries). A read-out's test asserts that it computes what the notebook glued with
:func:`assert_glued`, so that it passes on another CPU as the notebook pass does."""

from __future__ import annotations

import json
import re
from pathlib import Path

from IPython.core.formatters import PlainTextFormatter

SANITIZE = Path(__file__).resolve().parent / "nbval_sanitize.cfg"
RECORD = "application/papermill.record/text/plain"


def sanitised(text: str) -> str:
    """What nbval compares: ``text`` with every pattern of the sanitiser applied in order."""
    from nbval.plugin import get_sanitize_patterns

    for regex, replace in get_sanitize_patterns(SANITIZE.read_text()):
        text = re.sub(regex, replace, text)
    return text


def glued(notebook: Path) -> dict[str, str]:
    """``name -> text/plain`` of every value the committed ``notebook`` glues."""
    out = {}
    for cell in json.loads(Path(notebook).read_text())["cells"]:
        for output in cell.get("outputs", []):
            record = output.get("data", {}).get(RECORD)
            if record is not None:
                out[output["metadata"]["scrapbook"]["name"]] = record
    return out


def assert_glued(notebook: Path, values: dict) -> None:
    """``values`` (name -> value, as a read-out's ``conclusions`` returns them) are what ``notebook`` glued:
    the same names, and each value's text as IPython shows it, both sanitised as nbval sanitises them."""
    fmt, committed = PlainTextFormatter(), glued(notebook)
    assert committed and set(values) == set(committed), sorted(set(values) ^ set(committed))
    assert {k: sanitised(fmt(v)) for k, v in values.items()} == {k: sanitised(t) for k, t in committed.items()}
