"""The learning rule gives the same projections whatever the number of torch threads (bit for bit)."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

SCRIPT = r"""
import sys
import numpy as np
import torch
torch.set_num_threads(int(sys.argv[1]))
from modscale_lib.rule import find_module_projections
from modscale_lib.tasks import SineWaveTask
X, y = SineWaveTask(6, 2, seed=1).sample(600, seed=0)
U = find_module_projections(X, y, 2, steps=15, batch_size=256, width=64, refine_passes=1, seed=0)
assert torch.get_num_threads() == int(sys.argv[1]), "the thread count was not restored"
np.save(sys.argv[2], U)
"""


@pytest.mark.parametrize("variant_threads", [(1, 2)])
def test_projections_do_not_depend_on_the_thread_count(tmp_path, variant_threads):
    out = {}
    for threads in variant_threads:
        env = dict(os.environ, OMP_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads))
        path = tmp_path / f"U{threads}.npy"
        subprocess.run([sys.executable, "-c", SCRIPT, str(threads), str(path)], check=True, env=env, timeout=120)
        out[threads] = np.load(path)
    # The documented tolerance is zero: the search runs single-threaded (core.single_thread).
    np.testing.assert_array_equal(out[1], out[2])


def test_single_thread_restores_the_setting():
    import torch

    from modscale_lib.core import single_thread

    before = torch.get_num_threads()
    with pytest.raises(RuntimeError):
        with single_thread():
            assert torch.get_num_threads() == 1
            raise RuntimeError("inside")
    assert torch.get_num_threads() == before


# ---------------------------------------------------------------------------------------------------------
# Notebook outputs that hold across machines: long float reprs are compared at 10 significant digits
# ---------------------------------------------------------------------------------------------------------
import json  # noqa: E402
import re  # noqa: E402
from pathlib import Path  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
SANITIZE = ROOT / "tests" / "nbval_sanitize.cfg"
RECORD = "application/papermill.record/text/plain"


def _sanitise(text: str) -> str:
    """What nbval compares (the one definition, in tests/notebook_glue.py)."""
    from notebook_glue import sanitised

    return sanitised(text)


@pytest.mark.parametrize(
    "a, b",
    [
        ("0.7627048361341009", "0.7627048361341011"),
        ("1.5302717602247484", "1.5302717602247482"),
        ("0.3991719627397979", "0.3991719627397978"),
        ("-4.021835251434792", "-4.0218352514347915"),
        ("[0.0013020833333333333, 2e-05]", "[0.0013020833333333335, 2e-05]"),
        ("430.18274543025007", "430.1827454302501"),
        ("2.0000000000000004e-05", "2.0000000000000002e-05"),
    ],
)
def test_last_digits_of_long_float_reprs_are_not_compared(a, b):
    assert a != b and _sanitise(a) == _sanitise(b)


@pytest.mark.parametrize(
    "a, b",
    [
        ("0.7627048361341009", "0.7627048362341009"),
        ("0.763", "0.764"),
        ("76%", "77%"),
        ("1.2345678901", "1.2345678911"),
        ("0.0013020833333333333", "0.0013020834333333333"),
        ("12345678901.5", "12345678902.5"),
        ("seed 1234567890123", "seed 1234567890124"),
    ],
)
def test_printed_figures_and_the_first_ten_digits_are_compared(a, b):
    assert _sanitise(a) != _sanitise(b)


def test_short_numbers_are_left_as_they_are():
    text = "0.763 1.25 12345.67891 0.0001234567891 2.13.0 3.863078898 76% 1e-05 [0.5, 2]"
    assert _sanitise(text) == text


def _glue_records(nb: dict) -> dict:
    """The glue records of a notebook: name -> the repr its glue stored."""
    out = {}
    for cell in nb["cells"]:
        for output in cell.get("outputs", []):
            text = output.get("data", {}).get(RECORD)
            if text is not None:
                out[output["metadata"]["scrapbook"]["name"]] = "".join(text)
    return out


def _significant_digits(printed: str) -> int:
    mantissa = re.split(r"[eE]", printed.strip().rstrip("%"))[0].lstrip("+-").replace(".", "").replace(",", "")
    return len(mantissa.lstrip("0")) or 1


def test_the_book_prints_no_glued_float_to_the_digits_the_sanitiser_hides():
    # A glued value is printed through its role's format spec; the sanitiser compares reprs to 10 significant
    # digits, so every printed long float must show far fewer (here at most 6), and none is printed unformatted.
    checked = 0
    for path in sorted((ROOT / "book").glob("*.ipynb")):
        nb = json.loads(path.read_text())
        records = _glue_records(nb)
        prose = "".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "markdown")
        for _kind, target in re.findall(r"\{glue(?::(\w*))?\}`([^`]*)`", prose):
            name, _, spec = target.partition(":")
            value = records.get(name)
            if value is None or not re.fullmatch(r"-?\d+\.\d{10,}(e[+-]\d+)?", value):
                continue
            assert spec, f"{path.name}: {name} = {value} is printed as its full repr"
            printed = format(float(value), spec)
            assert _significant_digits(printed) <= 6, f"{path.name}: {name} printed as {printed}"
            checked += 1
    assert checked >= 50


GLUE_CELL = """from IPython.display import display
x = sum([0.1] * 7) / 3
# what myst_nb.glue(name, value, display=False) emits for a float: its repr under the papermill record mime type
display({"application/papermill.record/text/plain": repr(x)}, raw=True,
        metadata={"scrapbook": {"name": "x", "mime_prefix": "application/papermill.record/"}})
print(f"{x:.3f}")"""


def _notebook(path: Path, stored_record: str, stored_print: str) -> Path:
    """A notebook of one glue cell whose committed outputs are ``stored_record`` and ``stored_print``."""
    import nbformat

    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell(GLUE_CELL, execution_count=1)
    cell.outputs = [
        nbformat.v4.new_output(
            "display_data",
            data={RECORD: stored_record},
            metadata={"scrapbook": {"name": "x", "mime_prefix": "application/papermill.record/"}},
        ),
        nbformat.v4.new_output("stream", name="stdout", text=stored_print + "\n"),
    ]
    nb.cells = [cell]
    nbformat.write(nb, path)
    return path


def test_nbval_applies_the_sanitiser_to_glue_records(tmp_path):
    # End to end, through nbval itself: outputs committed on "another machine", whose glue record differs from
    # this one's in its last digit, pass; a printed figure that differs at the precision the book prints fails.
    x = sum([0.1] * 7) / 3
    here = repr(x)
    assert re.fullmatch(r"0\.\d{15,}", here) and f"{x:.3f}" == "0.233", here
    there = here[:-1] + str((int(here[-1]) + 3) % 10)  # the last digit, as another CPU gives it
    _notebook(tmp_path / "a_glue_differs.ipynb", there, "0.233")
    _notebook(tmp_path / "b_print_differs.ipynb", here, "0.234")
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-v",
            "-p",
            "no:cacheprovider",
            "-o",
            "addopts=",
            "--rootdir",
            str(tmp_path),
            "--nbval",
            "--nbval-current-env",
            "--nbval-sanitize-with",
            str(SANITIZE),
            "a_glue_differs.ipynb",
            "b_print_differs.ipynb",
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=300,
    )
    assert re.search(r"a_glue_differs\S*Cell 0 PASSED", proc.stdout), proc.stdout[-3000:]
    assert re.search(r"b_print_differs\S*Cell 0 FAILED", proc.stdout), proc.stdout[-3000:]
    assert "0.234" in proc.stdout  # the failure shows the figure
