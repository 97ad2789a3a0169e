"""Every lesson notebook runs top to bottom, headless, on the simulated board.

Notebooks are committed without outputs; this executes them in a fresh kernel
(nbclient) and fails on the first cell that raises.  The executed copies are
written to ``test-artifacts/notebooks/`` for a look at what a student sees.
"""

from __future__ import annotations

import os
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((REPO / "notebooks").glob("*.ipynb"))
ARTIFACTS = REPO / "test-artifacts" / "notebooks"
CELL_TIMEOUT_S = 600


def test_there_are_notebooks():
    assert any(nb.name.startswith("00_start_here") for nb in NOTEBOOKS)


@pytest.mark.notebook
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs_headless(path: Path) -> None:
    notebook = nbformat.read(path, as_version=4)
    assert all(not cell.get("outputs") for cell in notebook.cells if cell.cell_type == "code"), \
        f"{path.name} is committed with outputs; clear them"
    os.environ.setdefault("LABKIT_BOARD", "sim")
    client = NotebookClient(notebook, timeout=CELL_TIMEOUT_S, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}})
    client.execute()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    nbformat.write(notebook, ARTIFACTS / path.name)
    first = notebook.cells[0]
    assert first.cell_type == "markdown" and "Goal" in first.source, "a lesson opens with its goal"
    assert any("check" in cell.source for cell in notebook.cells if cell.cell_type == "code"), \
        "a lesson ends with an exercise and its check"
    # The exercises' first attempts are wrong: after Run All, a cell computing from one says so.
    for cell in notebook.cells:
        if cell.cell_type == "code" and "note_answer(" in cell.source:
            text = "".join(o.get("text", "") for o in cell.outputs if o.get("output_type") == "stream")
            assert "did not pass its check" in text, f"{path.name}: no note in {cell.source[:80]!r}"
