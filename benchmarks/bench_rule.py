"""The learning rule's three speed targets (issue 25), in one run: process CPU seconds per call on one thread.

    OMP_NUM_THREADS=1 python benchmarks/bench_rule.py [--seeds 3] [--slow-seeds 1] [--skip-slow]

Targets, each on its own task and data (task seed s, samples drawn with seed 100 + s):

1. ``NonSeparableTask`` (bump plus ridge modules), n = 6000, m = 12, K = 3, b = 2: <= 1 s, grouped overlap >= 0.99;
2. the same family, n = 20000, m = 128, K = 4, b = 2: <= 20 s;
3. ``SineWaveTask``, n = 4096, m = 32, K = 2, b = 1: <= 1 s.

For each, one table row per method, on the same data: the rule's default (``variant="auto"``, resolved to the
variant it runs), the rule's ``grouped`` (b >= 2) or ``backfit`` (b = 1) variant as it was the default before,
and the moment methods SAVE, pHd, SIR and the moment span (which estimate the span of all modules only). Columns:
CPU seconds per call (the mean over seeds; the moment methods' over 20 repeats per seed), union and grouped
overlap with the true modules (means over seeds), and the ratio of the method's CPU time to each moment method's
(the mean of the per-seed ratios). Every call is timed with ``time.process_time`` after one warm-up call of
each method (imports, first-call allocations), single-threaded (the rule runs on one thread whatever the
caller's setting; the moment methods are numpy, one BLAS thread under ``OMP_NUM_THREADS=1``). The load
average is printed at the start and the end: CPU time is less sensitive to other jobs than wall time, but
not immune (shared caches).
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np

from modscale_lib import measure, peers, rule
from modscale_lib.rule import DEFAULTS, find_module_projections, resolve_variant
from modscale_lib.tasks import NonSeparableTask, SineWaveTask

MOMENTS = ("save", "phd", "sir", "moment span")
TARGETS = (  # name, task maker, n, K, b, limit in CPU seconds, grouped overlap required
    ("non-separable, n=6000, m=12, K=3, b=2", lambda s: NonSeparableTask(12, 3, 2, noise=0.1, seed=s), 6000, 1.0, 0.99),
    (
        "non-separable, n=20000, m=128, K=4, b=2",
        lambda s: NonSeparableTask(128, 4, 2, noise=0.1, seed=s),
        20000,
        20.0,
        None,
    ),
    ("sine, n=4096, m=32, K=2, b=1", lambda s: SineWaveTask(32, 2, seed=s), 4096, 1.0, None),
)


def cpu(fn, repeats: int = 1):
    """``(result, CPU seconds per call)`` over ``repeats`` calls."""
    start = time.process_time()
    for _ in range(repeats):
        out = fn()
    return out, (time.process_time() - start) / repeats


def moment(name: str, X, y, D: int, seed: int) -> np.ndarray:
    return rule.moment_span(X, y, D) if name == "moment span" else peers.METHODS[name](X, y, D, seed=seed)


def as_modules(basis: np.ndarray, K: int, b: int) -> np.ndarray:
    return basis.T.reshape(K, b, -1).transpose(0, 2, 1)


def run_target(label, make, n, limit, need, seeds, slow_seeds, skip_slow) -> dict:
    rows: dict[str, dict] = {}
    for seed in range(seeds):
        task = make(seed)
        K, b, m = task.n_modules, task.module_dim, task.input_dim
        X, y = task.sample(n, seed=100 + seed)
        X, y = np.asarray(X, np.float64), np.asarray(y, np.float64)
        default = resolve_variant(DEFAULTS["variant"], K, b, m)
        old = "grouped" if b >= 2 else "backfit"
        runs = {f"rule, default ({default})": lambda: find_module_projections(X, y, K, b, seed=seed)}  # noqa: B023 (called within this iteration)
        if not skip_slow and seed < slow_seeds and old != default:
            runs[f"rule, {old} (the old default)"] = lambda: find_module_projections(X, y, K, b, variant=old, seed=seed)  # noqa: B023 (called within this iteration)
        if seed == 0:  # warm-up: imports and first-call allocations are not the method's cost
            for name in MOMENTS:
                moment(name, X, y, K * b, seed)
            find_module_projections(X[:500], y[:500], K, b, seed=seed)
        times = {}
        for name in MOMENTS:
            basis, times[name] = cpu(lambda: moment(name, X, y, K * b, seed), repeats=20)  # noqa: B023 (called within this iteration)
            U = as_modules(basis, K, b)
            rows.setdefault(name, {"cpu": [], "union": [], "grouped": [], "ratio": []})
            for key, value in (
                ("cpu", times[name]),
                ("union", measure.union_overlap(task.projections, U)),
                ("grouped", measure.grouped_overlap(task.projections, U)),
            ):
                rows[name][key].append(value)
        for name, fn in runs.items():
            U, seconds = cpu(fn)
            row = rows.setdefault(name, {"cpu": [], "union": [], "grouped": [], "ratio": []})
            row["cpu"].append(seconds)
            row["union"].append(measure.union_overlap(task.projections, U))
            row["grouped"].append(measure.grouped_overlap(task.projections, U))
            row["ratio"].append([seconds / times[t] for t in MOMENTS])
            print(f"    seed {seed} {name}: {seconds:.3f} CPU s, grouped overlap {row['grouped'][-1]:.4f}", flush=True)
    print_table(label, rows, limit, need)
    return rows


def print_table(label, rows, limit, need) -> None:
    print(f"\n{label}   (target: <= {limit:g} CPU s" + (f", grouped overlap >= {need}" if need else "") + ")")
    head = "  ".join(f"x {t:>11s}" for t in MOMENTS)
    print(f"  {'method':34s} {'seeds':>5s} {'CPU s/call':>10s} {'union':>6s} {'grouped':>7s}   {head}")
    for name, row in rows.items():
        ratios = (
            "  ".join(f"{r:13.0f}" for r in np.mean(row["ratio"], axis=0))
            if row["ratio"]
            else "  ".join(f"{'':13s}" for _ in MOMENTS)
        )
        print(
            f"  {name:34s} {len(row['cpu']):5d} {np.mean(row['cpu']):10.4f} {np.mean(row['union']):6.3f} "
            f"{np.mean(row['grouped']):7.3f}   {ratios}"
        )
    default = next(name for name in rows if name.startswith("rule, default"))
    worst = max(rows[default]["cpu"])
    ok = worst <= limit and (need is None or min(rows[default]["grouped"]) >= need)
    print(
        f"  -> default: slowest call {worst:.3f} CPU s, lowest grouped overlap {min(rows[default]['grouped']):.4f}: "
        f"target {'met' if ok else 'NOT met'}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, default=3, help="task seeds for the default and the moment methods")
    parser.add_argument("--slow-seeds", type=int, default=1, help="task seeds for the old default (slow)")
    parser.add_argument("--skip-slow", action="store_true", help="leave the old default out")
    parser.add_argument("--targets", type=int, nargs="+", default=[1, 2, 3], help="which targets (1, 2, 3)")
    args = parser.parse_args()
    print(
        f"one thread (OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')}), load average at start "
        f"{os.getloadavg()[0]:.2f}"
    )
    for i in args.targets:
        label, make, n, limit, need = TARGETS[i - 1]
        run_target(label, make, n, limit, need, args.seeds, args.slow_seeds, args.skip_slow)
    print(f"\nload average at end {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
