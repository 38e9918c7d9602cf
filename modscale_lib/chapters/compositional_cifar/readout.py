"""The read-out of the chapter *Compositional CIFAR-10* (``book/compositional_cifar.ipynb``): every value its
prose glues, from the stored tuning and accuracy results. :func:`conclusions` returns them all, ``{glue name:
value}``, from the stored results; the functions before it each read one section's values, on arrays and configs,
so that each can be tested on a small synthetic study.

The networks are named by role in a dict ``roles`` with the keys of :data:`ROLES` (``"monolithic"``: the MLP,
``"random"``: the modular network on random projections, ``"matched"``: the modular network matched to the MLP's
compute, ``"rule"``: the rule's network), whose values are the method names of the result. Accuracy arrays are
``(method, k, seed)`` (one epoch), ``(method, k, seed, epoch)`` where epochs are kept; paired comparisons are
:func:`modscale_lib.module_diagnostics.paired_gain`'s ``(mean, low, high, verdict)``, verdicts ``"higher"``,
``"lower"``, ``"no difference"`` or ``"n/a"``. The texts are the ones the chapter glues, nothing more. Numpy only:
the training cost of a network comes in as a function ``flops(arch, k)`` (the chapter passes
:func:`modscale_lib.composite_training.training_flops`), so that this module needs no torch.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import numpy as np

from ... import methods, module_diagnostics as md, reference
from ...composites import is_unseen_combination
from ...core import Array, Check, Choice, Real, Whole, array, choice as one_of, validated, whole, whole_array
from ...store import Result

__all__ = [
    "ROLES",
    "COORDINATES",
    "BAR",
    "CHECKS",
    "conclusions",
    "study",
    "authors_numbers",
    "ks_text",
    "by_verdict",
    "at_k",
    "rows_where",
    "distinct_row",
    "twin_ks",
    "trained_ks",
    "chapter_values",
    "search_depth",
    "arch_with",
    "coordinate_value",
    "edge_reasons",
    "tuning_values",
    "tuning_edges",
    "rule_objectives",
    "full_values",
    "accuracy_gains",
    "lead_values",
    "objective_values",
    "locality_values",
    "unseen_values",
    "drop_values",
    "epoch_values",
]

#: The keys of ``roles``: the networks the chapter compares.
ROLES = ("monolithic", "random", "matched", "rule")
#: The coordinates of a tuned network that can end at an edge of what the search tried.
COORDINATES = ("width", "depth", "step")
_LOWER_BETTER = {"lower": "lower (better)", "higher": "higher (worse)", "no difference": "not distinguishable"}
_DROP_WORDS = {
    "higher": "costs the random modular network less than the MLP",
    "lower": "costs it more than the MLP",
    "no difference": "costs both alike within the intervals",
}


# -- the rules of the arguments (modscale_lib.core.validated): each checks and returns its value unchanged,
# or as plain Python values that read and print the same, so that the glued texts do not change ------------
def _ks(value, name: str, arguments: dict) -> list[int]:
    """A 1-D sequence of whole numbers >= 0 (the k), as a list of ints."""
    if isinstance(value, (str, bytes, Mapping)) or not isinstance(value, (Iterable, np.ndarray)):
        raise TypeError(f"{name} must be a sequence of whole numbers, got {type(value).__name__}")
    return [int(k) for k in whole_array(list(value), name, low=0, ndim=1)]


def _grid(value, name: str, arguments: dict) -> list[int]:
    """A non-empty grid of distinct k >= 1, as a list of ints."""
    ks = _ks(value, name, arguments)
    if not ks or min(ks) < 1 or len(set(ks)) != len(ks):
        raise ValueError(f"{name} must hold at least one k, each a distinct whole number >= 1, got {ks}")
    return ks


KS, GRID = Check(_ks), Check(_grid)


def _names(value, name: str, arguments: dict) -> list[str]:
    """A non-empty sequence of distinct method names (strings)."""
    if isinstance(value, (str, bytes)) or not isinstance(value, (Iterable, np.ndarray)):
        raise TypeError(f"{name} must be a sequence of method names, got {type(value).__name__}")
    names = list(value)
    if not names or not all(isinstance(n, (str, np.str_)) for n in names) or len(set(names)) != len(names):
        raise ValueError(f"{name} must hold distinct method names (strings), got {names!r}"[:300])
    return names


NAMES = Check(_names)


def _text(value, name: str, arguments: dict) -> str:
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a string, got {value!r} ({type(value).__name__})")
    return value


TEXT = Check(_text)


def _callable(value, name: str, arguments: dict):
    if not callable(value):
        raise TypeError(f"{name} must be a function, got {type(value).__name__}")
    return value


FUNCTION = Check(_callable)


def _holding(*keys: str, records: bool = False, attributes: bool = False) -> Check:
    """A rule: a mapping (a stored result too) that holds ``keys``; with ``records``, a sequence of such
    mappings (as a list); with ``attributes``, an object with those attributes."""

    def lacks(value) -> list:
        if attributes:
            return [k for k in keys if not hasattr(value, k)]
        if not hasattr(value, "__getitem__") or isinstance(value, (str, bytes, list, tuple, np.ndarray)):
            return list(keys)
        out = []
        for k in keys:
            try:
                value[k]
            except (KeyError, IndexError, TypeError):
                out.append(k)
        return out

    def check(value, name: str, arguments: dict):
        if records:
            if isinstance(value, (str, bytes, Mapping)) or not isinstance(value, Iterable):
                raise TypeError(f"{name} must be a sequence of records, got {type(value).__name__}")
            value = list(value)
        for j, item in enumerate(value if records else [value]):
            missing = lacks(item)
            if missing:
                where = f"{name}[{j}]" if records else name
                raise ValueError(f"{where} must hold {', '.join(keys)}; it lacks {missing} (got {item!r})"[:300])
        return value

    return Check(check)


def _per_method_k(*keys: str, ndim: int = 3, positive: bool = False) -> Check:
    """A rule: an array (method, k, ...) of ``ndim`` dimensions, one row per method of ``names`` and one column
    per k of ``k_grid`` (``ks``); with ``keys``, a mapping (a stored result) of such arrays. NaN is allowed
    (a network not trained); the value comes back unchanged."""

    def shaped(value, where: str, arguments: dict) -> None:
        grid = "k_grid" if "k_grid" in arguments else "ks"
        ks = arguments[grid]
        arr = array(value, where, ndim=ndim, finite=False)
        if arr.shape[:2] != (len(arguments["names"]), len(ks)):
            raise ValueError(
                f"{where} must have shape ({len(arguments['names'])}, {len(ks)}, ...) (method, k, ...): one row "
                f"per entry of names, one column per k of {grid}; got {arr.shape}"
            )
        if np.isinf(arr).any():
            raise ValueError(f"{where} must hold finite values or NaN (not trained), it holds an infinity")
        if positive and (arr[np.isfinite(arr)] <= 0).any():
            raise ValueError(
                f"{where} must hold values > 0 (operations per composite), its smallest is {np.nanmin(arr)}"
            )

    def check(value, name: str, arguments: dict):
        value = _holding(*keys)(value, name) if keys else value
        for key in keys or [None]:
            shaped(value if key is None else value[key], name if key is None else f"{name}[{key!r}]", arguments)
        return value

    return Check(check)


#: the families of a network's ``arch`` and the whole numbers each holds
FAMILIES = {"monolithic": ("width", "depth"), "modular": ("n_modules", "module_dim", "module_width")}
_LOCALITY = ("local_start", "local_end", "overlap_start", "moved_by_rule", "moved_by_training")
_TUNING = ("mono_depths", "module_widths", "max_widen", "flops_cap", "validation_images", "n_train", "n_val")
ACC = _per_method_k(ndim=3)
PER_COMPOSITE = _per_method_k(ndim=2, positive=True)


def _arch(value, name: str, arguments: dict) -> dict:
    """An architecture: a dict whose family (``FAMILIES``) comes with its whole numbers >= 1."""
    if not isinstance(value, Mapping) or value.get("family") not in FAMILIES:
        raise ValueError(f"{name} must be a dict whose 'family' is one of {tuple(FAMILIES)}, got {value!r}"[:300])
    for key in FAMILIES[value["family"]]:
        if key not in value:
            raise ValueError(f"{name} of family {value['family']!r} must hold {key!r}, got {value!r}")
        whole(value[key], f"{name}[{key!r}]", low=1)
    return value


def _tuning_config(value, name: str, arguments: dict):
    """A tuning config (a mapping): the search's depths and widths (non-empty), its counts and cost cap."""
    value = _holding(*_TUNING)(value, name)
    for key in ("mono_depths", "module_widths"):
        whole_array(value[key], f"{name}[{key!r}]", low=1, ndim=1, min_size=1)
    for key in ("max_widen", "validation_images", "n_train", "n_val"):
        whole(value[key], f"{name}[{key!r}]", low=0)
    Real(0.0, low_open=True)(value["flops_cap"], f"{name}['flops_cap']")
    return value


def _accuracy_config(value, name: str, arguments: dict):
    """An accuracy config (a mapping): its seeds (at least one), training composites and noise's sigma."""
    value = _holding("seeds", "n_train", "noise_sigma")(value, name)
    whole_array(value["seeds"], f"{name}['seeds']", low=0, ndim=1, min_size=1)
    whole(value["n_train"], f"{name}['n_train']", low=1)
    Real(0.0)(value["noise_sigma"], f"{name}['noise_sigma']")
    return value


def _choice(value, name: str, arguments: dict):
    """A tuning choice: its k, method, arch, step and edges (``{coordinate: bool}``)."""
    value = _holding("k", "method", "arch", "lr", "edges")(value, name)
    _arch(value["arch"], f"{name}['arch']", arguments)
    Real(0.0, low_open=True)(value["lr"], f"{name}['lr']")
    edges = value["edges"]
    if not isinstance(edges, Mapping) or not set(edges) <= set(COORDINATES):
        raise ValueError(f"{name}['edges'] must map coordinates of {COORDINATES} to True or False, got {edges!r}")
    return value


def _scored_runs(value, name: str, arguments: dict) -> list:
    """Tuning runs (``k``, ``method``), those of ``rule`` and ``other`` each with a finite ``score``."""
    runs = _holding("k", "method", records=True)(value, name)
    for j, run in enumerate(runs):
        if run["method"] in (arguments["rule"], arguments["other"]):
            Real()(run["score"] if "score" in run else None, f"{name}[{j}]['score']")
    return runs


def _words(value, name: str, arguments: dict):
    if not isinstance(value, Mapping) or not all(isinstance(t, str) for kv in value.items() for t in kv):
        raise TypeError(f"{name} must map verdicts to phrases (strings), got {value!r}"[:300])
    return value


def _gain(value, name: str, arguments: dict):
    """``(mean, low, high, ...)``, each (K,): one value per k of ``ks`` (NaN where not measured)."""
    if isinstance(value, (str, bytes, Mapping)) or not hasattr(value, "__len__") or len(value) < 3:
        raise ValueError(f"{name} must be (mean, low, high, ...), a paired_gain result, got {value!r}"[:300])
    shapes = [np.shape(array(g, f"{name}[{j}]", finite=False)) for j, g in enumerate(value[:3])]
    if any(shape != (len(arguments["ks"]),) for shape in shapes):
        raise ValueError(
            f"{name}'s mean, low and high must each have shape ({len(arguments['ks'])},) (one per k of ks), got "
            f"{shapes[0]}, {shapes[1]} and {shapes[2]}"
        )
    return value


def _table(value, name: str, arguments: dict):
    """A column table ``{column: list}``, its columns of one length."""
    if not isinstance(value, Mapping):
        raise TypeError(f"{name} must be a column table (a dict of lists), got {type(value).__name__}")
    lengths = {len(v) if hasattr(v, "__len__") and not isinstance(v, str) else -1 for v in value.values()}
    if -1 in lengths or len(lengths) > 1:
        raise ValueError(f"{name}'s columns must be lists of one length, got lengths {sorted(lengths)}")
    return value


def _rule_ks(value, name: str, arguments: dict) -> list[int]:
    """At least one k, each of ``k_grid``."""
    ks = _ks(value, name, arguments)
    if not ks or not set(ks) <= set(arguments["k_grid"]):
        raise ValueError(f"{name} must hold at least one k, each of k_grid {arguments['k_grid']}, got {ks}")
    return ks


def _roles(roles) -> dict[str, str]:
    """``roles`` checked to name a method for each of :data:`ROLES`."""
    if not hasattr(roles, "keys") or not set(ROLES) <= set(roles.keys()):
        raise ValueError(f"roles must be a dict with the keys {ROLES}, got {roles!r}")
    return {r: str(roles[r]) for r in ROLES}


def _index(names, roles) -> dict[str, int]:
    """``{role: position of its method in names}``; a ValueError names the method that ``names`` lacks."""
    names, roles = [str(n) for n in names], _roles(roles)
    missing = [m for m in roles.values() if m not in names]
    if missing:
        raise ValueError(f"names must hold every method of roles, missing {missing}")
    return {r: names.index(m) for r, m in roles.items()}


@validated(ks=KS)
def ks_text(ks) -> str:
    """``"1"``, ``"1 and 2"``, ``"1, 2 and 4"``; ``"none"`` for no k. ks : whole numbers (each as ``int``)."""
    ks = [str(whole(k, "ks", low=0)) for k in ks]
    return "none" if not ks else ks[0] if len(ks) == 1 else ", ".join(ks[:-1]) + " and " + ks[-1]


@validated(ks=KS, words=Check(_words))
def by_verdict(verdict, ks, words: dict) -> str:
    """``"<words[v]> at k = ..."`` for each verdict ``v`` of ``words`` that occurs, joined by ``"; "`` in the
    order of ``words``; ``"not measured"`` if none occurs. verdict : (K,) strings, ks : (K,) the k of each."""
    verdict, ks = [str(v) for v in np.asarray(verdict).ravel()], list(ks)
    if len(verdict) != len(ks):
        raise ValueError(f"verdict and ks must have one entry per k, got {len(verdict)} and {len(ks)}")
    parts = [
        f"{phrase} at k = {ks_text([k for k, v in zip(ks, verdict) if v == w])}"
        for w, phrase in words.items()
        if any(v == w for v in verdict)
    ]
    return "; ".join(parts) if parts else "not measured"


@validated(ks=KS, gain=Check(_gain))
def at_k(gain, ks) -> str:
    """``"k = 2: 0.012 [0.003, 0.020]; ..."`` for the k where ``gain``'s mean is finite. gain : ``(mean, low,
    high, ...)``, each (K,) (a ``paired_gain`` result); ks : (K,)."""
    return "; ".join(
        f"k = {k}: {md.ci_text(gain[0][a], gain[1][a], gain[2][a])}"
        for a, k in enumerate(ks)
        if np.isfinite(gain[0][a])
    )


@validated(table=Check(_table), keep=FUNCTION)
def rows_where(table: dict, keep) -> dict[str, list]:
    """The rows of a column table (``{column: list}``, columns of one length) for which ``keep(row)`` holds,
    ``row`` a dict ``{column: value}``. Returns a column table of the same columns."""
    n = len(next(iter(table.values()))) if table else 0
    rows = [i for i in range(n) if keep({c: v[i] for c, v in table.items()})]
    return {c: [v[i] for i in rows] for c, v in table.items()}


@validated(row=_holding("k"), matched=TEXT, twins=KS)
def distinct_row(row: dict, matched: str, twins) -> bool:
    """Whether a table row is kept: the matched network has a row of its own (a ``method`` or a ``comparison``
    that starts with its name) only at a ``k`` not in ``twins``, where it is not the random network."""
    return not (row.get("method") == matched and row["k"] in twins) and not (
        row.get("comparison", "").startswith(matched) and row["k"] in twins
    )


@validated(same_as=_holding("method", "k", records=True), matched=TEXT)
def twin_ks(same_as, matched: str) -> list:
    """The k where ``matched`` is the same network as another: ``same_as`` is a result's list of
    ``{"method", "k", ...}`` records."""
    return [s["k"] for s in same_as if s["method"] == matched]


@validated(k_grid=GRID, acc=Array(ndim=2, finite=False))
def trained_ks(acc, k_grid) -> list[int]:
    """The k where every seed of a method was trained: acc (K, seed) of one method, NaN where not trained."""
    acc = np.asarray(acc, dtype=np.float64)
    if acc.ndim != 2 or acc.shape[0] != len(k_grid):
        raise ValueError(f"acc must have shape ({len(k_grid)}, seeds) (one row per k of k_grid), got {acc.shape}")
    return [k for a, k in enumerate(k_grid) if np.isfinite(acc[a]).all()]


@validated(cfg=Check(_accuracy_config), tcfg=_holding("holdout_mod"), k_grid=GRID)
def chapter_values(cfg, tcfg, k_grid) -> dict:
    """The set-up's numbers: the k, seeds, training composites, the noise's sigma (and in grey levels) and the
    share of held-out class combinations (of all 100 pairs). cfg, tcfg : the accuracy and the tuning config."""
    every_pair = np.array(np.meshgrid(np.arange(10), np.arange(10))).reshape(2, -1).T  # (100, 2)
    return {
        "k_list": ks_text(k_grid),
        "k_max": int(k_grid[-1]),
        "n_seeds": len(cfg["seeds"]),
        "n_train": int(cfg["n_train"]),
        "noise_sigma": float(cfg["noise_sigma"]),
        "noise_grey": float(cfg["noise_sigma"]) * 255,
        "holdout_share": f"{is_unseen_combination(every_pair, tcfg['holdout_mod']).mean():.0%}",
    }


@validated(tcfg=Check(_tuning_config), family=Choice(FAMILIES))
def search_depth(tcfg, family: str):
    """The depth the width search ran at: the middle of ``mono_depths`` (an MLP's hidden layers) for the
    ``"monolithic"`` family, else the middle of ``module_widths`` (a module's width w)."""
    depths = tcfg["mono_depths"] if family == "monolithic" else tcfg["module_widths"]
    return depths[len(depths) // 2]


@validated(arch=Check(_arch), coordinate=Choice(("width", "depth")), value=Whole(1))
def arch_with(arch: dict, coordinate: str, value: int) -> dict:
    """A copy of ``arch`` with one coordinate changed: ``"width"`` the first layer (an MLP's width; a modular
    network's ``n_modules * module_dim``), ``"depth"`` an MLP's hidden layers or a module's width w."""
    coordinate, a = one_of(coordinate, "coordinate", ("width", "depth")), dict(arch)
    if arch["family"] == "monolithic":
        a["width" if coordinate == "width" else "depth"] = value
    elif coordinate == "width":
        a["n_modules"] = value // a["module_dim"]
    else:
        a["module_width"] = value
    return a


@validated(arch=Check(_arch), lr=Real(0.0, low_open=True), coordinate=Choice(COORDINATES))
def coordinate_value(arch: dict, lr, coordinate: str):
    """The value of one of :data:`COORDINATES` for a network ``arch`` trained with step ``lr``."""
    coordinate = one_of(coordinate, "coordinate", COORDINATES)
    if coordinate == "step":
        return lr
    if arch["family"] == "monolithic":
        return arch["width"] if coordinate == "width" else arch["depth"]
    return arch["n_modules"] * arch["module_dim"] if coordinate == "width" else arch["module_width"]


@validated(
    choice=Check(_choice),
    runs=_holding("k", "method", records=True),
    tcfg=Check(_tuning_config),
    flops=FUNCTION,
)
def edge_reasons(choice: dict, runs, tcfg, flops) -> dict[str, str]:
    """Why each coordinate of a tuned network that ends at an edge of what was tried is there:
    ``{coordinate: text}``. The next value past the edge would cost over ``tcfg["flops_cap"]`` (by
    ``flops(arch, k)``), or the widening ran out (``tcfg["max_widen"]``), or one hidden layer is the fewest an
    MLP has. choice : a tuning choice (``k``, ``method``, ``arch``, ``lr``, ``edges``); runs : the tuning's
    runs (``k``, ``method``, ``arch``, ``lr``)."""
    out, arch = {}, choice["arch"]
    runs = [r for r in runs if r["k"] == choice["k"] and r["method"] == choice["method"] and "lr" in r]
    mlp = arch["family"] == "monolithic"
    for coordinate, at_edge in choice["edges"].items():
        if not at_edge:
            continue
        value = coordinate_value(arch, choice["lr"], coordinate)
        tried = sorted({coordinate_value(r["arch"], r["lr"], coordinate) for r in runs})
        if not tried:
            raise ValueError(f"runs must hold the runs of choice's k and method, none for k = {choice['k']}")
        top = value == tried[-1]
        if coordinate == "depth" and mlp and not top:
            out[coordinate] = "one hidden layer, the fewest an MLP has"
        elif coordinate == "step" or not top:
            out[coordinate] = f"the {'largest' if top else 'smallest'} value tried after {tcfg['max_widen']} widenings"
        else:
            step_up = value + 1 if coordinate == "depth" and mlp else 2 * value
            # the width search ran at the middle depth, so a width's cost is priced there
            base = arch_with(arch, "depth", search_depth(tcfg, arch["family"])) if coordinate == "width" else arch
            cost = flops(arch_with(base, coordinate, step_up), choice["k"])
            out[coordinate] = (
                f"{step_up} would cost {cost / 1e6:.0f} MFLOP, over the cap"
                if cost > tcfg["flops_cap"]
                else f"the largest value tried after {tcfg['max_widen']} widenings"
            )
    return out


@validated(tcfg=Check(_tuning_config), runs=_holding(records=True), cpu_time_s=Real(0.0))
def tuning_values(tcfg, runs, cpu_time_s) -> dict:
    """The tuning's settings and size: validation images, training and validation composites, widenings, the
    cost cap (MFLOP), batch size, module dimension, the MLP's search depth, runs made and CPU minutes."""
    return {
        "val_images": int(tcfg["validation_images"]),
        "tune_n_train": int(tcfg["n_train"]),
        "tune_n_val": int(tcfg["n_val"]),
        "max_widen": int(tcfg["max_widen"]),
        "cap_mflop": tcfg["flops_cap"] / 1e6,
        "batch_size": int(tcfg["batch_size"]),
        "module_dim": int(tcfg["module_dim"]),
        "mono_d0": int(search_depth(tcfg, "monolithic")),
        "tuning_runs": len(runs),
        "tuning_cpu_min": cpu_time_s / 60,
    }


@validated(
    runs=_holding("k", "method", records=True),
    choices=_holding("k", "method", records=True),
    tcfg=Check(_tuning_config),
    k_grid=GRID,
    flops=FUNCTION,
    monolithic=TEXT,
    modular=TEXT,
)
def tuning_edges(runs, choices, tcfg, k_grid, flops, monolithic: str, modular: str) -> dict[str, str]:
    """Where the tuned MLP (``monolithic``) and random modular network (``modular``) end at an edge of the
    search and why (:func:`edge_reasons`), and the k where a shallower MLP's doubled width, never tried, fits
    the cap. runs, choices : the tuning's; k_grid : the k read."""
    choice_ = {(c["k"], c["method"]): c for c in choices}
    missing = [(k, m) for k in k_grid for m in (monolithic, modular) if (k, m) not in choice_]
    if missing:
        raise ValueError(f"choices must hold a choice per k of k_grid and method, missing (k, method) {missing}")
    mono = {k: edge_reasons(choice_[k, monolithic], runs, tcfg, flops) for k in k_grid}
    mod = {k: edge_reasons(choice_[k, modular], runs, tcfg, flops) for k in k_grid}
    arch = {k: choice_[k, monolithic]["arch"] for k in k_grid}
    untried = {
        k: flops(arch_with(arch[k], "width", 2 * arch[k]["width"]), k)
        for k in k_grid
        if arch[k]["depth"] < search_depth(tcfg, "monolithic")
    }
    fits = [k for k, f in untried.items() if f <= tcfg["flops_cap"]]
    mod_words = {"width": "the first layer (M b)", "depth": "the module width w", "step": "the step"}
    return {
        "mono_width_edge_ks": ks_text([k for k in k_grid if "width" in mono[k]]),
        "mono_width_reason": "; ".join(f"k = {k}: width {mono[k]['width']}" for k in k_grid if "width" in mono[k]),
        "mono_width_by_cap": "the cost cap put it there"
        if all("over the cap" in mono[k].get("width", "over the cap") for k in k_grid)
        else "not always the cost cap",
        "mono_depth_edge_ks": ks_text([k for k in k_grid if arch[k]["depth"] == 1]),
        "mono_untried_ks": ks_text(fits),
        "mono_untried_cost": "; ".join(f"k = {k}: {untried[k] / 1e6:.0f} MFLOP" for k in fits) or "none",
        "mod_edges": "; ".join(
            f"at k = {k}, " + " and ".join(f"{mod_words[c]} ({why})" for c, why in mod[k].items())
            for k in k_grid
            if mod[k]
        )
        or "none",
    }


@validated(k_grid=GRID, rule=TEXT, other=TEXT, runs=Check(_scored_runs))
def rule_objectives(runs, k_grid, rule: str, other: str) -> dict[str, str]:
    """At which k the ``rule``'s best validation objective (minus its best run's ``score``) was below the
    ``other`` variant's (the deflation variant): ``{"paper_vs_deflation": text}``."""

    def objective(method):
        scores = {k: [r["score"] for r in runs if r["k"] == k and r["method"] == method] for k in k_grid}
        if not all(scores.values()):
            raise ValueError(
                f"runs must hold a run of {method!r} at every k of k_grid, none at "
                f"k = {[k for k, s in scores.items() if not s]}"
            )
        return {k: -max(s) for k, s in scores.items()}

    paper, deflation = objective(rule), objective(other)
    below = [k for k in k_grid if paper[k] < deflation[k]]
    return {
        "paper_vs_deflation": "on validation its objective was lower than the deflation variant's at k = "
        + ks_text(below)
        + (
            ""
            if len(below) == len(k_grid)
            else f" and not lower at k = {ks_text([k for k in k_grid if k not in below])}"
        )
    }


@validated(full=_holding("n_images_grid", "seeds", "epochs", attributes=True))
def full_values(full) -> dict:
    """The full-scale config's k, number of seeds and epochs (a config with those attributes)."""
    return {"full_k": ks_text(full.n_images_grid), "full_seeds": len(full.seeds), "full_epochs": int(full.epochs)}


@validated(names=NAMES, k_grid=GRID, acc1=ACC, per_composite=PER_COMPOSITE, rule_ks=KS)
def accuracy_gains(acc1, per_composite, names, k_grid, rule_ks, roles) -> dict[str, str]:
    """The random modular network against the MLP after one epoch: its paired gain per k and the verdicts,
    the compute ratios (random's and the rule's to the MLP's), and the k where it is more accurate at no more
    compute than the MLP (``better_cheaper_ks``) and at more (``better_dearer_ks``), ``"none"`` for no k.

    acc1 : (method, k, seed). per_composite : (method, k), training operations per composite."""
    i = _index(names, roles)
    acc1, per_composite = np.asarray(acc1, dtype=np.float64), np.asarray(per_composite, dtype=np.float64)
    if per_composite.shape != acc1.shape[:2]:
        raise ValueError(f"per_composite must have shape {acc1.shape[:2]} (method, k), got {per_composite.shape}")
    g_rand = md.paired_gain(acc1, i["random"], i["monolithic"])
    ratio = per_composite / per_composite[i["monolithic"]]  # (method, k): compute against the MLP's
    better = [a for a in range(len(k_grid)) if g_rand[3][a] == "higher"]
    return {
        "rand_mono_at_k": at_k(g_rand, k_grid),
        "rand_mono_verdicts": by_verdict(
            g_rand[3],
            k_grid,
            {
                "higher": "more accurate than the MLP",
                "lower": "less accurate than the MLP",
                "no difference": "not distinguishable from the MLP",
            },
        ),
        "ratio_random": "; ".join(f"k = {k}: {ratio[i['random'], a]:.2f}" for a, k in enumerate(k_grid)),
        "ratio_rule": "; ".join(f"k = {k}: {ratio[i['rule'], a]:.2f}" for a, k in enumerate(k_grid) if k in rule_ks),
        "better_cheaper_ks": ks_text([k_grid[a] for a in better if ratio[i["random"], a] <= 1]),
        "better_dearer_ks": ks_text([k_grid[a] for a in better if ratio[i["random"], a] > 1]),
    }


@validated(names=NAMES, k_grid=GRID, acc1=ACC, per_composite=PER_COMPOSITE, own_ks=KS)
def lead_values(acc1, per_composite, names, k_grid, own_ks, roles) -> dict:
    """The matched network against the MLP at the k where it is a network of its own (``own_ks``), how the
    random network's lead over the MLP changes from the smallest k to the largest (paired by seed), and the
    MLP's gain over the random network at the largest k. acc1 : (method, k, seed); per_composite : (method, k)."""
    i, kk = _index(names, roles), len(k_grid) - 1
    acc1, per_composite = np.asarray(acc1, dtype=np.float64), np.asarray(per_composite, dtype=np.float64)
    g_match = md.paired_gain(acc1, i["matched"], i["monolithic"])
    g_mono = md.paired_gain(acc1, i["monolithic"], i["random"])
    ratio = per_composite / per_composite[i["monolithic"]]
    own = [a for a, k in enumerate(k_grid) if k in own_ks]
    lead = acc1[i["random"]] - acc1[i["monolithic"]]  # (k, seed): the modular lead per seed
    growth = md.ci(lead[kk] - lead[0])  # from the smallest k to the largest, paired
    return {
        "match_mono_at_k": "; ".join(
            f"k = {k_grid[a]}: {md.ci_text(*(t[a] for t in g_match[:3]))} "
            f"({g_match[3][a]}; compute ratio {ratio[i['matched'], a]:.2f})"
            for a in own
        )
        or "none",
        "lead_growth": md.ci_text(*growth),
        "lead_growth_word": "grows"
        if growth[1] > 0
        else "shrinks"
        if growth[2] < 0
        else "neither grows nor shrinks within the interval",
        "k_min": int(k_grid[0]),
        "gain_monolithic_kmax": md.ci_text(*(t[kk] for t in g_mono[:3])),
        "gain_monolithic_kmax_verdict": str(g_mono[3][kk]),
    }


def _diag_gain(res, key_a: str, key_b: str, a: int, b: int):
    """``res["diag_<key_a>"][a] - res["diag_<key_b>"][b]`` per k, paired by seed: ``(mean, low, high, verdict)``
    as :func:`modscale_lib.module_diagnostics.paired_gain`'s."""
    mean, low, high = md.ci(np.asarray(res[f"diag_{key_a}"])[a] - np.asarray(res[f"diag_{key_b}"])[b])
    verdict = np.where(
        ~np.isfinite(mean), "n/a", np.where(low > 0, "higher", np.where(high < 0, "lower", "no difference"))
    )
    return mean, low, high, verdict


@validated(names=NAMES, k_grid=GRID, res=_per_method_k("diag_objective", "diag_objective_slot_local"))
def objective_values(res, names, k_grid, roles) -> dict[str, str]:
    """The rule's objective on held-out composites: the rule's network's minus the random one's, and the
    slot-local projections' minus the random ones' (lower is better), per k and as verdicts. res : a mapping
    with ``diag_objective`` and ``diag_objective_slot_local``, each (method, k, seed)."""
    i = _index(names, roles)
    obj_rule = _diag_gain(res, "objective", "objective", i["rule"], i["random"])
    obj_local = _diag_gain(res, "objective_slot_local", "objective", i["random"], i["random"])
    return {
        "obj_rule_verdicts": by_verdict(obj_rule[3], k_grid, _LOWER_BETTER),
        "obj_rule_at_k": at_k(obj_rule, k_grid),
        "obj_local_verdicts": by_verdict(obj_local[3], k_grid, _LOWER_BETTER),
        "obj_local_at_k": at_k(obj_local, k_grid),
    }


@validated(names=NAMES, k_grid=GRID, res=_per_method_k(*(f"diag_{key}" for key in _LOCALITY)), rule_ks=Check(_rule_ks))
def locality_values(res, names, k_grid, rule_ks, roles) -> dict[str, str]:
    """Where the rule's projections start (locality and overlap, against the random ones'), what training does
    to their locality, and how far the rule and training move projections. res : a mapping with ``diag_<key>``
    arrays (method, k, seed) for ``local_start``, ``local_end``, ``overlap_start``, ``moved_by_rule`` and
    ``moved_by_training``; rule_ks : the k where the rule's network was trained."""
    i = _index(names, roles)

    def seed_ci(key, role, k):
        return md.ci_text(*md.ci(np.asarray(res[f"diag_{key}"])[i[role], list(k_grid).index(k)]))

    loc_rule = _diag_gain(res, "local_start", "local_start", i["rule"], i["random"])
    ovl_rule = _diag_gain(res, "overlap_start", "overlap_start", i["rule"], i["random"])
    keep_loc = _diag_gain(res, "local_end", "local_start", i["rule"], i["rule"])  # training's change of locality
    excess = [md.ci(np.asarray(res["diag_local_start"])[i["rule"], list(k_grid).index(k)])[0] - 1 / k for k in rule_ks]
    return {
        "loc_rule_at_k": "; ".join(
            f"k = {k}: {seed_ci('local_start', 'rule', k)} (1/k = {1 / k:.3f}; random "
            f"{seed_ci('local_start', 'random', k)})"
            for k in rule_ks
        ),
        "loc_rule_verdicts": by_verdict(
            loc_rule[3],
            k_grid,
            {
                "higher": "more local than random ones",
                "lower": "less local than random ones",
                "no difference": "no more local than random ones",
            },
        ),
        "ovl_rule_at_k": "; ".join(
            f"k = {k}: {seed_ci('overlap_start', 'rule', k)} against {seed_ci('overlap_start', 'random', k)}"
            for k in rule_ks
        ),
        "ovl_rule_verdicts": by_verdict(
            ovl_rule[3],
            k_grid,
            {
                "higher": "overlap more than random ones",
                "lower": "overlap less than random ones",
                "no difference": "overlap as much as random ones",
            },
        ),
        "keep_loc_at_k": at_k(keep_loc, k_grid),
        "loc_rule_excess": md.number(max(excess)),
        "keep_loc_verdicts": by_verdict(
            keep_loc[3],
            k_grid,
            {
                "lower": "training lowers it",
                "higher": "training raises it",
                "no difference": "training leaves it as it was",
            },
        ),
        "moved_rule_at_k": "; ".join(f"k = {k}: {seed_ci('moved_by_rule', 'rule', k)}" for k in rule_ks),
        "moved_training_at_k": "; ".join(f"k = {k}: {seed_ci('moved_by_training', 'random', k)}" for k in k_grid),
    }


@validated(names=NAMES, k_grid=GRID, res=_per_method_k("acc_unseen", ndim=4), acc1=ACC, twin_ks=KS)
def unseen_values(res, acc1, names, k_grid, twin_ks, roles) -> dict:
    """Unseen combinations at k >= 2: in how many (network, k) pairs a modular network (random, matched where
    it is its own, rule's) beats the MLP on them and which, the random network against the MLP, and how much
    harder unseen combinations are than seen ones at k = 2 (mean over the MLP, random and rule's networks).
    res : a mapping with ``acc_unseen`` (method, k, seed, epoch); acc1 : (method, k, seed), seen, one epoch."""
    i, k_grid, roles = _index(names, roles), list(k_grid), _roles(roles)
    if 2 not in k_grid:
        raise ValueError(f"k_grid must hold k = 2 (the seen-unseen gap is read there), got {k_grid}")
    unseen1, acc1 = np.asarray(res["acc_unseen"])[..., 0], np.asarray(acc1)
    ge2 = [a for a, k in enumerate(k_grid) if k >= 2]
    leads, pairs_n = [], 0
    for role in ("random", "matched", "rule"):
        g = md.paired_gain(unseen1, i[role], i["monolithic"])
        for a in ge2:
            if g[3][a] != "n/a" and not (role == "matched" and k_grid[a] in twin_ks):
                pairs_n += 1
                leads += [(roles[role], k_grid[a])] if g[3][a] == "higher" else []
    g_unseen = md.paired_gain(unseen1, i["random"], i["monolithic"])
    trained = [i[r] for r in ("monolithic", "random", "rule")]  # the distinct networks trained at k = 2
    gap_ci = md.ci((acc1 - unseen1)[trained, k_grid.index(2)].mean(axis=0))  # seen minus unseen, over networks
    return {
        "n_unseen_lead": len(leads),
        "n_unseen_pairs": pairs_n,
        "unseen_lead_list": "; ".join(f"{m} at k = {k}" for m, k in leads) or "none",
        "unseen_rand_mono": by_verdict(
            g_unseen[3][ge2],
            [k_grid[a] for a in ge2],
            {"higher": "above the MLP", "lower": "below the MLP", "no difference": "not distinguishable from the MLP"},
        ),
        "unseen_gap_k2": md.ci_text(*gap_ci),
        "unseen_gap_k2_word": "harder"
        if gap_ci[1] > 0
        else "easier"
        if gap_ci[2] < 0
        else "neither harder nor easier within the interval",
    }


@validated(names=NAMES, k_grid=GRID, res=_per_method_k("acc_unseen", "acc_noise", "acc_occluded", ndim=4), acc1=ACC)
def drop_values(res, acc1, names, k_grid, roles) -> dict[str, str]:
    """What each test costs against seen combinations at k >= 2 (a test's accuracy minus seen, one epoch): the
    random network's drop against the MLP's on unseen and occluded composites (paired by seed), the noise's
    drop and the occlusion's per k (means over the MLP, random and rule's networks). res : a mapping with
    ``acc_unseen``, ``acc_noise`` and ``acc_occluded`` (method, k, seed, epoch); acc1 : (method, k, seed)."""
    i, acc1 = _index(names, roles), np.asarray(acc1)
    ge2 = [a for a, k in enumerate(k_grid) if k >= 2]
    trained = [i[r] for r in ("monolithic", "random", "rule")]

    def drop(key):
        return np.asarray(res[key])[..., 0] - acc1  # (method, k, seed): a test minus seen

    d_unseen = md.paired_gain(drop("acc_unseen"), i["random"], i["monolithic"])
    d_occl = md.paired_gain(drop("acc_occluded"), i["random"], i["monolithic"])
    occl_m = md.ci(drop("acc_occluded")[trained][:, ge2].mean(axis=0))  # (k,): mean over the networks
    return {
        "unseen_drop_verdicts": by_verdict(d_unseen[3][ge2], [k_grid[a] for a in ge2], _DROP_WORDS),
        "noise_drop": md.ci_text(*md.ci(drop("acc_noise")[trained][:, ge2].mean(axis=(0, 1)))),
        "occl_drop_verdicts": by_verdict(
            d_occl[3][ge2],
            [k_grid[a] for a in ge2],
            {
                "higher": "costs the random modular network less than the MLP (or helps it more)",
                "lower": "costs it more than the MLP (or helps it less)",
                "no difference": "affects both alike within the intervals",
            },
        ),
        "occl_at_k": "; ".join(
            f"k = {k_grid[a]}: {md.ci_text(occl_m[0][j], occl_m[1][j], occl_m[2][j])}" for j, a in enumerate(ge2)
        ),
    }


@validated(
    names=NAMES,
    ks=GRID,
    acc_seen=_per_method_k(ndim=4),
    epochs=Whole(1),
    n_seeds=Whole(1),
    monolithic=TEXT,
    random=TEXT,
)
def epoch_values(acc_seen, names, ks, epochs: int, n_seeds: int, monolithic: str, random: str) -> dict:
    """More epochs (reviewers' question 7): each network's gain from the first epoch to the last (the smallest,
    the largest, all), the epochs where mean accuracy peaks, and whether the random network's verdict against
    the MLP (``random`` against ``monolithic``, paired by seed) is the same after the first and the last epoch.

    acc_seen : (method, k, seed, epoch), at least two epochs; names : the methods of axis 0; ks : the k of axis
    1; epochs, n_seeds : the config's epochs and number of seeds (glued as they are)."""
    acc, names = np.asarray(acc_seen, dtype=np.float64), [str(n) for n in names]
    if acc.ndim != 4 or acc.shape[:2] != (len(names), len(ks)) or acc.shape[3] < 2:
        raise ValueError(
            f"acc_seen must have shape ({len(names)}, {len(ks)}, seeds, epochs >= 2) (method, k, "
            f"seed, epoch), got {acc.shape}"
        )
    mono, rand = (names.index(one_of(m, n, names)) for m, n in ((monolithic, "monolithic"), (random, "random")))
    total = md.ci(acc[..., -1] - acc[..., 0])  # (method, k): gain over training
    pick_min, pick_max = (np.unravel_index(f(total[0]), total[0].shape) for f in (np.argmin, np.argmax))
    peak = acc.mean(axis=2).argmax(axis=-1) + 1  # (method, k): the best epoch
    v_first, v_last = (md.paired_gain(acc[..., e], rand, mono) for e in (0, -1))
    return {
        "q7_gain_min": md.ci_text(*(t[pick_min] for t in total)),
        "q7_gain_max": md.ci_text(*(t[pick_max] for t in total)),
        "q7_gains": "; ".join(
            f"{m} at k = {k}: {md.ci_text(total[0][j, a], total[1][j, a], total[2][j, a])}"
            for j, m in enumerate(names)
            for a, k in enumerate(ks)
        ),
        "q7_peak_min": str(int(peak.min())),
        "q7_peak_max": str(int(peak.max())),
        "q7_peak_text": f"at epoch {int(peak.min())}"
        if peak.min() == peak.max()
        else f"between epoch {int(peak.min())} and epoch {int(peak.max())}",
        "q7_k": ks_text(ks),
        "q7_epochs": int(epochs),
        "q7_seeds": int(n_seeds),
        "q7_first": at_k(v_first, ks) + f" ({', '.join(v_first[3])})",
        "q7_last": at_k(v_last, ks) + f" ({', '.join(v_last[3])})",
        "q7_same_ranking": "the same" if list(v_first[3]) == list(v_last[3]) else "not the same",
    }


# -- the chapter's conclusions: every value its prose glues, from the stored results ----------------------------
#: The level we require of the monolithic baseline at k = 1 (test accuracy per image) before comparing against it.
BAR = 0.50
#: The accuracy configs of ``checks``: the same first training images, from their exact pixels and from JPEG.
CHECKS = ("lossless_check", "jpeg_check")


def _result(experiment: str) -> Check:
    """A rule: a stored result (a :class:`modscale_lib.store.Result`) of ``experiment``."""

    def check(value, name: str, arguments: dict):
        if not isinstance(value, Result):
            raise TypeError(
                f"{name} must be a stored {experiment} result (a modscale_lib.store.Result), got {type(value).__name__}"
            )
        if value.experiment != experiment:
            raise ValueError(f"{name} must be a {experiment} result, got one of {value.experiment!r}")
        return value

    return Check(check)


def _checks(value, name: str, arguments: dict) -> dict:
    """``{config name: stored compositional_accuracy result}`` for each name of :data:`CHECKS`."""
    if not isinstance(value, Mapping) or set(value) != set(CHECKS):
        raise ValueError(f"{name} must map exactly {CHECKS} to their stored results, got {value!r}"[:300])
    return {n: _result("compositional_accuracy")(value[n], f"{name}[{n!r}]", arguments) for n in CHECKS}


#: The rules of the stored results the chapter reads (for its figures too).
ACCURACY, TUNING, STORED_CHECKS = _result("compositional_accuracy"), _result("compositional_tuning"), Check(_checks)


@validated(res=ACCURACY)
def study(res, roles) -> dict:
    """What the chapter reads of the stored ``compositional_accuracy`` result ``res``, once: ``names`` (its
    methods), ``k_grid``, ``index`` (role -> position in ``names``), ``acc1`` (method, k, seed: seen combinations
    after one epoch), ``per_composite`` (method, k: training operations per composite, the rule's search spread
    over the composites trained), ``twin_ks`` (where the matched network is the random one), ``own_ks`` (where
    it is a network of its own) and ``rule_ks`` (where the rule's network was trained at every seed)."""
    cfg = res.config
    names, k_grid = list(cfg["methods"]), [int(k) for k in cfg["n_images_grid"]]
    index = _index(names, roles)
    acc1 = np.asarray(res["acc_seen"])[..., 0]
    twins = twin_ks(res["same_as"], str(roles["matched"]))
    search = np.nan_to_num(res["search_flops"]) / (cfg["n_train"] * cfg["epochs"])
    return {
        "names": names,
        "k_grid": k_grid,
        "index": index,
        "acc1": acc1,
        "per_composite": res["flops"] + search,
        "twin_ks": twins,
        "own_ks": [k for k in k_grid if k not in twins],
        "rule_ks": trained_ks(acc1[index["rule"]], k_grid),
    }


def _verdict_words(subject: str) -> dict[str, str]:
    return {
        "higher": f"above {subject}",
        "lower": f"below {subject}",
        "no difference": f"not distinguishable from {subject}",
    }


def _baseline_values(s: dict, roles: dict) -> dict:
    """The tuned MLP at k = 1 against :data:`BAR` and the authors' number, and the random modular network there."""
    acc1, names, k_grid, i = s["acc1"], s["names"], s["k_grid"], s["index"]
    a1 = k_grid.index(1)
    m1, lo1, hi1 = md.ci(acc1[i["monolithic"], a1])
    g1 = md.paired_gain(acc1, i["random"], i["monolithic"])
    ref = reference.COMPOSITIONAL_CIFAR
    return {
        "k1_bar": BAR,
        "k1_vs_bar": "lies above" if lo1 > BAR else "lies below" if hi1 < BAR else "contains",
        "k1_mono": md.ci_text(m1, lo1, hi1),
        "k1_headline": md.headline(acc1, names, k_grid, 1, roles["monolithic"]),
        "k1_consequence": "the baseline meets it"
        if lo1 > BAR
        else "the baseline falls short of it, and the comparisons below are against a weaker baseline than we required"
        if hi1 < BAR
        else "the data cannot tell whether the baseline meets it",
        "authors_k1": ref[roles["monolithic"]][ref["k"].index(1)],
        "k1_random": md.ci_text(*md.ci(acc1[i["random"], a1])),
        "k1_rand_vs_mono": _verdict_words("the MLP's")[str(g1[3][a1])]
        + f", paired by seed ({md.ci_text(g1[0][a1], g1[1][a1], g1[2][a1])})",
    }


@validated(roles=Check(lambda value, name, arguments: _roles(value)))
def authors_numbers(roles) -> dict:
    """The authors' accuracies of the chapter's networks: ``{method: (k list, accuracy list)}`` for the MLP, the
    random modular network and the rule's, those that ``modscale_lib.reference.COMPOSITIONAL_CIFAR`` holds.
    ``roles`` : a dict with the keys of :data:`ROLES`."""
    ref = reference.COMPOSITIONAL_CIFAR
    chosen = (roles["monolithic"], roles["random"], roles["rule"])
    return {m: (list(ref["k"]), list(ref[m])) for m in chosen if m in ref}


def _against_k_values(s: dict, roles: dict) -> dict:
    """Whether mean accuracy falls with each doubling of k for every network the figure shows, and ours against
    the authors' per k (their number below, within or above our interval)."""
    acc1, names, k_grid = s["acc1"], s["names"], s["k_grid"]
    shown = [m for m in names if m != roles["matched"]]
    mean_k, low_k, high_k = md.ci(acc1)  # (method, k)
    falling = [m for m in shown if np.all(np.diff(mean_k[names.index(m)][np.isfinite(mean_k[names.index(m)])]) < 0)]
    against = []
    for m, (ks, theirs) in authors_numbers(roles).items():
        j = names.index(m)
        verdict = [
            "n/a"
            if not np.isfinite(mean_k[j, a])
            else "lower"
            if high_k[j, a] < theirs[ks.index(k)]
            else "higher"
            if low_k[j, a] > theirs[ks.index(k)]
            else "no difference"
            for a, k in enumerate(k_grid)
        ]
        words = {"lower": "below theirs", "higher": "above theirs", "no difference": "theirs within our interval"}
        against.append(f"{m}: " + by_verdict(verdict, k_grid, words))
    return {
        "acc_k_falls": "for every network shown"
        if len(falling) == len(shown)
        else f"for {', '.join(falling) if falling else 'no network'}",
        "acc_k_authors": "; ".join(against),
    }


def _matched_values(res, s: dict, roles: dict) -> dict:
    """Where the matched network is the random one, where it is its own, and its shape there against the others'."""

    def arch(k, method):
        return md.describe_arch(next(x["arch"] for x in res["settings"] if x["k"] == k and x["method"] == method))

    own = s["own_ks"]
    return {
        "twin_ks": ks_text(s["twin_ks"]),
        "own_ks": ks_text(own),
        "matched_archs": "; ".join(
            f"at k = {k}, {arch(k, roles['matched'])} against {arch(k, roles['random'])} and an "
            f"{arch(k, roles['monolithic'])}"
            for k in own
        )
        or "none",
    }


def _compute_values(s: dict) -> dict:
    """The random modular network against the MLP on the axis of compute, and the rule's network against the
    random one at the largest k (paired by seed)."""
    acc1, k_grid, i, per = s["acc1"], s["k_grid"], s["index"], s["per_composite"]
    cost = per[i["random"]] / per[i["monolithic"]]
    g_rule, kk = md.paired_gain(acc1, i["rule"], i["random"]), len(k_grid) - 1
    rule_words = {
        "higher": "more accurate than random projections",
        "lower": "less accurate than random projections",
        "no difference": "not distinguishable from random projections",
    }
    return {
        "flops_takeaway": by_verdict(
            md.paired_gain(acc1, i["random"], i["monolithic"])[3], k_grid, _verdict_words("the MLP")
        )
        + f", at {cost.min():.2f} to {cost.max():.2f} times the MLP's operations per composite",
        "gain_paper_kmax": md.ci_text(*(t[kk] for t in g_rule[:3])),
        "rule_rand_verdicts": by_verdict(g_rule[3], k_grid, rule_words),
    }


def _jpeg_values(checks: dict) -> dict:
    """The JPEG copy against the exact pixels, paired by seed (k = 2, one epoch): the difference per method and
    its side, and the training images both used."""
    seen = {n: np.asarray(checks[n]["acc_seen"])[:, 0, :, 0] for n in CHECKS}  # (method, seed)
    diff = md.ci(seen["jpeg_check"] - seen["lossless_check"])
    names = list(checks["jpeg_check"].config["methods"])
    side = [
        "higher on JPEG" if diff[1][j] > 0 else "lower on JPEG" if diff[2][j] < 0 else "no difference"
        for j in range(len(names))
    ]
    return {
        "check_images": int(checks["jpeg_check"].config["train_images"]),
        "jpeg_diff": "; ".join(f"{m}: {md.ci_text(*(t[j] for t in diff))}" for j, m in enumerate(names)),
        "jpeg_verdict": "; ".join(f"{m}: {v}" for m, v in zip(names, side)),
    }


def _cost_values(stored: list, cap_min: float) -> dict:
    """The recorded CPU minutes of every stored result the chapter reads, in all, against the cap."""
    total = sum(r.metadata["cpu_time_s"] / 60 for r in stored)
    return {"cost_total_min": total, "cost_cap_min": cap_min, "cost_within": "within" if total <= cap_min else "over"}


@validated(
    res=ACCURACY,
    tuning=TUNING,
    long=ACCURACY,
    checks=STORED_CHECKS,
    roles=Check(lambda value, name, arguments: _roles(value)),
    flops=FUNCTION,
    full=_holding("n_images_grid", "seeds", "epochs", attributes=True),
    cap_min=Real(0.0, low_open=True),
)
def conclusions(res, tuning, long, checks, *, roles, flops, full, cap_min) -> dict:
    """Every value the chapter glues, ``name -> value``, from its stored results: ``res`` the main
    ``compositional_accuracy`` result, ``tuning`` its ``compositional_tuning``, ``long`` the ``cpu_epochs``
    accuracy result, ``checks`` the two of :data:`CHECKS`. ``roles`` names the method of each of :data:`ROLES`;
    ``flops(arch, k)`` a network's training operations per composite
    (:func:`modscale_lib.composite_training.training_flops`); ``full`` the full-scale accuracy config (its
    ``n_images_grid``, ``seeds``, ``epochs``); ``cap_min`` the chapter's cap on CPU minutes."""
    s = study(res, roles)
    cfg, tcfg, runs, k_grid, names = res.config, tuning.config, tuning["runs"], s["k_grid"], s["names"]
    long_names, long_k = list(long.config["methods"]), [int(k) for k in long.config["n_images_grid"]]
    mono, rand = roles["monolithic"], roles["random"]
    return {
        **chapter_values(cfg, tcfg, k_grid),
        **tuning_values(tcfg, runs, tuning.metadata["cpu_time_s"]),
        **tuning_edges(runs, tuning["choices"], tcfg, k_grid, flops, mono, rand),
        **rule_objectives(runs, k_grid, roles["rule"], methods.rule("deflation")),
        "rule_ks": ks_text(s["rule_ks"]),
        **full_values(full),
        **_baseline_values(s, roles),
        **_against_k_values(s, roles),
        **_matched_values(res, s, roles),
        **_compute_values(s),
        **accuracy_gains(s["acc1"], s["per_composite"], names, k_grid, s["rule_ks"], roles),
        **lead_values(s["acc1"], s["per_composite"], names, k_grid, s["own_ks"], roles),
        **objective_values(res, names, k_grid, roles),
        **locality_values(res, names, k_grid, s["rule_ks"], roles),
        **unseen_values(res, s["acc1"], names, k_grid, s["twin_ks"], roles),
        **drop_values(res, s["acc1"], names, k_grid, roles),
        **epoch_values(
            long["acc_seen"], long_names, long_k, long.config["epochs"], len(long.config["seeds"]), mono, rand
        ),
        **_jpeg_values(checks),
        **_cost_values([tuning, res, long, checks["jpeg_check"], checks["lossless_check"]], cap_min),
    }
