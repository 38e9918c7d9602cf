"""Hostile cases of the package of *Sample complexity against dimension* (``modscale_lib.chapters.sample_complexity``)
and of :func:`modscale_lib.store.check_result`, the check of a read-out's stored inputs: each public function
refuses what is not a stored result of its experiment, its config, or the measurements, before it computes."""

from __future__ import annotations

import functools

#: Public names of this chapter's package without a case yet: none.
NOT_YET: dict[str, list[str]] = {}


@functools.cache
def _stored():
    """The stored results the chapter reads, as ``{name: (config, result)}``, read once, when a case needs them."""
    from modscale_lib import experiments, store

    out = {}
    for name in ("sample_complexity_sweep", "monolithic_steps", "sample_complexity_capacity", "objective_cost"):
        exp = getattr(experiments, name)
        config = store.chapter_config(exp)
        out[name] = (config, store.load_or_run(exp, config, mode="read"))
    return out


#: A stand-in for the measurements: the keys that check_measured asks for, each of no use to a computation.
FAKE = dict.fromkeys(
    ("res", "config", "labels", "rel", "rows", "verdicts", "controls", "tuned", "law_rows", "law_decisions")
)


def register(bad, good) -> None:
    """Add this group's cases with ``bad(module, function, parameter, values, call)`` and ``good(...)``."""
    import dataclasses

    import numpy as np

    from modscale_lib import experiments, store
    from modscale_lib.chapters import sample_complexity as sc

    S = "store"
    sweep = lambda: _stored()["sample_complexity_sweep"]  # noqa: E731
    bad(S, "check_result", "res", [None, {}, np.ones(3), "res"], lambda v: store.check_result(v, None, "x"))
    bad(S, "check_result", "res", ["monolithic_steps"], lambda v: store.check_result(sweep()[1], sweep()[0], v))
    tiny = experiments.SampleComplexityConfig.tiny()
    bad(
        S,
        "check_result",
        "config",
        [None, {}, tiny, experiments.SampleComplexityConfig],
        lambda v: store.check_result(sweep()[1], v, "sample_complexity_sweep"),
    )
    good(
        S,
        "check_result",
        "the stored sweep and its config",
        lambda: store.check_result(sweep()[1], sweep()[0], "sample_complexity_sweep"),
    )

    M = "chapters.sample_complexity"

    def measure(res=None, config=None, steps=None, steps_config=None, law_studies=None):
        st = _stored()
        res = st["sample_complexity_sweep"][1] if res is None else res
        config = st["sample_complexity_sweep"][0] if config is None else config
        steps = st["monolithic_steps"][1] if steps is None else steps
        steps_config = st["monolithic_steps"][0] if steps_config is None else steps_config
        law_studies = {} if law_studies is None else law_studies
        return sc.measurements(res, config, steps=steps, steps_config=steps_config, law_studies=law_studies)

    bad(M, "measurements", "res", [{}, np.ones(3), "sample_complexity_sweep"], lambda v: measure(res=v))
    bad(
        M,
        "measurements",
        "res",
        ["monolithic_steps"],
        lambda v: measure(res=dataclasses.replace(_stored()["sample_complexity_sweep"][1], experiment=v)),
    )
    bad(M, "measurements", "config", [tiny, {}, experiments.SampleComplexityConfig], lambda v: measure(config=v))
    bad(M, "measurements", "steps", [{}, 3], lambda v: measure(steps=v))
    bad(M, "measurements", "steps", ["sweep"], lambda v: measure(steps=sweep()[1], steps_config=sweep()[0]))
    bad(M, "measurements", "steps_config", [{}, tiny], lambda v: measure(steps_config=v))
    bad(M, "measurements", "law_studies", [[1], "cpu", 3], lambda v: measure(law_studies=v))
    bad(M, "measurements", "law_studies", [{"cpu": 1}, {"cpu": (1, 2, 3)}], lambda v: measure(law_studies=v))
    bad(M, "measurements", "law_studies", [{"cpu": sweep()}], lambda v: measure(law_studies=v))

    def conclude(measured=None, capacity=None, cost=None):
        st = _stored()
        capacity_config, stored_capacity = st["sample_complexity_capacity"]
        cost_config, stored_cost = st["objective_cost"]
        return sc.conclusions(
            FAKE if measured is None else measured,
            capacity=stored_capacity if capacity is None else capacity,
            capacity_config=capacity_config,
            cost=stored_cost if cost is None else cost,
            cost_config=cost_config,
        )

    bad(M, "conclusions", "measured", [{}, [], 3, {"res": 1}], lambda v: conclude(measured=v))
    bad(M, "conclusions", "capacity", [{}, 3], lambda v: conclude(capacity=v))
    bad(M, "conclusions", "capacity", ["sweep"], lambda v: conclude(capacity=sweep()[1]))
    bad(M, "conclusions", "cost", [{}, 3], lambda v: conclude(cost=v))
    bad(M, "check_measured", "measured", [None, {}, [1], {"res": 1}], sc.check_measured)
    good(M, "check_measured", "a dict with the measurements' keys", lambda: sc.check_measured(FAKE))
    bad(M, "law_growth_rows", "law_studies", [None, [1], {"cpu": 1}], lambda v: sc.law_growth_rows(v, 0.1))
    bad(M, "law_growth_rows", "target", [0.0, -1.0, float("nan"), "x"], lambda v: sc.law_growth_rows({}, v))
    good(M, "law_growth_rows", "no stored study", lambda: sc.law_growth_rows({}, 0.1))
    bad(M, "similarity_trend", "first", [float("nan"), 2.0, "x", None], lambda v: sc.similarity_trend(v, 1.0))
    bad(M, "similarity_trend", "last", [float("inf"), -2.0], lambda v: sc.similarity_trend(1.0, v))
    bad(M, "similarity_trend", "tolerance", [-0.1, float("nan"), 2.0], lambda v: sc.similarity_trend(1.0, 1.0, v))
    good(M, "similarity_trend", "equal values", lambda: sc.similarity_trend(1.0, 1.0))
    for name in sc.figures.__all__:
        if name != "cost_table":
            bad(M, name, "measured", [None, {}, 3, {"res": 1}], getattr(sc, name))
    bad(M, "cost_table", "cost", [None, {}, 3], lambda v: sc.cost_table(v, _stored()["objective_cost"][0]))
    bad(M, "cost_table", "cost", ["sweep"], lambda v: sc.cost_table(*reversed(sweep())))
