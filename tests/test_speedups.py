"""The compute cuts of issue 13: the rule's opt-in fast paths and the engine's multi-tensor Adam.

Defaults must not change: ``stages`` only observes, ``foreach`` Adam is the same arithmetic bit for bit;
``low_rank_gradient`` and ``patience`` are opt-in and change results only within their documented bounds.
"""

import numpy as np
import pytest
import torch

from modscale_lib import measure, networks
from modscale_lib.experiments import finding_modules as fm
from modscale_lib.networks import MLPEnsemble, _training  # _training: its private gather, swapped below
from modscale_lib.rule import ModuleAtInit, find_module_projections, kernel_objective
from modscale_lib.rule._search import _features_objective_low_rank  # the private fast path, tested against the slow
from modscale_lib.tasks import SineWaveTask


@pytest.fixture(scope="module")
def data():
    task = SineWaveTask(5, 2, seed=1)
    X, y = task.sample(300, seed=0)
    return task, X, y


def test_stages_give_deflation_bit_for_bit(data):
    _, X, y = data
    kw = dict(steps=15, batch_size=64, seed=3)
    stages = []
    backfit = find_module_projections(X, y, 2, 1, variant="backfit", stages=stages, **kw)
    assert len(stages) == 3
    np.testing.assert_array_equal(stages[0], find_module_projections(X, y, 2, 1, variant="deflation", **kw))
    np.testing.assert_array_equal(stages[-1], backfit)
    np.testing.assert_array_equal(backfit, find_module_projections(X, y, 2, 1, variant="backfit", **kw))


@pytest.mark.parametrize("normalise", [False, True])
def test_low_rank_objective_matches_value_and_gradient(data, normalise):
    _, X, y = data
    module = ModuleAtInit(1, 64, 1, seed=0)
    Xt, yt = torch.as_tensor(X[:128], dtype=torch.float32), torch.as_tensor(y[:128] - y.mean(), dtype=torch.float32)
    grads = []
    for low_rank in (False, True):
        A = torch.randn(5, 1, generator=torch.Generator().manual_seed(0)).requires_grad_(True)
        U = A / A.norm()
        value = (
            _features_objective_low_rank(U, Xt, yt, module, 0.01, normalise)
            if low_rank
            else kernel_objective(U, Xt, yt, "features", 0.01, module, normalise)
        )
        value.backward()
        grads.append((float(value.detach()), A.grad.clone()))
    assert grads[0][0] == pytest.approx(grads[1][0], rel=1e-4)
    torch.testing.assert_close(grads[0][1], grads[1][1], rtol=1e-3, atol=1e-5)


def test_low_rank_and_patience_recover_the_modules():
    task = SineWaveTask(6, 2, seed=0)
    X, y = task.sample(2000, seed=0)
    for opts in ({"low_rank_gradient": True}, {"low_rank_gradient": True, "patience": 60}):
        U = find_module_projections(X, y, 2, 1, variant="backfit", seed=0, **opts)
        assert measure.matched_similarity(task.projections, U) > 0.95


def test_patience_stops_early(data):
    _, X, y = data
    _, history = find_module_projections(
        X, y, 1, 1, variant="backfit", steps=2000, batch_size=64, patience=5, seed=0, return_history=True
    )
    assert history.shape[1] < 3 * 2000


@pytest.mark.parametrize("bad", [{"patience": -1}, {"patience": 1.5}, {"low_rank_gradient": "yes"}, {"stages": ()}])
def test_opt_ins_are_validated(data, bad):
    _, X, y = data
    with pytest.raises((ValueError, TypeError)):
        find_module_projections(X, y, 2, 1, steps=2, batch_size=16, **bad)


def test_foreach_adam_is_bit_for_bit(monkeypatch):
    task = SineWaveTask(4, 2, seed=0)
    X, y = task.sample(200, seed=0)

    def train():
        net = MLPEnsemble(3, 4, 16, depth=2, seeds=range(3))
        networks.fit(net, X, y, steps=60, batch_size=32, lr=1e-2, progress=False, eval_every=20)
        return [p.detach().clone() for p in net.parameters()]

    fast = train()
    adam = torch.optim.Adam
    monkeypatch.setattr(torch.optim, "Adam", lambda params, **kw: adam(params, **dict(kw, foreach=False)))
    for a, b in zip(fast, train()):
        assert torch.equal(a, b)


def test_recovery_cell_reads_deflation_from_backfit():
    cfg = fm.ModuleRecoveryConfig(input_dim=3, n_samples=80, kernels=("features",), seeds=(0,), steps=4, batch_size=32)
    out = fm.module_recovery(cfg)
    assert out["similarity"].shape == (3, 1, 1, 2, 2) and out["seconds"].shape == (3, 1, 1)
    assert out["seconds"][1, 0, 0] < out["seconds"][2, 0, 0]  # deflation is backfit's first stage


def test_sensitivity_computes_shared_settings_once():
    cfg = fm.RuleSensitivityConfig.tiny()
    rows = cfg.settings()
    out = fm.rule_sensitivity(cfg)
    assert out["matched"].shape == (len(rows), 1)
    default_rows = [i for i, r in enumerate(rows) if r["changed"] in ("ridge", "lr", "kernel")]
    assert len({float(out["seconds"][i, 0]) for i in default_rows}) == 1


def test_grouping_searches_share_one_cell_and_other_kinds_get_only_the_fast_variants():
    from modscale_lib.experiments import grouping_modules as gm

    cfg = gm.ModuleGroupingConfig.cpu()
    items = cfg.items()
    assert all(i["kind"] == cfg.kinds[0] for i in items if i["variant"] == gm.SEARCHES)
    assert {i["variant"] for i in items if i["kind"] != cfg.kinds[0]} == set(gm.FAST)
    tiny = gm.ModuleGroupingConfig(
        n_modules=(2,),
        input_dims=(5,),
        kinds=("bump_ridge",),
        variants=("deflation", "backfit", gm.RANDOM),
        n_grid=(80,),
        search_n_grid=(80,),
        other_kinds_n_grid=(80,),
        search_steps=3,
        seeds=(0,),
    )
    out = gm.module_grouping(tiny)
    assert np.all(np.isfinite(out["grouped"])) and out["cpu_seconds"].shape == out["seconds"].shape
    assert out["seconds"][0, 0, 0, 0, 0] <= out["seconds"][0, 0, 1, 0, 0]  # deflation: backfit's first stage


def _train_both_kinds(X, y, **kw):
    """An MLP ensemble with masked widths and a modular one with mixed frozen projections, trained by ``fit``."""
    from modscale_lib.networks import ModularEnsemble

    mlp = MLPEnsemble(3, 4, 16, depth=2, widths=[16, 9, 4], seeds=range(3))
    mod = ModularEnsemble(3, 4, 2, 1, width=8, depth=2, train_projections=[True, False, True], seeds=range(3))
    out = []
    for net, batch in ((mlp, 32), (mod, None)):
        res = networks.fit(
            net,
            X,
            y,
            steps=40,
            batch_size=batch,
            lr=1e-2,
            progress=False,
            eval_every=10,
            X_val=X[:50],
            y_val=y[:50],
            patience=3,
            **kw,
        )
        out.append(([p.detach().clone() for p in net.parameters()], res))
    return out


def test_in_place_relu_is_bit_for_bit(monkeypatch):
    task = SineWaveTask(4, 2, seed=0)
    X, y = task.sample(200, seed=0)
    fast = _train_both_kinds(X, y)
    monkeypatch.setattr(torch, "relu_", torch.relu)  # the out-of-place ReLU the networks used before
    slow = _train_both_kinds(X, y)
    for (pa, ra), (pb, rb) in zip(fast, slow):
        assert all(torch.equal(a, b) for a, b in zip(pa, pb))
        for field in ("train_loss", "val_loss", "best_step", "history_train", "history_val"):
            np.testing.assert_array_equal(getattr(ra, field), getattr(rb, field))


def test_compile_is_an_opt_in_that_only_wraps_the_training_steps(monkeypatch):
    task = SineWaveTask(4, 2, seed=0)
    X, y = task.sample(200, seed=0)
    plain = _train_both_kinds(X, y)
    wrapped = []
    monkeypatch.setattr(torch, "compile", lambda model: wrapped.append(model) or model)  # no real compilation
    same = _train_both_kinds(X, y, compile=True)
    assert len(wrapped) == 2
    for (pa, _), (pb, _) in zip(plain, same):
        assert all(torch.equal(a, b) for a, b in zip(pa, pb))
    with pytest.raises((TypeError, ValueError), match="compile"):
        networks.fit(MLPEnsemble(1, 4, 4), X, y, steps=1, progress=False, compile="yes")


class _AdvancedIndexing:
    """The minibatch gather ``fit`` used before: advanced indexing with two index tensors."""

    def __init__(self, X, y):
        self.X, self.y, self.arange = X, y, torch.arange(X.shape[0])[:, None]

    def __call__(self, idx):
        return self.X[self.arange, idx], self.y[self.arange, idx]


@pytest.mark.parametrize("per_model", [False, True])
def test_index_select_gather_is_bit_for_bit(monkeypatch, per_model):
    task = SineWaveTask(4, 2, seed=0)
    X, y = task.sample(300, seed=0)
    if per_model:  # each model its own rows, and its own count of them
        rng = np.random.default_rng(0)
        X = np.stack([X[rng.permutation(300)] for _ in range(3)])
        y = np.stack([y] * 3) + rng.normal(size=(3, 300))

    def train():
        net = MLPEnsemble(3, 4, 16, depth=2, seeds=range(3))
        res = networks.fit(
            net,
            X,
            y,
            n_samples=[300, 120, 47] if per_model else None,
            steps=50,
            batch_size=32,
            lr=1e-2,
            progress=False,
            eval_every=10,
        )
        return [p.detach().clone() for p in net.parameters()], res.history_train

    fast = train()
    monkeypatch.setattr(_training, "_Gather", _AdvancedIndexing)
    slow = train()
    assert all(torch.equal(a, b) for a, b in zip(fast[0], slow[0]))
    np.testing.assert_array_equal(fast[1], slow[1])
    xb, yb = _training._Gather(
        torch.as_tensor(X, dtype=torch.float32).expand(3, 300, 4)
        if not per_model
        else torch.as_tensor(X, dtype=torch.float32),
        torch.as_tensor(y, dtype=torch.float32).expand(3, 300)
        if not per_model
        else torch.as_tensor(y, dtype=torch.float32),
    )(torch.tensor([[0, 5], [7, 1], [2, 2]]))
    assert xb.shape == (3, 2, 4) and yb.shape == (3, 2)


def test_full_batch_without_a_mask_of_ones_is_bit_for_bit(monkeypatch):
    task = SineWaveTask(4, 2, seed=0)
    X, y = task.sample(150, seed=0)

    def train():
        net = MLPEnsemble(3, 4, 16, depth=2, seeds=range(3))
        res = networks.fit(net, X, y, steps=40, batch_size=None, lr=1e-2, progress=False, eval_every=10)
        return [p.detach().clone() for p in net.parameters()], res.history_train

    fast = train()
    original = torch.Tensor.sum

    def masked_sum(self, *args, **kw):  # the path before: err * mask (all ones), then the sum
        return original(self * torch.ones_like(self), *args, **kw)

    monkeypatch.setattr(torch.Tensor, "sum", masked_sum)
    slow = train()
    monkeypatch.undo()
    assert all(torch.equal(a, b) for a, b in zip(fast[0], slow[0]))
    np.testing.assert_array_equal(fast[1], slow[1])
