"""The results store's command line: ``python -m modscale_lib list | verify | compute | recompute | budget | init``.

::

    python -m modscale_lib list                                   # stored results, with their provenance
    python -m modscale_lib verify [--strict]                      # checksums, keys, versions, cells, unread results
    python -m modscale_lib compute NAME [--config cpu | --config-json JSON] [--force] [--budget-s S]
    python -m modscale_lib compute --all --config full --budget-s 540    # every experiment with a full config
    python -m modscale_lib recompute [NAME ...] [--all]           # redo stored results at their configs
    python -m modscale_lib budget [--json]                        # the compute ledger: wall, CPU, load
    python -m modscale_lib --root DIR init                        # make a new, empty store in DIR

``compute`` and ``recompute`` run a sweep's cells in this process, or on Dask: ``--workers N`` starts a
local cluster of N worker processes, ``--scheduler ADDRESS`` uses a running Dask scheduler (whose workers
must see the store at the same path).

Exit status: 0 on success, including a budgeted run that stopped early with its progress stored (it says
so; rerun the same command to continue); 1 when ``verify`` finds a problem or a computation failed; 2 for
an error the user must fix (a usage error, an unknown experiment or config, a folder that is not a store, a
damaged stored result, a full disk), printed as one ``error:`` line that says what to do; 130 when
interrupted. ``--traceback`` shows the traceback of an error instead. ``verify`` warns about stored results
that no chapter reads (UNREAD: their config is none of their experiment's named configs) and about sweeps in
progress; ``--strict`` makes UNREAD results fail too.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import math
import sys
import time
from pathlib import Path

from . import store
from .store import MAX_WORKERS, BudgetExhausted, CorruptResultError, StoreLocationError, dask_client


class UsageError(Exception):
    """A command that cannot run as given (exit status 2)."""


class ComputationFailed(Exception):
    """An experiment's own computation raised (exit status 1)."""


def _load_registry() -> None:
    import modscale_lib.experiments  # noqa: F401  (registers every experiment)


def _registry() -> dict:
    return store.REGISTRY


def _experiment(name: str) -> store.Experiment:
    reg = _registry()
    if name not in reg:
        raise UsageError(f"unknown experiment {name!r}; registered: {', '.join(sorted(reg))}")
    return reg[name]


def _config(exp: store.Experiment, name: str | None = None, json_text: str | None = None):
    try:
        config = exp.config_from_dict(store.parse_config_json(json_text)) if json_text is not None else exp.config(name)
        exp.check_config(config)
        return config
    except Exception as exc:  # whatever the config's own checks raise
        raise UsageError(f"bad config for {exp.name}: {exc}") from exc


def _cmd_init(args: argparse.Namespace) -> int:
    root = store.results_dir() if args.root is None else args.root
    store.init_store(root)
    print(f"{root} is a results store")
    return 0


def _cmd_list(args: argparse.Namespace) -> int:
    paths = store.stored_results(args.root)
    if not paths:
        print("the store is empty")
    for path in paths:
        try:
            res = store.read(path)
        except CorruptResultError as exc:
            print(f"CORRUPT  {path}: {exc}")
            continue
        exp = _registry().get(res.experiment)
        name = (exp.config_name(res.config) if exp else None) or "-"
        print(f"{res.experiment:<26} v{res.version} {res.key} {name:<14} {res.provenance()}")
    return 0


def _cmd_verify(args: argparse.Namespace) -> int:
    counts = store.verify_store(store.store_root(args.root), _registry(), print)
    return 1 if counts["bad"] or (args.strict and counts["unread"]) else 0


def _will_compute(exp: store.Experiment, config, mode: str, root) -> bool:
    key = store.result_key(exp.name, exp.version, exp.check_config(config))
    return mode == "recompute" or not (store.store_root(root) / exp.name / f"{key}.json").exists()


def _compute(exp: store.Experiment, config, mode: str, root, deadline: float | None, client) -> bool:
    """Compute one result; True when it is stored, False when its budget ran out first."""
    budget = None if deadline is None else max(deadline - time.monotonic(), 0.0)
    if budget is not None and budget > 0 and not exp.sweep and _will_compute(exp, config, mode, root):
        print(
            f"NOTE         {exp.name} is not a sweep: it cannot stop part-way, and may run past the "
            f"{budget:.0f} s left",
            flush=True,
        )
    try:
        res = store.load_or_run(exp, config, mode=mode, root=root, budget_s=budget, client=client)
    except BudgetExhausted as exc:
        print(
            f"PROGRESS     {exp.name}: {exc}\n             resume with: {exp.command(config)}"
            f"{' --force' if mode == 'recompute' else ''}{' --budget-s S' if deadline is not None else ''}"
        )
        return False
    except (CorruptResultError, StoreLocationError, OSError, UsageError):
        raise
    except Exception as exc:  # the experiment's own computation failed
        raise ComputationFailed(f"computing {exp.name} failed: {type(exc).__name__}: {exc}") from exc
    print(f"{res.experiment}/{res.key}: {res.provenance()}")
    return True


def _client(args: argparse.Namespace):
    """Where a sweep's cells run (a context manager): here, or on the Dask cluster the options name."""
    _check_where(args)
    return dask_client(workers=args.workers, scheduler=args.scheduler)


def _check_where(args: argparse.Namespace) -> None:
    if args.workers is not None or args.scheduler is not None:
        if importlib.util.find_spec("distributed") is None:
            raise UsageError("--workers and --scheduler need Dask: pip install 'dask[distributed]'")
        if args.scheduler is not None and not args.scheduler.strip():
            raise UsageError("--scheduler needs the address of a running Dask scheduler, e.g. tcp://host:8786")


def _cmd_compute(args: argparse.Namespace) -> int:
    deadline = None if args.budget_s is None else time.monotonic() + args.budget_s
    mode = "recompute" if args.force else "missing"
    root = store.store_root(args.root)
    args.config = args.config or "cpu"  # no default in the parser, which then sees --config with --config-json
    if args.all:
        if args.experiment or args.config_json is not None:
            raise UsageError("compute --all takes a config name (--config), not an experiment or --config-json")
        todo = [e for _, e in sorted(_registry().items()) if args.config in e.configs]
        if not todo:
            raise UsageError(f"no registered experiment defines the config {args.config!r}")
        failed, damaged = [], []
        with _client(args) as client:
            for i, exp in enumerate(todo):
                if deadline is not None and time.monotonic() >= deadline:
                    print(f"PROGRESS     budget spent before {', '.join(e.name for e in todo[i:])}; rerun to continue")
                    break
                try:
                    if not _compute(exp, _config(exp, args.config), mode, root, deadline, client):
                        break
                except (CorruptResultError, StoreLocationError, OSError) as exc:  # the others go on
                    print(f"FAILED       {exp.name}: {_one_line(exc)}")
                    damaged.append(exp.name)
                except (ComputationFailed, UsageError) as exc:
                    cause = exc.__cause__ if isinstance(exc, ComputationFailed) else exc
                    print(f"FAILED       {exp.name}: {type(cause).__name__}: {cause}")
                    failed.append(exp.name)
        if damaged:
            raise UsageError(
                f"{', '.join(damaged)} could not be computed (see FAILED above): fix or delete the "
                f"damaged files named there and rerun"
            )
        if failed:
            raise ComputationFailed(f"{', '.join(failed)} failed (see FAILED above); the others are stored")
        return 0
    if not args.experiment:
        raise UsageError("name an experiment to compute, or pass --all")
    exp = _experiment(args.experiment)
    config = _config(exp, args.config, args.config_json)
    _check_where(args)
    if not exp.sweep and (args.workers is not None or args.scheduler is not None):
        print(f"NOTE         {exp.name} is not a sweep: it runs in this process, not on Dask")
        args.workers = args.scheduler = None
    with _client(args) as client:
        _compute(exp, config, mode, root, deadline, client)
    return 0


def _cmd_recompute(args: argparse.Namespace) -> int:
    names = sorted(_registry()) if args.all else args.experiments
    if not names:
        raise UsageError("name experiments to recompute, or pass --all")
    exps = [_experiment(n) for n in names]
    root = store.store_root(args.root)
    deadline = None if args.budget_s is None else time.monotonic() + args.budget_s
    damaged = []
    with _client(args) as client:
        for exp in exps:
            configs = []
            for path in store.stored_results(root):
                if path.parent.name != exp.name:
                    continue
                try:
                    configs.append(exp.config_from_dict(store.read(path).config))
                except CorruptResultError as exc:  # reported; the others are recomputed
                    print(f"CORRUPT      {_one_line(exc)}")
                    damaged.append(str(path))
                except Exception as exc:  # whatever the config's own checks raise
                    print(f"INVALID      {path}: its config is no longer valid ({exc}); not recomputed")
                    damaged.append(str(path))
            if not configs and not any(p.parent.name == exp.name for p in store.stored_results(root)):
                configs = [_config(exp, args.config)]  # nothing stored yet: the named config
            for config in configs:
                if not _compute(exp, config, "recompute", root, deadline, client):
                    return 0
    if damaged:
        raise UsageError(
            f"{len(damaged)} stored result(s) could not be recomputed (see above): restore them from "
            f"git or delete them, then rerun"
        )
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


def _cmd_budget(args: argparse.Namespace) -> int:
    rows = store.ledger(args.root)
    counted = [r for r in rows if r["wall_time_s"] is not None]
    groups: dict[str, list[dict]] = {}
    for row in counted:
        groups.setdefault(row["chapter"] or "(no chapter)", []).append(row)
    chapters = {name: store.ledger_totals(group) for name, group in groups.items()}
    overall = store.ledger_totals(counted)
    total = overall["minutes"]
    if args.json:
        print(
            json.dumps(
                {
                    "rows": rows,
                    "chapters": chapters,
                    "total_minutes": total,
                    "total_cpu_minutes": overall["cpu_minutes"],
                    "cpu_results": overall["cpu_results"],
                    "load_avg": overall["load_avg"],
                },
                indent=1,
            )
        )
        return 0
    print(
        "wall: elapsed minutes (inflated by whatever else ran); CPU: this process's CPU minutes (- where not "
        "recorded); load: the machine's mean load average while it ran"
    )
    print(
        f"{'experiment':<26} {'key':<16} {'config':<14} {'wall':>7} {'CPU':>7} {'load':>5}  {'date':<10}  "
        f"{'chapter':<20} device"
    )
    for row in rows:
        if row["wall_time_s"] is None:
            print(f"{row['experiment']:<26} {row['key']:<16} {row['status'][:100]}")
            continue
        load = "-" if row["load_avg"] is None else f"{row['load_avg']:.1f}"
        print(
            f"{row['experiment']:<26} {row['key']:<16} {row['config'] or '-':<14} {_minutes(row['wall_time_s'])} "
            f"{_minutes(row['cpu_time_s'])} {load:>5}  {row['date'][:10]:<10}  {row['chapter'] or '-':<20} "
            f"{row['device']}"
        )
    print("\nper chapter:")
    for name, entry in sorted(chapters.items()):
        print(
            f"  {name:<28} wall {entry['minutes']:7.1f} min, CPU {_cpu_total(entry)} min, load {_load(entry)}  "
            f"({entry['results']} results)"
        )
    bad = sum(r["wall_time_s"] is None for r in rows)
    print(
        f"total: {total:.1f} min over {len(rows) - bad} results"
        + (f" ({bad} damaged, not counted)" if bad else "")
        + f"; CPU {_cpu_total(overall).strip()} min; load {_load(overall).strip()}"
    )
    return 0


# The parser ---------------------------------------------------------------------------------------------------
class _Parser(argparse.ArgumentParser):
    """argparse, with its errors as one ``error:`` line that points to ``--help`` (exit status 2)."""

    def error(self, message: str):
        self.exit(2, f"error: {message}; see {self.prog} --help\n")


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number of seconds, got {text!r}") from None
    if not math.isfinite(value) or value < 0:
        raise argparse.ArgumentTypeError(f"must be a finite number of seconds >= 0, got {text!r}")
    return value


def _workers(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number of worker processes, got {text!r}") from None
    if not 1 <= value <= MAX_WORKERS:
        raise argparse.ArgumentTypeError(f"must be in [1, {MAX_WORKERS}] (4 per core of this machine), got {text!r}")
    return value


def _where(p: argparse.ArgumentParser) -> None:
    """The options that choose where a sweep's cells run, and for how long."""
    p.add_argument(
        "--budget-s",
        type=_seconds,
        metavar="S",
        help="stop cleanly before S seconds (a sweep keeps its finished cells; rerun to resume)",
    )
    group = p.add_mutually_exclusive_group()
    group.add_argument(
        "--workers",
        type=_workers,
        metavar="N",
        help="run a sweep's cells on a local Dask cluster of N worker processes",
    )
    group.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="run a sweep's cells on the running Dask scheduler at ADDRESS (tcp://host:8786); its "
        "workers must see the store at the same path",
    )


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m modscale_lib", description=__doc__.split("\n")[0])
    parser.add_argument(
        "--root",
        type=Path,
        default=None,
        help="the store's folder (default: results/ of the checkout, or MODSCALE_RESULTS_DIR)",
    )
    parser.add_argument("--traceback", action="store_true", help="show the traceback of an error")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("init", help="make a new, empty results store in --root").set_defaults(func=_cmd_init)
    sub.add_parser("list", help="list stored results with their provenance").set_defaults(func=_cmd_list)
    p = sub.add_parser("verify", help="check every stored result and sweep cell (checksums, keys, versions, readers)")
    p.add_argument("--strict", action="store_true", help="fail on results no chapter reads (UNREAD)")
    p.set_defaults(func=_cmd_verify)
    p = sub.add_parser("compute", help="compute an experiment at a named config or a JSON config, if absent")
    p.add_argument("experiment", nargs="?")
    p.add_argument("--all", action="store_true", help="every experiment that defines the --config name")
    group = p.add_mutually_exclusive_group()
    group.add_argument("--config", help="a named config (default: cpu)")
    group.add_argument("--config-json", help="the config as a JSON object (as a missing-result error prints it)")
    p.add_argument("--force", action="store_true", help="recompute even if stored (every cell of a sweep again)")
    _where(p)
    p.set_defaults(func=_cmd_compute)
    p = sub.add_parser("recompute", help="recompute the stored results of some experiments, or of all")
    p.add_argument("experiments", nargs="*")
    p.add_argument("--all", action="store_true")
    p.add_argument("--config", default="cpu", help="named config for an experiment with nothing stored yet")
    _where(p)
    p.set_defaults(func=_cmd_recompute)
    p = sub.add_parser("budget", help="the compute ledger: wall and CPU time, load, per result, per chapter and in all")
    p.add_argument("--json", action="store_true", help="print the ledger as JSON")
    p.set_defaults(func=_cmd_budget)
    return parser


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.func is not _cmd_init:
            store.store_root(args.root)  # a folder that is not a store is refused before the experiments load
        _load_registry()
        return args.func(args)
    except KeyboardInterrupt:
        if args.traceback:
            raise
        print("error: interrupted; what was finished is stored: rerun the same command to resume", file=sys.stderr)
        return 130
    except ComputationFailed as exc:
        if args.traceback:
            raise
        print(f"error: {_one_line(exc)} (rerun with --traceback to see where)", file=sys.stderr)
        return 1
    except (UsageError, StoreLocationError, CorruptResultError) as exc:
        if args.traceback:
            raise
        print(f"error: {_one_line(exc)}", file=sys.stderr)
        return 2
    except ConnectionError as exc:  # no Dask scheduler at the address given (the message says what to do)
        if args.traceback:
            raise
        print(f"error: {_one_line(exc)}", file=sys.stderr)
        return 2
    except OSError as exc:  # a full disk, a permission: the store cannot be written or read
        if args.traceback:
            raise
        print(f"error: {_one_line(exc)}; free space or fix the permissions of the store, then rerun", file=sys.stderr)
        return 2
    except Exception as exc:  # anything else is still one line, never a traceback
        if args.traceback:
            raise
        print(f"error: {type(exc).__name__}: {_one_line(exc)} (rerun with --traceback to see where)", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
