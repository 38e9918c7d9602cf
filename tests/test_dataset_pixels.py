"""No notebook output holds an image made from the dataset's pixels (CIFAR-10's licence allows research use, not
redistribution, and a committed output is redistributed with the book).

The check is on the code that made each image: a code cell with an image output must not call the dataset's
readers, nor use a name that a reader's result was bound to anywhere in the notebook. Figures of results
(accuracies, overlaps) and the composite's schematic (class indices drawn as boxes) pass; ``plt.imshow`` of a
loaded image does not.
"""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest

BOOK = Path(__file__).resolve().parent.parent / "book"
NOTEBOOKS = sorted(BOOK.glob("*.ipynb"))
#: The library's functions that return the dataset's pixels (modscale_lib.data and its cached loaders).
READERS = {"load_cifar10", "compositional_cifar", "composite_features", "assemble", "add_pixel_noise", "to_features"}
IMAGE_TYPES = ("image/png", "image/jpeg", "image/svg+xml", "image/gif")


def _calls_reader(node: ast.AST) -> bool:
    for sub in ast.walk(node):
        if isinstance(sub, ast.Call):
            func = sub.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
            if name in READERS:
                return True
    return False


def _tree(source: str) -> ast.AST | None:
    lines = [line for line in source.splitlines() if not line.lstrip().startswith(("%", "!"))]
    try:
        return ast.parse("\n".join(lines))
    except SyntaxError:
        return None


def tainted_names(cells) -> set[str]:
    """Names bound anywhere in the notebook to the result of a dataset reader (tuple targets included)."""
    names: set[str] = set()
    for cell in cells:
        tree = _tree("".join(cell["source"]))
        for node in ast.walk(tree) if tree is not None else ():
            if isinstance(node, ast.Assign) and _calls_reader(node.value):
                for target in node.targets:
                    names |= {n.id for n in ast.walk(target) if isinstance(n, ast.Name)}
    return names


def offending_cells(notebook: dict) -> list[int]:
    """Indices of code cells that have an image output and read the dataset's pixels."""
    cells = notebook["cells"]
    tainted = tainted_names([c for c in cells if c["cell_type"] == "code"])
    bad = []
    for i, cell in enumerate(cells):
        if cell["cell_type"] != "code":
            continue
        has_image = any(kind in output.get("data", {}) for output in cell.get("outputs", []) for kind in IMAGE_TYPES)
        if not has_image:
            continue
        source = "".join(cell["source"])
        tree = _tree(source)
        if tree is None:
            bad.append(i)  # unparsable code with an image: cannot be cleared
            continue
        used = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
        if _calls_reader(tree) or used & tainted:
            bad.append(i)
    return bad


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_no_output_image_is_made_from_the_dataset(path):
    bad = offending_cells(json.loads(path.read_text()))
    assert not bad, f"{path.name}: code cells {bad} draw an image from the dataset's pixels; remove their output"


def test_the_check_catches_a_loaded_image_and_passes_a_schematic():
    png = {"output_type": "display_data", "data": {"image/png": "iVBOR", "text/plain": "<Figure>"}}

    def code(source, outputs=()):
        return {"cell_type": "code", "source": source, "outputs": list(outputs), "metadata": {}}

    shown = {
        "cells": [
            code("x_train, y_train, _, _ = data.load_cifar10()\n"),
            code("plt.imshow(x_train[0])\nplt.show()\n", [png]),
        ]
    }
    direct = {"cells": [code("plt.imshow(data.compositional_cifar(x, y, k=3, n=1)[0][0])\n", [png])]}
    schematic = {
        "cells": [
            code("present.composite_schematic(axes, examples, data.CLASS_NAMES, unseen)\n", [png]),
            code("x_train, y_train, _, _ = data.load_cifar10()\nprint(x_train.shape)\n"),
        ]
    }
    assert offending_cells(shown) == [1]
    assert offending_cells(direct) == [0]
    assert offending_cells(schematic) == []
