"""Hostile cases of the package of *Exponential or polynomial?* (``modscale_lib.chapters.scaling_law``): its
read-out (``measurements`` and ``conclusions``, which refuse anything but the stored results and the
measurements before computing), its verdicts in words, and its figure (the analysis it calls, ``law_readout`` and
``laws``, has its cases in ``laws.py``)."""

from __future__ import annotations

import functools

import numpy as np

from .laws import INF, NAN, POS, ROW, _decision, _study

M = "chapters.scaling_law"

#: Public names of this chapter's package without a case yet (the coverage test in test_hostile.py reads it).
NOT_YET: dict[str, list[str]] = {}

#: The figure, tables and printed lines of the measurements: each refuses anything but ``measurements``' dict.
SHOWN = (
    "samples_figure",
    "provenance_lines",
    "methods_table",
    "stopping_table",
    "choice_lines",
    "decision_lines",
    "fits_table",
    "curvature_table",
    "coverage_lines",
    "regime_laws_table",
    "placement_table",
    "regime_kinds_table",
    "consistency_table",
    "paired_table",
    "compute_table",
)


@functools.cache
def _stored():
    """The stored results of the study, their capacity searches and the experiment's constants, read once."""
    from modscale_lib import experiments, store
    from modscale_lib.experiments import scaling_law
    from modscale_lib.networks import RIDGES

    stored, missing = scaling_law.load_stored()
    capacity = experiments.scaling_law_capacity
    searches = {
        n: (capacity.config(n), store.load_or_run(capacity, capacity.config(n), mode="read"))
        for n in stored
        if n not in scaling_law.RULE_CONFIGS
    }
    facts = {
        "rule_configs": scaling_law.RULE_CONFIGS,
        "rule_label": scaling_law.method_label("rule", scaling_law.RULE_VARIANT),
        "rule_min_samples": scaling_law.RULE_MIN_SAMPLES,
        "rule_i_min": scaling_law.ScalingLawConfig.cpu_rule().i_min,
        "n_ridges": len(RIDGES),
    }
    return stored, missing, searches, facts


@functools.cache
def _measured() -> dict:
    from modscale_lib.chapters import scaling_law as sl

    stored, missing, searches, facts = _stored()
    return sl.measurements(stored, missing, searches, **facts)


class _Provenanced(dict):
    """A stored-like result (a dict with its provenance)."""

    def provenance(self):
        return "a stored result"


def _readout(bad, good) -> None:
    from types import SimpleNamespace

    from modscale_lib.chapters import scaling_law as sl

    def measure(stored=None, missing=None, searches=None, **kw):
        s, m, q, facts = _stored()
        args = (s if stored is None else stored, m if missing is None else missing, q if searches is None else searches)
        return len(sl.measurements(*args, **{**facts, **kw}))

    wrong_stored = [[1], {"a": 5}, {"a": (None, 5)}, {}]
    bad(M, "measurements", "stored", wrong_stored, lambda v: measure(stored=v))
    bad(M, "measurements", "missing", [["cpu"], {"cpu": 5}], lambda v: measure(missing=v))
    bad(M, "measurements", "searches", [[1], {"a": 5}], lambda v: measure(searches=v))
    bad(M, "measurements", "rule_configs", [5, [1]], lambda v: measure(rule_configs=v))
    bad(M, "measurements", "rule_label", ["MLP", None], lambda v: measure(rule_label=v))
    bad(M, "measurements", "rule_min_samples", [0, 2.5, -1, NAN], lambda v: measure(rule_min_samples=v))
    bad(M, "measurements", "rule_i_min", [-1, 2.5, 10**6], lambda v: measure(rule_i_min=v))
    bad(M, "measurements", "n_ridges", [0, 2.5, 10**9], lambda v: measure(n_ridges=v))
    good(M, "measurements", "the stored study", lambda: len(_measured()))
    bad(M, "conclusions", "measured", [None, {}, [1], {"stored": {}}], lambda v: sl.conclusions(v))
    good(M, "conclusions", "the stored study", lambda: sl.conclusions(_measured()))
    cfg, res = _study()
    study = {"cpu": (cfg, _Provenanced(res))}
    bad(M, "stopping_columns", "stored", wrong_stored, lambda v: sl.stopping_columns(v, study))
    bad(M, "stopping_columns", "studies", [{}, {"a": (None, _Provenanced())}], lambda v: sl.stopping_columns(study, v))
    good(M, "stopping_columns", "a small study", lambda: sl.stopping_columns(study, study)["networks"])
    with_methods = SimpleNamespace(**vars(cfg), methods=("monolithic", "random_features"), mlp_lr_slots=(0.5, 1.0))
    res2 = _Provenanced(res, choice=np.zeros((1, 2, 3, 3, 2)))
    bad(M, "choice_rates", "studies", [{}, study, [1]], lambda v: sl.choice_rates(v, 3))
    bad(M, "choice_rates", "n_ridges", [0, 2.5, NAN], lambda v: sl.choice_rates({"a": (with_methods, res2)}, v))
    good(M, "choice_rates", "a small study", lambda: sl.choice_rates({"a": (with_methods, res2)}, 3))
    predicted = {"task": ["sine"], "regime": ["online gradient training"], "exponent": [1.0]}
    bad(
        M,
        "pick",
        "predicted",
        [None, {"task": []}],
        lambda v: sl.pick(v, "sine", "online gradient training", "exponent"),
    )
    bad(M, "pick", "family", [None, 5], lambda v: sl.pick(predicted, v, "online gradient training", "exponent"))
    bad(M, "pick", "regime", [None], lambda v: sl.pick(predicted, "sine", v, "exponent"))
    bad(M, "pick", "column", ["basis", None], lambda v: sl.pick(predicted, "sine", "online gradient training", v))
    good(M, "pick", "one row", lambda: sl.pick(predicted, "sine", "online gradient training", "exponent"))
    for name in SHOWN:
        bad(M, name, "measured", [{}, {"stored": {}}, [1], "measured"], functools.partial(_show, name))
        good(M, name, "the stored study", functools.partial(_show, name, None))
    bad(M, "decision_lines", "which", ["third", None], lambda v: sl.decision_lines(_measured(), v))
    bad(M, "regime_laws_table", "networks", ["yes", 2.5], lambda v: sl.regime_laws_table(_measured(), v))


def _show(name: str, measured=None):
    """What ``name`` shows of ``measured`` (the stored study's measurements where None); a figure is closed."""
    import matplotlib.pyplot as plt

    from modscale_lib.chapters import scaling_law as sl

    out = getattr(sl, name)(_measured() if measured is None else measured)
    if isinstance(out, plt.Figure):
        plt.close(out)
        return 0
    return out


class _Stored:
    def provenance(self):
        return "a stored result"


def _contrast(diff=(0.1, -0.1, 0.3), ratio=(2.0, 1.5, 2.5), upper=None):
    up = None if upper is None else {"seeds": 3, "m": np.array([8.0, 16.0]), "exponent_difference": upper}
    return {"seeds": 3, "m": np.array([4.0, 8.0, 16.0]), "exponent_difference": diff, "level_ratio": ratio, "upper": up}


def _law_verdicts(bad, good) -> None:
    from modscale_lib.chapters import scaling_law as lv

    V = M
    stored = {"cpu_sine": (None, _Stored()), "cpu_sine_rule": (None, _Stored())}
    bad(V, "partition_stored", "stored", [None, [1], {"a": 5}, {"a": (None, 5)}], lambda v: lv.partition_stored(v, []))
    bad(V, "partition_stored", "rule_configs", [5, "cpu_sine_rule", [1]], lambda v: lv.partition_stored(stored, v))
    good(V, "partition_stored", "a rule result", lambda: lv.partition_stored(stored, {"cpu_sine_rule"})[2])
    good(V, "partition_stored", "rule configs by name", lambda: lv.partition_stored(stored, {"cpu_sine_rule": 0})[2])
    bad(V, "stored_lines", "stored", [None, {"a": (1, 2)}], lambda v: lv.stored_lines(v, {}, []))
    bad(V, "stored_lines", "missing", [["cpu"], {"cpu": 5}], lambda v: lv.stored_lines(stored, v, []))
    bad(V, "stored_lines", "waiting", ["cpu", [None]], lambda v: lv.stored_lines(stored, {}, v))
    rows = [dict(ROW, regime=r, **{"exponent over the range": x}) for r, x in ((lv.ONLINE, 1.0), (lv.KERNEL, 8.5))]
    bad(
        V,
        "regimes_consistent",
        "task",
        ["sine", None, "cubic:2"],
        lambda v: lv.regimes_consistent(v, _decision(), rows),
    )
    bad(
        V,
        "regimes_consistent",
        "decision",
        [None, {"law": "power"}, _decision(law="cubic")],
        lambda v: lv.regimes_consistent("sine:2", v, rows),
    )
    bad(
        V,
        "regimes_consistent",
        "pred_rows",
        [None, [5], [{"task": "sine"}], "rows"],
        lambda v: lv.regimes_consistent("sine:2", _decision(), v),
    )
    good(
        V,
        "regimes_consistent",
        "censored below",
        lambda: lv.regimes_consistent("he1:2", _decision("undecided", -INF, INF, below=50), rows),
    )
    decided = {("sine:2", "monolithic"): _decision()}
    bad(
        V,
        "regime_table",
        "decided",
        [None, {"sine:2": _decision()}, {("sine:2", "monolithic"): None}],
        lambda v: lv.regime_table(v, rows),
    )
    bad(V, "regime_table", "pred_rows", [None, [None]], lambda v: lv.regime_table(decided, v))
    table = lv.regime_table(decided, rows)
    bad(
        V,
        "regime_glues",
        "rows",
        [None, {"task": ["a"]}, dict(table, task=[])],
        lambda v: lv.regime_glues(v, {"mlp": "monolithic"}),
    )
    bad(V, "regime_glues", "labels", [None, ["monolithic"], {"mlp": 5}], lambda v: lv.regime_glues(table, v))
    good(V, "regime_glues", "one learner", lambda: lv.regime_glues(table, {"mlp": "monolithic"}))
    bad(V, "sides", "interval", [None, (1.0, 0.5), (NAN, 0.0, 1.0), (0.0, 1.0, -1.0), "abc"], lambda v: lv.sides(v))
    good(V, "sides", "a list", lambda: lv.sides([0.5, 0.1, 0.9]))
    wrong_contrast = [
        None,
        {},
        _contrast(diff=(0.1, NAN, 0.3)),
        _contrast(ratio=(1.0,)),
        dict(_contrast(), upper=5),
        dict(_contrast(), seeds=1),
    ]
    bad(V, "exponent_sign", "contrast", wrong_contrast, lambda v: lv.exponent_sign(v))
    good(V, "exponent_sign", "an upper range", lambda: lv.exponent_sign(_contrast(upper=(0.2, 0.1, 0.3))))
    cfg, res = _study()
    studies = {"cpu": (cfg, res)}
    bad(
        V,
        "contrasts",
        "studies",
        [None, {"cpu": (cfg, {})}],
        lambda v: lv.contrasts(v, 0.1, "monolithic", ["modular, random"]),
    )
    bad(V, "contrasts", "target", POS, lambda v: lv.contrasts(studies, v, "monolithic", ["modular, random"]))
    bad(V, "contrasts", "label", ["MLP", None], lambda v: lv.contrasts(studies, 0.1, v, ["modular, random"]))
    bad(
        V,
        "contrasts",
        "others",
        ["modular, random", ["random"], 5],
        lambda v: lv.contrasts(studies, 0.1, "monolithic", v),
    )
    good(V, "contrasts", "a small study", lambda: len(lv.contrasts(studies, 0.1, "monolithic", ["modular, random"])))
    pairs = {("sine:2", "modular, random"): _contrast()}
    wrong_contrasts = [
        None,
        [_contrast()],
        {"sine:2": _contrast()},
        {("sine:2", "R"): {}},
        {("sine:2", 5): _contrast()},
    ]
    bad(V, "contrast_table", "contrasts", wrong_contrasts, lambda v: lv.contrast_table(v))
    good(V, "contrast_table", "one pair", lambda: lv.contrast_table(pairs)[1])
    bad(V, "contrast_words", "contrasts", wrong_contrasts, lambda v: lv.contrast_words(v))
    words = lv.contrast_words(pairs)
    wrong_words = [None, [("a",)], [("a:2 against R", "x", "a level", "s", "r", 0)], [words[0][:5] + (2,)], "words"]
    bad(V, "modularity_word", "words", wrong_words, lambda v: lv.modularity_word(v))
    good(V, "modularity_word", "one pair", lambda: lv.modularity_word(words))
    bad(V, "claim_needs", "words", wrong_words, lambda v: lv.claim_needs(v, {"sine:2": "power"}))
    bad(V, "claim_needs", "mlp_laws", [None, {"sine:2": "cubic"}, {2: "power"}], lambda v: lv.claim_needs(words, v))
    good(V, "claim_needs", "no contrast", lambda: lv.claim_needs([], {"sine:2": "exponential"}))
    bad(V, "claim_verdicts", "contrasts", wrong_contrasts, lambda v: lv.claim_verdicts(v, decided, rows))
    bad(
        V,
        "claim_verdicts",
        "decided",
        [None, {("sine:2", "monolithic"): {}}],
        lambda v: lv.claim_verdicts(pairs, v, rows),
    )
    bad(
        V,
        "claim_verdicts",
        "pred_rows",
        [None, rows[:1], [dict(r, task="He_1") for r in rows]],
        lambda v: lv.claim_verdicts(pairs, decided, v),
    )
    good(V, "claim_verdicts", "one pair", lambda: lv.claim_verdicts(pairs, decided, rows))


def _law_figures(bad, good) -> None:
    from modscale_lib.chapters import scaling_law as law_figures

    G = M
    n = np.tile(np.array([10.0, 20, 40])[None, None, :, None], (2, 1, 1, 3))
    cens = np.full(n.shape, "", dtype=object)

    def figure(**kw):
        import matplotlib.pyplot as plt

        args = {
            "input_dims": [4, 8, 16],
            "n_star": n,
            "censoring": cens,
            "labels": ["monolithic"],
            "titles": ["a", "b"],
        }
        plt.close(law_figures.law_figure(**{**args, **kw}))
        return 0

    bad(G, "law_figure", "input_dims", [[4, 8], [4, NAN, 16], [0, 8, 16], "x"], lambda v: figure(input_dims=v))
    bad(G, "law_figure", "n_star", [n[0], -n, n[:, :, :2], np.full(n.shape, "a")], lambda v: figure(n_star=v))
    bad(G, "law_figure", "censoring", [cens[:1], np.full(n.shape, "bogus")], lambda v: figure(censoring=v))
    bad(G, "law_figure", "labels", [[], ["a", "b"], "monolithic", [5]], lambda v: figure(labels=v))
    bad(G, "law_figure", "titles", [["a"], "ab", None], lambda v: figure(titles=v))
    bad(G, "law_figure", "fits", [5, [1]], lambda v: figure(fits=v))
    bad(G, "law_figure", "n_range", [(8,), (0, 16), (16, 8), (NAN, 8)], lambda v: figure(n_range=v))
    bad(G, "law_figure", "columns", [0, 2.5, 10**6], lambda v: figure(columns=v))
    good(
        G, "law_figure", "a fit drawn", lambda: figure(fits={0: {0: {"power": (2.0, 1.0), "exponential": (2.0, 0.1)}}})
    )


def register(bad, good) -> None:
    """Add this group's cases with ``bad(module, function, parameter, values, call)`` and ``good(...)``."""
    _readout(bad, good)
    _law_verdicts(bad, good)
    _law_figures(bad, good)
