"""One vocabulary for the methods the book compares, defined once and used by experiments, reference
numbers, tables and plots.

A method is named by its label; :func:`describe` says what it is. Labels are plain strings so that they can
be stored in configs and results:

* ``"monolithic"``: an MLP on all ``m`` inputs;
* ``"random features"``: a frozen random first layer with a ridge readout (:mod:`modscale_lib.networks`);
* ``"modular, random"``: a modular network whose projections start at random orthonormal ones;
* ``"modular, <variant> rule"``: projections found by the learning rule's ``<variant>`` (one of
  ``RULE_VARIANTS``), e.g. ``"modular, paper rule"`` (the authors' Algorithm 1);
* ``"modular, oracle"``: projections at the true ones;

and the controls that answer the reviewers' questions (``CONTROLS``):

* ``"monolithic, compute-matched"``: the MLP given, as extra training steps, the FLOPs the rule spends;
* ``"modular, random, K averaged"``: the average of ``K`` modular networks with random starts (an ensemble
  of as many starts as the rule makes);
* ``"modular, <variant> rule, K/2 modules"`` and ``"..., 2K modules"``: the rule and the network told the
  wrong number of modules (:func:`wrong_count`);
* ``"modules without projections"``: ``K`` MLPs that each read all ``m`` inputs, summed (a mixture of
  experts without a gate).

The authors' numbers use the same labels: their rule is ``"modular, paper rule"``.
"""

from __future__ import annotations

from . import core

__all__ = [
    "MONOLITHIC",
    "RANDOM_FEATURES",
    "RANDOM",
    "ORACLE",
    "RULE_VARIANTS",
    "rule",
    "rule_variant",
    "is_modular",
    "describe",
    "ALL",
    "COMPUTE_MATCHED",
    "RANDOM_AVERAGED",
    "NO_PROJECTIONS",
    "wrong_count",
    "CONTROLS",
    "module_count",
]

MONOLITHIC = "monolithic"
RANDOM_FEATURES = "random features"
RANDOM = "modular, random"
ORACLE = "modular, oracle"
# The learning rule's variants (``rule.find_module_projections(variant=...)``), in the order the
# book introduces them.
RULE_VARIANTS = ("paper", "deflation", "backfit", "spectral", "grouped", "newton")


@core.validated(variant=core.Choice(RULE_VARIANTS))
def rule(variant: str) -> str:
    """The label of the modular network initialised by the rule's ``variant``: ``"modular, <variant> rule"``."""
    return f"modular, {variant} rule"


COMPUTE_MATCHED = "monolithic, compute-matched"
RANDOM_AVERAGED = "modular, random, K averaged"
NO_PROJECTIONS = "modules without projections"
_COUNTS = {"K/2": lambda K: max(1, K // 2), "2K": lambda K: 2 * K}  # the wrong counts, from the task's K


@core.validated(variant=core.Choice(RULE_VARIANTS), count=core.Choice(tuple(_COUNTS)))
def wrong_count(variant: str, count: str) -> str:
    """The label of the rule's ``variant`` run, and the network built, with ``count`` (``"K/2"`` or ``"2K"``)
    modules instead of the task's ``K``."""
    return f"{rule(variant)}, {count} modules"


_RULE_LABELS = {f"modular, {v} rule": v for v in RULE_VARIANTS}
_RULE_LABELS.update({wrong_count(v, c): v for v in RULE_VARIANTS for c in _COUNTS})
CONTROLS = (COMPUTE_MATCHED, RANDOM_AVERAGED, NO_PROJECTIONS) + tuple(
    wrong_count(v, c) for v in RULE_VARIANTS for c in _COUNTS
)
ALL = (MONOLITHIC, RANDOM_FEATURES, RANDOM) + tuple(f"modular, {v} rule" for v in RULE_VARIANTS) + (ORACLE,) + CONTROLS


_LABEL = core.Choice(ALL)  # a method's label


@core.validated(label=_LABEL, n_modules=core.Whole(1))
def module_count(label: str, n_modules: int) -> int:
    """The number of modules the method's network has on a task of ``n_modules`` (>= 1) modules (0 for an MLP)."""
    if label in (MONOLITHIC, COMPUTE_MATCHED, RANDOM_FEATURES):
        return 0
    for count, of in _COUNTS.items():
        if label.endswith(f", {count} modules"):
            return of(n_modules)
    return n_modules


@core.validated(label=_LABEL)
def rule_variant(label: str) -> str | None:
    """The rule variant behind a method label (one of ``ALL``), or ``None`` for a method that uses no rule."""
    return _RULE_LABELS.get(label)


@core.validated(label=_LABEL)
def is_modular(label: str) -> bool:
    """Whether the method is a modular network."""
    return label not in (MONOLITHIC, COMPUTE_MATCHED, RANDOM_FEATURES)


@core.validated(label=_LABEL)
def describe(label: str) -> str:
    """One sentence on what the method is, for captions and tables."""
    variant = rule_variant(label)
    if label == MONOLITHIC:
        return "an MLP reading all m inputs"
    if label == RANDOM_FEATURES:
        return "a frozen random ReLU layer reading all m inputs, with a ridge-regression readout"
    if label == RANDOM:
        return "a modular network whose projections start random"
    if label == ORACLE:
        return "a modular network whose projections are the true ones"
    if label == COMPUTE_MATCHED:
        return "an MLP trained for extra steps worth the FLOPs the rule spends"
    if label == RANDOM_AVERAGED:
        return "the average of K modular networks whose projections start random"
    if label == NO_PROJECTIONS:
        return "K MLPs that each read all m inputs, summed"
    for count in _COUNTS:
        if label.endswith(f", {count} modules"):
            return f"a modular network of {count} modules, projections from the rule's {variant} variant"
    return f"a modular network whose projections start where the rule's {variant} variant puts them"
