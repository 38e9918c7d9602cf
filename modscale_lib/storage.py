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
from importlib import metadata as _metadata
from pathlib import Path
from typing import Any, Iterator

import numpy as np

from .registry import _plain

__all__ = ["MissingResultError", "CorruptResultError", "StoreLocationError", "atomic_write", "lock",
           "check_writable", "package_version", "device_name", "split_outputs", "npz_bytes"]


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
