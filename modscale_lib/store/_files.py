"""Files of the results store: the store's marker, bounded reads of regular files only, atomic writes, per-key
locks, writability, provenance of the machine, and the store's errors. Standard library and numpy only; used
by the store's records and sweeps, and importing neither.

A folder is a store when it holds the marker file :data:`STORE_MARKER` (committed in ``results/``); every
command refuses any other folder, so that ``--root .`` or a mistyped ``MODSCALE_RESULTS_DIR`` is an error,
not an empty store. :func:`init_store` makes a new one. Every file of a store is read through
:func:`read_file`: only a regular file (not a FIFO, a device, a folder) of at most :data:`MAX_FILE_BYTES` is
opened, so that no file placed in the store can hang a reader or exhaust its memory.
"""

from __future__ import annotations

import contextlib
import fcntl
import io
import json
import os
import platform
import stat
import sys
import tempfile
import time
import zipfile
from collections.abc import Iterator
from importlib import metadata as _metadata
from pathlib import Path
from typing import Any

import numpy as np

from ..core import Boolean, FilePath, validated
from ._registry import plain

__all__ = [
    "MissingResultError",
    "CorruptResultError",
    "StoreLocationError",
    "atomic_write",
    "lock",
    "check_writable",
    "package_version",
    "device_name",
    "split_outputs",
    "npz_bytes",
    "load_average",
    "Meter",
    "mean_load",
    "weighted_load",
    "read_file",
    "load_npz",
    "check_store",
    "init_store",
    "parse_json",
    "STORE_MARKER",
    "MAX_FILE_BYTES",
    "MAX_JSON_BYTES",
    "FILE_MODE",
]

#: The file that marks a folder as a results store (its first line names the project).
STORE_MARKER = ".modscale-store"
#: The most bytes of one file of the store that is read (a JSON record, an NPZ, a cell), and the most bytes
#: of arrays one NPZ may unpack to. Stored results are small (the largest committed file is under 40 kB); the
#: bound keeps a damaged or planted file from exhausting the reader's memory.
MAX_FILE_BYTES = 256 * 2**20
#: The most bytes of one JSON file of the store, a record or a sweep's identity. Records are a few kB, and a
#: JSON document takes several times its size in memory once parsed.
MAX_JSON_BYTES = 16 * 2**20
#: The mode of every file the store writes, that of the committed files (git keeps 0644).
FILE_MODE = 0o644


class MissingResultError(LookupError):
    """A result is absent from the store and the mode is ``read``."""


class CorruptResultError(RuntimeError):
    """A stored result (or sweep cell) cannot be read, fails its checksum, or does not match its key or place."""


class StoreLocationError(OSError):
    """The store's folder does not exist, or a result's folder cannot be written."""


def fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _kind(mode: int) -> str:
    for test, name in (
        (stat.S_ISDIR, "a folder"),
        (stat.S_ISFIFO, "a FIFO"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISSOCK, "a socket"),
    ):
        if test(mode):
            return name
    return "not a regular file"


def read_file(path: Path | str, *, limit: int | None = None) -> bytes:
    """The bytes of ``path``, read only if it is a regular file (a link to one is followed) of at most
    ``limit`` bytes (:data:`MAX_FILE_BYTES` by default); otherwise ``ValueError`` saying what it is.

    The file is opened non-blocking, so a FIFO is refused at once instead of waiting for a writer, and its
    type and size are checked on the open descriptor before one byte is read.
    """
    limit = MAX_FILE_BYTES if limit is None else limit
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise ValueError(f"{path} is {_kind(st.st_mode)}, not a regular file; the store holds regular files only")
        if st.st_size > limit:
            raise ValueError(f"{path} holds {st.st_size} bytes, more than the {limit} a stored file may hold")
        chunks, total = [], 0
        while True:
            chunk = os.read(fd, min(1 << 20, limit + 1 - total))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
            if total > limit:
                raise ValueError(f"{path} grew past the {limit} bytes a stored file may hold while it was read")
        return b"".join(chunks)
    finally:
        os.close(fd)


def parse_json(blob: bytes | str) -> Any:
    """JSON from a stored file; ``ValueError`` for anything malformed (nesting too deep for the parser too)."""
    try:
        return json.loads(blob)
    except RecursionError as exc:
        raise ValueError("its JSON is nested too deeply to be a stored record") from exc


def load_npz(blob: bytes, name: str = "the NPZ") -> dict:
    """The arrays of an NPZ held in ``blob`` (never pickled), refusing one that would unpack to more than
    :data:`MAX_FILE_BYTES` (the sizes its zip directory declares, which the reader enforces)."""
    with zipfile.ZipFile(io.BytesIO(blob)) as zf:
        declared = sum(info.file_size for info in zf.infolist())
    if declared > MAX_FILE_BYTES:
        raise ValueError(f"{name} would unpack to {declared} bytes, more than the {MAX_FILE_BYTES} allowed")
    with np.load(io.BytesIO(blob), allow_pickle=False) as npz:
        return {k: npz[k] for k in npz.files}


def _is_marked(root: Path) -> bool:
    try:
        return stat.S_ISREG(os.stat(root / STORE_MARKER).st_mode)
    except OSError:
        return False


def _is_store_file(path: Path) -> bool:
    name = path.name
    return (
        (name.endswith((".json", ".npz")) and len(name.split(".")[0]) == 16)
        or name.endswith(".cells")
        or (name.startswith(".") and name.endswith(".tmp"))
    )


def _looks_like_a_store(root: Path) -> bool:
    """A store made before the marker existed: only experiment folders (identifier names, not links) in it,
    each holding stored results (``<key>.json``) and nothing but the store's files."""
    entries = [p for p in root.iterdir() if p.name != STORE_MARKER]
    return bool(entries) and all(
        p.is_dir()
        and not p.is_symlink()
        and p.name.isidentifier()
        and any(p.glob("*.json"))
        and all(_is_store_file(f) for f in p.iterdir())
        for p in entries
    )


def _marker_text() -> bytes:
    return (
        b"modscale results store\n"
        b"This folder holds stored results: <experiment>/<key>.json and its NPZ (see modscale_lib/store).\n"
        b"This file marks it as a store; python -m modscale_lib refuses folders without it.\n"
    )


@validated(root=FilePath(), create_if_empty=Boolean())
def check_store(root: Path | str, *, create_if_empty: bool = False) -> Path:
    """``root`` as a Path, checked to be a results store (a folder holding :data:`STORE_MARKER`).

    With ``create_if_empty``, an empty folder becomes a new store (it is named explicitly as the store of a
    computation; nothing in it can be mistaken). Raise :class:`StoreLocationError` saying how to fix it.
    """
    root = Path(root)
    env = os.environ.get("MODSCALE_RESULTS_DIR")
    where = f" (MODSCALE_RESULTS_DIR={env!r})" if env is not None else ""
    if not root.is_dir():
        raise StoreLocationError(
            f"the results store {root}{where} does not exist or is not a folder; point --root or "
            f"MODSCALE_RESULTS_DIR at the store (the checkout's results/ folder), or create a new "
            f"one with: python -m modscale_lib --root {root} init"
        )
    if _is_marked(root):
        return root
    if create_if_empty and not any(root.iterdir()):
        init_store(root)
        return root
    raise StoreLocationError(
        f"{root}{where} is not a results store (it holds no {STORE_MARKER} marker file); point "
        f"--root or MODSCALE_RESULTS_DIR at the store (the checkout's results/ folder), or create "
        f"a new one in an empty folder with: python -m modscale_lib --root DIR init"
    )


@validated(root=FilePath())
def init_store(root: Path | str) -> Path:
    """Make ``root`` a results store: create the folder if absent and write its marker. A folder that already
    is one is left as it is; a non-empty folder is refused unless it holds only experiment folders (a store
    made before the marker existed)."""
    root = Path(root)
    if _is_marked(root):
        return root
    try:
        root.mkdir(parents=True, exist_ok=True)
        if not root.is_dir():
            raise StoreLocationError(f"{root} is not a folder; name a new or empty folder to make a store in")
        if any(root.iterdir()) and not _looks_like_a_store(root):
            raise StoreLocationError(
                f"{root} is not empty and is not a results store; make a new store in a new or empty folder"
            )
        if (root / STORE_MARKER).exists() or (root / STORE_MARKER).is_symlink():
            raise StoreLocationError(f"{root / STORE_MARKER} exists but is not a regular file; remove it first")
        atomic_write(root / STORE_MARKER, _marker_text())
    except OSError as exc:
        if isinstance(exc, StoreLocationError):
            raise
        raise StoreLocationError(f"cannot make a results store in {root} ({exc}); choose a writable folder") from exc
    return root


def atomic_write(path: Path, data: bytes) -> None:
    """Write ``path`` (mode :data:`FILE_MODE`) so that a reader (or a crash) sees the old file or the new one,
    never half of one."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, FILE_MODE)  # mkstemp makes 0600; the store's files are readable like the committed ones
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
        os.fsync(fd)
        os.close(fd)
        fd = -1
        os.replace(tmp, path)
        fsync_dir(path.parent)
    except BaseException as exc:
        if fd >= 0:
            os.close(fd)
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if isinstance(exc, OSError) and exc.filename is None:  # e.g. a full disk: say which file
            raise type(exc)(exc.errno, f"{exc.strerror or exc} (writing {path})") from exc
        raise


@contextlib.contextmanager
def lock(folder: Path, key: str) -> Iterator[None]:
    """An exclusive lock on one key among processes (flock on ``.<key>.lock.tmp``, released if killed)."""
    path = folder / f".{key}.lock.tmp"
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            if os.stat(path).st_ino == os.fstat(fd).st_ino:  # else the holder before us unlinked it: retry
                break
        except FileNotFoundError:
            pass
        except BaseException:
            os.close(fd)
            raise
        os.close(fd)
    try:
        yield
    finally:
        try:
            os.unlink(path)
        except OSError:
            pass
        finally:
            os.close(fd)  # releases the lock, whatever happened


def check_writable(folder: Path) -> None:
    """Raise :class:`StoreLocationError` unless files can be created in ``folder`` (made if absent)."""
    try:
        if folder.is_symlink() or (folder.exists() and not folder.is_dir()):
            raise NotADirectoryError(f"{folder} is not a folder")
        folder.mkdir(exist_ok=True)
        with tempfile.TemporaryFile(dir=folder, prefix=".write-check.", suffix=".tmp"):
            pass
    except OSError as exc:
        raise StoreLocationError(f"cannot write results to {folder} ({exc}); fix it before computing") from exc


def package_version(package: str) -> str:
    try:
        return _metadata.version(package)
    except _metadata.PackageNotFoundError:
        return "not installed"


def device_name() -> str:
    torch = sys.modules.get("torch")  # only if the experiment used it: this module never imports torch
    if torch is not None and torch.cuda.is_available():
        return f"GPU ({torch.cuda.get_device_name(0)})"
    threads = torch.get_num_threads() if torch is not None else os.cpu_count()
    return f"CPU ({platform.machine()}, {threads} threads)"


def load_average() -> float | None:
    """The machine's one-minute load average (runnable processes), or None where the OS has none."""
    try:
        return round(os.getloadavg()[0], 2)
    except (OSError, AttributeError):
        return None


class Meter:
    """Wall time, process CPU time and the machine's load over one computation (started on creation).

    The process CPU time (``time.process_time``: every thread of this process, user and system) is the cost
    that other processes on a shared machine do not inflate; the wall time is. The load average at the start
    and the end says how shared the machine was. Work done in child processes is not counted.
    """

    def __init__(self):
        self.load_start = load_average()
        self.wall0, self.cpu0 = time.perf_counter(), time.process_time()

    def stop(self) -> dict:
        """``wall_time_s``, ``cpu_time_s`` and ``load_avg`` ([start, end], either None where unknown)."""
        wall, cpu = time.perf_counter() - self.wall0, time.process_time() - self.cpu0
        return {"wall_time_s": wall, "cpu_time_s": cpu, "load_avg": [self.load_start, load_average()]}


def mean_load(loads) -> float | None:
    """The mean of the known values among ``loads`` (e.g. a ``load_avg`` pair), None if none is known."""
    known = [float(v) for v in (loads or []) if isinstance(v, (int, float)) and not isinstance(v, bool)]
    return sum(known) / len(known) if known else None


def weighted_load(pairs) -> float | None:
    """The mean of the known loads in ``pairs`` of ``(load, wall seconds)``, weighted by wall time (a long
    computation says more about how shared the machine was); None if no load is known."""
    known = [(float(load), max(float(wall), 1e-9)) for load, wall in pairs if load is not None]
    weight = sum(w for _, w in known)
    return sum(load * w for load, w in known) / weight if known else None


def split_outputs(name: str, outputs: Any) -> tuple[dict, dict]:
    if not isinstance(outputs, dict):
        raise TypeError(f"{name} must return a dict, got {type(outputs).__name__}")
    values, arrays = {}, {}
    for k, v in outputs.items():
        if not isinstance(k, str) or not k:
            raise TypeError(f"{name} output names must be non-empty strings, got {k!r}")
        if isinstance(v, np.ndarray):
            if v.dtype == object:
                raise TypeError(f"{name} output {k!r} is an object array; store numbers only")
            arrays[k] = v
        else:
            values[k] = plain(v)
    return values, arrays


def npz_bytes(arrays: dict) -> bytes:
    buf = io.BytesIO()
    np.savez_compressed(buf, **arrays)
    return buf.getvalue()
