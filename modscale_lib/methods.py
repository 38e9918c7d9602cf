"""One vocabulary for the methods the book compares, defined once and used by experiments, reference
numbers, tables and plots.

A method is named by its label; :func:`describe` says what it is. Labels are plain strings so that they can
be stored in configs and results:

* ``"monolithic"``: an MLP on all ``m`` inputs;
* ``"modular, random"``: a modular network whose projections start at random orthonormal ones;
* ``"modular, <variant> rule"``: projections found by the learning rule's ``<variant>`` (one of
  ``RULE_VARIANTS``), e.g. ``"modular, paper rule"`` (the authors' Algorithm 1);
* ``"modular, oracle"``: projections at the true ones.

The authors' numbers use the same labels: their rule is ``"modular, paper rule"``.
"""
from __future__ import annotations

__all__ = ["MONOLITHIC", "RANDOM", "ORACLE", "RULE_VARIANTS", "rule", "rule_variant", "is_modular",
           "describe", "ALL"]

MONOLITHIC = "monolithic"
RANDOM = "modular, random"
ORACLE = "modular, oracle"
# The learning rule's variants (``learning_rule.find_module_projections(variant=...)``), in the order the
# book introduces them.
RULE_VARIANTS = ("paper", "deflation", "backfit", "spectral", "grouped")


def rule(variant: str) -> str:
    """The label of the modular network initialised by the rule's ``variant``: ``"modular, <variant> rule"``."""
    if variant not in RULE_VARIANTS:
        raise ValueError(f"variant must be one of {RULE_VARIANTS}, got {variant!r}")
    return f"modular, {variant} rule"


_RULE_LABELS = {f"modular, {v} rule": v for v in RULE_VARIANTS}
ALL = (MONOLITHIC, RANDOM) + tuple(_RULE_LABELS) + (ORACLE,)


def rule_variant(label: str) -> str | None:
    """The rule variant behind a method label, or ``None`` for a method that uses no rule."""
    if label not in ALL:
        raise ValueError(f"method must be one of {ALL}, got {label!r}")
    return _RULE_LABELS.get(label)


def is_modular(label: str) -> bool:
    """Whether the method is a modular network."""
    rule_variant(label)  # validates
    return label != MONOLITHIC


def describe(label: str) -> str:
    """One sentence on what the method is, for captions and tables."""
    variant = rule_variant(label)
    if label == MONOLITHIC:
        return "an MLP reading all m inputs"
    if label == RANDOM:
        return "a modular network whose projections start random"
    if label == ORACLE:
        return "a modular network whose projections are the true ones"
    return f"a modular network whose projections start where the rule's {variant} variant puts them"
