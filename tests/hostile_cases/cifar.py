"""Hostile cases of the CIFAR-10 chapter, and the figures: cifar_readout, cifar_rule, composite_training,
cifar_figures, plotting."""

from __future__ import annotations

#: Public names of these modules without a case yet (the coverage test in test_hostile.py reads it).
NOT_YET: dict[str, list[str]] = {
    "cifar_readout": [
        "ks_text",
        "by_verdict",
        "at_k",
        "rows_where",
        "distinct_row",
        "twin_ks",
        "trained_ks",
        "chapter_values",
        "search_depth",
        "arch_with",
        "coordinate_value",
        "edge_reasons",
        "tuning_values",
        "tuning_edges",
        "rule_objectives",
        "full_values",
        "accuracy_gains",
        "lead_values",
        "objective_values",
        "locality_values",
        "unseen_values",
        "drop_values",
        "epoch_values",
    ],
    "cifar_rule": [
        "module_kernels",
        "search_projections",
        "held_out_objective",
        "slot_local_projections",
        "search_flops",
    ],
    "composite_training": [
        "check_architecture",
        "build_network",
        "n_params",
        "training_flops",
        "forward_flops",
        "CompositeTable",
        "train_members",
        "accuracy",
    ],
    "cifar_figures": ["colour", "layout_figure", "tuning_figure", "accuracy_against_k", "accuracy_against_flops"],
    "plotting": [
        "use_style",
        "setup_notebook",
        "table",
        "composite_schematic",
        "subplots",
        "panel_grid",
        "theory_and_simulation",
        "linear_model_axes",
        "modular_theory_figure",
        "sine_module_figure",
        "modules_against_target",
        "recovery_scatter",
        "projection_training_figure",
        "learning_curves_grid",
        "samples_needed_figure",
        "similarity_figure",
        "smallest_text_pt",
    ],
}


def register(bad, good) -> None:
    """Add this group's cases with ``bad(module, function, parameter, values, call)`` and ``good(...)``."""
    return None
