"""One-off migration of the results store from format 1 to format 2 (run once; kept as a record of it).

Format 1 kept ``<key>.json`` (its checksum covering only the NPZ) beside ``<key>.npz``. Format 2 seals the
whole record with a checksum and names the NPZ by its content, ``<key>.<sha12>.npz`` (see
:mod:`modscale_lib.store`). Every stored result is checked in the old format (its key, its NPZ checksum),
rewritten with its values, arrays (the same NPZ bytes) and provenance metadata (wall time, date, device,
versions) exactly as they were, read back in the new format, and only then are its old files removed.

Two experiments are renamed, folder and record, so their keys (which hash the name) change:
``sample_complexity`` -> ``sample_complexity_sweep`` and ``compositional`` -> ``compositional_accuracy``.
Every other key stays. Usage: ``python tools/migrate_store.py [RESULTS_DIR]`` (default: results/).
"""

from __future__ import annotations

import hashlib
import io
import json
import sys
from pathlib import Path

import numpy as np

from modscale_lib import store as results

# a migration reaches into the store's private module on purpose: it writes records as the store does
from modscale_lib.store._records import FORMAT, write_record

RENAMES = {"sample_complexity": "sample_complexity_sweep", "compositional": "compositional_accuracy"}


def migrate_one(old_json: Path, root: Path) -> tuple[str, str] | None:
    """Migrate one format-1 result; return (old location, new location), or None if already format 2."""
    rec = json.loads(old_json.read_text())
    if rec.get("format") == FORMAT:
        results.read(old_json)
        return None
    name, version, key, config = rec["experiment"], rec["version"], rec["key"], rec["config"]
    if not (key == old_json.stem == results.result_key(name, version, config) and old_json.parent.name == name):
        raise SystemExit(f"{old_json}: its key or folder does not match its content; not migrating it")
    old_npz, blob = old_json.with_suffix(".npz"), None
    if rec["arrays"]:
        blob = old_npz.read_bytes()
        if hashlib.sha256(blob).hexdigest() != rec["npz_sha256"]:
            raise SystemExit(f"{old_npz} does not match its checksum; not migrating it")
        with np.load(io.BytesIO(blob), allow_pickle=False) as npz:
            old_arrays = {k: npz[k] for k in rec["arrays"]}
    new_name = RENAMES.get(name, name)
    new_key = results.result_key(new_name, version, config)
    assert new_name != name or new_key == key, "an unrenamed experiment must keep its key"
    folder = root / new_name
    folder.mkdir(exist_ok=True)
    record = {
        "experiment": new_name,
        "version": version,
        "key": new_key,
        "config": config,
        "values": rec["values"],
        "arrays": rec["arrays"],
        "metadata": rec["metadata"],
    }
    write_record(folder, record, blob)
    new = results.read(folder / f"{new_key}.json")
    assert new.values == rec["values"] and new.metadata == rec["metadata"] and new.config == config
    for k in rec["arrays"]:
        assert new.arrays[k].dtype == old_arrays[k].dtype
        np.testing.assert_array_equal(new.arrays[k], old_arrays[k])
    if folder / f"{new_key}.json" != old_json:
        old_json.unlink()
    old_npz.unlink(missing_ok=True)
    return f"{name}/{key}", f"{new_name}/{new_key}"


def main(root: Path) -> None:
    for old_json in sorted(root.glob("*/*.json")):
        moved = migrate_one(old_json, root)
        if moved:
            print(f"{moved[0]} -> {moved[1]}" + ("" if moved[0] == moved[1] else "   (renamed: new key)"))
    for folder in sorted(root.iterdir()):
        if folder.is_dir() and not any(folder.iterdir()):
            folder.rmdir()


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else results.results_dir())
