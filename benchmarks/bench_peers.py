"""Time each peer method (modscale_lib.peers.METHODS) and measure its union-span overlap on sine-wave tasks.

    python benchmarks/bench_peers.py [--seeds 3] [--threads 2]

Timing: one call at n = 6000, m = 16, n_directions = 4 (SineWaveTask(16, 4)); overlap: ``||U^T U_hat||_F^2 / k``
(1 = the true span is recovered, k/m = chance) with n = 4000 samples of SineWaveTask(16, 2) (K = 2, b = 1,
k = 2) and SineWaveTask(12, 3, module_dim=2) (K = 3, b = 2, k = 6), one task and sample per seed. Prints one
line per method: time, then mean (min) overlap over seeds on each task.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from modscale_lib.peers import METHODS
from modscale_lib.tasks import SineWaveTask


def overlap(true: np.ndarray, found: np.ndarray) -> float:
    """``||U^T U_hat||_F^2 / k`` for orthonormal ``true`` (m, k) and ``found`` (m, k)."""
    return float(np.sum((true.T @ found) ** 2) / true.shape[1])


def stacked(task: SineWaveTask) -> np.ndarray:
    return task.projections.transpose(1, 0, 2).reshape(task.input_dim, -1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--methods", nargs="*", default=list(METHODS))
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    timing_task = SineWaveTask(16, 4, seed=100)
    Xt, yt = timing_task.sample(6000, 0)
    cases = {"K2b1m16": (16, 2, 1), "K3b2m12": (12, 3, 2)}
    print(f"{'method':6s} {'time@6000':>9s}  " + "  ".join(f"{c:>15s}" for c in cases))
    for name in args.methods:
        fn = METHODS[name]
        start = time.perf_counter()
        fn(Xt, yt, 4, seed=0)
        elapsed = time.perf_counter() - start
        cells = []
        for m, K, b in cases.values():
            scores = []
            for seed in range(args.seeds):
                task = SineWaveTask(m, K, module_dim=b, seed=seed)
                X, y = task.sample(4000, seed)
                scores.append(overlap(stacked(task), fn(X, y, K * b, seed=seed)))
            cells.append(f"{np.mean(scores):.3f} ({np.min(scores):.3f})")
        print(f"{name:6s} {elapsed:8.2f}s  " + "  ".join(f"{c:>15s}" for c in cells), flush=True)


if __name__ == "__main__":
    main()
