"""Time the batched ensemble engine against a Python loop over the same models and against the shape-matched
limit, over a small grid of shapes taken from this book's workloads.

For each shape, three programs train the same ensemble (same models, data, step count) with Adam:

* the engine: ``networks.fit`` on an ``MLPEnsemble`` or ``ModularEnsemble``;
* the loop: what one would write without the engine, one ``nn.Module`` and one optimiser per model;
* the limit: the same batched matrix products and one multi-tensor Adam over the stacked weights (as the
  engine's), with nothing else: no masks, no per-model sample counts, no epoch permutations, no divergence
  checks, no loss evaluations on the full data. The practical limit of eager torch at that shape.

The shapes (``SHAPES``; ``--shapes`` picks some):

* ``default``: the benchmark of earlier sessions, 64 MLPs 8-64-64-1, minibatch 256, n = 2000.
* ``sc_mlp``: one cell of the sample-complexity sweep, its monolithic ensemble: 13 MLPs (one per n) 16-64-64-1,
  minibatch 128 (widths, depth, minibatch of ``SampleComplexityConfig.cpu``).
* ``sc_modular``: the same cell's modular ensemble at K = 2: 39 networks (oracle, rule, random for each n),
  two modules 1-64-64-1 each, minibatch 128, the oracle third with frozen projections.
* ``sc_modular_k4``: K = 4 at m = 32 with the controls: 52 networks of four modules.
* ``theory_mlp``: one ensemble of the theory chapter's network runs: 10 MLPs (5 seeds x 2 noise levels)
  4-24-24-1, full batch, n = 1000.
* ``theory_modular``: the same with modular networks, k = 2 modules of width 16, one hidden layer.
* ``theory_many``: 200 such small full-batch MLPs in one ensemble (what batching the theory chapter's
  settings together would give).
* ``overhead_bound``: not a workload of this book: 64 tiny MLPs 4-8-8-1 on minibatches of 32, where a step's
  arithmetic is negligible and the loop pays its Python and per-call overhead for every model.

Timing: each program is run ``--repeats`` times, interleaved, and the fastest run counts (a shared machine's
load only slows a run down). The process CPU time (``time.process_time``) is the main measure, as the others'
load inflates wall time far more; both are printed, with the load average at the start and the end of each
shape. The loop is timed on ``min(E, --loop-models)`` of the models and scaled by ``E`` over that number: its
models are independent, so its time is linear in their count.

    python benchmarks/bench_ensemble.py [--shapes default sc_mlp ...] [--repeats 3] [--compile-shape sc_modular]

One line per shape gives the CPU and wall seconds of each program, and ``fixed``: the part of the engine's
time spent on the two full-data losses ``fit`` computes besides its steps (timed apart, after the run), then
``limit/engine`` (whole) and ``steps alone`` (the engine less that fixed part) and the ``speedup`` over the
loop. CPU time counts finished child processes too. ``--compile-shape`` also times ``fit(..., compile=True)``
(``torch.compile`` of the model, compile time included, with a fresh cache and compilation in this process;
the first run is cold, later ones reuse the on-disk cache) at that shape.
The last two lines are the first shape's (``default`` unless ``--shapes`` says otherwise) ``ratio to the
shape-matched limit`` and ``speedup``, in CPU time.
"""

from __future__ import annotations

import argparse
import math
import os
import resource
import tempfile
import time

import numpy as np
import torch

from modscale_lib.networks import MLPEnsemble, ModularEnsemble, evaluate, fit
from modscale_lib.tasks import SineWaveTask

SHAPES = {
    "default": dict(kind="mlp", models=64, m=8, width=64, depth=2, batch=256, n=2000, steps=300),
    "sc_mlp": dict(kind="mlp", models=13, m=16, width=64, depth=2, batch=128, n=4096, steps=300),
    "sc_modular": dict(
        kind="modular", models=39, m=16, K=2, width=64, depth=2, batch=128, n=4096, steps=200, frozen=13
    ),
    "sc_modular_k4": dict(
        kind="modular", models=52, m=32, K=4, width=64, depth=2, batch=128, n=4096, steps=100, frozen=13
    ),
    "theory_mlp": dict(kind="mlp", models=10, m=4, width=24, depth=2, batch=None, n=1000, steps=500),
    "theory_modular": dict(
        kind="modular", models=10, m=4, K=2, width=16, depth=1, batch=None, n=1000, steps=500, frozen=0
    ),
    "theory_many": dict(kind="mlp", models=200, m=4, width=16, depth=2, batch=None, n=1000, steps=300),
    "overhead_bound": dict(kind="mlp", models=64, m=4, width=8, depth=2, batch=32, n=1000, steps=300),
}


def _cpu() -> float:
    """This process's CPU time plus its finished children's (``torch.compile`` runs gcc as a child)."""
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + kids.ru_utime + kids.ru_stime


class Clock:
    """Wall and CPU time since creation (CPU time is what a shared machine's load does not inflate)."""

    def __init__(self):
        self.wall, self.cpu = time.perf_counter(), _cpu()

    def stop(self) -> tuple[float, float]:
        return time.perf_counter() - self.wall, _cpu() - self.cpu


def _sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize()


def matmul_gflops(device: torch.device, size: int = 1024, repeats: int = 20) -> float:
    a, b = torch.randn(size, size, device=device), torch.randn(size, size, device=device)
    for _ in range(3):
        a @ b
    _sync(device)
    start = time.perf_counter()
    for _ in range(repeats):
        a @ b
    _sync(device)
    return 2 * size**3 * repeats / (time.perf_counter() - start) / 1e9


def _sizes(s: dict) -> tuple[int, list[int]]:
    """Networks per model and the layer sizes of each network."""
    if s["kind"] == "mlp":
        return 1, [s["m"]] + [s["width"]] * s["depth"] + [1]
    return s["K"], [1] + [s["width"]] * s["depth"] + [1]


def train_flops(s: dict) -> float:
    """Multiply-adds of forward and backward (about three forward passes) of every step, 2 flops each."""
    nets, sizes = _sizes(s)
    macs = sum(a * b for a, b in zip(sizes[:-1], sizes[1:])) * nets + (s["m"] * s["K"] if s["kind"] != "mlp" else 0)
    rows = s["n"] if s["batch"] is None else s["batch"]
    return 2 * 3 * macs * rows * s["models"] * s["steps"]


def _engine_model(s: dict, device):
    E = s["models"]
    if s["kind"] == "mlp":
        return MLPEnsemble(E, s["m"], s["width"], depth=s["depth"], seeds=range(E)).to(device)
    frozen = s.get("frozen", 0)
    return ModularEnsemble(
        E,
        s["m"],
        s["K"],
        1,
        width=s["width"],
        depth=s["depth"],
        seeds=range(E),
        train_projections=[e >= frozen for e in range(E)] if 0 < frozen < E else frozen == 0,
    ).to(device)


def engine_run(s, X, y, device, compile_model=False, fixed=None):
    """Time ``fit``; with a list ``fixed``, also time (apart) the two full-data losses ``fit`` computes
    besides its steps (the initial loss its divergence check compares with, the final training loss it
    returns), appended to ``fixed``."""
    net = _engine_model(s, device)
    _sync(device)
    clock = Clock()
    fit(
        net,
        X,
        y,
        steps=s["steps"],
        batch_size=s["batch"],
        lr=1e-3,
        progress=False,
        eval_every=s["steps"],
        compile=compile_model,
    )
    _sync(device)
    total = clock.stop()
    if fixed is not None:
        clock = Clock()
        for _ in range(2):
            evaluate(net, X, y)
        fixed.append(clock.stop())
    return total


class _LoopModular(torch.nn.Module):
    def __init__(self, s):
        super().__init__()
        self.U = torch.nn.Parameter(torch.linalg.qr(torch.randn(s["m"], s["K"]))[0])
        self.mods = torch.nn.ModuleList([_loop_mlp(_sizes(s)[1]) for _ in range(s["K"])])

    def forward(self, x):
        z = x @ self.U
        return sum(mod(z[:, k : k + 1]) for k, mod in enumerate(self.mods))[:, 0] / math.sqrt(len(self.mods))


def _loop_mlp(sizes):
    layers = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers += [torch.nn.Linear(a, b)] + ([torch.nn.ReLU()] if i < len(sizes) - 2 else [])
    return torch.nn.Sequential(*layers)


def loop_run(s, X, y, device, n_models):
    """The loop over ``n_models`` of the ensemble's models (the caller scales to all of them)."""
    clock = Clock()
    for e in range(n_models):
        torch.manual_seed(e)
        if s["kind"] == "mlp":
            mlp = _loop_mlp(_sizes(s)[1]).to(device)

            def net(x, mlp=mlp):
                return mlp(x)[:, 0]

            params = mlp.parameters()
        else:
            mod = _LoopModular(s).to(device)
            net, params = mod, mod.parameters()
        opt = torch.optim.Adam(params, lr=1e-3)
        gen = torch.Generator(device="cpu").manual_seed(e)
        for _ in range(s["steps"]):
            if s["batch"] is None:
                loss = ((net(X) - y) ** 2).mean()
            else:
                idx = torch.randint(0, X.shape[0], (s["batch"],), generator=gen).to(device)
                loss = ((net(X[idx]) - y[idx]) ** 2).mean()
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
    _sync(device)
    return clock.stop()


def limit_run(s, X, y, device):
    """The same ensemble as bare batched products and multi-tensor Adam over the stacked weights."""
    E, steps, batch = s["models"], s["steps"], s["batch"]
    nets, sizes = _sizes(s)
    gen = torch.Generator(device="cpu").manual_seed(0)
    Ws = [
        torch.randn(E * nets, a, b, generator=gen).mul_(a**-0.5).to(device).requires_grad_(True)
        for a, b in zip(sizes[:-1], sizes[1:])
    ]
    bs = [torch.zeros(E * nets, 1, b, device=device, requires_grad=True) for b in sizes[1:]]
    U = [] if s["kind"] == "mlp" else [torch.randn(E, s["K"], s["m"], 1, generator=gen).to(device).requires_grad_(True)]
    opt = torch.optim.Adam(Ws + bs + U, lr=1e-3, foreach=True)
    clock = Clock()
    for _ in range(steps):
        if batch is None:
            h, yb = X.expand(E, *X.shape), y
        else:
            idx = torch.randint(0, X.shape[0], (E, batch), generator=gen).to(device)
            h, yb = X[idx], y[idx]
        if U:
            h = torch.einsum("ebm,ekmc->ekbc", h, U[0]).reshape(E * nets, h.shape[1], 1)
        for layer, (W, b) in enumerate(zip(Ws, bs)):
            h = torch.baddbmm(b, h, W)
            if layer < len(Ws) - 1:
                h = torch.relu(h)
        out = h.reshape(E, nets, -1).sum(dim=1) / math.sqrt(nets)
        loss = ((out - yb) ** 2).mean(dim=1).sum()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    _sync(device)
    return clock.stop()


def bench_shape(name, s, device, repeats, loop_models, compile_model=False) -> dict:
    load0 = os.getloadavg()[0]
    task = SineWaveTask(s["m"], 2, seed=0)
    X_np, y_np = task.sample(s["n"], seed=0)
    X, y = torch.as_tensor(X_np, device=device), torch.as_tensor(y_np, device=device)
    warm = dict(s, steps=3)
    engine_run(warm, X, y, device), loop_run(warm, X, y, device, 1), limit_run(warm, X, y, device)
    k = min(s["models"], loop_models)
    runs = {"engine": [], "loop": [], "limit": []}
    fixed = []
    if compile_model:
        runs["compiled"] = []
    for _ in range(max(1, repeats)):
        runs["engine"].append(engine_run(s, X, y, device, fixed=fixed))
        runs["loop"].append(tuple(t * s["models"] / k for t in loop_run(s, X, y, device, k)))
        runs["limit"].append(limit_run(s, X, y, device))
        if compile_model:
            torch._dynamo.reset()  # every run pays the compile time, as a fresh process would
            runs["compiled"].append(engine_run(s, X, y, device, compile_model=True))
    best = {side: (min(w for w, _ in v), min(c for _, c in v)) for side, v in runs.items()}
    best["fixed"] = (min(w for w, _ in fixed), min(c for _, c in fixed))
    out = {
        "shape": name,
        "load": (load0, os.getloadavg()[0]),
        "best": best,
        "gflops_engine_cpu": train_flops(s) / best["engine"][1] / 1e9,
    }
    cpu, wall = {k: v[1] for k, v in best.items()}, {k: v[0] for k, v in best.items()}
    out.update(
        limit_ratio_cpu=cpu["limit"] / cpu["engine"],
        speedup_cpu=cpu["loop"] / cpu["engine"],
        limit_ratio_wall=wall["limit"] / wall["engine"],
        speedup_wall=wall["loop"] / wall["engine"],
        steps_ratio_cpu=cpu["limit"] / max(cpu["engine"] - cpu["fixed"], 1e-9),
    )
    line = (
        f"{name:<15} E={s['models']:<3} load {out['load'][0]:.1f}->{out['load'][1]:.1f}  CPU s: "
        + ", ".join(f"{k} {v:.3g}" for k, v in cpu.items())
        + " | wall s: "
        + ", ".join(f"{k} {v:.3g}" for k, v in wall.items())
        + f" | {out['gflops_engine_cpu']:.3g} GFLOP/s | limit/engine {out['limit_ratio_cpu']:.3f} "
        f"(wall {out['limit_ratio_wall']:.3f}; steps alone {out['steps_ratio_cpu']:.3f}) "
        f"speedup {out['speedup_cpu']:.2f}x (wall {out['speedup_wall']:.2f}x)"
    )
    if compile_model:
        first = runs["compiled"][0]
        line += (
            f" | compiled: first run (cold cache) {first[1]:.3g} s CPU / {first[0]:.3g} s wall, "
            f"compiled/eager {cpu['compiled'] / cpu['engine']:.3f} (wall {wall['compiled'] / wall['engine']:.3f})"
        )
    print(line, flush=True)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--shapes", nargs="*", default=list(SHAPES), choices=list(SHAPES))
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--loop-models", type=int, default=8)
    parser.add_argument(
        "--compile-shape",
        choices=list(SHAPES),
        default=None,
        help="also time fit(..., compile=True) at this shape (compile time included)",
    )
    args = parser.parse_args()
    device = torch.device(args.device)
    if args.compile_shape:  # a cold compile cache, and compilation in this process (its CPU time is counted)
        os.environ.setdefault("TORCHINDUCTOR_CACHE_DIR", tempfile.mkdtemp(prefix="bench-inductor-"))
        import torch._inductor.config as inductor_config

        inductor_config.compile_threads = 1
    print(
        f"device: {device} ({torch.get_num_threads()} CPU threads), torch {torch.__version__}, "
        f"fp32 matmul 1024x1024: {matmul_gflops(device):.3g} GFLOP/s"
    )
    shapes = list(dict.fromkeys(args.shapes + ([args.compile_shape] if args.compile_shape else [])))
    results = [
        bench_shape(n, SHAPES[n], device, args.repeats, args.loop_models, n == args.compile_shape) for n in shapes
    ]
    ratios = np.array([r["limit_ratio_cpu"] for r in results])
    speedups = np.array([r["speedup_cpu"] for r in results])
    print(
        f"over {len(results)} shapes (CPU time): limit/engine {ratios.min():.3f} to {ratios.max():.3f}, "
        f"speedup {speedups.min():.2f}x to {speedups.max():.2f}x"
    )
    first = results[0]
    print(f"ratio to the shape-matched limit: {first['limit_ratio_cpu']:.3g}")
    print(f"speedup: {first['speedup_cpu']:.3g}x")


if __name__ == "__main__":
    main()
