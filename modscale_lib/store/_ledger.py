"""The compute ledger: what each stored result cost (wall time, process CPU time, the machine's load), per
result, per chapter and in all (``python -m modscale_lib budget``)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from ..core import FilePath, OrNone, validated
from ._files import CorruptResultError, weighted_load
from ._records import read, stored_results
from ._registry import REGISTRY

__all__ = ["ledger", "ledger_totals"]


def _number(value: Any) -> float | None:
    """A finite, non-negative metadata number as a float; None when absent (older results) or malformed."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
        return None
    return float(value)


@validated(root=OrNone(FilePath()))
def ledger(root: Path | str | None = None) -> list[dict]:
    """The compute ledger: one row per stored result, in :func:`~modscale_lib.store.stored_results` order.

    Each row: ``experiment``, ``key``, ``file`` (relative to the store), ``config`` (the named config it
    equals, or None), ``chapter`` (of the registered experiment, or None), ``wall_time_s``, ``cpu_time_s``
    (the process CPU time, or None for results stored before it was recorded), ``load_avg`` (the machine's
    mean load average while it ran, or None), ``device``, ``date`` and ``status`` (``"ok"``,
    ``"unregistered"`` or ``"corrupt: ..."``, when the other fields are None). Only experiments already
    registered (e.g. by importing :mod:`modscale_lib.experiments`) are known.
    """
    rows = []
    for path in stored_results(root):
        row = {
            "experiment": path.parent.name,
            "key": path.stem,
            "file": f"{path.parent.name}/{path.name}",
            "config": None,
            "chapter": None,
            "wall_time_s": None,
            "cpu_time_s": None,
            "load_avg": None,
            "device": None,
            "date": None,
        }
        try:
            res = read(path)
        except CorruptResultError as exc:
            rows.append(dict(row, status=f"corrupt: {exc}"))
            continue
        exp = REGISTRY.get(res.experiment)
        row.update(
            wall_time_s=float(res.metadata["wall_time_s"]),
            cpu_time_s=_number(res.metadata.get("cpu_time_s")),
            load_avg=_number(res.metadata.get("load_avg")),
            device=str(res.metadata.get("device")),
            date=str(res.metadata.get("date")),
            status="ok" if exp else "unregistered",
        )
        if exp is not None:
            row.update(chapter=exp.chapter, config=exp.config_name(res.config))
        rows.append(row)
    return rows


def _check_rows(rows: Any, name: str, arguments: dict | None = None) -> list[dict]:
    if isinstance(rows, (str, bytes, dict)) or not hasattr(rows, "__iter__"):
        raise TypeError(f"{name} must be a list of ledger rows (dicts), got {type(rows).__name__}")
    rows = list(rows)
    for i, row in enumerate(rows):
        if not isinstance(row, dict) or not {"wall_time_s", "cpu_time_s", "load_avg"} <= set(row):
            raise TypeError(f"{name}[{i}] must be a ledger row (a dict with wall_time_s, cpu_time_s, load_avg)")
        for field in ("wall_time_s", "cpu_time_s", "load_avg"):
            value = row[field]
            if value is not None and _number(value) is None:
                raise ValueError(f"{name}[{i}][{field!r}] must be a finite number >= 0 or None, got {value!r}")
        if row["wall_time_s"] is None:
            raise ValueError(f"{name}[{i}] has no wall time (a damaged result); leave it out of the totals")
    return rows


@validated(rows=_check_rows)
def ledger_totals(rows) -> dict:
    """Totals of ledger rows (those with a wall time): ``results`` (how many), ``minutes`` (wall), ``cpu_results``
    and ``cpu_minutes`` (CPU, over the rows that record it) and ``load_avg`` (the mean load, weighted by wall
    time; None if no row records it)."""
    cpu = [r["cpu_time_s"] for r in rows if r["cpu_time_s"] is not None]
    return {
        "results": len(rows),
        "minutes": sum(r["wall_time_s"] for r in rows) / 60,
        "cpu_results": len(cpu),
        "cpu_minutes": sum(cpu) / 60,
        "load_avg": weighted_load((r["load_avg"], r["wall_time_s"]) for r in rows),
    }
