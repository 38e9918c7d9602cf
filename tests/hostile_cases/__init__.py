"""Hostile cases by group of modules, registered into ``tests/test_hostile.py``: each module's ``register(bad, good)``
adds its cases, and its ``NOT_YET`` lists the public names of its modules still without one (a list that may
only shrink)."""

GROUPS = ("measure", "laws", "cifar", "chapters")
