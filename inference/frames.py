"""Results as tables: the pandas DataFrames of ``to_dataframe()`` and the CSV files of ``--csv``.

Every column that holds a physical number carries its unit: a summary table has a ``unit``
column (one quantity per row, each in its own unit), a wide table puts the unit in the column's
name (``separator.thickness [um]``, ``E_V_rate mean [Wh/l]``); ``df.attrs["units"]`` maps each
such column to its unit as well.  Units are the machine strings of the JSON documents
(``ohm*cm^2``, ``um``), so that a table reads back into pint or nassb unchanged.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

SUMMARY_COLUMNS = ("mean", "sd", "ci95_low", "ci95_high", "unit")


def _pandas():
    import pandas as pd

    return pd


def summary_row(q: dict) -> dict[str, Any]:
    """One summary (``{"mean", "sd", "unit", "ci95"}``) as a row; a missing mean or sd (a heavy
    tail) is NaN, with its ``median`` and ``note``."""
    low, high = q.get("ci95", (None, None))
    row = {"mean": q.get("mean"), "sd": q.get("sd"), "ci95_low": low, "ci95_high": high, "unit": q.get("unit", "")}
    if q.get("note") or q.get("median") is not None:
        row.update(median=q.get("median"), note=q.get("note", ""))
    return {k: (float("nan") if v is None and k != "note" else v) for k, v in row.items()}


def summary_frame(summary: dict[str, dict], index: str = "quantity", **attrs):
    """A summary (name -> ``{"mean", "sd", "unit", "ci95"}``) as a DataFrame indexed by name,
    columns ``mean, sd, ci95_low, ci95_high, unit`` (and ``median, note`` where a tail is heavy)."""
    pd = _pandas()
    rows = [{index: name, **summary_row(q)} for name, q in summary.items()]
    columns = [index, *SUMMARY_COLUMNS]
    if any("note" in r for r in rows):
        columns += ["median", "note"]
    df = pd.DataFrame(rows, columns=columns).set_index(index)
    if "note" in df:
        df["note"] = df["note"].fillna("")
    df.attrs.update(attrs, units="column 'unit' (each row in its own unit)")
    return df


def unit_label(name: str, unit: str | None) -> str:
    """``name [unit]``, or ``name`` for a number without a unit."""
    return name if unit in (None, "", "1") else f"{name} [{unit}]"


def wide_columns(prefix_values: dict[str, dict], units: dict[str, str], *, what: tuple[str, ...] = ("mean",),
                 ) -> dict[str, float]:
    """Summaries (name -> summary) as wide columns ``NAME mean [unit]``, ``NAME ci95_low [unit]``, ...;
    ``units`` collects each column's unit."""
    out: dict[str, float] = {}
    for name, q in prefix_values.items():
        row = summary_row(q)
        for key in what:
            label = unit_label(f"{name} {key}", row["unit"])
            out[label] = row[key]
            units[label] = row["unit"]
    return out


def design_columns(design: dict, units: dict[str, str]) -> dict[str, float]:
    """A design (card path -> value, or ``{"value", "unit"}``) as columns ``path [unit]``."""
    out = {}
    for name, v in design.items():
        value, unit = (v["value"], v.get("unit", "")) if isinstance(v, dict) else (v, "")
        label = unit_label(name, unit)
        out[label] = value
        units[label] = unit
    return out


def frame(rows: list[dict], units: dict[str, str], index: str | None = None, **attrs):
    """Rows (dicts) as a DataFrame, ``attrs["units"]`` the unit of each column that has one."""
    pd = _pandas()
    df = pd.DataFrame(rows)
    if index is not None and index in df:
        df = df.set_index(index)
    df.attrs.update(attrs, units={k: v for k, v in units.items() if v not in ("", "1")})
    return df


def write_csv(df, path: str | Path) -> Path:
    """Write a DataFrame as CSV, atomically (a full disk leaves no half file); the index is a
    column (or columns) when it is named."""
    from ..priors.files import atomic_target

    with atomic_target(path) as tmp:
        df.to_csv(tmp, index=any(name is not None for name in df.index.names))
    return Path(path)
