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
    # Every cell that plots shows its figure (a Figure displays itself, pyplot or not), and a
    # result shown as the cell's value carries its figure in its HTML.
    plots = [cell for cell in notebook.cells if cell.cell_type == "code" and ".plot(" in cell.source]
    assert len(plots) >= 3
    for cell in plots:
        kinds = {kind for o in cell.get("outputs", []) for kind in o.get("data", {})}
        assert kinds & {"image/png", "image/svg+xml"}, cell.source
    shown = [o["data"]["text/html"] for cell in notebook.cells
             if cell.cell_type == "code" and cell.source.strip().endswith("\ngum")
             for o in cell.get("outputs", []) if "text/html" in o.get("data", {})]
    assert shown and "data:image/png;base64," in shown[0]
    # No "IProgress not found": a bar is tqdm's text bar where ipywidgets is missing.
    streams = "".join(o.get("text", "") for o in outputs if o.get("output_type") == "stream")
    assert "IProgress" not in streams
    assert (tmp_path / "report-tour" / "report.html").is_file()
    assert (tmp_path / "cell-1-mc.nc").is_file()
