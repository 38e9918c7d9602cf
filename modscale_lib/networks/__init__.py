"""The learners that train: monolithic and modular networks as batched ensembles (``E`` independent models in one
set of tensors, ``_ensembles``), their training (:func:`fit`: minibatches from each model's own seeded
stream, early stopping on a validation split with the best weights kept, divergence detected and reported;
:func:`fit_classifier` for the CIFAR chapter), and random-feature regression (frozen random features and a
closed-form ridge readout chosen on validation).

Shapes: inputs ``(E, B, input_dim)`` (or ``(B, input_dim)``, shared by every model), outputs ``(E, B)``.
"""

from ._ensembles import (
    BatchedMLP,
    MLPEnsemble,
    ModularEnsemble,
    default_device,
    mlp_param_count,
    random_projections,
    width_for_params,
)
from ._minibatches import TrainingDivergedError, as_model_batch
from ._random_features import RIDGES, RandomFeatureRidge
from ._training import FitResult, classification_loss, classifier_accuracy, evaluate, fit, fit_classifier

__all__ = [
    # batched ensembles
    "BatchedMLP",
    "MLPEnsemble",
    "ModularEnsemble",
    "mlp_param_count",
    "width_for_params",
    "default_device",
    "random_projections",
    # training
    "fit",
    "evaluate",
    "FitResult",
    "TrainingDivergedError",
    "as_model_batch",
    "classification_loss",
    "fit_classifier",
    "classifier_accuracy",
    # random features
    "RandomFeatureRidge",
    "RIDGES",
]
