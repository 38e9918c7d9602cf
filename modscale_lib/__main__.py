"""The results store's command line: ``python -m modscale_lib list | verify | compute | recompute | budget``.

::

    python -m modscale_lib list                                   # stored results, with their provenance
    python -m modscale_lib verify [--strict]                      # checksums, keys, versions, unread results
    python -m modscale_lib compute NAME [--config cpu | --config-json JSON] [--force] [--budget-s S]
    python -m modscale_lib compute --all --config full --budget-s 540    # every experiment with a full config
    python -m modscale_lib recompute [NAME ...] [--all]           # redo stored results at their configs
    python -m modscale_lib budget [--json]                        # the compute ledger: wall, CPU, load

Exit status: 0 on success, including a budgeted run that stopped early with its progress stored (it says
so; rerun the same command to continue); 1 when ``verify`` finds a problem or a computation failed; 2 for
a usage error (an unknown experiment or config, a missing store). ``verify`` warns about stored results
that no chapter reads (UNREAD: their config is none of their experiment's named configs) and about
sweeps in progress; ``--strict`` makes UNREAD results fail too.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from . import results
from .cells import IDENTITY, BudgetExhausted
from .results import CorruptResultError, StoreLocationError
from .storage import weighted_load


class UsageError(Exception):
    """A command that cannot run as given (exit status 2)."""


def _load_registry() -> None:
    import modscale_lib.experiments  # noqa: F401  (registers every experiment)


def _registry() -> dict:
    return results.REGISTRY


def _experiment(name: str) -> results.Experiment:
    reg = _registry()
    if name not in reg:
        raise UsageError(f"unknown experiment {name!r}; registered: {', '.join(sorted(reg))}")
    return reg[name]


def _config(exp: results.Experiment, name: str | None = None, json_text: str | None = None):
    try:
        config = exp.config_from_dict(json.loads(json_text)) if json_text else exp.config(name)
        exp.check_config(config)
        return config
    except (TypeError, ValueError) as exc:
        raise UsageError(f"bad config for {exp.name}: {exc}") from exc


def _cmd_list(args: argparse.Namespace) -> int:
    paths = results.stored_results(args.root)
    if not paths:
        print("the store is empty")
    for path in paths:
        try:
            res = results.read(path)
        except CorruptResultError as exc:
            print(f"CORRUPT  {path}: {exc}")
            continue
        exp = _registry().get(res.experiment)
        name = (exp.config_name(res.config) if exp else None) or "-"
        print(f"{res.experiment:<26} v{res.version} {res.key} {name:<14} {res.provenance()}")
    return 0


def _cmd_verify(args: argparse.Namespace) -> int:
    root = results._root(args.root)
    counts = dict.fromkeys(("ok", "bad", "unread", "in_progress", "stray"), 0)
    referenced = set()
    for path in results.stored_results(root):
        rel = f"{path.parent.name}/{path.name}"
        try:
            res = results.read(path)
        except CorruptResultError as exc:
            print(f"CORRUPT      {exc}")
            counts["bad"] += 1
            continue
        files = [root / res.experiment / f for f in res.files]
        referenced.update(files)
        exp = _registry().get(res.experiment)
        if exp is None:
            print(f"ORPHAN       {rel}: no registered experiment is called {res.experiment!r}")
        elif exp.version != res.version:
            print(f"STALE        {rel}: stored at version {res.version}, the code is at version {exp.version}")
        else:
            try:
                exp.config_from_dict(res.config)
            except (TypeError, ValueError) as exc:
                print(f"INVALID      {rel}: its config is no longer valid ({exc})")
            else:
                if exp.config_name(res.config) is None:
                    print(f"UNREAD       {rel}: its config is none of {exp.name}'s named configs "
                          f"{exp.configs}, so no chapter reads it; delete it with:\n"
                          f"                 rm {' '.join(str(f) for f in files)}")
                    counts["unread"] += 1
                else:
                    print(f"ok           {rel}")
                counts["ok"] += 1
                continue
        counts["bad"] += 1
    for folder in sorted(root.glob("*/*.cells")):
        n = len(list(folder.glob("*.npz")))
        if folder.with_suffix(".json").exists():
            print(f"LEFTOVER     {folder}: cells of a stored result ({n}); delete the folder")
            continue
        counts["in_progress"] += 1
        try:
            ident = json.loads((folder / IDENTITY).read_text())
            resume = _experiment(ident["experiment"]).command(
                _experiment(ident["experiment"]).config_from_dict(ident["config"]))
        except (OSError, ValueError, KeyError, UsageError, TypeError):
            resume = "the command that started it"
        print(f"IN PROGRESS  {folder}: {n} cells stored; resume with {resume}")
    for stray in sorted(set(root.glob("*/*.npz")) - referenced) + sorted(root.glob("*/.*.tmp")):
        print(f"STRAY        {stray}: not part of any stored result (left by an interrupted write); delete it")
        counts["stray"] += 1
    print(f"{counts['ok']} ok, {counts['bad']} with problems, {counts['unread']} unread, "
          f"{counts['in_progress']} in progress, {counts['stray']} stray files")
    return 1 if counts["bad"] or (args.strict and counts["unread"]) else 0


def _compute(exp: results.Experiment, config, mode: str, root, deadline: float | None) -> bool:
    """Compute one result; True when it is stored, False when its budget ran out first."""
    budget = None if deadline is None else max(deadline - time.monotonic(), 1e-3)
    try:
        res = results.load_or_run(exp, config, mode=mode, root=root, budget_s=budget)
    except BudgetExhausted as exc:
        print(f"PROGRESS     {exp.name}: {exc}\n             resume with: {exp.command(config)}"
              f"{' --budget-s S' if deadline is not None else ''}")
        return False
    print(f"{res.experiment}/{res.key}: {res.provenance()}")
    return True


def _cmd_compute(args: argparse.Namespace) -> int:
    deadline = None if args.budget_s is None else time.monotonic() + args.budget_s
    mode = "recompute" if args.force else "missing"
    if args.all:
        if args.experiment or args.config_json:
            raise UsageError("compute --all takes a config name (--config), not an experiment or --config-json")
        todo = [e for _, e in sorted(_registry().items()) if args.config in e.configs]
        if not todo:
            raise UsageError(f"no registered experiment defines the config {args.config!r}")
        failed = []
        for i, exp in enumerate(todo):
            if deadline is not None and time.monotonic() >= deadline:
                print(f"PROGRESS     budget spent before {', '.join(e.name for e in todo[i:])}; rerun to continue")
                break
            try:
                if not _compute(exp, _config(exp, args.config), mode, args.root, deadline):
                    break
            except Exception as exc:  # one failure does not stop the others
                print(f"FAILED       {exp.name}: {type(exc).__name__}: {exc}")
                failed.append(exp.name)
        return 1 if failed else 0
    if not args.experiment:
        raise UsageError("name an experiment to compute, or pass --all")
    exp = _experiment(args.experiment)
    config = _config(exp, args.config, args.config_json)
    _compute(exp, config, mode, args.root, deadline)
    return 0


def _cmd_recompute(args: argparse.Namespace) -> int:
    names = sorted(_registry()) if args.all else args.experiments
    if not names:
        raise UsageError("name experiments to recompute, or pass --all")
    exps = [_experiment(n) for n in names]
    root = results._root(args.root)
    deadline = None if args.budget_s is None else time.monotonic() + args.budget_s
    for exp in exps:
        configs = [exp.config_from_dict(results.read(p).config) for p in sorted((root / exp.name).glob("*.json"))]
        for config in configs or [_config(exp, args.config)]:  # nothing stored yet: the named config
            if not _compute(exp, config, "recompute", root, deadline):
                return 0
    return 0


def _minutes(seconds: float | None, width: int = 7) -> str:
    return f"{'-':>{width}}" if seconds is None else f"{seconds / 60:{width}.1f}"


def _cpu_total(entry: dict) -> str:
    """CPU minutes of a group of results, noting when only some of them recorded it."""
    if not entry["cpu_results"]:
        return f"{'-':>7}"
    note = "" if entry["cpu_results"] == entry["results"] else f" ({entry['cpu_results']} of {entry['results']})"
    return f"{entry['cpu_minutes']:7.1f}{note}"


def _load(entry: dict) -> str:
    return f"{'-':>5}" if entry["load_avg"] is None else f"{entry['load_avg']:5.1f}"


def _totals(rows: list[dict]) -> dict:
    """Wall and CPU minutes of ledger rows (CPU over the rows that record it) and their mean load, weighted by
    wall time."""
    cpu = [r["cpu_time_s"] for r in rows if r["cpu_time_s"] is not None]
    return {"results": len(rows), "minutes": sum(r["wall_time_s"] for r in rows) / 60, "cpu_results": len(cpu),
            "cpu_minutes": sum(cpu) / 60, "load_avg": weighted_load((r["load_avg"], r["wall_time_s"]) for r in rows)}


def _cmd_budget(args: argparse.Namespace) -> int:
    rows = results.ledger(args.root)
    counted = [r for r in rows if r["wall_time_s"] is not None]
    groups: dict[str, list[dict]] = {}
    for row in counted:
        groups.setdefault(row["chapter"] or "(no chapter)", []).append(row)
    chapters = {name: _totals(group) for name, group in groups.items()}
    overall = _totals(counted)
    total = overall["minutes"]
    if args.json:
        print(json.dumps({"rows": rows, "chapters": chapters, "total_minutes": total,
                          "total_cpu_minutes": overall["cpu_minutes"], "cpu_results": overall["cpu_results"],
                          "load_avg": overall["load_avg"]},
                         indent=1))
        return 0
    print("wall: elapsed minutes (inflated by whatever else ran); CPU: this process's CPU minutes (- where not "
          "recorded); load: the machine's mean load average while it ran")
    print(f"{'experiment':<26} {'key':<16} {'config':<14} {'wall':>7} {'CPU':>7} {'load':>5}  {'date':<10}  "
          f"{'chapter':<20} device")
    for row in rows:
        if row["wall_time_s"] is None:
            print(f"{row['experiment']:<26} {row['key']:<16} {row['status'][:100]}")
            continue
        load = "-" if row["load_avg"] is None else f"{row['load_avg']:.1f}"
        print(f"{row['experiment']:<26} {row['key']:<16} {row['config'] or '-':<14} {_minutes(row['wall_time_s'])} "
              f"{_minutes(row['cpu_time_s'])} {load:>5}  {row['date'][:10]:<10}  {row['chapter'] or '-':<20} "
              f"{row['device']}")
    print("\nper chapter:")
    for name, entry in sorted(chapters.items()):
        print(f"  {name:<28} wall {entry['minutes']:7.1f} min, CPU {_cpu_total(entry)} min, load {_load(entry)}  "
              f"({entry['results']} results)")
    bad = sum(r["wall_time_s"] is None for r in rows)
    print(f"total: {total:.1f} min over {len(rows) - bad} results" + (f" ({bad} damaged, not counted)" if bad else "")
          + f"; CPU {_cpu_total(overall).strip()} min; load {_load(overall).strip()}")
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m modscale_lib", description=__doc__.split("\n")[0])
    parser.add_argument("--root", type=Path, default=None, help="the store's folder (default: results/)")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("list", help="list stored results with their provenance").set_defaults(func=_cmd_list)
    p = sub.add_parser("verify", help="check every stored result (checksums, keys, versions, readers)")
    p.add_argument("--strict", action="store_true", help="fail on results no chapter reads (UNREAD)")
    p.set_defaults(func=_cmd_verify)
    p = sub.add_parser("compute", help="compute an experiment at a named config or a JSON config, if absent")
    p.add_argument("experiment", nargs="?")
    p.add_argument("--all", action="store_true", help="every experiment that defines the --config name")
    group = p.add_mutually_exclusive_group()
    group.add_argument("--config", default="cpu", help="a named config (default: cpu)")
    group.add_argument("--config-json", help="the config as JSON (as a missing-result error prints it)")
    p.add_argument("--force", action="store_true", help="recompute even if stored")
    p.add_argument("--budget-s", type=float, help="stop cleanly (sweeps resume later) before this many seconds")
    p.set_defaults(func=_cmd_compute)
    p = sub.add_parser("recompute", help="recompute the stored results of some experiments, or of all")
    p.add_argument("experiments", nargs="*")
    p.add_argument("--all", action="store_true")
    p.add_argument("--config", default="cpu", help="named config for an experiment with nothing stored yet")
    p.add_argument("--budget-s", type=float)
    p.set_defaults(func=_cmd_recompute)
    p = sub.add_parser("budget", help="the compute ledger: wall and CPU time, load, per result, per chapter and in all")
    p.add_argument("--json", action="store_true", help="print the ledger as JSON")
    p.set_defaults(func=_cmd_budget)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    _load_registry()
    try:
        return args.func(args)
    except (UsageError, StoreLocationError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
