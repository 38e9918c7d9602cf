"""Compositional CIFAR-10 on synthetic images: the composite layout, the networks' cost, training each network on its
own (bit for bit the same beside others), the rule's fair search, the tuning's line search, and both experiments
end to end. The real data's tests are in test_data.py."""

import ast
import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest
import torch

from modscale_lib import cifar_rule, composite_training as ct, composites, data, module_diagnostics as md, store
from modscale_lib.experiments import cifar_tuning as tuning, compositional_cifar as cc

ROOT = Path(__file__).resolve().parent.parent
MLP = {"family": "monolithic", "width": 24, "depth": 2}
MOD = {"family": "modular", "n_modules": 3, "module_dim": 4, "module_width": 8}


def _images(n, seed=0):
    """Synthetic 'CIFAR': class c lights up rows 3c..3c+2, so a network learns it in a few steps."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 10, n)
    x = rng.integers(0, 60, (n, 32, 32, 3)).astype(np.uint8)
    for c in range(10):
        x[y == c, 3 * c : 3 * c + 3] = 255
    return x, y.astype(np.int64)


@pytest.fixture
def tiny_cifar(monkeypatch, tmp_path):
    """Synthetic images in place of CIFAR-10, and an empty store that computes what is missing."""
    (x_train, y_train), (x_test, y_test) = _images(400), _images(200, seed=1)
    monkeypatch.setattr(data, "find_cifar10", lambda copy="auto": data.CifarSource("official", Path("/synthetic")))
    monkeypatch.setattr(data, "load_cifar10", lambda copy="auto": (x_train, y_train, x_test, y_test))
    monkeypatch.setenv("MODSCALE_RESULTS_DIR", str(tmp_path))
    monkeypatch.setenv("MODSCALE_RESULTS", "missing")
    return x_train, y_train, x_test, y_test


# --- the composite layout ---------------------------------------------------------------------------------------
def test_composite_features_are_the_pictures_pixels_in_slot_order():
    x, y = _images(30)
    index, _ = data.compositional_indices(y, 3, 5, seed=0)
    joined = composites.composite_features(composites.image_features(x), index)
    picture = data.to_features(data.assemble(x, index)).reshape(5, 32, 3, 32, 3)  # rows, slot, column, colour
    np.testing.assert_array_equal(joined, picture.transpose(0, 2, 1, 3, 4).reshape(5, -1))
    slots = md.slot_of_feature(3)
    for j in range(3):
        np.testing.assert_array_equal(joined[:, slots == j], composites.image_features(x[index[:, j]]))
    torch.testing.assert_close(
        composites.composite_features(torch.as_tensor(composites.image_features(x)), torch.as_tensor(index)),
        torch.as_tensor(joined),
    )


def test_training_draws_are_passes_at_one_image_and_seen_combinations_beyond():
    y = np.repeat(np.arange(10), 7)
    index, labels = composites.training_indices(y, 1, 150, seed=3)
    assert index.shape == (150, 1) and sorted(index[:70, 0]) == list(range(70)) == sorted(index[70:140, 0])
    index, labels = composites.training_indices(y, 3, 200, seed=3)
    assert not data.is_unseen_combination(labels).any()
    np.testing.assert_array_equal(composites.training_indices(y, 3, 200, seed=3)[0], index)


def test_table_batches_noise_and_occlusion():
    x, y = _images(40)
    table = ct.CompositeTable(x, y)
    index, labels = data.compositional_indices(y, 2, 9, seed=1)
    ((X, lab),) = list(table.batches(index, 9))
    np.testing.assert_array_equal(X.numpy(), composites.composite_features(composites.image_features(x), index))
    np.testing.assert_array_equal(lab.numpy(), labels)
    noisy = [next(table.batches(index, 9, noise_sigma=0.1, noise_seed=s))[0] for s in (0, 0, 1)]
    assert torch.equal(noisy[0], noisy[1]) and not torch.equal(noisy[0], noisy[2])
    step = 1 / (255 * np.array(composites.CIFAR_STD)).min()
    assert 0.3 < (noisy[0] - X).std() / (0.1 / np.mean(composites.CIFAR_STD)) < 1.5
    assert torch.all(torch.isclose((noisy[0] - X) / step, (noisy[0] - X) / step))  # finite
    slots = np.array([0, 1, 1, 0, 0, 1, 0, 1, 1])
    ((Xo, _),) = list(table.batches(index, 9, occlude=slots))
    grey = np.rint(np.array(composites.CIFAR_MEAN) * 255).astype(np.uint8)
    grey = composites.image_features(np.broadcast_to(grey, (1, 32, 32, 3)).copy())[0]
    for r, s in enumerate(slots):
        np.testing.assert_allclose(Xo[r, 3072 * s : 3072 * (s + 1)].numpy(), grey, atol=1e-6)
        assert torch.equal(Xo[r, 3072 * (1 - s) : 3072 * (2 - s)], X[r, 3072 * (1 - s) : 3072 * (2 - s)])


def test_accuracy_with_occlusion_counts_the_other_slots():
    class Fixed(torch.nn.Module):  # predicts class 0 at every slot
        def forward(self, X):
            logits = torch.zeros(1, len(X), 20)
            logits[..., 0] = logits[..., 10] = 1.0
            return logits

    x, y = _images(20)
    table = ct.CompositeTable(x, y)
    index = np.array([[int(np.flatnonzero(y == 0)[0]), int(np.flatnonzero(y != 0)[0])]] * 4)
    assert ct.accuracy(Fixed(), table, index) == pytest.approx(0.5)
    assert ct.accuracy(Fixed(), table, index, occlude=np.array([1, 1, 0, 0])) == pytest.approx(0.5)
    assert ct.accuracy(Fixed(), table, index, occlude=np.array([1, 1, 1, 1])) == pytest.approx(1.0)


# --- networks and their cost -------------------------------------------------------------------------------------
@pytest.mark.parametrize("arch", [MLP, MOD, {**MLP, "depth": 1}])
def test_parameter_count_and_flops(arch):
    k = 2
    model = ct.build_network(arch, k, seed=3)
    assert ct.n_params(arch, k) == sum(p.numel() for p in model.parameters()) == int(model.n_params()[0])
    D = 3072 * k
    if arch["family"] == "monolithic" and arch["depth"] == 1:
        assert ct.forward_flops(arch, k) == 2 * (D * 24 + 24 * 20)
        assert ct.training_flops(arch, k) == 2 * ct.forward_flops(arch, k) + 2 * 24 * 20
    assert ct.training_flops(arch, k) < 3 * ct.forward_flops(arch, k)


def test_bad_architecture_is_named():
    with pytest.raises(ValueError, match="family"):
        ct.check_architecture({"family": "transformer"}, 1)
    with pytest.raises(ValueError, match="keys"):
        ct.check_architecture({"family": "monolithic", "width": 8}, 1)
    with pytest.raises(ValueError, match=r"arch\['depth'\]"):
        ct.check_architecture({**MLP, "depth": 9}, 1)
    with pytest.raises(ValueError, match=r"arch\['width'\]"):
        ct.check_architecture({**MLP, "width": 0}, 1)


def test_a_network_trained_beside_others_is_bit_for_bit_the_one_trained_alone():
    """The old chapter trained its modular networks as one ensemble; an ensemble pads a narrower member to the
    widest, whose initial weights and sums then depend on the others. Each network here has its own tensors."""
    x, y = _images(300)
    table = ct.CompositeTable(x, y)
    index, _ = composites.training_indices(y, 2, 160, seed=0)
    test = data.compositional_indices(y, 2, 50, seed=9)[0]

    def trained(archs, lrs):
        models = [ct.build_network(a, 2, seed=5) for a in archs]
        loss = ct.train_members(models, table, index, lrs=lrs, batch_size=32, epochs=2, seed=1)
        return models[0], loss[0], ct.accuracy(models[0], table, test)

    alone = trained([MOD], [3e-3])
    beside = trained([MOD, {**MOD, "module_width": 32}, MLP], [3e-3, 1e-2, 1e-3])
    for a, b in zip(alone[0].state_dict().values(), beside[0].state_dict().values()):
        assert torch.equal(a, b)
    np.testing.assert_array_equal(alone[1], beside[1])
    assert alone[2] == beside[2]


def test_training_learns_decays_the_step_and_names_a_diverged_network():
    x, y = _images(300)
    table = ct.CompositeTable(x, y)
    index, _ = composites.training_indices(y, 1, 600, seed=0)
    model = ct.build_network(MLP, 1, seed=0)
    seen = []
    loss = ct.train_members(
        [model],
        table,
        index,
        lrs=[3e-3],
        batch_size=30,
        epochs=2,
        after_epoch=lambda e, i, m: seen.append(ct.accuracy(m, table, index[:200])),
    )
    assert loss.shape == (1, 2) and loss[0, 1] < loss[0, 0] and seen[-1] > 0.9
    bad = ct.build_network(MLP, 1, seed=0)
    with torch.no_grad():
        bad.net.weights[0].fill_(float("nan"))
    with pytest.raises(ct.TrainingDivergedError, match="the bad one"):
        ct.train_members([bad], table, index[:60], lrs=[1e-3], batch_size=30, names=["the bad one"])
    with pytest.raises(ValueError, match="one step per network"):
        ct.train_members([model], table, index, lrs=[1e-3, 1e-3], batch_size=30)


# --- the rule, given a fair chance --------------------------------------------------------------------------------
def _rule_task(k=2, n=600):
    x, y = _images(500)
    table = ct.CompositeTable(x, y)
    index, labels = composites.training_indices(y, k, n, seed=2)
    X = composites.composite_features(table.features, torch.as_tensor(index))
    Y = torch.as_tensor(np.eye(10, dtype=np.float32)[labels].reshape(n, 10 * k))
    return X, Y - Y.mean(dim=0)


def test_the_search_lowers_the_held_out_objective_and_is_scale_free():
    X, Y = _rule_task()
    model = ct.build_network(MOD, 2, seed=4)
    start = model.projections.detach()[0].numpy()
    # the target's scale changes no step (checked over two steps: a long search amplifies float rounding)
    short = [
        cifar_rule.search_projections(X[:400], c * Y[:400], start, model, steps=2, angle=0.1, batch_size=128)
        for c in (1.0, 10.0)
    ]
    np.testing.assert_allclose(short[0], short[1], atol=1e-5)
    assert np.abs(short[0] - start).max() > 1e-3
    found = cifar_rule.search_projections(X[:400], Y[:400], start, model, steps=30, angle=0.1, batch_size=128)
    np.testing.assert_allclose(
        np.einsum("kmb,kmc->kbc", found, found), np.broadcast_to(np.eye(4), (3, 4, 4)), atol=1e-4
    )
    before = cifar_rule.held_out_objective(start, X[400:], Y[400:], model, batch_size=100)
    after = cifar_rule.held_out_objective(found, X[400:], Y[400:], model, batch_size=100)
    assert after.mean() < before.mean()
    deflated = cifar_rule.search_projections(
        X[:400], Y[:400], start, model, variant="deflation", steps=10, angle=0.1, batch_size=128
    )
    assert deflated.shape == start.shape and not np.allclose(deflated, found)


def test_module_kernels_are_the_trained_modules_features():
    model = ct.build_network(MOD, 1, seed=2)
    net, z = model.modules_net, torch.randn(7, 4)
    phi = torch.relu(z @ net.weights[0][1] + net.biases[0][1])  # module 1's hidden layer, as the kernel has it
    with torch.no_grad():  # ... is the one the module's output reads
        torch.testing.assert_close(net(z[None].expand(3, 7, 4))[1], phi @ net.weights[1][1] + net.biases[1][1])
    torch.testing.assert_close(cifar_rule.module_kernels(model)[1](z), phi @ phi.T / 8)


def test_slot_local_projections_read_one_slot_each():
    U = cifar_rule.slot_local_projections(5, 3, 4, seed=0)
    np.testing.assert_allclose(md.locality(U, 3), 1.0)
    np.testing.assert_allclose(md.slot_shares(U, 3).argmax(axis=-1), [0, 1, 2, 0, 1])
    np.testing.assert_allclose(np.einsum("kmb,kmc->kbc", U, U), np.broadcast_to(np.eye(4), (5, 4, 4)), atol=1e-5)


# --- the tuning's search --------------------------------------------------------------------------------------------
class _Cells:
    def __init__(self):
        self.calls = []

    def map(self, items, compute, desc=None):
        self.calls.append(len(items))
        return [compute(i) for i in items]


def test_line_search_widens_past_an_edge_until_the_best_is_inside():
    peak = {"a": 16.0, "b": 0.5, "c": 64.0}
    run = lambda item: {"score": -abs(np.log2(item["v"] / peak[item["key"]]))}
    log = {}
    out = tuning._line_search(
        _Cells(),
        run,
        {key: [1.0, 2.0, 4.0] for key in peak},
        lambda key, v: {"key": key, "v": v},
        lambda key, v, side: v * 2.0**side if v * 2**side <= 32 else None,
        3,
        "t",
        log,
    )
    assert out["a"][0] == 16.0 and not out["a"][2]  # found inside after widening
    assert out["b"][0] == 0.5 and not out["b"][2]
    assert out["c"][0] == 32.0 and out["c"][2]  # the cap stopped it: still at the edge
    assert len(log) == len({json.dumps(i, sort_keys=True) for i, _ in log.values()})


# --- both experiments end to end on synthetic images ------------------------------------------------------------------
def test_tuning_and_accuracy_end_to_end(tiny_cifar):
    tuned = store.load_or_run(tuning.compositional_tuning, tuning.CifarTuningConfig.tiny(), progress=False)
    methods = {(c["k"], c["method"]) for c in tuned["choices"]}
    assert methods == {(k, m) for k in (1, 2) for m in tuning.METHODS if m != tuning.SLOT_LOCAL}
    assert all(r["score"] <= 1 and r["flops"] > 0 for r in tuned["runs"])
    cap = tuning.CifarTuningConfig.tiny().flops_cap  # no run, and so no choice, costs more
    assert all(r["flops"] <= cap for r in tuned["runs"]) and max(r["flops"] for r in tuned["runs"]) > cap / 2
    res = store.load_or_run(cc.compositional_accuracy, cc.CompositionalCifarConfig.tiny(), progress=False)
    M = len(cc.METHODS)
    assert res["acc_seen"].shape == (M, 2, 2, 1) and np.all((res["acc_seen"] >= 0) & (res["acc_seen"] <= 1))
    for test in ("unseen", "occluded"):  # defined for k >= 2 only
        assert np.all(np.isnan(res[f"acc_{test}"][:, 0])) and np.all(np.isfinite(res[f"acc_{test}"][:, 1]))
    assert res["acc_seen"][:, :, :, -1].mean() > 0.3
    twins = {(t["k"], t["method"]) for t in res["same_as"]}  # a matched network that is the random one
    for a, k in enumerate((1, 2)):
        for i, m in enumerate(cc.METHODS):
            assert (res["cpu_s"][i, a] == 0).all() if (k, m) in twins else (res["cpu_s"][i, a] > 0).all()
        if (k, cc.MATCHED) in twins:
            np.testing.assert_array_equal(
                res["acc_seen"][cc.METHODS.index(cc.MATCHED), a], res["acc_seen"][cc.METHODS.index(cc.RANDOM), a]
            )
    mono, rnd, local = (cc.METHODS.index(m) for m in (cc.MONOLITHIC, cc.RANDOM, cc.SLOT_LOCAL))
    assert np.all(np.isnan(res["diag_objective"][mono])) and np.all(np.isfinite(res["diag_objective"][rnd]))
    np.testing.assert_allclose(res["diag_local_start"][local], 1.0)
    assert np.all(np.isnan(res["diag_moved_by_rule"][rnd])) and np.all(res["diag_moved_by_rule"][-2:] > 0)
    assert np.all(res["diag_moved_by_training"][1:] > 0)
    assert res["params"][mono, 0] == ct.n_params(tuning.tuned_settings(tuned, 1)[cc.MONOLITHIC]["arch"], 1)
    assert np.all(res["search_flops"][-2:] > 0) and np.all(res["search_flops"][:4] == 0)


def test_a_cell_is_bit_for_bit_the_same_whatever_else_its_config_trains(tiny_cifar):
    """Issue 27, item 4, on the chapter's own path (``compositional_accuracy``): a method's numbers at one (k, seed)
    do not depend on which other methods, seeds or k the config trains, nor on their order. The old chapter's
    random network moved by 0.003 when only the networks trained beside it changed."""
    store.load_or_run(tuning.compositional_tuning, tuning.CifarTuningConfig.tiny(), progress=False)
    tiny = cc.CompositionalCifarConfig.tiny()
    full = store.load_or_run(cc.compositional_accuracy, tiny, progress=False)
    paper = tuning.RULES["paper"]
    for methods, ks, seeds in (
        ((cc.RANDOM,), (2,), (1,)),
        ((cc.MONOLITHIC,), (1, 2), (0, 1)),
        ((paper, cc.MONOLITHIC, cc.RANDOM), (2, 1), (1,)),
    ):
        part = store.load_or_run(
            cc.compositional_accuracy,
            dataclasses.replace(tiny, methods=methods, n_images_grid=ks, seeds=seeds, rule_ks=(2,)),
            progress=False,
        )
        for i, m in enumerate(methods):
            for a, k in enumerate(ks):
                if m == paper and k == 1:  # not trained outside rule_ks
                    assert np.isnan(part["acc_seen"][i, a]).all() and (part["cpu_s"][i, a] == 0).all()
                    continue
                for s, seed in enumerate(seeds):
                    at = (tiny.methods.index(m), tiny.n_images_grid.index(k), tiny.seeds.index(seed))
                    for name in [f"acc_{t}" for t in cc.TESTS] + ["loss"] + [f"diag_{d}" for d in cc.DIAGNOSTICS]:
                        np.testing.assert_array_equal(
                            part[name][i, a, s], full[name][at], err_msg=f"{name} of {m} at k = {k}, seed {seed}"
                        )


def test_the_cost_model_scales_with_the_work_and_the_cpu_store_fits_its_cap():
    """The estimate grows with the composites, epochs and k; a twin or an untrained rule costs nothing; and the
    chapter's cpu store (the recorded tuning plus the estimate of every config the chapter reads) is under the
    cap (issue 27: 150 CPU-min)."""
    arch = {"family": "monolithic", "width": 512, "depth": 1}
    t = {"rule_steps": 30, "rule_batch": 256}
    one = cc.cell_cpu_s({"arch": arch}, cc.MONOLITHIC, 2, 50000, 1, 2000, t)
    assert cc.cell_cpu_s({"arch": arch}, cc.MONOLITHIC, 2, 100000, 1, 2000, t) > 1.9 * one
    assert cc.cell_cpu_s({"arch": arch}, cc.MONOLITHIC, 2, 50000, 2, 2000, t) > 1.9 * one
    assert cc.cell_cpu_s({"arch": arch}, cc.MONOLITHIC, 4, 50000, 1, 2000, t) > 1.5 * one
    mod = {"family": "modular", "n_modules": 8, "module_dim": 32, "module_width": 256}
    assert cc.cell_cpu_s({"arch": mod}, tuning.RULES["paper"], 2, 50000, 1, 2000, t) > cc.cell_cpu_s(
        {"arch": mod}, cc.RANDOM, 2, 50000, 1, 2000, t
    )
    stored = store.load_or_run(tuning.compositional_tuning, tuning.CifarTuningConfig.cpu(), mode="read")
    assert 0.5 < stored.metadata["cpu_time_s"] / cc.tuning_cpu_s(stored) < 2  # the model's calibration
    total = stored.metadata["cpu_time_s"]
    for name in cc.CHAPTER_CONFIGS:
        cfg = cc.compositional_accuracy.config(name)
        est = cc.cost_estimate(cfg, stored)
        assert est["per_cell"][1, tuning.RULES["paper"]] == 0 if name == "cpu" else True
        total += est["total_s"]
    assert total / 60 <= cc.CPU_CAP_MIN


def test_the_accuracy_needs_its_tuning(tiny_cifar, monkeypatch, tmp_path):
    store.init_store(tmp_path)  # an empty store: read mode refuses a folder that is none
    monkeypatch.setenv("MODSCALE_RESULTS", "read")
    with pytest.raises(store.MissingResultError, match="compute compositional_tuning --config tiny"):
        cc.compositional_accuracy(cc.CompositionalCifarConfig.tiny())


@pytest.mark.parametrize(
    "field,value,match",
    [
        ("n_images_grid", (0, 2), r"n_images_grid\[0\] must be a whole number in \[1, 16\]"),
        ("methods", ("monolithic", "transformer"), r"methods\[1\] must be one of"),
        ("tuning", "medium", "tuning must be one of"),
        ("test_images", 1000, "test_images must be None with the JPEG copy"),
        ("rule_ks", (3,), r"rule_ks must be None or a subset of n_images_grid"),
    ],
)
def test_bad_config_is_named(field, value, match):
    with pytest.raises(ValueError, match=match):
        dataclasses.replace(cc.CompositionalCifarConfig(), **{field: value})


def test_bad_tuning_config_is_named():
    with pytest.raises(ValueError, match="widths must be increasing"):
        tuning.CifarTuningConfig(widths=(1024, 512))
    with pytest.raises(ValueError, match="multiple of module_dim"):
        tuning.CifarTuningConfig(widths=(500, 1000))


# --- no dataset pixels in the book ------------------------------------------------------------------------------------
#: what returns pixels, or features made from them: a notebook that calls none of these cannot display them
PIXEL_SOURCES = {
    "load_cifar10",
    "find_cifar10",
    "compositional_cifar",
    "assemble",
    "add_pixel_noise",
    "to_features",
    "image_features",
    "composite_features",
    "CompositeTable",
    "imread",
    "open_image",
}


@pytest.mark.parametrize("path", sorted((ROOT / "book").glob("*.ipynb")), ids=lambda p: p.stem)
def test_no_notebook_reaches_dataset_pixels(path):
    """The book commits no image made from CIFAR-10: its notebooks read only stored results (numbers), never the
    dataset, so no output can hold its pixels; an image output's alt text never names a file either."""
    cells = json.loads(path.read_text())["cells"]
    for i, cell in enumerate(c for c in cells if c["cell_type"] == "code"):
        source = "".join(cell["source"])
        tree = ast.parse("\n".join(line for line in source.splitlines() if not line.lstrip().startswith(("%", "!"))))
        namespaces = {id(n.value) for n in ast.walk(tree) if isinstance(n, ast.Attribute)}  # a.b in a.b.c
        names = {n.attr for n in ast.walk(tree) if isinstance(n, ast.Attribute) and id(n) not in namespaces}
        names |= {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
        assert not names & PIXEL_SOURCES, f"{path.name}, code cell {i}: calls {sorted(names & PIXEL_SOURCES)}"
        strings = [n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str)]
        assert not [s for s in strings if "cifar" in s.lower() and any(e in s for e in (".npz", ".jpg", ".tar", "/"))]
        for out in cell.get("outputs", []):
            assert "image/png" not in out.get("data", {}) or "/" not in str(out["data"].get("text/plain", ""))


def test_the_store_holds_no_pixels():
    """Stored CIFAR results hold accuracies and diagnostics: no array of 8-bit values or of image-sized rows."""
    for folder in ("compositional_accuracy", "compositional_tuning"):
        for path in sorted((ROOT / "results" / folder).glob("*.npz")):
            with np.load(path, allow_pickle=False) as npz:
                for name in npz.files:
                    assert npz[name].dtype != np.uint8 and 3072 not in npz[name].shape[-1:], (path.name, name)


@pytest.mark.parametrize("device", ["cpu"] + (["cuda"] if torch.cuda.is_available() else []))
def test_composites_train_and_search_on_the_device(device):
    """The `full` config's path: composites gathered, networks trained and the rule run where the table lives."""
    x, y = _images(200)
    table = ct.CompositeTable(x, y, device)
    index, _ = composites.training_indices(y, 2, 64, seed=0)
    model = ct.build_network(MOD, 2, seed=1).to(device)
    ct.train_members([model], table, index, lrs=[1e-3], batch_size=32)
    assert 0 <= ct.accuracy(model, table, index, noise_sigma=0.1, occlude=np.zeros(64, int)) <= 1
    X = composites.composite_features(table.features, torch.as_tensor(index, device=device))
    Y = torch.randn(64, 20, device=device)
    U = cifar_rule.search_projections(
        X, Y, model.projections.detach()[0].cpu().numpy(), model, steps=2, batch_size=32, variant="deflation"
    )
    assert U.shape == (3, 6144, 4) and X.device.type == device
