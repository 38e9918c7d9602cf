"""One-off migration (run once, after ``migrate_store.py``; kept as a record): configs renamed for one meaning
per name and one method vocabulary. The computations are unchanged, so the stored values, arrays and
provenance are kept exactly; the keys change because the configs' text does.

* ``sample_complexity_sweep``: the field ``ood_scale`` is now ``ood_input_std`` (``scale`` means the cpu/full
  scale only).
* ``compositional_accuracy``: the field ``k_grid`` (images per composite) is now ``n_images_grid``, since ``k``
  also counted modules elsewhere; the method label ``"modular, rule"`` is now ``"modular, <variant> rule"`` (the
  vocabulary of :mod:`modscale_lib.methods`), and the field ``rule_variant`` is gone: the label names it.

* ``sample_complexity_sweep`` and ``sample_complexity_capacity`` (second migration): the new fields ``task``
  (``"sine"``) and ``module_dim`` (1) name the task that every stored result used; non-separable tasks of
  ``b >= 2`` are new named configs.

Usage: ``python tools/migrate_configs.py [RESULTS_DIR]`` (default: results/).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

from modscale_lib import store as results

# a migration reaches into the store's private module on purpose: it writes records as the store does
from modscale_lib.store._records import write_record


def sample_complexity_sweep(config: dict) -> dict:
    config = dict(config)
    if "ood_scale" in config:
        config["ood_input_std"] = config.pop("ood_scale")
    return config


def _sine_task(config: dict) -> dict:
    return {**config, "task": config.get("task", "sine"), "module_dim": config.get("module_dim", 1)}


def compositional_accuracy(config: dict) -> dict:
    config = dict(config)
    if "k_grid" in config:  # k counts images here, K modules elsewhere: one name per meaning
        config["n_images_grid"] = config.pop("k_grid")
    variant = config.pop("rule_variant", None)
    if variant is not None:
        config["methods"] = [f"modular, {variant} rule" if m == "modular, rule" else m for m in config["methods"]]
    return config


EDITS = {
    "sample_complexity_sweep": lambda c: _sine_task(sample_complexity_sweep(c)),
    "sample_complexity_capacity": _sine_task,
    "compositional_accuracy": compositional_accuracy,
}


def main(root: Path) -> None:
    for name, edit in EDITS.items():
        for path in sorted((root / name).glob("*.json")):
            old = results.read(path)
            config = edit(old.config)
            if config == old.config:
                continue
            key = results.result_key(name, old.version, config)
            npz_name = json.loads(path.read_text()).get("npz")
            blob = (path.parent / npz_name).read_bytes() if npz_name else None
            record = {
                "experiment": name,
                "version": old.version,
                "key": key,
                "config": config,
                "values": old.values,
                "arrays": sorted(old.arrays),
                "metadata": old.metadata,
            }
            write_record(path.parent, record, blob)
            new = results.read(path.parent / f"{key}.json")
            assert new.values == old.values and new.metadata == old.metadata
            for k, v in old.arrays.items():
                np.testing.assert_array_equal(new.arrays[k], v)
            path.unlink()
            if npz_name:
                (path.parent / npz_name).unlink()
            print(f"{name}/{old.key} -> {name}/{key}")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else results.results_dir())
