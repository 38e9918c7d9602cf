"""The book's stored experiments, one module per chapter, named like its notebook.

Each module defines its experiments' config dataclasses (validated in ``__post_init__``, with named configs
such as ``cpu``, ``full`` and a ``tiny`` one for tests) and the runners registered with the results store
(:func:`modscale_lib.store.experiment`). A chapter reads a result with
``store.load_or_run(experiments.NAME, store.chapter_config(experiments.NAME))``; the registry name, the function
name and the results folder are one name. Bump an experiment's ``version`` whenever a code change alters what
it computes: old results then stop matching and the book asks for a recomputation instead of showing stale
numbers. What turns a result into a figure lives in :mod:`modscale_lib.analysis`.
"""

from __future__ import annotations

from . import (
    compositional_cifar,
    finding_modules,
    grouping_modules,
    peers,
    sample_complexity,
    scaling_law,
    theory_linear_model,
    theory_vs_networks,
    using_this_book,
)
from .cifar_tuning import CifarTuningConfig, compositional_tuning
from .compositional_cifar import CompositionalCifarConfig, compositional_accuracy
from .finding_modules import (
    ModuleRecoveryConfig,
    ProjectionTrainingConfig,
    RuleSensitivityConfig,
    module_recovery,
    projection_training,
    rule_sensitivity,
)
from .grouping_modules import ModuleGroupingConfig, RuleComparisonConfig, module_grouping, rule_comparison
from .law_capacity import LawCapacityConfig, scaling_law_capacity
from .peers import PeerComparisonConfig, peer_comparison
from .sample_complexity import (
    CapacityConfig,
    MonolithicStepsConfig,
    ObjectiveCostConfig,
    SampleComplexityConfig,
    monolithic_steps,
    objective_cost,
    sample_complexity_capacity,
    sample_complexity_sweep,
)
from .scaling_law import ScalingLawConfig, scaling_law_sweep
from .theory_linear_model import LinearModelConfig, linear_model_mc
from .theory_vs_networks import NetworkTheoryConfig, network_theory
from .using_this_book import PinvMomentConfig, pinv_moment

__all__ = [
    "CHAPTERS",
    "pinv_moment",
    "PinvMomentConfig",
    "linear_model_mc",
    "LinearModelConfig",
    "network_theory",
    "NetworkTheoryConfig",
    "module_recovery",
    "ModuleRecoveryConfig",
    "rule_sensitivity",
    "RuleSensitivityConfig",
    "projection_training",
    "ProjectionTrainingConfig",
    "sample_complexity_sweep",
    "sample_complexity_capacity",
    "CapacityConfig",
    "SampleComplexityConfig",
    "objective_cost",
    "ObjectiveCostConfig",
    "compositional_accuracy",
    "CompositionalCifarConfig",
    "compositional_tuning",
    "CifarTuningConfig",
    "module_grouping",
    "ModuleGroupingConfig",
    "rule_comparison",
    "RuleComparisonConfig",
    "peer_comparison",
    "PeerComparisonConfig",
    "monolithic_steps",
    "MonolithicStepsConfig",
    "scaling_law_sweep",
    "ScalingLawConfig",
    "scaling_law_capacity",
    "LawCapacityConfig",
]

CHAPTERS = (
    using_this_book,
    theory_linear_model,
    theory_vs_networks,
    finding_modules,
    grouping_modules,
    sample_complexity,
    scaling_law,
    peers,
    compositional_cifar,
)
