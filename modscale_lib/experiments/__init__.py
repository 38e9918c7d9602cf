"""The book's stored experiments, one module per chapter, named like its notebook.

Each module defines its experiments' config dataclasses (validated in ``__post_init__``, with named configs
such as ``cpu``, ``full`` and a ``tiny`` one for tests) and the runners registered with the results store
(:func:`modscale_lib.store.experiment`). A chapter reads a result with
``store.load_or_run(experiments.NAME, store.chapter_config(experiments.NAME))``; the registry name, the function
name and the results folder are one name. Bump an experiment's ``version`` whenever a code change alters what
it computes: old results then stop matching and the book asks for a recomputation instead of showing stale
numbers. What turns a result into a figure lives in each chapter's read-out (:mod:`modscale_lib.chapters`).

The package finds its modules itself: every module here is imported, and its registered experiments and its
config classes (the names of its ``__all__`` that end in ``Config``) become names of this package, so a new
experiment is one new module, with no list to edit. :data:`CHAPTERS` holds the modules named like a chapter
(their ``CHAPTER`` is their own name), sorted by name.
"""

from __future__ import annotations

import importlib
import pkgutil

from ..store import Experiment


def _discover() -> tuple[dict, tuple]:
    """``{name: object}`` of every experiment and config class of the package's modules (each imported once),
    and the modules named like their chapter, sorted by name. Two modules exporting one name is an error."""
    names: dict = {}
    chapters = []
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda i: i.name):
        module = importlib.import_module(f"{__name__}.{info.name}")
        names[info.name] = module
        if getattr(module, "CHAPTER", None) == info.name:
            chapters.append(module)
        for name in getattr(module, "__all__", ()):
            obj = getattr(module, name)
            if isinstance(obj, Experiment) or (isinstance(obj, type) and name.endswith("Config")):
                if name in names and names[name] is not obj:
                    raise ImportError(f"experiments: {name!r} is defined by two modules ({info.name} and another)")
                names[name] = obj
    return names, tuple(chapters)


_names, CHAPTERS = _discover()
globals().update(_names)
__all__ = ["CHAPTERS", *sorted(n for n, obj in _names.items() if not isinstance(obj, type(importlib)))]
del _names
