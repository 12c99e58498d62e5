"""Reports a reviewer can check: report.md, a self-contained report.html (figures embedded),
summary.json and the draws as NetCDF, written into a directory that is either the old report or
the new one, never half of each."""

from __future__ import annotations

import base64
import datetime as _dt
import platform
import sys
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import numpy as np

from ..priors.files import REPORT_MARKER, write_folder
from ..priors.jsonio import json_text
from ..priors.secrets import mask_all, mask_url

MARKER = REPORT_MARKER


@dataclass
class Report:
    """What a report holds before it is rendered."""

    title: str
    kind: str                      # "cell", "study" or "fit"
    sections: list[dict] = field(default_factory=list)
    figures: dict[str, bytes] = field(default_factory=dict)
    summary: dict = field(default_factory=dict)
    provenance: dict = field(default_factory=dict)
    datasets: dict = field(default_factory=dict)   # file name -> xarray Dataset / InferenceData


def provenance(command: list[str] | None, **extra) -> dict:
    """Versions, time, the command line and ``extra`` (card, storage, seed, ...) of a report.

    Every value is passed through :func:`~nassb.priors.secrets.mask_url`: a database
    password in a storage URL (or anywhere in the command line) is shown as ``***``.
    """
    from importlib.metadata import version

    return mask_all({
        "nassb": version("nassb"),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "created": _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC"),
        "command": mask_url(" ".join(command if command is not None else ["nassb", *sys.argv[1:]])),
        **extra,
    })


def _md(text) -> str:
    """A user-supplied string made inert in Markdown (and in HTML that renders Markdown)."""
    text = " ".join(str(text).splitlines())
    for ch, rep in (("\\", "\\\\"), ("&", "&amp;"), ("<", "&lt;"), (">", "&gt;"), ("|", "\\|"), ("`", "\\`"),
                    ("*", "\\*"), ("_", "\\_"), ("[", "\\["), ("]", "\\]")):
        text = text.replace(ch, rep)
    return text


def _breakable(text):
    """Escaped HTML in which a long name may break after ``_`` or ``.`` (``E_V_<wbr>theo``), so a
    printed table's header narrows to the page instead of running past its edge."""
    from markupsafe import Markup, escape

    return Markup(str(escape(text)).replace("_", "_<wbr>").replace(".", ".<wbr>"))


def _symbol_html(name):
    """An output's symbol as a paper sets it (``<i>E</i><sub>V,real</sub>``), its name and words
    in the tooltip; any other name escaped, as given."""
    from markupsafe import Markup, escape

    from ..priors.vocabulary import symbol_parts, term

    parts = symbol_parts(str(name))
    if parts is None:
        return escape(name)
    head, subs = parts
    sub = ",".join(f"<i>{escape(p)}</i>" if len(p) == 1 else str(escape(p)) for p in subs)
    return Markup(f"<span title='{escape(name)}: {escape(term(str(name)).label)}'><i>{escape(head)}</i>"
                  f"<sub>{sub}</sub></span>")


def _environment():
    import jinja2

    loader = jinja2.FunctionLoader(
        lambda name: (resources.files("nassb.reports") / "templates" / name).read_text("utf-8"))
    html = jinja2.Environment(loader=loader, autoescape=True, trim_blocks=True, lstrip_blocks=True)
    html.filters["breakable"] = _breakable
    html.filters["symbol"] = _symbol_html
    md = jinja2.Environment(loader=loader, autoescape=False, trim_blocks=True, lstrip_blocks=True)
    md.filters["md"] = _md
    return html, md


def render(report: Report) -> dict[str, bytes]:
    """Every file of the report, as bytes, by relative path."""
    html_env, md_env = _environment()
    images = {name: base64.b64encode(png).decode("ascii") for name, png in report.figures.items()}
    context = {"report": report, "images": images}
    files = {
        "report.html": html_env.get_template("report.html.j2").render(**context).encode("utf-8"),
        "report.md": md_env.get_template("report.md.j2").render(**context).encode("utf-8"),
        "summary.json": json_text(report.summary).encode("utf-8"),
    }
    for name, png in report.figures.items():
        files[f"figures/{name}.png"] = png
    return files


def write_report(report: Report, out: str | Path) -> Path:
    """Write the report into ``out`` as a whole (:func:`~nassb.priors.files.write_folder`): built
    in a sibling temporary directory, then swapped in.  A run that dies before the swap leaves
    the previous report untouched; the next run restores one a kill left half swapped.

    ``out`` must be new, empty, or a folder nassb wrote (it holds the marker file): any other
    directory is refused (:class:`~nassb.priors.errors.OutputError`), never replaced.
    """
    files: dict = dict(render(report))
    from ..inference.result import netcdf_bytes

    for name, data in report.datasets.items():
        if hasattr(data, "to_netcdf"):
            files[name] = lambda path, data=data: path.write_bytes(netcdf_bytes(data))
    write_folder(out, files, kind="report", marker=MARKER)
    return Path(out) / "report.html"


def table_rows(results: dict, names: list[str]) -> list[dict]:
    """Rows of the Table-1-style comparison: one quantity, one cell per method."""
    from ..priors.display.tables import quantity_cells

    rows = []
    for name in names:
        cells = {}
        for method, result in results.items():
            if name in result.quantities:
                value, span = quantity_cells(name, result[name])
                cells[method] = {"value": value, "interval": span}
        rows.append({"name": name, "cells": cells})
    return rows
