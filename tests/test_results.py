"""The results store: keys, round trips, integrity of the whole record, atomic writes, modes, sweeps."""

import json
import os
import random
import signal
import subprocess
import sys
import textwrap
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from modscale_lib import store as results  # the results store (``store`` is the fixture of an empty one)
from modscale_lib.store import (
    BudgetExhausted,
    CorruptResultError,
    MissingResultError,
    StoreLocationError,
    _files as storage,  # white-box checks
    _registry,
    _sweeps as cells_mod,
    init_store,
)
from modscale_lib.store._files import STORE_MARKER


@dataclass(frozen=True)
class ToyConfig:
    size: int = 4
    scale: float = 1.5
    shape: tuple = (2, 3)

    @classmethod
    def cpu(cls):
        return cls()

    @classmethod
    def full(cls):
        return cls(size=40)

    @classmethod
    def tiny(cls):
        return cls(size=2)


CALLS = []


@results.experiment(
    "toy_store_test", version=3, config_type=ToyConfig, chapter="toy_chapter", configs=("cpu", "full", "tiny")
)
def toy(cfg):
    CALLS.append(cfg)
    return {
        "total": cfg.size * cfg.scale,
        "label": "toy",
        "nested": {"a": [1, 2]},
        "grid": np.arange(cfg.size, dtype=np.float64) * cfg.scale,
        "ints": np.ones(cfg.shape, dtype=np.int64),
    }


@pytest.fixture(autouse=True)
def _reset_calls():
    CALLS.clear()


def _files(root):
    """The store's files, but its marker."""
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file() and p.name != STORE_MARKER)


def _snapshot(root):
    return {p: p.read_bytes() for p in root.rglob("*") if p.is_file()}


def test_round_trip(store):
    cfg = ToyConfig(size=5)
    first = results.load_or_run(toy, cfg, mode="missing")
    again = results.load_or_run(toy, cfg)  # default mode: read
    assert len(CALLS) == 1
    assert again.values == {"total": 7.5, "label": "toy", "nested": {"a": [1, 2]}}
    np.testing.assert_array_equal(again["grid"], np.arange(5) * 1.5)
    assert again["ints"].dtype == np.int64 and again["ints"].shape == (2, 3)
    assert again.key == first.key == results.result_key("toy_store_test", 3, cfg)
    record = json.loads((store / "toy_store_test" / f"{first.key}.json").read_text())
    npz = f"{first.key}.{record['npz_sha256'][:12]}.npz"
    assert _files(store) == sorted([f"toy_store_test/{first.key}.json", f"toy_store_test/{npz}"])
    assert again.files == first.files == (f"{first.key}.json", npz)
    meta = again.metadata
    assert {"modscale_version", "torch_version", "device", "wall_time_s", "date"} <= set(meta)
    assert meta["wall_time_s"] >= 0 and meta["date"].startswith("20")
    assert again.config == {"size": 5, "scale": 1.5, "shape": [2, 3]}
    with pytest.raises(KeyError, match="no entry 'absent'"):
        again["absent"]


def test_provenance_names_the_experiment_key_and_file(store):
    res = results.load_or_run(toy, ToyConfig(), mode="missing")
    assert res.location == f"results/toy_store_test/{res.key}.json"
    line = res.provenance()
    assert line.startswith(f"toy_store_test {res.key} (results/toy_store_test/{res.key}.json): computed on ")


def test_key_depends_on_name_version_and_config_only():
    base = results.result_key("toy_store_test", 3, ToyConfig())
    assert len(base) == 16 and int(base, 16) >= 0
    assert results.result_key("toy_store_test", 3, {"shape": [2, 3], "scale": 1.5, "size": 4}) == base
    assert results.result_key("toy_store_test", 4, ToyConfig()) != base
    assert results.result_key("other", 3, ToyConfig()) != base
    assert results.result_key("toy_store_test", 3, ToyConfig(scale=1.5000001)) != base
    assert results.result_key("toy_store_test", 3, ToyConfig(size=np.int64(4))) == base


def test_whole_floats_in_int_fields_are_one_key_and_fractions_are_refused():
    base = results.result_key("toy_store_test", 3, ToyConfig())
    assert results.result_key("toy_store_test", 3, ToyConfig(size=4.0)) == base
    assert results.result_key("toy_store_test", 3, ToyConfig(scale=np.float32(1.5))) == base
    assert results.canonical_config(ToyConfig(scale=2))["scale"] == 2.0  # an int in a float field is a float
    assert isinstance(results.canonical_config(ToyConfig(size=4.0))["size"], int)
    with pytest.raises(ValueError, match="ToyConfig.size must be a whole number"):
        results.result_key("toy_store_test", 3, ToyConfig(size=4.5))
    with pytest.raises(TypeError, match="ToyConfig.size"):
        results.result_key("toy_store_test", 3, ToyConfig(size=True))
    with pytest.raises(ValueError, match="ToyConfig.scale must be a finite number"):
        results.result_key("toy_store_test", 3, ToyConfig(scale=float("nan")))
    with pytest.raises(TypeError, match="ToyConfig.shape must be a tuple"):
        results.result_key("toy_store_test", 3, ToyConfig(shape=3))


def test_string_annotations_are_understood():
    @dataclass(frozen=True)
    class Annotated:
        a: "int" = 1
        b: "float" = 1.0
        c: "int | None" = None
        d: "tuple[int, ...]" = (1, 2)
        e: "str" = "x"
        f: "bool" = False
        g: "tuple" = (1.0, 2)

    got = results.canonical_config(Annotated(a=2.0, b=3, c=5.0, d=(1.0, np.int64(2)), g=(1.0, 2)))
    assert got == {"a": 2, "b": 3.0, "c": 5, "d": [1, 2], "e": "x", "f": False, "g": [1.0, 2]}
    assert [type(v) for v in got["d"]] == [int, int] and type(got["g"][0]) is float  # untyped tuples kept
    with pytest.raises(TypeError, match="Annotated.e must be a string"):
        results.canonical_config(Annotated(e=3))
    with pytest.raises(TypeError, match="Annotated.f must be True or False"):
        results.canonical_config(Annotated(f=1))
    with pytest.raises(TypeError, match="must not be None"):
        results.canonical_config(Annotated(a=None))


def test_a_whole_float_config_is_computed_as_its_int(store):
    res = results.load_or_run(toy, ToyConfig(size=3.0), mode="missing")
    assert CALLS == [ToyConfig(size=3)] and type(CALLS[0].size) is int
    assert res.key == results.load_or_run(toy, ToyConfig(size=3)).key


def test_key_is_stable_across_processes():
    code = (
        "from modscale_lib.store import result_key; "
        "print(result_key('toy_store_test', 3, {'size': 4, 'scale': 1.5, 'shape': [2, 3]}))"
    )
    keys = {
        subprocess.run(
            [sys.executable, "-c", code],
            capture_output=True,
            text=True,
            check=True,
            env={"PYTHONHASHSEED": seed, "PATH": ""},
        ).stdout.strip()
        for seed in ("0", "1", "12345")
    }
    assert keys == {results.result_key("toy_store_test", 3, ToyConfig())}


def test_read_mode_names_the_command(store):
    with pytest.raises(MissingResultError) as err:
        results.load_or_run(toy, ToyConfig())
    assert "python -m modscale_lib compute toy_store_test --config cpu" in str(err.value)
    with pytest.raises(MissingResultError) as err:
        results.load_or_run(toy, ToyConfig(size=9))
    assert (
        'python -m modscale_lib compute toy_store_test --config-json \'{"scale":1.5,"shape":[2,3],"size":9}\''
    ) in str(err.value)
    assert toy.command(ToyConfig(size=2)) == "python -m modscale_lib compute toy_store_test --config tiny"
    assert CALLS == [] and _files(store) == []


def test_missing_mode_computes_once_and_recompute_always(store, monkeypatch):
    monkeypatch.setenv("MODSCALE_RESULTS", "missing")
    results.load_or_run(toy, ToyConfig())
    results.load_or_run(toy, ToyConfig())
    assert len(CALLS) == 1
    monkeypatch.setenv("MODSCALE_RESULTS", "recompute")
    results.load_or_run(toy, ToyConfig())
    results.load_or_run(toy, ToyConfig())
    assert len(CALLS) == 3
    assert len(_files(store)) == 2  # replaced in place, no temporary, lock or old NPZ files left behind


def test_arguments_are_validated(store, monkeypatch):
    with pytest.raises(TypeError, match="config for 'toy_store_test' must be a ToyConfig"):
        results.load_or_run(toy, None)
    with pytest.raises(TypeError, match="must be a ToyConfig"):
        results.load_or_run(toy, {"size": 4})
    with pytest.raises(TypeError, match="exp must be an Experiment"):
        results.load_or_run("toy_store_test", ToyConfig())
    with pytest.raises(ValueError, match="budget_s must be"):
        results.load_or_run(toy, ToyConfig(), budget_s=-1)
    monkeypatch.setenv("MODSCALE_RESULTS", "sometimes")
    with pytest.raises(ValueError, match="MODSCALE_RESULTS must be one of read, missing, recompute"):
        results.load_or_run(toy, ToyConfig())
    with pytest.raises(ValueError, match="mode must be one of"):
        results.load_or_run(toy, ToyConfig(), mode="always")


def test_named_configs():
    assert toy.config("full") == ToyConfig(size=40) and toy.chapter == "toy_chapter"
    with pytest.raises(ValueError, match="config name must be one of"):
        toy.config("huge")
    assert toy.config_name({"size": 40, "scale": 1.5, "shape": [2, 3]}) == "full"
    assert toy.config_name(ToyConfig(size=41)) is None
    assert not hasattr(toy, "scale")  # the deprecated alias of config is gone


def test_registration_is_validated():
    with pytest.raises(ValueError, match="name must be a Python identifier"):
        results.experiment("has space", 1, ToyConfig)
    with pytest.raises(ValueError, match="has no classmethod huge"):
        results.experiment("toy_bad_configs", 1, ToyConfig, configs=("cpu", "huge"))
    with pytest.raises(TypeError, match="config_type must be a dataclass"):
        results.experiment("toy_bad_type", 1, dict)
    with pytest.raises(ValueError, match="version"):
        results.experiment("toy_bad_version", -1, ToyConfig)


def test_missing_or_mistyped_root_is_an_error(tmp_path, monkeypatch):
    monkeypatch.setenv("MODSCALE_RESULTS_DIR", str(tmp_path / "typo"))
    for call in (
        lambda: results.load_or_run(toy, ToyConfig()),
        lambda: results.stored_results(),
        lambda: results.load_or_run(toy, ToyConfig(), mode="missing"),
        lambda: results.ledger(),
    ):
        with pytest.raises(StoreLocationError, match="typo.*does not exist"):
            call()
    assert CALLS == [] and not (tmp_path / "typo").exists()


def test_the_default_root_is_the_checkouts_results_folder(monkeypatch):
    monkeypatch.delenv("MODSCALE_RESULTS_DIR", raising=False)
    assert results.results_dir() == Path(__file__).resolve().parent.parent / "results"


def test_unwritable_folder_fails_before_computing(store):
    (store / "toy_store_test").write_text("a file where the folder should be")
    with pytest.raises(StoreLocationError, match="cannot write results"):
        results.load_or_run(toy, ToyConfig(), mode="missing")
    assert CALLS == []


def test_failed_computation_writes_nothing(store):
    @results.experiment("toy_failing_test", version=1, config_type=ToyConfig)
    def failing(cfg):
        raise FloatingPointError("diverged")

    with pytest.raises(FloatingPointError):
        results.load_or_run(failing, ToyConfig(), mode="missing")
    assert _files(store) == []


def _edit(json_path, edit):
    record = json.loads(json_path.read_text())
    edit(record)
    json_path.write_text(json.dumps(record, indent=1))


DAMAGES = [
    "truncate_json",
    "garbage_json",
    "truncate_npz",
    "drop_npz",
    "flip_npz",
    "edit_config",
    "edit_value",
    "edit_metadata",
    "malformed_metadata",
    "edit_npz_checksum",
    "rename",
    "move_folder",
    "drop_field",
    "old_format",
]


@pytest.mark.parametrize("damage", DAMAGES)
@pytest.mark.parametrize("mode", ["read", "missing", "recompute"])
def test_corruption_is_detected_and_never_overwritten(store, damage, mode):
    res = results.load_or_run(toy, ToyConfig(), mode="missing")
    json_path = store / "toy_store_test" / f"{res.key}.json"
    npz_path = json_path.with_name(res.files[1])
    exp, cfg = toy, ToyConfig()
    if damage == "truncate_json":
        json_path.write_bytes(json_path.read_bytes()[:40])
    elif damage == "garbage_json":
        json_path.write_text("not json at all")
    elif damage == "truncate_npz":
        npz_path.write_bytes(npz_path.read_bytes()[:-10])
    elif damage == "drop_npz":
        npz_path.unlink()
    elif damage == "flip_npz":
        blob = bytearray(npz_path.read_bytes())
        blob[len(blob) // 2] ^= 0x01
        npz_path.write_bytes(bytes(blob))
    elif damage == "edit_config":
        _edit(json_path, lambda r: r["config"].update(scale=2.0))
    elif damage == "edit_value":
        _edit(json_path, lambda r: r["values"].update(total=6.1))
    elif damage == "edit_metadata":
        _edit(json_path, lambda r: r["metadata"].update(device="GPU (imaginary)"))
    elif damage == "malformed_metadata":
        _edit(json_path, lambda r: r["metadata"].update(wall_time_s="fast"))
    elif damage == "edit_npz_checksum":
        _edit(json_path, lambda r: r.update(npz_sha256="0" * 64))
    elif damage == "rename":  # a valid result filed under the key of another config
        other = results.result_key("toy_store_test", 3, ToyConfig(size=9))
        json_path = json_path.rename(json_path.with_name(f"{other}.json"))
        cfg = ToyConfig(size=9)
    elif damage == "move_folder":  # a valid result moved into another experiment's folder, same key

        @results.experiment("toy_store_twin", version=3, config_type=ToyConfig)
        def twin(cfg):
            return toy.func(cfg)

        exp = twin
        (store / "toy_store_twin").mkdir()
        for name in res.files:
            (store / "toy_store_test" / name).rename(store / "toy_store_twin" / name)
        json_path = store / "toy_store_twin" / f"{res.key}.json"
        # same version and config, so the key would match if the folder were not checked
        twin_key = results.result_key("toy_store_twin", 3, ToyConfig())
        json_path = json_path.rename(json_path.with_name(f"{twin_key}.json"))
    elif damage == "drop_field":
        _edit(json_path, lambda r: r.pop("metadata"))
    elif damage == "old_format":
        _edit(json_path, lambda r: r.pop("format"))
    before = _snapshot(store)
    CALLS.clear()
    with pytest.raises(CorruptResultError, match="Delete .* and recompute"):
        results.load_or_run(exp, cfg, mode=mode)
    with pytest.raises(CorruptResultError):
        results.read(json_path)
    assert CALLS == []
    assert _snapshot(store) == before


def test_outputs_must_be_storable(store):
    @results.experiment("toy_bad_output_test", version=1, config_type=ToyConfig)
    def bad(cfg):
        return {"thing": object()}

    with pytest.raises(TypeError, match="cannot be stored as JSON"):
        results.load_or_run(bad, ToyConfig(), mode="missing")
    assert _files(store) == []


def test_config_round_trips_through_json():
    cfg = ToyConfig(size=7, shape=(4, 1))
    stored = json.loads(json.dumps(results.canonical_config(cfg)))
    assert toy.config_from_dict(stored) == cfg
    with pytest.raises(ValueError, match="unknown fields"):
        toy.config_from_dict({"size": 1, "colour": "red"})


def test_ledger_rows(store):
    results.load_or_run(toy, ToyConfig(), mode="missing")
    results.load_or_run(toy, ToyConfig(size=9), mode="missing")
    (store / "toy_store_test" / "0123456789abcdef.json").write_text("{}")
    rows = results.ledger()
    assert [r["status"][:7] for r in rows] == ["corrupt", "ok", "ok"]
    ok = [r for r in rows if r["status"] == "ok"]
    assert {r["config"] for r in ok} == {"cpu", None} and {r["chapter"] for r in ok} == {"toy_chapter"}
    assert all(r["wall_time_s"] >= 0 and r["file"].startswith("toy_store_test/") for r in ok)


# ---------------------------------------------------------------------------------------------------------
# Atomicity and concurrency
# ---------------------------------------------------------------------------------------------------------
KILL_SCRIPT = textwrap.dedent("""
    import sys
    from dataclasses import dataclass
    import numpy as np
    from modscale_lib import store as results

    @dataclass(frozen=True)
    class C:
        size: int = 4
        @classmethod
        def cpu(cls): return cls()
        @classmethod
        def full(cls): return cls()

    i = 0
    def run(cfg):
        return {"i": i, "grid": np.full(200_000, float(i))}

    exp = results.experiment("toy_kill", 1, C)(run)
    print("ready", flush=True)
    while True:
        i += 1
        results.save(exp, C(), run(C()), 0.0, sys.argv[1])
""")


def test_random_kills_during_writes_leave_a_whole_result(tmp_path):
    script = tmp_path / "writer.py"
    script.write_text(KILL_SCRIPT)
    store = tmp_path / "store"
    store.mkdir()
    rng = random.Random(0)
    seen = []
    for _ in range(12):
        proc = subprocess.Popen([sys.executable, str(script), str(store)], stdout=subprocess.PIPE, text=True)
        assert proc.stdout.readline().strip() == "ready"
        time.sleep(rng.uniform(0.01, 0.15))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        paths = results.stored_results(store)
        if paths:  # never a partial result: the whole record and its arrays, consistent
            (path,) = paths
            res = results.read(path)
            assert np.all(res["grid"] == float(res["i"]))
            seen.append(res["i"])
        npz = list((store / "toy_kill").glob("*.npz")) if (store / "toy_kill").exists() else []
        assert len(npz) <= 2  # the current NPZ, and at most one left by the write the kill interrupted
    assert seen and all(i >= 1 for i in seen)


def test_concurrent_writers_of_one_key_do_not_mix(store):
    def writer(n):
        for i in range(8):
            results.save(toy, ToyConfig(), {"who": n, "i": i, "grid": np.full(1000, float(n * 100 + i))}, 0.0)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    (path,) = results.stored_results()
    res = results.read(path)
    assert np.all(res["grid"] == res["who"] * 100 + res["i"])
    assert len(_files(store)) == 2


# ---------------------------------------------------------------------------------------------------------
# Sweeps
# ---------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SweepConfig:
    ms: tuple = (2, 3, 4)
    seeds: tuple = (0, 1, 2)

    @classmethod
    def cpu(cls):
        return cls()

    @classmethod
    def full(cls):
        return cls(ms=(2, 3, 4, 5))


SWEEP_CALLS = []
FAIL_AT = {"n": None, "sleep": 0.0}


def _cell(item):
    if FAIL_AT["n"] is not None and len(SWEEP_CALLS) == FAIL_AT["n"]:
        raise KeyboardInterrupt("killed mid-sweep")
    SWEEP_CALLS.append(item)
    time.sleep(FAIL_AT["sleep"])
    rng = np.random.default_rng([item["m"], item["seed"]])
    return {
        "loss": rng.standard_normal(5),
        "best": float(rng.random()),
        "tag": (item["m"], "x"),
        "count": np.int64(item["m"]),
    }


@results.experiment("toy_sweep", version=1, config_type=SweepConfig, chapter="toy_chapter", sweep=True)
def toy_sweep(cfg, cells):
    items = [{"m": m, "seed": s} for m in cfg.ms for s in cfg.seeds]
    out = cells.map(items, _cell, desc="toy cells")
    return {
        "loss": np.stack([o["loss"] for o in out]),
        "best": [o["best"] for o in out],
        "tags": [o["tag"] for o in out],
        "counts": [o["count"] for o in out],
    }


@pytest.fixture
def sweep_state():
    SWEEP_CALLS.clear()
    FAIL_AT.update(n=None, sleep=0.0)
    yield
    FAIL_AT.update(n=None, sleep=0.0)


def _same(a, b):
    assert a.values == b.values and a.arrays.keys() == b.arrays.keys()
    for k in a.arrays:
        assert a.arrays[k].dtype == b.arrays[k].dtype and a.arrays[k].tobytes() == b.arrays[k].tobytes()


@pytest.mark.parametrize("fail_at", [0, 1, 4, 8])
def test_a_killed_sweep_resumes_to_the_identical_result(tmp_path, sweep_state, fail_at):
    (tmp_path / "a").mkdir(), (tmp_path / "b").mkdir()
    whole = results.load_or_run(toy_sweep, SweepConfig(), mode="missing", root=tmp_path / "a", progress=False)
    assert len(SWEEP_CALLS) == 9
    SWEEP_CALLS.clear()
    FAIL_AT["n"] = fail_at
    with pytest.raises(KeyboardInterrupt):
        results.load_or_run(toy_sweep, SweepConfig(), mode="missing", root=tmp_path / "b", progress=False)
    folder = tmp_path / "b" / "toy_sweep" / f"{whole.key}.cells"
    assert len(list(folder.glob("*.npz"))) == fail_at
    assert not (tmp_path / "b" / "toy_sweep" / f"{whole.key}.json").exists()
    with pytest.raises(MissingResultError, match=f"{fail_at} cells of an interrupted run" if fail_at else "No stored"):
        results.load_or_run(toy_sweep, SweepConfig(), root=tmp_path / "b")
    FAIL_AT["n"] = None
    SWEEP_CALLS.clear()
    resumed = results.load_or_run(toy_sweep, SweepConfig(), mode="missing", root=tmp_path / "b", progress=False)
    assert len(SWEEP_CALLS) == 9 - fail_at  # only the missing cells
    _same(whole, resumed)
    _same(results.read(tmp_path / "b" / "toy_sweep" / f"{whole.key}.json"), whole)
    assert not folder.exists() and resumed.metadata["cells"] == 9
    assert _files(tmp_path / "b") == _files(tmp_path / "a")


def test_a_direct_sweep_call_stores_nothing(tmp_path, sweep_state):
    out = toy_sweep(SweepConfig())
    assert out["loss"].shape == (9, 5) and out["tags"][0] == [2, "x"] and out["counts"][0] == 2
    assert _files(tmp_path) == []


def test_sweep_budget_stops_cleanly_and_resumes(tmp_path, sweep_state):
    FAIL_AT["sleep"] = 0.05
    with pytest.raises(BudgetExhausted) as err:
        results.load_or_run(toy_sweep, SweepConfig(), mode="missing", root=tmp_path, budget_s=0.18, progress=False)
    done = err.value.done
    assert 1 <= done < 9 and err.value.total == 9 and "rerun the same command" in str(err.value)
    key = results.result_key("toy_sweep", 1, SweepConfig())
    assert len(list((tmp_path / "toy_sweep" / f"{key}.cells").glob("*.npz"))) == done
    SWEEP_CALLS.clear()
    res = results.load_or_run(toy_sweep, SweepConfig(), mode="missing", root=tmp_path, progress=False)
    assert len(SWEEP_CALLS) == 9 - done
    # the wall time adds up every cell's, computed in either run
    assert 9 * 0.05 <= res.metadata["wall_time_s"] < 9 * 0.05 + 2
    assert res.metadata["device"].startswith("CPU")


@pytest.mark.parametrize("damage", ["flip", "truncate", "edit", "swap"])
def test_a_damaged_cell_is_an_error_not_recomputed(tmp_path, sweep_state, damage):
    FAIL_AT["n"] = 4
    with pytest.raises(KeyboardInterrupt):
        results.load_or_run(toy_sweep, SweepConfig(), mode="missing", root=tmp_path, progress=False)
    cells = sorted((tmp_path / "toy_sweep").glob("*.cells/*.npz"))
    target = cells[0]
    if damage == "flip":
        blob = bytearray(target.read_bytes())
        blob[len(blob) // 3] ^= 0x10
        target.write_bytes(bytes(blob))
    elif damage == "truncate":
        target.write_bytes(target.read_bytes()[:100])
    elif damage == "edit":  # a consistent NPZ whose record was edited (its wall time)
        with np.load(target) as npz:
            contents = {k: npz[k] for k in npz.files}
        meta = json.loads(contents["__cell__"].tobytes())
        meta["wall_time_s"] = 0.0
        contents["__cell__"] = np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)
        np.savez(target, **contents)
    elif damage == "swap":  # a valid cell filed under another cell's name
        target.write_bytes(cells[1].read_bytes())
    FAIL_AT["n"] = None
    SWEEP_CALLS.clear()
    before = _snapshot(tmp_path)
    with pytest.raises(CorruptResultError, match="stored sweep cell .* Delete .* to recompute that cell"):
        results.load_or_run(toy_sweep, SweepConfig(), mode="missing", root=tmp_path, progress=False)
    assert SWEEP_CALLS == [] and _snapshot(tmp_path) == before


def test_cells_are_checked(tmp_path):
    c = cells_mod.Cells(tmp_path / "c", progress=False)
    with pytest.raises(ValueError, match="items must be distinct"):
        c.map([{"a": 1}, {"a": 1}], lambda item: {})
    with pytest.raises(TypeError, match="items must be a list of dicts"):
        c.map([1, 2], lambda item: {})
    with pytest.raises(TypeError, match="must return a dict"):
        c.map([{"a": 1}], lambda item: [1])
    assert cells_mod.cell_hash({"m": 2, "seed": 1}) == cells_mod.cell_hash({"seed": np.int64(1), "m": 2})


def test_the_store_imports_no_torch_and_no_experiments():
    code = (
        "import sys, modscale_lib.store; "
        "print(sorted(m for m in sys.modules if m == 'torch' or m.startswith('modscale_lib.experiments')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
    source = "".join(path.read_text() for path in sorted(Path(results.__file__).parent.glob("*.py")))
    imports = [line for line in source.splitlines() if line.lstrip().startswith(("import ", "from "))]
    assert imports and not any("experiments" in line or "torch" in line for line in imports)
    assert "importlib.import_module" not in source


def test_two_processes_running_one_sweep_store_one_identical_result(store, sweep_state):
    # Without a shared Dask scheduler, two runs of one sweep do not coordinate: each computes the cells it does
    # not find stored (a cell stored meanwhile is loaded, and a cell stored twice keeps its first copy); the
    # result is the same as one run's, bit for bit.
    cfg, got = SweepConfig(), {}
    alone = toy_sweep(cfg, cells_mod.Cells(None, progress=False))
    SWEEP_CALLS.clear()
    FAIL_AT["sleep"] = 0.02
    workers = [
        threading.Thread(
            target=lambda w=w: got.__setitem__(w, results.load_or_run(toy_sweep, cfg, mode="missing", progress=False))
        )
        for w in range(2)
    ]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    (path,) = results.stored_results()
    for res in (got[0], got[1], results.read(path)):
        assert res["loss"].tobytes() == alone["loss"].tobytes() and res["best"] == alone["best"]
    assert 9 <= len(SWEEP_CALLS) <= 18 and _files(store) == sorted(
        results.read(path).files and [f"toy_sweep/{f}" for f in results.read(path).files]
    )


# ---------------------------------------------------------------------------------------------------------
# Recompute, and cells bound to their result (issue 24)
# ---------------------------------------------------------------------------------------------------------
def _json_path(root, exp, cfg):
    return root / exp.name / f"{results.result_key(exp.name, exp.version, exp.check_config(cfg))}.json"


@pytest.mark.parametrize("how", ["argument", "environment"])
def test_recompute_of_a_stored_sweep_computes_every_cell_again(store, sweep_state, monkeypatch, how):
    cfg = SweepConfig()
    first = results.load_or_run(toy_sweep, cfg, mode="missing", progress=False)
    path = _json_path(store, toy_sweep, cfg)
    before = path.read_bytes()
    time.sleep(1.05)  # the record's date has one-second resolution
    SWEEP_CALLS.clear()
    if how == "environment":
        monkeypatch.setenv("MODSCALE_RESULTS", "recompute")
        again = results.load_or_run(toy_sweep, cfg, progress=False)
    else:
        again = results.load_or_run(toy_sweep, cfg, mode="recompute", progress=False)
    assert sorted(map(str, SWEEP_CALLS)) == sorted(str({"m": m, "seed": s}) for m in cfg.ms for s in cfg.seeds)
    assert path.read_bytes() != before and again.metadata["date"] > first.metadata["date"]
    _same(first, again)  # the cells are deterministic: the same values, recomputed
    _same(results.read(path), again)
    assert again.checksum != first.checksum and _files(store) == [f"toy_sweep/{f}" for f in sorted(again.files)]


def test_recompute_of_a_stored_non_sweep_computes_it_again(store):
    first = results.load_or_run(toy, ToyConfig(), mode="missing", progress=False)
    path = _json_path(store, toy, ToyConfig())
    before = path.read_bytes()
    time.sleep(1.05)
    again = results.load_or_run(toy, ToyConfig(), mode="recompute", progress=False)
    assert len(CALLS) == 2 and path.read_bytes() != before and again.metadata["date"] > first.metadata["date"]
    assert again.values == first.values


def test_a_failed_recompute_of_a_non_sweep_leaves_the_old_record(store):
    @results.experiment("toy_flaky_test", version=1, config_type=ToyConfig)
    def flaky(cfg):
        if STATE["fail"]:
            raise KeyboardInterrupt("killed")
        return {"x": np.arange(3.0)}

    STATE = {"fail": False}
    first = results.load_or_run(flaky, ToyConfig(), mode="missing", progress=False)
    path = _json_path(store, flaky, ToyConfig())
    before = _snapshot(store)
    STATE["fail"] = True
    with pytest.raises(KeyboardInterrupt):
        results.load_or_run(flaky, ToyConfig(), mode="recompute", progress=False)
    assert _snapshot(store) == before and results.read(path).checksum == first.checksum


def test_a_killed_recompute_leaves_the_old_record_and_resumes_from_its_own_cells(store, sweep_state):
    cfg = SweepConfig()
    first = results.load_or_run(toy_sweep, cfg, mode="missing", progress=False)
    path = _json_path(store, toy_sweep, cfg)
    before = path.read_bytes()
    SWEEP_CALLS.clear()
    FAIL_AT["n"] = 4
    with pytest.raises(KeyboardInterrupt):
        results.load_or_run(toy_sweep, cfg, mode="recompute", progress=False)
    # the old record is untouched and readable, in every mode
    assert path.read_bytes() == before
    _same(results.load_or_run(toy_sweep, cfg, progress=False), first)
    assert results.load_or_run(toy_sweep, cfg, mode="missing", progress=False).checksum == first.checksum
    folder = path.with_suffix(".cells")
    assert len(list(folder.glob("*.npz"))) == 4
    # run again, the recompute resumes from its own four cells
    FAIL_AT["n"] = None
    SWEEP_CALLS.clear()
    again = results.load_or_run(toy_sweep, cfg, mode="recompute", progress=False)
    assert len(SWEEP_CALLS) == 5 and path.read_bytes() != before and not folder.exists()
    _same(again, first)
    # and the next recompute replaces that record: it starts from no cells
    SWEEP_CALLS.clear()
    results.load_or_run(toy_sweep, cfg, mode="recompute", progress=False)
    assert len(SWEEP_CALLS) == 9


def test_a_recompute_discards_the_cells_of_an_earlier_run(tmp_path, sweep_state):
    (tmp_path / "a").mkdir(), (tmp_path / "b").mkdir()
    cfg = SweepConfig()
    results.load_or_run(toy_sweep, cfg, mode="missing", root=tmp_path / "a", progress=False)
    SWEEP_CALLS.clear()
    FAIL_AT["n"] = 5  # an interrupted first computation elsewhere: cells of a run that replaces nothing
    with pytest.raises(KeyboardInterrupt):
        results.load_or_run(toy_sweep, cfg, mode="missing", root=tmp_path / "b", progress=False)
    FAIL_AT["n"] = None
    cells = _json_path(tmp_path / "b", toy_sweep, cfg).with_suffix(".cells")
    target = _json_path(tmp_path / "a", toy_sweep, cfg).with_suffix(".cells")
    cells.rename(target)  # left beside the stored result (e.g. a kill between the save and the clean-up)
    SWEEP_CALLS.clear()
    results.load_or_run(toy_sweep, cfg, mode="recompute", root=tmp_path / "a", progress=False)
    assert len(SWEEP_CALLS) == 9 and not target.exists()


def _interrupted(root, exp, cfg, fail_at=4):
    """The cells folder of an interrupted first computation of ``exp`` at ``cfg`` in ``root``."""
    SWEEP_CALLS.clear()
    FAIL_AT["n"] = fail_at
    with pytest.raises(KeyboardInterrupt):
        results.load_or_run(exp, cfg, mode="missing", root=root, progress=False)
    FAIL_AT["n"] = None
    return _json_path(root, exp, cfg).with_suffix(".cells")


@pytest.mark.parametrize("source", ["other_config", "other_version", "other_run"])
def test_cells_of_another_result_are_refused_naming_the_file(tmp_path, sweep_state, source):
    (tmp_path / "a").mkdir(), (tmp_path / "b").mkdir()
    cfg = SweepConfig()
    exp = toy_sweep
    if source == "other_config":  # same items, another config: the module_recovery case
        donor = _interrupted(tmp_path / "b", toy_sweep, SweepConfig(ms=(2, 3, 4, 9)))
    elif source == "other_version":
        twin = results.Experiment("toy_sweep", 2, toy_sweep.func, SweepConfig, sweep=True)
        donor = _interrupted(tmp_path / "b", twin, cfg)
    else:  # cells of a recompute, copied into a first computation's folder
        results.load_or_run(toy_sweep, cfg, mode="missing", root=tmp_path / "b", progress=False)
        SWEEP_CALLS.clear()
        FAIL_AT["n"] = 4
        with pytest.raises(KeyboardInterrupt):
            results.load_or_run(toy_sweep, cfg, mode="recompute", root=tmp_path / "b", progress=False)
        FAIL_AT["n"] = None
        donor = _json_path(tmp_path / "b", toy_sweep, cfg).with_suffix(".cells")
    target = _interrupted(tmp_path / "a", exp, cfg, fail_at=1)
    copied = sorted(set(p.name for p in donor.glob("*.npz")) - set(p.name for p in target.glob("*.npz")))
    assert copied
    for name in copied:
        (target / name).write_bytes((donor / name).read_bytes())
    SWEEP_CALLS.clear()
    with pytest.raises(
        CorruptResultError,
        match=f"stored sweep cell {target}/.*npz is damaged or foreign .*it belongs to toy_sweep key",
    ):
        results.load_or_run(exp, cfg, mode="missing", root=tmp_path / "a", progress=False)
    assert SWEEP_CALLS == [] and not _json_path(tmp_path / "a", exp, cfg).exists()


def test_a_sweep_that_fails_leaves_no_empty_cells_folder(store, sweep_state):
    @results.experiment("toy_sweep_failing", version=1, config_type=SweepConfig, sweep=True)
    def failing(cfg, cells):
        return cells.map([{"m": m} for m in cfg.ms], lambda item: 1 / 0)

    with pytest.raises(ZeroDivisionError):
        results.load_or_run(failing, SweepConfig(), mode="missing", progress=False)
    assert _files(store) == [] and not any(store.glob("*/*.cells"))


def test_an_experiment_cannot_name_a_folder_outside_the_store(tmp_path):
    for name in ("../x", "a/b", "", ".", "..", "x y", "/etc", None):
        with pytest.raises(ValueError, match="identifier"):
            results.Experiment(name, 1, toy.func, ToyConfig)
    store = tmp_path / "store"
    init_store(store)
    exp = results.Experiment("toy_escape", 1, toy.func, ToyConfig)
    object.__setattr__(exp, "name", "../outside")  # past the check, by hand
    with pytest.raises(ValueError, match="names no folder of the store"):
        results.load_or_run(exp, ToyConfig(), mode="missing", root=store)
    with pytest.raises(ValueError, match="names no folder of the store"):
        results.save(exp, ToyConfig(), {"x": 1}, 0.0, store)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["store"] and CALLS == []


def test_new_files_are_written_0644_like_the_committed_ones(tmp_path, sweep_state):
    old = os.umask(0o077)  # even under a strict umask
    try:
        init_store(tmp_path)
        results.load_or_run(toy, ToyConfig(), mode="missing", root=tmp_path, progress=False)
        _interrupted(tmp_path, toy_sweep, SweepConfig())
        files = [p for p in tmp_path.rglob("*") if p.is_file()]
    finally:
        os.umask(old)
    assert len(files) >= 7  # the marker, a JSON, its NPZ, four cells and their folder's identity
    assert {oct(p.stat().st_mode & 0o777) for p in files} == {"0o644"}


def test_the_store_must_be_marked(tmp_path, monkeypatch):
    for root in (tmp_path, tmp_path / "missing"):
        with pytest.raises(StoreLocationError, match="init"):
            results.stored_results(root)
        with pytest.raises(StoreLocationError, match="init"):
            results.load_or_run(toy, ToyConfig(), root=root)
    (tmp_path / "notes.txt").write_text("not a store")
    with pytest.raises(StoreLocationError, match="is not a results store"):
        results.load_or_run(toy, ToyConfig(), mode="missing", root=tmp_path)  # never writes into a non-store
    with pytest.raises(StoreLocationError, match="not empty"):
        init_store(tmp_path)
    home = tmp_path / "home"  # folders with names like experiments, but not holding results: not adopted
    (home / "alice").mkdir(parents=True)
    (home / "alice" / "notes.txt").write_text("x")
    with pytest.raises(StoreLocationError, match="not empty"):
        init_store(home)
    old_store = tmp_path / "old_store"  # a store made before the marker existed is adopted by init
    old_store.mkdir()
    init_store(old_store)
    results.load_or_run(toy, ToyConfig(), mode="missing", root=old_store, progress=False)
    (old_store / STORE_MARKER).unlink()
    with pytest.raises(StoreLocationError, match="init"):
        results.stored_results(old_store)
    init_store(old_store)
    assert len(results.stored_results(old_store)) == 1
    CALLS.clear()
    empty = tmp_path / "empty"
    empty.mkdir()  # an empty folder named as the store of a computation becomes one
    results.load_or_run(toy, ToyConfig(), mode="missing", root=empty, progress=False)
    assert (empty / STORE_MARKER).is_file() and len(results.stored_results(empty)) == 1
    assert CALLS == [ToyConfig()] and sorted(p.name for p in tmp_path.iterdir()) == [
        "empty",
        "home",
        "notes.txt",
        "old_store",
    ]


def test_files_that_are_not_regular_or_too_large_are_refused_not_read(store, monkeypatch):
    res = results.load_or_run(toy, ToyConfig(), mode="missing", progress=False)
    json_path = store / "toy_store_test" / f"{res.key}.json"
    npz_path = json_path.with_name(res.files[1])
    npz_path.unlink()
    npz_path.symlink_to("/dev/zero")
    t0 = time.monotonic()
    with pytest.raises(CorruptResultError, match="a character device, not a regular file"):
        results.read(json_path)
    npz_path.unlink()
    json_path.unlink()
    os.mkfifo(json_path)
    with pytest.raises(CorruptResultError, match="a FIFO, not a regular file"):
        results.load_or_run(toy, ToyConfig(), progress=False)
    assert time.monotonic() - t0 < 5
    json_path.unlink()
    res = results.load_or_run(toy, ToyConfig(), mode="missing", progress=False)
    monkeypatch.setattr(storage, "MAX_JSON_BYTES", 100)
    with pytest.raises(CorruptResultError, match="more than the 100 a stored file may hold"):
        results.read(json_path)
    with pytest.raises(ValueError, match="its record take .* more than the 100 a stored file may hold"):
        results.save(toy, ToyConfig(size=9), {"x": 1}, 0.0)
    monkeypatch.setattr(storage, "MAX_JSON_BYTES", 2**20)
    monkeypatch.setattr(storage, "MAX_FILE_BYTES", 100)
    with pytest.raises(CorruptResultError, match=f"{res.files[1]}, which cannot be read .*more than the 100"):
        results.read(json_path)
    with pytest.raises(ValueError, match="more than the 100 a stored file may hold"):
        results.save(toy, ToyConfig(size=9), {"big": np.zeros(1000)}, 0.0)
    assert not any(store.glob("toy_store_test/*.tmp")) and len(results.stored_results()) == 1


def test_malformed_records_are_reported_not_raised_through(store):
    res = results.load_or_run(toy, ToyConfig(), mode="missing", progress=False)
    json_path = store / "toy_store_test" / f"{res.key}.json"

    def resealed(edit):
        record = json.loads(json_path.read_text())
        edit(record)
        record.pop("checksum")
        record["checksum"] = _registry.sha256(_registry.canonical_json(record))
        json_path.write_text(json.dumps(record))

    original = json_path.read_text()
    for edit in (
        lambda r: r.update(arrays=[1, "grid"]),
        lambda r: r.update(npz_sha256=5),
        lambda r: r.update(arrays="grid"),
    ):
        json_path.write_text(original)
        resealed(edit)
        with pytest.raises(CorruptResultError):
            results.read(json_path)
    json_path.write_text("[" * 100_000 + "]" * 100_000)  # nested too deeply for the parser
    with pytest.raises(CorruptResultError, match="nested too deeply"):
        results.read(json_path)


def test_a_cells_folder_that_is_a_link_is_refused(store, sweep_state, tmp_path_factory):
    elsewhere = tmp_path_factory.mktemp("elsewhere")
    folder = _json_path(store, toy_sweep, SweepConfig()).with_suffix(".cells")
    folder.parent.mkdir()
    folder.symlink_to(elsewhere)
    with pytest.raises(StoreLocationError, match="not a folder of cells"):
        results.load_or_run(toy_sweep, SweepConfig(), mode="missing", progress=False)
    assert SWEEP_CALLS == [] and not any(elsewhere.iterdir())


def test_a_planted_npz_cannot_unpack_to_more_than_the_bound(monkeypatch):
    blob = storage.npz_bytes({"zeros": np.zeros(100_000)})  # 800 kB of zeros compress to a few kB
    monkeypatch.setattr(storage, "MAX_FILE_BYTES", 10_000)
    assert len(blob) < 10_000
    with pytest.raises(ValueError, match="would unpack to"):
        storage.load_npz(blob)


def test_config_seeds_are_bounded_before_computing():
    import dataclasses

    import modscale_lib.experiments  # noqa: F401  (every experiment's config)
    from modscale_lib.core import CONFIG_SEED_MAX

    checked = 0
    for exp in list(results.REGISTRY.values()):
        if not exp.config_type.__module__.startswith("modscale_lib."):
            continue  # the toy experiments of the tests
        cfg = exp.config("cpu")
        for f in dataclasses.fields(cfg):
            if f.name in ("seed", "seeds") or (f.name.endswith(("_seed", "_seeds")) and not f.name.startswith("n_")):
                for bad in (CONFIG_SEED_MAX + 1, 2**63, 2**64, -1):
                    value = (bad,) if isinstance(getattr(cfg, f.name), tuple) else bad
                    with pytest.raises(ValueError, match=f"{f.name}.* must be a whole number"):
                        dataclasses.replace(cfg, **{f.name: value})
                checked += 1
    assert checked >= 10


def test_size_caps_are_below_the_machines_memory():
    from modscale_lib import core as validation

    if validation.MEMORY_BYTES is not None:
        assert validation.MAX_ELEMENTS * 8 <= validation.MEMORY_BYTES / 4
    with pytest.raises(ValueError, match=r"n \* input_dim asks for .* GiB of float64\), more than"):
        validation.check_size(validation.MAX_ELEMENTS + 1, "n * input_dim")
    assert validation.check_size(validation.MAX_ELEMENTS, "n") == validation.MAX_ELEMENTS


def test_one_variable_switches_every_chapter_between_scales(monkeypatch):
    from modscale_lib import experiments

    monkeypatch.delenv("MODSCALE_CONFIG", raising=False)
    assert results.config_name() == "cpu"
    for exp in results.REGISTRY.values():  # every experiment defines each scale, so every chapter can switch
        assert results.chapter_config(exp) == exp.config("cpu")
    monkeypatch.setenv("MODSCALE_CONFIG", " Full ")
    assert results.config_name() == "full"
    assert results.chapter_config(experiments.pinv_moment) == experiments.pinv_moment.config("full")
    assert results.chapter_config(experiments.pinv_moment, "cpu") == experiments.pinv_moment.config("cpu")
    monkeypatch.setenv("MODSCALE_CONFIG", "gpu")
    with pytest.raises(ValueError, match="MODSCALE_CONFIG must be one of cpu, full; got 'gpu'"):
        results.chapter_config(experiments.pinv_moment)
