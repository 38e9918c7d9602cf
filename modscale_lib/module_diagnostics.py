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


def orthonormal_basis(U) -> np.ndarray:
    """An orthonormal basis of the column span of each ``(..., m, b)`` matrix, float64, same shape (``U`` itself when
    its columns are orthonormal to within ``1e-5``)."""
    U = np.asarray(core.as_numpy(U), dtype=np.float64)
    if U.ndim < 2 or U.shape[-1] > U.shape[-2] or U.shape[-1] < 1:
        raise ValueError(f"U must have shape (..., m, b) with 1 <= b <= m, got {U.shape}")
    if not np.all(np.isfinite(U)):
        raise ValueError("U must be finite")
    if np.abs(np.swapaxes(U, -1, -2) @ U - np.eye(U.shape[-1])).max() < 1e-5:
        return U  # already orthonormal (to float32 rounding): the QR would cost seconds for nothing
    Q, _ = np.linalg.qr(U)
    return Q


def subspace_overlap(U, V) -> np.ndarray:
    """``||Q_U^T Q_V||_F^2 / b`` for matching ``(..., m, b)`` stacks: in [0, 1], shape ``(...)``."""
    Q, R = orthonormal_basis(U), orthonormal_basis(V)
    if Q.shape != R.shape:
        raise ValueError(f"U and V must have the same shape, got {Q.shape} and {R.shape}")
    return ((np.swapaxes(Q, -1, -2) @ R) ** 2).sum(axis=(-2, -1)) / Q.shape[-1]


def movement(start, end) -> np.ndarray:
    """``1 - subspace_overlap(start, end)`` per module, ``(..., K)`` for ``(..., K, m, b)`` projections."""
    return 1.0 - subspace_overlap(start, end)


def pairwise_overlap(U) -> np.ndarray:
    """The overlap of every pair ``i < j`` of the ``K`` modules in ``(..., K, m, b)``: ``(..., K (K - 1) / 2)``."""
    Q = orthonormal_basis(U)
    if Q.ndim < 3:
        raise ValueError(f"U must have shape (..., K, m, b), got {Q.shape}")
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
    Q = orthonormal_basis(U)
    slots = slot_of_feature(k)
    if Q.shape[-2] != slots.size:
        raise ValueError(f"U has {Q.shape[-2]} rows, but a composite of k={k} images has {slots.size} features")
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
    pairs_start, pairs_end = pairwise_overlap(start), pairwise_overlap(end)
    mean = lambda a: float(a.mean()) if a.size else float("nan")
    return {
        "moved": float(movement(start, end).mean()),
        "overlap_start": mean(pairs_start),
        "overlap_end": mean(pairs_end),
        "overlap_end_max": float(pairs_end.max()) if pairs_end.size else float("nan"),
        "local_start": float(locality(start, k).mean()),
        "local_end": float(locality(end, k).mean()),
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


def ci(values, axis: int = -1):
    """``(mean, low, high)`` of ``values`` over ``axis`` (the seeds): a 95% percentile-bootstrap interval."""
    from .metrics import bootstrap_ci

    return bootstrap_ci(values, axis=axis)


def number(x, digits: int = 3) -> str:
    """``x`` with ``digits`` decimals, or with as many more (up to 8) as it takes to show its first nonzero
    digit, so that a small value never reads ``"0.000"`` or ``"-0.000"``; exactly 0 stays ``"0.000"``."""
    x = float(x)
    for d in range(digits, 9):
        text = f"{x:.{d}f}"
        if x == 0 or text.strip("-0.") or d == 8:
            return "0." + "0" * digits if x == 0 else text


def ci_text(mean, low, high, digits: int = 3) -> str:
    """``"0.412 [0.401, 0.420]"`` (each value by :func:`number`); ``"n/a"`` for NaN."""
    if not np.isfinite(mean):
        return "n/a"
    return f"{number(mean, digits)} [{number(low, digits)}, {number(high, digits)}]"


def paired_gain(acc, better: int, than: int):
    """``acc[better] - acc[than]`` per k, paired by seed (same data draw): ``(mean, low, high)`` each (k,), and
    a verdict per k: "higher" or "lower" when the 95% interval excludes 0, "n/a" where either was not trained
    (NaN, e.g. a rule outside the config's ``rule_ks``), else "no difference"."""
    mean, low, high = ci(np.asarray(acc)[better] - np.asarray(acc)[than])
    verdict = np.where(
        ~np.isfinite(mean), "n/a", np.where(low > 0, "higher", np.where(high < 0, "lower", "no difference"))
    )
    return mean, low, high, verdict


def headline(acc, names, k_grid, k: int, method: str) -> str:
    """``"k=<k> <method>: <acc> [95% CI <lo>, <hi>]"`` from ``acc`` (method, k, seed)."""
    mean, low, high = ci(np.asarray(acc)[list(names).index(method), list(k_grid).index(k)])
    return f"k={k} {method}: {mean:.3f} [95% CI {low:.3f}, {high:.3f}]"


def describe_arch(arch: dict) -> str:
    """A network's shape in a few words: ``"MLP, 2 x 1024"`` or ``"16 modules of 32, hidden 256"``."""
    if arch["family"] == "monolithic":
        return f"MLP, {arch['depth']} x {arch['width']}"
    return f"{arch['n_modules']} modules of {arch['module_dim']}, hidden {arch['module_width']}"


def _setting(res, k: int, method: str) -> dict:
    return next(s for s in res["settings"] if s["k"] == k and s["method"] == method)


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
    acc = np.asarray(res[key])[..., epoch]
    composites_seen = res.config["n_train"] * res.config["epochs"]
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
    rows = {"method": [], "k": [], **{c: [] for c in columns}, "objective minus random's": []}
    r = list(names).index(random)
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


def tuning_table(choices, runs) -> dict:
    """One row per k and method of a ``compositional_tuning`` result: the chosen network, step and (for the rule)
    turn; the chosen run's validation accuracy (n/a where no run trained exactly that network) or, for the rule,
    its objective on validation composites; how many runs the search made; and which coordinates ended at an edge
    of what was tried (the cost cap, or the widening's limit)."""
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
    acc = np.asarray(acc, dtype=np.float64)
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
    seen = np.asarray(res["acc_seen"])[..., epoch]
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
