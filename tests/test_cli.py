"""The command line, ``python -m modscale_lib``, against toy experiments in a temporary store."""
import json
import subprocess
import sys
import time
from dataclasses import dataclass

import numpy as np
import pytest

import modscale_lib.__main__ as cli
from modscale_lib import results


@dataclass(frozen=True)
class CliConfig:
    size: int = 3

    @classmethod
    def cpu(cls):
        return cls()

    @classmethod
    def full(cls):
        return cls(size=5)


@dataclass(frozen=True)
class CliSweepConfig:
    n: int = 6
    sleep: float = 0.0

    @classmethod
    def cpu(cls):
        return cls(n=3)

    @classmethod
    def full(cls):
        return cls(n=8, sleep=0.04)


CALLS = []


def _fast(cfg):
    CALLS.append(("fast", cfg))
    return {"total": cfg.size * 2, "grid": np.arange(cfg.size)}


def _cpu_only(cfg):
    CALLS.append(("cpu_only", cfg))
    return {"total": cfg.size}


def _failing(cfg):
    raise FloatingPointError("diverged")


def _sweep(cfg, cells):
    def one(item):
        CALLS.append(("cell", item["i"]))
        time.sleep(cfg.sleep)
        return {"x": np.full(3, float(item["i"]))}

    out = cells.map([{"i": i} for i in range(cfg.n)], one, desc="cli cells")
    return {"x": np.stack([o["x"] for o in out])}


@pytest.fixture
def toys(store, monkeypatch):
    """A registry of toy experiments only (the real ones are never imported), and an empty store."""
    saved = dict(results.REGISTRY)
    results.REGISTRY.clear()
    monkeypatch.setattr(cli, "_load_registry", lambda: None)
    CALLS.clear()
    yield {
        "fast": results.experiment("cli_fast", 1, CliConfig, chapter="chapter_a")(_fast),
        "cpu_only": results.experiment("cli_cpu_only", 1, CliConfig, chapter="chapter_b", configs=("cpu",))(_cpu_only),
        "sweep": results.experiment("cli_sweep", 1, CliSweepConfig, chapter="chapter_a", sweep=True)(_sweep),
    }
    results.REGISTRY.clear()
    results.REGISTRY.update(saved)


def run(capsys, *argv):
    code = cli.main(["--root", str(results.results_dir()), *argv])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_compute_list_verify(toys, capsys):
    assert run(capsys, "list")[:2] == (0, "the store is empty\n")
    assert run(capsys, "compute", "cli_fast")[0] == 0
    assert run(capsys, "compute", "cli_fast", "--config", "cpu")[0] == 0  # already stored: read, not computed
    assert [c for c, _ in CALLS] == ["fast"]
    code, out, _ = run(capsys, "list")
    assert code == 0 and "cli_fast" in out and " cpu " in out and "results/cli_fast/" in out
    code, out, _ = run(capsys, "verify")
    assert code == 0 and "1 ok, 0 with problems, 0 unread, 0 in progress, 0 stray files" in out
    assert run(capsys, "compute", "cli_fast", "--force")[0] == 0
    assert [c for c, _ in CALLS] == ["fast", "fast"]


def test_unread_results_warn_and_fail_only_when_strict(toys, capsys, store):
    assert run(capsys, "compute", "cli_fast", "--config-json", '{"size": 7}')[0] == 0
    code, out, _ = run(capsys, "verify")
    assert code == 0 and "UNREAD" in out and "no chapter reads it" in out and "1 unread" in out
    key = results.result_key("cli_fast", 1, CliConfig(size=7))
    assert f"rm {store / 'cli_fast' / f'{key}.json'} {store / 'cli_fast' / key}." in out
    assert run(capsys, "verify", "--strict")[0] == 1


def test_usage_errors(toys, capsys, tmp_path):
    code, _, err = run(capsys, "compute", "no_such_experiment")
    assert code == 2 and "unknown experiment 'no_such_experiment'" in err
    code, _, err = run(capsys, "compute", "cli_cpu_only", "--config", "full")
    assert code == 2 and "config name must be one of" in err
    code, _, err = run(capsys, "compute", "cli_fast", "--config-json", '{"size": 2.5}')
    assert code == 2 and "bad config" in err
    code, _, err = run(capsys, "compute", "cli_fast", "--config-json", '{"colour": 1}')
    assert code == 2 and "unknown fields" in err
    code, _, err = run(capsys, "compute")
    assert code == 2 and "name an experiment" in err
    code, _, err = run(capsys, "compute", "--all", "--config", "huge")
    assert code == 2 and "no registered experiment defines the config 'huge'" in err
    for command in ("list", "verify", "budget"):
        code = cli.main(["--root", str(tmp_path / "typo"), command])
        assert code == 2 and "does not exist" in capsys.readouterr().err
    assert CALLS == []


def test_verify_reports_every_kind_of_problem(toys, capsys, store, monkeypatch):
    for name in ("cli_fast", "cli_cpu_only"):
        assert run(capsys, "compute", name)[0] == 0
    (store / "cli_fast" / "0123456789abcdef.json").write_text("{}")
    (store / "cli_fast" / "0123456789abcdef.aaaaaaaaaaaa.npz").write_bytes(b"left over")
    code, out, _ = run(capsys, "verify")
    assert code == 1 and "CORRUPT" in out and "STRAY" in out and "1 stray files" in out
    (store / "cli_fast" / "0123456789abcdef.json").unlink()
    (store / "cli_fast" / "0123456789abcdef.aaaaaaaaaaaa.npz").unlink()
    assert run(capsys, "verify")[0] == 0
    results.REGISTRY["cli_fast"] = results.Experiment("cli_fast", 2, _fast, CliConfig, "chapter_a")
    del results.REGISTRY["cli_cpu_only"]
    code, out, _ = run(capsys, "verify")
    assert code == 1 and "STALE" in out and "ORPHAN" in out and "0 ok, 2 with problems" in out


def test_malformed_metadata_is_reported_not_a_crash(toys, capsys, store):
    assert run(capsys, "compute", "cli_fast")[0] == 0
    (path,) = store.glob("cli_fast/*.json")
    record = json.loads(path.read_text())
    record["metadata"]["wall_time_s"] = "fast"
    path.write_text(json.dumps(record))
    for command in ("list", "budget"):
        code, out, _ = run(capsys, command)
        assert code == 0 and "corrupt" in out.lower()
    code, out, _ = run(capsys, "budget", "--json")
    assert code == 0 and json.loads(out)["rows"][0]["status"].startswith("corrupt")
    assert run(capsys, "verify")[0] == 1


def test_budgeted_sweep_reports_progress_and_resumes(toys, capsys, store):
    code, out, _ = run(capsys, "compute", "cli_sweep", "--config", "full", "--budget-s", "0.15")
    assert code == 0 and "PROGRESS" in out and "rerun the same command" in out
    done = len([c for c in CALLS if c[0] == "cell"])
    assert 1 <= done < 8
    code, out, _ = run(capsys, "verify")
    assert code == 0 and "IN PROGRESS" in out and f"{done} cells stored" in out
    assert "resume with python -m modscale_lib compute cli_sweep --config full" in out
    assert run(capsys, "list")[1] == "the store is empty\n"
    code, out, _ = run(capsys, "compute", "cli_sweep", "--config", "full")
    assert code == 0 and len([c for c in CALLS if c[0] == "cell"]) == 8
    code, out, _ = run(capsys, "verify")
    assert code == 0 and "1 ok, 0 with problems, 0 unread, 0 in progress" in out


def test_compute_all_stops_before_the_budget_and_continues(toys, capsys, store):
    code, out, _ = run(capsys, "compute", "--all", "--config", "full", "--budget-s", "0.15")
    assert code == 0 and "PROGRESS" in out
    assert ("fast", CliConfig(size=5)) in CALLS and not any(c[0] == "cpu_only" for c in CALLS)  # no full config
    for _ in range(20):  # chunks until done
        code, out, _ = run(capsys, "compute", "--all", "--config", "full", "--budget-s", "0.15")
        assert code == 0
        if "PROGRESS" not in out:
            break
    assert sorted(p.parent.name for p in results.stored_results()) == ["cli_fast", "cli_sweep"]
    assert len([c for c in CALLS if c[0] == "cell"]) == 8 and len([c for c in CALLS if c[0] == "fast"]) == 1


def test_compute_all_goes_on_past_a_failure(toys, capsys):
    results.experiment("cli_failing", 1, CliConfig)(_failing)
    code, out, _ = run(capsys, "compute", "--all", "--config", "cpu")
    assert code == 1 and "FAILED       cli_failing: FloatingPointError: diverged" in out
    assert sorted(p.parent.name for p in results.stored_results()) == ["cli_cpu_only", "cli_fast", "cli_sweep"]


def test_recompute_uses_the_stored_configs(toys, capsys, store):
    assert run(capsys, "compute", "cli_fast", "--config-json", '{"size": 4}')[0] == 0
    (path,) = store.glob("cli_fast/*.json")
    before = path.stat().st_mtime_ns
    CALLS.clear()
    assert run(capsys, "recompute", "cli_fast")[0] == 0
    assert CALLS == [("fast", CliConfig(size=4))] and path.stat().st_mtime_ns != before
    assert run(capsys, "recompute", "cli_cpu_only")[0] == 0  # nothing stored: its cpu config
    assert CALLS[-1] == ("cpu_only", CliConfig())
    assert run(capsys, "recompute")[0] == 2


def test_budget_prints_the_ledger(toys, capsys):
    for name in ("cli_fast", "cli_cpu_only", "cli_sweep"):
        assert run(capsys, "compute", name)[0] == 0
    code, out, _ = run(capsys, "budget")
    assert code == 0 and "per chapter:" in out and "chapter_a" in out and "chapter_b" in out
    assert "total:" in out and "over 3 results" in out
    code, out, _ = run(capsys, "budget", "--json")
    data = json.loads(out)
    assert code == 0 and len(data["rows"]) == 3 and data["chapters"]["chapter_a"]["results"] == 2
    assert data["total_minutes"] == pytest.approx(sum(r["wall_time_s"] for r in data["rows"]) / 60)
    assert {r["config"] for r in data["rows"]} == {"cpu"}


def test_module_runs_as_a_script(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "modscale_lib", "--root", str(tmp_path), "verify"],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert "0 ok, 0 with problems" in proc.stdout
