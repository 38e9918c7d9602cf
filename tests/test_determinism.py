"""The learning rule gives the same projections whatever the number of torch threads (bit for bit)."""
from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

SCRIPT = r"""
import sys
import numpy as np
import torch
torch.set_num_threads(int(sys.argv[1]))
from modscale_lib.learning_rule import find_module_projections
from modscale_lib.tasks import SineWaveTask
X, y = SineWaveTask(6, 2, seed=1).sample(600, seed=0)
U = find_module_projections(X, y, 2, steps=15, batch_size=256, width=64, refine_passes=1, seed=0)
assert torch.get_num_threads() == int(sys.argv[1]), "the thread count was not restored"
np.save(sys.argv[2], U)
"""


@pytest.mark.parametrize("variant_threads", [(1, 2)])
def test_projections_do_not_depend_on_the_thread_count(tmp_path, variant_threads):
    out = {}
    for threads in variant_threads:
        env = dict(os.environ, OMP_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads))
        path = tmp_path / f"U{threads}.npy"
        subprocess.run([sys.executable, "-c", SCRIPT, str(threads), str(path)], check=True, env=env, timeout=120)
        out[threads] = np.load(path)
    # The documented tolerance is zero: the search runs single-threaded (learning_rule.single_thread).
    np.testing.assert_array_equal(out[1], out[2])


def test_single_thread_restores_the_setting():
    import torch

    from modscale_lib.learning_rule import single_thread

    before = torch.get_num_threads()
    with pytest.raises(RuntimeError):
        with single_thread():
            assert torch.get_num_threads() == 1
            raise RuntimeError("inside")
    assert torch.get_num_threads() == before
