"""Hostile input at every public entry: each case ends in a correct result or a clear, named error.

The cases are listed explicitly, module by module (theory, tasks, networks, training,
rule, measure, data, peers, analysis, core, store, present). A case is either

* ``bad``: NaN, inf, a non-integer, a negative, a zero or empty input, a huge size, mismatched lengths, a
  wrong shape or dtype: it must raise ``TypeError`` or ``ValueError`` whose message names the parameter; or
* ``good``: an unusual but valid input (a torch tensor where an array is expected and the reverse, ``5.0``
  for ``5``): it must return, with no NaN or infinity in what it returns.

Every case runs under a 20-second alarm (``signal.alarm``), so a hang fails the case instead of the suite;
huge sizes must be refused by the size checks before anything is allocated (a case that allocated would be
caught by the alarm or by numpy's own MemoryError, and fail). ``test_summary`` prints the counts.
"""

from __future__ import annotations

import signal
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import hostile_cases
import numpy as np
import pytest
import torch

torch.manual_seed(0)  # the random tensors below are the same in every process

from modscale_lib import (  # noqa: E402  (after the seed)
    analysis,
    core,
    data,
    experiments,
    measure,
    networks,
    peers,
    present,
    rule,
    store,
    tasks,
    theory,
)

NAN, INF = float("nan"), float("inf")
HUGE = 10**12
TIMEOUT_S = 20


@dataclass
class Case:
    id: str
    call: Callable[[], Any]
    name: str | None  # the parameter the error must name (None: a good case, which must return)


CASES: list[Case] = []


def _describe(value: Any) -> str:
    """A stable description of a case's value for its test id (the same in every process, as xdist needs)."""
    if hasattr(value, "shape") and hasattr(value, "dtype"):
        return f"{type(value).__name__}{tuple(value.shape)}:{value.dtype}"
    if callable(value):
        return f"<{type(value).__name__}>"
    return repr(value)


def bad(module: str, func: str, name: str, values, call: Callable[[Any], Any]) -> None:
    """One bad case per value: ``call(value)`` must raise a TypeError/ValueError naming ``name``."""
    for i, value in enumerate(values):
        CASES.append(Case(f"{module}.{func}:{name}={_describe(value)}"[:80] + f"#{i}", lambda v=value: call(v), name))


def good(module: str, func: str, what: str, call: Callable[[], Any]) -> None:
    CASES.append(Case(f"{module}.{func}:{what}", call, None))


COUNT = [2.5, -1, 0, NAN, "3", True]  # whole numbers >= 1
SIZE = COUNT + [HUGE]  # ... that size an allocation or a loop
SEED = [2.5, -1, NAN, "a", 2**70]
POS = [NAN, INF, -1.0, 0.0, "x"]  # real numbers > 0
NONNEG = [NAN, INF, -1.0, "x"]  # real numbers >= 0


def arrays_bad(shape_ok):
    """NaN, a wrong number of dimensions, an empty array, strings."""
    a = np.ones(shape_ok)
    nan = a.copy()
    nan.flat[0] = np.nan
    return [nan, np.ones(shape_ok + (2,)), np.ones((0,) + shape_ok[1:]), np.full(shape_ok, "a")]


rng = np.random.default_rng(0)
X20 = rng.standard_normal((40, 4))
Y20 = X20[:, 0] + np.sin(X20[:, 1])
LAM = [1.0, 0.5, 0.1]

# --- theory ------------------------------------------------------------------------------------------------
T = "theory"
bad(T, "pinv_frobenius_moment", "N", COUNT + [[]], lambda v: theory.pinv_frobenius_moment(v, 5))
bad(T, "pinv_frobenius_moment", "p", COUNT, lambda v: theory.pinv_frobenius_moment(10, v))
bad(T, "pinv_frobenius_moment", "N", [np.ones(3, int) * 10], lambda v: theory.pinv_frobenius_moment(v, np.ones(2, int)))
good(T, "pinv_frobenius_moment", "tensor", lambda: theory.pinv_frobenius_moment(torch.tensor([10, 20]), 5))
bad(T, "simulate_pinv_frobenius_moment", "trials", SIZE, lambda v: theory.simulate_pinv_frobenius_moment(10, 5, v))
bad(T, "simulate_pinv_frobenius_moment", "N", COUNT, lambda v: theory.simulate_pinv_frobenius_moment(v, 5, 10))
bad(T, "simulate_pinv_frobenius_moment", "seed", SEED, lambda v: theory.simulate_pinv_frobenius_moment(10, 5, 10, v))
bad(T, "losses_from_traces", "N", [NAN, 0.5, "x"], lambda v: theory.losses_from_traces(v, 5, 0.5, 0.5))
bad(T, "losses_from_traces", "trace_seen", NONNEG, lambda v: theory.losses_from_traces(10, 5, v, 0.5))
bad(T, "losses_from_traces", "trace_missing", NONNEG, lambda v: theory.losses_from_traces(10, 5, 0.5, v))
bad(T, "losses_from_traces", "noise", NONNEG, lambda v: theory.losses_from_traces(10, 5, 0.5, 0.5, noise=v))
bad(T, "losses_from_traces", "d", COUNT, lambda v: theory.losses_from_traces(10, 5, 0.5, 0.5, d=v))
bad(T, "expected_losses", "n", COUNT, lambda v: theory.expected_losses(v, 2, LAM))
bad(T, "expected_losses", "p", COUNT, lambda v: theory.expected_losses(10, v, LAM))
bad(T, "expected_losses", "spectrum", arrays_bad((3,)) + [[0.1, 1.0]], lambda v: theory.expected_losses(10, 1, v))
bad(T, "expected_losses", "d", COUNT, lambda v: theory.expected_losses(10, 2, LAM, d=v))
bad(T, "expected_losses", "noise", NONNEG, lambda v: theory.expected_losses(10, 2, LAM, noise=v))
good(T, "expected_losses", "tensor n", lambda: theory.expected_losses(torch.tensor([10, 20]), 2, np.array(LAM)))
good(T, "expected_losses", "5.0", lambda: theory.expected_losses(5.0, 2.0, LAM))
bad(T, "simulate_losses", "trials", SIZE, lambda v: theory.simulate_losses(10, 2, LAM, trials=v))
bad(T, "simulate_losses", "n", SIZE, lambda v: theory.simulate_losses(v, 2, LAM, trials=3))
bad(T, "simulate_losses", "seed", SEED, lambda v: theory.simulate_losses(10, 2, LAM, trials=3, seed=v))
bad(T, "exponent_inverse_dim", "input_dim", [NAN, 0, -1, "x", []], lambda v: theory.exponent_inverse_dim(v))
bad(T, "exponent_inverse_dim", "alpha", POS, lambda v: theory.exponent_inverse_dim(3, v))
bad(T, "exponent_geometric", "omega", [NAN, 1.0, 0.5, "x"], lambda v: theory.exponent_geometric(3, v))
bad(T, "telescoping_spectrum", "P", SIZE, lambda v: theory.telescoping_spectrum(v, 0.5))
bad(T, "telescoping_spectrum", "exponent", POS, lambda v: theory.telescoping_spectrum(10, v))
bad(T, "telescoping_spectrum", "c", POS, lambda v: theory.telescoping_spectrum(10, 0.5, v))
bad(T, "power_law_tail", "p", [NAN, -1, "x"], lambda v: theory.power_law_tail(v, 0.5))
bad(T, "power_law_tail", "exponent", POS, lambda v: theory.power_law_tail(3, v))
bad(T, "power_law_spectrum", "P", SIZE, lambda v: theory.power_law_spectrum(v, 3))
bad(T, "power_law_spectrum", "alpha", POS, lambda v: theory.power_law_spectrum(10, 3, alpha=v))
bad(T, "power_law_spectrum", "c", POS, lambda v: theory.power_law_spectrum(10, 3, c=v))
bad(T, "geometric_spectrum", "omega", [NAN, 1.0, "x"], lambda v: theory.geometric_spectrum(10, 3, omega=v))
bad(T, "geometric_spectrum", "input_dim", [NAN, 0, [3, 4]], lambda v: theory.geometric_spectrum(10, v))
bad(T, "modular_spectrum", "n_modules", SIZE, lambda v: theory.modular_spectrum(LAM, v))
bad(T, "modular_spectrum", "spectrum", arrays_bad((3,)), lambda v: theory.modular_spectrum(v, 2))
bad(T, "sample_complexity", "target", [NAN, -1.0, 0.0, "x", []], lambda v: theory.sample_complexity(v, 4))
bad(T, "sample_complexity", "input_dim", [NAN, 0, "x"], lambda v: theory.sample_complexity(0.3, v))
bad(T, "sample_complexity", "alpha", POS, lambda v: theory.sample_complexity(0.3, 4, alpha=v))
bad(
    T,
    "sample_complexity",
    "omega",
    [NAN, 1.0],
    lambda v: theory.sample_complexity(0.3, 4, exponent="geometric", omega=v),
)
bad(T, "sample_complexity", "c", POS, lambda v: theory.sample_complexity(0.3, 4, c=v))
bad(T, "sample_complexity", "n_modules", COUNT, lambda v: theory.sample_complexity(0.3, 8, n_modules=v))
bad(
    T,
    "sample_complexity",
    "module_dim",
    COUNT + [8],
    lambda v: theory.sample_complexity(0.3, 2, n_modules=2, module_dim=v),
)
bad(T, "sample_complexity", "d", COUNT, lambda v: theory.sample_complexity(0.3, 4, d=v))
bad(T, "sample_complexity", "noise", NONNEG, lambda v: theory.sample_complexity(0.3, 4, noise=v))
bad(T, "sample_complexity", "p", COUNT, lambda v: theory.sample_complexity(0.3, 4, p=v))
bad(T, "sample_complexity", "p_max", [NAN, 0.5, "x"], lambda v: theory.sample_complexity(0.3, 4, p_max=v))
bad(T, "sample_complexity", "p_points", [2.5, 0, NAN, HUGE], lambda v: theory.sample_complexity(0.3, 4, p_points=v))
bad(T, "sample_complexity", "exponent", ["cubic", 3], lambda v: theory.sample_complexity(0.3, 4, exponent=v))
bad(T, "sample_complexity", "return_p", ["yes", 1], lambda v: theory.sample_complexity(0.3, 4, return_p=v))
bad(T, "sample_complexity", "target", [np.full((3,), 0.3)], lambda v: theory.sample_complexity(v, np.arange(2, 6)))
good(T, "sample_complexity", "tensor m", lambda: theory.sample_complexity(0.3, torch.tensor([2.0, 4.0])))
bad(T, "random_projection_overlap", "degree", [2.5, -1, NAN, []], lambda v: theory.random_projection_overlap(4, v))
bad(T, "random_projection_overlap", "input_dim", [NAN, 0], lambda v: theory.random_projection_overlap(v, 2))
bad(T, "simulate_hermite_overlap", "degree", COUNT, lambda v: theory.simulate_hermite_overlap(v, 0.5, 100))
bad(T, "simulate_hermite_overlap", "cos_angle", [NAN, 2.0, "x"], lambda v: theory.simulate_hermite_overlap(2, v, 100))
bad(T, "simulate_hermite_overlap", "n_samples", SIZE, lambda v: theory.simulate_hermite_overlap(2, 0.5, v))
bad(T, "random_projection_traces", "q", [NAN, -1, "x"], lambda v: theory.random_projection_traces(v, 4, 2))
bad(T, "random_projection_traces", "n_modules", COUNT + [5], lambda v: theory.random_projection_traces(3, 4, v))
bad(T, "random_projection_traces", "alpha", POS, lambda v: theory.random_projection_traces(3, 4, 2, alpha=v))
bad(T, "random_projection_traces", "c", POS, lambda v: theory.random_projection_traces(3, 4, 2, c=v))
bad(T, "random_projection_traces", "n_degrees", SIZE, lambda v: theory.random_projection_traces(3, 4, 2, n_degrees=v))
bad(
    T,
    "random_projection_sample_complexity",
    "target",
    [NAN, 0.0],
    lambda v: theory.random_projection_sample_complexity(v, 4, 2),
)
bad(
    T,
    "random_projection_sample_complexity",
    "n_modules",
    COUNT,
    lambda v: theory.random_projection_sample_complexity(0.9, 4, v),
)
bad(
    T,
    "random_projection_sample_complexity",
    "p_points",
    [2.5, 0, HUGE],
    lambda v: theory.random_projection_sample_complexity(0.9, 4, 2, p_points=v),
)
bad(T, "power_law_losses", "n", COUNT, lambda v: theory.power_law_losses(v, 5, 3))
bad(T, "power_law_losses", "p", COUNT, lambda v: theory.power_law_losses(10, v, 3))
bad(T, "power_law_losses", "alpha", POS, lambda v: theory.power_law_losses(10, 5, 3, alpha=v))
bad(T, "power_law_losses", "c", POS, lambda v: theory.power_law_losses(10, 5, 3, c=v))
bad(T, "power_law_losses", "noise", NONNEG, lambda v: theory.power_law_losses(10, 5, 3, noise=v))
CAL_N, CAL_P = [100, 200, 400, 800], [10, 10, 10, 10]
CAL_LOSS = list(theory.power_law_losses(np.array(CAL_N), 10, 3)[1])
bad(T, "calibrate_power_law", "n", [[NAN] * 4, [1, 2]], lambda v: theory.calibrate_power_law(v, CAL_P, 3, CAL_LOSS))
bad(
    T,
    "calibrate_power_law",
    "peak_band",
    [NAN, -1.0],
    lambda v: theory.calibrate_power_law(CAL_N, CAL_P, 3, CAL_LOSS, peak_band=v),
)
bad(
    T,
    "calibrate_power_law",
    "alphas",
    [[-1.0], [NAN], []],
    lambda v: theory.calibrate_power_law(CAL_N, CAL_P, 3, CAL_LOSS, alphas=v),
)
bad(
    T,
    "calibrate_power_law",
    "c_values",
    [[-1.0], [NAN]],
    lambda v: theory.calibrate_power_law(CAL_N, CAL_P, 3, CAL_LOSS, c_values=v),
)
bad(T, "calibrate_power_law", "test_loss", [[NAN] * 4], lambda v: theory.calibrate_power_law(CAL_N, CAL_P, 3, v))

# --- tasks: the sine-wave task and the other families ------------------------------------------------------------------------------
K = "tasks"
bad(K, "SineWaveTask", "input_dim", COUNT, lambda v: tasks.SineWaveTask(v, 2))
bad(K, "SineWaveTask", "n_modules", SIZE + [10**9], lambda v: tasks.SineWaveTask(4, v))
bad(K, "SineWaveTask", "module_dim", COUNT + [5], lambda v: tasks.SineWaveTask(4, 2, v))
bad(K, "SineWaveTask", "n_components", COUNT + [4], lambda v: tasks.SineWaveTask(4, 2, n_components=v))
bad(K, "SineWaveTask", "noise", NONNEG + [1e40], lambda v: tasks.SineWaveTask(4, 2, noise=v))
bad(K, "SineWaveTask", "seed", SEED, lambda v: tasks.SineWaveTask(4, 2, seed=v))
bad(
    K,
    "SineWaveTask",
    "frequencies",
    [(NAN, 1, 2), (1, 2), (-1, 2, 3), ()],
    lambda v: tasks.SineWaveTask(4, 2, frequencies=v),
)
bad(K, "SineWaveTask", "amplitudes", [(0, 0, 0), (NAN, 1, 1), (1, 1)], lambda v: tasks.SineWaveTask(4, 2, amplitudes=v))
bad(K, "SineWaveTask", "frequencies", [(0.0, 0.0, 0.0)], lambda v: tasks.SineWaveTask(4, 2, frequencies=v))
TASK = tasks.SineWaveTask(4, 2, seed=0)
bad(K, "SineWaveTask.sample", "n", SIZE, lambda v: TASK.sample(v, 0))
bad(K, "SineWaveTask.sample", "seed", SEED, lambda v: TASK.sample(5, v))
bad(K, "SineWaveTask.sample_ood", "input_std", POS + [1e40], lambda v: TASK.sample_ood(5, 0, input_std=v))
bad(K, "SineWaveTask.sample_ood", "n", SIZE, lambda v: TASK.sample_ood(v, 0))
bad(K, "SineWaveTask.module_outputs", "X", arrays_bad((5, 4))[:2] + [np.ones((5, 3))], lambda v: TASK.module_outputs(v))
bad(K, "SineWaveTask.target", "X", arrays_bad((5, 4))[:2], lambda v: TASK.target(v))
good(K, "SineWaveTask.target", "no rows", lambda: TASK.target(np.zeros((0, 4))))
good(K, "SineWaveTask.target", "tensor X", lambda: TASK.target(torch.randn(5, 4)))
good(K, "SineWaveTask", "5.0", lambda: tasks.SineWaveTask(4.0, 2.0).sample(5.0, 0)[1])
TASK1 = tasks.SineWaveTask(3, 1)
bad(K, "SineWaveTask.module_components", "t", [[NAN], np.ones((2, 2))], lambda v: TASK1.module_components(v))
bad(K, "SineWaveTask.module_components", "module", [1, -1, 0.5], lambda v: TASK1.module_components([0.0], v))
bad(K, "SineWaveTask.standardise", "raw", [[NAN], ["a"]], lambda v: TASK1.standardise(v))
M = "tasks"
bad(M, "NonSeparableTask", "input_dim", COUNT, lambda v: tasks.NonSeparableTask(v, 2))
bad(M, "make_task", "kind", ["bogus", None, 3], lambda v: tasks.make_task(v, 4, 2))
bad(M, "check_task_kind", "kind", ["bogus", None], lambda v: tasks.check_task_kind(v, 1))
bad(M, "check_task_kind", "module_dim", [2, 0, 2.5], lambda v: tasks.check_task_kind("sine", v))
bad(M, "make_task", "module_dim", [2, 0, 2.5], lambda v: tasks.make_task("sine", 4, 2, v))
bad(M, "make_task", "module_dim", [3], lambda v: tasks.make_task("bump_ridge", 4, 2, v))
bad(M, "NonSeparableTask", "module_dim", COUNT + [4], lambda v: tasks.NonSeparableTask(6, 2, v))
bad(M, "NonSeparableTask", "n_modules", SIZE, lambda v: tasks.NonSeparableTask(6, v))
bad(M, "NonSeparableTask", "module_kind", ["sine", None], lambda v: tasks.NonSeparableTask(6, 2, module_kind=v))
bad(M, "NonSeparableTask", "noise", NONNEG, lambda v: tasks.NonSeparableTask(6, 2, noise=v))
bad(M, "HermiteLinkTask", "input_dim", COUNT, lambda v: tasks.HermiteLinkTask(v, 2, 2))
bad(M, "HermiteLinkTask", "n_modules", COUNT + [7], lambda v: tasks.HermiteLinkTask(6, v, 2))
bad(M, "HermiteLinkTask", "degree", COUNT + [5], lambda v: tasks.HermiteLinkTask(6, 2, v))
bad(M, "HermiteLinkTask", "noise", NONNEG, lambda v: tasks.HermiteLinkTask(6, 2, 2, noise=v))
bad(M, "link_degree", "kind", ["he9", None, 2], lambda v: tasks.link_degree(v))
bad(M, "NonSeparableTask", "ridge_share", [NAN, 2.0], lambda v: tasks.NonSeparableTask(6, 2, ridge_share=v))
bad(
    M,
    "NonSeparableTask",
    "degree",
    COUNT + [7],
    lambda v: tasks.NonSeparableTask(6, 2, module_kind="hermite", degree=v),
)
bad(
    M,
    "NonSeparableTask",
    "module_dim",
    [30],
    lambda v: tasks.NonSeparableTask(30, 1, v, module_kind="hermite", degree=6),
)
NST = tasks.NonSeparableTask(6, 2, 2)
bad(M, "NonSeparableTask.sample", "n", SIZE, lambda v: NST.sample(v, 0))
bad(M, "NonSeparableTask.sample_ood", "input_std", POS, lambda v: NST.sample_ood(5, 0, v))
bad(M, "NonSeparableTask.target", "X", arrays_bad((5, 6))[:2] + [np.full((5, 6), "a")], lambda v: NST.target(v))

# --- networks ---------------------------------------------------------------------------------------------
N = "networks"
bad(N, "mlp_param_count", "width", COUNT, lambda v: networks.mlp_param_count(4, v, 1))
bad(N, "width_for_params", "n_params", SIZE, lambda v: networks.width_for_params(v, 4, 1))
bad(N, "width_for_params", "depth", COUNT, lambda v: networks.width_for_params(100, 4, v))
bad(N, "BatchedMLP", "n_nets", SIZE, lambda v: networks.BatchedMLP(v, 3, 8))
bad(N, "BatchedMLP", "width", SIZE, lambda v: networks.BatchedMLP(2, 3, v))
bad(N, "MLPEnsemble", "n_models", SIZE, lambda v: networks.MLPEnsemble(v, 3, 8))
bad(N, "MLPEnsemble", "input_dim", COUNT, lambda v: networks.MLPEnsemble(2, v, 8))
bad(
    N,
    "MLPEnsemble",
    "seeds",
    [[0, 0.5], [0], [-1, 0], "ab", [NAN, 0]],
    lambda v: networks.MLPEnsemble(2, 3, 8, seeds=v),
)
bad(
    N,
    "MLPEnsemble",
    "widths",
    [[2.5, 8], [0, 8], [8], [16, 8], [NAN, 8]],
    lambda v: networks.MLPEnsemble(2, 3, 8, widths=v),
)
bad(N, "MLPEnsemble", "depth", COUNT, lambda v: networks.MLPEnsemble(2, 3, 8, depth=v))
good(
    N,
    "MLPEnsemble",
    "numpy seeds",
    lambda: networks.MLPEnsemble(2, 3, 8, seeds=np.array([3, 4]))(torch.randn(5, 3)).detach(),
)
bad(N, "random_projections", "n_models", SIZE, lambda v: networks.random_projections(v, 2, 4, 1))
bad(N, "random_projections", "module_dim", COUNT + [5], lambda v: networks.random_projections(2, 2, 4, v))
bad(N, "random_projections", "seeds", [[0.5, 1], [1]], lambda v: networks.random_projections(2, 2, 4, 1, v))
bad(N, "ModularEnsemble", "n_models", SIZE + [10**7], lambda v: networks.ModularEnsemble(v, 4, 2))
bad(N, "ModularEnsemble", "n_modules", SIZE, lambda v: networks.ModularEnsemble(2, 4, v))
bad(N, "ModularEnsemble", "module_dim", COUNT + [5], lambda v: networks.ModularEnsemble(2, 4, 2, v))
bad(
    N,
    "ModularEnsemble",
    "projections",
    [np.full((2, 4, 1), NAN), np.ones((3, 4, 1)), np.ones(3)],
    lambda v: networks.ModularEnsemble(2, 4, 2, projections=v),
)
bad(
    N,
    "ModularEnsemble",
    "train_projections",
    ["yes", 1],
    lambda v: networks.ModularEnsemble(2, 4, 2, train_projections=v),
)
good(
    N,
    "ModularEnsemble",
    "tensor projections",
    lambda: networks.ModularEnsemble(2, 4, 2, projections=torch.ones(2, 4, 1) / 2)(torch.randn(5, 4)).detach(),
)

# --- training ---------------------------------------------------------------------------------------------
R = "networks"
XT = rng.standard_normal((32, 3)).astype(np.float32)
YT = XT[:, 0].copy()


def _fit(**kw):
    args = dict(X=XT, y=YT, steps=3, progress=False, batch_size=8) | kw
    return networks.fit(networks.MLPEnsemble(2, 3, 8), args.pop("X"), args.pop("y"), **args).train_loss


for name, values in {
    "lr": POS,
    "steps": SIZE,
    "batch_size": [2.5, 0, -1, 10**7, HUGE],
    "lr_decay": NONNEG,
    "divergence_factor": [NAN, INF, 0.5, -1.0],
    "weight_decay": NONNEG,
    "n_samples": [[2.5, 32], [0, 32], [33, 32], [32]],
    "seeds": [[0, 0.5], [0]],
    "optimizer": ["lbfgs"],
    "patience": [0, 2.5],
    "eval_every": [0, 2.5],
    "progress": ["no"],
}.items():
    bad(R, "fit", name, values, lambda v, name=name: _fit(**{name: v}))
bad(R, "fit", "X", arrays_bad((32, 3)) + [np.ones((32, 4))], lambda v: _fit(X=v))
bad(R, "fit", "y", [np.ones(31), np.full(32, NAN), np.full(32, "a")], lambda v: _fit(y=v))
bad(R, "fit", "X_val", [np.full((4, 3), NAN)], lambda v: _fit(X_val=v, y_val=np.ones(4)))
good(R, "fit", "tensor X", lambda: _fit(X=torch.as_tensor(XT), y=torch.as_tensor(YT)))
good(R, "fit", "5.0 steps", lambda: _fit(steps=5.0, batch_size=8.0, n_samples=[16.0, 32]))
bad(
    R,
    "evaluate",
    "X",
    [np.full((4, 3), NAN), np.ones((4, 2))],
    lambda v: networks.evaluate(networks.MLPEnsemble(2, 3, 8), v, np.ones(4)),
)
bad(
    R,
    "evaluate",
    "n_samples",
    [[2.5, 3], [5, 1]],
    lambda v: networks.evaluate(networks.MLPEnsemble(2, 3, 8), XT[:4], YT[:4], n_samples=v),
)
bad(R, "evaluate", "model", [None, "net"], lambda v: networks.evaluate(v, XT, YT))
XC, LC = torch.randn(16, 6), torch.randint(0, 3, (16, 2))


def _classifier(**kw):
    args = dict(batches=lambda e: [(XC[:8], LC[:8]), (XC[8:], LC[8:])], n_classes=3, progress=False) | kw
    return networks.fit_classifier(networks.MLPEnsemble(2, 6, 8, n_outputs=6), args.pop("batches"), **args)


for name, values in {
    "lr": POS,
    "epochs": [2.5, 0, -1, NAN, HUGE],
    "weight_decay": NONNEG,
    "divergence_factor": [NAN, 0.5, -1.0],
    "max_rising": [0, 2.5],
    "n_classes": [0, 2.5],
}.items():
    bad(R, "fit_classifier", name, values, lambda v, name=name: _classifier(**{name: v}))
bad(R, "fit_classifier", "batches", [lambda e: [], None], lambda v: _classifier(batches=v))
bad(R, "fit_classifier", "labels", [LC + 5, LC.float(), LC[:, :1]], lambda v: _classifier(batches=lambda e: [(XC, v)]))
bad(R, "fit_classifier", "X", [torch.full((16, 6), NAN)], lambda v: _classifier(batches=lambda e: [(v, LC)]))
bad(R, "fit_classifier", "lr", [1e6], lambda v: _classifier(lr=v, epochs=40))  # diverges: named by the error
bad(
    R,
    "classification_loss",
    "labels",
    [LC + 3, LC[:4]],
    lambda v: networks.classification_loss(torch.zeros(2, 16, 6), v, 3),
)
bad(
    R,
    "classification_loss",
    "n_classes",
    [0, 2.5],
    lambda v: networks.classification_loss(torch.zeros(2, 16, 6), LC, v),
)
bad(
    R,
    "classifier_accuracy",
    "n_classes",
    [0, 2.5, 4],
    lambda v: networks.classifier_accuracy(networks.MLPEnsemble(2, 6, 8, n_outputs=6), [(XC, LC)], v),
)
bad(
    R,
    "classifier_accuracy",
    "batches",
    [[]],
    lambda v: networks.classifier_accuracy(networks.MLPEnsemble(2, 6, 8, n_outputs=6), v, 3),
)
bad(
    R, "as_model_batch", "data", [np.full(3, NAN), np.full(3, "a")], lambda v: networks.as_model_batch(v, "data", "cpu")
)

# --- learning_rule ----------------------------------------------------------------------------------------
L = "rule"


def _rule(X=X20, y=Y20, K=2, b=1, **kw):
    return rule.find_module_projections(X, y, K, b, **({"steps": 2, "width": 16, "batch_size": 16} | kw))


bad(L, "find_module_projections", "X", arrays_bad((40, 4)), lambda v: _rule(X=v))
bad(L, "find_module_projections", "X", [np.zeros((0, 4))], lambda v: _rule(X=v, y=np.zeros(0)))
bad(
    L,
    "find_module_projections",
    "y",
    [Y20[:10], np.full(40, NAN), np.zeros(40), np.full(40, "a")],
    lambda v: _rule(y=v),
)
bad(L, "find_module_projections", "n_modules", SIZE, lambda v: _rule(K=v))
bad(L, "find_module_projections", "module_dim", COUNT + [5], lambda v: _rule(b=v))
for name, values in {
    "steps": SIZE,
    "lr": POS,
    "batch_size": [2.5, 0],
    "ridge": POS,
    "width": [0, 2.5, HUGE],
    "depth": [0, 2.5],
    "refine_passes": [-1, 2.5],
    "seed": SEED,
    "variant": ["greedy"],
    "kernel": ["laplace"],
    "normalise_kernel": ["yes"],
    "return_history": [1],
    "init": [np.ones((3, 4, 1)), np.full((2, 4, 1), NAN)],
}.items():
    bad(L, "find_module_projections", name, values, lambda v, name=name: _rule(**{name: v}))
good(L, "find_module_projections", "tensors", lambda: _rule(X=torch.as_tensor(X20), y=torch.as_tensor(Y20)))
good(L, "find_module_projections", "5.0", lambda: _rule(K=2.0, steps=2.0))
MOD = rule.ModuleAtInit(1, 16, 1, seed=0)
bad(L, "ModuleAtInit", "seed", SEED, lambda v: rule.ModuleAtInit(1, 16, 1, seed=v))
bad(L, "ModuleAtInit", "width", [0, 2.5, HUGE], lambda v: rule.ModuleAtInit(1, v, 1, seed=0))
Z = torch.randn(10, 1)
bad(
    L,
    "feature_kernel",
    "z",
    [torch.full((10, 1), NAN), torch.randn(10, 2), np.ones(3)],
    lambda v: rule.feature_kernel(v, MOD),
)
bad(L, "feature_kernel", "module", [None], lambda v: rule.feature_kernel(Z, v))
bad(L, "ntk_kernel", "z", [torch.full((10, 1), NAN), torch.randn(10, 2)], lambda v: rule.ntk_kernel(v, MOD))
bad(L, "rbf_kernel", "bandwidth", POS, lambda v: rule.rbf_kernel(Z, v))
bad(
    L,
    "rbf_kernel",
    "z",
    [torch.full((10, 1), NAN), torch.randn(1, 1), np.ones(3)],
    lambda v: rule.rbf_kernel(v),
)
good(L, "rbf_kernel", "numpy z", lambda: rule.rbf_kernel(np.random.default_rng(0).standard_normal((10, 2))))
U0 = torch.tensor([[1.0], [0.0], [0.0], [0.0]])
bad(
    L,
    "kernel_objective",
    "ridge",
    POS,
    lambda v: rule.kernel_objective(U0, torch.randn(10, 4), torch.randn(10), "rbf", v),
)
bad(
    L,
    "kernel_objective",
    "U",
    [torch.ones(3, 1), torch.full((4, 1), NAN)],
    lambda v: rule.kernel_objective(v, torch.randn(10, 4), torch.randn(10), "rbf"),
)
bad(
    L,
    "kernel_objective",
    "kernel",
    ["laplace"],
    lambda v: rule.kernel_objective(U0, torch.randn(10, 4), torch.randn(10), v),
)
good(
    L,
    "kernel_objective",
    "numpy",
    lambda: rule.kernel_objective(U0.numpy(), X20[:10], Y20[:10], "rbf").detach(),
)
bad(
    L,
    "orthonormalise",
    "A",
    [torch.ones(3), torch.ones(2, 3), torch.full((3, 2), NAN)],
    lambda v: rule.orthonormalise(v),
)
good(L, "orthonormalise", "numpy", lambda: rule.orthonormalise(np.eye(4)[:, :2]))
bad(L, "moment_span", "dim", COUNT + [5], lambda v: rule.moment_span(X20, Y20, v))
bad(L, "moment_span", "X", arrays_bad((40, 4)), lambda v: rule.moment_span(v, Y20, 1))
bad(L, "moment_span", "y", [Y20[:5], np.full(40, NAN)], lambda v: rule.moment_span(X20, v, 1))

# --- measure: learning curves and subspaces --------------------------------------------------------------------------------
Q = "measure"
E2 = np.eye(4)[:, :2]
bad(
    Q,
    "growth_per_dimension",
    "input_dims",
    [[1, NAN], [1, 2, 3], [8, 8]],
    lambda v: measure.growth_per_dimension(v, [10, 20]),
)
bad(
    Q,
    "growth_per_dimension",
    "n_samples",
    [np.ones((2, 2)), ["a", "b"]],
    lambda v: measure.growth_per_dimension([1, 2], v),
)
bad(Q, "samples_to_reach", "target", [NAN, "x"], lambda v: measure.samples_to_reach([1, 2, 4], [3, 2, 1], v))
bad(
    Q,
    "samples_to_reach",
    "n_grid",
    [[4, 2, 1], [NAN, 2, 4], [-1, 2, 4], []],
    lambda v: measure.samples_to_reach(v, [3, 2, 1], 1.5),
)
bad(Q, "samples_to_reach", "losses", [[3, 2], ["a", "b", "c"]], lambda v: measure.samples_to_reach([1, 2, 4], v, 1.5))
good(
    Q,
    "samples_to_reach",
    "tensor",
    lambda: measure.samples_to_reach(torch.tensor([1.0, 2.0, 4.0]), torch.tensor([3.0, 2.0, 1.0]), 1.5),
)
for func in ("principal_cosines", "module_similarity", "matched_similarity", "union_span_error", "similarity_score"):
    f = getattr(measure, func)
    bad(
        Q,
        func,
        "U" if func == "principal_cosines" else "true",
        [np.full((4, 2), NAN), np.ones((4, 2)), np.ones(4), np.eye(5)[:, :2]],
        lambda v, f=f: f(v, E2),
    )
    good(Q, func, "tensor", lambda f=f: f(torch.as_tensor(E2), E2))
bad(
    Q,
    "matched_mean",
    "similarity",
    [np.ones(3), np.zeros((0, 2)), np.full((2, 2), NAN)],
    lambda v: measure.matched_mean(v),
)
S = "measure"
for func in ("union_overlap", "grouped_overlap", "module_overlaps"):
    f = getattr(measure, func)
    bad(
        S,
        func,
        "true",
        [np.full((4, 2), NAN), np.ones((4, 2)), np.ones(4), np.eye(5)[:, :2], np.zeros((0, 4, 1))],
        lambda v, f=f: f(v, E2),
    )
    good(S, func, "tensor", lambda f=f: f(torch.as_tensor(E2), E2))
bad(
    S,
    "orthonormal_modules",
    "projections",
    [np.ones((4, 2)), np.ones((2, 5)), np.full((4, 1), INF)],
    lambda v: measure.orthonormal_modules(v),
)

# --- grouping ---------------------------------------------------------------------------------------------
G = "rule"
ZG = rng.standard_normal((60, 2))
bad(
    G,
    "span_model_hessians",
    "Z",
    [np.full((60, 2), NAN), np.ones((5, 2)), np.ones(60)],
    lambda v: rule.span_model_hessians(v, np.ones(len(v))),
)
bad(G, "span_model_hessians", "y", [np.ones(5), np.full(60, NAN)], lambda v: rule.span_model_hessians(ZG, v))
bad(G, "span_model_hessians", "n_features", SIZE, lambda v: rule.span_model_hessians(ZG, ZG[:, 0], n_features=v))
bad(G, "span_model_hessians", "n_points", [0, 2.5], lambda v: rule.span_model_hessians(ZG, ZG[:, 0], n_points=v))
bad(
    G,
    "span_model_hessians",
    "bandwidths",
    [[-1.0], [NAN], []],
    lambda v: rule.span_model_hessians(ZG, ZG[:, 0], bandwidths=v),
)
bad(G, "span_model_hessians", "ridges", [[0.0], [NAN]], lambda v: rule.span_model_hessians(ZG, ZG[:, 0], ridges=v))
bad(
    G,
    "partition_directions",
    "restarts",
    [0, 2.5, HUGE],
    lambda v: rule.partition_directions(np.ones((4, 4)), 2, 2, restarts=v),
)
bad(
    G,
    "partition_directions",
    "coupling",
    [np.ones((3, 3)), np.full((4, 4), NAN)],
    lambda v: rule.partition_directions(v, 2, 2),
)
bad(
    G,
    "joint_block_diagonalise",
    "matrices",
    [np.ones((2, 3, 3)), np.full((2, 4, 4), NAN), np.ones((4, 4))],
    lambda v: rule.joint_block_diagonalise(v, 2, 2),
)
bad(
    G,
    "joint_block_diagonalise",
    "n_modules",
    [0, 2.5],
    lambda v: rule.joint_block_diagonalise(np.ones((2, 4, 4)), v, 2),
)
INIT = np.eye(4)[:, :2].reshape(4, 2, 1).transpose(1, 0, 2)
bad(G, "fit_additive", "steps", SIZE, lambda v: rule.fit_additive(X20, Y20, INIT, steps=v))
bad(
    G,
    "fit_additive",
    "init",
    [np.ones((2, 3, 1)), np.full((2, 4, 1), NAN), np.ones((2, 4, 5))],
    lambda v: rule.fit_additive(X20, Y20, v, steps=2),
)
bad(G, "fit_additive", "lr", POS, lambda v: rule.fit_additive(X20, Y20, INIT, steps=2, lr=v))
bad(
    G,
    "fit_additive",
    "val_fraction",
    [0.0, 1.0, NAN],
    lambda v: rule.fit_additive(X20, Y20, INIT, steps=2, val_fraction=v),
)
bad(
    G,
    "group_directions",
    "module_dim",
    [2.5, 0, 3],
    lambda v: rule.group_directions(X20, Y20, np.eye(4)[:, :2], 2, v),
)
bad(
    G,
    "group_directions",
    "basis",
    [np.ones((4, 3)), np.full((4, 2), NAN)],
    lambda v: rule.group_directions(X20, Y20, v, 2, 1),
)
bad(
    G,
    "group_directions",
    "rounds",
    [0, 2.5],
    lambda v: rule.group_directions(X20, Y20, np.eye(4)[:, :2], 2, 1, rounds=v),
)

# --- data -------------------------------------------------------------------------------------------------
D = "data"
YC = np.arange(100) % 10
XI = np.zeros((100, 2, 2, 3), np.uint8)
bad(D, "find_cifar10", "copy", ["png", None], lambda v: data.find_cifar10(copy=v))
bad(D, "find_cifar10", "root", [3.5], lambda v: data.find_cifar10(v))
bad(D, "is_unseen_combination", "holdout_mod", [1, 2.5, NAN], lambda v: data.is_unseen_combination([[1, 2]], v))
bad(D, "is_unseen_combination", "offset", [0.5, NAN], lambda v: data.is_unseen_combination([[1, 2]], 5, v))
bad(D, "is_unseen_combination", "labels", [[[1, 10]], [[1.5, 2]], [[1]], []], lambda v: data.is_unseen_combination(v))
bad(D, "n_combinations", "k", [2.5, 0, 100, HUGE], lambda v: data.n_combinations(v))
bad(D, "compositional_indices", "offset", [0.5], lambda v: data.compositional_indices(YC, 2, 5, 0, "unseen", offset=v))
bad(
    D,
    "compositional_indices",
    "holdout_mod",
    [100, 1],
    lambda v: data.compositional_indices(YC, 2, 5, 0, "unseen", holdout_mod=v, offset=1),
)
bad(D, "compositional_indices", "k", [0, 17, 2.5], lambda v: data.compositional_indices(YC, v, 5, 0))
bad(D, "compositional_indices", "n", SIZE, lambda v: data.compositional_indices(YC, 2, v, 0))
bad(D, "compositional_indices", "seed", [-1, 2.5, "a"], lambda v: data.compositional_indices(YC, 2, 5, v))
bad(D, "compositional_indices", "y", [[], [1.5], [11]], lambda v: data.compositional_indices(v, 2, 5, 0))
bad(
    D,
    "compositional_indices",
    "combos",
    ["some", [[0, 10]], [[0, 1, 2]]],
    lambda v: data.compositional_indices(YC, 2, 5, 0, v),
)
good(D, "compositional_indices", "tensor y", lambda: data.compositional_indices(torch.as_tensor(YC), 2, 5, 0)[0])
bad(
    D,
    "assemble",
    "index",
    [np.array([[0, 100]]), np.array([[-1, 0]]), np.array([[0.5, 1]])],
    lambda v: data.assemble(XI, v),
)
bad(D, "compositional_cifar", "x", [XI[:50]], lambda v: data.compositional_cifar(v, YC, 2, 5, 0))
bad(D, "add_pixel_noise", "sigma", NONNEG, lambda v: data.add_pixel_noise(XI, v, 0))
bad(D, "add_pixel_noise", "images", [XI.astype(float)], lambda v: data.add_pixel_noise(v, 0.1, 0))
bad(D, "to_features", "std", [(NAN, 1, 1), (0, 1, 1), (1, 1)], lambda v: data.to_features(XI, std=v))
bad(D, "to_features", "mean", [(NAN, 1, 1), (1, 1)], lambda v: data.to_features(XI, mean=v))
bad(D, "to_features", "images", [XI.astype(float), XI[0]], lambda v: data.to_features(v))
bad(D, "image_features", "images", [XI, XI.astype(float)], lambda v: data.image_features(v))
FI = np.zeros((10, 6), np.float32)
bad(
    D,
    "composite_features",
    "index",
    [np.array([[0, 10]]), np.array([[-1, 0]]), np.array([[0.5, 1]]), np.array([1, 2])],
    lambda v: data.composite_features(FI, v),
)
good(D, "composite_features", "tensors", lambda: data.composite_features(torch.as_tensor(FI), torch.tensor([[1, 2]])))
bad(D, "slot_of_feature", "k", [0, 2.5, 17], lambda v: data.slot_of_feature(v))
bad(D, "training_indices", "n", SIZE, lambda v: data.training_indices(YC, 1, v, 0))
bad(D, "training_indices", "k", [0, 17, 2.5], lambda v: data.training_indices(YC, v, 5, 0))

# --- peers ------------------------------------------------------------------------------------------------
P = "peers"
XP = rng.standard_normal((60, 4))
YP = XP[:, 0] ** 2 + XP[:, 1]
for func, f in peers.METHODS.items():  # every registered peer, a new one included
    bad(
        P,
        func,
        "X",
        [np.full((60, 4), NAN), np.ones((3, 4)), np.ones(60)],
        lambda v, f=f: f(v, YP[: len(v)] if np.ndim(v) else YP, 1),
    )
    bad(P, func, "y", [YP[:10], np.full(60, NAN), np.ones(60)], lambda v, f=f: f(XP, v, 1))
    bad(P, func, "n_directions", [0, 2.5, 5, NAN], lambda v, f=f: f(XP, YP, v))
    bad(P, func, "seed", [-1, 2.5], lambda v, f=f: f(XP, YP, 1, seed=v))
bad(
    P,
    "active_subspace",
    "gradients",
    [np.full((5, 4), NAN), np.zeros((5, 4)), np.ones(4)],
    lambda v: peers.active_subspace(v, 1),
)
bad(P, "active_subspace", "n_directions", [0, 2.5, 5], lambda v: peers.active_subspace(np.eye(4), v))
good(P, "sir", "tensor X", lambda: peers.sir(torch.as_tensor(XP), YP, 1))
bad(P, "egop", "lr", [1e6], lambda v: peers.egop(XP, YP, 1, lr=v, epochs=5))  # diverges: named by the error
bad(P, "sir", "n_slices", [1, 2.5, 61], lambda v: peers.sir(XP, YP, 1, n_slices=v))
for _f, _kw in (("gkdr", "eps"), ("rfm", "ridge"), ("rfm", "bandwidth"), ("gkdr", "bandwidth_scale")):
    bad(P, _f, _kw, [0.0, NAN, "x"], lambda v, f=_f, kw=_kw: peers.METHODS[f](XP, YP, 1, **{kw: v}))
bad(P, "ppr", "degree", [0, 16], lambda v: peers.ppr(XP, YP, 1, degree=v))
bad(P, "egop", "width", [0, 5000], lambda v: peers.egop(XP, YP, 1, width=v))

# --- analysis and seeding ---------------------------------------------------------------------------------
A = "analysis"
bad(
    A,
    "recovery_summary",
    "similarity",
    [np.ones((2, 2)), np.full((1, 1, 1, 2, 2), NAN), np.ones((1, 1, 0, 2, 2))],
    lambda v: analysis.recovery_summary(v),
)
bad(A, "recovery_summary", "level", [NAN], lambda v: analysis.recovery_summary(np.ones((1, 1, 1, 2, 2)), v))
bad(
    A,
    "tuned_on_validation",
    "val_loss",
    [np.array([[NAN, 1.0]]), np.array([[INF, 1.0]]), "x"],
    lambda v: analysis.tuned_on_validation(v, np.ones((1, 2))),
)
bad(
    A,
    "tuned_on_validation",
    "test_loss",
    [np.ones((2, 2)), "x"],
    lambda v: analysis.tuned_on_validation(np.ones((1, 2)), v),
)
_CAP = experiments.CapacityConfig.tiny()  # module grid (1, 1, 2), MLP grid (1, 1)


def _cap(module_val, mlp_val):
    return {"module_val": module_val, "mlp_val": mlp_val}


for _f in ("choose_capacity", "capacity_table"):
    bad(
        A,
        _f,
        "module_val",
        [np.full((1, 1, 2, 1, 1, 1), NAN), np.zeros((1, 1, 2, 1, 1, 1)), np.ones((1, 1, 3, 1, 1, 1)), np.ones((2, 2))],
        lambda v, f=_f: getattr(analysis, f)(_cap(v, np.ones((1, 1, 1, 1, 1))), _CAP),
    )
    bad(
        A,
        _f,
        "mlp_val",
        [np.full((1, 1, 1, 1, 1), INF), -np.ones((1, 1, 1, 1, 1))],
        lambda v, f=_f: getattr(analysis, f)(_cap(np.ones((1, 1, 2, 1, 1, 1)), v), _CAP),
    )
bad(
    A,
    "modular_against_monolithic",
    "n",
    [2.5, 0, [NAN]],
    lambda v: analysis.modular_against_monolithic(v, 10, [2, 4], 2, 1, n_eigenvalues=50),
)
bad(
    A,
    "modular_against_monolithic",
    "n_eigenvalues",
    [0, 2.5, HUGE],
    lambda v: analysis.modular_against_monolithic(10, 10, [2, 4], 2, 1, n_eigenvalues=v),
)
bad(
    A,
    "modular_against_monolithic",
    "n_modules",
    [0, 2.5, HUGE],
    lambda v: analysis.modular_against_monolithic(10, 10, [2, 4], v, 1, n_eigenvalues=50),
)
# --- core: validation, seeding, intervals -----------------------------------------------------------------
C = "core"


@dataclass(frozen=True)
class _HostileConfig:
    n: int = 1
    seed: int = 0

    @classmethod
    def cpu(cls):
        return cls()

    @classmethod
    def full(cls):
        return cls()


bad(C, "whole", "n", [2.5, NAN, INF, "3", True, None, np.ones(2)], lambda v: core.whole(v, "n", low=1))
bad(C, "whole", "n", [0, 11], lambda v: core.whole(v, "n", low=1, high=10))
good(C, "whole", "5.0", lambda: core.whole(5.0, "n"))
bad(C, "whole_array", "k", [[1.5], ["a"], [True], [NAN], [-1]], lambda v: core.whole_array(v, "k", low=0))
bad(C, "real", "x", [NAN, "x", None, [1.0, 2.0], True, INF], lambda v: core.real(v, "x"))
bad(C, "real", "lr", [0.0, -1.0], lambda v: core.real(v, "lr", low=0.0, low_open=True))
bad(C, "real_array", "x", [[NAN], ["a"], [-1.0], []], lambda v: core.real_array(v, "x", low=0.0, min_size=1))
bad(C, "choice", "kind", ["c", 3, None], lambda v: core.choice(v, "kind", ("a", "b")))
bad(C, "boolean", "flag", [1, "yes", None], lambda v: core.boolean(v, "flag"))
bad(
    C,
    "array",
    "X",
    [np.full(2, NAN), [[1.0], [1.0, 2.0]], np.array(["a"]), np.ones(3)],
    lambda v: core.array(v, "X", ndim=2),
)
bad(C, "array", "X", [HUGE], lambda v: core.array(np.broadcast_to(0.0, (v,)), "X"))
good(C, "array", "tensor", lambda: core.array(torch.ones(2, 2), "X", ndim=2))
bad(C, "seed", "seed", SEED, lambda v: core.seed(v))
bad(C, "seeds", "seeds", ["ab", [0, -1], 5, [0.5]], lambda v: core.seeds(v))
bad(C, "seeds", "seeds", [[0, 1, 2]], lambda v: core.seeds(v, length=2))
bad(C, "check_size", "n", [HUGE**2, NAN, "x", -1, None], lambda v: core.check_size(v, "n"))
bad(C, "check_count", "k", [10**9, NAN, "x", -1], lambda v: core.check_count(v, "k"))
good(C, "as_numpy", "tensor", lambda: core.as_numpy(torch.ones(3)))
bad(C, "check_geometry", "n_modules", [3], lambda v: core.check_geometry(v, 2, 4))
for check, value, name in [
    (core.Whole(1), 0, "n"),
    (core.Real(0.0, low_open=True), 0.0, "lr"),
    (core.Boolean(), 1, "flag"),
    (core.Choice(("a",)), "b", "kind"),
    (core.Seed(), -1, "seed"),
    (core.Array(ndim=2), np.ones(3), "X"),
    (core.RealArray(0.0), [-1.0], "x"),
    (core.WholeArray(0), [1.5], "k"),
    (core.Wholes(), (0,), "grid"),
    (core.Wholes(), (1, 1), "grid"),
    (core.Reals(0.0), (-1.0,), "grid"),
    (core.Reals(), (), "grid"),
    (core.SomeOf(("a",)), ("b",), "methods"),
    (core.OrNone(core.Whole()), 0, "n"),
    (core.FilePath(), 5, "root"),
    (core.FilePath(), "", "root"),
    (core.Size(), HUGE, "n"),
    (core.Count(), 10**9, "k"),
    (core.Check(lambda v, n, a: core.whole(v, n)), 2.5, "n"),
]:
    bad(C, type(check).__name__, name, [value], lambda v, check=check, name=name: check(v, name))
good(
    C,
    "Whole",
    "bound from another argument",
    lambda: core.validated(X=core.Array(ndim=2), k=core.Whole(1, high=lambda a: a["X"].shape[1]))(lambda X, k: k)(
        np.ones((2, 3)), 3.0
    ),
)
bad(
    C,
    "validated",
    "k",
    [4],
    lambda v: core.validated(X=core.Array(ndim=2), k=core.Whole(1, high=lambda a: a["X"].shape[1]))(lambda X, k: k)(
        np.ones((2, 3)), v
    ),
)
bad(C, "validated", "nope", [core.Whole()], lambda v: core.validated(nope=v)(lambda x: x))
bad(C, "validated", "x", [5, "check"], lambda v: core.validated(x=v)(lambda x: x))
bad(C, "check_fields", "cfg", [5, _HostileConfig], lambda v: core.check_fields(v, n=core.Whole()))
bad(C, "check_fields", "n", [0, 2.5], lambda v: core.check_fields(_HostileConfig(n=v), n=core.Whole()))
bad(C, "check_fields", "seed", [-1, 2**40], lambda v: core.check_fields(_HostileConfig(seed=v)))
bad(C, "check_fields", "missing", [core.Whole()], lambda v: core.check_fields(_HostileConfig(), missing=v))
bad(C, "derive", "seed part", [-1, 2.5, NAN, "a", 2**70], lambda v: core.derive(v))
bad(C, "numpy_generator", "seed part", [-1, 2.5], lambda v: core.numpy_generator(0, v))
bad(C, "torch_generator", "seed part", [-1, 2.5], lambda v: core.torch_generator(v))
bad(C, "derive", "seed_parts", [()], lambda v: core.derive(*v))
good(C, "derive", "numpy int", lambda: core.derive(np.int64(3), 5.0))


def _single_thread():
    with core.single_thread():
        return torch.get_num_threads()


good(C, "single_thread", "a block", _single_thread)
bad(C, "single_threaded", "function", [5, None], lambda v: core.single_threaded(v))
good(C, "single_threaded", "a function", lambda: core.single_threaded(lambda: 3)())
bad(C, "bootstrap_ci", "values", [["a", "b"], np.ones(0), np.ones((2, 0))], lambda v: core.bootstrap_ci(v))
bad(C, "bootstrap_ci", "axis", [5, 2.5], lambda v: core.bootstrap_ci(np.ones((2, 3)), v))
bad(C, "bootstrap_ci", "confidence", [0.0, 1.0, NAN, "x"], lambda v: core.bootstrap_ci(np.arange(5.0), confidence=v))
bad(C, "bootstrap_ci", "n_resamples", [0, 2.5, HUGE], lambda v: core.bootstrap_ci(np.arange(5.0), n_resamples=v))
bad(C, "bootstrap_ci", "seed", [-1, 2.5], lambda v: core.bootstrap_ci(np.arange(5.0), seed=v))
good(C, "bootstrap_ci", "tensor", lambda: core.bootstrap_ci(torch.arange(5.0)))
bad(C, "jackknife_t", "replicates", [[1.0], [NAN, 1.0], np.ones((2, 2)), ["a", "b"]], lambda v: core.jackknife_t(v))
bad(C, "jackknife_t", "confidence", [1.5, 0.0, NAN], lambda v: core.jackknife_t([1.0, 2.0, 3.0], v))
bad(C, "percentile_interval", "confidence", [NAN, 2.0], lambda v: core.percentile_interval([1.0, 2.0], v))
bad(C, "percentile_interval", "method", ["bogus", 3], lambda v: core.percentile_interval([1.0, 2.0], method=v))
bad(C, "percentile_interval", "draws", [["a"]], lambda v: core.percentile_interval(v))

# --- store: the Python API (the command line has its own tests in test_cli) ---------------------------------
W = "store"
_TOY = store.Experiment("hostile_toy", 1, lambda cfg: {"x": 1.0}, _HostileConfig)  # not registered
bad(W, "experiment", "name", ["a b", "../x", 3, None], lambda v: store.experiment(v, 1, _HostileConfig))
bad(W, "experiment", "version", [-1, 2.5, "1"], lambda v: store.experiment("hostile_toy", v, _HostileConfig))
bad(W, "experiment", "config_type", [5, dict], lambda v: store.experiment("hostile_toy", 1, v))
bad(W, "experiment", "configs", [("tiny",)], lambda v: store.experiment("hostile_toy", 1, _HostileConfig, configs=v))
bad(W, "experiment", "chapter", ["", 5], lambda v: store.experiment("hostile_toy", 1, _HostileConfig, chapter=v))
bad(W, "Experiment", "func", [5], lambda v: store.Experiment("hostile_toy", 1, v, _HostileConfig))
bad(
    W,
    "Experiment",
    "sweep",
    ["yes", 1],
    lambda v: store.Experiment("hostile_toy", 1, lambda c: {}, _HostileConfig, sweep=v),
)
bad(W, "Experiment.config", "config name", ["huge", 5], lambda v: _TOY.config(v))
bad(W, "Experiment.check_config", "config", [5, {"n": 1}], lambda v: _TOY.check_config(v))
bad(W, "Experiment.config_from_dict", "config", [{"m": 1}, [1]], lambda v: _TOY.config_from_dict(v))
good(W, "Experiment.command", "a config", lambda: len(_TOY.command(_HostileConfig(n=3))))
bad(W, "result_key", "name", [3, None, ""], lambda v: store.result_key(v, 1, {"n": 1}))
bad(W, "result_key", "version", [-1, 2.5, "a"], lambda v: store.result_key("toy", v, {"n": 1}))
bad(W, "result_key", "config", [5, "n=1", [1]], lambda v: store.result_key("toy", 1, v))
bad(W, "canonical_config", "config", [5, None, _HostileConfig], lambda v: store.canonical_config(v))
bad(W, "canonical_config", "_HostileConfig.n", [2.5, "a"], lambda v: store.canonical_config(_HostileConfig(n=v)))
good(W, "canonical_config", "5.0", lambda: store.canonical_config(_HostileConfig(n=5.0)))
bad(W, "parse_config_json", "text", [5, None, b"{}"], lambda v: store.parse_config_json(v))
bad(
    W, "parse_config_json", "JSON", ['{"a": 1, "a": 2}', '{"a": NaN}', "[1]", "{"], lambda v: store.parse_config_json(v)
)
bad(W, "load_or_run", "exp", ["hostile_toy", None], lambda v: store.load_or_run(v, _HostileConfig()))
bad(W, "load_or_run", "config", [5, {"n": 1}], lambda v: store.load_or_run(_TOY, v))
bad(W, "load_or_run", "_HostileConfig.n", [_HostileConfig(n=0.5)], lambda v: store.load_or_run(_TOY, v))
bad(W, "load_or_run", "mode", ["always", 3], lambda v: store.load_or_run(_TOY, _HostileConfig(), mode=v))
bad(
    W, "load_or_run", "budget_s", [-1.0, NAN, INF, "x"], lambda v: store.load_or_run(_TOY, _HostileConfig(), budget_s=v)
)
bad(W, "load_or_run", "progress", ["no", 0], lambda v: store.load_or_run(_TOY, _HostileConfig(), progress=v))
bad(W, "load_or_run", "root", [5, ""], lambda v: store.load_or_run(_TOY, _HostileConfig(), mode="read", root=v))
bad(W, "save", "wall_time_s", [NAN, -1.0, "x"], lambda v: store.save(_TOY, _HostileConfig(), {"x": 1.0}, v))
bad(W, "save", "exp", ["toy"], lambda v: store.save(v, _HostileConfig(), {"x": 1.0}, 1.0))
bad(W, "save", "config", [{"n": 1}], lambda v: store.save(_TOY, v, {"x": 1.0}, 1.0))
bad(W, "save", "root", [5], lambda v: store.save(_TOY, _HostileConfig(), {"x": 1.0}, 1.0, v))
bad(W, "read", "json_path", [5, "", None], lambda v: store.read(v))
bad(W, "stored_results", "root", [5, ""], lambda v: store.stored_results(v))
bad(W, "store_root", "root", [5, b"results"], lambda v: store.store_root(v))
bad(W, "store_root", "create_if_empty", ["yes"], lambda v: store.store_root(None, create_if_empty=v))
good(W, "results_dir", "default", lambda: str(store.results_dir()))


def _mode(value):
    import os

    before = os.environ.get("MODSCALE_RESULTS")
    os.environ["MODSCALE_RESULTS"] = value
    try:
        return store.get_mode()
    finally:
        os.environ["MODSCALE_RESULTS"] = before if before is not None else "read"


bad(W, "get_mode", "MODSCALE_RESULTS", ["bogus", "always"], _mode)


def _config_name(value):
    import os

    before = os.environ.get("MODSCALE_CONFIG")
    os.environ["MODSCALE_CONFIG"] = value
    try:
        return store.config_name()
    finally:
        if before is None:
            del os.environ["MODSCALE_CONFIG"]
        else:
            os.environ["MODSCALE_CONFIG"] = before


bad(W, "config_name", "MODSCALE_CONFIG", ["tiny", "gpu"], _config_name)
bad(W, "chapter_config", "exp", ["pinv_moment", None], lambda v: store.chapter_config(v))
bad(W, "chapter_config", "name", ["tiny_typo", "gpu"], lambda v: store.chapter_config(experiments.pinv_moment, v))
bad(W, "init_store", "root", [5, ""], lambda v: store.init_store(v))
bad(W, "check_store", "root", [3.5, None], lambda v: store.check_store(v))
bad(W, "check_store", "create_if_empty", [1], lambda v: store.check_store(".", create_if_empty=v))
bad(W, "Cells", "folder", [5], lambda v: store.Cells(v, progress=False))
bad(W, "Cells", "deadline", [NAN, "x"], lambda v: store.Cells(None, deadline=v, progress=False))
bad(W, "Cells", "progress", ["no"], lambda v: store.Cells(None, progress=v))
bad(W, "Cells", "identity", [[1]], lambda v: store.Cells(None, identity=v, progress=False))
bad(
    W,
    "Cells.map",
    "items",
    [[1, 2], "ab", [{"a": 1}, {"a": 1}]],
    lambda v: store.Cells(None, progress=False).map(v, lambda i: {}),
)
bad(W, "Cells.map", "compute", [5, None], lambda v: store.Cells(None, progress=False).map([{"a": 1}], v))
good(W, "Cells.map", "in memory", lambda: store.Cells(None, progress=False).map([{"a": 1}], lambda i: {"y": 2.0}))


def _client(**kwargs):
    with store.dask_client(**kwargs) as client:
        return client


bad(W, "dask_client", "workers", [0, 2.5, 10**6, "2"], lambda v: _client(workers=v))
bad(W, "dask_client", "scheduler", ["", " ", 5], lambda v: _client(scheduler=v))
bad(W, "dask_client", "scheduler", ["tcp://localhost:1"], lambda v: _client(workers=1, scheduler=v))
good(W, "dask_client", "none", lambda: _client() or 0)
bad(W, "verify_store", "root", [5, None], lambda v: store.verify_store(v, {}, print))
bad(W, "verify_store", "registry", [5, [1]], lambda v: store.verify_store(store.results_dir(), v, print))
bad(W, "verify_store", "report", [5, "print"], lambda v: store.verify_store(store.results_dir(), {}, v))
bad(W, "ledger", "root", [5, ""], lambda v: store.ledger(v))
_ROW = {"wall_time_s": 1.0, "cpu_time_s": None, "load_avg": None}
bad(
    W,
    "ledger_totals",
    "rows",
    [5, "rows", [{"a": 1}], [dict(_ROW, wall_time_s=NAN)], [dict(_ROW, load_avg=-1.0)], [dict(_ROW, wall_time_s=None)]],
    lambda v: store.ledger_totals(v),
)
good(W, "ledger_totals", "no rows", lambda: store.ledger_totals([]))

# --- present ------------------------------------------------------------------------------------------------
V = "present"
bad(
    V,
    "static_linear_model_explorer",
    "n_features",
    [1, 2.5, "x", NAN, HUGE],
    lambda v: present.static_linear_model_explorer(v),
)
bad(V, "draw_linear_model", "n", [0, 2.5, NAN], lambda v: present.draw_linear_model(v, 10))
bad(V, "draw_linear_model", "p", [0, 500], lambda v: present.draw_linear_model(10, v))
bad(V, "draw_linear_model", "d", [0, 2.5], lambda v: present.draw_linear_model(10, 10, d=v))
bad(V, "draw_linear_model", "input_dim", [0, NAN], lambda v: present.draw_linear_model(10, 10, input_dim=v))
bad(V, "draw_linear_model", "alpha", [0.0, NAN], lambda v: present.draw_linear_model(10, 10, alpha=v))
bad(V, "draw_linear_model", "noise", [-1.0, INF], lambda v: present.draw_linear_model(10, 10, noise=v))
bad(V, "draw_linear_model", "n_features", [1, HUGE], lambda v: present.draw_linear_model(10, 1, n_features=v))
good(V, "linear_model_explorer", "in a test process", lambda: present.linear_model_explorer() and 0)


# --- running the cases ------------------------------------------------------------------------------------
bad("core", "entries", "res", [5, "res", [1, 2]], lambda v: core.entries(v, ("a",)))
bad("core", "entries", "res", [{"b": 1}], lambda v: core.entries(v, ("a",)))
good("core", "entries", "a mapping", lambda: core.entries({"a": 1, "b": 2}, ("a",)))


# --- the read-out and measurement layers, by group of modules (tests/hostile_cases/) ---------------------
def _group(name: str):
    import importlib

    return importlib.import_module(f"hostile_cases.{name}")


for _name in hostile_cases.GROUPS:
    _group(_name).register(bad, good)


class CaseTimeout(Exception):
    pass


def _alarm(signum, frame):
    raise CaseTimeout(f"no answer within {TIMEOUT_S} s")


def _finite(value) -> bool:
    """Whether every number in a (nested) result is finite."""
    if isinstance(value, dict):
        return all(_finite(v) for v in value.values())
    if isinstance(value, (tuple, list)):
        return all(_finite(v) for v in value)
    if torch.is_tensor(value):
        value = value.detach().numpy()
    if hasattr(value, "_asdict"):
        return _finite(tuple(value))
    if isinstance(value, (np.ndarray, float, int, np.floating, np.integer)):
        arr = np.asarray(value)
        return arr.dtype.kind not in "fc" or bool(np.all(np.isfinite(arr)))
    return True


OUTCOMES: dict[str, str] = {}


def run_case(case: Case) -> str:
    """'error' (a named TypeError/ValueError), 'result' (a finite result) or a description of the failure."""
    previous = signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(TIMEOUT_S)
    try:
        result = case.call()
    except (TypeError, ValueError) as exc:
        if case.name is None:
            return f"a good input raised {type(exc).__name__}: {exc}"
        if case.name not in str(exc):
            return f"the error does not name {case.name!r}: {type(exc).__name__}: {exc}"
        return "error"
    except networks.TrainingDivergedError as exc:  # a diverging run is a clear error when it names the model
        return "error" if "model" in str(exc) and case.name is not None else f"diverged: {exc}"
    except CaseTimeout as exc:
        return f"hang: {exc}"
    except Exception as exc:  # noqa: BLE001 - any other error is obscure
        return f"obscure {type(exc).__name__}: {exc}"[:300]
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    if case.name is not None:
        return f"silent: returned {type(result).__name__} instead of an error naming {case.name!r}"
    return "result" if _finite(result) else "silent: a NaN or infinity in the result"


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_hostile_case(case):
    outcome = run_case(case)
    OUTCOMES[case.id] = outcome
    assert outcome in ("error", "result"), outcome


def test_summary(capsys):
    """Counts of the suite (run last in file order): cases, clear errors, good results, and failures."""
    done = OUTCOMES or {c.id: run_case(c) for c in CASES}
    errors = sum(v == "error" for v in done.values())
    results = sum(v == "result" for v in done.values())
    silent = sum(v.startswith(("silent", "hang")) for v in done.values())
    with capsys.disabled():
        print(
            f"\nhostile input: {len(done)} cases, {errors} clear errors, {results} correct results, "
            f"{silent} silent or hanging, {len(done) - errors - results - silent} obscure"
        )
    assert errors + results == len(done)


#: The public packages of issue 23 phase A: every public function and class in their ``__all__`` has a case.
#: Public names that take no input a case could make hostile, each with the reason.
EXEMPT = {
    "core.Rule": "the abstract base of the rules, each of which has its cases",
    "store.Result": "a record that store.read builds from a checked file; it takes no user input",
    "theory.SimulatedLosses": "the named tuple that simulate_losses returns",
    "data.CifarSource": "a record that find_cifar10 builds from checked files; it takes no user input",
    "data.load_cifar10": "reads the dataset from disk through find_cifar10, whose cases cover its arguments",
    "networks.FitResult": "the record that fit returns",
    "tasks.ModularTask": "the abstract base of the tasks, exercised through SineWaveTask's and NonSeparableTask's cases",
    "networks.default_device": "takes no argument",
}


def _covered() -> set[str]:
    """``module.function`` (or ``module.Class.method``) of every case."""
    return {c.id.split(":")[0] for c in CASES}


def _public(module) -> list[str]:
    """The functions and classes in ``module.__all__``, less exceptions (raised, not called) and constants."""
    out = []
    for name in module.__all__:
        obj = getattr(module, name)
        if not callable(obj) or isinstance(obj, dict) or (isinstance(obj, type) and issubclass(obj, BaseException)):
            continue
        out.append(name)
    return out


def test_exemptions_name_public_functions():
    for key in EXEMPT:
        module, name = key.split(".", 1)
        assert name in MODULES[module].__all__, f"{key} is exempt but not public: drop it from EXEMPT"


def _library_modules() -> dict:
    """Every public module and package directly under ``modscale_lib``, less ``experiments`` (configs validate
    themselves, tests/test_experiments.py) and the command line, and each chapter's package."""
    import importlib
    import pkgutil

    import modscale_lib

    names = [m.name for m in pkgutil.iter_modules(modscale_lib.__path__) if not m.name.startswith("_")]
    names = [n for n in names if n not in ("experiments", "chapters")]
    # each chapter's package is a module of its own here (``chapters`` itself exports nothing)
    chapters = importlib.import_module("modscale_lib.chapters")
    names += [f"chapters.{m.name}" for m in pkgutil.iter_modules(chapters.__path__) if not m.name.startswith("_")]
    return {n: importlib.import_module(f"modscale_lib.{n}") for n in sorted(names)}


MODULES = _library_modules()


def _own_public(module) -> list[str]:
    """The public functions and classes that ``module`` (or its package's private modules) defines, not those it
    re-exports from another module: each is counted once, at its home."""
    home = module.__name__
    return [n for n in _public(module) if getattr(getattr(module, n), "__module__", "").startswith(home)]


def _is_covered(module_name: str, name: str, covered: set) -> bool:
    """Whether a case calls ``module_name.name``, under that path or under any module that re-exports it."""
    obj = getattr(MODULES[module_name], name)
    for key in covered:
        for mod in MODULES:  # module names may be dotted (``chapters.theory_vs_networks``)
            func = key[len(mod) + 1 :].split(".")[0] if key.startswith(f"{mod}.") else None
            if func == name and getattr(MODULES[mod], name, None) is obj:
                return True
    return False


#: Public names without a hostile case yet, per module: a list that may only shrink. An entry goes when its
#: function gets a case (validating its input at the boundary if it does not yet); the test below fails on an
#: entry that is covered, or on an uncovered name that is not listed.
NOT_YET: dict[str, list[str]] = {
    **{m: names for g in hostile_cases.GROUPS for m, names in _group(g).NOT_YET.items()},
}


@pytest.mark.parametrize("module_name", sorted(MODULES))
def test_every_public_function_has_a_case(module_name):
    covered = _covered()
    missing = [
        n
        for n in _own_public(MODULES[module_name])
        if f"{module_name}.{n}" not in EXEMPT and not _is_covered(module_name, n, covered)
    ]
    listed = NOT_YET.get(module_name, [])
    assert not sorted(set(missing) - set(listed)), f"public functions of {module_name} without a hostile case"
    assert not sorted(set(listed) - set(missing)), f"{module_name}: covered now, drop from NOT_YET"
