"""Compute the scaling-law study's cpu results in order, each task's capacity search then its sweep, within a
time budget; rerun the same command to resume (every finished cell is stored).

    OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 nohup python tools/run_scaling_law.py --budget-s 3600 > law.log 2>&1 &

The sweep of a task runs at the networks its stored search chose (``experiments.law_capacity.choices``); the
named config ``ScalingLawConfig.<name>`` holds the same values in ``scaling_law.NETWORKS`` once they are copied
there (a test checks that they agree), and then the chapter reads the result under that name. A task whose
chosen networks differ from ``NETWORKS`` is reported, so the constant can be updated before the chapter runs.
``--names`` picks and orders the tasks (default: the priority order of issue 26: sine, the non-separable task,
He_2, He_3, He_1).
"""
from __future__ import annotations

import argparse
import dataclasses
import time

from modscale_lib import experiments, results
from modscale_lib.cells import BudgetExhausted
from modscale_lib.experiments import law_capacity, scaling_law

ORDER = ("cpu", "cpu_bump", "cpu_he2", "cpu_he3", "cpu_he1")


def sweep_config(name: str, capacity) -> scaling_law.ScalingLawConfig:
    """The sweep of config ``name`` at the networks its stored capacity search chose."""
    cap_cfg = experiments.scaling_law_capacity.config(name)
    task = cap_cfg.tasks[0]
    chosen = law_capacity.choices(capacity, cap_cfg)[task]
    (mlp_d, mlp_w, mlp_lr), (mod_d, mod_w, mod_lr) = chosen["mlp"], chosen["modules"]
    row = (task, mlp_w, mlp_d, mlp_lr, mod_w, mod_d, mod_lr)
    return dataclasses.replace(scaling_law.ScalingLawConfig.for_task(task), networks=(row,))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget-s", type=float, default=3600.0)
    parser.add_argument("--names", nargs="+", default=list(ORDER), choices=list(ORDER))
    args = parser.parse_args()
    deadline = time.monotonic() + args.budget_s
    for name in args.names:
        for exp, make in ((experiments.scaling_law_capacity, lambda: experiments.scaling_law_capacity.config(name)),
                          (experiments.scaling_law_sweep, lambda: sweep_config(name, capacity))):
            left = deadline - time.monotonic()
            if left <= 0:
                print(f"PROGRESS budget spent before {exp.name} {name}; rerun to continue", flush=True)
                return 0
            cfg = make()
            try:
                res = results.load_or_run(exp, cfg, mode="missing", budget_s=left)
            except BudgetExhausted as exc:
                print(f"PROGRESS {exp.name} {name}: {exc}", flush=True)
                return 0
            print(f"STORED {exp.name} {name}: {res.provenance()}", flush=True)
            if exp is experiments.scaling_law_capacity:
                capacity = res
            elif cfg != experiments.scaling_law_sweep.config(name):
                print(f"UPDATE scaling_law.NETWORKS for {name}: the search chose {cfg.networks[0]}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
