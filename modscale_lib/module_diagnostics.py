"""Diagnostics of a modular network's input projections: how far they moved, how much they overlap, where they look.

A module reads ``U_j^T x`` with ``U_j`` an ``(m, b)`` matrix; only its column span matters, so every measure
here uses the orthonormal basis of that span (QR; a trained ``U_j`` is no longer orthonormal).

* :func:`subspace_overlap` ``(U, V)``: ``||Q_U^T Q_V||_F^2 / b``, the mean squared cosine of the principal
  angles: 1 for the same span, 0 for orthogonal spans, about ``b / m`` for two random spans.
* :func:`movement`: ``1 - overlap(start, end)`` per module: 0 when a projection stayed where it started.
* :func:`pairwise_overlap`: the overlap of every pair of distinct modules of one network (are they distinct?).
* :func:`slot_shares` / :func:`locality`: the share of each projection's squared weight in each image slot of
  a composite, and the largest share (1: the module reads one image; ``1 / k``: spread evenly).

A network reads a composite as its ``k`` images' features joined slot by slot
(:func:`modscale_lib.composites.composite_features`), so slot ``j`` holds features ``3072 j .. 3072 j + 3071``:
:func:`slot_of_feature` gives each feature's slot.
"""

from __future__ import annotations

import numpy as np

from . import composites, core

__all__ = [
    "orthonormal_basis",
    "subspace_overlap",
    "movement",
    "pairwise_overlap",
    "slot_of_feature",
    "slot_shares",
    "locality",
    "summarise",
]


def _basis(U, name: str, ndim: int = 2) -> np.ndarray:
    """:func:`orthonormal_basis` of ``U``, ``name`` naming it in errors; ``ndim``: the least number of axes."""
    U = core.array(U, name)
    if U.ndim < ndim or U.shape[-1] > U.shape[-2] or U.shape[-1] < 1 or U.size == 0:
        want = "(..., K, m, b)" if ndim > 2 else "(..., m, b)"
        raise ValueError(f"{name} must have shape {want} with 1 <= b <= m and no empty axis, got {U.shape}")
    if np.abs(np.swapaxes(U, -1, -2) @ U - np.eye(U.shape[-1])).max() < 1e-5:
        return U  # already orthonormal (to float32 rounding): the QR would cost seconds for nothing
    Q, R = np.linalg.qr(U)
    diag = np.abs(np.diagonal(R, axis1=-2, axis2=-1))
    if np.any(diag <= 1e-12 * np.maximum(diag.max(axis=-1, keepdims=True), 1e-300)):
        raise ValueError(f"{name} must have linearly independent columns in each matrix (a span of dimension b)")
    return Q


def orthonormal_basis(U) -> np.ndarray:
    """An orthonormal basis of the column span of each ``(..., m, b)`` matrix, float64, same shape (``U`` itself when
    its columns are orthonormal to within ``1e-5``). ``U`` must be finite, with independent columns."""
    return _basis(U, "U")


def _overlap(Q: np.ndarray, R: np.ndarray, names: str) -> np.ndarray:
    if Q.shape != R.shape:
        raise ValueError(f"{names} must have the same shape, got {Q.shape} and {R.shape}")
    return ((np.swapaxes(Q, -1, -2) @ R) ** 2).sum(axis=(-2, -1)) / Q.shape[-1]


def subspace_overlap(U, V) -> np.ndarray:
    """``||Q_U^T Q_V||_F^2 / b`` for matching ``(..., m, b)`` stacks: in [0, 1], shape ``(...)``."""
    return _overlap(_basis(U, "U"), _basis(V, "V"), "U and V")


def movement(start, end) -> np.ndarray:
    """``1 - subspace_overlap(start, end)`` per module, ``(..., K)`` for ``(..., K, m, b)`` projections."""
    return 1.0 - _overlap(_basis(start, "start"), _basis(end, "end"), "start and end")


def pairwise_overlap(U) -> np.ndarray:
    """The overlap of every pair ``i < j`` of the ``K`` modules in ``(..., K, m, b)``: ``(..., K (K - 1) / 2)``."""
    return _pairs(_basis(U, "U", ndim=3))


def _pairs(Q: np.ndarray) -> np.ndarray:
    *lead, K, m, b = Q.shape
    flat = np.swapaxes(Q, -3, -2).reshape(*lead, m, K * b)  # every module's columns side by side
    cross = (np.swapaxes(flat, -1, -2) @ flat).reshape(*lead, K, b, K, b)  # one product (BLAS), not einsum's loops
    gram = (cross**2).sum(axis=(-3, -1)) / b
    i, j = np.triu_indices(K, k=1)
    return gram[..., i, j]


def slot_of_feature(k: int) -> np.ndarray:
    """The image slot (0..k-1) of each of the ``3072 k`` features of a composite (slot-major, as
    :func:`modscale_lib.composites.composite_features` lays them out)."""
    return composites.slot_of_feature(k)


def slot_shares(U, k: int) -> np.ndarray:
    """The share of each projection's squared weight in each slot: ``(..., k)`` for ``(..., m, b)``, rows sum to 1.

    Measured on the orthonormal basis, so the result describes the span the module reads, not its scaling.
    """
    slots = slot_of_feature(k)
    return _shares(_basis(U, "U"), slots, "U")


def _shares(Q: np.ndarray, slots: np.ndarray, name: str) -> np.ndarray:
    k = int(slots.max()) + 1
    if Q.shape[-2] != slots.size:
        raise ValueError(f"{name} has {Q.shape[-2]} rows, but a composite of k={k} images has {slots.size} features")
    weight = (Q**2).sum(axis=-1)  # (..., m)
    shares = np.stack([weight[..., slots == s].sum(axis=-1) for s in range(k)], axis=-1)
    return shares / shares.sum(axis=-1, keepdims=True)


def locality(U, k: int) -> np.ndarray:
    """The largest slot share of each projection, ``(...)``: 1 for a module that reads one image, ``1/k`` at least."""
    return slot_shares(U, k).max(axis=-1)


def summarise(start, end, k: int) -> dict:
    """Means over modules for one network's ``(K, m, b)`` projections ``start`` and ``end``: ``moved``
    (mean movement), ``overlap_start``/``overlap_end`` (mean pairwise overlap; NaN for one module),
    ``overlap_end_max``, ``local_start``/``local_end`` (mean locality)."""
    slots = slot_of_feature(k)
    Qs, Qe = _basis(start, "start", ndim=3), _basis(end, "end", ndim=3)
    moved = 1.0 - _overlap(Qs, Qe, "start and end")
    pairs_start, pairs_end = _pairs(Qs), _pairs(Qe)
    mean = lambda a: float(a.mean()) if a.size else float("nan")
    return {
        "moved": float(moved.mean()),
        "overlap_start": mean(pairs_start),
        "overlap_end": mean(pairs_end),
        "overlap_end_max": float(pairs_end.max()) if pairs_end.size else float("nan"),
        "local_start": float(_shares(Qs, slots, "start").max(axis=-1).mean()),
        "local_end": float(_shares(Qe, slots, "end").max(axis=-1).mean()),
    }


# Read-outs of the Compositional CIFAR-10 results for the chapter ----------------------------------------------------
__all__ += [
    "ci",
    "number",
    "ci_text",
    "paired_gain",
    "headline",
    "describe_arch",
    "accuracy_table",
    "paired_table",
    "diagnostics_table",
    "tuning_table",
    "epoch_table",
    "robustness_table",
]


def _names(value, name: str, size: int, of: str) -> list:
    """A sequence of ``size`` names (strings), one per method of ``of``."""
    if isinstance(value, (str, bytes)) or not isinstance(value, (list, tuple, np.ndarray)):
        raise TypeError(f"{name} must be a sequence of names, got {type(value).__name__}")
    if not all(isinstance(v, str) for v in value) or len(value) != size:
        raise ValueError(f"{name} must hold one name (a string) per method of {of} ({size}), got {list(value)!r}"[:300])
    return list(value)


def _study(acc, names, k_grid, ndim: int, acc_name: str = "acc") -> tuple[np.ndarray, list, list]:
    """``acc`` (method, k, seed, ...) of ``ndim`` axes as float64 (NaN: not trained), ``names`` one per method
    and ``k_grid`` one whole number per k."""
    acc = core.array(acc, acc_name, ndim=ndim, finite=False)
    names = _names(names, "names", acc.shape[0], acc_name)
    k_grid = core.whole_array(k_grid, "k_grid", low=1, ndim=1)
    if k_grid.size != acc.shape[1]:
        raise ValueError(f"k_grid must hold one k per column of {acc_name} ({acc.shape[1]}), got {k_grid.size}")
    return acc, names, [int(k) for k in k_grid]


def ci(values, axis: int = -1):
    """``(mean, low, high)`` of ``values`` over ``axis`` (the seeds): a 95% percentile-bootstrap interval."""
    from .core import bootstrap_ci

    return bootstrap_ci(values, axis=axis)


def number(x, digits: int = 3) -> str:
    """``x`` with ``digits`` decimals, or with as many more (up to 8) as it takes to show its first nonzero
    digit, so that a small value never reads ``"0.000"`` or ``"-0.000"``; exactly 0 stays ``"0.000"``."""
    x = core.real(x, "x", allow_inf=True)
    digits = core.whole(digits, "digits", low=0, high=8)
    for d in range(digits, 9):
        text = f"{x:.{d}f}"
        if x == 0 or text.strip("-0.") or d == 8:
            return "0." + "0" * digits if x == 0 else text


def ci_text(mean, low, high, digits: int = 3) -> str:
    """``"0.412 [0.401, 0.420]"`` (each value by :func:`number`); ``"n/a"`` for NaN."""
    mean = float(core.array(mean, "mean", ndim=0, finite=False))
    digits = core.whole(digits, "digits", low=0, high=8)
    if not np.isfinite(mean):
        return "n/a"
    low, high = core.real(low, "low", allow_inf=True), core.real(high, "high", allow_inf=True)
    return f"{number(mean, digits)} [{number(low, digits)}, {number(high, digits)}]"


def paired_gain(acc, better: int, than: int):
    """``acc[better] - acc[than]`` per k, paired by seed (same data draw): ``(mean, low, high)`` each (k,), and
    a verdict per k: "higher" or "lower" when the 95% interval excludes 0, "n/a" where either was not trained
    (NaN, e.g. a rule outside the config's ``rule_ks``), else "no difference"."""
    acc = core.array(acc, "acc", ndim=(2, 3, 4), finite=False)
    better = core.whole(better, "better", low=0, high=acc.shape[0] - 1)
    than = core.whole(than, "than", low=0, high=acc.shape[0] - 1)
    mean, low, high = ci(acc[better] - acc[than])
    verdict = np.where(
        ~np.isfinite(mean), "n/a", np.where(low > 0, "higher", np.where(high < 0, "lower", "no difference"))
    )
    return mean, low, high, verdict


def headline(acc, names, k_grid, k: int, method: str) -> str:
    """``"k=<k> <method>: <acc> [95% CI <lo>, <hi>]"`` from ``acc`` (method, k, seed)."""
    acc, names, k_grid = _study(acc, names, k_grid, 3)
    method, k = core.choice(method, "method", names), core.whole(k, "k", low=1)
    if k not in k_grid:
        raise ValueError(f"k must be one of k_grid {k_grid}, got {k}")
    mean, low, high = ci(acc[names.index(method), k_grid.index(k)])
    return f"k={k} {method}: {mean:.3f} [95% CI {low:.3f}, {high:.3f}]"


def describe_arch(arch: dict) -> str:
    """A network's shape in a few words: ``"MLP, 2 x 1024"`` or ``"16 modules of 32, hidden 256"``."""
    family = core.entries(arch, ("family",), "arch")["family"]
    core.entries(
        arch, ("depth", "width") if family == "monolithic" else ("n_modules", "module_dim", "module_width"), "arch"
    )
    if arch["family"] == "monolithic":
        return f"MLP, {arch['depth']} x {arch['width']}"
    return f"{arch['n_modules']} modules of {arch['module_dim']}, hidden {arch['module_width']}"


def _setting(res, k: int, method: str) -> dict:
    found = [s for s in res["settings"] if s["k"] == k and s["method"] == method]
    if not found:
        raise ValueError(f"res['settings'] must hold the setting of {method!r} at k = {k}")
    return found[0]


def _accuracy_inputs(res, names, k_grid, key, epoch) -> tuple[np.ndarray, int]:
    """:func:`accuracy_table`'s accuracies after ``epoch`` (method, k, seed), checked against ``names`` and
    ``k_grid``, and the composites each network saw (from ``res.config``)."""
    entries = core.entries(res, ("flops", "search_flops", "params", "settings"))
    try:
        entries[key] = res[key]
    except (KeyError, TypeError) as exc:
        raise ValueError(f"key must name an accuracy of res, got {key!r}") from exc
    config = getattr(res, "config", None)
    if not hasattr(config, "get") or not {"n_train", "epochs"} <= set(config):
        raise TypeError(f"res must be a stored result whose config holds n_train and epochs, got {type(res).__name__}")
    acc, _, _ = _study(entries[key], names, k_grid, 4, f"res[{key!r}]")
    epoch = core.whole(epoch, "epoch", low=-acc.shape[-1], high=acc.shape[-1] - 1)
    return acc[..., epoch], res.config["n_train"] * res.config["epochs"]


def accuracy_table(res, names, k_grid, key: str = "acc_seen", epoch: int = 0) -> dict:
    """One row per k and method: the network, its step, parameters, training operations per composite, the rule's
    search, the whole training's operations (every composite of every epoch, and the search), and mean [95% CI]
    over seeds of ``res[key]`` after ``epoch``. A method not trained at a k (all NaN) has no row there."""
    rows = {
        "k": [],
        "method": [],
        "network": [],
        "step": [],
        "parameters": [],
        "MFLOP per composite": [],
        "rule's search (GFLOP)": [],
        "training in all (TFLOP)": [],
        "test accuracy per image": [],
    }
    acc, composites_seen = _accuracy_inputs(res, names, k_grid, key, epoch)
    for a, k in enumerate(k_grid):
        for i, name in enumerate(names):
            if not np.isfinite(acc[i, a]).any():
                continue
            s = _setting(res, int(k), name)
            flops, search = float(res["flops"][i, a]), float(res["search_flops"][i, a])
            values = (
                int(k),
                name,
                describe_arch(s["arch"]),
                s["lr"],
                int(res["params"][i, a]),
                flops / 1e6,
                search / 1e9,
                (flops * composites_seen + search) / 1e12,
                ci_text(*ci(acc[i, a])),
            )
            for column, value in zip(rows, values):
                rows[column].append(value)
    return rows


def paired_table(acc, names, k_grid, pairs) -> dict:
    """For each ``(better, than)`` pair of method names and each k: ``acc[better] - acc[than]`` (``acc``: method,
    k, seed), paired by seed, mean [95% CI] and the verdict of :func:`paired_gain`."""
    acc, names, k_grid = _study(acc, names, k_grid, 3)
    if isinstance(pairs, (str, bytes)) or not isinstance(pairs, (list, tuple)):
        raise TypeError(f"pairs must be a list of (better, than) method names, got {type(pairs).__name__}")
    for pair in pairs:
        if not isinstance(pair, (list, tuple)) or len(pair) != 2 or any(p not in names for p in pair):
            raise ValueError(f"pairs must hold (better, than) pairs of names {names}, got {pair!r}")
    rows = {"comparison": [], "k": [], "difference": [], "verdict": []}
    for better, than in pairs:
        mean, low, high, verdict = paired_gain(acc, list(names).index(better), list(names).index(than))
        for a, k in enumerate(k_grid):
            values = (f"{better} - {than}", int(k), ci_text(mean[a], low[a], high[a]), str(verdict[a]))
            for column, value in zip(rows, values):
                rows[column].append(value)
    return rows


def diagnostics_table(res, names, k_grid, random: str) -> dict:
    """One row per modular method and k: the rule's objective on held-out composites at the starting projections
    (and at slot-local ones), the start's objective minus the random network's paired by seed, mean locality
    and pairwise overlap before and after training, and how far the rule and training moved the projections.
    Every entry is mean [95% CI] over seeds; a method not trained at a k (its objective all NaN) has no row there."""
    columns = {
        "objective": "objective",
        "objective, slot-local": "objective_slot_local",
        "locality before training": "local_start",
        "locality after training": "local_end",
        "overlap before training": "overlap_start",
        "overlap after training": "overlap_end",
        "moved by the rule": "moved_by_rule",
        "moved by training": "moved_by_training",
    }
    _study(core.entries(res, ["diag_objective"])["diag_objective"], names, k_grid, 3, "res['diag_objective']")
    core.entries(res, [f"diag_{key}" for key in columns.values()])
    r = list(names).index(core.choice(random, "random", list(names)))
    rows = {"method": [], "k": [], **{c: [] for c in columns}, "objective minus random's": []}
    for i, name in enumerate(names):
        if not np.isfinite(np.asarray(res["diag_objective"])[i]).any():
            continue  # the MLP has no projections
        for a, k in enumerate(k_grid):
            if not np.isfinite(np.asarray(res["diag_objective"])[i, a]).any():
                continue
            rows["method"].append(name)
            rows["k"].append(int(k))
            for column, key in columns.items():
                rows[column].append(ci_text(*ci(np.asarray(res[f"diag_{key}"])[i, a]), digits=3))
            gap = np.asarray(res["diag_objective"])[i, a] - np.asarray(res["diag_objective"])[r, a]
            rows["objective minus random's"].append("n/a" if i == r else ci_text(*ci(gap)))
    return rows


def _records(value, name: str, keys) -> None:
    """A list of dicts (a search's records), each holding ``keys``."""
    if isinstance(value, (str, bytes)) or not isinstance(value, (list, tuple)):
        raise TypeError(f"{name} must be a list of records (dicts), got {type(value).__name__}")
    for i, record in enumerate(value):
        core.entries(record, keys, f"{name}[{i}]")


def tuning_table(choices, runs) -> dict:
    """One row per k and method of a ``compositional_tuning`` result: the chosen network, step and (for the rule)
    turn; the chosen run's validation accuracy (n/a where no run trained exactly that network) or, for the rule,
    its objective on validation composites; how many runs the search made; and which coordinates ended at an edge
    of what was tried (the cost cap, or the widening's limit)."""
    _records(choices, "choices", ("k", "method", "arch", "lr", "angle", "edges"))
    for i, c in enumerate(choices):
        core.entries(c["arch"], ("family",), f"choices[{i}]['arch']")
    _records(runs, "runs", ("k", "method", "score"))
    rows = {
        "k": [],
        "method": [],
        "network": [],
        "step": [],
        "turn": [],
        "validation accuracy": [],
        "validation objective": [],
        "runs": [],
        "at an edge": [],
    }
    for c in sorted(choices, key=lambda c: (c["k"], c["method"] != "monolithic")):
        mine = [r for r in runs if r["k"] == c["k"] and r["method"] == c["method"]]
        rule = c["angle"] is not None
        trained = [
            r["score"]
            for r in runs
            if not rule and "angle" not in r and r["k"] == c["k"] and r["arch"] == c["arch"] and r["lr"] == c["lr"]
        ]
        searched = [-r["score"] for r in mine if rule and r["angle"] == c["angle"]]
        values = (
            c["k"],
            c["method"],
            describe_arch(c["arch"]),
            c["lr"],
            f"{c['angle']:g}" if rule else "",
            trained[0] if trained else float("nan"),
            searched[0] if searched else float("nan"),
            len(mine),
            ", ".join(name for name, edge in c["edges"].items() if edge) or "none",
        )
        for column, value in zip(rows, values):
            rows[column].append(value)
    return rows


def epoch_table(acc, names, k_grid) -> dict:
    """One row per method and k of ``acc`` (method, k, seed, epoch): mean [95% CI] over seeds after each epoch,
    and the last epoch's gain over the one before, paired by seed, with its interval."""
    acc, names, k_grid = _study(acc, names, k_grid, 4)
    mean, low, high = ci(acc, axis=2)  # (method, k, epoch)
    step = ci(acc[..., -1] - acc[..., -2]) if acc.shape[-1] > 1 else None
    rows = {"method": [], "k": [], **{f"epoch {e + 1}": [] for e in range(acc.shape[-1])}, "last-epoch gain": []}
    for i, name in enumerate(names):
        for a, k in enumerate(k_grid):
            rows["method"].append(name)
            rows["k"].append(int(k))
            for e in range(acc.shape[-1]):
                rows[f"epoch {e + 1}"].append(ci_text(mean[i, a, e], low[i, a, e], high[i, a, e]))
            rows["last-epoch gain"].append("n/a" if step is None else ci_text(*(s[i, a] for s in step)))
    return rows


def robustness_table(res, names, k_grid, tests: dict, epoch: int = 0) -> dict:
    """One row per k >= 2 and method: each test's accuracy minus the same network's on seen combinations, paired by
    seed, mean [95% CI]; ``tests`` maps a column's name to a result key (e.g. ``{"unseen": "acc_unseen"}``). A
    method not trained at a k has no row there."""
    if not hasattr(tests, "items") or not all(isinstance(v, str) for v in tests.values()):
        raise TypeError(f"tests must be a dict {{column name: result key}}, got {tests!r}"[:300])
    entries = core.entries(res, ["acc_seen", *tests.values()])
    seen, names, k_grid = _study(entries["acc_seen"], names, k_grid, 4, "res['acc_seen']")
    for key in tests.values():
        core.array(entries[key], f"res[{key!r}]", shape=seen.shape, finite=False)
    epoch = core.whole(epoch, "epoch", low=-seen.shape[-1], high=seen.shape[-1] - 1)
    seen = seen[..., epoch]
    rows = {"k": [], "method": [], **{f"{name} minus seen": [] for name in tests}}
    for a, k in enumerate(k_grid):
        if k < 2:
            continue
        for i, name in enumerate(names):
            if not np.isfinite(seen[i, a]).any():
                continue
            rows["k"].append(int(k))
            rows["method"].append(name)
            for test, key in tests.items():
                rows[f"{test} minus seen"].append(ci_text(*ci(np.asarray(res[key])[i, a, :, epoch] - seen[i, a])))
    return rows
