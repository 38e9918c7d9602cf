"""Hostile cases by group of modules, registered into ``tests/test_hostile.py``: each module's ``register(bad, good)``
adds its cases, and its ``NOT_YET`` lists the public names of its modules still without one (a list that may
only shrink). Every module of this folder is a group (a chapter's package gets a module of its own,
``chapter_<notebook>.py``)."""

import pkgutil

GROUPS = tuple(sorted(m.name for m in pkgutil.iter_modules(__path__) if not m.name.startswith("_")))
