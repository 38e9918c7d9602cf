"""The paper's reported numbers, as data, each with where it came from (no computation here).

All values are read off the authors' figures (project page and paper), so they are approximate. Methods are
named in the book's one vocabulary (:mod:`modscale_lib.methods`): the authors' rule is ``"modular, paper rule"``
and their randomly initialised modular network ``"modular, random"``. Each chapter prints them beside its own.
"""

from __future__ import annotations

from .methods import MONOLITHIC, RANDOM, rule

PAPER_RULE = rule("paper")

__all__ = [
    "THEORY_GROWTH",
    "LOSS_TRENDS",
    "SAMPLE_COMPLEXITY",
    "MODULE_SIMILARITY",
    "COMPOSITIONAL_CIFAR",
    "CIFAR_ROBUSTNESS",
]

THEORY_GROWTH = {
    "source": "theoretical_m_vs_n figure: log10 n against m = 2..9 for several targets",
    "decades_per_dim": (0.13, 0.15),
    "factor_per_dim": 1.36,
}

LOSS_TRENDS = {
    "source": "loss_trends figure: networks on the sine-wave task against k, m, p and n",
    "test_loss_vs_m": {"m": (2, 9), "test_loss": (0.8, 2.7)},
    "p_peak": 1.1e3,
    "n_peak": 1.0e3,
}

SAMPLE_COMPLEXITY = {
    "source": "compare_method1_sample_complexity1.5 figure: smallest n reaching test loss 1.5",
    "target_loss": 1.5,
    "m": (2, 3, 4, 5, 6, 7, 8, 9),
    PAPER_RULE: (4.6e2, 3.0e2, 1.7e3, 5.7e2, 2.9e3, 4.9e3, 4.3e3, 1.4e4),
    MONOLITHIC: (2.2e3, 5.2e2, 5.0e3, 7e3, 1.7e4, 8.4e3, 2.8e4, 1.15e4),
    RANDOM: (7.4e3, 2.1e3, 1.3e4, 4.6e4, 3.7e4, 1.55e4, 3.0e4, 8.2e4),
}

MODULE_SIMILARITY = {
    "source": "sims figure: similarity of learned and true projections over 1000 iterations",
    "baseline": (0.536, 0.578),
    PAPER_RULE: (0.555, 0.628),
}

COMPOSITIONAL_CIFAR = {
    "source": "multicifar_result figure: accuracy per image against k",
    "k": (1, 2, 3, 4, 5, 6, 7, 8),
    PAPER_RULE: (0.552, 0.542, 0.538, 0.525, 0.516, 0.505, 0.493, 0.482),
    RANDOM: (0.536, 0.535, 0.512, 0.488, 0.472, 0.455, 0.443, 0.434),
    MONOLITHIC: (0.529, 0.537, 0.504, 0.476, 0.451, 0.429, 0.409, 0.390),
}

CIFAR_ROBUSTNESS = {
    "source": "project page table (k not stated)",
    "combinatorial OOD accuracy": {MONOLITHIC: 0.4256, RANDOM: 0.4526, PAPER_RULE: 0.4990},
    "accuracy under noise": {MONOLITHIC: 0.3947, RANDOM: 0.4307, PAPER_RULE: 0.4695},
}
