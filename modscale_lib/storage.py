"""Files of the results store: atomic writes, per-key locks, writability, provenance of the machine, and the
store's errors. Standard library and numpy only; used by :mod:`modscale_lib.results` and
:mod:`modscale_lib.cells`, and importing neither."""
from __future__ import annotations

import contextlib
import fcntl
import io
import os
import platform
import sys
import tempfile
import time
from importlib import metadata as _metadata
from pathlib import Path
from typing import Any, Iterator

import numpy as np

from .registry import _plain

__all__ = ["MissingResultError", "CorruptResultError", "StoreLocationError", "atomic_write", "lock",
           "check_writable", "package_version", "device_name", "split_outputs", "npz_bytes", "load_average",
           "Meter", "mean_load", "weighted_load"]


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


def atomic_write(path: Path, data: bytes) -> None:
    """Write ``path`` so that a reader (or a crash) sees the old file or the new one, never half of one."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
        os.fsync(fd)
        os.close(fd)
        fd = -1
        os.replace(tmp, path)
        fsync_dir(path.parent)
    except BaseException:
        if fd >= 0:
            os.close(fd)
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


@contextlib.contextmanager
def lock(folder: Path, key: str) -> Iterator[None]:
    """An exclusive lock on one key among processes (flock on ``.<key>.lock.tmp``, released if killed)."""
    path = folder / f".{key}.lock.tmp"
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
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
            values[k] = _plain(v)
    return values, arrays


def npz_bytes(arrays: dict) -> bytes:
    buf = io.BytesIO()
    np.savez_compressed(buf, **arrays)
    return buf.getvalue()
