"""Progress bars that work where they are shown: tqdm's notebook widget where Jupyter can draw it
(ipywidgets installed), its plain text bar everywhere else (a terminal, or a notebook without
ipywidgets, where ``tqdm.auto`` would warn ``IProgress not found`` and show nothing)."""

from __future__ import annotations

import importlib.util


def progress_bar(**kwargs):
    """A tqdm bar (``kwargs`` as tqdm takes them): the notebook widget when ipywidgets is
    installed and the code runs in a Jupyter kernel, the text bar otherwise."""
    if importlib.util.find_spec("ipywidgets") is not None:
        from tqdm.auto import tqdm
    else:
        from tqdm.std import tqdm
    return tqdm(**kwargs)
