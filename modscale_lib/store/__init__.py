"""The results store: heavy experiments computed once, kept as small checksummed JSON/NPZ files keyed by their
config, resumable cell by cell, with a compute ledger.

A chapter reads a result with ``load_or_run(experiment, chapter_config(experiment))``; ``python -m modscale_lib``
computes, verifies and accounts for them. What is stored and how is told in :func:`load_or_run` and
:class:`Cells`. The store imports numpy, the standard library, tqdm (progress) and :mod:`modscale_lib.core`
only; Dask only when a cluster is asked for.
"""

from ._cluster import MAX_WORKERS, dask_client
from ._files import STORE_MARKER, CorruptResultError, MissingResultError, StoreLocationError, check_store, init_store
from ._ledger import ledger, ledger_totals
from ._records import (
    MODES,
    SCALES,
    Result,
    chapter_config,
    check_result,
    config_name,
    get_mode,
    load_or_run,
    read,
    results_dir,
    save,
    store_root,
    stored_results,
)
from ._registry import REGISTRY, Experiment, canonical_config, experiment, parse_config_json, result_key
from ._sweeps import BudgetExhausted, Cells
from ._verify import verify_store

__all__ = [
    # experiments and their keys
    "experiment",
    "Experiment",
    "REGISTRY",
    "result_key",
    "canonical_config",
    "parse_config_json",
    # stored results
    "load_or_run",
    "read",
    "save",
    "Result",
    "stored_results",
    "check_result",
    "results_dir",
    "store_root",
    "get_mode",
    "MODES",
    # which named config the chapters read
    "chapter_config",
    "config_name",
    "SCALES",
    # the store's folder, and its errors
    "init_store",
    "check_store",
    "STORE_MARKER",
    "MissingResultError",
    "CorruptResultError",
    "StoreLocationError",
    # sweeps, and where their cells run
    "Cells",
    "BudgetExhausted",
    "dask_client",
    "MAX_WORKERS",
    # checks and costs
    "verify_store",
    "ledger",
    "ledger_totals",
]
