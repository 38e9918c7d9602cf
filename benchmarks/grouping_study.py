"""Modules of dimension b = 2: union (span) and grouped (matched-module) overlap of each way of finding them.

For each setting (K, b, m), module family, variant and n, over task seeds: the mean and a 95% bootstrap CI
(scipy.stats.bootstrap) of ``union_overlap`` and ``grouped_overlap`` against the true projections, and the
mean process CPU time per call. Variants:

* ``grouped``: ``moment_span`` then ``rule.group_directions`` (Hessian joint block diagonalisation and
  a joint additive refit);
* ``newton``: the rule's fast variant (``rule.newton_projections``: the span refined and the modules refitted
  by closed-form Gauss-Newton steps), the library's default;
* ``backfit``, ``spectral``: the existing ``rule.find_module_projections`` variants;
* ``random``: random orthonormal modules (the chance level).

Usage (slow variants on fewer n):
    OMP_NUM_THREADS=1 python benchmarks/grouping_study.py --variants grouped newton random --n 500 1000 2000 6000
    OMP_NUM_THREADS=1 python benchmarks/grouping_study.py --variants backfit spectral --n 2000 --kinds bump_ridge
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np
import torch
from scipy import stats

from modscale_lib.measure import grouped_overlap, union_overlap
from modscale_lib.rule import find_module_projections, group_directions, moment_span
from modscale_lib.tasks import NonSeparableTask

SETTINGS = ((3, 2, 12), (4, 2, 16))


def run(variant: str, X, y, K: int, b: int, seed: int) -> np.ndarray:
    if variant == "grouped":
        return group_directions(X, y, moment_span(X, y, K * b), K, b, seed=seed)
    if variant == "random":
        q = np.linalg.qr(np.random.default_rng(seed).standard_normal((X.shape[1], K * b)))[0]
        return q.T.reshape(K, b, -1).transpose(0, 2, 1)
    return find_module_projections(X, y, K, b, variant=variant, seed=seed)


def summary(values) -> str:
    v = np.asarray(values, float)
    if np.ptp(v) < 1e-9:
        return f"{v.mean():.3f} [{v.mean():.3f}, {v.mean():.3f}]"
    ci = stats.bootstrap(
        (v,), np.mean, confidence_level=0.95, n_resamples=2000, method="percentile", random_state=0
    ).confidence_interval
    return f"{v.mean():.3f} [{ci.low:.3f}, {ci.high:.3f}]"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--variants", nargs="+", default=["grouped", "newton", "random"])
    parser.add_argument("--n", nargs="+", type=int, default=[500, 1000, 2000, 4000, 6000])
    parser.add_argument("--kinds", nargs="+", default=["bump_ridge", "hermite"])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--noise", type=float, default=0.1)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    print(f"torch threads {args.threads}, load average at start {os.getloadavg()[0]:.2f}, noise {args.noise}")
    print(
        f"{'kind':11s} {'K b m':8s} {'variant':9s} {'n':>5s}  {'union overlap [95% CI]':24s}  "
        f"{'grouped overlap [95% CI]':24s}  CPU s/call"
    )
    for kind in args.kinds:
        for K, b, m in SETTINGS:
            for variant in args.variants:
                for n in args.n:
                    union, grouped, secs = [], [], []
                    for s in range(args.seeds):
                        task = NonSeparableTask(m, K, b, module_kind=kind, seed=s, noise=args.noise)
                        X, y = task.sample(n, seed=100 + s)
                        X, y = X.astype(np.float64), y.astype(np.float64)
                        t0 = time.process_time()
                        U = run(variant, X, y, K, b, s)
                        secs.append(time.process_time() - t0)
                        union.append(union_overlap(task.projections, U))
                        grouped.append(grouped_overlap(task.projections, U))
                    print(
                        f"{kind:11s} {K} {b} {m:<4d} {variant:9s} {n:5d}  {summary(union):24s}  "
                        f"{summary(grouped):24s}  {np.mean(secs):6.1f}",
                        flush=True,
                    )
    print(f"load average at end {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
