"""The example notebook (docs/tour.ipynb) runs from top to bottom: what the README's Python API
section promises a notebook user."""

from __future__ import annotations

import pytest

from .conftest import REPO


@pytest.mark.slow
def test_the_tour_notebook_runs(tmp_path):
    import nbformat
    from nbclient import NotebookClient

    notebook = nbformat.read(REPO / "docs" / "tour.ipynb", as_version=4)
    client = NotebookClient(notebook, timeout=900, kernel_name="python3",
                            resources={"metadata": {"path": str(tmp_path)}})
    client.execute()
    outputs = [o for cell in notebook.cells if cell.cell_type == "code" for o in cell.get("outputs", [])]
    assert not [o for o in outputs if o.get("output_type") == "error"]
    assert (tmp_path / "report-tour" / "report.html").is_file()
    assert (tmp_path / "cell-1-mc.nc").is_file()
