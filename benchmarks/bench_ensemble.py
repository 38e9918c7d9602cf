"""Time the batched ensemble engine against training the same models one at a time in a Python loop, and
against the shape-matched limit.

All three train E MLPs (m -> width -> width -> 1, ReLU) with Adam on minibatches of the sine-wave task, for
the same number of steps:

* the engine (``training.fit`` on an ``MLPEnsemble``);
* the loop: what one would write without the engine, an ``nn.Sequential`` and an optimiser per model;
* the limit: the same batched matrix products and one ``torch.optim.Adam`` over the stacked weights, with
  nothing else (no masks, no bookkeeping, no divergence checks): the practical limit of eager torch at these
  shapes.

Also prints achieved GFLOP/s beside a measured fp32 matmul GFLOP/s.

    python benchmarks/bench_ensemble.py [--models 64] [--steps 300] [--device cpu] [--repeats 3]

Each of the three is timed ``--repeats`` times, interleaved, and the fastest run counts (on a shared machine
the others' load only ever slows a run down); on a CPU the process CPU times are printed too, which the load
inflates far less than wall time.

The last two lines are ``ratio to the shape-matched limit: <limit time / engine time>`` (1 or more: the engine
is as fast as the bare products) and ``speedup: <loop time / engine time>x``.
"""
from __future__ import annotations

import argparse
import time

import torch

from modscale_lib.networks import MLPEnsemble
from modscale_lib.tasks import SineWaveTask
from modscale_lib.training import fit


def matmul_gflops(device: torch.device, size: int = 1024, repeats: int = 20) -> float:
    a, b = torch.randn(size, size, device=device), torch.randn(size, size, device=device)
    for _ in range(3):
        a @ b
    _sync(device)
    start = time.perf_counter()
    for _ in range(repeats):
        a @ b
    _sync(device)
    return 2 * size ** 3 * repeats / (time.perf_counter() - start) / 1e9


class Clock:
    """Wall and process CPU time since creation (CPU time is what a shared machine's load does not inflate)."""

    def __init__(self):
        self.wall, self.cpu = time.perf_counter(), time.process_time()

    def stop(self) -> tuple[float, float]:
        return time.perf_counter() - self.wall, time.process_time() - self.cpu


def _sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize()


def train_flops(n_models: int, steps: int, batch: int, m: int, width: int) -> float:
    """Multiply-adds of forward and backward (about three forward passes), counted as 2 flops each."""
    forward_macs = batch * (m * width + width * width + width)
    return 2 * 3 * forward_macs * n_models * steps


def loop_baseline(X, y, n_models, steps, batch, width, lr, device) -> float:
    m = X.shape[1]
    clock = Clock()
    for e in range(n_models):
        torch.manual_seed(e)
        net = torch.nn.Sequential(torch.nn.Linear(m, width), torch.nn.ReLU(), torch.nn.Linear(width, width),
                                  torch.nn.ReLU(), torch.nn.Linear(width, 1)).to(device)
        opt = torch.optim.Adam(net.parameters(), lr=lr)
        gen = torch.Generator(device="cpu").manual_seed(e)
        for _ in range(steps):
            idx = torch.randint(0, X.shape[0], (batch,), generator=gen).to(device)
            loss = ((net(X[idx])[:, 0] - y[idx]) ** 2).mean()
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
    _sync(device)
    return clock.stop()


def limit_baseline(X, y, n_models, steps, batch, width, lr, device) -> float:
    """The same ensemble as bare batched products and Adam over the stacked weights."""
    m = X.shape[1]
    gen = torch.Generator(device="cpu").manual_seed(0)
    sizes = [m, width, width, 1]
    Ws = [torch.randn(n_models, a, b, generator=gen).mul_(a ** -0.5).to(device).requires_grad_(True)
          for a, b in zip(sizes[:-1], sizes[1:])]
    bs = [torch.zeros(n_models, 1, b, device=device, requires_grad=True) for b in sizes[1:]]
    opt = torch.optim.Adam(Ws + bs, lr=lr)
    clock = Clock()
    for _ in range(steps):
        idx = torch.randint(0, X.shape[0], (n_models, batch), generator=gen).to(device)
        h = X[idx]
        for layer, (W, b) in enumerate(zip(Ws, bs)):
            h = torch.baddbmm(b, h, W)
            if layer < len(Ws) - 1:
                h = torch.relu(h)
        loss = ((h[..., 0] - y[idx]) ** 2).mean(dim=1).sum()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    _sync(device)
    return clock.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--models", type=int, default=64)
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--width", type=int, default=64)
    parser.add_argument("--input-dim", type=int, default=8)
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    device = torch.device(args.device)
    task = SineWaveTask(args.input_dim, 2, seed=0)
    X_np, y_np = task.sample(args.n, seed=0)
    X, y = torch.as_tensor(X_np, device=device), torch.as_tensor(y_np, device=device)
    print(f"device: {device} ({torch.get_num_threads()} CPU threads), torch {torch.__version__}")
    print(f"{args.models} MLPs {args.input_dim}->{args.width}->{args.width}->1, Adam, {args.steps} steps, "
          f"minibatch {args.batch}, n = {args.n}")

    ens = MLPEnsemble(args.models, args.input_dim, args.width, depth=2, seeds=range(args.models)).to(device)
    fit(ens, X, y, steps=5, batch_size=args.batch, progress=False)  # warm-up

    def engine_run() -> float:
        net = MLPEnsemble(args.models, args.input_dim, args.width, depth=2, seeds=range(args.models)).to(device)
        _sync(device)
        clock = Clock()
        fit(net, X, y, steps=args.steps, batch_size=args.batch, lr=1e-3, progress=False, eval_every=args.steps)
        _sync(device)
        return clock.stop()

    runs = {"engine": [], "loop": [], "limit": []}
    for _ in range(max(1, args.repeats)):
        runs["engine"].append(engine_run())
        runs["loop"].append(loop_baseline(X, y, args.models, args.steps, args.batch, args.width, 1e-3, device))
        runs["limit"].append(limit_baseline(X, y, args.models, args.steps, args.batch, args.width, 1e-3, device))
    print("runs, wall/CPU s: " + "; ".join(f"{k} " + ", ".join(f"{w:.3g}/{c:.3g}" for w, c in v)
                                            for k, v in runs.items()))
    if device.type == "cpu":   # the fastest CPU time of each: the work done, whatever else ran on the machine
        cpu = {k: min(c for _, c in v) for k, v in runs.items()}
        print(f"CPU time: engine {cpu['engine']:.3g} s, loop {cpu['loop']:.3g} s, limit {cpu['limit']:.3g} s; "
              f"ratio to the limit {cpu['limit'] / cpu['engine']:.3g}, speedup {cpu['loop'] / cpu['engine']:.3g}x")
    engine, loop, limit = (min(w for w, _ in runs[k]) for k in ("engine", "loop", "limit"))
    flops = train_flops(args.models, args.steps, args.batch, args.input_dim, args.width)
    print(f"batched engine: {engine:.3g} s ({flops / engine / 1e9:.3g} GFLOP/s)")
    print(f"python loop:    {loop:.3g} s ({flops / loop / 1e9:.3g} GFLOP/s)")
    print(f"bare limit:     {limit:.3g} s ({flops / limit / 1e9:.3g} GFLOP/s)")
    print(f"fp32 matmul 1024x1024: {matmul_gflops(device):.3g} GFLOP/s")
    print(f"ratio to the shape-matched limit: {limit / engine:.3g}")
    print(f"speedup: {loop / engine:.3g}x")


if __name__ == "__main__":
    main()
