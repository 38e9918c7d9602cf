"""Load-independent accounting (issue 13): process CPU time and the machine's load beside the wall time, in
every newly stored cell and result; older files without them still load, and the ledger shows "-"."""

import io
import json
import time
from dataclasses import dataclass

import numpy as np
import pytest

import modscale_lib.__main__ as cli
from modscale_lib import store as results  # the results store (``store`` is the fixture of an empty one)
from modscale_lib.store import _sweeps as cells_mod  # white-box checks of the cells' records
from modscale_lib.store._files import Meter, load_average, mean_load
from modscale_lib.store._registry import canonical_json as _canonical, sha256 as _sha256


@dataclass(frozen=True)
class BudgetConfig:
    n: int = 6

    @classmethod
    def cpu(cls):
        return cls()


STATE = {"fail_at": None, "calls": 0}
budget_sweep = budget_plain = None  # registered by the fixture ``state``


def _burn(seconds: float) -> float:
    """Busy work for about ``seconds`` of CPU time (not sleep: sleeping costs no CPU)."""
    end, x = time.process_time() + seconds, 0.0
    while time.process_time() < end:
        x += sum(i * 1e-9 for i in range(200))
    return x


def _cell(item):
    if STATE["fail_at"] is not None and STATE["calls"] == STATE["fail_at"]:
        raise KeyboardInterrupt("killed mid-sweep")
    STATE["calls"] += 1
    _burn(0.02)
    return {"v": np.random.default_rng(item["i"]).standard_normal(4), "i": item["i"]}


def _budget_sweep(cfg, cells):
    out = cells.map([{"i": i} for i in range(cfg.n)], _cell, desc="budget cells")
    return {"v": np.stack([o["v"] for o in out]), "i": [o["i"] for o in out]}


def _budget_plain(cfg):
    _burn(0.05)
    return {"total": cfg.n}


@pytest.fixture
def state(monkeypatch):
    """The toy experiments, registered for this test only (other tests list every registered experiment)."""
    global budget_sweep, budget_plain
    saved = dict(results.REGISTRY)
    budget_sweep = results.experiment(
        "budget_sweep_test", version=1, config_type=BudgetConfig, chapter="budget_chapter", configs=("cpu",), sweep=True
    )(_budget_sweep)
    budget_plain = results.experiment(
        "budget_plain_test", version=1, config_type=BudgetConfig, chapter="budget_chapter", configs=("cpu",)
    )(_budget_plain)
    monkeypatch.setattr(cli, "_load_registry", lambda: None)
    STATE.update(fail_at=None, calls=0)
    yield
    STATE.update(fail_at=None, calls=0)
    results.REGISTRY.clear()
    results.REGISTRY.update(saved)


def _cell_record(path):
    with np.load(path, allow_pickle=False) as npz:
        return json.loads(npz[cells_mod._META].tobytes())


def _as_written_by_old_code(path):
    """Rewrite a stored cell as the code before issue 24 wrote it: format 1, not bound to its result."""
    with np.load(path, allow_pickle=False) as npz:
        contents = {k: npz[k] for k in npz.files}
    record = json.loads(contents.pop(cells_mod._META).tobytes())
    for field in ("experiment", "version", "key", "replaces", "checksum"):
        record.pop(field)
    record["format"] = 1
    record["checksum"] = _sha256(_canonical(record))
    buf = io.BytesIO()
    np.savez(buf, **contents, **{cells_mod._META: np.frombuffer(_canonical(record).encode(), dtype=np.uint8)})
    path.write_bytes(buf.getvalue())


def test_meter_measures_cpu_not_sleep():
    meter = Meter()
    _burn(0.05)
    time.sleep(0.05)
    m = meter.stop()
    assert m["wall_time_s"] >= 0.1 and 0.04 <= m["cpu_time_s"] < m["wall_time_s"]
    assert len(m["load_avg"]) == 2 and all(v is None or v >= 0 for v in m["load_avg"])
    assert load_average() is None or load_average() >= 0
    assert mean_load([1.0, None, 3.0]) == 2.0 and mean_load([None, None]) is None and mean_load(None) is None


def test_a_sweep_records_cpu_time_per_cell_and_in_all(tmp_path, state):
    STATE["fail_at"] = 3
    with pytest.raises(KeyboardInterrupt):
        results.load_or_run(budget_sweep, BudgetConfig(), mode="missing", root=tmp_path, progress=False)
    key = results.result_key("budget_sweep_test", 1, BudgetConfig())
    stored = sorted((tmp_path / "budget_sweep_test" / f"{key}.cells").glob("*.npz"))
    records = [_cell_record(p) for p in stored]
    assert len(records) == 3 and all(r["format"] == cells_mod.CELL_FORMAT == 2 for r in records)
    assert all(0.015 <= r["cpu_time_s"] <= r["wall_time_s"] + 0.05 for r in records)
    assert all(len(r["load_avg"]) == 2 for r in records)
    STATE["fail_at"] = None
    res = results.load_or_run(budget_sweep, BudgetConfig(), mode="missing", root=tmp_path, progress=False)
    meta = res.metadata
    assert meta["cells"] == 6 and meta["cpu_time_s"] >= 6 * 0.015 and "cells_with_cpu_time" not in meta
    assert meta["cpu_time_s"] >= sum(r["cpu_time_s"] for r in records)
    assert meta["load_avg"] is None or meta["load_avg"] >= 0
    row = next(r for r in results.ledger(tmp_path) if r["experiment"] == "budget_sweep_test")
    assert row["cpu_time_s"] == pytest.approx(meta["cpu_time_s"]) and row["wall_time_s"] >= row["cpu_time_s"] - 0.1


def test_cells_stored_by_older_code_are_refused_naming_the_folder(tmp_path, state):
    # Cells of format 1 do not say which result they belong to: they could have been copied from another
    # config's folder, so they are never used; the error names the folder to delete.
    STATE.update(fail_at=2, calls=0)
    with pytest.raises(KeyboardInterrupt):
        results.load_or_run(budget_sweep, BudgetConfig(), mode="missing", root=tmp_path, progress=False)
    key = results.result_key("budget_sweep_test", 1, BudgetConfig())
    folder = tmp_path / "budget_sweep_test" / f"{key}.cells"
    for path in folder.glob("*.npz"):
        _as_written_by_old_code(path)
    STATE.update(fail_at=None, calls=0)
    with pytest.raises(results.CorruptResultError, match=f"format 1.*delete the folder {folder}"):
        results.load_or_run(budget_sweep, BudgetConfig(), mode="missing", root=tmp_path, progress=False)
    assert STATE["calls"] == 0


def test_a_plain_result_records_cpu_time(tmp_path, state):
    res = results.load_or_run(budget_plain, BudgetConfig(), mode="missing", root=tmp_path, progress=False)
    assert 0.04 <= res.metadata["cpu_time_s"] <= res.metadata["wall_time_s"] + 0.05
    again = results.read(tmp_path / "budget_plain_test" / f"{res.key}.json")
    assert again.metadata["cpu_time_s"] == res.metadata["cpu_time_s"] and "load_avg" in again.metadata


def test_old_metadata_loads_and_the_budget_shows_a_dash(tmp_path, capsys, state):
    # as stored before issue 13: wall time only
    old = results.save(
        budget_sweep,
        BudgetConfig(),
        {"v": np.zeros((6, 4)), "i": list(range(6))},
        120.0,
        tmp_path,
        extra_metadata={"cells": 6},
    )
    assert "cpu_time_s" not in old.metadata and "load_avg" not in old.metadata
    results.load_or_run(budget_plain, BudgetConfig(), mode="missing", root=tmp_path, progress=False)
    rows = {r["experiment"]: r for r in results.ledger(tmp_path)}
    assert rows["budget_sweep_test"]["cpu_time_s"] is None and rows["budget_sweep_test"]["load_avg"] is None
    assert rows["budget_plain_test"]["cpu_time_s"] > 0
    assert cli.main(["--root", str(tmp_path), "budget"]) == 0
    out = capsys.readouterr().out
    line = next(ln for ln in out.splitlines() if ln.startswith("budget_sweep_test"))
    assert line.split()[3:6] == ["2.0", "-", "-"]  # wall minutes, CPU "-", load "-"
    plain = next(ln for ln in out.splitlines() if ln.startswith("budget_plain_test")).split()
    assert plain[4] != "-"
    assert "(1 of 2)" in out and "per chapter:" in out and "total:" in out
    assert cli.main(["--root", str(tmp_path), "budget", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["cpu_results"] == 1 and data["chapters"]["budget_chapter"]["cpu_results"] == 1
    assert "load_avg" in data and "load_avg" in data["chapters"]["budget_chapter"]
    assert data["total_minutes"] == pytest.approx(sum(r["wall_time_s"] for r in data["rows"]) / 60)
    assert data["total_cpu_minutes"] == pytest.approx(rows["budget_plain_test"]["cpu_time_s"] / 60)
