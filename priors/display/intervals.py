"""One figure for results whose numbers are a few named estimates with a 95 % interval each:
the proposals of a campaign round (their predicted energy), the ranking of candidate experiments
(their EVSI with its Monte Carlo error).  Drawn in the house style of :mod:`.figures`."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from .figures import OKABE_ITO, _pyplot, _rendered, axis_label

if TYPE_CHECKING:
    from matplotlib.figure import Figure


@_rendered
def interval_chart(panels: dict[str, list[tuple[str, dict]]], units: dict[str, str], *, words: bool = False,
                   title: str = "") -> Figure:
    """One panel per quantity: a row per named estimate, its mean (or median) as a dot and its
    95 % interval as a bar, the first estimate on top.

    Parameters
    ----------
    panels : dict
        Quantity -> ``[(label, {"mean", "ci95": [lo, hi]}), ...]`` (``median`` where the mean
        is not defined).
    units : dict
        Quantity -> its unit (canonical or typeset).
    words : bool
        The quantity names are words (``"EVSI"``), not output symbols.
    """
    plt = _pyplot()
    names = list(panels)
    rows = max((len(v) for v in panels.values()), default=1)
    label = max((len(name) for entries in panels.values() for name, _ in entries), default=8)
    width = 4.4 * len(names) + 0.08 * label  # room for the row labels (experiments are named in words)
    fig, axes = plt.subplots(1, len(names), figsize=(width, 0.42 * rows + 1.5), squeeze=False)
    for ax, name in zip(axes.ravel(), names):
        entries = panels[name]
        centres = np.array([_centre(q) for _, q in entries], dtype=float)
        low = np.array([q["ci95"][0] for _, q in entries], dtype=float)
        high = np.array([q["ci95"][1] for _, q in entries], dtype=float)
        y = np.arange(len(entries))[::-1]
        ax.errorbar(centres, y, xerr=[np.maximum(centres - low, 0), np.maximum(high - centres, 0)], fmt="o", ms=5,
                    capsize=3, color=OKABE_ITO[0])
        ax.set_yticks(y, [label for label, _ in entries], fontsize=9)
        ax.set_xlabel(axis_label(name, units.get(name, ""), words=words))
        ax.grid(axis="y", visible=False)
    if title:
        fig.suptitle(title)
    return fig


def _centre(q: dict) -> float:
    value = q.get("mean") if q.get("mean") is not None else q.get("median")
    return float("nan") if value is None else float(value)
