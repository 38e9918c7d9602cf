import os

import pytest


@pytest.fixture
def store(tmp_path, monkeypatch):
    """An empty results store in a temporary folder, in the default mode."""
    monkeypatch.setenv("MODSCALE_RESULTS_DIR", str(tmp_path))
    monkeypatch.delenv("MODSCALE_RESULTS", raising=False)
    return tmp_path


# Tests never write to the committed store by accident.
os.environ.setdefault("MODSCALE_RESULTS", "read")
