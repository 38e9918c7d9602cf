"""Compute the scaling-law study's cpu results in order, each task's capacity search then its sweep, within a
time budget; rerun the same command to resume (every finished cell is stored).

    OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 nohup python tools/run_scaling_law.py --budget-s 3600 > law.log 2>&1 &

The sweep of a task runs at the networks its stored search chose (``experiments.law_capacity.choices``); the
named config ``ScalingLawConfig.<name>`` holds the same values in ``scaling_law.NETWORKS`` once they are copied
there (a test checks that they agree), and then the chapter reads the result under that name. A task whose
chosen networks differ from ``NETWORKS`` is reported, so the constant can be updated before the chapter runs.
``--names`` picks and orders the tasks (default: the priority order of issue 26: sine, the non-separable task,
He_2, He_3, He_1). ``--parts`` picks what is computed per task, in this order: its capacity search, its sweep,
and the learned rule's cells (the task's rule config, ``scaling_law.RULE_CONFIGS``, at the same networks);
``--parts rule`` computes the rule's cells alone, of tasks whose search is stored:

    OMP_NUM_THREADS=1 nohup python tools/run_scaling_law.py --parts rule --names cpu cpu_bump --budget-s 3600 &
"""

from __future__ import annotations

import argparse
import dataclasses
import time

from modscale_lib import experiments, store
from modscale_lib.experiments import law_capacity, scaling_law
from modscale_lib.store import BudgetExhausted

ORDER = ("cpu", "cpu_bump", "cpu_he2", "cpu_he3", "cpu_he1")


PARTS = ("capacity", "sweep", "rule")


def chosen_row(name: str, capacity) -> tuple:
    """The row of ``scaling_law.NETWORKS`` that the stored capacity search of config ``name`` chose."""
    cap_cfg = experiments.scaling_law_capacity.config(name)
    task = cap_cfg.tasks[0]
    chosen = law_capacity.choices(capacity, cap_cfg)[task]
    (mlp_d, mlp_w, mlp_lr), (mod_d, mod_w, mod_lr) = chosen["mlp"], chosen["modules"]
    return (task, mlp_w, mlp_d, mlp_lr, mod_w, mod_d, mod_lr)


def sweep_config(name: str, capacity) -> scaling_law.ScalingLawConfig:
    """The sweep of config ``name`` at the networks its stored capacity search chose."""
    row = chosen_row(name, capacity)
    return dataclasses.replace(scaling_law.ScalingLawConfig.for_task(row[0]), networks=(row,))


def rule_config(name: str, capacity) -> scaling_law.ScalingLawConfig:
    """The learned rule's cells of config ``name``'s task (its rule config) at the same networks."""
    row = chosen_row(name, capacity)
    return dataclasses.replace(scaling_law.ScalingLawConfig.rule_for_task(row[0]), networks=(row,))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget-s", type=float, default=3600.0)
    parser.add_argument("--names", nargs="+", default=list(ORDER), choices=list(ORDER))
    parser.add_argument("--parts", nargs="+", default=list(PARTS), choices=list(PARTS))
    args = parser.parse_args()
    deadline = time.monotonic() + args.budget_s
    sweep = experiments.scaling_law_sweep
    for name in args.names:
        cap_cfg = experiments.scaling_law_capacity.config(name)
        try:  # a part computes only after the search it runs at is stored
            capacity = store.load_or_run(experiments.scaling_law_capacity, cap_cfg, mode="read")
        except store.MissingResultError:
            if "capacity" not in args.parts:
                print(f"SKIPPED {name}: its capacity search is not stored (add --parts capacity)", flush=True)
                continue
        for part in (p for p in PARTS if p in args.parts):
            exp, named = (
                (experiments.scaling_law_capacity, name)
                if part == "capacity"
                else (sweep, name if part == "sweep" else f"{name}_rule")
            )
            left = deadline - time.monotonic()
            if left <= 0:
                print(f"PROGRESS budget spent before {exp.name} {named}; rerun to continue", flush=True)
                return 0
            cfg = cap_cfg if part == "capacity" else (sweep_config if part == "sweep" else rule_config)(name, capacity)
            try:
                res = store.load_or_run(exp, cfg, mode="missing", budget_s=left)
            except BudgetExhausted as exc:
                print(f"PROGRESS {exp.name} {named}: {exc}", flush=True)
                return 0
            print(f"STORED {exp.name} {named}: {res.provenance()}", flush=True)
            if part == "capacity":
                capacity = res
            elif cfg != sweep.config(named):
                print(f"UPDATE scaling_law.NETWORKS for {name}: the search chose {cfg.networks[0]}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
