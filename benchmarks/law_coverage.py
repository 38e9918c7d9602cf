"""Coverage and error rates of :func:`modscale_lib.laws.decide_law`, at more replicates and in more settings than a
chapter cell affords (the chapter runs :func:`modscale_lib.laws.coverage` at its defaults in seconds).

Scenarios (each 3 truths: power m^1, exponential e^(0.08 m), flat; m = 4..64; the scatter of the stored sweeps
unless stated): 10 seeds (with two affine truths n* = 200 + 5 (m - 4) and 200 + 20 (m - 4), which are neither
law); 5 seeds; heavy-tailed seed scatter (Student t, 3 df); no seed effect shared across m;
twice the seed scatter; and censoring: grids cut so that about a quarter of the seeds at the largest m (power,
exponential) or at every m (flat) are censored, which exercises the censored likelihood and the bounds.

    python benchmarks/law_coverage.py --reps 1000 --out /tmp/law_coverage.json
    python benchmarks/law_coverage.py --reps 500 --intervals jackknife_t      # the chapter's method only

Prints one line per scenario, truth and interval method: coverage of the exponent and of the curvature's zero,
the verdicts, the share of censored entries. Wall time depends on the machine's load (about 5 minutes per
scenario at 1000 replicates with both interval methods on one loaded core).
"""

from __future__ import annotations

import argparse
import json
import time

from modscale_lib import laws

AFFINE = {"affine 200+5m": ("affine", 0.025), "affine 200+20m": ("affine", 0.1)}  # neither law
SCENARIOS = {
    "10 seeds": dict(n_seeds=10, truths={**laws.TRUTHS, **AFFINE}),
    "5 seeds": dict(n_seeds=5),
    "10 seeds, t(3) scatter": dict(n_seeds=10, tail_df=3.0),
    "10 seeds, no shared seed effect": dict(n_seeds=10, scatter={"seed_share": 0.0}),
    "10 seeds, seed sd 0.8": dict(n_seeds=10, scatter={"seed_sd": 0.8}),
}
# censoring: one grid per truth, cut near the truth (the population median is 200 at m = 4)
CENSORED = {
    "power, a quarter censored above at m = 64": ({"power": ("power", 1.0)}, dict(n_max=4096.0)),
    "exponential, a quarter censored above at m = 64": ({"exponential": ("exponential", 0.08)}, dict(n_max=32768.0)),
    "flat, two fifths censored below at every m": ({"flat": ("power", 0.0)}, dict(n_ref=50.0, n_min=45.0)),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=1000)
    parser.add_argument("--only", choices=("main", "censored", "all"), default="all")
    parser.add_argument(
        "--intervals",
        nargs="+",
        default=["jackknife_t", "percentile"],
        choices=["jackknife_t", "percentile"],
        help="interval methods (percentile: ten times slower)",
    )
    parser.add_argument("--out", default=None, help="write every result as JSON here")
    args = parser.parse_args()
    runs = {}
    if args.only in ("main", "all"):
        runs.update({name: dict(kw) for name, kw in SCENARIOS.items()})
    if args.only in ("censored", "all"):
        runs.update({name: dict(truths=t, n_seeds=10, **grid) for name, (t, grid) in CENSORED.items()})
    out = {}
    for name, kw in runs.items():
        start = time.time()
        r = laws.coverage(n_reps=args.reps, intervals=tuple(args.intervals), **kw)
        r["seconds"] = time.time() - start
        out[name] = r
        for interval, per_truth in r["coverage"].items():
            for truth, cov in per_truth.items():
                v = r["verdicts"][interval][truth]
                print(
                    f"{name:48s} {truth:12s} {interval:11s} exponent {cov['exponent']:.3f} "
                    f"curvature {cov['curvature']:.3f} | verdicts "
                    + " ".join(f"{k} {x:.3f}" for k, x in v.items())
                    + f" | censored {r['censored'][truth]:.3f}",
                    flush=True,
                )
        print(f"{name}: {r['seconds']:.0f} s (Monte Carlo s.e. of a share near 0.95: {r['mc_se']:.3f})", flush=True)
    if args.out:
        with open(args.out, "w") as fh:
            json.dump(out, fh, indent=1, default=str)


if __name__ == "__main__":
    main()
