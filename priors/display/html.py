"""A result as HTML for notebooks (``_repr_html_``): the numbers of the terminal table, each
quantity with its label in words, and the result's figure (``plot()``) as an embedded PNG."""

from __future__ import annotations

import base64
from html import escape

from ..vocabulary import term
from .tables import quantity_cells


def result_html(result) -> str:
    """The summary of any result as a small HTML table, with its warnings and diagnostics; a
    campaign's result as its terminal text."""
    from .text import CAMPAIGN_KINDS, result_text

    if result.kind in CAMPAIGN_KINDS:
        return f"<pre>{escape(result_text(result))}</pre>"
    rows = []
    for name, q in result.summary().items():
        value, span = quantity_cells(name, q)
        label = term(name.rpartition("/")[2]).label
        rows.append(f"<tr><td><code>{escape(name)}</code></td><td>{escape(label)}</td>"
                    f"<td style='text-align:right'>{escape(value)}</td><td>{escape(span)}</td></tr>")
    parts = [f"<div class='nassb-result'><p><b>{escape(type(result).__name__)}</b>: {escape(result.title)}</p>",
             "<table><thead><tr><th>quantity</th><th></th><th>value</th><th>95 % interval</th></tr></thead>",
             "<tbody>", *rows, "</tbody></table>"]
    if result.diagnostics is not None:
        parts.append(f"<p><small>{escape(result.diagnostics.sentence())}</small></p>")
    for line in result.warnings:
        parts.append(f"<p style='color:#D55E00'><small>warning: {escape(line)}</small></p>")
    parts.append(figure_html(result))
    parts.append("</div>")
    return "".join(parts)


def figure_html(result) -> str:
    """The result's figure as an ``<img>`` with the PNG inline, or nothing for a result without
    one."""
    try:
        fig = result.plot()
    except NotImplementedError:
        return ""
    from .figures import encode

    png = base64.b64encode(encode(fig, "png")).decode("ascii")
    return f"<img alt='{escape(result.title)}' style='max-width:100%' src='data:image/png;base64,{png}'/>"
