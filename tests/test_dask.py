"""A sweep's cells on Dask (issue 25): a LocalCluster of two workers, one killed mid-sweep, gives the same result,
bit for bit, as a run in this process; the store stays the single source of truth."""

import os
import signal
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

import modscale_lib.__main__ as cli
from modscale_lib import store as results  # the results store (``store`` is the fixture of an empty one)
from modscale_lib.store import (
    BudgetExhausted,
    _cluster as cluster,  # its connection timeout, shortened in a test
    dask_client,
    init_store,
)

distributed = pytest.importorskip("distributed", reason="dask[distributed] is in requirements.txt")
import cloudpickle  # noqa: E402  (comes with distributed)

# The workers cannot import this test module: its functions travel by value.
cloudpickle.register_pickle_by_value(sys.modules[__name__])

MARKS = "MODSCALE_TEST_DASK_MARKS"  # where each cell notes that it started, and in which process


@dataclass(frozen=True)
class DaskConfig:
    n: int = 8
    sleep: float = 0.3

    @classmethod
    def cpu(cls):
        return cls()

    @classmethod
    def full(cls):
        return cls(n=12)


def _cell(item, sleep):
    marks = os.environ.get(MARKS)
    if marks:
        Path(marks, f"{item['i']}-{os.getpid()}-{time.monotonic_ns()}").touch()
    time.sleep(sleep)
    rng = np.random.default_rng([item["i"], 7])
    return {"x": rng.standard_normal(5), "best": float(rng.random()), "tag": [item["i"], "t"]}


def _toy_dask(cfg, cells):
    out = cells.map([{"i": i} for i in range(cfg.n)], lambda item: _cell(item, cfg.sleep), desc="dask toy")
    return {"x": np.stack([o["x"] for o in out]), "best": [o["best"] for o in out], "tags": [o["tag"] for o in out]}


toy_dask = results.Experiment("toy_dask_test", 1, _toy_dask, DaskConfig, sweep=True)


@pytest.fixture(scope="module", autouse=True)
def registered():
    """The toy experiment in the registry for these tests only (other tests list every registered one)."""
    results.REGISTRY[toy_dask.name] = toy_dask
    yield
    results.REGISTRY.pop(toy_dask.name, None)


@pytest.fixture(scope="module")
def marks(tmp_path_factory):
    folder = tmp_path_factory.mktemp("marks")
    os.environ[MARKS] = str(folder)  # before the workers start: they inherit it
    yield folder
    os.environ.pop(MARKS, None)


@pytest.fixture(scope="module")
def client(marks):
    with dask_client(workers=2) as c:
        yield c


def _started(marks, with_time=False):
    """(cell, process id[, monotonic ns]) of every cell start noted so far."""
    return [tuple(int(v) for v in p.name.split("-")[: 3 if with_time else 2]) for p in marks.iterdir()]


def _clear(marks):
    for p in marks.iterdir():
        p.unlink()


def _same(a, b):
    assert a.values == b.values and a.arrays.keys() == b.arrays.keys()
    for k in a.arrays:
        assert a.arrays[k].dtype == b.arrays[k].dtype and a.arrays[k].tobytes() == b.arrays[k].tobytes()


def _store(path):
    path.mkdir()
    init_store(path)
    return path


def test_a_sweep_on_two_workers_with_one_killed_equals_the_run_in_this_process(client, marks, tmp_path):
    here = results.load_or_run(toy_dask, DaskConfig(), mode="missing", root=_store(tmp_path / "here"), progress=False)
    _clear(marks)
    pids = set(client.run(os.getpid).values())
    killed = {}

    def kill_a_worker_midway():
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            started = [s for s in _started(marks, with_time=True) if s[1] in pids]
            running = [(i, pid) for i, pid, t in started if 0.05 < (time.monotonic_ns() - t) / 1e9 < 0.2]
            if len(started) >= 3 and running:  # a third cell has started: kill a process halfway through a cell
                i, pid = running[0]
                killed.update(cell=i, pid=pid)
                os.kill(pid, signal.SIGKILL)
                return
            time.sleep(0.01)

    killer = threading.Thread(target=kill_a_worker_midway)
    killer.start()
    there = results.load_or_run(
        toy_dask, DaskConfig(), mode="missing", root=_store(tmp_path / "there"), progress=False, client=client
    )
    killer.join()
    assert killed, "no worker was killed"
    _same(there, here)
    _same(results.read(tmp_path / "there" / "toy_dask_test" / f"{there.key}.json"), here)
    assert there.key == here.key and there.metadata["cells"] == 8
    started = _started(marks)
    assert len({pid for _, pid in started}) >= 2  # the cells ran on the workers
    assert os.getpid() not in {pid for _, pid in started}  # none in this process
    assert [i for i, _ in started].count(killed["cell"]) >= 2  # the killed cell was computed again
    assert not (tmp_path / "there" / "toy_dask_test" / f"{there.key}.cells").exists()


def test_two_clients_of_one_scheduler_compute_each_cell_once(client, marks, tmp_path):
    store = _store(tmp_path / "store")
    _clear(marks)
    got = {}

    def run(w):
        with distributed.Client(client.scheduler.address) as c:
            got[w] = results.load_or_run(
                toy_dask, DaskConfig(n=6), mode="missing", root=store, progress=False, client=c
            )

    threads = [threading.Thread(target=run, args=(w,)) for w in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(i for i, _ in _started(marks)) == list(range(6))  # each cell once: Dask runs one task per key
    _same(got[0], got[1])


def test_a_budget_stops_a_sweep_on_dask_and_this_process_resumes_it(client, marks, tmp_path):
    store = _store(tmp_path / "store")
    with pytest.raises(BudgetExhausted) as err:
        results.load_or_run(
            toy_dask,
            DaskConfig(n=12, sleep=0.2),
            mode="missing",
            root=store,
            progress=False,
            client=client,
            budget_s=0.5,
        )
    assert 1 <= err.value.done < 12
    _clear(marks)
    resumed = results.load_or_run(toy_dask, DaskConfig(n=12, sleep=0.2), mode="missing", root=store, progress=False)
    assert len(_started(marks)) == 12 - err.value.done
    _same(
        resumed,
        results.load_or_run(
            toy_dask, DaskConfig(n=12, sleep=0.2), mode="missing", root=_store(tmp_path / "here"), progress=False
        ),
    )


@pytest.fixture
def toys(monkeypatch):
    monkeypatch.setattr(cli, "_load_registry", lambda: None)


def test_the_command_line_runs_cells_on_a_scheduler_or_on_its_own_cluster(
    client, marks, tmp_path, toys, capsys, monkeypatch
):
    store = _store(tmp_path / "store")
    for argv in (("--scheduler", client.scheduler.address), ("--workers", "2")):
        _clear(marks)
        code = cli.main(
            [
                "--root",
                str(store),
                "compute",
                "toy_dask_test",
                "--config-json",
                '{"n": 3, "sleep": 0.0}',
                "--force",
                *argv,
            ]
        )
        out = capsys.readouterr().out
        assert code == 0 and "toy_dask_test/" in out
        assert len(_started(marks)) == 3 and os.getpid() not in {pid for _, pid in _started(marks)}
    monkeypatch.setattr(cluster, "CONNECT_TIMEOUT_S", 1)
    code = cli.main(["--root", str(store), "compute", "toy_dask_test", "--scheduler", "tcp://127.0.0.1:9"])
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("error: cannot reach a Dask scheduler at tcp://127.0.0.1:9")
    with distributed.LocalCluster(n_workers=0, processes=False, dashboard_address=":0") as idle:
        code = cli.main(
            ["--root", str(store), "compute", "toy_dask_test", "--force", "--scheduler", idle.scheduler_address]
        )
    err = capsys.readouterr().err
    assert code == 2 and "has no workers" in err and err.startswith("error: ")  # not a wait without end
