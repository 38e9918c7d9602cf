"""Time the learning rule per call beside the span time of the moment methods.

    python benchmarks/bench_rule.py [--n 6000] [--m 12] [--variants backfit spectral grouped] [--seeds 1]

On a sine-wave task with K = 2 modules of dimension 1 (and a non-separable task with K = 3, b = 2 when
m >= 6), prints one line per method: seconds per call and the union overlap of its projections with the true
span. The moment methods (pHd, SAVE and the rule's own moment span) estimate only the span; the rule's
variants also find the modules. ``--opt-ins`` adds each kernel-search variant with the rule's opt-in
low-rank gradient, and with it plus early stopping (patience 60). Timings depend on the machine and its load.
"""
from __future__ import annotations

import argparse
import time

import numpy as np

from modscale_lib import learning_rule, peers, subspaces
from modscale_lib.modular_tasks import NonSeparableTask
from modscale_lib.tasks import SineWaveTask


def timed(fn):
    start = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=6000)
    parser.add_argument("--m", type=int, default=12)
    parser.add_argument("--variants", nargs="+", default=["backfit", "spectral", "grouped"])
    parser.add_argument("--seeds", type=int, default=1)
    parser.add_argument("--opt-ins", action="store_true")
    args = parser.parse_args()
    tasks = [("sine, K=2, b=1", lambda s: SineWaveTask(args.m, 2, seed=s), 2, 1)]
    if args.m >= 6:
        tasks.append(("non-separable, K=3, b=2", lambda s: NonSeparableTask(args.m, 3, 2, seed=s), 3, 2))
    for label, make, K, b in tasks:
        print(f"{label}, m = {args.m}, n = {args.n}")
        for seed in range(args.seeds):
            task = make(seed)
            X, y = task.sample(args.n, seed=0)
            true = task.projections
            spans = {"moment span": lambda: learning_rule.moment_span(X, y, K * b),
                     "phd": lambda: peers.METHODS["phd"](X, y, K * b, seed=seed),
                     "save": lambda: peers.METHODS["save"](X, y, K * b, seed=seed)}
            for name, fn in spans.items():
                basis, seconds = timed(fn)
                overlap = subspaces.union_overlap(true, basis.T.reshape(K, b, -1).transpose(0, 2, 1))
                print(f"  seed {seed} {name:>12}: {seconds:8.3f} s per call, union overlap {overlap:.3f}")
            runs = [(v, v, {}) for v in args.variants]
            if args.opt_ins:
                runs += [(f"{v} low-rank", v, {"low_rank_gradient": True}) for v in args.variants if v != "grouped"]
                runs += [(f"{v} low-rank+p60", v, {"low_rank_gradient": True, "patience": 60})
                         for v in args.variants if v != "grouped"]
            for name, variant, opts in runs:
                U, seconds = timed(lambda: learning_rule.find_module_projections(X, y, K, b, variant=variant,
                                                                                  seed=seed, **opts))
                print(f"  seed {seed} {name:>22}: {seconds:8.3f} s per call, union overlap "
                      f"{subspaces.union_overlap(true, U):.3f}, grouped {subspaces.grouped_overlap(true, U):.3f}")


if __name__ == "__main__":
    main()
