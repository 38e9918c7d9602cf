"""Multi-output networks, classification training, and the Compositional CIFAR-10 experiment end to end on
synthetic images (the real data's tests are in test_data.py)."""
import dataclasses

import numpy as np
import pytest
import torch

from modscale_lib import data
from modscale_lib.experiments import compositional_cifar as compositional
from modscale_lib.networks import MLPEnsemble, ModularEnsemble
from modscale_lib.training import (TrainingDivergedError, classification_loss, classifier_accuracy,
                                   fit_classifier)


def test_multi_output_networks_have_one_block_of_logits_per_output():
    x = torch.randn(7, 12)
    mlp = MLPEnsemble(3, 12, 8, depth=2, n_outputs=20)
    mod = ModularEnsemble(3, 12, 4, 2, width=5, n_outputs=20)
    assert mlp(x).shape == (3, 7, 20) and mod(x).shape == (3, 7, 20)
    assert mod.n_params()[0] == 4 * (2 * 5 + 5 + 5 * 20 + 20) + 4 * 12 * 2
    # one output keeps the old (E, B) shape
    assert ModularEnsemble(3, 12, 4, 2, width=5)(x).shape == (3, 7)


def test_classification_loss_is_the_mean_cross_entropy_over_positions():
    logits = torch.randn(2, 5, 3 * 4)
    labels = torch.randint(0, 4, (5, 3))
    expected = torch.stack([torch.nn.functional.cross_entropy(logits[e].reshape(15, 4), labels.reshape(15))
                            for e in range(2)])
    torch.testing.assert_close(classification_loss(logits, labels, 4), expected)
    with pytest.raises(ValueError, match="k \\* n_classes = 12"):
        classification_loss(logits[..., :10], labels, 4)


def _separable(n=600, k=2, seed=0):
    g = torch.Generator().manual_seed(seed)
    labels = torch.randint(0, 3, (n, k), generator=g)
    X = torch.randn(n, 6 * k, generator=g) * 0.3
    for j in range(k):
        X[torch.arange(n), 6 * j + labels[:, j]] += 2.0
    return X, labels


def test_fit_classifier_learns_and_reports_every_epoch():
    X, labels = _separable()
    model = ModularEnsemble(2, 12, 4, 2, width=16, n_outputs=6, seeds=[0, 1])
    before = classifier_accuracy(model, [(X, labels)], n_classes=3)
    seen = []
    loss = fit_classifier(model, lambda epoch: [(X[i:i + 50], labels[i:i + 50]) for i in range(0, 600, 50)],
                          epochs=3, n_classes=3, lr=1e-2, progress=False,
                          after_epoch=lambda e, net: seen.append(classifier_accuracy(net, [(X, labels)], 3)))
    assert loss.shape == (2,) and len(seen) == 3 and seen[0].shape == (2, 2)
    assert seen[-1].min() > 0.95 > before.max()


def test_fit_classifier_names_a_diverged_model():
    X, labels = _separable(n=50)
    model = MLPEnsemble(2, 12, 8, n_outputs=6)
    with torch.no_grad():
        model.net.weights[0][1].fill_(float("nan"))
    with pytest.raises(TrainingDivergedError, match="model 1 \\(\\{'seed': 1\\}\\)"):
        fit_classifier(model, lambda e: [(X, labels)], n_classes=3, progress=False,
                       model_configs=[{"seed": 0}, {"seed": 1}])
    with pytest.raises(ValueError, match="epochs must be"):
        fit_classifier(model, lambda e: [(X, labels)], epochs=0)


@pytest.fixture
def tiny_cifar(monkeypatch):
    """Synthetic 'CIFAR': class c lights up rows 3c..3c+2, so a network can learn it in a few steps."""
    rng = np.random.default_rng(0)

    def make(n):
        y = rng.integers(0, 10, n)
        x = rng.integers(0, 60, (n, 32, 32, 3)).astype(np.uint8)
        for c in range(10):
            x[y == c, 3 * c:3 * c + 3] = 255
        return x, y.astype(np.int64)

    x_train, y_train = make(400)
    x_test, y_test = make(200)
    monkeypatch.setattr(data, "find_cifar10", lambda copy="auto": data.CifarSource("official", data.Path("/synthetic")))
    monkeypatch.setattr(data, "load_cifar10", lambda copy="auto": (x_train, y_train, x_test, y_test))


def test_experiment_end_to_end_on_synthetic_images(tiny_cifar):
    cfg = compositional.CompositionalCifarConfig(n_images_grid=(1, 2), seeds=(0, 1), n_train=300, epochs=3, lr=1e-3,
                                                 batch_size=50, modules_per_position=2, module_dim=8,
                                                 module_width=8, rule_samples=100, rule_steps=3, rule_batch=25,
                                                 n_test=100)
    res = compositional.compositional_accuracy(cfg)
    assert res["acc_seen"].shape == (4, 2, 2, 3)
    assert np.all((res["acc_seen"] >= 0) & (res["acc_seen"] <= 1))
    for test in ("unseen", "occluded"):      # defined for k >= 2 only
        assert np.all(np.isnan(res[f"acc_{test}"][:, 0])) and np.all(np.isfinite(res[f"acc_{test}"][:, 1]))
    assert np.all(np.isfinite(res["acc_noise"]))
    assert res["acc_seen"][:, :, :, -1].min() > 0.2      # every method learned something (chance is 0.1)
    assert res["n_params"].shape == (4, 2) and np.all(res["wall_time_s"] > 0)
    assert res["data_kind"] == "official"
    # diagnostics: NaN for the monolithic network; the random projections are not moved by a rule
    assert np.all(np.isnan(res["diag_moved_by_rule"][:2])) and np.all(res["diag_moved_by_rule"][2:] > 0)
    assert np.all(np.isfinite(res["diag_moved_by_training"][1:])) and np.all(np.isnan(res["diag_local_end"][0]))
    np.testing.assert_allclose(res["diag_local_start"][1:, 0], 1.0)       # k = 1: one slot


def test_each_seed_draws_its_own_data_and_a_cell_alone_matches_the_sweep(tiny_cifar):
    arrays = data.load_cifar10()
    cfg = compositional.CompositionalCifarConfig.tiny()
    a = compositional._cell(cfg, 2, 0, arrays)
    b = compositional._cell(cfg, 2, 1, arrays)
    assert not np.array_equal(a["acc_seen"], b["acc_seen"]) or not np.array_equal(a["acc_unseen"], b["acc_unseen"])
    res = compositional.compositional_accuracy(dataclasses.replace(cfg, seeds=(0, 1)))
    np.testing.assert_array_equal(res["acc_seen"][:, 1, 0], a["acc_seen"])
    np.testing.assert_array_equal(res["diag_overlap_end"][:, 1, 1], b["diag_overlap_end"])


def test_occlusion_fills_one_slot_with_the_mean_colour(tiny_cifar):
    x, y, _, _ = data.load_cifar10()
    index, labels = data.compositional_indices(y, 3, 4, seed=0)
    slots = np.array([0, 2, 1, 1])
    (X, _), = list(compositional.composite_batches(x, index, labels, 4, occlude=slots))
    images = X.numpy().reshape(4, 32, 96, 3)
    for r, slot in enumerate(slots):
        assert np.abs(images[r, :, 32 * slot:32 * slot + 32]).max() < 0.02       # the mean colour: ~0 features
        assert np.abs(np.delete(images[r], np.s_[32 * slot:32 * slot + 32], axis=1)).max() > 0.5


def test_masked_accuracy_counts_only_the_masked_positions():
    class Fixed(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.w = torch.nn.Parameter(torch.zeros(1))

        def forward(self, X):       # predicts class 0 at both positions
            logits = torch.zeros(1, len(X), 20)
            logits[..., 0] = logits[..., 10] = 1.0
            return logits
    labels = torch.tensor([[0, 3], [0, 0]])
    batches = [(torch.zeros(2, 1), labels)]
    assert compositional.masked_accuracy(Fixed(), batches)[0] == pytest.approx(0.75)
    mask = np.array([[False, True], [False, True]])
    assert compositional.masked_accuracy(Fixed(), batches, mask=mask)[0] == pytest.approx(0.5)


def test_limits_configs_change_one_factor_of_the_cpu_setting():
    cpu = compositional.CompositionalCifarConfig.cpu()
    fields = [f.name for f in dataclasses.fields(cpu)]
    for name in compositional.LIMITS:
        cfg = getattr(compositional.CompositionalCifarConfig, name)()
        assert cfg.n_images_grid == (1,) and cfg.methods == ("monolithic",)
        changed = {f for f in fields if getattr(cfg, f) != getattr(cpu, f)} - {"n_images_grid", "methods", "n_test"}
        assert len(changed) == 1 or name == "limits_ceiling", (name, changed)


@pytest.mark.parametrize("field,value,match", [
    ("n_images_grid", (0, 2), r"n_images_grid\[0\] must be a whole number in \[1, 16\]"),
    ("methods", ("monolithic", "transformer"), r"methods\[1\] must be one of"),
    ("methods", ("monolithic", "modular, spectral rule"), r"methods\[1\] must be one of"),
    ("n_train", 0, "n_train must be a whole number in"),
    ("noise_sigma", -0.1, "noise_sigma must be in"),
    ("test_images", 1000, "test_images must be None with the JPEG copy"),
    ("holdout_mod", 1, "holdout_mod must be a whole number in"),
    ("rule_refine", -1, "rule_refine must be a whole number in"),
])
def test_bad_config_is_named(field, value, match):
    with pytest.raises(ValueError, match=match):
        dataclasses.replace(compositional.CompositionalCifarConfig(), **{field: value})
