"""The notebooks: committed without outputs, and each one runs top to bottom."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
EXPECTED = (
    "3.1-tensors-and-autograd.ipynb",
    "3.2-image-restoration.ipynb",
    "3.3-first-neural-network.ipynb",
)


#: The Korean notebooks: the same code cells, Korean markdown (README.ko.md).
KOREAN = NOTEBOOKS / "ko"


def _notebooks():
    return sorted(NOTEBOOKS.glob("*.ipynb")) + sorted(KOREAN.glob("*.ipynb"))


def _name(path):
    return str(path.relative_to(NOTEBOOKS))


def test_one_notebook_per_section():
    assert {p.name for p in NOTEBOOKS.glob("*.ipynb")} >= set(EXPECTED)
    assert {p.name for p in KOREAN.glob("*.ipynb")} >= set(EXPECTED)


@pytest.mark.parametrize("name", EXPECTED)
def test_korean_notebook_has_the_same_code(name):
    """Each Korean notebook runs the English one's code, cell for cell, and its markdown is
    Korean and follows the book's section numbers."""
    english = nbformat.read(NOTEBOOKS / name, as_version=4)
    korean = nbformat.read(KOREAN / name, as_version=4)
    assert [c.cell_type for c in korean.cells] == [c.cell_type for c in english.cells]
    assert [c.source for c in korean.cells if c.cell_type == "code"] == \
        [c.source for c in english.cells if c.cell_type == "code"]
    markdown = [c.source for c in korean.cells if c.cell_type == "markdown"]
    assert all(re.search(r"[\uac00-\ud7a3]", m) for m in markdown)
    section = name[:3]
    numbers = re.findall(rf"^#+ ({re.escape(section)}\.\d)", "\n".join(markdown), re.M)
    assert numbers and numbers == sorted(numbers), numbers


@pytest.mark.parametrize("path", _notebooks(), ids=_name)
def test_notebook_is_stripped(path):
    """What nbstripout would remove is absent: outputs, execution counts, run metadata."""
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    dirty = []
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "code" and (cell.outputs or cell.execution_count is not None):
            dirty.append(f"cell {i} has outputs or an execution count")
        if {"execution", "collapsed", "scrolled"} & set(cell.metadata):
            dirty.append(f"cell {i} has run metadata {sorted(cell.metadata)}")
    assert not {"widgets", "signature"} & set(nb.metadata), "notebook metadata from a run"
    assert not dirty, (f"{path.name}: {'; '.join(dirty)}. Strip it with 'nbstripout {path}' "
                       "(or run 'nbstripout --install' once so git does it)")


@pytest.mark.slow
@pytest.mark.parametrize("path", _notebooks(), ids=_name)
def test_notebook_runs(path, tmp_path, monkeypatch):
    """Execute every cell in a fresh python3 kernel; any exception fails the test."""
    nbclient = pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    monkeypatch.setenv("MPLBACKEND", "Agg")
    nb = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(nb, kernel_name="python3", timeout=300,
                                     resources={"metadata": {"path": str(tmp_path)}})
    client.execute()
    code_cells = [c for c in nb.cells if c.cell_type == "code"]
    assert code_cells and all(c.execution_count is not None for c in code_cells)
    errors = [o for c in code_cells for o in c.outputs if o.output_type == "error"]
    assert not errors
