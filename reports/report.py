"""Reports a reviewer can check: report.md, a self-contained report.html (figures embedded),
summary.json and the draws as NetCDF, written into a directory that is either the old report or
the new one, never half of each."""

from __future__ import annotations

import base64
import datetime as _dt
import os
import platform
import shutil
import sys
import tempfile
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import numpy as np

from ..priors.files import _UMASK
from .format import json_text

MARKER = ".nassb-report"


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
    from importlib.metadata import version

    return {
        "nassb": version("nassb"),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "created": _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC"),
        "command": " ".join(command if command is not None else ["nassb", *sys.argv[1:]]),
        **extra,
    }


def _md(text) -> str:
    """A user-supplied string made inert in Markdown (and in HTML that renders Markdown)."""
    text = " ".join(str(text).splitlines())
    for ch, rep in (("\\", "\\\\"), ("&", "&amp;"), ("<", "&lt;"), (">", "&gt;"), ("|", "\\|"), ("`", "\\`"),
                    ("*", "\\*"), ("_", "\\_"), ("[", "\\["), ("]", "\\]")):
        text = text.replace(ch, rep)
    return text


def _environment():
    import jinja2

    loader = jinja2.FunctionLoader(
        lambda name: (resources.files("nassb.reports") / "templates" / name).read_text("utf-8"))
    html = jinja2.Environment(loader=loader, autoescape=True, trim_blocks=True, lstrip_blocks=True)
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
    """Write the report into ``out`` as a whole: build it in a sibling temporary directory, then
    swap it in.  A run that dies before the swap leaves the previous report untouched.

    ``out`` must be new, empty, or a report nassb wrote (it holds the marker file): any other
    directory is refused, never replaced.
    """
    out = Path(out)
    if out.exists() and not (out.is_dir() and (not any(out.iterdir()) or (out / MARKER).is_file())):
        raise FileExistsError(f"{out} exists and is not an nassb report directory; choose another --out")
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.new-", dir=out.parent))
    try:
        for rel, data in render(report).items():
            target = staging / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        for name, data in report.datasets.items():
            if hasattr(data, "to_netcdf"):
                data.to_netcdf(str(staging / name), engine="h5netcdf")
        (staging / MARKER).write_text("written by nassb report; nassb replaces this directory as a whole\n")
        for path in [staging, *staging.rglob("*")]:
            os.chmod(path, (0o777 if path.is_dir() else 0o666) & ~_UMASK)
        _swap(staging, out)
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
    return out / "report.html"


def _swap(new: Path, out: Path) -> None:
    """Put ``new`` where ``out`` is: two renames, the old report kept until the new one is in."""
    if not out.exists():
        os.replace(new, out)
        return
    if not out.is_dir():
        raise FileExistsError(f"{out} exists and is not a report directory")
    old = Path(tempfile.mkdtemp(prefix=f".{out.name}.old-", dir=out.parent))
    os.rmdir(old)
    os.replace(out, old)
    os.replace(new, out)
    shutil.rmtree(old, ignore_errors=True)


def table_rows(results: dict, names: list[str]) -> list[dict]:
    """Rows of the Table-1-style comparison: one quantity, one cell per method."""
    from .text import quantity_cells

    rows = []
    for name in names:
        cells = {}
        for method, result in results.items():
            if name in result.quantities:
                value, span = quantity_cells(name, result[name])
                cells[method] = {"value": value, "interval": span}
        rows.append({"name": name, "cells": cells})
    return rows
