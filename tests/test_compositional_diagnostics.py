"""The projection diagnostics of modscale_lib.module_diagnostics: overlap, movement, pairwise overlap, locality."""
import numpy as np
import pytest

from modscale_lib import data, module_diagnostics as md


def _orthonormal(rng, *shape):
    return np.linalg.qr(rng.standard_normal(shape))[0]


def test_overlap_is_one_for_the_same_span_and_zero_for_orthogonal_spans():
    rng = np.random.default_rng(0)
    U = _orthonormal(rng, 20, 3)
    mixed = U @ _orthonormal(rng, 3, 3) * 4.0            # same span, other basis and scale
    assert md.subspace_overlap(U, mixed) == pytest.approx(1.0)
    eye = np.eye(20)
    assert md.subspace_overlap(eye[:, :3], eye[:, 3:6]) == pytest.approx(0.0)
    assert md.movement(eye[:, :3], eye[:, [0, 1, 5]]) == pytest.approx(1 / 3)


def test_random_spans_overlap_about_b_over_m():
    rng = np.random.default_rng(1)
    U = np.stack([_orthonormal(rng, 200, 4) for _ in range(400)])
    V = np.stack([_orthonormal(rng, 200, 4) for _ in range(400)])
    assert md.subspace_overlap(U, V).mean() == pytest.approx(4 / 200, rel=0.15)


def test_pairwise_overlap_lists_every_pair_once():
    eye = np.eye(6)
    U = np.stack([eye[:, [0, 1]], eye[:, [1, 2]], eye[:, [3, 4]]])
    np.testing.assert_allclose(md.pairwise_overlap(U), [0.5, 0.0, 0.0])
    assert md.pairwise_overlap(U[None]).shape == (1, 3)


def test_slots_follow_the_composite_layout():
    slots = md.slot_of_feature(3)
    images = np.zeros((1, 32, 96, 3), np.uint8)
    images[0, :, 32:64] = 255                            # the middle image
    lit = data.to_features(images)[0] > 0
    assert set(slots[lit]) == {1} and set(slots[~lit]) == {0, 2}
    assert np.bincount(slots).tolist() == [3072] * 3


def test_locality_is_one_inside_a_slot_and_one_over_k_when_spread():
    k, m = 4, 3072 * 4
    slots = md.slot_of_feature(k)
    inside = np.zeros((m, 2))
    rows = np.flatnonzero(slots == 2)[:2]
    inside[rows, [0, 1]] = 1.0
    assert md.locality(inside, k) == pytest.approx(1.0)
    np.testing.assert_allclose(md.slot_shares(inside, k), [0, 0, 1, 0])
    spread = np.zeros((m, 1))
    spread[[np.flatnonzero(slots == s)[0] for s in range(k)], 0] = 0.5
    assert md.locality(spread, k) == pytest.approx(0.25)


def test_summarise_and_errors():
    rng = np.random.default_rng(2)
    start = np.stack([_orthonormal(rng, 3072 * 2, 3) for _ in range(2)])
    s = md.summarise(start, start, 2)
    assert s["moved"] == pytest.approx(0.0, abs=1e-12) and s["overlap_start"] == s["overlap_end"] < 0.01
    assert 0.5 <= s["local_end"] <= 1
    assert np.isnan(md.summarise(start[:1], start[:1], 2)["overlap_end"])
    with pytest.raises(ValueError, match="rows"):
        md.slot_shares(start[0], 3)
    with pytest.raises(ValueError, match="same shape"):
        md.subspace_overlap(start[0], start[0][:, :2])
    with pytest.raises(ValueError, match="finite"):
        md.orthonormal_basis(np.full((4, 2), np.nan))


# --- the chapter's summaries -------------------------------------------------------------------------------------
def test_ci_lines_have_the_chapter_form_and_skip_missing_cells():
    acc = np.full((2, 2, 5), 0.5)
    acc[1] = [[0.1, 0.2, 0.3, 0.4, 0.5], [np.nan] * 5]
    lines = md.ci_lines(acc, ["mono", "rule"], [1, 8])
    assert lines[0] == "k=1 mono: 0.500 [95% CI 0.500, 0.500]"
    assert lines[1].startswith("k=1 rule: 0.300 [95% CI 0.") and len(lines) == 3


def test_paired_gain_uses_the_seed_pairing():
    rng = np.random.default_rng(0)
    base = rng.uniform(0.2, 0.6, (1, 5))            # large spread over seeds, shared by both methods
    acc = np.stack([base, base + 0.01])
    mean, low, high, verdict = md.paired_gain(acc, 1, 0)
    assert mean[0] == pytest.approx(0.01) and verdict[0] == "higher"
    assert md.paired_gain(acc, 0, 0)[3][0] == "no difference"


def test_robustness_and_diagnostics_tables():
    res = {"acc_seen": np.full((2, 3, 4, 1), 0.4), "acc_unseen": np.full((2, 3, 4, 1), np.nan)}
    res["acc_unseen"][:, 1:] = 0.3
    table = md.robustness(res, ["a", "b"], {"seen": "acc_seen", "unseen": "acc_unseen"}, np.array([False, True, True]))
    assert table["unseen"] == ["0.300 [0.300, 0.300]"] * 2
    assert len(md.robustness(res, ["a", "b"], {"seen": "acc_seen"}, np.array([False, False, True]))["seen"]) == 2
    diag = {f"diag_{key}": np.full((2, 2, 3), 0.5) for key in ("moved_by_rule", "moved_by_training", "overlap_start",
                                                                "overlap_end", "local_end")}
    diag["diag_local_end"][0] = np.nan                   # the monolithic network
    rows = md.diagnostics_table(diag, ["mono", "random"], [1, 2], 16)
    assert rows["method"] == ["random", "random"] and rows["spread evenly"] == [1.0, 0.5]
    assert rows["random spans"][1] == pytest.approx(16 / 6144)


def test_limits_table_has_one_row_per_setting():
    from modscale_lib.experiments.compositional_cifar import CompositionalCifarConfig
    cfg = CompositionalCifarConfig.limits_width()
    rows = md.limits_table({"width": (cfg, [0.3, 0.3, 0.3]), "base": (CompositionalCifarConfig(), [0.2, 0.4])})
    assert rows["setting"] == ["width", "base"] and rows["width"] == [256, 32] and rows["seeds"] == [3, 2]
    assert rows["test accuracy per image"][0] == "0.300 [0.300, 0.300]"


def _stored(grid, config=None, offset=0.0):
    from modscale_lib.results import Result
    M, S, E = 2, 3, 2
    acc = offset + np.arange(M * len(grid) * S * E, dtype=float).reshape(M, len(grid), S, E)
    arrays = {"acc_seen": acc, "n_params": np.array([grid, grid]) * 10}
    return Result("compositional_accuracy", 2, f"key{grid[0]}", {"n_images_grid": list(grid), "epochs": E,
                  **(config or {})}, {"data_kind": "jpeg"}, arrays,
                  {"wall_time_s": 10.0 * len(grid), "cells": len(grid) * S, "date": f"2026-0{len(grid)}",
                   "device": "CPU"}, (f"key{grid[0]}.json",))


def test_merge_k_joins_two_results_along_k_in_order():
    a, b = _stored([1, 4]), _stored([2, 3, 5], offset=100.0)
    merged = md.merge_k(a, b)
    assert merged.config["n_images_grid"] == [1, 2, 3, 4, 5] and merged.config["epochs"] == 2
    np.testing.assert_array_equal(merged["n_params"][0], [10, 20, 30, 40, 50])
    np.testing.assert_array_equal(merged["acc_seen"][:, 0], a["acc_seen"][:, 0])      # k = 1
    np.testing.assert_array_equal(merged["acc_seen"][:, 3], a["acc_seen"][:, 1])      # k = 4
    np.testing.assert_array_equal(merged["acc_seen"][:, 4], b["acc_seen"][:, 2])      # k = 5
    assert merged.metadata["wall_time_s"] == 50.0 and merged.metadata["cells"] == 15
    assert merged.key == "key1+key2" and merged.files == ("key1.json", "key2.json")
    assert merged["data_kind"] == "jpeg"


def test_merge_k_refuses_results_that_differ_in_more_than_k():
    with pytest.raises(ValueError, match=r"config field\(s\) \['epochs'\]"):
        md.merge_k(_stored([1]), _stored([2], config={"epochs": 3}))
    with pytest.raises(ValueError, match="more than one result"):
        md.merge_k(_stored([1, 2]), _stored([2, 3]))
    with pytest.raises(ValueError, match="at least one"):
        md.merge_k()


def test_epoch_and_ranking_tables():
    rng = np.random.default_rng(3)
    acc = np.cumsum(rng.uniform(0.0, 0.02, (2, 2, 5, 3)), axis=-1) + 0.2      # (method, k, seed, epoch): rising
    acc[1] += 0.1                                                               # method b above a everywhere
    table = md.epoch_table(acc, ["a", "b"], [2, 4])
    assert list(table) == ["method", "k", "epoch 1", "epoch 2", "epoch 3", "last-epoch gain"]
    assert table["method"] == ["a", "a", "b", "b"] and table["k"] == [2, 4, 2, 4]
    assert table["epoch 1"][0] == md.ci_text(*md.ci(acc[0, 0, :, 0]))
    assert table["last-epoch gain"][3] == md.ci_text(*md.ci(acc[1, 1, :, 2] - acc[1, 1, :, 1]))
    ranks = md.ranking_table(acc, ["a", "b"], [2, 4], [("b", "a"), ("a", "b")])
    assert ranks["comparison"] == ["b - a", "b - a", "a - b", "a - b"] and ranks["k"] == [2, 4, 2, 4]
    assert ranks["after epoch 1: verdict"] == ["higher", "higher", "lower", "lower"]
    assert ranks["after epoch 3: verdict"] == ["higher", "higher", "lower", "lower"]


def test_number_never_shows_a_signed_zero_and_keeps_three_decimals_otherwise():
    assert md.number(0.4123) == "0.412" and md.number(-0.0123) == "-0.012" and md.number(0.0) == "0.000"
    assert md.number(-0.00022) == "-0.0002" and md.number(0.00038) == "0.0004" and md.number(0.00038, 4) == "0.0004"
    assert md.ci_text(-0.00022, -0.0033, 0.0023) == "-0.0002 [-0.003, 0.002]"
    assert md.ci_text(float("nan"), 0.0, 0.0) == "n/a"


def test_paired_lines_list_each_method_against_the_reference_per_k():
    rng = np.random.default_rng(1)
    base = rng.uniform(0.2, 0.6, (2, 5))                                  # (k, seed)
    acc = np.stack([base, base + 0.02, base - 0.01])
    acc[:, 0] = np.nan                                                    # k = 1 not measured
    lines = md.paired_lines(acc, ["mono", "rand", "rule"], [1, 2], than=0)
    assert lines == ["k=2 rand - mono: 0.020 [95% CI 0.020, 0.020] (higher)",
                     "k=2 rule - mono: -0.010 [95% CI -0.010, -0.010] (lower)"]


def test_drop_from_peak_pairs_the_peak_epoch_with_the_last():
    acc = np.zeros((1, 2, 5, 4))
    acc[0, 0] = [0.1, 0.3, 0.2, 0.25]                                     # peaks at epoch 2, drops 0.05
    acc[0, 1] = [0.1, 0.2, 0.3, 0.4]                                      # still rising: the peak is the last epoch
    peak, mean, low, high = md.drop_from_peak(acc)
    assert peak.tolist() == [[2, 4]]
    assert mean[0, 0] == pytest.approx(0.05) and low[0, 0] == pytest.approx(0.05) and mean[0, 1] == 0
