"""Resumable sweeps: the store keeps each finished cell of a long experiment, so a killed run resumes.

An experiment registered with ``sweep=True`` is called as ``func(config, cells)`` and computes through
:meth:`Cells.map`, one call per natural cell (a method, a dimension ``m``, a seed, ...)::

    outputs = cells.map([{"m": m, "seed": s} for m in cfg.m_grid for s in cfg.seeds], one_cell, desc="m, seed")

Each cell is stored atomically, as it finishes, in ``results/<experiment>/<key>.cells/<cell>.npz`` (``<cell>``:
16 hex digits of SHA-256 of the item's canonical JSON), with its item, plain values, arrays, wall time,
process CPU time (``cpu_time_s``) and the machine's load average at its start and end (``load_avg``; cells
stored before these were recorded lack them), device, date and a checksum of all of them. A later run of the same result loads the stored cells and
computes only the others; a damaged cell raises :class:`~modscale_lib.results.CorruptResultError` (it is
never silently recomputed over: delete it to recompute it). Outputs come back as stored (tuples as lists,
numpy scalars as Python numbers) whether computed now or loaded, so a resumed sweep assembles a result
identical, array for array and bit for bit, to an uninterrupted one. When every cell is there the store
saves the assembled result (its wall and CPU times the sums of the cells' plus the assembly's, its load the
cells' mean weighted by wall time) and deletes the folder.

With a deadline (``load_or_run(..., budget_s=S)``), a cell does not start when the mean cell time so far
says it would end after the deadline: :class:`BudgetExhausted` is raised, with what is done stored.

Several processes can work on one sweep at once (e.g. one per core): a process claims a cell before
computing it (``<cell>.claim``, created exclusively, holding its host and process id) and skips cells that a
live process has claimed; at the end it waits for those to be stored, and takes over a claim whose process
has died. The assembled result is the same whichever process computed which cell.
"""
from __future__ import annotations

import datetime as _dt
import io
import json
import os
import shutil
import socket
import time
from pathlib import Path
from typing import Any, Callable

import numpy as np
from tqdm.auto import tqdm

from .registry import _canonical, _plain, _sha256
from .storage import CorruptResultError, Meter, atomic_write, device_name, mean_load, split_outputs, weighted_load

__all__ = ["Cells", "BudgetExhausted", "CompletedElsewhere", "cell_hash", "CELL_FORMAT"]

CELL_FORMAT = 1
_META = "__cell__"       # the NPZ entry holding the cell's JSON record
IDENTITY = "_sweep.json"  # the folder's identity: experiment, version, key, config (names the resume command)


class BudgetExhausted(Exception):
    """A sweep stopped before its deadline with ``done`` of ``total`` cells of one map stored; rerun to resume."""

    def __init__(self, desc: str, done: int, total: int):
        super().__init__(f"{desc}: time budget spent with {done}/{total} cells stored; rerun the same command "
                         f"to resume")
        self.desc, self.done, self.total = desc, done, total


class CompletedElsewhere(Exception):
    """Another process finished the sweep (and removed its cells) while this one waited for its last cells."""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def cell_hash(item: dict) -> str:
    """The file stem of the cell ``item``: 16 hex digits of SHA-256 of its canonical JSON."""
    return _sha256(_canonical(_plain(item)))[:16]


def _array_sha(a: np.ndarray) -> str:
    return _sha256(np.ascontiguousarray(a).tobytes())


class Cells:
    """The cells of one sweep result, stored in ``folder`` (``None``: compute every cell, store none).

    Attributes filled as cells are mapped: ``count`` cells, ``total_wall_s`` (their recorded wall times,
    computed now or earlier), ``run_wall_s`` (the time spent computing cells in this process); likewise
    ``total_cpu_s`` (process CPU time, summed over the ``cpu_count`` cells that record it: cells stored by
    older code do not) and ``run_cpu_s``; ``load()`` is the cells' mean load average.
    """

    def __init__(self, folder: Path | None, *, deadline: float | None = None, progress: bool = True,
                 desc: str = "cells", identity: dict | None = None, result_path: Path | None = None):
        self.folder = None if folder is None else Path(folder)
        self.result_path = None if result_path is None else Path(result_path)  # the assembled result's file
        self.deadline, self.progress, self.desc, self.identity = deadline, progress, desc, identity
        self.count, self.total_wall_s, self.run_wall_s = 0, 0.0, 0.0
        self.cpu_count, self.total_cpu_s, self.run_cpu_s = 0, 0.0, 0.0
        self._loads: list[tuple[float | None, float]] = []   # (mean load, wall seconds) of each cell
        self._devices: list[str] = []

    def devices(self) -> str:
        """The devices that computed the cells mapped so far, joined with ``"; "`` ("" if none)."""
        return "; ".join(self._devices)

    def load(self) -> float | None:
        """The mean load average over the cells mapped so far, weighted by their wall time (None if unknown)."""
        return weighted_load(self._loads)

    def map(self, items: list[dict], compute: Callable[[dict], dict], *, desc: str | None = None) -> list[dict]:
        """``[compute(item) for item in items]``, computing only the cells not yet stored, storing each."""
        desc = desc or self.desc
        if not isinstance(items, (list, tuple)) or not all(isinstance(i, dict) for i in items):
            raise TypeError(f"items must be a list of dicts identifying cells, got {type(items).__name__}")
        stems = [cell_hash(item) for item in items]
        if len(set(stems)) != len(stems):
            raise ValueError(f"{desc}: items must be distinct (two cells would share one file)")
        outputs: list[Any] = [None] * len(items)
        todo = []
        for i, stem in enumerate(stems):
            if self.folder is not None and (self.folder / f"{stem}.npz").exists():
                outputs[i], record = self._load(self.folder / f"{stem}.npz", items[i])
                self._account(record)
            else:
                todo.append(i)
        walls: list[float] = []
        bar = tqdm(total=len(items), initial=len(items) - len(todo), desc=desc, disable=not self.progress)
        try:
            while todo:
                waiting = []
                for i in todo:
                    if self.result_path is not None and self.result_path.exists():
                        raise CompletedElsewhere(desc)
                    path = None if self.folder is None else self.folder / f"{stems[i]}.npz"
                    claimed = path is None or (not path.exists() and self._claim(stems[i]))
                    if claimed and path is not None and path.exists():   # stored just before the claim
                        self._release(stems[i])
                        claimed = False
                    if not claimed:
                        if path.exists():   # stored meanwhile by another process
                            outputs[i], record = self._load(path, items[i])
                            self._account(record)
                            bar.update(1)
                        else:
                            waiting.append(i)
                        continue
                    try:
                        if self.deadline is not None:
                            now, mean = time.monotonic(), (sum(walls) / len(walls) if walls else 0.0)
                            if now >= self.deadline or now + mean > self.deadline:
                                raise BudgetExhausted(desc, sum(o is not None for o in outputs), len(items))
                        meter = Meter()
                        out = compute(items[i])
                        measured = meter.stop()
                        walls.append(measured["wall_time_s"])
                        self.run_wall_s += measured["wall_time_s"]
                        self.run_cpu_s += measured["cpu_time_s"]
                        outputs[i], record = self._store(stems[i], items[i], out, measured, desc)
                    finally:
                        self._release(stems[i])
                    self._account(record)
                    bar.update(1)
                if waiting:
                    time.sleep(self.poll_s)
                todo = waiting
        finally:
            bar.close()
        return outputs

    poll_s = 5.0   # seconds between looks at cells another process is computing

    def _claim_path(self, stem: str) -> Path:
        return self.folder / f"{stem}.claim"

    def _claim(self, stem: str) -> bool:
        """Claim a cell for this process; False if a live process holds it (a dead one's claim is taken)."""
        if self.folder is None:
            return True
        self.folder.mkdir(exist_ok=True)
        path, me = self._claim_path(stem), f"{socket.gethostname()} {os.getpid()}"
        for _ in range(2):
            try:
                fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
            except FileExistsError:
                try:
                    host, pid = path.read_text().split()
                except (OSError, ValueError):
                    return False   # being written right now
                if host != socket.gethostname() or _alive(int(pid)):
                    return False
                path.unlink(missing_ok=True)   # its process died: take the cell over
                continue
            with os.fdopen(fd, "w") as f:
                f.write(me)
            return True
        return False

    def _release(self, stem: str) -> None:
        if self.folder is not None:
            self._claim_path(stem).unlink(missing_ok=True)

    def remove(self) -> None:
        """Delete the cells' folder (once the assembled result is stored)."""
        if self.folder is not None:
            shutil.rmtree(self.folder, ignore_errors=True)

    def _account(self, record: dict) -> None:
        self.count += 1
        self.total_wall_s += record["wall_time_s"]
        cpu = record.get("cpu_time_s")   # absent from cells stored before it was recorded
        if isinstance(cpu, (int, float)) and not isinstance(cpu, bool):
            self.cpu_count += 1
            self.total_cpu_s += cpu
        self._loads.append((mean_load(record.get("load_avg")), float(record["wall_time_s"])))
        if record["device"] not in self._devices:
            self._devices.append(record["device"])

    def _store(self, stem: str, item: dict, out: Any, measured: dict, desc: str) -> tuple[dict, dict]:
        values, arrays = split_outputs(f"{desc} cell {item}", out)
        if _META in arrays:
            raise ValueError(f"{desc}: {_META!r} is reserved; rename that output")
        record = {"format": CELL_FORMAT, "item": _plain(item), "order": list(out), "values": values,
                  "arrays": {k: {"dtype": a.dtype.str, "shape": list(a.shape), "sha256": _array_sha(a)}
                             for k, a in arrays.items()},
                  "wall_time_s": measured["wall_time_s"], "cpu_time_s": measured["cpu_time_s"],
                  "load_avg": measured["load_avg"], "device": device_name(),
                  "date": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")}
        record["checksum"] = _sha256(_canonical(record))
        if self.folder is not None:
            self.folder.mkdir(exist_ok=True)
            if self.identity is not None and not (self.folder / IDENTITY).exists():
                atomic_write(self.folder / IDENTITY, (json.dumps(self.identity, sort_keys=True) + "\n").encode())
            meta = np.frombuffer(_canonical(record).encode(), dtype=np.uint8)
            buf = io.BytesIO()
            np.savez(buf, **arrays, **{_META: meta})
            atomic_write(self.folder / f"{stem}.npz", buf.getvalue())
        plain = json.loads(_canonical(values))  # exactly what a later run will load
        return {k: plain[k] if k in plain else arrays[k] for k in record["order"]}, record

    @staticmethod
    def _load(path: Path, item: dict) -> tuple[dict, dict]:
        hint = f"Delete {path} to recompute that cell."
        try:
            with np.load(path, allow_pickle=False) as npz:
                contents = {k: npz[k] for k in npz.files}
            record = json.loads(contents.pop(_META).tobytes())
            body = {k: v for k, v in record.items() if k != "checksum"}
            if record.get("format") != CELL_FORMAT or _sha256(_canonical(body)) != record.get("checksum"):
                raise ValueError("its checksum does not match its content")
            if record["item"] != _plain(item):
                raise ValueError(f"it holds the cell {record['item']}, not {_plain(item)}")
            if sorted(contents) != sorted(record["arrays"]):
                raise ValueError(f"it holds arrays {sorted(contents)}, not {sorted(record['arrays'])}")
            for k, spec in record["arrays"].items():
                a = contents[k]
                if [a.dtype.str, list(a.shape), _array_sha(a)] != [spec["dtype"], spec["shape"], spec["sha256"]]:
                    raise ValueError(f"its array {k!r} does not match its checksum")
            out = {k: record["values"][k] if k in record["values"] else contents[k] for k in record["order"]}
        except Exception as exc:  # any failure to read a cell back (bad zip, header, JSON, checksum) is damage
            raise CorruptResultError(f"stored sweep cell {path} is damaged ({type(exc).__name__}: {exc}). "
                                     f"{hint}") from exc
        return out, record
