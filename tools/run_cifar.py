"""Compute the results the chapter *Compositional CIFAR-10* reads, in order, within a time budget; rerun the same
command to resume (every finished cell is stored).

    OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 nohup python tools/run_cifar.py --budget-s 3600 > cifar.log 2>&1 &

First it prints the cost model's estimate of every config (:func:`modscale_lib.experiments.compositional_cifar.
cost_estimate`: FLOPs at measured CPU rates, calibrated by the stored tuning's recorded CPU time) against the cap
on the whole ``cpu`` store (``CPU_CAP_MIN``), then computes what is missing: the ``compositional_tuning`` config,
then each config of ``compositional_accuracy`` that the chapter reads (``CHAPTER_CONFIGS``), showing a progress
bar with an ETA per sweep. Each stored result records its CPU time; the script prints it and the running total.

``--scale full --device cuda`` computes the GPU configs instead (``full``: k = 1..8, 10 seeds, 5 epochs, the
composites gathered on the device); ``--estimate`` prints the estimate and stops; ``--scale tiny`` is a smoke test
(a minute, into the store that MODSCALE_RESULTS_DIR names).
"""

from __future__ import annotations

import argparse
import os
import sys
import time

#: per scale: the tuning's config and the accuracy's configs (None: the chapter's, ``CHAPTER_CONFIGS``); ``tiny`` is
#: a smoke test of this script (point MODSCALE_RESULTS_DIR at a scratch store).
CONFIGS = {"cpu": ("cpu", None), "full": ("full", ("full",)), "tiny": ("tiny", ("tiny",))}


def _minutes(seconds: float) -> str:
    return f"{seconds / 60:6.1f} min"


def estimate(tuning, names) -> float:
    """Print the estimate of each config of ``names`` (per cell and in all); return the total in seconds."""
    from modscale_lib.experiments import compositional_cifar as cc

    total = 0.0
    for name in names:
        cfg = cc.compositional_accuracy.config(name)
        est = cc.cost_estimate(cfg, tuning)
        total += est["total_s"]
        print(
            f"ESTIMATE compositional_accuracy {name}: {_minutes(est['total_s'])} ({len(cfg.seeds)} seeds; model "
            f"{_minutes(est['model_s']).strip()} x {est['factor']:.2f}, the tuning's recorded / predicted CPU)"
        )
        for (k, method), s in est["per_cell"].items():
            if s > 0:
                print(f"    k = {k}  {method:<26} {s:6.0f} s per seed")
    return total


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget-s", type=float, default=3600.0, help="wall seconds for this run (then resume)")
    parser.add_argument("--scale", choices=sorted(CONFIGS), default="cpu")
    parser.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    parser.add_argument("--estimate", action="store_true", help="print the estimate and stop")
    args = parser.parse_args()
    if args.budget_s <= 0:
        parser.error(f"--budget-s must be > 0, got {args.budget_s}")
    if args.device == "cpu":
        os.environ["CUDA_VISIBLE_DEVICES"] = ""  # the library trains on CUDA whenever it sees a GPU
    import torch

    from modscale_lib import experiments, store
    from modscale_lib.experiments import compositional_cifar as cc
    from modscale_lib.store import BudgetExhausted

    if args.device == "cuda" and not torch.cuda.is_available():
        parser.error("--device cuda: torch sees no CUDA device")
    deadline = time.monotonic() + args.budget_s
    tuning_name, names = CONFIGS[args.scale]
    names = cc.CHAPTER_CONFIGS if names is None else names
    tuning_cfg = experiments.compositional_tuning.config(tuning_name)
    try:
        tuning = store.load_or_run(experiments.compositional_tuning, tuning_cfg, mode="read")
    except store.MissingResultError:
        tuning = None
    if args.scale == "cpu":
        if tuning is None:
            print("ESTIMATE needs the stored cpu tuning (the model is calibrated by its recorded CPU time)")
        else:
            spent = tuning.metadata["cpu_time_s"]
            print(f"RECORDED compositional_tuning cpu: {_minutes(spent)}")
            total = spent + estimate(tuning, names)
            print(
                f"ESTIMATE the chapter's cpu store: {_minutes(total)} against the cap of {cc.CPU_CAP_MIN:.0f} min",
                flush=True,
            )
            if total > cc.CPU_CAP_MIN * 60:
                print("ESTIMATE over the cap: cut a config before computing it (see book/choices.md)", flush=True)
    if args.estimate:
        return 0
    recorded = 0.0
    todo = [(experiments.compositional_tuning, tuning_cfg, f"compositional_tuning {tuning_name}")]
    todo += [
        (
            experiments.compositional_accuracy,
            experiments.compositional_accuracy.config(n),
            f"compositional_accuracy {n}",
        )
        for n in names
    ]
    for exp, cfg, label in todo:
        left = deadline - time.monotonic()
        if left <= 0:
            print(f"PROGRESS budget spent before {label}; rerun to continue", flush=True)
            return 0
        try:
            res = store.load_or_run(exp, cfg, mode="missing", budget_s=left)
        except BudgetExhausted as exc:
            print(f"PROGRESS {label}: {exc}", flush=True)
            return 0
        recorded += res.metadata.get("cpu_time_s") or 0.0
        print(f"STORED {label}: {res.provenance()}", flush=True)
        print(
            f"RECORDED {label}: {_minutes(res.metadata.get('cpu_time_s') or 0.0)}; the chapter's {args.scale} "
            f"store so far {_minutes(recorded)}",
            flush=True,
        )
    if args.scale == "cpu" and recorded > cc.CPU_CAP_MIN * 60:
        print(f"OVER the cap: {_minutes(recorded)} recorded against {cc.CPU_CAP_MIN:.0f} min", flush=True)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
