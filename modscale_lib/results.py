"""The results store: heavy experiments computed once, kept as small JSON/NPZ files keyed by their config.

A result is identified by a hash of (experiment name, experiment version, config). It lives in
``results/<experiment>/<key>.json``, with an optional ``<key>.npz`` beside it for arrays (never pickled).
The JSON holds the config, the scalar values, metadata (library and torch versions, device, wall time,
date) and a SHA-256 of the NPZ, so a truncated or edited array file is caught.

What :func:`load_or_run` does is set by the environment variable ``MODSCALE_RESULTS``:

``read`` (default)
    Load the stored result. A missing one raises :class:`MissingResultError`, which names the exact command
    that computes it. Nothing long ever runs by surprise (the book build and the tests use this mode).
``missing``
    Compute and store the results that are absent; load the others.
``recompute``
    Compute and store every result asked for, replacing the stored ones.

A corrupted file, or one whose stored config does not hash to its file name, raises
:class:`CorruptResultError` in every mode and is never overwritten: delete it, then recompute.

This module imports neither torch nor the experiments. Experiments register themselves with
:func:`experiment` when :mod:`modscale_lib.experiments` is imported; the command line
(``python -m modscale_lib.results``) imports that module to find them.
"""
from __future__ import annotations

import argparse
import dataclasses
import datetime as _dt
import hashlib
import io
import json
import os
import platform
import sys
import tempfile
import time
from importlib import metadata as _metadata
from pathlib import Path
from typing import Any, Callable

import numpy as np

__all__ = [
    "Experiment", "Result", "experiment", "load_or_run", "result_key", "results_dir", "get_mode",
    "MissingResultError", "CorruptResultError", "REGISTRY", "MODES",
]

MODES = ("read", "missing", "recompute")
KEY_LENGTH = 16  # hex digits of SHA-256: 64 bits, ample for a few thousand results
REGISTRY: dict[str, "Experiment"] = {}


class MissingResultError(LookupError):
    """A result is absent from the store and the mode is ``read``."""


class CorruptResultError(RuntimeError):
    """A stored result cannot be read, or does not match its key."""


# ---------------------------------------------------------------------------------------------------------
# Keys
# ---------------------------------------------------------------------------------------------------------
def _plain(value: Any) -> Any:
    """Turn a config (dataclass, tuples, numpy scalars) into plain JSON types, recursively."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        value = {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return [_plain(v) for v in value.tolist()]
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    raise TypeError(f"config value {value!r} of type {type(value).__name__} cannot be stored as JSON")


def _canonical(obj: Any) -> str:
    # sort_keys and fixed separators make the text, and so the hash, independent of dict order and process.
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), allow_nan=True)


def result_key(name: str, version: int, config: Any) -> str:
    """The store key of one result: the first 16 hex digits of SHA-256 of its canonical JSON identity.

    Parameters
    ----------
    name : experiment name, e.g. ``"pinv_moment"``.
    version : the experiment's integer version; bump it when its code changes what it computes.
    config : a dataclass or dict of plain values (tuples and numpy scalars are converted).
    """
    identity = {"experiment": name, "version": int(version), "config": _plain(config)}
    return hashlib.sha256(_canonical(identity).encode()).hexdigest()[:KEY_LENGTH]


# ---------------------------------------------------------------------------------------------------------
# Experiments and results
# ---------------------------------------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class Experiment:
    """A named, versioned computation ``func(config) -> dict`` whose outputs the store keeps.

    ``config_type`` is a dataclass; its ``cpu()`` and ``full()`` classmethods, when present, give the two
    standard scales (``cpu``: what is committed and runs on a laptop; ``full``: the paper's ranges, for a GPU).
    """

    name: str
    version: int
    func: Callable[[Any], dict]
    config_type: type

    def __call__(self, config: Any) -> dict:
        return self.func(config)

    def scale(self, scale: str) -> Any:
        """The config of a named scale, ``"cpu"`` or ``"full"``."""
        factory = getattr(self.config_type, scale, None)
        if scale not in ("cpu", "full") or factory is None:
            raise ValueError(f"scale must be 'cpu' or 'full' (one that {self.config_type.__name__} defines), "
                             f"got {scale!r}")
        return factory()

    def config_from_dict(self, values: dict) -> Any:
        """Rebuild a config from its stored JSON form (lists become tuples where the field holds a tuple)."""
        if not dataclasses.is_dataclass(self.config_type):
            return dict(values)
        fields = {f.name: f for f in dataclasses.fields(self.config_type)}
        unknown = set(values) - set(fields)
        if unknown:
            raise ValueError(f"config for {self.name!r} has unknown fields {sorted(unknown)}; "
                             f"allowed: {sorted(fields)}")
        default = self.config_type()
        kwargs = {}
        for k, v in values.items():
            if isinstance(v, list) and isinstance(getattr(default, k), tuple):
                v = tuple(v)
            kwargs[k] = v
        return self.config_type(**kwargs)

    def command(self, config: Any) -> str:
        """The shell command that computes and stores this experiment at ``config``."""
        for scale in ("cpu", "full"):
            factory = getattr(self.config_type, scale, None)
            if factory is not None and _plain(factory()) == _plain(config):
                return f"python -m modscale_lib.results compute {self.name} --scale {scale}"
        return f"python -m modscale_lib.results compute {self.name} --config '{_canonical(_plain(config))}'"


def experiment(name: str, version: int, config_type: type) -> Callable[[Callable], Experiment]:
    """Decorator registering ``func(config) -> dict`` as a stored experiment.

    The returned dict maps names to plain values (numbers, strings, lists, nested dicts), which go to the
    JSON, or to numpy arrays, which go to the NPZ.
    """
    if not name.isidentifier():
        raise ValueError(f"name must be a Python identifier (it is a folder name), got {name!r}")

    def wrap(func: Callable[[Any], dict]) -> Experiment:
        exp = Experiment(name=name, version=int(version), func=func, config_type=config_type)
        REGISTRY[name] = exp
        return exp

    return wrap


@dataclasses.dataclass
class Result:
    """A stored result: ``values`` from the JSON, ``arrays`` from the NPZ, and the provenance in ``metadata``.

    ``res["name"]`` looks in ``values`` then ``arrays``.
    """

    experiment: str
    version: int
    key: str
    config: dict
    values: dict
    arrays: dict
    metadata: dict

    def __getitem__(self, name: str) -> Any:
        if name in self.values:
            return self.values[name]
        if name in self.arrays:
            return self.arrays[name]
        raise KeyError(f"result {self.experiment}/{self.key} has no entry {name!r}; it has "
                       f"{sorted(self.values) + sorted(self.arrays)}")

    def provenance(self) -> str:
        """One line saying where and when this result was computed, for the book's text."""
        m = self.metadata
        return (f"computed on {m.get('device', '?')} in {m.get('wall_time_s', float('nan')):.3g} s "
                f"on {m.get('date', '?')[:10]} (modscale {m.get('modscale_version', '?')}, "
                f"torch {m.get('torch_version', '?')})")


def results_dir() -> Path:
    """Where results live: ``$MODSCALE_RESULTS_DIR`` if set, else the ``results/`` folder of the checkout."""
    env = os.environ.get("MODSCALE_RESULTS_DIR")
    return Path(env) if env else Path(__file__).resolve().parent.parent / "results"


def get_mode() -> str:
    """The store's mode from ``MODSCALE_RESULTS``: ``read`` (default), ``missing`` or ``recompute``."""
    mode = os.environ.get("MODSCALE_RESULTS", "read").strip().lower() or "read"
    if mode not in MODES:
        raise ValueError(f"MODSCALE_RESULTS must be one of {', '.join(MODES)}; got {mode!r}")
    return mode


def _paths(name: str, key: str, root: Path) -> tuple[Path, Path]:
    folder = root / name
    return folder / f"{key}.json", folder / f"{key}.npz"


def _atomic_write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)  # atomic on POSIX: a reader sees the old file or the new, never half of one
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def _version(package: str) -> str:
    try:
        return _metadata.version(package)
    except _metadata.PackageNotFoundError:
        return "not installed"


def _device() -> str:
    torch = sys.modules.get("torch")  # only if the experiment used it: this module never imports torch
    if torch is not None and torch.cuda.is_available():
        return f"GPU ({torch.cuda.get_device_name(0)})"
    threads = torch.get_num_threads() if torch is not None else os.cpu_count()
    return f"CPU ({platform.machine()}, {threads} threads)"


def _split_outputs(name: str, outputs: dict) -> tuple[dict, dict]:
    if not isinstance(outputs, dict):
        raise TypeError(f"experiment {name!r} must return a dict, got {type(outputs).__name__}")
    values, arrays = {}, {}
    for k, v in outputs.items():
        if isinstance(v, np.ndarray):
            if v.dtype == object:
                raise TypeError(f"experiment {name!r} output {k!r} is an object array; store numbers only")
            arrays[k] = v
        else:
            values[k] = _plain(v)
    return values, arrays


def _npz_bytes(arrays: dict) -> bytes:
    buf = io.BytesIO()
    np.savez_compressed(buf, **arrays)
    return buf.getvalue()


def save(exp: Experiment, config: Any, outputs: dict, wall_time_s: float, root: Path | None = None) -> Result:
    """Write one result atomically (the NPZ first, then the JSON that vouches for it) and return it."""
    root = results_dir() if root is None else Path(root)
    key = result_key(exp.name, exp.version, config)
    json_path, npz_path = _paths(exp.name, key, root)
    values, arrays = _split_outputs(exp.name, outputs)
    meta = {
        "modscale_version": _version("modscale"),
        "torch_version": _version("torch"),
        "numpy_version": np.__version__,
        "python_version": platform.python_version(),
        "device": _device(),
        "wall_time_s": float(wall_time_s),
        "date": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
    }
    record = {"experiment": exp.name, "version": exp.version, "key": key, "config": _plain(config),
              "values": values, "arrays": sorted(arrays), "metadata": meta}
    if arrays:
        blob = _npz_bytes(arrays)
        record["npz_sha256"] = hashlib.sha256(blob).hexdigest()
        _atomic_write(npz_path, blob)
    elif npz_path.exists():
        npz_path.unlink()
    _atomic_write(json_path, (json.dumps(record, indent=1, sort_keys=True) + "\n").encode())
    return Result(exp.name, exp.version, key, record["config"], values, dict(arrays), meta)


def read(json_path: Path) -> Result:
    """Read and check one stored result; raise :class:`CorruptResultError` on any inconsistency."""
    json_path = Path(json_path)
    hint = f"Delete {json_path} (and its .npz) and recompute it."
    try:
        record = json.loads(json_path.read_text())
        name, version, key = record["experiment"], record["version"], record["key"]
        config, values, array_names = record["config"], record["values"], record["arrays"]
        meta = record["metadata"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise CorruptResultError(f"stored result {json_path} is unreadable or incomplete "
                                 f"({type(exc).__name__}: {exc}). {hint}") from exc
    expected = result_key(name, version, config)
    if key != expected or json_path.stem != expected:
        raise CorruptResultError(f"stored result {json_path} does not match its key: its config hashes to "
                                 f"{expected}, but it is filed as {json_path.stem} (key field {key}). "
                                 f"It was edited or renamed by hand. {hint}")
    arrays: dict = {}
    if array_names:
        npz_path = json_path.with_suffix(".npz")
        try:
            blob = npz_path.read_bytes()
        except OSError as exc:
            raise CorruptResultError(f"stored result {json_path} lists arrays {array_names} but {npz_path} "
                                     f"cannot be read ({exc}). {hint}") from exc
        if hashlib.sha256(blob).hexdigest() != record.get("npz_sha256"):
            raise CorruptResultError(f"{npz_path} does not match the checksum stored in {json_path} "
                                     f"(truncated or modified). {hint}")
        with np.load(io.BytesIO(blob), allow_pickle=False) as npz:
            arrays = {k: npz[k] for k in array_names}
    return Result(name, version, key, config, values, arrays, meta)


def load_or_run(exp: Experiment, config: Any = None, *, mode: str | None = None,
                root: Path | None = None, progress: bool = True) -> Result:
    """Load ``exp`` at ``config`` from the store, or compute it, as the mode allows.

    Parameters
    ----------
    exp : a registered :class:`Experiment`.
    config : its config (a dataclass instance); ``None`` means the ``cpu`` scale.
    mode : ``"read"``, ``"missing"`` or ``"recompute"``; ``None`` reads ``MODSCALE_RESULTS``.
    root : the store's folder; ``None`` means :func:`results_dir`.
    progress : print one line when a computation starts and ends.
    """
    if not isinstance(exp, Experiment):
        raise TypeError(f"exp must be an Experiment registered with @experiment, got {type(exp).__name__}")
    config = exp.scale("cpu") if config is None else config
    mode = get_mode() if mode is None else mode
    if mode not in MODES:
        raise ValueError(f"mode must be one of {', '.join(MODES)}; got {mode!r}")
    root = results_dir() if root is None else Path(root)
    key = result_key(exp.name, exp.version, config)
    json_path, _ = _paths(exp.name, key, root)
    if json_path.exists():
        stored = read(json_path)  # raises on corruption in every mode: a bad file is never overwritten
        if mode != "recompute":
            return stored
    elif mode == "read":
        raise MissingResultError(
            f"No stored result for experiment {exp.name!r} (version {exp.version}) at this config "
            f"(key {key}, expected at results/{exp.name}/{key}.json). Compute it with:\n"
            f"    {exp.command(config)}\n"
            f"or re-execute the notebook with MODSCALE_RESULTS=missing.")
    if progress:
        print(f"[modscale] computing {exp.name} (key {key}) ...", file=sys.stderr, flush=True)
    start = time.perf_counter()
    outputs = exp(config)
    wall = time.perf_counter() - start
    result = save(exp, config, outputs, wall, root)
    if progress:
        print(f"[modscale] stored {exp.name}/{key} in {wall:.3g} s", file=sys.stderr, flush=True)
    return result


def stored_results(root: Path | None = None) -> list[Path]:
    """Every result file in the store, sorted."""
    root = results_dir() if root is None else Path(root)
    return sorted(root.glob("*/*.json"))


# ---------------------------------------------------------------------------------------------------------
# Command line
# ---------------------------------------------------------------------------------------------------------
def _load_registry() -> None:
    import importlib

    importlib.import_module("modscale_lib.experiments")  # registers every experiment


def _cmd_list(args: argparse.Namespace) -> int:
    paths = stored_results(args.root)
    if not paths:
        print("the store is empty")
    for path in paths:
        try:
            res = read(path)
        except CorruptResultError as exc:
            print(f"CORRUPT {path}: {exc}")
            continue
        print(f"{res.experiment:<28} v{res.version} {res.key}  {res.provenance()}")
    return 0


def _cmd_verify(args: argparse.Namespace) -> int:
    _load_registry()
    bad = 0
    paths = stored_results(args.root)
    for path in paths:
        try:
            res = read(path)
        except CorruptResultError as exc:
            print(f"CORRUPT  {exc}")
            bad += 1
            continue
        exp = REGISTRY.get(res.experiment)
        if exp is None:
            print(f"ORPHAN   {path}: no registered experiment is called {res.experiment!r}")
            bad += 1
        elif exp.version != res.version:
            print(f"STALE    {path}: stored at version {res.version}, the code is at version {exp.version}")
            bad += 1
        else:
            print(f"ok       {path.parent.name}/{path.name}")
    print(f"{len(paths) - bad} ok, {bad} with problems")
    return 1 if bad else 0


def _cmd_compute(args: argparse.Namespace) -> int:
    _load_registry()
    if args.experiment not in REGISTRY:
        print(f"unknown experiment {args.experiment!r}; registered: {', '.join(sorted(REGISTRY))}",
              file=sys.stderr)
        return 2
    exp = REGISTRY[args.experiment]
    config = exp.config_from_dict(json.loads(args.config)) if args.config else exp.scale(args.scale)
    res = load_or_run(exp, config, mode="recompute" if args.force else "missing", root=args.root)
    print(f"{exp.name}/{res.key}: {res.provenance()}")
    return 0


def _cmd_recompute(args: argparse.Namespace) -> int:
    _load_registry()
    names = sorted(REGISTRY) if args.all else args.experiments
    if not names:
        print("name experiments to recompute, or pass --all", file=sys.stderr)
        return 2
    for name in names:
        if name not in REGISTRY:
            print(f"unknown experiment {name!r}; registered: {', '.join(sorted(REGISTRY))}", file=sys.stderr)
            return 2
    root = results_dir() if args.root is None else args.root
    for name in names:
        exp = REGISTRY[name]
        configs = [read(p).config for p in sorted((root / name).glob("*.json"))]
        if not configs:  # nothing stored yet: compute the standard scale
            configs = [_plain(exp.scale(args.scale))]
        for cfg in configs:
            res = load_or_run(exp, exp.config_from_dict(cfg), mode="recompute", root=root)
            print(f"{name}/{res.key}: {res.provenance()}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m modscale_lib.results", description=__doc__.split("\n")[0])
    parser.add_argument("--root", type=Path, default=None, help="the store's folder (default: results/)")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("list", help="list stored results with their provenance").set_defaults(func=_cmd_list)
    sub.add_parser("verify", help="check every stored result (checksums, keys, versions)"
                   ).set_defaults(func=_cmd_verify)
    p = sub.add_parser("compute", help="compute one experiment at a scale or config, if absent")
    p.add_argument("experiment")
    group = p.add_mutually_exclusive_group()
    group.add_argument("--scale", choices=("cpu", "full"), default="cpu")
    group.add_argument("--config", help="the config as JSON (as a missing-result error prints it)")
    p.add_argument("--force", action="store_true", help="recompute even if stored")
    p.set_defaults(func=_cmd_compute)
    p = sub.add_parser("recompute", help="recompute the stored results of some experiments, or of all")
    p.add_argument("experiments", nargs="*")
    p.add_argument("--all", action="store_true")
    p.add_argument("--scale", choices=("cpu", "full"), default="cpu",
                   help="scale to compute for an experiment with nothing stored yet")
    p.set_defaults(func=_cmd_recompute)
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    # Run as a script this file is `__main__`, a different module from `modscale_lib.results`, in which
    # the experiments register: hand over to the package's copy.
    from modscale_lib.results import main as _main

    sys.exit(_main())
