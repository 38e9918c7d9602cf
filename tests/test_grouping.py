"""Modules of dimension b >= 2: the identifiable task's normalisation, the span/grouping metrics, and the
grouping of span directions into modules (Hessian joint block diagonalisation + joint additive refit)."""

import numpy as np
import pytest
import torch

from modscale_lib.measure import grouped_overlap, module_overlaps, union_overlap
from modscale_lib.rule import group_directions, joint_block_diagonalise, moment_span, partition_directions
from modscale_lib.tasks import NonSeparableTask


# -- the task ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", ["bump_ridge", "hermite"])
@pytest.mark.parametrize("m,K,b", [(12, 3, 2), (9, 3, 3), (4, 4, 1)])
def test_task_is_exactly_normalised(kind, m, K, b):
    task = NonSeparableTask(m, K, b, module_kind=kind, seed=K + b)
    X, y = task.sample(200_000, seed=1)
    modules = task.module_outputs(X).astype(np.float64)
    # standard errors: mean 1/sqrt(n) ~ 0.002; the variance's depends on the fourth moment (heavier for
    # the polynomials), so the tolerance is a few of them
    np.testing.assert_allclose(modules.mean(axis=0), 0.0, atol=0.015)
    np.testing.assert_allclose(modules.var(axis=0), 1.0, atol=0.04)
    assert float(np.var(y)) == pytest.approx(1.0, abs=0.03)
    np.testing.assert_allclose(task.target(X), modules.sum(axis=1) / np.sqrt(K), rtol=1e-5, atol=1e-5)


def test_task_interface_noise_and_seeds():
    task = NonSeparableTask(8, 2, 2, noise=0.5, seed=3)
    X, y = task.sample(100_000, seed=0)
    assert X.shape == (100_000, 8) and y.dtype == np.float32 and task.projections.shape == (2, 8, 2)
    assert float(np.var(y - task.target(X))) == pytest.approx(0.25, rel=0.03)
    stacked = task.projections.transpose(1, 0, 2).reshape(8, 4)
    np.testing.assert_allclose(stacked.T @ stacked, np.eye(4), atol=1e-12)
    Xo, _ = task.sample_ood(50_000, seed=0, input_std=2.0)
    assert float(Xo.std()) == pytest.approx(2.0, rel=0.02)
    np.testing.assert_array_equal(NonSeparableTask(8, 2, 2, seed=3).projections, task.projections)
    assert not np.array_equal(task.sample(10, seed=1)[0], task.sample(10, seed=2)[0])


def test_task_modules_are_not_sums_of_ridges():
    """The mixed partial d^2 g / du1 du2 of a module is not identically zero (a finite-difference check)."""
    for kind in ("bump_ridge", "hermite"):
        task = NonSeparableTask(4, 1, 2, module_kind=kind, seed=0)
        U = task.projections[0]
        rng = np.random.default_rng(0)
        h, worst = 1e-2, 0.0
        for x in rng.standard_normal((20, 4)):
            f = lambda a, c: float(task.module_outputs((x + a * U[:, 0] + c * U[:, 1])[None])[0, 0])  # noqa: B023 (called within this iteration)
            worst = max(worst, abs(f(h, h) - f(h, -h) - f(-h, h) + f(-h, -h)) / (4 * h * h))
        assert worst > 0.05, kind


@pytest.mark.parametrize(
    "kwargs,error",
    [
        (dict(input_dim=5, n_modules=3, module_dim=2), ValueError),  # K b > m
        (dict(input_dim=8, n_modules=2, module_kind="sine"), ValueError),
        (dict(input_dim=8, n_modules=2, noise=-1.0), ValueError),
        (dict(input_dim=8, n_modules=2.5), ValueError),
        (dict(input_dim=8, n_modules=2, ridge_share=1.5), ValueError),
    ],
)
def test_task_bad_arguments(kwargs, error):
    with pytest.raises(error):
        NonSeparableTask(**kwargs)


# -- the metrics ------------------------------------------------------------------------------------------
def _random_modules(rng, K, m, b):
    q = np.linalg.qr(rng.standard_normal((m, K * b)))[0]
    return q.T.reshape(K, b, m).transpose(0, 2, 1)


def test_metrics_on_known_cases():
    rng = np.random.default_rng(0)
    U = _random_modules(rng, 3, 12, 2)
    # identical, with another basis inside each module and the modules permuted: both 1
    mixed = np.einsum("kmb,kbc->kmc", U, rng.standard_normal((3, 2, 2)))[[2, 0, 1]]
    assert union_overlap(U, mixed) == pytest.approx(1.0) and grouped_overlap(U, mixed) == pytest.approx(1.0)
    # one column swapped between modules 0 and 1: same span, grouping worse (two modules at 1/2)
    swapped = U.copy()
    swapped[0, :, 1], swapped[1, :, 1] = U[1, :, 1], U[0, :, 1]
    assert union_overlap(U, swapped) == pytest.approx(1.0)
    assert grouped_overlap(U, swapped) == pytest.approx((0.5 + 0.5 + 1.0) / 3)
    # a random rotation of the whole span: span 1, grouping about random
    S = U.transpose(1, 0, 2).reshape(12, 6) @ np.linalg.qr(rng.standard_normal((6, 6)))[0]
    rotated = S.T.reshape(3, 2, 12).transpose(0, 2, 1)
    assert union_overlap(U, rotated) == pytest.approx(1.0) and grouped_overlap(U, rotated) < 0.9
    # random subspaces: about K b / m of the span, matched overlap well below 1
    values = [union_overlap(U, _random_modules(rng, 3, 12, 2)) for _ in range(200)]
    assert np.mean(values) == pytest.approx(6 / 12, abs=0.03)
    assert module_overlaps(U, U).shape == (3, 3)
    np.testing.assert_allclose(module_overlaps(U, U), np.eye(3), atol=1e-12)


def test_metric_errors():
    U = _random_modules(np.random.default_rng(1), 2, 6, 2)
    with pytest.raises(ValueError):
        grouped_overlap(U, _random_modules(np.random.default_rng(2), 2, 7, 2))  # m differs
    degenerate = U.copy()
    degenerate[0, :, 1] = degenerate[0, :, 0]
    with pytest.raises(ValueError):
        union_overlap(U, degenerate)
    with pytest.raises(ValueError):
        grouped_overlap(U, np.full((2, 6, 2), np.nan))
    with pytest.raises(ValueError):
        grouped_overlap(np.zeros((6,)), U)


# -- the grouping -----------------------------------------------------------------------------------------
def test_joint_block_diagonalisation_recovers_planted_blocks():
    rng = np.random.default_rng(0)
    K, b = 3, 2
    Q = np.linalg.qr(rng.standard_normal((K * b, K * b)))[0]
    mats = []
    for _ in range(20):
        blocks = np.zeros((K * b, K * b))
        for k in range(K):
            a = rng.standard_normal((b, b))
            blocks[k * b : (k + 1) * b, k * b : (k + 1) * b] = a + a.T
        mats.append(Q @ blocks @ Q.T)
    found = joint_block_diagonalise(np.array(mats), K, b)
    true = Q.T.reshape(K, b, K * b).transpose(0, 2, 1)
    assert grouped_overlap(true, found) > 0.999
    labels = partition_directions(np.kron(np.eye(K), np.ones((b, b))), K, b)
    assert sorted(np.bincount(labels)) == [b] * K and len(set(labels[::2])) == K


@pytest.mark.parametrize("kind", ["bump_ridge", "hermite"])
def test_grouping_recovers_modules(kind):
    """K=3, b=2, m=12, n=2000, noise 0.1, a task seed the study does not use; the test asks 0.9."""
    torch.set_num_threads(2)
    task = NonSeparableTask(12, 3, 2, module_kind=kind, seed=11, noise=0.1)
    X, y = task.sample(2000, seed=0)
    basis = moment_span(X, y, 6)
    U = group_directions(X, y, basis, 3, 2, seed=0)
    assert U.shape == (3, 12, 2)
    np.testing.assert_allclose(np.einsum("kmb,kmc->kbc", U, U), np.broadcast_to(np.eye(2), (3, 2, 2)), atol=1e-5)
    assert union_overlap(task.projections, U) > 0.95
    assert grouped_overlap(task.projections, U) > 0.9
    # without the refit the result stays inside the span, grouped by the Hessians alone
    inside = group_directions(X, y, basis, 3, 2, refine=False)
    assert union_overlap(basis.T.reshape(3, 2, 12).transpose(0, 2, 1), inside) == pytest.approx(1.0, abs=1e-8)


def test_grouping_bad_input():
    X = np.random.default_rng(0).standard_normal((100, 6))
    y = X[:, 0] * X[:, 1]
    basis = np.linalg.qr(np.random.default_rng(1).standard_normal((6, 4)))[0]
    with pytest.raises(ValueError):
        group_directions(X, y, basis, 2, 3)  # basis must be (m, K b)
    with pytest.raises(ValueError):
        group_directions(X, y, np.zeros((6, 4)), 2, 2)  # dependent columns
    with pytest.raises(ValueError):
        group_directions(X, y[:50], basis, 2, 2)
    with pytest.raises(ValueError):
        group_directions(X, y, basis, 4, 2)  # K b > m
    with pytest.raises(TypeError):
        group_directions(X, y, basis, 2, 2, refine=1)
    with pytest.raises(ValueError):
        group_directions(np.where(X > 2, np.nan, X), y, basis, 2, 2)


# -- the rule's "grouped" variant and its "auto" default --------------------------------------------------
def test_grouped_variant_end_to_end():
    """find_module_projections(variant="grouped") is moment_span + group_directions; the default at b = 2
    (variant "auto") is the fast variant, newton, and finds the same modules."""
    from modscale_lib.rule import DEFAULTS, find_module_projections, newton_projections

    task = NonSeparableTask(8, 2, 2, seed=5, noise=0.1)
    X, y = task.sample(1000, seed=0)
    U = find_module_projections(X, y, 2, 2, variant="grouped", seed=1)
    assert U.shape == (2, 8, 2) and U.dtype == np.float64
    assert grouped_overlap(task.projections, U) > 0.9
    np.testing.assert_allclose(U, group_directions(X, y, moment_span(X, y, 4), 2, 2, seed=1), atol=1e-6)
    assert DEFAULTS["variant"] == "auto"
    fast = find_module_projections(X, y, 2, 2, seed=1)
    np.testing.assert_array_equal(fast, newton_projections(X, y, 2, 2, seed=1))
    assert grouped_overlap(task.projections, fast) > 0.99


def test_auto_rule():
    from modscale_lib.rule import resolve_variant

    assert resolve_variant("auto", 3, 2, 12) == "newton"
    assert resolve_variant("auto", 2, 1, 8) == "newton"  # any b
    assert resolve_variant("auto", 3, 2, 12, target_columns=10) == "backfit"  # several target columns
    assert resolve_variant("auto", 4, 2, 6) == "backfit"  # K b > m
    for v in ("paper", "deflation", "backfit", "spectral", "grouped", "newton"):
        assert resolve_variant(v, 3, 2, 12) == v
    with pytest.raises(ValueError, match="variant must be one of"):
        resolve_variant("greedy", 3, 2, 12)


def test_auto_default_at_b1_is_newton_and_backfit_for_several_columns():
    from modscale_lib.rule import find_module_projections

    X = np.random.default_rng(0).standard_normal((200, 4))
    y = np.sin(2 * X[:, 0]) + np.cos(X[:, 1])
    kw = dict(steps=5, batch_size=64, seed=2)
    np.testing.assert_array_equal(
        find_module_projections(X, y, 2, 1, **kw), find_module_projections(X, y, 2, 1, variant="newton", **kw)
    )
    Y = np.stack([np.sin(2 * X[:, 0]), np.cos(X[:, 1])], axis=1)
    np.testing.assert_array_equal(
        find_module_projections(X, Y, 2, 1, **kw), find_module_projections(X, Y, 2, 1, variant="backfit", **kw)
    )


def test_grouped_variant_refuses_what_it_does_not_support():
    from modscale_lib.rule import find_module_projections

    X = np.random.default_rng(0).standard_normal((100, 6))
    y = X[:, 0] * X[:, 1] + X[:, 2] * X[:, 3]
    with pytest.raises(ValueError, match="single target column"):
        find_module_projections(X, np.stack([y, y], 1), 2, 2, variant="grouped")
    with pytest.raises(ValueError, match="init=None"):
        find_module_projections(X, y, 2, 2, variant="grouped", init=np.zeros((2, 6, 2)))
    with pytest.raises(ValueError, match="return_history"):
        find_module_projections(X, y, 2, 2, variant="grouped", return_history=True)
    with pytest.raises(ValueError, match="must be <= input_dim"):
        find_module_projections(X, y, 2, 4, variant="grouped")


def test_group_directions_bounds_and_degenerate_inputs():
    """A bound on rounds (each round is seconds of work) and clear errors for constant inputs, before any fit."""
    import time

    X = np.random.default_rng(0).standard_normal((60, 6))
    y = X[:, 0] * X[:, 1] + X[:, 2] * X[:, 3]
    basis = np.eye(6)[:, :4]
    start = time.process_time()
    with pytest.raises(ValueError, match=r"rounds must be a whole number in \[1, 20\]"):
        group_directions(X, y, basis, 2, 2, rounds=10**9)
    with pytest.raises(ValueError, match="y is constant"):
        group_directions(X, np.zeros(60), basis, 2, 2)
    with pytest.raises(ValueError, match="X is constant"):
        group_directions(np.ones((60, 6)), y, basis, 2, 2)
    with pytest.raises(ValueError, match="steps must be a whole number"):
        group_directions(X, y, basis, 2, 2, steps=0)
    assert time.process_time() - start < 1.0


def test_fit_additive_detects_divergence():
    from modscale_lib.rule import fit_additive

    task = NonSeparableTask(8, 2, 2, seed=0)
    X, y = task.sample(300, seed=0)
    init = task.projections + 0.1
    with pytest.raises(FloatingPointError, match="lower lr"):
        fit_additive(X, y, init, lr=1e6, steps=100)
    U, loss = fit_additive(X, y, init, steps=100)
    assert np.isfinite(loss)
