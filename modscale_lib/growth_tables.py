"""The read-outs of :mod:`modscale_lib.growth` as columns for :func:`modscale_lib.present.table` and as short
phrases for a chapter's prose (:doc:`/book/sample_complexity`): one number format per column, the verdict in
a word beside its interval, so that no verdict needs to be printed as a sentence."""

import numpy as np

from . import core

__all__ = ["growth_reading", "growth_text", "growth_table", "comparison_table", "growth_phrase", "level_phrase"]

#: A comparison's ``growth`` (:func:`modscale_lib.growth.comparison`) as a table cell.
GROWTH_WORDS = {
    "never": "target never reached",
    "first": "reached at the first n",
    "slower": "slower",
    "faster": "faster",
    "unordered": "not ordered (censored)",
    "alike": "alike",
}
#: A comparison's ``level_word`` as a table cell.
LEVEL_WORDS = {
    "fewer": "fewer",
    "more": "more",
    "neither way": "a bound that orders neither",
    "same": "alike",
    "neither": "neither reaches the target",
    "both": "both at the first n",
}


_BOUNDS = ("", "lower", "upper", "mixed", "all")


def _mapping(value, name: str) -> None:
    if not hasattr(value, "get") or not hasattr(value, "keys"):
        raise TypeError(f"{name} must be a dict, got {type(value).__name__}")


def _row(row, name: str, arguments: dict | None = None):
    """A :func:`modscale_lib.growth.growth_rows` row: a dict whose ``bound`` (if any) is one of ``_BOUNDS`` and
    which, where it has a growth, holds its ``estimate``, ``low`` and ``high`` as numbers."""
    _mapping(row, name)
    if row.get("bound", "") not in _BOUNDS:
        raise ValueError(f"{name}['bound'] must be one of {_BOUNDS}, got {row.get('bound')!r}")
    if not _none(row):
        for key in ("estimate", "low", "high"):
            if key not in row:
                raise ValueError(f"{name} must hold {key!r} (a growth_rows row), got the keys {sorted(row)}")
            core.array(row[key], f"{name}[{key!r}]", ndim=0, finite=False)
    return row


def _rows(rows, name: str, arguments: dict) -> list:
    if isinstance(rows, (str, bytes)) or not isinstance(rows, (list, tuple)):
        raise TypeError(f"{name} must be a list of growth_rows rows, got {type(rows).__name__}")
    for i, row in enumerate(rows):
        _row(row, f"{name}[{i}]")
        if "method" not in row:
            raise ValueError(f"{name}[{i}] must hold 'method', got the keys {sorted(row)}")
    return rows


_COMPARISON_KEYS = ("method", "against", "m", "ratio_text", "growth", "level", "level_bound", "level_word")


def _verdicts(c, name: str, keys) -> None:
    """``c`` a dict holding ``keys``, its verdicts (``growth``, ``level_word``) among the words of this module."""
    _mapping(c, name)
    missing = [k for k in keys if k not in c]
    if missing:
        raise ValueError(f"{name} must be a growth.comparison dict; it lacks {missing}")
    for key, words in (("growth", GROWTH_WORDS), ("level_word", LEVEL_WORDS)):
        if key in keys and c[key] not in words:
            raise ValueError(f"{name}[{key!r}] must be one of {tuple(words)}, got {c[key]!r}")


def _comparison(c, name: str, arguments: dict | None = None):
    """A :func:`modscale_lib.growth.comparison` dict, its verdicts among the words of this module."""
    _verdicts(c, name, _COMPARISON_KEYS)
    if c["level"] is not None:
        core.array(c["level"], f"{name}['level']", shape=(3,), finite=False)
    return c


def _comparisons(comparisons, name: str, arguments: dict) -> list:
    if isinstance(comparisons, (str, bytes)) or not isinstance(comparisons, (list, tuple)) or not comparisons:
        raise TypeError(f"{name} must be a non-empty list of growth.comparison dicts, got {comparisons!r}"[:300])
    return [_comparison(c, f"{name}[{i}]") for i, c in enumerate(comparisons)]


def _first(first, name: str, arguments: dict):
    if first is not None and any(first not in c for c in arguments["comparisons"]):
        raise ValueError(f"{name} must be None or a key of every comparison, got {first!r}")
    return first


def _text(value, name: str, arguments: dict) -> str:
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a string, got {type(value).__name__}")
    return value


def _none(row: dict) -> bool:
    return bool(row.get("never") or row.get("always") or row.get("bound") == "all")


@core.validated(row=core.Check(_row))
def growth_reading(row: dict) -> str:
    """What a :func:`modscale_lib.growth.growth_rows` row's growth is, in words: ``"measured"``, ``"a lower
    bound"``, ``"an upper bound"``, ``"no bound (censored medians)"``, or why there is none."""
    if row.get("never"):
        return "target reached at no m"
    if _none(row):
        return "reached at the first n at every m"
    return {"lower": "a lower bound", "upper": "an upper bound", "mixed": "no bound (censored medians)"}.get(
        row.get("bound", ""), "measured"
    )


@core.validated(rows=core.Check(_rows), name=core.Check(_text), flat=core.Boolean())
def growth_table(rows: list[dict], name: str = "method", flat: bool = True) -> dict:
    """Columns of :func:`modscale_lib.growth.growth_rows`: the method (header ``name``), its growth per added
    dimension (a float, NaN where there is none), the 95% interval, what censoring makes of the growth
    (:func:`growth_reading`) and, if ``flat``, whether it is flat in m (nothing censored, the interval
    contains 1)."""
    cols = {
        name: [r["method"] for r in rows],
        "growth per dimension": [np.nan if _none(r) else float(r["estimate"]) for r in rows],
        "95% interval": ["" if _none(r) else f"[{r['low']:.3f}, {r['high']:.3f}]" for r in rows],
        "what it is": [growth_reading(r) for r in rows],
    }
    if flat:
        cols["flat in $m$"] = [bool(r.get("flat")) for r in rows]
    return cols


def _level_cell(c: dict) -> str:
    if c["level"] is None:
        return ""
    mean, low, high = c["level"]
    said = f"{c['level_bound']} " if c["level_bound"] else ""
    return f"{said}{mean:.2f} [{low:.2f}, {high:.2f}]"


@core.validated(comparisons=core.Check(_comparisons), first=core.Check(_first))
def comparison_table(comparisons: list[dict], first: str | None = None) -> dict:
    """Columns of :func:`modscale_lib.growth.comparison` dicts: (the key ``first`` of each, if given,) the
    method, the one it is set against (left out where it is the same in every row: say it in the caption),
    the ratio of their growths with its 95% interval, its verdict, the
    samples at the largest m as a multiple of the other's with its interval (``at least``/``at most`` where
    censoring bounds it) and that verdict."""
    m = {c["m"] for c in comparisons}
    top = f"$m = {m.pop()}$" if len(m) == 1 else "the largest $m$"
    cols = {first: [c[first] for c in comparisons]} if first else {}
    cols["method"] = [c["method"] for c in comparisons]
    if len({c["against"] for c in comparisons}) > 1:
        cols["against"] = [c["against"] for c in comparisons]
    cols.update(
        {
            "ratio of growths [95% CI]": [c["ratio_text"] for c in comparisons],
            "growth": [GROWTH_WORDS[c["growth"]] for c in comparisons],
            f"samples at {top}, as a multiple [95% CI]": [_level_cell(c) for c in comparisons],
            "samples": [LEVEL_WORDS[c["level_word"]] for c in comparisons],
        }
    )
    return cols


@core.validated(c=core.Check(lambda c, name, a: _verdicts(c, name, ("growth",)) or c))
def growth_phrase(c: dict) -> str:
    """A comparison's growth as the verb of a sentence about its method: ``"grows faster than"`` the other,
    ``"grows more slowly than"``, ``"grows like"``, ``"is not ordered (its ratio rests on censored medians)
    against"``; or, where the method has no growth, what it does instead, ending in ``"unlike"``."""
    return {
        "never": "never reaches the target on the grid, unlike",
        "first": "reaches the target at the grid's first n at every m, unlike",
        "slower": "grows more slowly than",
        "faster": "grows faster than",
        "unordered": "is not ordered (the ratio rests on censored medians) against",
        "alike": "grows, within the interval, like",
    }[c["growth"]]


@core.validated(c=core.Check(lambda c, name, a: _verdicts(c, name, ("level_word",)) or c))
def level_phrase(c: dict) -> str:
    """A comparison's level at the largest m, to end the sentence "at the largest m it needs ... the other":
    ``"fewer samples than"``, ``"more samples than"``, ``"a number of samples not distinguishable from that
    of"``, ``"a bounded number of samples that orders it neither way against"``, or, where both medians are
    censored at one end, ``"more samples than the grid holds, as does"`` or ``"no more than the grid's first n
    samples, as does"``."""
    return {
        "fewer": "fewer samples than",
        "more": "more samples than",
        "same": "a number of samples not distinguishable from that of",
        "neither way": "a bounded number of samples that orders it neither way against",
        "neither": "more samples than the grid holds, as does",
        "both": "no more than the grid's first n samples, as does",
    }[c["level_word"]]


@core.validated(row=core.Check(_row))
def growth_text(row: dict) -> str:
    """A :func:`modscale_lib.growth.growth_rows` row's growth for a table cell of text: ``"1.056 [1.047,
    1.063]"``, with ``≥`` before a lower bound and ``≤`` before an upper one, ``(no bound)`` after a growth
    resting on medians censored at both ends, or why there is none (:func:`growth_reading`)."""
    if _none(row):
        return growth_reading(row)
    sign = {"lower": "≥ ", "upper": "≤ "}.get(row.get("bound", ""), "")
    note = " (no bound)" if row.get("bound") == "mixed" else ""
    return f"{sign}{row['estimate']:.3f} [{row['low']:.3f}, {row['high']:.3f}]{note}"
