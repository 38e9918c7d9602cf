"""Every result committed to `results/` reads back intact and belongs to the current code."""
import pytest

from modscale_lib import experiments, results  # noqa: F401  (importing experiments registers them)

STORED = results.stored_results(results.Path(__file__).resolve().parent.parent / "results")


def test_the_store_is_not_empty():
    assert STORED, "results/ holds no stored results"


@pytest.mark.parametrize("path", STORED, ids=[f"{p.parent.name}/{p.stem}" for p in STORED])
def test_stored_result_is_intact_and_current(path):
    res = results.read(path)
    assert res.experiment in results.REGISTRY, f"{path}: no experiment is registered as {res.experiment!r}"
    exp = results.REGISTRY[res.experiment]
    assert res.version == exp.version, (f"{path} was computed by version {res.version} of {res.experiment}, "
                                        f"the code is at version {exp.version}: recompute it")
    exp.config_from_dict(res.config)  # the stored config is still a valid config
