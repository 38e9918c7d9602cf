"""Seeding: one reproducible random stream per tuple of seed parts, for numpy and for torch.

Every random draw in the library goes through these functions, so that a result depends only on the seeds
it was given, never on the order of calls, the size of an ensemble or the number of threads. A stream is named
by a tuple of whole numbers (for example ``(model seed, layer, 7919)``); two different tuples give independent
streams (numpy's ``SeedSequence`` mixes them).
"""

from __future__ import annotations

import contextlib
import functools

import numpy as np

from ._validation import MAX_SEED, seed

__all__ = ["derive", "numpy_generator", "torch_generator", "single_thread", "single_threaded"]


def _parts(seed_parts) -> list[int]:
    if not seed_parts:
        raise ValueError("seed_parts must hold at least one whole number")
    return [seed(s, f"seed part {i}") for i, s in enumerate(seed_parts)]


def derive(*seed_parts) -> int:
    """One 63-bit integer seed derived from the parts (for APIs that take a single int)."""
    state = np.random.SeedSequence(_parts(seed_parts)).generate_state(2, dtype=np.uint32)
    return (int(state[0]) << 31 | int(state[1]) >> 1) & MAX_SEED


def numpy_generator(*seed_parts) -> np.random.Generator:
    """A numpy ``Generator`` for the stream named by ``seed_parts``."""
    return np.random.default_rng(_parts(seed_parts))


def torch_generator(*seed_parts):
    """A CPU ``torch.Generator`` for the stream named by ``seed_parts`` (torch is imported only here)."""
    import torch

    state = np.random.SeedSequence(_parts(seed_parts)).generate_state(2)
    return torch.Generator().manual_seed(int(state[0]) << 32 | int(state[1]))


@contextlib.contextmanager
def single_thread():
    """Run the enclosed work on one thread, torch's and the BLAS library's, restoring both after.

    Reductions in torch's CPU kernels, and numpy's matrix products through BLAS (the grouped variant's
    steps), split their work by thread, so their floating-point sums depend on the number of threads; on one
    thread the rule's result is the same, bit for bit, whatever ``torch.set_num_threads``,
    ``OMP_NUM_THREADS`` or the BLAS thread count of the caller.
    """
    import torch

    before = torch.get_num_threads()  # read first: the BLAS limit below also limits torch's OpenMP pool
    try:
        import scipy.linalg  # noqa: F401  (scipy's own BLAS, loaded lazily, must be loaded to be limited too)
    except ImportError:
        pass
    try:
        from threadpoolctl import threadpool_limits

        blas = threadpool_limits(limits=1)
    except ImportError:  # a bare GPU machine (torch, numpy, scipy only): BLAS keeps its threads
        blas = contextlib.nullcontext()
    torch.set_num_threads(1)
    try:
        with blas:
            yield
    finally:
        torch.set_num_threads(before)


def single_threaded(function):
    """Decorator: run ``function`` inside :func:`single_thread` (its result then does not depend on the number
    of threads)."""
    if not callable(function):
        raise TypeError(f"function must be callable, got {type(function).__name__}")

    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        with single_thread():
            return function(*args, **kwargs)

    return wrapper
