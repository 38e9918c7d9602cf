"""The results store: keys, round trips, corruption, the three modes, and the command line."""
import json
import subprocess
import sys
from dataclasses import dataclass

import numpy as np
import pytest

from modscale_lib import results
from modscale_lib.results import CorruptResultError, MissingResultError


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


CALLS = []


@results.experiment("toy_store_test", version=3, config_type=ToyConfig)
def toy(cfg):
    CALLS.append(cfg)
    return {"total": cfg.size * cfg.scale, "label": "toy", "nested": {"a": [1, 2]},
            "grid": np.arange(cfg.size, dtype=np.float64) * cfg.scale, "ints": np.ones(cfg.shape, dtype=np.int64)}


@pytest.fixture(autouse=True)
def _reset_calls():
    CALLS.clear()


def _files(root):
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())


def test_round_trip(store):
    cfg = ToyConfig(size=5)
    first = results.load_or_run(toy, cfg, mode="missing")
    again = results.load_or_run(toy, cfg)  # default mode: read
    assert len(CALLS) == 1
    assert again.values == {"total": 7.5, "label": "toy", "nested": {"a": [1, 2]}}
    np.testing.assert_array_equal(again["grid"], np.arange(5) * 1.5)
    assert again["ints"].dtype == np.int64 and again["ints"].shape == (2, 3)
    assert again.key == first.key == results.result_key("toy_store_test", 3, cfg)
    assert _files(store) == [f"toy_store_test/{first.key}.json", f"toy_store_test/{first.key}.npz"]
    meta = again.metadata
    assert {"modscale_version", "torch_version", "device", "wall_time_s", "date"} <= set(meta)
    assert meta["wall_time_s"] >= 0 and meta["date"].startswith("20")
    assert again.config == {"size": 5, "scale": 1.5, "shape": [2, 3]}
    with pytest.raises(KeyError, match="no entry 'absent'"):
        again["absent"]


def test_key_depends_on_name_version_and_config_only():
    base = results.result_key("toy_store_test", 3, ToyConfig())
    assert len(base) == 16 and int(base, 16) >= 0
    assert results.result_key("toy_store_test", 3, {"shape": [2, 3], "scale": 1.5, "size": 4}) == base
    assert results.result_key("toy_store_test", 4, ToyConfig()) != base
    assert results.result_key("other", 3, ToyConfig()) != base
    assert results.result_key("toy_store_test", 3, ToyConfig(scale=1.5000001)) != base
    assert results.result_key("toy_store_test", 3, ToyConfig(size=np.int64(4))) == base


def test_key_is_stable_across_processes():
    code = ("from modscale_lib.results import result_key; "
            "print(result_key('toy_store_test', 3, {'size': 4, 'scale': 1.5, 'shape': [2, 3]}))")
    keys = {subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                           env={"PYTHONHASHSEED": seed, "PATH": ""}).stdout.strip() for seed in ("0", "1", "12345")}
    assert keys == {results.result_key("toy_store_test", 3, ToyConfig())}


def test_read_mode_names_the_command(store):
    with pytest.raises(MissingResultError) as err:
        results.load_or_run(toy, ToyConfig())
    assert "python -m modscale_lib.results compute toy_store_test --scale cpu" in str(err.value)
    with pytest.raises(MissingResultError) as err:
        results.load_or_run(toy, ToyConfig(size=9))
    assert ("python -m modscale_lib.results compute toy_store_test --config "
            "'{\"scale\":1.5,\"shape\":[2,3],\"size\":9}'") in str(err.value)
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
    assert len(_files(store)) == 2  # replaced in place, no temporary files left behind


def test_default_config_is_the_cpu_scale(store):
    res = results.load_or_run(toy, mode="missing")
    assert res.key == results.result_key("toy_store_test", 3, ToyConfig.cpu())


def test_bad_mode_is_rejected(store, monkeypatch):
    monkeypatch.setenv("MODSCALE_RESULTS", "sometimes")
    with pytest.raises(ValueError, match="MODSCALE_RESULTS must be one of read, missing, recompute"):
        results.load_or_run(toy, ToyConfig())
    with pytest.raises(ValueError, match="mode must be one of"):
        results.load_or_run(toy, ToyConfig(), mode="always")


def test_failed_computation_writes_nothing(store):
    @results.experiment("toy_failing_test", version=1, config_type=ToyConfig)
    def failing(cfg):
        raise FloatingPointError("diverged")

    with pytest.raises(FloatingPointError):
        results.load_or_run(failing, ToyConfig(), mode="missing")
    assert _files(store) == []


@pytest.mark.parametrize("damage", ["truncate_json", "garbage_json", "truncate_npz", "drop_npz",
                                    "edit_config", "rename", "drop_field"])
@pytest.mark.parametrize("mode", ["read", "missing", "recompute"])
def test_corruption_is_detected_and_never_overwritten(store, damage, mode):
    res = results.load_or_run(toy, ToyConfig(), mode="missing")
    json_path = store / "toy_store_test" / f"{res.key}.json"
    npz_path = json_path.with_suffix(".npz")
    if damage == "truncate_json":
        json_path.write_bytes(json_path.read_bytes()[:40])
    elif damage == "garbage_json":
        json_path.write_text("not json at all")
    elif damage == "truncate_npz":
        npz_path.write_bytes(npz_path.read_bytes()[:-10])
    elif damage == "drop_npz":
        npz_path.unlink()
    elif damage == "edit_config":
        record = json.loads(json_path.read_text())
        record["config"]["scale"] = 2.0
        json_path.write_text(json.dumps(record))
    elif damage == "rename":
        # a valid result filed under the key of another config
        other = results.result_key("toy_store_test", 3, ToyConfig(size=9))
        json_path.rename(json_path.with_name(f"{other}.json"))
        npz_path.rename(npz_path.with_name(f"{other}.npz"))
        json_path = json_path.with_name(f"{other}.json")
    elif damage == "drop_field":
        record = json.loads(json_path.read_text())
        del record["metadata"]
        json_path.write_text(json.dumps(record))
    before = {p: p.read_bytes() for p in store.rglob("*") if p.is_file()}
    CALLS.clear()
    cfg = ToyConfig(size=9) if damage == "rename" else ToyConfig()
    with pytest.raises(CorruptResultError, match="Delete .* and recompute"):
        results.load_or_run(toy, cfg, mode=mode)
    assert CALLS == []
    assert {p: p.read_bytes() for p in store.rglob("*") if p.is_file()} == before


def test_outputs_must_be_storable(store):
    @results.experiment("toy_bad_output_test", version=1, config_type=ToyConfig)
    def bad(cfg):
        return {"thing": object()}

    with pytest.raises(TypeError, match="cannot be stored as JSON"):
        results.load_or_run(bad, ToyConfig(), mode="missing")
    with pytest.raises(ValueError, match="name must be a Python identifier"):
        results.experiment("has space", 1, ToyConfig)


def test_config_round_trips_through_json():
    cfg = ToyConfig(size=7, shape=(4, 1))
    stored = json.loads(json.dumps(results._plain(cfg)))
    assert toy.config_from_dict(stored) == cfg
    with pytest.raises(ValueError, match="unknown fields"):
        toy.config_from_dict({"size": 1, "colour": "red"})
    with pytest.raises(ValueError, match="scale must be 'cpu' or 'full'"):
        toy.scale("huge")


def test_command_line(store, capsys):
    root = str(store)
    assert results.main(["--root", root, "list"]) == 0
    assert "the store is empty" in capsys.readouterr().out
    tiny = '{"p": 3, "n_min": 8, "n_max": 12, "trials": 50, "seed": 1}'
    assert results.main(["--root", root, "compute", "pinv_moment", "--config", tiny]) == 0
    assert results.main(["--root", root, "verify"]) == 0
    out = capsys.readouterr().out
    assert "1 ok, 0 with problems" in out
    (path,) = sorted((store / "pinv_moment").glob("*.json"))
    before = path.stat().st_mtime_ns
    assert results.main(["--root", root, "recompute", "pinv_moment"]) == 0
    assert path.stat().st_mtime_ns != before  # recomputed with its stored config, under the same key
    assert results.main(["--root", root, "compute", "no_such_experiment"]) == 2
    path.write_text("{}")
    assert results.main(["--root", root, "verify"]) == 1
    assert "CORRUPT" in capsys.readouterr().out


def test_module_runs_as_a_script(store):
    out = subprocess.run([sys.executable, "-m", "modscale_lib.results", "--root", str(store), "verify"],
                         capture_output=True, text=True, check=True).stdout
    assert "0 ok, 0 with problems" in out
