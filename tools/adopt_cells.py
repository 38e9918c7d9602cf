"""Bind the finished cells of an unfinished sweep, stored before cells recorded their result (format 1), to that
result, so that a run of today's store resumes from them instead of refusing them.

    python tools/adopt_cells.py [--root results] [--dry-run]

Why a tool and not the store: format-1 cells carry no key, version or run, so the store cannot tell them from
cells copied from another folder and refuses them (``cells.check_cell``). This one-off migration trusts what
the old store trusted: a format-1 cell in ``<experiment>/<key>.cells`` belongs to the first computation of
that key at the experiment's current version. It adopts a folder only if

* its key is the key of one of the experiment's named configs at its current version (the config is then
  known, and written to the folder's identity file as the store writes it),
* no record is stored under that key (a recompute's cells were always bound; a format-1 folder next to a
  stored record is a stale one, left alone for ``verify`` to report),
* every cell's own checksum holds.

Each adopted cell is rewritten (atomically) as format 2 with the stamp the store gives a first computation,
``replaces = None``; its arrays and values are unchanged. The old scheduler's ``.claim`` files go.
"""

from __future__ import annotations

import argparse
import io
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from modscale_lib import experiments  # noqa: E402  (experiments registers them)

# a migration reaches into the store's private modules on purpose: it rewrites cells as the store writes them
from modscale_lib.store import REGISTRY, _files as storage, _sweeps as C, canonical_config, result_key  # noqa: E402  # noqa: E402
from modscale_lib.store._registry import canonical_json as _canonical, sha256 as _sha256  # noqa: E402

assert experiments  # imported for its side effect: every experiment registered


def _named_key(exp) -> dict:
    """key -> config dict, for every named config of ``exp`` at its current version."""
    out = {}
    for name in exp.configs:
        cfg = exp.config(name)
        out[result_key(exp.name, exp.version, cfg)] = canonical_config(cfg)
    return out


def adopt(folder: Path, exp, key: str, config: dict, dry_run: bool) -> int:
    stamp = {"experiment": exp.name, "version": exp.version, "key": key, "replaces": None}
    rewrites = []
    for path in sorted(folder.glob("*.npz")):
        with np.load(path) as npz:
            contents = {k: npz[k] for k in npz.files}
        record = json.loads(contents.pop(C._META).tobytes())
        if record.get("format") != 1:
            continue
        body = {k: v for k, v in record.items() if k != "checksum"}
        if _sha256(_canonical(body)) != record.get("checksum"):
            raise SystemExit(f"error: {path}: its own checksum does not hold; delete it and rerun")
        new = {**body, "format": C.CELL_FORMAT, **stamp}
        new["arrays"] = {
            k: {"dtype": a.dtype.str, "shape": list(a.shape), "sha256": C._array_sha(a)} for k, a in contents.items()
        }
        new["checksum"] = _sha256(_canonical(new))
        buf = io.BytesIO()
        np.savez(buf, **contents, **{C._META: np.frombuffer(_canonical(new).encode(), dtype=np.uint8)})
        rewrites.append((path, buf.getvalue()))
    if not dry_run:
        for path, blob in rewrites:
            storage.atomic_write(path, blob)
            C.check_cell(path, stamp)  # what the store will check when it resumes
        identity = {"experiment": exp.name, "version": exp.version, "key": key, "config": config, "replaces": None}
        storage.atomic_write(folder / C.IDENTITY, (json.dumps(identity, sort_keys=True) + "\n").encode())
        for claim in folder.glob("*.claim"):  # the claim-and-poll scheduler's marks, which Dask replaced
            claim.unlink()
    return len(rewrites)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--root", default=str(Path(__file__).resolve().parent.parent / "results"))
    parser.add_argument("--dry-run", action="store_true")
    args = parser.parse_args()
    root = Path(args.root)
    for folder in sorted(root.glob("*/*.cells")):
        exp = REGISTRY.get(folder.parent.name)
        key = folder.name[: -len(".cells")]
        if exp is None:
            print(f"skip {folder}: no experiment named {folder.parent.name}")
            continue
        if (folder.parent / f"{key}.json").exists():
            print(f"skip {folder}: a record is stored under {key}")
            continue
        configs = _named_key(exp)
        if key not in configs:
            print(f"skip {folder}: {key} is not a named config of {exp.name} at version {exp.version}")
            continue
        n = adopt(folder, exp, key, configs[key], args.dry_run)
        print(f"{'would adopt' if args.dry_run else 'adopted'} {n} format-1 cells in {folder}")


if __name__ == "__main__":
    main()
