"""Resumable sweeps: the store keeps each finished cell of a long experiment, so a killed run resumes.

An experiment registered with ``sweep=True`` is called as ``func(config, cells)`` and computes through
:meth:`Cells.map`, one call per natural cell (a method, a dimension ``m``, a seed, ...)::

    outputs = cells.map([{"m": m, "seed": s} for m in cfg.m_grid for s in cfg.seeds], one_cell, desc="m, seed")

Each cell is stored atomically, as it finishes, in ``results/<experiment>/<key>.cells/<cell>.npz`` (``<cell>``:
16 hex digits of SHA-256 of the item's canonical JSON), with a record of: the result it belongs to (experiment,
version, key, and ``replaces``: the checksum of the stored record that the run replaces, None for a first
computation), its item, plain values, arrays (dtype, shape, SHA-256), wall time, process CPU time, the
machine's load average at its start and end, device, date, and a checksum of all of them. A later run of the
same result loads the stored cells and computes only the others. A cell that is damaged, or that belongs to
another result, version or run (copied from another folder), raises
:class:`~modscale_lib.store.CorruptResultError` naming the file: it is never used, and never silently
recomputed over. Outputs come back as stored (tuples as lists, numpy scalars as Python numbers) whether computed
now or loaded, so a resumed sweep assembles a result identical, array for array and bit for bit, to an
uninterrupted one. When every cell is there the store saves the assembled result and deletes the folder.

A forced recompute (``mode="recompute"``) binds its cells to the record it replaces: it starts from no cells
(an earlier run's folder is discarded), or from the cells of this same recompute when it was stopped and is
run again, and the old record stays readable until the new one replaces it.

Where cells run: in this process by default (Dask is not imported), or on a ``dask.distributed`` cluster when
a client is given (:func:`~modscale_lib.store.dask_client`: a ``LocalCluster`` of ``workers`` processes, or a
running scheduler).
Either way the store is the single source of truth: whichever worker computes a cell writes it (atomically,
under the cell's lock, a cell already stored is kept), and this process reads every cell back from the store
to assemble the result, so the result is the same, bit for bit, whoever computed which cell. Workers must see
the store at the same path (one machine, or a shared file system). Two processes that share one scheduler
compute each cell once (Dask runs one task per key); two independent in-process runs of one sweep stay correct
but may both compute a cell that neither had stored when it started.

With a deadline (``load_or_run(..., budget_s=S)``), a cell does not start when the mean cell time so far
says it would end after the deadline: :class:`BudgetExhausted` is raised, with what is done stored.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import io
import json
import shutil
import socket
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from tqdm.auto import tqdm

from ..core import Boolean, Check, FilePath, OrNone, Real, validated
from . import _files
from ._files import (
    CorruptResultError,
    Meter,
    StoreLocationError,
    atomic_write,
    device_name,
    load_npz,
    lock,
    mean_load,
    read_file,
    split_outputs,
    weighted_load,
)
from ._registry import canonical_json, plain, sha256

__all__ = [
    "Cells",
    "BudgetExhausted",
    "CompletedElsewhere",
    "cell_hash",
    "check_cell",
    "record_checksum",
    "CELL_FORMAT",
    "IDENTITY",
]

CELL_FORMAT = 2  # 1: cells not bound to their result (refused: delete their folder to recompute)
_META = "__cell__"  # the NPZ entry holding the cell's JSON record
IDENTITY = "_sweep.json"  # the folder's identity: experiment, version, key, config, replaces (names the resume command)
STAMP = ("experiment", "version", "key", "replaces")  # what binds a cell to its result and run


class BudgetExhausted(Exception):
    """A run stopped before its deadline with ``done`` of ``total`` cells of one map stored; rerun to resume."""

    def __init__(self, desc: str, done: int, total: int, reason: str | None = None):
        super().__init__(
            reason or f"{desc}: time budget spent with {done}/{total} cells stored; rerun the same command to resume"
        )
        self.desc, self.done, self.total = desc, done, total


class CompletedElsewhere(Exception):
    """Another process stored the result (and removed its cells) while this one was computing it."""


def cell_hash(item: dict) -> str:
    """The file stem of the cell ``item``: 16 hex digits of SHA-256 of its canonical JSON."""
    return sha256(canonical_json(plain(item)))[:16]


def _array_sha(a: np.ndarray) -> str:
    return sha256(np.ascontiguousarray(a).tobytes())


def record_checksum(json_path: Path | None) -> str | None:
    """The checksum of the record stored at ``json_path`` (None if there is none, ``"?"`` if unreadable)."""
    if json_path is None or not (json_path.exists() or json_path.is_symlink()):
        return None
    try:
        checksum = _files.parse_json(read_file(json_path, limit=_files.MAX_JSON_BYTES)).get("checksum")
    except (OSError, ValueError, AttributeError):
        return "?"
    return checksum if isinstance(checksum, str) else "?"


def _describe(stamp: dict) -> str:
    replaces = stamp.get("replaces")
    run = "a first computation" if replaces is None else f"the recompute of record {str(replaces)[:12]}"
    return f"{stamp.get('experiment')} key {stamp.get('key')} version {stamp.get('version')} ({run})"


def check_cell(path: Path, stamp: dict | None = None) -> tuple[dict, dict]:
    """Read the cell stored at ``path`` and check it: its checksum, its arrays, that its file is named after
    its item, and (given ``stamp``: experiment, version, key, replaces) that it belongs to that result and run.

    Returns ``(contents, record)``: the arrays by name and the cell's record. Raises
    :class:`~modscale_lib.store.CorruptResultError` naming the file.
    """
    hint = f"Delete {path} to recompute that cell."
    try:
        contents = load_npz(read_file(path), str(path))
        if _META not in contents:
            raise ValueError(f"it holds no {_META!r} record")
        record = _files.parse_json(contents.pop(_META).tobytes())
        if not isinstance(record, dict):
            raise ValueError("its record is not a JSON object")
        body = {k: v for k, v in record.items() if k != "checksum"}
        if record.get("format") == 1:
            hint = (
                f"Cells of format 1 were not bound to their result; delete the folder {path.parent} to recompute "
                f"the sweep."
            )
            raise ValueError("it was stored before cells recorded the result they belong to (format 1)")
        if record.get("format") != CELL_FORMAT or sha256(canonical_json(body)) != record.get("checksum"):
            raise ValueError("its checksum does not match its content")
        if stamp is not None and any(record.get(k) != stamp.get(k) for k in STAMP):
            raise ValueError(
                f"it belongs to {_describe(record)}, not to {_describe(stamp)} (copied from another folder?)"
            )
        if path.stem != cell_hash(record["item"]):
            raise ValueError(f"it holds the cell {record['item']}, which is not the one its file name stands for")
        if sorted(contents) != sorted(record["arrays"]):
            raise ValueError(f"it holds arrays {sorted(contents)}, not {sorted(record['arrays'])}")
        for k, spec in record["arrays"].items():
            a = contents[k]
            if [a.dtype.str, list(a.shape), _array_sha(a)] != [spec["dtype"], spec["shape"], spec["sha256"]]:
                raise ValueError(f"its array {k!r} does not match its checksum")
        missing = set(record["order"]) - set(record["values"]) - set(contents)
        if missing:
            raise ValueError(f"its outputs {sorted(missing)} are missing")
    except Exception as exc:  # any failure to read a cell back (bad zip, header, JSON, checksum) is damage
        raise CorruptResultError(
            f"stored sweep cell {path} is damaged or foreign ({type(exc).__name__}: {exc}). {hint}"
        ) from exc
    return contents, record


def _cell_task(
    compute: Callable[[dict], dict],
    item: dict,
    stem: str,
    folder: str,
    stamp: dict,
    identity: dict | None,
    result_path: str | None,
    desc: str,
) -> dict:
    """Compute one cell and store it (run on a Dask worker): ``{"status": "computed" | "stored" | "completed"}``."""
    cells = Cells(
        Path(folder),
        identity=identity,
        desc=desc,
        progress=False,
        result_path=None if result_path is None else Path(result_path),
    )
    cells.stamp = stamp
    if (cells.folder / f"{stem}.npz").exists():
        return {"status": "stored"}
    if cells._completed():
        return {"status": "completed"}
    if not cells.folder.parent.is_dir():
        raise StoreLocationError(
            f"the store's folder {cells.folder.parent} is not visible on the Dask worker "
            f"{socket.gethostname()}: workers must see the store at the same path (run them on "
            f"this machine, or put the store on a file system they share)"
        )
    meter = Meter()
    out = compute(item)
    measured = meter.stop()
    cells._store(stem, item, out, measured, desc)
    return {"status": "computed"}


def _description(value: Any, name: str, arguments: dict) -> str:
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a string (the progress bar's label), got {type(value).__name__}")
    return value


def _mapping(value: Any, name: str, arguments: dict) -> dict:
    if not isinstance(value, dict):
        raise TypeError(
            f"{name} must be a dict (experiment, version, key, config, replaces), got {type(value).__name__}"
        )
    return value


class Cells:
    """The cells of one sweep result, stored in ``folder`` (``None``: compute every cell, store none).

    ``identity`` (experiment, version, key, config, replaces) binds the cells to their result and run;
    ``client`` is a ``distributed.Client`` to compute cells on (None: in this process); ``result_path`` is
    the assembled result's file (to notice that another process stored it).

    Attributes filled as cells are mapped: ``count`` cells, ``total_wall_s`` (their recorded wall times,
    computed now or earlier), ``run_wall_s`` (the time this process spent computing cells, or waiting for
    workers to); likewise ``total_cpu_s`` (process CPU time, summed over the ``cpu_count`` cells that record
    it) and ``run_cpu_s``; ``load()`` is the cells' mean load average.
    """

    @validated(
        folder=OrNone(FilePath()),
        deadline=OrNone(Real()),
        progress=Boolean(),
        desc=Check(_description),
        identity=OrNone(Check(_mapping)),
        result_path=OrNone(FilePath()),
    )
    def __init__(
        self,
        folder: Path | None,
        *,
        deadline: float | None = None,
        progress: bool = True,
        desc: str = "cells",
        identity: dict | None = None,
        result_path: Path | None = None,
        client: Any = None,
    ):
        self.folder = None if folder is None else Path(folder)
        self.result_path = None if result_path is None else Path(result_path)
        self.deadline, self.progress, self.desc, self.identity = deadline, progress, desc, identity
        self.client = client
        self.stamp = {k: (identity or {}).get(k) for k in STAMP}
        self.count, self.total_wall_s, self.run_wall_s = 0, 0.0, 0.0
        self.cpu_count, self.total_cpu_s, self.run_cpu_s = 0, 0.0, 0.0
        self._loads: list[tuple[float | None, float]] = []  # (mean load, wall seconds) of each cell
        self._devices: list[str] = []

    def devices(self) -> str:
        """The devices that computed the cells mapped so far, joined with ``"; "`` ("" if none)."""
        return "; ".join(self._devices)

    def load(self) -> float | None:
        """The mean load average over the cells mapped so far, weighted by their wall time (None if unknown)."""
        return weighted_load(self._loads)

    # The run ------------------------------------------------------------------------------------------------
    def discard_stale(self) -> int:
        """Delete the folder if it holds the cells of another run of this result (an earlier computation, or a
        recompute of a record no longer stored); return how many cells it held. Cells whose folder cannot be
        identified are left for :meth:`map` to report."""
        if self.folder is None or not self.folder.is_dir() or self.identity is None:
            return 0
        try:
            ident = _files.parse_json(read_file(self.folder / IDENTITY, limit=_files.MAX_JSON_BYTES))
        except (OSError, ValueError):
            return 0
        if not isinstance(ident, dict) or ident.get("key") != self.stamp["key"]:
            return 0
        if ident.get("replaces") == self.stamp["replaces"] and ident.get("version") == self.stamp["version"]:
            return 0
        n = len(list(self.folder.glob("*.npz")))
        shutil.rmtree(self.folder, ignore_errors=True)
        return n

    def _completed(self) -> bool:
        """Whether the result was stored (or replaced) by another process since this run started."""
        return self.result_path is not None and record_checksum(self.result_path) != self.stamp["replaces"]

    def map(self, items: list[dict], compute: Callable[[dict], dict], *, desc: str | None = None) -> list[dict]:
        """``[compute(item) for item in items]``, computing only the cells not yet stored, storing each."""
        desc = desc or self.desc
        if not callable(compute):
            raise TypeError(f"compute must be a function of one cell's item, got {type(compute).__name__}")
        if not isinstance(items, (list, tuple)) or not all(isinstance(i, dict) for i in items):
            raise TypeError(f"items must be a list of dicts identifying cells, got {type(items).__name__}")
        stems = [cell_hash(item) for item in items]
        if len(set(stems)) != len(stems):
            raise ValueError(f"{desc}: items must be distinct (two cells would share one file)")
        outputs: list[Any] = [None] * len(items)
        todo = []
        for i, stem in enumerate(stems):
            path = None if self.folder is None else self.folder / f"{stem}.npz"
            if path is not None and (path.exists() or path.is_symlink()):
                outputs[i], record = self._load(path, items[i])
                self._account(record)
            else:
                todo.append(i)
        bar = tqdm(total=len(items), initial=len(items) - len(todo), desc=desc, disable=not self.progress)
        try:
            if todo and self.client is not None and self.folder is not None:
                self._map_dask(items, stems, todo, outputs, compute, desc, bar)
            else:
                self._map_here(items, stems, todo, outputs, compute, desc, bar)
        except BaseException:
            self._tidy()
            raise
        finally:
            bar.close()
        return outputs

    def _check_deadline(self, walls: list[float], desc: str, done: int, total: int) -> None:
        if self.deadline is not None:
            now, mean = time.monotonic(), (sum(walls) / len(walls) if walls else 0.0)
            if now >= self.deadline or now + mean > self.deadline:
                raise BudgetExhausted(desc, done, total)

    def _map_here(self, items, stems, todo, outputs, compute, desc, bar) -> None:
        walls: list[float] = []
        for i in todo:
            path = None if self.folder is None else self.folder / f"{stems[i]}.npz"
            if path is not None:
                if self._completed():
                    raise CompletedElsewhere(desc)
                if path.exists():  # stored meanwhile by another process
                    outputs[i], record = self._load(path, items[i])
                    self._account(record)
                    bar.update(1)
                    continue
            self._check_deadline(walls, desc, sum(o is not None for o in outputs), len(items))
            meter = Meter()
            out = compute(items[i])
            measured = meter.stop()
            walls.append(measured["wall_time_s"])
            self.run_wall_s += measured["wall_time_s"]
            self.run_cpu_s += measured["cpu_time_s"]
            outputs[i], record = self._store(stems[i], items[i], out, measured, desc)
            self._account(record)
            bar.update(1)

    def _take_finished(self, future, i: int, items, stems, outputs, walls: list, desc) -> None:
        """Load cell ``i``, which a Dask worker stored as ``future`` finished, into ``outputs``."""
        status = future.result()["status"]  # a worker's exception is raised here
        if status == "completed":
            raise CompletedElsewhere(desc)
        path = self.folder / f"{stems[i]}.npz"
        if not path.exists():
            raise StoreLocationError(
                f"a Dask worker stored the cell {path}, which this process cannot see: "
                f"workers must see the store at the same path (a shared file system)"
            )
        outputs[i], record = self._load(path, items[i])
        self._account(record)
        walls.append(float(record["wall_time_s"]))

    def _map_dask(self, items, stems, todo, outputs, compute, desc, bar) -> None:
        from distributed import as_completed

        client, meter = self.client, Meter()
        window = len(todo) if self.deadline is None else max(1, sum(client.nthreads().values()))
        run = "new" if self.stamp["replaces"] is None else str(self.stamp["replaces"])[:12]
        compute_f = client.scatter(compute, broadcast=True, hash=False)  # sent to each worker once, not per cell
        queue, running, walls = list(todo), {}, []
        finished = as_completed()
        result_path = None if self.result_path is None else str(self.result_path)

        def submit() -> None:
            while queue and len(running) < window:
                self._check_deadline(walls, desc, sum(o is not None for o in outputs) + len(running), len(items))
                i = queue.pop(0)
                # the key names the cell of this run: clients sharing a scheduler compute it once
                future = client.submit(
                    _cell_task,
                    compute_f,
                    items[i],
                    stems[i],
                    str(self.folder),
                    self.stamp,
                    self.identity,
                    result_path,
                    desc,
                    pure=False,
                    key=f"modscale-cell-{self.stamp['key']}-{run}-{stems[i]}",
                )
                running[future] = i
                finished.add(future)

        stopped: BudgetExhausted | None = None
        try:
            try:
                submit()
            except BudgetExhausted as exc:
                stopped = exc
            for future in finished:
                self._take_finished(future, running.pop(future), items, stems, outputs, walls, desc)
                bar.update(1)
                if stopped is None:
                    try:
                        submit()
                    except BudgetExhausted as exc:
                        stopped = exc
            if stopped is not None:
                raise BudgetExhausted(desc, sum(o is not None for o in outputs), len(items))
        finally:
            if running:
                client.cancel(list(running))
            measured = meter.stop()
            self.run_wall_s += measured["wall_time_s"]
            self.run_cpu_s += measured["cpu_time_s"]

    # Files ---------------------------------------------------------------------------------------------------
    def remove(self) -> None:
        """Delete the cells' folder (once the assembled result is stored)."""
        if self.folder is not None:
            with self._folder_lock():  # not while a run beside this one stores a cell in it
                shutil.rmtree(self.folder, ignore_errors=True)

    def _tidy(self) -> None:
        """After a failed or stopped run: remove the folder if no cell was stored in it (no empty folder is left
        for ``verify`` to report as a run in progress)."""
        if self.folder is None or not self.folder.is_dir() or any(self.folder.glob("*.npz")):
            return
        with contextlib.suppress(OSError):
            (self.folder / IDENTITY).unlink(missing_ok=True)
            for tmp in self.folder.glob(".*.tmp"):
                tmp.unlink(missing_ok=True)
            self.folder.rmdir()

    def _account(self, record: dict) -> None:
        self.count += 1
        self.total_wall_s += record["wall_time_s"]
        cpu = record.get("cpu_time_s")
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
        record = {
            "format": CELL_FORMAT,
            **self.stamp,
            "item": plain(item),
            "order": list(out),
            "values": values,
            "arrays": {
                k: {"dtype": a.dtype.str, "shape": list(a.shape), "sha256": _array_sha(a)} for k, a in arrays.items()
            },
            "wall_time_s": measured["wall_time_s"],
            "cpu_time_s": measured["cpu_time_s"],
            "load_avg": measured["load_avg"],
            "device": device_name(),
            "date": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        }
        record["checksum"] = sha256(canonical_json(record))
        loaded = json.loads(canonical_json(values))  # exactly what a later run will load
        if self.folder is None:
            return {k: loaded[k] if k in loaded else arrays[k] for k in record["order"]}, record
        meta = np.frombuffer(canonical_json(record).encode(), dtype=np.uint8)
        buf = io.BytesIO()
        np.savez(buf, **arrays, **{_META: meta})
        blob = buf.getvalue()
        if len(blob) > _files.MAX_FILE_BYTES:
            raise ValueError(
                f"{desc} cell {item}: its outputs take {len(blob)} bytes, more than the "
                f"{_files.MAX_FILE_BYTES} a stored file may hold; store less per cell"
            )
        path = self.folder / f"{stem}.npz"
        # Under the folder's lock, which remove() takes too: a run that assembles and stores the result removes
        # the folder, and a run of the same sweep beside it must not write into a folder being removed (nor
        # make it again): it finds the result stored and stops (CompletedElsewhere), its cell not needed.
        with self._folder_lock():
            if self._completed():
                raise CompletedElsewhere(desc)
            self.folder.mkdir(exist_ok=True)
            with lock(self.folder, stem):
                if self.identity is not None and not (self.folder / IDENTITY).exists():
                    atomic_write(self.folder / IDENTITY, (json.dumps(self.identity, sort_keys=True) + "\n").encode())
                if path.exists():  # another worker stored it first: keep that one (the same cell, bit for bit)
                    return self._load(path, item)
                atomic_write(path, blob)
        return {k: loaded[k] if k in loaded else arrays[k] for k in record["order"]}, record

    def _folder_lock(self):
        """The lock of the cells' folder as a whole, among processes (a lock file beside the folder)."""
        return lock(self.folder.parent, self.folder.name)

    def _load(self, path: Path, item: dict) -> tuple[dict, dict]:
        contents, record = check_cell(path, self.stamp)
        if record["item"] != plain(item):
            raise CorruptResultError(
                f"stored sweep cell {path} is damaged or foreign (it holds the cell "
                f"{record['item']}, not {plain(item)}). Delete {path} to recompute that cell."
            )
        out = {k: record["values"][k] if k in record["values"] else contents[k] for k in record["order"]}
        return out, record
