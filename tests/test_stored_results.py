"""Every result committed to `results/` reads back intact, keeps its key, and belongs to the current code."""

import json
from pathlib import Path

import pytest

from modscale_lib import (
    experiments,  # noqa: F401  (importing experiments registers them)
    store as results,
)

STORED = results.stored_results(Path(__file__).resolve().parent.parent / "results")
IDS = [f"{p.parent.name}/{p.stem}" for p in STORED]


def test_the_store_is_not_empty():
    assert STORED, "results/ holds no stored results"


@pytest.mark.parametrize("path", STORED, ids=IDS)
def test_stored_result_is_intact_and_current(path):
    res = results.read(path)
    assert res.experiment in results.REGISTRY, f"{path}: no experiment is registered as {res.experiment!r}"
    exp = results.REGISTRY[res.experiment]
    assert res.version == exp.version, (
        f"{path} was computed by version {res.version} of {res.experiment}, "
        f"the code is at version {exp.version}: recompute it"
    )
    exp.config_from_dict(res.config)  # the stored config is still a valid config


@pytest.mark.parametrize("path", STORED, ids=IDS)
def test_stored_config_keeps_its_key(path):
    """The canonicaliser gives every stored config the key it was stored under, from its JSON form and from
    the config object rebuilt from it (a config that does not change keeps its key)."""
    record = json.loads(path.read_text())
    name, version, key = record["experiment"], record["version"], record["key"]
    assert results.result_key(name, version, record["config"]) == key == path.stem
    exp = results.REGISTRY.get(name)
    if exp is None:
        pytest.skip(f"no experiment is registered as {name!r} (test_stored_result_is_intact_and_current fails)")
    config = exp.config_from_dict(record["config"])
    assert results.canonical_config(config) == record["config"]
    assert results.result_key(name, version, config) == key
