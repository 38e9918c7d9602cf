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
with mode 0644, and read only if they are regular files of bounded size. A sweep (``sweep=True``) stores each
finished cell in ``<key>.cells/`` (see :class:`~modscale_lib.store.Cells`), so a killed or budgeted run resumes
where it stopped.

The store is a folder holding the marker file ``.modscale-store`` (:func:`~modscale_lib.store.check_store`);
any other folder is refused, except an empty one named explicitly as the store of a computation, which
becomes a new store.

Which config a chapter reads is set by ``MODSCALE_CONFIG`` (:func:`chapter_config`): ``cpu`` (default) or
``full``, for every chapter at once. What :func:`load_or_run` does is set by ``MODSCALE_RESULTS``: ``read``
(default: load, and raise
:class:`MissingResultError` naming the command that computes an absent result; nothing long runs by
surprise), ``missing`` (compute what is absent) or ``recompute`` (compute every cell again and replace the
stored record once the new one is complete; a recompute that is stopped leaves the old record readable, and
resumes from its own cells only). A damaged record raises :class:`CorruptResultError` in every mode and is
never overwritten.

The checksums detect accidents (a truncated or edited file, a file moved to the wrong key or folder), not
tampering: anyone can recompute a SHA-256. The git history of ``results/`` and recomputation protect the
store against deliberate edits (the book's *Reproducibility* appendix says more).

Experiments, configs and keys are defined beside this, in the store's registry; the compute ledger too. The
store imports numpy, the standard library and :mod:`modscale_lib.core` only; the command line is
``python -m modscale_lib``.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import json
import math
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from ..core import Boolean, Check, Choice, FilePath, OrNone, Real, validated
from . import _files
from ._files import (
    CorruptResultError,
    Meter,
    MissingResultError,
    StoreLocationError,
    atomic_write,
    check_store,
    check_writable,
    device_name,
    load_npz,
    lock,
    mean_load,
    npz_bytes,
    package_version,
    read_file,
    split_outputs,
)
from ._registry import Experiment, canonical_config, canonical_json, plain, result_key, sha256
from ._sweeps import BudgetExhausted, Cells, CompletedElsewhere, record_checksum

__all__ = [
    "Result",
    "load_or_run",
    "read",
    "save",
    "results_dir",
    "store_root",
    "get_mode",
    "stored_results",
    "write_record",
    "MODES",
    "FORMAT",
    "SCALES",
    "config_name",
    "chapter_config",
]

MODES = ("read", "missing", "recompute")
SCALES = ("cpu", "full")  # the named configs that every experiment defines: a laptop's, and a GPU's
FORMAT = 2  # of the JSON record; tools/migrate_store.py converted format 1 (checksum of the NPZ only)


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
    checksum: str = ""  # the record's checksum (a recompute's cells are bound to the record they replace)

    @property
    def location(self) -> str:
        return f"results/{self.experiment}/{self.key}.json"

    def __getitem__(self, name: str) -> Any:
        if name in self.values:
            return self.values[name]
        if name in self.arrays:
            return self.arrays[name]
        raise KeyError(
            f"result {self.experiment}/{self.key} has no entry {name!r}; it has "
            f"{sorted(self.values) + sorted(self.arrays)}"
        )

    def provenance(self) -> str:
        """One line naming this result's file and saying where and when it was computed, for the book."""
        m = self.metadata
        wall = m.get("wall_time_s")
        wall = f"{wall:.3g} s" if isinstance(wall, (int, float)) and not isinstance(wall, bool) else f"{wall!r} s"
        return (
            f"{self.experiment} {self.key} ({self.location}): computed on {m.get('device', '?')} in {wall} "
            f"on {str(m.get('date', '?'))[:10]} (modscale {m.get('modscale_version', '?')}, "
            f"torch {m.get('torch_version', '?')})"
        )


def check_result(res, config, experiment: str, name: str = "res") -> None:
    """Refuse anything but a stored result of ``experiment`` (a :class:`Result`) and the config it was computed
    with: the check of a read-out's inputs, before it computes. ``name`` names ``res`` in the errors (``config``
    is named ``<name>_config``, or ``config`` when ``name`` is ``"res"``)."""
    cname = "config" if name == "res" else f"{name}_config"
    if not isinstance(res, Result):
        raise TypeError(
            f"{name} must be the stored {experiment} result (a modscale_lib.store.Result), got {type(res).__name__}"
        )
    if res.experiment != experiment:
        raise ValueError(f"{name} must be a {experiment} result, got one of {res.experiment!r}")
    if isinstance(config, type) or not dataclasses.is_dataclass(config):
        raise TypeError(f"{cname} must be the config of {name}, a dataclass instance, got {type(config).__name__}")
    given = canonical_config(config)
    differ = sorted(k for k in set(given) | set(res.config) if given.get(k) != res.config.get(k))
    if differ:
        raise ValueError(
            f"{cname} must be the config {name} was computed with ({res.location}); they differ in {differ}"
        )


# Files ----------------------------------------------------------------------------------------------------
def results_dir() -> Path:
    """Where results live: ``$MODSCALE_RESULTS_DIR`` if set, else the ``results/`` folder of the checkout."""
    env = os.environ.get("MODSCALE_RESULTS_DIR")
    return Path(env) if env else Path(__file__).resolve().parents[2] / "results"


@validated(root=OrNone(FilePath()), create_if_empty=Boolean())
def store_root(root: Path | str | None = None, *, create_if_empty: bool = False) -> Path:
    """The store's folder: ``root``, or :func:`results_dir` when None, checked to be a store
    (:func:`~modscale_lib.store.check_store`; with ``create_if_empty`` an empty folder becomes one)."""
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


def config_name() -> str:
    """The named config that every chapter reads, from ``MODSCALE_CONFIG``: one of ``SCALES``, ``cpu`` by
    default."""
    name = os.environ.get("MODSCALE_CONFIG", "cpu").strip().lower() or "cpu"
    if name not in SCALES:
        raise ValueError(f"MODSCALE_CONFIG must be one of {', '.join(SCALES)}; got {name!r}")
    return name


def chapter_config(exp, name: str | None = None):
    """The config of experiment ``exp`` that a chapter reads: its named config ``name``, or by default the one
    ``MODSCALE_CONFIG`` names (:func:`config_name`), so that one variable switches every chapter from ``cpu`` to
    ``full``."""
    if not isinstance(exp, Experiment):
        raise TypeError(f"exp must be a registered experiment (e.g. experiments.pinv_moment), got {type(exp).__name__}")
    return exp.config(config_name() if name is None else name)


_ANY = object()


def write_record(folder: Path, record: dict, blob: bytes | None, *, expect: Any = _ANY) -> dict | None:
    """Seal ``record`` (NPZ name, checksums) and commit it with ``blob`` in ``folder``; return the sealed record.
    (The store's one way to write a record; public for the migration tools in ``tools/``.)

    With ``expect`` (the checksum of the record this one replaces, None for none), nothing is written, and
    None is returned, when the stored record is no longer that one (another process stored the result).
    """
    key = record["key"]
    record = dict(record, format=FORMAT, npz=None, npz_sha256=None)
    record.pop("checksum", None)
    if blob is not None:
        record["npz_sha256"] = sha256(blob)
        record["npz"] = f"{key}.{record['npz_sha256'][:12]}.npz"
    record["checksum"] = sha256(canonical_json(record))
    text = (json.dumps(record, indent=1, sort_keys=True, allow_nan=True) + "\n").encode()
    for what, size, limit in (
        ("record", len(text), _files.MAX_JSON_BYTES),
        ("arrays", 0 if blob is None else len(blob), _files.MAX_FILE_BYTES),
    ):
        if size > limit:
            raise ValueError(
                f"{record['experiment']}: its {what} take {size} bytes, more than the {limit} a "
                f"stored file may hold; store less"
            )
    with lock(folder, key):
        if expect is not _ANY:
            if record_checksum(folder / f"{key}.json") != expect:
                return None
        if blob is not None:
            atomic_write(folder / record["npz"], blob)  # beside the old one, under its own name
        atomic_write(folder / f"{key}.json", text)  # the commit point
        stale = [*folder.glob(f"{key}.*.npz"), *folder.glob(f".{key}.*.tmp")]  # old, or left by a killed write
        for path in stale:
            if path.name not in (record["npz"], f".{key}.lock.tmp"):
                path.unlink(missing_ok=True)
    return record


def _experiment(value: Any, name: str, arguments: dict) -> Experiment:
    if not isinstance(value, Experiment):
        raise TypeError(f"{name} must be an Experiment registered with @experiment, got {type(value).__name__}")
    return value


def _config(value: Any, name: str, arguments: dict) -> Any:
    exp = arguments["exp"]
    return exp.config_from_dict(exp.check_config(value))  # the canonical config is the one computed


@validated(exp=Check(_experiment), config=Check(_config), wall_time_s=Real(0.0), root=OrNone(FilePath()))
def save(
    exp: Experiment,
    config: Any,
    outputs: dict,
    wall_time_s: float,
    root: Path | None = None,
    *,
    device: str | None = None,
    extra_metadata: dict | None = None,
) -> Result:
    """Store ``outputs`` of ``exp`` at ``config`` atomically (see the module's docstring) and return them."""
    result = _save(exp, config, outputs, wall_time_s, root, device=device, extra_metadata=extra_metadata)
    assert result is not None
    return result


def _save(
    exp: Experiment,
    config: Any,
    outputs: dict,
    wall_time_s: float,
    root: Path | None = None,
    *,
    device: str | None = None,
    extra_metadata: dict | None = None,
    expect: Any = _ANY,
) -> Result | None:
    folder = _folder(store_root(root, create_if_empty=True), exp.name)
    check_writable(folder)
    config_dict = exp.check_config(config)
    values, arrays = split_outputs(exp.name, outputs)
    meta = {
        "modscale_version": package_version("modscale"),
        "torch_version": package_version("torch"),
        "numpy_version": np.__version__,
        "python_version": platform.python_version(),
        "device": device or device_name(),
        "wall_time_s": float(wall_time_s),
        "date": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        **(extra_metadata or {}),
    }
    key = result_key(exp.name, exp.version, config_dict)
    record = {
        "experiment": exp.name,
        "version": exp.version,
        "key": key,
        "config": config_dict,
        "values": values,
        "arrays": sorted(arrays),
        "metadata": plain(meta),
    }
    total = sum(a.nbytes for a in arrays.values())
    if total > _files.MAX_FILE_BYTES:
        raise ValueError(
            f"{exp.name}: its arrays take {total} bytes, more than the {_files.MAX_FILE_BYTES} a "
            f"stored file may hold; store less"
        )
    record = write_record(folder, record, npz_bytes(arrays) if arrays else None, expect=expect)
    if record is None:
        return None
    return Result(
        exp.name,
        exp.version,
        key,
        config_dict,
        json.loads(json.dumps(values)),
        dict(arrays),
        record["metadata"],
        (f"{key}.json",) + ((record["npz"],) if arrays else ()),
        record["checksum"],
    )


_FIELDS = {
    "format": int,
    "experiment": str,
    "version": int,
    "key": str,
    "config": dict,
    "values": dict,
    "arrays": list,
    "metadata": dict,
    "checksum": str,
}


def _check_record(record: Any, json_path: Path) -> None:
    if not isinstance(record, dict):
        raise ValueError("the file does not hold a JSON object")
    if record.get("format") != FORMAT:
        raise ValueError(f"format {record.get('format', 1)!r} is not {FORMAT} (run tools/migrate_store.py)")
    for name, kind in _FIELDS.items():
        if not isinstance(record.get(name), kind):
            raise ValueError(f"field {name!r} is missing or not a {kind.__name__}")
    body = {k: v for k, v in record.items() if k != "checksum"}
    if sha256(canonical_json(body)) != record["checksum"]:
        raise ValueError("its checksum does not match its content (edited by hand?)")
    name, key = record["experiment"], record["key"]
    expected = result_key(name, record["version"], record["config"])
    if key != expected or json_path.stem != key:
        raise ValueError(
            f"its config hashes to {expected}, but it is filed as {json_path.stem} (key field {key}); "
            f"edited or renamed by hand"
        )
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


@validated(json_path=FilePath())
def read(json_path: Path | str) -> Result:
    """Read and check one stored result; raise :class:`CorruptResultError` on any inconsistency."""
    hint = f"Delete {json_path} (and its .npz) and recompute it."
    for attempt in range(3):  # a concurrent writer may commit a new record (and drop our NPZ) between reads
        try:
            text = read_file(json_path, limit=_files.MAX_JSON_BYTES)
            record = _files.parse_json(text)
            _check_record(record, json_path)
        except (OSError, ValueError, TypeError) as exc:
            raise CorruptResultError(
                f"stored result {json_path} is unreadable or damaged ({type(exc).__name__}: {exc}). {hint}"
            ) from exc
        arrays: dict = {}
        if record["arrays"]:
            npz_path = json_path.with_name(record["npz"])
            try:
                blob = read_file(npz_path)
            except (OSError, ValueError) as exc:
                if attempt < 2 and isinstance(exc, FileNotFoundError) and _changed(json_path, text):
                    continue
                raise CorruptResultError(
                    f"stored result {json_path} names {npz_path.name}, which cannot be read ({exc}). {hint}"
                ) from exc
            if sha256(blob) != record["npz_sha256"]:
                raise CorruptResultError(
                    f"{npz_path} does not match the checksum in {json_path} (truncated or modified). {hint}"
                )
            try:
                arrays = load_npz(blob, str(npz_path))
            except Exception as exc:  # a sealed but malformed NPZ (written by hand and resealed)
                raise CorruptResultError(
                    f"{npz_path} cannot be read as arrays ({type(exc).__name__}: {exc}). {hint}"
                ) from exc
            if sorted(arrays) != sorted(record["arrays"]):
                raise CorruptResultError(f"{npz_path} holds {sorted(arrays)}, not {record['arrays']}. {hint}")
        return Result(
            record["experiment"],
            record["version"],
            record["key"],
            record["config"],
            record["values"],
            arrays,
            record["metadata"],
            (json_path.name,) + ((record["npz"],) if arrays else ()),
            record["checksum"],
        )
    raise AssertionError("unreachable")


def _changed(json_path: Path, text: bytes) -> bool:
    try:
        return read_file(json_path) != text
    except (OSError, ValueError):
        return False


def _cells_folder(root: Path, name: str, key: str) -> Path:
    return _folder(root, name) / f"{key}.cells"


@validated(
    exp=Check(_experiment),
    config=Check(_config),
    mode=OrNone(Choice(MODES)),
    progress=Boolean(),
    budget_s=OrNone(Real(0.0)),
)
def load_or_run(
    exp: Experiment,
    config: Any,
    *,
    mode: str | None = None,
    root: Path | None = None,
    progress: bool = True,
    budget_s: float | None = None,
    client: Any = None,
) -> Result:
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
        them: it raises :class:`~modscale_lib.store.BudgetExhausted` with its finished cells stored, to resume
        later. An experiment that is not a sweep cannot stop part-way: it is not started (``BudgetExhausted``)
        when no time is left, or when it is stored and took longer than ``budget_s`` then; otherwise it runs
        to its end, which may be after the budget.
    client : a ``distributed.Client`` (see :func:`~modscale_lib.store.dask_client`) on which a sweep's cells
        run; ``None``: in this process.
    """
    mode = get_mode() if mode is None else mode
    root = store_root(root, create_if_empty=mode != "read")
    key = result_key(exp.name, exp.version, config)
    json_path = _folder(root, exp.name) / f"{key}.json"
    stored = None
    if json_path.exists() or json_path.is_symlink():
        stored = read(json_path)  # raises on corruption in every mode: a bad file is never overwritten
        if mode != "recompute":
            return stored
    elif mode == "read":
        raise _missing(exp, config, root, key)
    _check_budget(exp, stored, budget_s)
    check_writable(_folder(root, exp.name))  # before, not after, a long computation
    replaces = None if stored is None else stored.checksum
    if progress:
        what = "recomputing" if stored is not None else "computing"
        print(f"[modscale] {what} {exp.name} (key {key}) ...", file=sys.stderr, flush=True)
    run = _run_sweep if exp.sweep else _run_once
    result = run(exp, config, root, replaces, progress=progress, budget_s=budget_s, client=client)
    if result is None:  # another process stored it meanwhile
        return read(json_path)
    if progress:
        print(
            f"[modscale] stored {exp.name}/{key} in {result.metadata['wall_time_s']:.3g} s", file=sys.stderr, flush=True
        )
    return result


def _missing(exp: Experiment, config: Any, root: Path, key: str) -> MissingResultError:
    """The error for a result that is not stored, naming the command that computes it."""
    cells = _cells_folder(root, exp.name, key)
    partial = (
        (
            f"\n{len(list(cells.glob('*.npz')))} cells of an interrupted run are stored in {cells}; "
            f"the command resumes from them."
        )
        if cells.is_dir()
        else ""
    )
    return MissingResultError(
        f"No stored result for experiment {exp.name!r} (version {exp.version}) at this config "
        f"(key {key}, expected at results/{exp.name}/{key}.json). Compute it with:\n"
        f"    {exp.command(config)}\nor re-execute the notebook with MODSCALE_RESULTS=missing.{partial}"
    )


def _check_budget(exp: Experiment, stored: Result | None, budget_s: float | None) -> None:
    """Refuse to start without time left, or (not a sweep, which cannot stop part-way) with less than it took."""
    if budget_s is None:
        return
    if budget_s <= 0:
        raise BudgetExhausted(exp.name, 0, 1, f"{exp.name}: no time budget left, not started; rerun with a budget")
    took = None if exp.sweep or stored is None else stored.metadata.get("wall_time_s")
    if isinstance(took, (int, float)) and took > budget_s:
        raise BudgetExhausted(
            exp.name,
            0,
            1,
            f"{exp.name} is not a sweep (it cannot stop part-way) and took "
            f"{took:.3g} s when stored, more than the {budget_s:.3g} s left; not "
            f"started. Give it a budget of at least {math.ceil(took)} s",
        )


def _run_once(exp: Experiment, config: Any, root: Path, replaces: str | None, **_) -> Result | None:
    """Compute an experiment that is not a sweep, and store it (None: another process stored it first)."""
    meter = Meter()
    outputs = exp(config)
    here = meter.stop()
    return _save(
        exp,
        config,
        outputs,
        here["wall_time_s"],
        root,
        expect=replaces,
        extra_metadata={"cpu_time_s": here["cpu_time_s"], "load_avg": mean_load(here["load_avg"])},
    )


def _run_sweep(
    exp: Experiment,
    config: Any,
    root: Path,
    replaces: str | None,
    *,
    progress: bool,
    budget_s: float | None,
    client: Any,
) -> Result | None:
    """Compute a sweep cell by cell (storing each), then store the result and drop its cells (None: another
    process stored it first)."""
    meter = Meter()
    config_dict = canonical_config(config)
    key = result_key(exp.name, exp.version, config_dict)
    folder = _cells_folder(root, exp.name, key)
    if folder.is_symlink() or (folder.exists() and not folder.is_dir()):
        raise StoreLocationError(
            f"{folder} is not a folder of cells (a link or a file): cells are written only "
            f"inside the store; delete it and rerun"
        )
    cells = Cells(
        folder,
        progress=progress,
        desc=exp.name,
        client=client,
        identity={
            "experiment": exp.name,
            "version": exp.version,
            "key": key,
            "config": config_dict,
            "replaces": replaces,
        },
        result_path=_folder(root, exp.name) / f"{key}.json",
        deadline=None if budget_s is None else time.monotonic() + budget_s,
    )
    discarded = cells.discard_stale()  # a recompute starts from no cells, or from its own
    if discarded and progress:
        print(
            f"[modscale] discarded {discarded} cells of an earlier run of {exp.name}/{key}", file=sys.stderr, flush=True
        )
    try:
        outputs = exp(config, cells)
    except CompletedElsewhere:  # another process stored it meanwhile
        return None
    here = meter.stop()  # this process: its cells and the assembly (and any wait for workers)
    wall = cells.total_wall_s + max(here["wall_time_s"] - cells.run_wall_s, 0.0)
    extra = {"cells": cells.count, "load_avg": cells.load()}
    if cells.cpu_count == cells.count:
        extra["cpu_time_s"] = cells.total_cpu_s + max(here["cpu_time_s"] - cells.run_cpu_s, 0.0)
    else:  # some cells do not record CPU time: the total would be partial
        extra["cells_with_cpu_time"] = cells.cpu_count
    result = _save(
        exp, config, outputs, wall, root, device=cells.devices() or None, extra_metadata=extra, expect=replaces
    )
    cells.remove()
    return result


@validated(root=OrNone(FilePath()))
def stored_results(root: Path | None = None) -> list[Path]:
    """Every result file in the store, sorted (the store's folder must exist)."""
    return sorted(store_root(root).glob("*/*.json"))
