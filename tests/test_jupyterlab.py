"""The notebooks are meant to be run in JupyterLab (requirements.txt installs it)."""

import shutil
import subprocess
import sys
from pathlib import Path


def test_jupyter_lab_runs():
    jupyter = shutil.which("jupyter", path=str(Path(sys.executable).parent)) or shutil.which("jupyter")
    assert jupyter, "jupyter is not installed"
    done = subprocess.run([jupyter, "lab", "--version"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert int(done.stdout.strip().split(".")[0]) >= 4, done.stdout
