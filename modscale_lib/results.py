"""The results store: heavy experiments computed once, kept as small JSON/NPZ files keyed by their config.

A result is identified by a key, 16 hex digits of SHA-256 of (experiment name, version, canonical config).
On disk, in ``results/<experiment>/``:

``<key>.json``
    The record, and the commit point: experiment, version, key, config, scalar ``values``, the names of its
    ``arrays``, the file name and SHA-256 of its NPZ, ``metadata`` (versions, device, wall time, date; since
    issue 13 also the process CPU time ``cpu_time_s`` and the machine's mean load average ``load_avg``, which
    older records lack) and a
    ``checksum``: SHA-256 of the canonical JSON of everything else, so an edit anywhere in the record (a
    value, the config, the metadata, the NPZ's checksum) is caught.
``<key>.<sha12>.npz``
    Its arrays (never pickled), named by the first 12 hex digits of their SHA-256.

A write puts the new NPZ beside the old one under its own name, atomically replaces the JSON (the commit),
then deletes the old NPZ, all under a per-key lock, so a process killed at any step leaves the old result or
the new one, never neither, and two concurrent writers of one key do not mix their files. Files are written
with mode 0644, and read only if they are regular files of bounded size (:func:`modscale_lib.storage.read_file`).
A sweep (``sweep=True``) stores each finished cell in ``<key>.cells/`` (see :mod:`modscale_lib.cells`), so a
killed or budgeted run resumes where it stopped.

The store is a folder holding the marker file ``.modscale-store`` (:func:`modscale_lib.storage.check_store`);
any other folder is refused, except an empty one named explicitly as the store of a computation, which
becomes a new store.

What :func:`load_or_run` does is set by ``MODSCALE_RESULTS``: ``read`` (default: load, and raise
:class:`MissingResultError` naming the command that computes an absent result; nothing long runs by
surprise), ``missing`` (compute what is absent) or ``recompute`` (compute every cell again and replace the
stored record once the new one is complete; a recompute that is stopped leaves the old record readable, and
resumes from its own cells only). A damaged record raises :class:`CorruptResultError` in every mode and is
never overwritten.

The checksums detect accidents (a truncated or edited file, a file moved to the wrong key or folder), not
tampering: anyone can recompute a SHA-256. The git history of ``results/`` and recomputation protect the
store against deliberate edits (the book's *Reproducibility* appendix says more).

Experiments, configs and keys are defined in :mod:`modscale_lib.registry` (re-exported here). This module
imports only numpy and the standard library; the command line is ``python -m modscale_lib``.
"""
from __future__ import annotations

import dataclasses
import datetime as _dt
import io
import json
import math
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from . import validation
from . import storage
from .storage import (CorruptResultError, MissingResultError, StoreLocationError, Meter, atomic_write,  # noqa: F401
                      check_store, check_writable, device_name, init_store, load_npz, lock, mean_load, npz_bytes,
                      package_version, read_file, split_outputs)
from .registry import (REGISTRY, Experiment, _canonical, _plain, _sha256,  # noqa: F401
                       canonical_config, experiment, result_key)

__all__ = ["Experiment", "Result", "experiment", "load_or_run", "read", "save", "result_key", "canonical_config",
           "results_dir", "get_mode", "stored_results", "ledger", "init_store", "MissingResultError",
           "CorruptResultError", "StoreLocationError", "REGISTRY", "MODES", "FORMAT"]

MODES = ("read", "missing", "recompute")
FORMAT = 2          # of the JSON record; tools/migrate_store.py converted format 1 (checksum of the NPZ only)


@dataclasses.dataclass
class Result:
    """A stored result: ``values`` from the JSON, ``arrays`` from the NPZ, provenance in ``metadata``.

    ``res["name"]`` looks in ``values`` then ``arrays``; :attr:`location` is its file, relative to the store.
    """

    experiment: str
    version: int
    key: str
    config: dict
    values: dict
    arrays: dict
    metadata: dict
    files: tuple[str, ...] = ()  # its file names in its experiment's folder: the JSON, then the NPZ if any
    checksum: str = ""           # the record's checksum (a recompute's cells are bound to the record they replace)

    @property
    def location(self) -> str:
        return f"results/{self.experiment}/{self.key}.json"

    def __getitem__(self, name: str) -> Any:
        if name in self.values:
            return self.values[name]
        if name in self.arrays:
            return self.arrays[name]
        raise KeyError(f"result {self.experiment}/{self.key} has no entry {name!r}; it has "
                       f"{sorted(self.values) + sorted(self.arrays)}")

    def provenance(self) -> str:
        """One line naming this result's file and saying where and when it was computed, for the book."""
        m = self.metadata
        wall = m.get("wall_time_s")
        wall = f"{wall:.3g} s" if isinstance(wall, (int, float)) and not isinstance(wall, bool) else f"{wall!r} s"
        return (f"{self.experiment} {self.key} ({self.location}): computed on {m.get('device', '?')} in {wall} "
                f"on {str(m.get('date', '?'))[:10]} (modscale {m.get('modscale_version', '?')}, "
                f"torch {m.get('torch_version', '?')})")


# Files ----------------------------------------------------------------------------------------------------
def results_dir() -> Path:
    """Where results live: ``$MODSCALE_RESULTS_DIR`` if set, else the ``results/`` folder of the checkout."""
    env = os.environ.get("MODSCALE_RESULTS_DIR")
    return Path(env) if env else Path(__file__).resolve().parent.parent / "results"


def _root(root: Path | str | None, *, create_if_empty: bool = False) -> Path:
    """The store's folder (checked to be a store, see :func:`modscale_lib.storage.check_store`)."""
    return check_store(results_dir() if root is None else Path(root), create_if_empty=create_if_empty)


def _folder(root: Path, name: str) -> Path:
    """The folder of experiment ``name`` in the store: a direct child of it, whatever the name."""
    if not isinstance(name, str) or not name.isidentifier():
        raise ValueError(f"experiment name {name!r} is not a Python identifier, so it names no folder of the store")
    return root / name


def get_mode() -> str:
    """The store's mode from ``MODSCALE_RESULTS``: ``read`` (default), ``missing`` or ``recompute``."""
    mode = os.environ.get("MODSCALE_RESULTS", "read").strip().lower() or "read"
    if mode not in MODES:
        raise ValueError(f"MODSCALE_RESULTS must be one of {', '.join(MODES)}; got {mode!r}")
    return mode


_ANY = object()


def _write_record(folder: Path, record: dict, blob: bytes | None, *, expect: Any = _ANY) -> dict | None:
    """Seal ``record`` (NPZ name, checksums) and commit it with ``blob``; return the sealed record.

    With ``expect`` (the checksum of the record this one replaces, None for none), nothing is written, and
    None is returned, when the stored record is no longer that one (another process stored the result).
    """
    key = record["key"]
    record = dict(record, format=FORMAT, npz=None, npz_sha256=None)
    record.pop("checksum", None)
    if blob is not None:
        record["npz_sha256"] = _sha256(blob)
        record["npz"] = f"{key}.{record['npz_sha256'][:12]}.npz"
    record["checksum"] = _sha256(_canonical(record))
    text = (json.dumps(record, indent=1, sort_keys=True, allow_nan=True) + "\n").encode()
    for what, size, limit in (("record", len(text), storage.MAX_JSON_BYTES),
                              ("arrays", 0 if blob is None else len(blob), storage.MAX_FILE_BYTES)):
        if size > limit:
            raise ValueError(f"{record['experiment']}: its {what} take {size} bytes, more than the {limit} a "
                             f"stored file may hold; store less")
    with lock(folder, key):
        if expect is not _ANY:
            from .cells import record_checksum
            if record_checksum(folder / f"{key}.json") != expect:
                return None
        if blob is not None:
            atomic_write(folder / record["npz"], blob)       # beside the old one, under its own name
        atomic_write(folder / f"{key}.json", text)          # the commit point
        stale = [*folder.glob(f"{key}.*.npz"), *folder.glob(f".{key}.*.tmp")]  # old, or left by a killed write
        for path in stale:
            if path.name not in (record["npz"], f".{key}.lock.tmp"):
                path.unlink(missing_ok=True)
    return record


def save(exp: Experiment, config: Any, outputs: dict, wall_time_s: float, root: Path | None = None, *,
         device: str | None = None, extra_metadata: dict | None = None) -> Result:
    """Store ``outputs`` of ``exp`` at ``config`` atomically (see the module's docstring) and return them."""
    result = _save(exp, config, outputs, wall_time_s, root, device=device, extra_metadata=extra_metadata)
    assert result is not None
    return result


def _save(exp: Experiment, config: Any, outputs: dict, wall_time_s: float, root: Path | None = None, *,
          device: str | None = None, extra_metadata: dict | None = None, expect: Any = _ANY) -> Result | None:
    folder = _folder(_root(root, create_if_empty=True), exp.name)
    check_writable(folder)
    config_dict = exp.check_config(config)
    values, arrays = split_outputs(exp.name, outputs)
    meta = {"modscale_version": package_version("modscale"), "torch_version": package_version("torch"),
            "numpy_version": np.__version__, "python_version": platform.python_version(),
            "device": device or device_name(), "wall_time_s": validation.real(wall_time_s, "wall_time_s", low=0),
            "date": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"), **(extra_metadata or {})}
    key = result_key(exp.name, exp.version, config_dict)
    record = {"experiment": exp.name, "version": exp.version, "key": key, "config": config_dict,
              "values": values, "arrays": sorted(arrays), "metadata": _plain(meta)}
    total = sum(a.nbytes for a in arrays.values())
    if total > storage.MAX_FILE_BYTES:
        raise ValueError(f"{exp.name}: its arrays take {total} bytes, more than the {storage.MAX_FILE_BYTES} a "
                         f"stored file may hold; store less")
    record = _write_record(folder, record, npz_bytes(arrays) if arrays else None, expect=expect)
    if record is None:
        return None
    return Result(exp.name, exp.version, key, config_dict, json.loads(json.dumps(values)), dict(arrays),
                  record["metadata"], (f"{key}.json",) + ((record["npz"],) if arrays else ()), record["checksum"])


_FIELDS = {"format": int, "experiment": str, "version": int, "key": str, "config": dict, "values": dict,
           "arrays": list, "metadata": dict, "checksum": str}


def _check_record(record: Any, json_path: Path) -> None:
    if not isinstance(record, dict):
        raise ValueError("the file does not hold a JSON object")
    if record.get("format") != FORMAT:
        raise ValueError(f"format {record.get('format', 1)!r} is not {FORMAT} (run tools/migrate_store.py)")
    for name, kind in _FIELDS.items():
        if not isinstance(record.get(name), kind):
            raise ValueError(f"field {name!r} is missing or not a {kind.__name__}")
    body = {k: v for k, v in record.items() if k != "checksum"}
    if _sha256(_canonical(body)) != record["checksum"]:
        raise ValueError("its checksum does not match its content (edited by hand?)")
    name, key = record["experiment"], record["key"]
    expected = result_key(name, record["version"], record["config"])
    if key != expected or json_path.stem != key:
        raise ValueError(f"its config hashes to {expected}, but it is filed as {json_path.stem} (key field {key}); "
                         f"edited or renamed by hand")
    if json_path.parent.name != name:
        raise ValueError(f"it holds experiment {name!r} but lies in the folder {json_path.parent.name!r}")
    wall = record["metadata"].get("wall_time_s")
    if isinstance(wall, bool) or not isinstance(wall, (int, float)) or not math.isfinite(wall) or wall < 0:
        raise ValueError(f"malformed metadata: wall_time_s is {wall!r}")
    if not all(isinstance(a, str) for a in record["arrays"]):
        raise ValueError("its arrays are not named by strings")
    sha = record.get("npz_sha256")
    if sha is not None and not isinstance(sha, str):
        raise ValueError(f"its npz_sha256 {sha!r} is not a string")
    if bool(record["arrays"]) != (sha is not None) or (sha and record.get("npz") != f"{key}.{sha[:12]}.npz"):
        raise ValueError(f"its arrays {record['arrays']} and NPZ {record.get('npz')!r} disagree")


def read(json_path: Path | str) -> Result:
    """Read and check one stored result; raise :class:`CorruptResultError` on any inconsistency."""
    json_path = Path(json_path)
    hint = f"Delete {json_path} (and its .npz) and recompute it."
    for attempt in range(3):  # a concurrent writer may commit a new record (and drop our NPZ) between reads
        try:
            text = read_file(json_path, limit=storage.MAX_JSON_BYTES)
            record = storage.parse_json(text)
            _check_record(record, json_path)
        except (OSError, ValueError, TypeError) as exc:
            raise CorruptResultError(f"stored result {json_path} is unreadable or damaged "
                                     f"({type(exc).__name__}: {exc}). {hint}") from exc
        arrays: dict = {}
        if record["arrays"]:
            npz_path = json_path.with_name(record["npz"])
            try:
                blob = read_file(npz_path)
            except (OSError, ValueError) as exc:
                if attempt < 2 and isinstance(exc, FileNotFoundError) and _changed(json_path, text):
                    continue
                raise CorruptResultError(f"stored result {json_path} names {npz_path.name}, which cannot be "
                                         f"read ({exc}). {hint}") from exc
            if _sha256(blob) != record["npz_sha256"]:
                raise CorruptResultError(f"{npz_path} does not match the checksum in {json_path} "
                                         f"(truncated or modified). {hint}")
            try:
                arrays = load_npz(blob, str(npz_path))
            except Exception as exc:  # a sealed but malformed NPZ (written by hand and resealed)
                raise CorruptResultError(f"{npz_path} cannot be read as arrays ({type(exc).__name__}: {exc}). "
                                         f"{hint}") from exc
            if sorted(arrays) != sorted(record["arrays"]):
                raise CorruptResultError(f"{npz_path} holds {sorted(arrays)}, not {record['arrays']}. {hint}")
        return Result(record["experiment"], record["version"], record["key"], record["config"],
                      record["values"], arrays, record["metadata"],
                      (json_path.name,) + ((record["npz"],) if arrays else ()), record["checksum"])
    raise AssertionError("unreachable")


def _changed(json_path: Path, text: bytes) -> bool:
    try:
        return read_file(json_path) != text
    except (OSError, ValueError):
        return False


def _cells_folder(root: Path, name: str, key: str) -> Path:
    return _folder(root, name) / f"{key}.cells"


def load_or_run(exp: Experiment, config: Any, *, mode: str | None = None, root: Path | None = None,
                progress: bool = True, budget_s: float | None = None, client: Any = None) -> Result:
    """Load ``exp`` at ``config`` from the store, or compute and store it, as the mode allows.

    Explained in the chapter :doc:`/book/using_this_book`.

    Parameters
    ----------
    exp : a registered :class:`Experiment`.
    config : an instance of ``exp.config_type``, e.g. ``exp.config("cpu")``.
    mode : ``"read"``, ``"missing"`` or ``"recompute"``; ``None`` reads ``MODSCALE_RESULTS``.
    root : the store's folder (a store, or an empty folder that becomes one); ``None`` means :func:`results_dir`.
    progress : report the computation on stderr (and a sweep's cells with a progress bar).
    budget_s : seconds left for the computation (finite, >= 0). A sweep starts no cell that would end after
        them: it raises :class:`modscale_lib.cells.BudgetExhausted` with its finished cells stored, to resume
        later. An experiment that is not a sweep cannot stop part-way: it is not started (``BudgetExhausted``)
        when no time is left, or when it is stored and took longer than ``budget_s`` then; otherwise it runs
        to its end, which may be after the budget.
    client : a ``distributed.Client`` (see :func:`modscale_lib.cluster.dask_client`) on which a sweep's cells
        run; ``None``: in this process.
    """
    from .cells import BudgetExhausted, Cells, CompletedElsewhere

    if not isinstance(exp, Experiment):
        raise TypeError(f"exp must be an Experiment registered with @experiment, got {type(exp).__name__}")
    config_dict = exp.check_config(config)
    config = exp.config_from_dict(config_dict)  # the canonical config is the one computed
    mode = get_mode() if mode is None else validation.choice(mode, "mode", MODES)
    if budget_s is not None:
        budget_s = validation.real(budget_s, "budget_s", low=0)
    root = _root(root, create_if_empty=mode != "read")
    key = result_key(exp.name, exp.version, config_dict)
    json_path = _folder(root, exp.name) / f"{key}.json"
    stored = None
    if json_path.exists() or json_path.is_symlink():
        stored = read(json_path)  # raises on corruption in every mode: a bad file is never overwritten
        if mode != "recompute":
            return stored
    elif mode == "read":
        cells = _cells_folder(root, exp.name, key)
        partial = (f"\n{len(list(cells.glob('*.npz')))} cells of an interrupted run are stored in {cells}; "
                   f"the command resumes from them.") if cells.is_dir() else ""
        raise MissingResultError(
            f"No stored result for experiment {exp.name!r} (version {exp.version}) at this config "
            f"(key {key}, expected at results/{exp.name}/{key}.json). Compute it with:\n"
            f"    {exp.command(config)}\nor re-execute the notebook with MODSCALE_RESULTS=missing.{partial}")
    if budget_s is not None and budget_s <= 0:
        raise BudgetExhausted(exp.name, 0, 1, f"{exp.name}: no time budget left, not started; rerun with a budget")
    if budget_s is not None and not exp.sweep and stored is not None:
        took = stored.metadata.get("wall_time_s")
        if isinstance(took, (int, float)) and took > budget_s:
            raise BudgetExhausted(exp.name, 0, 1, f"{exp.name} is not a sweep (it cannot stop part-way) and took "
                                                 f"{took:.3g} s when stored, more than the {budget_s:.3g} s left; not "
                                                 f"started. Give it a budget of at least {math.ceil(took)} s")
    check_writable(_folder(root, exp.name))  # before, not after, a long computation
    replaces = None if stored is None else stored.checksum
    if progress:
        what = "recomputing" if stored is not None else "computing"
        print(f"[modscale] {what} {exp.name} (key {key}) ...", file=sys.stderr, flush=True)
    meter = Meter()
    if exp.sweep:
        folder = _cells_folder(root, exp.name, key)
        if folder.is_symlink() or (folder.exists() and not folder.is_dir()):
            raise StoreLocationError(f"{folder} is not a folder of cells (a link or a file): cells are written only "
                                     f"inside the store; delete it and rerun")
        cells = Cells(folder, progress=progress, desc=exp.name, client=client,
                      identity={"experiment": exp.name, "version": exp.version, "key": key, "config": config_dict,
                                "replaces": replaces},
                      result_path=json_path,
                      deadline=None if budget_s is None else time.monotonic() + budget_s)
        discarded = cells.discard_stale()   # a recompute starts from no cells, or from its own
        if discarded and progress:
            print(f"[modscale] discarded {discarded} cells of an earlier run of {exp.name}/{key}", file=sys.stderr,
                  flush=True)
        try:
            outputs = exp(config, cells)
        except CompletedElsewhere:   # another process stored it meanwhile
            return read(json_path)
        here = meter.stop()   # this process: its cells and the assembly (and any wait for workers)
        wall = cells.total_wall_s + max(here["wall_time_s"] - cells.run_wall_s, 0.0)
        extra = {"cells": cells.count, "load_avg": cells.load()}
        if cells.cpu_count == cells.count:
            extra["cpu_time_s"] = cells.total_cpu_s + max(here["cpu_time_s"] - cells.run_cpu_s, 0.0)
        else:   # some cells do not record CPU time: the total would be partial
            extra["cells_with_cpu_time"] = cells.cpu_count
        result = _save(exp, config, outputs, wall, root, device=cells.devices() or None, extra_metadata=extra,
                       expect=replaces)
        cells.remove()
        if result is None:   # another process stored it first
            return read(json_path)
    else:
        outputs = exp(config)
        here = meter.stop()
        wall = here["wall_time_s"]
        result = _save(exp, config, outputs, wall, root, expect=replaces, extra_metadata={
            "cpu_time_s": here["cpu_time_s"], "load_avg": mean_load(here["load_avg"])})
        if result is None:
            return read(json_path)
    if progress:
        print(f"[modscale] stored {exp.name}/{key} in {wall:.3g} s", file=sys.stderr, flush=True)
    return result


def stored_results(root: Path | None = None) -> list[Path]:
    """Every result file in the store, sorted (the store's folder must exist)."""
    return sorted(_root(root).glob("*/*.json"))


def _number(value: Any) -> float | None:
    """A finite, non-negative metadata number as a float; None when absent (older results) or malformed."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
        return None
    return float(value)


def ledger(root: Path | None = None) -> list[dict]:
    """The compute ledger: one row per stored result, in :func:`stored_results` order.

    Each row: ``experiment``, ``key``, ``file`` (relative to the store), ``config`` (the named config it
    equals, or None), ``chapter`` (of the registered experiment, or None), ``wall_time_s``, ``cpu_time_s``
    (the process CPU time, or None for results stored before it was recorded), ``load_avg`` (the machine's
    mean load average while it ran, or None), ``device``, ``date`` and ``status`` (``"ok"``,
    ``"unregistered"`` or ``"corrupt: ..."``, when the other fields are None). Only experiments already registered (e.g. by importing :mod:`modscale_lib.experiments`) are known.
    """
    rows = []
    for path in stored_results(root):
        row = {"experiment": path.parent.name, "key": path.stem, "file": f"{path.parent.name}/{path.name}",
               "config": None, "chapter": None, "wall_time_s": None, "cpu_time_s": None, "load_avg": None,
               "device": None, "date": None}
        try:
            res = read(path)
        except CorruptResultError as exc:
            rows.append(dict(row, status=f"corrupt: {exc}"))
            continue
        exp = REGISTRY.get(res.experiment)
        row.update(wall_time_s=float(res.metadata["wall_time_s"]), cpu_time_s=_number(res.metadata.get("cpu_time_s")),
                   load_avg=_number(res.metadata.get("load_avg")), device=str(res.metadata.get("device")),
                   date=str(res.metadata.get("date")), status="ok" if exp else "unregistered")
        if exp is not None:
            row.update(chapter=exp.chapter, config=exp.config_name(res.config))
        rows.append(row)
    return rows


if __name__ == "__main__":
    sys.exit("the command line moved: python -m modscale_lib list | verify | compute | recompute | budget")
