"""TEMPORARY (issue 23 phase A): removed in phase C. The old path of :mod:`modscale_lib.store`."""
from .store import *  # noqa: F403  TEMPORARY (issue 23 phase A): removed in phase C
from .store import _records, _registry

# TEMPORARY: names that tests and tools in flight take from the old path
FORMAT, _write_record, _root = _records.FORMAT, _records.write_record, _records.store_root
_canonical, _plain, _sha256 = _registry.canonical_json, _registry.plain, _registry.sha256
