import os

import pytest


def pytest_addoption(parser, pluginmanager):
    # pyproject.toml's addopts pass nbval's options; with nbval switched off (``-p no:nbval``, to run the unit
    # tests alone) they are accepted here and ignored, instead of failing as unknown arguments.
    if not pluginmanager.has_plugin("nbval"):
        group = parser.getgroup("nbval (switched off)")
        group.addoption("--nbval", action="store_true", help="ignored: nbval is switched off")
        group.addoption("--nbval-current-env", action="store_true", help="ignored: nbval is switched off")
        group.addoption("--nbval-sanitize-with", help="ignored: nbval is switched off")


@pytest.fixture
def store(tmp_path, monkeypatch):
    """An empty results store (a folder with the store's marker) in a temporary folder, in the default mode."""
    from modscale_lib.store import init_store

    init_store(tmp_path)
    monkeypatch.setenv("MODSCALE_RESULTS_DIR", str(tmp_path))
    monkeypatch.delenv("MODSCALE_RESULTS", raising=False)
    return tmp_path


# Tests never write to the committed store by accident.
os.environ.setdefault("MODSCALE_RESULTS", "read")
