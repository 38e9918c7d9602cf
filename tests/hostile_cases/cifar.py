"""Hostile cases of the CIFAR-10 experiment's modules, and the figures: cifar_rule, composite_training, present
(the chapter's read-outs and figures are chapter_compositional_cifar.py's)."""

from __future__ import annotations

import numpy as np

NAN, INF = float("nan"), float("inf")
COUNT = [2.5, -1, 0, NAN, "3", True]  # whole numbers >= 1 (as test_hostile.COUNT)
SEED = [2.5, -1, NAN, "a", 2**70]

#: Public names of these modules without a case yet (the coverage test in test_hostile.py reads it).
NOT_YET: dict[str, list[str]] = {}


def _training_cases(bad, good) -> None:
    import torch

    from modscale_lib import cifar_rule as rule, composite_training as ct

    C = "composite_training"
    images = np.random.default_rng(1).integers(0, 256, (12, 32, 32, 3), dtype=np.uint8)
    labels = np.arange(12) % 10
    table = ct.CompositeTable(images, labels)
    index = np.arange(12).reshape(6, 2)
    mod = {"family": "modular", "n_modules": 2, "module_dim": 2, "module_width": 4}
    mlp = {"family": "monolithic", "width": 8, "depth": 1}
    bad_arch = [
        {},
        None,
        {"family": "cnn"},
        mlp | {"width": 0},
        mlp | {"depth": 9},
        mlp | {"width": 2.5},
        {**mlp, "x": 1},
    ]
    bad(C, "check_architecture", "arch", bad_arch, lambda v: ct.check_architecture(v, 2))
    bad(C, "check_architecture", "k", COUNT + [17], lambda v: ct.check_architecture(mlp, v))
    bad(C, "check_architecture", "module_dim", [mod | {"module_dim": 10**4}], lambda v: ct.check_architecture(v, 1))
    good(C, "check_architecture", "2.0 for 2", lambda: ct.check_architecture(mlp | {"width": 8.0}, 2.0)["width"])
    bad(C, "build_network", "arch", bad_arch[:4], lambda v: ct.build_network(v, 1, 0))
    bad(C, "build_network", "seed", [-1, 2.5, NAN, "a"], lambda v: ct.build_network(mlp, 1, v))
    bad(C, "build_network", "k", [0, 17, NAN], lambda v: ct.build_network(mlp, v, 0))
    U = rule.slot_local_projections(2, 1, 2, 0)
    nan_U = U.copy()
    nan_U[0, 0, 0] = np.nan
    bad(C, "build_network", "projections", [nan_U, U[:1], U[..., :1], "U"], lambda v: ct.build_network(mod, 1, 0, v))
    good(
        C,
        "build_network",
        "tensor projections",
        lambda: ct.n_params(mod, 1) + 0 * ct.build_network(mod, 1, 0, torch.as_tensor(U)).n_models,
    )
    for f in ("n_params", "training_flops", "forward_flops"):
        bad(C, f, "arch", bad_arch[:5], lambda v, f=f: getattr(ct, f)(v, 2))
        bad(C, f, "k", [0, 2.5, NAN, 17], lambda v, f=f: getattr(ct, f)(mod, v))
        good(C, f, "modular", lambda f=f: getattr(ct, f)(mod, 2))
    bad(
        C,
        "CompositeTable",
        "images",
        [images[..., 0], images.astype(float), images[:0], np.zeros((2, 16, 16, 3), np.uint8)],
        lambda v: ct.CompositeTable(v, labels),
    )
    bad(
        C,
        "CompositeTable",
        "labels",
        [labels[:5], labels + 5, labels + 0.5, np.full(12, np.nan), labels[:, None]],
        lambda v: ct.CompositeTable(images, v),
    )
    bad(C, "CompositeTable", "device", ["gpu7", 3.5], lambda v: ct.CompositeTable(images, labels, v))
    good(
        C,
        "CompositeTable",
        "tensors",
        lambda: ct.CompositeTable(torch.as_tensor(images), torch.as_tensor(labels)).features,
    )

    def net(arch=mlp, k=2):
        return ct.build_network(arch, k, 0)

    def train(**kw):
        args = dict(models=[net()], table=table, index=index, lrs=[0.01], batch_size=4) | kw
        return ct.train_members(args.pop("models"), args.pop("table"), args.pop("index"), **args)

    bad(C, "train_members", "lrs", [[1e6], [0.0], [NAN], [-0.1], [0.01, 0.01], [], "0.01"], lambda v: train(lrs=v))
    bad(
        C,
        "train_members",
        "models",
        [[], None, [net(k=1)], [net()] * 0],
        lambda v: train(models=v, lrs=[0.01] * max(1, len(v or []))),
    )
    bad(
        C,
        "train_members",
        "index",
        [index + 100, -index, index[:, :1] * 0.5, index[0], np.zeros((0, 2), int)],
        lambda v: train(index=v),
    )
    bad(C, "train_members", "table", [None, images], lambda v: train(table=v))
    bad(C, "train_members", "batch_size", [0, -1, 2.5, NAN], lambda v: train(batch_size=v))
    bad(C, "train_members", "epochs", [0, 2.5, 10**6], lambda v: train(epochs=v))
    bad(C, "train_members", "seed", [-1, NAN], lambda v: train(seed=v))
    bad(C, "train_members", "after_epoch", ["print", 3], lambda v: train(after_epoch=v))
    bad(C, "train_members", "names", [["a", "b"], "a"], lambda v: train(names=v))
    good(C, "train_members", "one epoch", lambda: train())

    def acc(**kw):
        args = dict(model=net(), table=table, index=index) | kw
        return ct.accuracy(args.pop("model"), args.pop("table"), args.pop("index"), **args)

    bad(C, "accuracy", "batch_size", [0, -5, NAN], lambda v: acc(batch_size=v))
    bad(C, "accuracy", "noise_sigma", [NAN, -0.1, INF, "x"], lambda v: acc(noise_sigma=v))
    bad(C, "accuracy", "noise_seed", [-1, 2.5, 2**40], lambda v: acc(noise_seed=v))
    bad(C, "accuracy", "occlude", [np.full(6, 2), np.zeros(5, int), np.full(6, 0.5)], lambda v: acc(occlude=v))
    bad(C, "accuracy", "index", [index + 100, index[:, :1]], lambda v: acc(index=v))
    bad(C, "accuracy", "model", [None, net(mod, 1)], lambda v: acc(model=v))
    good(C, "accuracy", "noise and occlusion", lambda: acc(noise_sigma=0.1, occlude=np.zeros(6, int)))

    R = "cifar_rule"
    model = ct.build_network(mod, 1, 0)
    X = torch.randn(16, 3072, generator=torch.Generator().manual_seed(0))
    Y = torch.nn.functional.one_hot(torch.arange(16) % 10, 10).float() - 0.1
    nan_X = X.clone()
    nan_X[0, 0] = float("nan")

    def search(**kw):
        args = dict(X=X, Y=Y, starts=U, model=model, steps=2, batch_size=8) | kw
        return rule.search_projections(args.pop("X"), args.pop("Y"), args.pop("starts"), args.pop("model"), **args)

    bad(R, "module_kernels", "model", [None, ct.build_network(mlp, 1, 0)], lambda v: rule.module_kernels(v))
    good(R, "module_kernels", "a modular network", lambda: len(rule.module_kernels(model)))
    bad(R, "search_projections", "angle", [1e6, 0.0, NAN, -0.1], lambda v: search(angle=v))
    bad(R, "search_projections", "X", [nan_X, X[:, :100], X[0], "X"], lambda v: search(X=v))
    bad(R, "search_projections", "Y", [Y[:5], Y * float("nan"), Y[:, 0]], lambda v: search(Y=v))
    bad(R, "search_projections", "starts", [nan_U, U[:1], U[..., :1]], lambda v: search(starts=v))
    bad(R, "search_projections", "model", [None, ct.build_network(mlp, 1, 0)], lambda v: search(model=v))
    bad(R, "search_projections", "variant", ["backfit", None], lambda v: search(variant=v))
    bad(R, "search_projections", "steps", [0, 2.5, 10**9], lambda v: search(steps=v))
    bad(R, "search_projections", "ridge", [0.0, NAN, -1.0], lambda v: search(ridge=v))
    bad(R, "search_projections", "seed", [-1, NAN], lambda v: search(seed=v))
    good(R, "search_projections", "numpy X and Y", lambda: search(X=X.numpy(), Y=Y.numpy(), variant="deflation"))

    def held(**kw):
        args = dict(U=U, X=X, Y=Y, model=model, batch_size=8) | kw
        return rule.held_out_objective(args.pop("U"), args.pop("X"), args.pop("Y"), args.pop("model"), **args)

    bad(R, "held_out_objective", "batch_size", [0, -1, NAN, 2.5], lambda v: held(batch_size=v))
    bad(R, "held_out_objective", "X", [nan_X, X[:4], X[:, :10]], lambda v: held(X=v))
    bad(R, "held_out_objective", "U", [nan_U, U[:1]], lambda v: held(U=v))
    bad(R, "held_out_objective", "ridge", [0.0, NAN], lambda v: held(ridge=v))
    good(R, "held_out_objective", "valid", lambda: held())
    bad(R, "slot_local_projections", "n_modules", COUNT, lambda v: rule.slot_local_projections(v, 1, 2, 0))
    bad(R, "slot_local_projections", "k", COUNT + [17], lambda v: rule.slot_local_projections(2, v, 2, 0))
    bad(R, "slot_local_projections", "module_dim", COUNT + [5000], lambda v: rule.slot_local_projections(2, 1, v, 0))
    bad(R, "slot_local_projections", "seed", SEED, lambda v: rule.slot_local_projections(2, 1, 2, v))
    bad(R, "slot_local_projections", "n_modules", [4096], lambda v: rule.slot_local_projections(v, 16, 3072, 0))
    bad(
        R,
        "search_flops",
        "arch",
        [mlp, {}, mod | {"module_dim": 0}],
        lambda v: rule.search_flops(v, 1, 10, 2, 8, "paper"),
    )
    bad(R, "search_flops", "steps", [0, -1, 2.5], lambda v: rule.search_flops(mod, 1, 10, v, 8, "paper"))
    bad(R, "search_flops", "batch_size", [0, 1, NAN], lambda v: rule.search_flops(mod, 1, 10, 2, v, "paper"))
    bad(R, "search_flops", "variant", ["backfit", None], lambda v: rule.search_flops(mod, 1, 10, 2, 8, v))
    bad(R, "search_flops", "n_outputs", [0, -10], lambda v: rule.search_flops(mod, 1, v, 2, 8, "paper"))
    bad(R, "search_flops", "k", [0, 17], lambda v: rule.search_flops(mod, v, 10, 2, 8, "paper"))
    good(R, "search_flops", "deflation", lambda: rule.search_flops(mod, 2, 20, 2, 8, "deflation"))


def _closed(make):
    """Call ``make()``, close every figure it opened, and return what it returned (a figure: 0)."""
    import matplotlib.pyplot as plt

    before = set(plt.get_fignums())
    try:
        out = make()
    finally:
        for num in set(plt.get_fignums()) - before:
            plt.close(num)
    return 0 if hasattr(out, "savefig") or out is None else out


def _figure_cases(bad, good) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from modscale_lib import methods, present as pl, tasks

    def fbad(module, func, name, values, call):
        bad(module, func, name, values, lambda v: _closed(lambda: call(v)))

    def fgood(module, func, what, call):
        good(module, func, what, lambda: _closed(call))

    P = "present"

    def restored(call):
        state, options = dict(matplotlib.rcParams), np.get_printoptions()
        try:
            return _closed(call)
        finally:
            matplotlib.rcParams.update(state)
            np.set_printoptions(**options)

    good(P, "use_style", "no arguments", lambda: restored(pl.use_style))
    good(P, "setup_notebook", "outside IPython", lambda: restored(pl.setup_notebook))
    bad(P, "table", "columns", [{"a": [1], "b": [1, 2]}, [[1, 2]], {"a": 3}, {"a": "xyz"}], lambda v: pl.table(v))
    bad(P, "table", "formats", [{"zzz": ".1f"}, {"a": 3}, [".1f"]], lambda v: pl.table({"a": [1.0]}, formats=v))
    bad(P, "table", "caption", [3, ["a"]], lambda v: pl.table({"a": [1.0]}, caption=v))
    good(P, "table", "NaN and inf cells", lambda: len(pl.table({"a": [NAN, INF], "b": np.array([1, 2])}).data))
    fbad(P, "subplots", "nrows", [0, -1, 2.5, NAN, 10**6], lambda v: pl.subplots(v))
    fbad(P, "subplots", "width", [0.0, NAN, -1.0, INF], lambda v: pl.subplots(width=v))
    fgood(P, "subplots", "2.0 rows", lambda: pl.subplots(2.0)[0])
    fbad(P, "panel_grid", "n", [0, -1, 2.5], lambda v: pl.panel_grid(v, 2, 3.0, 2.0))
    fbad(P, "panel_grid", "columns", [0, NAN], lambda v: pl.panel_grid(3, v, 3.0, 2.0))
    fbad(P, "panel_grid", "height", [0.0, NAN], lambda v: pl.panel_grid(3, 2, 3.0, v))
    fgood(P, "panel_grid", "three panels", lambda: pl.panel_grid(3, 2, 3.0, 2.0)[0])
    x = np.array([10.0, 20.0, 40.0])

    def on_axes(call):
        fig, ax = plt.subplots()
        return call(ax)

    fbad(
        P,
        "theory_and_simulation",
        "theory_y",
        [x[:2]],
        lambda v: on_axes(lambda ax: pl.theory_and_simulation(ax, x, v, x, x, colour="k", label="a")),
    )
    fbad(
        P,
        "theory_and_simulation",
        "sim_y",
        [x[:2], x * INF],
        lambda v: on_axes(lambda ax: pl.theory_and_simulation(ax, x, x, v, x, colour="k", label="a")),
    )
    fbad(
        P,
        "theory_and_simulation",
        "sim_se",
        [x[:1], -x],
        lambda v: on_axes(lambda ax: pl.theory_and_simulation(ax, x, x, x, v, colour="k", label="a")),
    )
    fbad(
        P,
        "theory_and_simulation",
        "x",
        [[NAN, 1.0, 2.0], [0.0, 1.0, 2.0], np.ones((3, 2))],
        lambda v: on_axes(lambda ax: pl.theory_and_simulation(ax, v, x, x, x, colour="k", label="a")),
    )
    fbad(
        P,
        "theory_and_simulation",
        "ax",
        [None, "ax"],
        lambda v: pl.theory_and_simulation(v, x, x, x, x, colour="k", label="a"),
    )
    fgood(
        P,
        "theory_and_simulation",
        "an infinite peak",
        lambda: on_axes(lambda ax: pl.theory_and_simulation(ax, x, [1.0, INF, 1.0], x, x, colour="k", label="a")),
    )

    def grid_axes(call, shape=(2, 2)):
        fig, axes = plt.subplots(*shape, squeeze=False)
        return call(axes)

    fbad(
        P,
        "linear_model_axes",
        "axes",
        [(1, 2), (1, 1)],
        lambda v: grid_axes(lambda axes: pl.linear_model_axes(axes, 5, 10), v),
    )
    fbad(
        P,
        "linear_model_axes",
        "p_fixed",
        [0, NAN, "5"],
        lambda v: grid_axes(lambda axes: pl.linear_model_axes(axes, v, 10)),
    )
    fgood(P, "linear_model_axes", "2 x 2", lambda: grid_axes(lambda axes: pl.linear_model_axes(axes, 5, 10)))
    m = np.array([2.0, 4.0, 8.0])
    fbad(
        P,
        "modular_theory_figure",
        "floor",
        [m[:2], [NAN, 0.1, 0.2]],
        lambda v: pl.modular_theory_figure(m, v, 0.1, m, m, m),
    )
    fbad(
        P,
        "modular_theory_figure",
        "n_random",
        [m[:1], -m, [NAN] * 3],
        lambda v: pl.modular_theory_figure(m, m, 0.1, m, m, v),
    )
    fbad(P, "modular_theory_figure", "target", [NAN, 0.0, "x"], lambda v: pl.modular_theory_figure(m, m, v, m, m, m))
    fgood(
        P,
        "modular_theory_figure",
        "inf samples",
        lambda: pl.modular_theory_figure(m, m * 0.1, 0.1, m, m, [1.0, 2.0, INF]),
    )
    task = tasks.SineWaveTask(3, 1, seed=0)
    fbad(P, "sine_module_figure", "n_points", [0, -1, 2.5, NAN], lambda v: pl.sine_module_figure(task, v))
    fbad(P, "sine_module_figure", "seed", [-1, NAN], lambda v: pl.sine_module_figure(task, 5, v))
    fbad(P, "sine_module_figure", "task", [None, "sine"], lambda v: pl.sine_module_figure(v))
    fgood(P, "sine_module_figure", "20 points", lambda: pl.sine_module_figure(task))
    task2 = tasks.SineWaveTask(4, 2, seed=0)
    X, y = task2.sample(30, seed=0)
    fbad(P, "modules_against_target", "X", [X[:, :3], X * NAN, X[0]], lambda v: pl.modules_against_target(task2, v, y))
    fbad(P, "modules_against_target", "y", [y[:5], y * NAN], lambda v: pl.modules_against_target(task2, X, v))
    fgood(P, "modules_against_target", "a sample", lambda: pl.modules_against_target(task2, X, y))
    cos = np.random.default_rng(0).uniform(0, 1, (2, 3, 2, 2))
    fbad(
        P,
        "recovery_scatter",
        "cos",
        [cos[:1], cos * NAN, cos + 2, cos[..., :0]],
        lambda v: pl.recovery_scatter(v, ["a", "b"]),
    )
    fbad(P, "recovery_scatter", "variants", ["ab", [], [1, 2]], lambda v: pl.recovery_scatter(cos, v))
    fgood(P, "recovery_scatter", "two variants", lambda: pl.recovery_scatter(cos, ["a", "b"]))
    steps = np.arange(4.0)
    score = np.random.default_rng(0).uniform(0, 1, (2, 3, 4))
    ref = {"baseline": (0.2, 0.3), methods.rule("paper"): (0.3, 0.9)}
    fbad(
        P,
        "projection_training_figure",
        "score",
        [score[:, :, :2], score[:, :1], score * NAN],
        lambda v: pl.projection_training_figure(steps, v, score, ["a", "b"], ref),
    )
    fbad(
        P,
        "projection_training_figure",
        "inits",
        [["a"], "ab", ["a"] * 5],
        lambda v: pl.projection_training_figure(steps, score, score, v, ref),
    )
    fbad(
        P,
        "projection_training_figure",
        "reference_similarity",
        [{}, {"baseline": (0.2,)}],
        lambda v: pl.projection_training_figure(steps, score, score, ["a", "b"], v),
    )
    fgood(
        P,
        "projection_training_figure",
        "two inits",
        lambda: pl.projection_training_figure(steps, score, score, ["a", "b"], ref),
    )
    fig, axes = plt.subplots(1, 2)
    plt.close(fig)
    combos = np.array([[1, 2], [3, 4]])
    fbad(
        P,
        "composite_schematic",
        "combos",
        [combos + 9, combos * 0.5, combos[0]],
        lambda v: pl.composite_schematic(axes, v, [str(c) for c in range(10)], [True, False]),
    )
    fbad(
        P,
        "composite_schematic",
        "unseen",
        [[True], [1, 0]],
        lambda v: pl.composite_schematic(axes, combos, [str(c) for c in range(10)], v),
    )
    fbad(
        P,
        "composite_schematic",
        "axes",
        [axes[:1], None],
        lambda v: pl.composite_schematic(v, combos, [str(c) for c in range(10)], [True, False]),
    )
    fbad(
        P,
        "composite_schematic",
        "class_names",
        ["0123456789", []],
        lambda v: pl.composite_schematic(axes, combos, v, [True, False]),
    )
    n_grid = np.array([10.0, 20.0, 40.0])
    dims = np.array([2.0, 4.0])
    labels = ["monolithic", "modular, random"]
    rel = np.random.default_rng(0).uniform(0.1, 1, (1, 2, 2, 3, 3))  # (K, method, m, seed, N)
    fbad(
        P,
        "learning_curves_grid",
        "rel",
        [rel[..., :2], rel[:, :1], rel * INF],
        lambda v: pl.learning_curves_grid(n_grid, v, labels, [2], dims, [0, 1]),
    )
    fbad(
        P,
        "learning_curves_grid",
        "labels",
        [["mlp"], "monolithic"],
        lambda v: pl.learning_curves_grid(n_grid, rel, v, [2], dims, [0, 1]),
    )
    fbad(
        P,
        "learning_curves_grid",
        "columns",
        [[2], [0.5], []],
        lambda v: pl.learning_curves_grid(n_grid, rel, labels, [2], dims, v),
    )
    fbad(
        P,
        "learning_curves_grid",
        "n_grid",
        [[0.0, 1.0, 2.0], n_grid[:2]],
        lambda v: pl.learning_curves_grid(v, rel, labels, [2], dims, [0, 1]),
    )
    fgood(P, "learning_curves_grid", "one K", lambda: pl.learning_curves_grid(n_grid, rel, labels, [2], dims, [0, 1]))
    n_star = np.random.default_rng(0).uniform(10, 40, (1, 2, 2, 3))  # (panel, method, m, seed)
    n_star[0, 0, 0, 0] = INF
    fbad(
        P,
        "samples_needed_figure",
        "n_star",
        [n_star[:, :, :1], n_star * NAN, -n_star],
        lambda v: pl.samples_needed_figure(dims, v, labels, ["t"], n_grid),
    )
    fbad(
        P,
        "samples_needed_figure",
        "titles",
        [["a", "b"], "t"],
        lambda v: pl.samples_needed_figure(dims, n_star, labels, v, n_grid),
    )
    fbad(
        P,
        "samples_needed_figure",
        "input_dims",
        [[2.0], [NAN, 4.0]],
        lambda v: pl.samples_needed_figure(v, n_star, labels, ["t"], n_grid),
    )
    fgood(
        P,
        "samples_needed_figure",
        "a censored seed",
        lambda: pl.samples_needed_figure(dims, n_star, labels, ["t"], n_grid),
    )
    sim = np.random.default_rng(0).uniform(0, 1, (1, 2, 3, 3))  # (K, m, seed, N)
    fbad(
        P,
        "similarity_figure",
        "similarity",
        [sim[..., :1], sim * INF, sim[0]],
        lambda v: pl.similarity_figure(n_grid, v, [2], dims),
    )
    fbad(P, "similarity_figure", "module_counts", [[], [0]], lambda v: pl.similarity_figure(n_grid, sim, v, dims))
    fgood(P, "similarity_figure", "one K", lambda: pl.similarity_figure(n_grid, sim, [2], dims))
    bad(P, "smallest_text_pt", "fig", [None, "fig"], lambda v: pl.smallest_text_pt(v))
    good(P, "smallest_text_pt", "a figure", lambda: restored(lambda: pl.smallest_text_pt(pl.subplots()[0])))


def register(bad, good) -> None:
    """Add this group's cases with ``bad(module, function, parameter, values, call)`` and ``good(...)``."""
    _training_cases(bad, good)
    _figure_cases(bad, good)
