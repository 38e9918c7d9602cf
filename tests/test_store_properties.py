"""Property tests of the results store: canonical keys, damage detection, and kills at every write step."""

import contextlib
import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from unittest import mock

import numpy as np
from hypothesis import HealthCheck, given, settings, strategies as st

from modscale_lib import store as results  # the results store (``store`` is the fixture of an empty one)
from modscale_lib.store import Cells, CorruptResultError, init_store

SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@dataclass(frozen=True)
class PropConfig:
    count: "int" = 1
    rate: "float" = 0.5
    label: "str" = "a"
    flag: "bool" = False
    sizes: "tuple[int, ...]" = (1, 2)
    mixed: "tuple" = (1, 2.5)
    limit: "int | None" = None

    @classmethod
    def cpu(cls):
        return cls()

    @classmethod
    def full(cls):
        return cls(count=10)


@results.experiment("prop_store_test", version=2, config_type=PropConfig)
def prop_exp(cfg):
    return {"count": cfg.count}


ints = st.integers(-(2**40), 2**40)
floats = st.floats(allow_nan=False, allow_infinity=False, width=64)
configs = st.builds(
    PropConfig,
    count=ints,
    rate=floats,
    label=st.text(max_size=8),
    flag=st.booleans(),
    sizes=st.lists(ints, max_size=4).map(tuple),
    mixed=st.lists(st.one_of(ints, floats, st.text(max_size=3)), max_size=4).map(tuple),
    limit=st.one_of(st.none(), ints),
)


@SETTINGS
@given(configs)
def test_configs_round_trip_through_json_with_stable_keys(cfg):
    key = results.result_key("prop_store_test", 2, cfg)
    stored = json.loads(json.dumps(results.canonical_config(cfg), sort_keys=True))
    assert results.result_key("prop_store_test", 2, stored) == key
    rebuilt = prop_exp.config_from_dict(stored)
    assert rebuilt == cfg and results.result_key("prop_store_test", 2, rebuilt) == key
    # the same whole numbers given as floats (and numpy scalars) are the same config, the same key
    as_floats = PropConfig(
        count=float(cfg.count),
        rate=np.float64(cfg.rate),
        label=cfg.label,
        flag=cfg.flag,
        sizes=tuple(float(s) for s in cfg.sizes),
        mixed=cfg.mixed,
        limit=None if cfg.limit is None else np.int64(cfg.limit),
    )
    if all(abs(v) < 2**53 for v in (cfg.count, *cfg.sizes)):
        assert results.result_key("prop_store_test", 2, as_floats) == key


outputs = st.fixed_dictionaries(
    {
        "value": st.one_of(ints, floats, st.text(max_size=5), st.lists(ints, max_size=3)),
        "grid": st.lists(floats, min_size=1, max_size=20).map(np.array),
        "counts": st.lists(ints, min_size=0, max_size=6).map(lambda v: np.array(v, dtype=np.int64)),
    }
)


def _same(a, b) -> bool:
    return (
        a.values == b.values
        and a.config == b.config
        and a.metadata == b.metadata
        and a.arrays.keys() == b.arrays.keys()
        and all(
            a.arrays[k].dtype == b.arrays[k].dtype and a.arrays[k].tobytes() == b.arrays[k].tobytes() for k in a.arrays
        )
    )


@SETTINGS
@given(outputs, st.integers(0, 2**32), st.integers(1, 255), st.booleans())
def test_a_byte_flip_in_any_stored_file_is_detected(out, where, mask, in_npz):
    with tempfile.TemporaryDirectory() as tmp:
        saved = results.save(prop_exp, PropConfig(), out, 1.0, tmp)
        original = results.read(Path(tmp) / "prop_store_test" / saved.files[0])
        path = Path(tmp) / "prop_store_test" / saved.files[1 if in_npz else 0]
        blob = bytearray(path.read_bytes())
        blob[where % len(blob)] ^= mask
        path.write_bytes(bytes(blob))
        try:
            damaged = results.read(Path(tmp) / "prop_store_test" / saved.files[0])
        except CorruptResultError:
            return
        # undetected only if nothing a reader sees changed (e.g. a space became a tab between JSON tokens)
        assert not in_npz and _same(damaged, original)


def _paths(record, prefix=()):
    """Every path to a leaf of a JSON value."""
    if isinstance(record, dict) and record:
        return [p for k, v in record.items() for p in _paths(v, prefix + (k,))]
    if isinstance(record, list) and record:
        return [p for i, v in enumerate(record) for p in _paths(v, prefix + (i,))]
    return [prefix]


def _edited(value):
    if isinstance(value, bool):
        return not value
    if isinstance(value, (int, float)):
        return value + 1 if abs(value) < 1e15 else value / 2
    if isinstance(value, str):
        return value + "x"
    return "edited"  # None, [] or {}


@SETTINGS
@given(outputs, st.integers(0, 10**6))
def test_an_edited_value_anywhere_in_the_record_is_detected(out, which):
    with tempfile.TemporaryDirectory() as tmp:
        saved = results.save(prop_exp, PropConfig(), out, 1.0, tmp)
        path = Path(tmp) / "prop_store_test" / saved.files[0]
        record = json.loads(path.read_text())
        leaves = _paths(record)
        *parents, last = leaves[which % len(leaves)]
        node = record
        for k in parents:
            node = node[k]
        node[last] = _edited(node[last])
        path.write_text(json.dumps(record, indent=1, sort_keys=True))
        try:
            results.read(path)
        except CorruptResultError:
            return
        raise AssertionError(f"an edit of {parents + [last]} went unnoticed")


class Killed(BaseException):
    """The process dies: this write step and every later one fail (so no clean-up runs either)."""


@contextlib.contextmanager
def killed_at(step):
    """Kill the writer at its ``step``-th file operation (write, fsync, replace, unlink); count them."""
    count = {"ops": 0}
    real = {name: getattr(os, name) for name in ("write", "fsync", "replace", "unlink")}

    def make(name):
        def op(*args, **kwargs):
            count["ops"] += 1
            if step is not None and count["ops"] >= step:
                raise Killed(name)
            return real[name](*args, **kwargs)

        return op

    with contextlib.ExitStack() as stack:
        for name in real:
            stack.enter_context(mock.patch.object(os, name, make(name)))
        yield count


def _ops(old, new):
    """How many file operations one save of ``new`` over ``old`` takes."""
    with tempfile.TemporaryDirectory() as tmp:
        init_store(tmp)
        if old is not None:
            results.save(prop_exp, PropConfig(), old, 1.0, tmp)
        with killed_at(None) as count:
            results.save(prop_exp, PropConfig(), new, 2.0, tmp)
        return count["ops"]


stored = st.fixed_dictionaries(
    {"value": ints}, optional={"grid": st.lists(floats, min_size=1, max_size=5).map(np.array)}
)


@settings(max_examples=15, deadline=None)
@given(st.one_of(st.none(), stored), stored)
def test_a_kill_at_every_write_step_leaves_the_old_result_or_the_new(old, new):
    n_ops = _ops(old, new)
    assert n_ops >= 5
    for step in range(1, n_ops + 2):  # a kill at every step, then none
        with tempfile.TemporaryDirectory() as tmp:
            key = results.result_key("prop_store_test", 2, PropConfig())
            json_path = Path(tmp) / "prop_store_test" / f"{key}.json"
            init_store(tmp)  # the store exists: the kills are of the record's writes
            if old is not None:
                results.save(prop_exp, PropConfig(), old, 1.0, tmp)
            with contextlib.suppress(Killed), killed_at(step):
                results.save(prop_exp, PropConfig(), new, 2.0, tmp)
            if old is not None or json_path.exists():  # else killed before the commit: still nothing
                res = results.read(json_path)  # never corrupt, never half of one
                expected = {1.0: old, 2.0: new}[res.metadata["wall_time_s"]]
                assert step <= n_ops or expected is new
                assert res.values == {"value": expected["value"]}
                assert res.arrays.keys() == expected.keys() - {"value"}
                if "grid" in expected:
                    assert res["grid"].tobytes() == expected["grid"].tobytes()
            # the next write succeeds and tidies what the kill left (temporary files, the old NPZ, the lock)
            results.save(prop_exp, PropConfig(), new, 3.0, tmp)
            names = sorted(p.name for p in (Path(tmp) / "prop_store_test").iterdir())
            assert names == sorted(results.read(json_path).files)


@SETTINGS
@given(st.integers(0, 2**32), st.integers(1, 255))
def test_a_byte_flip_in_a_sweep_cell_is_detected(where, mask):
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "cells"
        item = {"m": 3, "seed": 1}
        (first,) = Cells(folder, progress=False).map([item], lambda i: {"loss": np.arange(4.0), "best": 0.25})
        (path,) = folder.glob("*.npz")
        blob = bytearray(path.read_bytes())
        blob[where % len(blob)] ^= mask
        path.write_bytes(bytes(blob))

        def never(_):
            raise AssertionError("a stored cell was recomputed")

        try:
            (again,) = Cells(folder, progress=False).map([item], never)
        except CorruptResultError:
            return
        # an NPZ is a zip: a flip in a field no reader uses (e.g. a file date) changes nothing that is read
        assert again["best"] == first["best"] and again["loss"].tobytes() == first["loss"].tobytes()
