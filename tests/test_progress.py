"""Progress bars: tqdm's notebook widget only where ipywidgets can draw it, else the text bar
(never tqdm.auto's ``IProgress not found`` warning and an empty cell)."""

from __future__ import annotations

import importlib.util
import io

from nassb.inference import progress


def test_without_ipywidgets_the_bar_is_tqdms_text_bar(monkeypatch):
    from tqdm.std import tqdm

    real = importlib.util.find_spec
    monkeypatch.setattr(progress.importlib.util, "find_spec", lambda name, *a: None if name == "ipywidgets"
                        else real(name, *a))
    stream = io.StringIO()
    bar = progress.progress_bar(total=3, desc="spectra", file=stream, mininterval=0)
    bar.update(3)
    bar.close()
    assert type(bar) is tqdm and "spectra" in stream.getvalue() and "3/3" in stream.getvalue()
