"""The kernel objective, the kernels, and finding module projections."""

import numpy as np
import pytest
import torch

from modscale_lib import measure
from modscale_lib.rule import (
    KernelNotPositiveDefiniteError,
    ModuleAtInit,
    feature_kernel,
    find_module_projections,
    kernel_objective,
    moment_span,
    ntk_kernel,
    orthonormalise,
    rbf_kernel,
)
from modscale_lib.tasks import SineWaveTask


def _module(width=16, depth=1, b=1):
    module = ModuleAtInit(b, width, depth, seed=0)
    module.net.double()
    return module


def test_objective_value_and_gradient_match_a_direct_solve():
    torch.manual_seed(0)
    X, y = torch.randn(80, 5, dtype=torch.float64), torch.randn(80, dtype=torch.float64)
    A = torch.randn(5, 2, dtype=torch.float64, requires_grad=True)
    module = _module(width=32, b=2)
    value = kernel_objective(orthonormalise(A), X, y, "features", 1e-2, module)
    (grad,) = torch.autograd.grad(value, A)

    def direct(A):
        K = feature_kernel(X @ orthonormalise(A), module) + 1e-2 * torch.eye(80, dtype=torch.float64)
        return y @ torch.linalg.solve(K, y) / 80

    (grad_direct,) = torch.autograd.grad(direct(A), A)
    assert value.item() == pytest.approx(direct(A).item(), rel=1e-10)
    torch.testing.assert_close(grad, grad_direct, rtol=1e-6, atol=1e-9)


def test_ntk_closed_form_equals_autograd_jacobian():
    torch.manual_seed(1)
    for depth in (1, 2):
        module = _module(width=8, depth=depth)
        z = torch.randn(6, 1, dtype=torch.float64)
        params = list(module.net.parameters())
        rows = []
        for i in range(6):
            for p in params:
                p.requires_grad_(True)
            out = module.net(z[i : i + 1][None])[0, 0, 0]
            grads = torch.autograd.grad(out, params)
            rows.append(torch.cat([g.reshape(-1) for g in grads]))
        J = torch.stack(rows)
        torch.testing.assert_close(ntk_kernel(z, module), J @ J.T / 8, rtol=1e-8, atol=1e-10)


def test_kernels_are_positive_semidefinite():
    z = torch.randn(50, 2, dtype=torch.float64)
    for K in (feature_kernel(z, _module(b=2)), ntk_kernel(z, _module(b=2)), rbf_kernel(z)):
        assert torch.allclose(K, K.T)
        assert float(torch.linalg.eigvalsh(K).min()) > -1e-8
    torch.testing.assert_close(torch.diagonal(rbf_kernel(z)), torch.ones(50, dtype=torch.float64))


def test_objective_reports_an_indefinite_kernel_and_bad_ridge():
    X, y = torch.randn(10, 3), torch.randn(10)
    U = orthonormalise(torch.randn(3, 1))
    with pytest.raises(KernelNotPositiveDefiniteError, match="increase ridge"):
        kernel_objective(U, X, y, lambda z: -torch.eye(10), 1e-3)
    with pytest.raises(ValueError, match="ridge must be > 0"):
        kernel_objective(U, X, y, "rbf", 0.0)


def test_objective_is_lower_at_the_true_projection():
    task = SineWaveTask(6, 1, seed=2)
    X, y = (torch.as_tensor(a, dtype=torch.float64) for a in task.sample(400, seed=0))
    module = _module(width=128)
    true = torch.as_tensor(task.projections[0])
    others = [orthonormalise(torch.randn(6, 1, dtype=torch.float64)) for _ in range(5)]
    at_true = float(kernel_objective(true, X, y, "features", 1e-2, module))
    assert all(at_true < float(kernel_objective(U, X, y, "features", 1e-2, module)) for U in others)


def test_rule_recovers_two_modules_far_above_random():
    task = SineWaveTask(4, 2, seed=1)
    X, y = task.sample(1500, seed=0)
    U = find_module_projections(X, y, 2, 1, steps=150, batch_size=256, seed=1)
    assert U.shape == (2, 4, 1)
    np.testing.assert_allclose(np.einsum("kmb,kmc->kbc", U, U), np.ones((2, 1, 1)), atol=1e-5)
    found = measure.matched_similarity(task.projections, U)
    rng = np.random.default_rng(0)
    random = np.mean(
        [
            measure.matched_similarity(task.projections, np.linalg.qr(rng.standard_normal((4, 2)))[0].T[:, :, None])
            for _ in range(50)
        ]
    )
    assert found > 0.95 and random < 0.6


def test_history_is_returned_per_module():
    task = SineWaveTask(3, 2, seed=0)
    X, y = task.sample(200, seed=0)
    U, history = find_module_projections(X, y, 2, 1, variant="deflation", steps=5, batch_size=64, return_history=True)
    assert history.shape == (2, 5, 3, 1)
    np.testing.assert_allclose(history[:, -1], U, atol=1e-6)


@pytest.mark.parametrize(
    "kwargs,match",
    [
        ({"module_dim": 5}, r"module_dim must be a whole number in \[1, 4\]"),
        ({"n_modules": 0}, "n_modules must be a whole number >= 1"),
        ({"y": np.zeros(7)}, r"y must have shape \(20,\)"),
        ({"variant": "spectral", "y": np.arange(40.0).reshape(20, 2)}, "spectral. needs a single target column"),
        ({"init": np.zeros((3, 4, 1))}, r"init must have shape \(2, 4, 1\)"),
        ({"X": np.full((20, 4), np.nan)}, "NaN"),
        ({"variant": "greedy"}, "variant must be one of"),
        ({"kernel": "laplace"}, "kernel must be one of"),
        ({"lr": -1.0}, "lr must be > 0"),
        ({"y": np.zeros(20)}, "y is constant"),
        ({"X": np.zeros((0, 4)), "y": np.zeros(0)}, "X must have at least 2 row"),
        ({"steps": 0}, r"steps must be a whole number in \[1, "),
    ],
)
def test_bad_input_is_named(kwargs, match):
    args = {
        "X": np.random.default_rng(0).standard_normal((20, 4)),
        "y": np.arange(20.0),
        "n_modules": 2,
        "module_dim": 1,
    } | kwargs
    X, y, K, b = args.pop("X"), args.pop("y"), args.pop("n_modules"), args.pop("module_dim")
    with pytest.raises(ValueError, match=match):
        find_module_projections(X, y, K, b, steps=args.pop("steps", 2), **args)


def test_moment_span_contains_the_modules():
    task = SineWaveTask(10, 2, seed=3)
    X, y = task.sample(20000, seed=0)
    basis = moment_span(X, y, 2)
    np.testing.assert_allclose(basis.T @ basis, np.eye(2), atol=1e-10)
    inside = np.linalg.norm(basis.T @ task.projections[:, :, 0].T, axis=0) ** 2  # cos^2 of each module with the span
    assert inside.min() > 0.95
    with pytest.raises(ValueError, match=r"dim must be a whole number in \[1, 10\]"):
        moment_span(X, y, 11)


def test_spectral_rule_finds_the_modules_from_few_samples_where_a_random_start_is_lost():
    # m = 8, n = 100: the setting where the chapter "Sample complexity against dimension" separates the rules.
    sims = {"backfit": [], "spectral": []}
    for seed in range(3):
        task = SineWaveTask(8, 2, seed=seed)
        X, y = task.sample(100, seed=0)
        for variant in sims:
            U = find_module_projections(X, y, 2, 1, variant=variant, steps=200, batch_size=100, seed=seed)
            assert U.shape == (2, 8, 1)
            sims[variant].append(measure.matched_similarity(task.projections, U))
    assert np.median(sims["spectral"]) > 0.85
    assert np.median(sims["spectral"]) > np.median(sims["backfit"])


def test_several_target_columns_and_a_normalised_kernel():
    # A one-hot-like target with two columns, each driven by one module, on inputs of unequal scale: the
    # normalised kernel still finds both modules.
    rng = np.random.default_rng(0)
    X = rng.standard_normal((1500, 5)) * np.array([1.0, 1.0, 4.0, 4.0, 4.0])
    Y = np.stack([np.sin(2 * X[:, 0]), np.sin(2 * X[:, 1])], axis=1)
    truth = np.eye(5)[:, :2].T[:, :, None]
    U = find_module_projections(X, Y, 2, 1, steps=200, batch_size=256, normalise_kernel=True, seed=0)
    assert measure.matched_similarity(truth, U) > 0.9


def test_normalised_objective_ignores_the_kernel_scale():
    torch.manual_seed(0)
    X, y = torch.randn(60, 3, dtype=torch.float64), torch.randn(60, dtype=torch.float64)
    U = orthonormalise(torch.randn(3, 1, dtype=torch.float64))
    small = kernel_objective(U, X, y, lambda z: rbf_kernel(z), 1e-2, normalise=True)
    large = kernel_objective(U, X, y, lambda z: 9.0 * rbf_kernel(z), 1e-2, normalise=True)
    assert float(small) == pytest.approx(float(large), rel=1e-10)
    assert float(kernel_objective(U, X, y, lambda z: 9.0 * rbf_kernel(z), 1e-2)) < float(small)


# -- degenerate inputs and divergence -----------------------------------------------------------------------
def test_orthonormalise_refuses_dependent_columns():
    with pytest.raises(ValueError, match="linearly independent columns"):
        orthonormalise(torch.zeros(5, 2))
    with pytest.raises(ValueError, match="linearly independent columns"):
        orthonormalise(torch.tensor([[1.0, 2.0], [2.0, 4.0], [0.0, 0.0]]))  # the second column is twice the first
    Q = orthonormalise(torch.randn(5, 2, dtype=torch.float64))
    torch.testing.assert_close(Q.T @ Q, torch.eye(2, dtype=torch.float64))


def test_moment_span_refuses_constant_inputs():
    X = np.random.default_rng(0).standard_normal((50, 4))
    with pytest.raises(ValueError, match="y is constant"):
        moment_span(X, np.full(50, 3.0), 2)
    with pytest.raises(ValueError, match="X is constant"):
        moment_span(np.ones((50, 4)), np.arange(50.0), 2)
    with pytest.raises(ValueError, match="X is constant"):
        moment_span(np.zeros((50, 4)), np.arange(50.0), 2)


def test_a_diverging_search_is_detected_at_once():
    """lr = 1e6: the projection parameters grow a million times in the first step; the search stops there
    instead of running its 300 steps on parameters that float32 rounding no longer changes."""
    import time

    from modscale_lib.rule import RuleDivergedError

    task = SineWaveTask(8, 2, seed=0)
    X, y = task.sample(400, seed=0)
    start = time.process_time()
    with pytest.raises(RuleDivergedError, match="lower lr"):
        find_module_projections(X, y, 2, 1, variant="deflation", lr=1e6, batch_size=128)
    assert time.process_time() - start < 2.0
    with pytest.raises(FloatingPointError):  # the error is a FloatingPointError
        find_module_projections(X, y, 2, 1, variant="paper", lr=1e5, steps=50, batch_size=128)


# -- the fast variant, "newton" -------------------------------------------------------------------------------
def test_newton_variant_finds_one_dimensional_modules():
    task = SineWaveTask(16, 2, seed=1)
    X, y = task.sample(3000, seed=0)
    U = find_module_projections(X, y, 2, 1, variant="newton", seed=0)
    assert U.shape == (2, 16, 1) and U.dtype == np.float64
    np.testing.assert_allclose(np.einsum("kmb,kmc->kbc", U, U), np.ones((2, 1, 1)), atol=1e-12)
    assert measure.matched_similarity(task.projections, U) > 0.99


def test_newton_variant_is_deterministic_and_thread_independent():
    from modscale_lib.rule import newton_projections

    task = SineWaveTask(8, 2, seed=2)
    X, y = task.sample(600, seed=0)
    before = torch.get_num_threads()
    try:
        torch.set_num_threads(2)
        two = find_module_projections(X, y, 2, 1, variant="newton", seed=3)
        torch.set_num_threads(1)
        one = find_module_projections(X, y, 2, 1, variant="newton", seed=3)
    finally:
        torch.set_num_threads(before)
    np.testing.assert_array_equal(one, two)
    np.testing.assert_array_equal(one, newton_projections(X, y, 2, 1, seed=3))


@pytest.mark.parametrize(
    "kwargs,error,match",
    [
        ({"rounds": 10**9}, ValueError, r"rounds must be a whole number in \[1, 20\]"),
        ({"max_steps": -1}, ValueError, r"max_steps must be a whole number in \[0, 1000\]"),
        ({"kernel_points": 5}, ValueError, r"kernel_points must be a whole number in \[20, 20000\]"),
        ({"module_features": 0}, ValueError, "module_features must be a whole number"),
        ({"tol": 0.0}, ValueError, "tol must be"),
        ({"y": np.zeros(40)}, ValueError, "y is constant"),
        ({"X": np.ones((40, 6))}, ValueError, "X is constant"),
        ({"X": np.ones((10, 6)), "y": np.arange(10.0)}, ValueError, "X must have at least 20 row"),
        ({"module_dim": 4}, ValueError, "must be <= input_dim"),
        ({"X": np.full((40, 6), np.inf)}, ValueError, "finite"),
    ],
)
def test_newton_bad_input_is_named(kwargs, error, match):
    from modscale_lib.rule import newton_projections

    args = {"X": np.random.default_rng(0).standard_normal((40, 6)), "y": np.arange(40.0), "module_dim": 1} | kwargs
    X, y, b = args.pop("X"), args.pop("y"), args.pop("module_dim")
    with pytest.raises(error, match=match):
        newton_projections(X, y, 2, b, **args)


def test_newton_variant_refuses_what_it_does_not_support():
    X = np.random.default_rng(0).standard_normal((100, 6))
    y = X[:, 0] * X[:, 1] + X[:, 2] * X[:, 3]
    with pytest.raises(ValueError, match="single target column"):
        find_module_projections(X, np.stack([y, y], 1), 2, 2, variant="newton")
    with pytest.raises(ValueError, match="init=None"):
        find_module_projections(X, y, 2, 2, variant="newton", init=np.zeros((2, 6, 2)))
    with pytest.raises(ValueError, match="return_history"):
        find_module_projections(X, y, 2, 2, variant="newton", return_history=True)
    with pytest.raises(ValueError, match="must be <= input_dim"):
        find_module_projections(X, y, 2, 4, variant="newton")


def test_newton_steps_lower_the_leave_one_out_error():
    """The refit only keeps steps that lower the additive model's leave-one-out error: more steps never raise
    the returned loss, and no step (max_steps = 0) leaves the grouping of the moment span."""
    from modscale_lib.measure import grouped_overlap
    from modscale_lib.rule import newton_projections
    from modscale_lib.tasks import NonSeparableTask

    task = NonSeparableTask(12, 3, 2, noise=0.1, seed=0)
    X, y = task.sample(1500, seed=100)
    U0, loss0 = newton_projections(X, y, 3, 2, max_steps=0, rounds=1, return_loss=True)
    U, loss = newton_projections(X, y, 3, 2, return_loss=True)
    assert loss <= loss0
    assert grouped_overlap(task.projections, U) >= grouped_overlap(task.projections, U0) - 1e-3
    assert grouped_overlap(task.projections, U) > 0.99
