"""Diagnostics of a modular network's input projections: how far they moved, how much they overlap, where they look.

A module reads ``U_j^T x`` with ``U_j`` an ``(m, b)`` matrix; only its column span matters, so every measure
here uses the orthonormal basis of that span (QR; a trained ``U_j`` is no longer orthonormal).

* :func:`subspace_overlap` ``(U, V)``: ``||Q_U^T Q_V||_F^2 / b``, the mean squared cosine of the principal
  angles: 1 for the same span, 0 for orthogonal spans, about ``b / m`` for two random spans.
* :func:`movement`: ``1 - overlap(start, end)`` per module: 0 when a projection stayed where it started.
* :func:`pairwise_overlap`: the overlap of every pair of distinct modules of one network (are they distinct?).
* :func:`slot_shares` / :func:`locality`: the share of each projection's squared weight in each image slot of
  a composite, and the largest share (1: the module reads one image; ``1 / k``: spread evenly).

Composite images are ``(32, 32 k, 3)`` flattened row by row (``data.to_features``), so slot ``j`` holds the
columns ``32 j .. 32 j + 31`` of every pixel row: :func:`slot_of_feature` gives each feature's slot.
"""
from __future__ import annotations

import numpy as np

from . import validation

__all__ = ["orthonormal_basis", "subspace_overlap", "movement", "pairwise_overlap", "slot_of_feature",
           "slot_shares", "locality", "summarise"]


def orthonormal_basis(U) -> np.ndarray:
    """An orthonormal basis of the column span of each ``(..., m, b)`` matrix, float64, same shape."""
    U = np.asarray(validation.as_numpy(U), dtype=np.float64)
    if U.ndim < 2 or U.shape[-1] > U.shape[-2] or U.shape[-1] < 1:
        raise ValueError(f"U must have shape (..., m, b) with 1 <= b <= m, got {U.shape}")
    if not np.all(np.isfinite(U)):
        raise ValueError("U must be finite")
    Q, _ = np.linalg.qr(U)
    return Q


def subspace_overlap(U, V) -> np.ndarray:
    """``||Q_U^T Q_V||_F^2 / b`` for matching ``(..., m, b)`` stacks: in [0, 1], shape ``(...)``."""
    Q, R = orthonormal_basis(U), orthonormal_basis(V)
    if Q.shape != R.shape:
        raise ValueError(f"U and V must have the same shape, got {Q.shape} and {R.shape}")
    return (np.einsum("...mb,...mc->...bc", Q, R) ** 2).sum(axis=(-2, -1)) / Q.shape[-1]


def movement(start, end) -> np.ndarray:
    """``1 - subspace_overlap(start, end)`` per module, ``(..., K)`` for ``(..., K, m, b)`` projections."""
    return 1.0 - subspace_overlap(start, end)


def pairwise_overlap(U) -> np.ndarray:
    """The overlap of every pair ``i < j`` of the ``K`` modules in ``(..., K, m, b)``: ``(..., K (K - 1) / 2)``."""
    Q = orthonormal_basis(U)
    if Q.ndim < 3:
        raise ValueError(f"U must have shape (..., K, m, b), got {Q.shape}")
    K = Q.shape[-3]
    gram = (np.einsum("...imb,...jmc->...ijbc", Q, Q) ** 2).sum(axis=(-2, -1)) / Q.shape[-1]
    i, j = np.triu_indices(K, k=1)
    return gram[..., i, j]


def slot_of_feature(k: int, height: int = 32, width: int = 32, channels: int = 3) -> np.ndarray:
    """The image slot (0..k-1) of each of the ``height * width * k * channels`` features of a composite."""
    k = validation.whole(k, "k", low=1)
    column = np.arange(width * k)
    slots = np.broadcast_to((column // width)[None, :, None], (height, width * k, channels))
    return slots.reshape(-1)


def slot_shares(U, k: int) -> np.ndarray:
    """The share of each projection's squared weight in each slot: ``(..., k)`` for ``(..., m, b)``, rows sum to 1.

    Measured on the orthonormal basis, so the result describes the span the module reads, not its scaling.
    """
    Q = orthonormal_basis(U)
    slots = slot_of_feature(k)
    if Q.shape[-2] != slots.size:
        raise ValueError(f"U has {Q.shape[-2]} rows, but a composite of k={k} images has {slots.size} features")
    weight = (Q ** 2).sum(axis=-1)                      # (..., m)
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
    mean = (lambda a: float(a.mean()) if a.size else float("nan"))
    return {"moved": float(movement(start, end).mean()), "overlap_start": mean(pairs_start),
            "overlap_end": mean(pairs_end), "overlap_end_max": float(pairs_end.max()) if pairs_end.size else
            float("nan"), "local_start": float(locality(start, k).mean()), "local_end": float(locality(end, k).mean())}


# Summaries of the Compositional CIFAR-10 results for the chapter ------------------------------------------------
__all__ += ["ci", "number", "ci_text", "ci_lines", "paired_gain", "robustness", "diagnostics_table", "limits_table"]


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


def ci_lines(acc, names, k_grid) -> list[str]:
    """``k=<k> <method>: <acc> [95% CI <lo>, <hi>]`` for each k and method of ``acc`` (method, k, seed);
    (method, k) pairs without a measurement are left out."""
    mean, low, high = ci(acc)
    return [f"k={k} {name}: {mean[i, a]:.3f} [95% CI {low[i, a]:.3f}, {high[i, a]:.3f}]"
            for a, k in enumerate(k_grid) for i, name in enumerate(names) if np.isfinite(mean[i, a])]


def paired_gain(acc, better: int, than: int):
    """``acc[better] - acc[than]`` per k, paired by seed (same data draw): ``(mean, low, high)`` each (k,), and
    a verdict per k: "higher" or "lower" when the 95% interval excludes 0, else "no difference"."""
    mean, low, high = ci(np.asarray(acc)[better] - np.asarray(acc)[than])
    verdict = np.where(low > 0, "higher", np.where(high < 0, "lower", "no difference"))
    return mean, low, high, verdict


def robustness(res, names, columns, k_mask, epoch: int = 0) -> dict:
    """A table (dict of columns) with one row per method: for each result array in ``columns`` (a dict
    header -> key, e.g. ``{"unseen": "acc_unseen"}``), the mean over the k of ``k_mask`` of each seed's
    accuracy, with its 95% interval over seeds."""
    out = {"method": list(names)}
    for header, key in columns.items():
        per_seed = np.asarray(res[key])[..., epoch][:, np.asarray(k_mask)].mean(axis=1)    # (method, seed)
        mean, low, high = ci(per_seed)
        out[header] = [ci_text(*t) for t in zip(mean, low, high)]
    return out


def diagnostics_table(res, names, k_grid, module_dim: int) -> dict:
    """One row per modular method and k: movement by the rule and by training, mean pairwise overlap of the
    modules before training (the rule's output, or the random start) and after it, beside two random spans'
    ``b / (3072 k)``, and mean locality after training beside ``1 / k`` (spread evenly). Means over seeds."""
    rows = {"method": [], "k": [], "moved by the rule": [], "moved by training": [], "overlap before training": [],
            "overlap after training": [], "random spans": [], "locality": [], "spread evenly": []}
    mean = {key: _seed_mean(res[f"diag_{key}"]) for key in ("moved_by_rule", "moved_by_training", "overlap_start",
                                                               "overlap_end", "local_end")}
    for i, name in enumerate(names):
        if not np.isfinite(np.asarray(res["diag_local_end"])[i]).any():
            continue   # the monolithic network has no projections
        for a, k in enumerate(k_grid):
            values = (name, int(k), mean["moved_by_rule"][i, a], mean["moved_by_training"][i, a],
                      mean["overlap_start"][i, a], mean["overlap_end"][i, a], module_dim / (3072 * k),
                      mean["local_end"][i, a], 1 / k)
            for column, value in zip(rows, values):
                rows[column].append(value)
    return rows


def _seed_mean(values) -> np.ndarray:
    """The mean over the last axis leaving NaNs out; NaN (without a warning) where all are NaN."""
    a = np.asarray(values, dtype=np.float64)
    count = np.isfinite(a).sum(axis=-1)
    total = np.where(np.isfinite(a), a, 0.0).sum(axis=-1)
    return np.where(count > 0, total / np.maximum(count, 1), np.nan)


def limits_table(settings) -> dict:
    """A table of the limits study: ``settings`` maps a label to ``(config, per-seed accuracies)``; one row per
    setting with its width, Adam step, minibatch, images per epoch, epochs, seeds and mean [95% CI]."""
    rows = {"setting": [], "width": [], "Adam step": [], "minibatch": [], "images per epoch": [], "epochs": [],
            "seeds": [], "test accuracy per image": []}
    for label, (cfg, acc) in settings.items():
        acc = np.asarray(acc, dtype=np.float64)
        values = (label, cfg.modules_per_position * cfg.module_dim, cfg.lr, cfg.batch_size, cfg.n_train, cfg.epochs,
                  int(np.isfinite(acc).sum()), ci_text(*ci(acc)))
        for column, value in zip(rows, values):
            rows[column].append(value)
    return rows


# One result for k = 1..8 from two stored ones, and training for several epochs ----------------------------------
__all__ += ["merge_k", "epoch_table", "ranking_table", "paired_lines", "drop_from_peak"]


def merge_k(*parts):
    """One result for the union of the k grids of ``parts``, stored results of ``compositional_accuracy`` whose
    configs differ only in ``n_images_grid``: every array (method, k, ...) joined along k and sorted by k; the
    wall time and cells summed; key (``"+"``-joined), files and devices of all parts kept. The merged result
    names no single file: cite each part's ``provenance()``.

    Raises ValueError when the parts differ in anything else (experiment, version, another config field, the
    data source, the arrays stored) or share a k."""
    import dataclasses
    if not parts:
        raise ValueError("merge_k needs at least one result")
    first = parts[0]
    rest = lambda p: {name: v for name, v in p.config.items() if name != "n_images_grid"}
    for p in parts[1:]:
        if (p.experiment, p.version) != (first.experiment, first.version):
            raise ValueError(f"cannot merge {p.experiment} v{p.version} with {first.experiment} v{first.version}")
        if rest(p) != rest(first):
            differ = sorted(n for n in set(rest(p)) | set(rest(first)) if rest(p).get(n) != rest(first).get(n))
            raise ValueError(f"results {first.key} and {p.key} differ in config field(s) {differ}, not only in "
                             "n_images_grid: their k cannot be joined")
        if p.values != first.values or set(p.arrays) != set(first.arrays):
            raise ValueError(f"results {first.key} and {p.key} differ in their data source or stored arrays")
    grid = [int(k) for p in parts for k in p.config["n_images_grid"]]
    if len(set(grid)) != len(grid):
        raise ValueError(f"a k appears in more than one result (k grids {[p.config['n_images_grid'] for p in parts]})")
    order = np.argsort(grid, kind="stable")
    arrays = {name: np.concatenate([np.asarray(p.arrays[name]) for p in parts], axis=1)[:, order]
              for name in first.arrays}
    meta = [p.metadata for p in parts]
    metadata = {**first.metadata, "wall_time_s": float(sum(m["wall_time_s"] for m in meta)),
                "cells": int(sum(m.get("cells", 0) for m in meta)), "date": max(str(m.get("date", "")) for m in meta),
                "device": "; ".join(dict.fromkeys(str(m.get("device", "?")) for m in meta))}
    return dataclasses.replace(first, key="+".join(p.key for p in parts), arrays=arrays, metadata=metadata,
                               config={**first.config, "n_images_grid": sorted(grid)},
                               files=tuple(f for p in parts for f in p.files))


def epoch_table(acc, names, k_grid) -> dict:
    """One row per method and k of ``acc`` (method, k, seed, epoch): mean [95% CI] over seeds after each epoch,
    and the last epoch's gain over the one before, paired by seed, with its interval."""
    acc = np.asarray(acc, dtype=np.float64)
    mean, low, high = ci(acc, axis=2)                                      # (method, k, epoch)
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


def ranking_table(acc, names, k_grid, pairs, epochs=(0, -1)) -> dict:
    """For each ``(better, than)`` pair of method names and each k: ``acc[better] - acc[than]`` (``acc``: method, k,
    seed, epoch) paired by seed after each epoch of ``epochs`` (default: the first and the last), mean
    [95% CI] and the verdict of :func:`paired_gain`."""
    acc = np.asarray(acc, dtype=np.float64)
    rows = {"comparison": [], "k": []}
    for better, than in pairs:
        rows["comparison"] += [f"{better} - {than}"] * len(k_grid)
        rows["k"] += [int(k) for k in k_grid]
    for e in epochs:
        label = f"after epoch {range(1, acc.shape[-1] + 1)[e]}"
        rows[label], rows[f"{label}: verdict"] = [], []
        for better, than in pairs:
            mean, low, high, verdict = paired_gain(acc[..., e], names.index(better), names.index(than))
            rows[label] += [ci_text(*t) for t in zip(mean, low, high)]
            rows[f"{label}: verdict"] += list(verdict)
    return rows


def paired_lines(acc, names, k_grid, than: int) -> list[str]:
    """``k=<k> <method> - <names[than]>: <mean> [95% CI <lo>, <hi>] (<verdict>)`` for every other method and
    every k of ``acc`` (method, k, seed), the difference paired by seed; k without a measurement left out."""
    lines = []
    for i, name in enumerate(names):
        if i != than:
            mean, low, high, verdict = paired_gain(acc, i, than)
            lines += [(a, i, f"k={k} {name} - {names[than]}: {number(mean[a])} [95% CI {number(low[a])}, "
                             f"{number(high[a])}] ({verdict[a]})") for a, k in enumerate(k_grid) if np.isfinite(mean[a])]
    return [line for _, _, line in sorted(lines)]


def drop_from_peak(acc):
    """For ``acc`` (method, k, seed, epoch): the epoch (1-based) where the mean over seeds peaks, and the drop
    from that epoch to the last paired by seed, ``(peak, mean, low, high)`` each (method, k). The peak is
    chosen after seeing the curve, so the drop is biased upwards: an interval above 0 is a weak finding."""
    acc = np.asarray(acc, dtype=np.float64)
    peak = acc.mean(axis=2).argmax(axis=-1)                                       # (method, k)
    at_peak = np.take_along_axis(acc, peak[:, :, None, None], axis=-1)[..., 0]    # (method, k, seed)
    mean, low, high = ci(at_peak - acc[..., -1])
    return peak + 1, mean, low, high
