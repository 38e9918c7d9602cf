"""Where a sweep's cells run: a ``dask.distributed`` client on a local cluster or on a running scheduler.

:func:`dask_client` gives the client that :meth:`modscale_lib.store.Cells.map` computes cells on (see
:class:`~modscale_lib.store.Cells` for how cells are computed and stored there). Dask is imported only here, and only
when a cluster is asked for: the default, cells in this process, needs none.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Iterator
from typing import Any

from ..core import whole

__all__ = ["dask_client", "MAX_WORKERS", "CONNECT_TIMEOUT_S"]

#: The most worker processes of a local cluster, a few per core, so that a typo cannot start a thousand.
MAX_WORKERS = 4 * (os.cpu_count() or 1)
#: Seconds to wait for a scheduler given by its address to answer, and for it to have a worker.
CONNECT_TIMEOUT_S = 10


@contextlib.contextmanager
def dask_client(workers: int | None = None, scheduler: str | None = None) -> Iterator[Any]:
    """A ``distributed.Client`` for :meth:`modscale_lib.store.Cells.map`: on a new ``LocalCluster`` of
    ``workers`` processes (one thread each), or connected to the running scheduler at ``scheduler`` (e.g.
    ``tcp://host:8786``), which must have a worker; ``None`` when neither is given (cells run in this process,
    and Dask is not imported)."""
    if workers is not None and scheduler is not None:
        raise ValueError("give workers or scheduler, not both")
    if workers is None and scheduler is None:
        yield None
        return
    try:
        from distributed import Client, LocalCluster
    except ImportError as exc:
        raise ImportError("running cells on Dask needs dask.distributed: pip install 'dask[distributed]'") from exc
    if workers is not None:
        workers = whole(workers, "workers", low=1, high=MAX_WORKERS)
        cluster = LocalCluster(
            n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=":0", silence_logs=logging.ERROR
        )  # not its routine notes (a worker stopped at the end)
        with cluster, Client(cluster) as client:
            yield client
        return
    if not isinstance(scheduler, str) or not scheduler.strip():
        raise ValueError(
            f"scheduler must be the address of a running Dask scheduler (tcp://host:port), got {scheduler!r}"
        )
    try:
        client = Client(scheduler, timeout=f"{CONNECT_TIMEOUT_S}s")
    except (OSError, TimeoutError) as exc:
        raise ConnectionError(
            f"cannot reach a Dask scheduler at {scheduler} ({exc}); start one (dask scheduler) "
            f"and its workers, or leave out --scheduler"
        ) from exc
    with client:
        try:  # a scheduler without workers would leave every cell waiting
            client.wait_for_workers(1, timeout=CONNECT_TIMEOUT_S)
        except (OSError, TimeoutError) as exc:
            raise ConnectionError(
                f"the Dask scheduler at {scheduler} has no workers; start some (dask worker "
                f"{scheduler} --nthreads 1), or leave out --scheduler"
            ) from exc
        yield client
