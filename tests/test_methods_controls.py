"""The reviewers' controls in the method vocabulary, and per-model frozen projections."""

import numpy as np
import pytest

from modscale_lib import methods
from modscale_lib.networks import ModularEnsemble, fit
from modscale_lib.present import METHOD_COLOURS


def test_wrong_count_labels_round_trip():
    label = methods.wrong_count("backfit", "2K")
    assert label == "modular, backfit rule, 2K modules"
    assert methods.rule_variant(label) == "backfit" and methods.is_modular(label)
    assert methods.module_count(label, 4) == 8
    assert methods.module_count(methods.wrong_count("backfit", "K/2"), 2) == 1
    assert methods.module_count(methods.wrong_count("backfit", "K/2"), 5) == 2
    assert methods.module_count(methods.MONOLITHIC, 4) == 0
    with pytest.raises(ValueError, match="count"):
        methods.wrong_count("backfit", "3K")


@pytest.mark.parametrize("label", methods.CONTROLS)
def test_every_control_is_described_and_known(label):
    assert label in methods.ALL and methods.describe(label)
    assert methods.is_modular(label) == (label != methods.COMPUTE_MATCHED)


def test_controls_used_by_the_book_have_colours():
    from modscale_lib.experiments.sample_complexity import CONTROLS, MAIN

    assert set(MAIN + CONTROLS) <= set(METHOD_COLOURS)


def test_per_model_frozen_projections_do_not_move():
    model = ModularEnsemble(3, 5, 2, 1, train_projections=[True, False, True], seeds=[0, 1, 2])
    before = model.projections.detach().clone()
    X = np.random.default_rng(0).standard_normal((200, 5)).astype(np.float32)
    fit(model, X, np.sin(X[:, 0]), steps=30, lr=1e-2, progress=False)
    moved = (model.projections.detach() - before).abs().amax(dim=(1, 2, 3)).numpy()
    assert moved[1] == 0 and moved[0] > 0 and moved[2] > 0
    with pytest.raises(ValueError, match="train_projections"):
        ModularEnsemble(3, 5, 2, 1, train_projections=[True, False])


def test_the_grouped_rule_does_not_depend_on_the_blas_thread_count():
    from threadpoolctl import threadpool_limits

    from modscale_lib.rule import find_module_projections
    from modscale_lib.tasks import NonSeparableTask

    task = NonSeparableTask(8, 2, 2, seed=0)
    X, y = task.sample(600, seed=0)
    with threadpool_limits(limits=1):
        one = find_module_projections(X, y, 2, 2, variant="grouped", seed=0)
    with threadpool_limits(limits=2):
        two = find_module_projections(X, y, 2, 2, variant="grouped", seed=0)
    np.testing.assert_array_equal(one, two)
