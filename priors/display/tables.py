"""The cells every terminal table, report and notebook shares: a quantity's value and 95 %
interval in the paper's style (one number format, units typeset, a probability as a mean with
its 95 % interval, never ± sd), and rows laid out as columns."""

from __future__ import annotations

import math
from collections.abc import Sequence

from ..vocabulary import term, typeset
from .format import NON_FINITE, interval, round_pair, with_uncertainty


def columns(rows: Sequence[Sequence[str]], gap: str = "  ") -> list[str]:
    """Rows of cells as left-aligned columns."""
    if not rows:
        return []
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return [gap.join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in rows]


def probability_text(p: float | None) -> str:
    """A probability with the digits it deserves: ``0.14``, ``0.0031``, ``< 0.001``, ``> 0.999``."""
    if p is None or p != p:  # NaN
        return "n/a"
    if p < 0.001:
        return "< 0.001"
    if p > 0.999:
        return "> 0.999"
    return f"{p:.2g}" if p < 0.1 else f"{p:.2f}"


def probability_cells(q: dict) -> tuple[str, str]:
    """A probability and its 95 % interval, the value always inside the interval shown: the mean
    where it lies within, else the median (a skewed posterior whose mean a few draws carry past
    the upper end), else the mean said to lie outside."""
    low, high = q["ci95"]
    span = f"[{probability_text(low)}, {probability_text(high)}]" if high >= 0.001 else "all < 0.001"
    mean = q["mean"]
    if mean is None or low <= mean <= high or probability_text(mean) == probability_text(high):
        return probability_text(mean if mean is not None else q.get("median")), span
    if q.get("median") is not None:
        return f"median {probability_text(q['median'])}", span
    side = "above" if mean > high else "below"
    return f"mean {probability_text(mean)}, {side} its 95 % interval (a skewed posterior)", span


# Why an interval or an sd reads oddly, said beside it.
FIRST_ORDER_NEGATIVE = "first-order y ± 1.96 u of a positive quantity: the Monte Carlo interval is the one to quote"
WIDE_SD = "sd above the value: a skewed distribution, read the interval rather than ± sd"


def interval_note(name: str, q: dict) -> str:
    """Why an interval of ``name`` has a negative end although the quantity cannot be negative,
    or why its sd says little (it exceeds the value); empty when nothing needs saying."""
    t = term(name)
    low = q["ci95"][0]
    if t.kind == "quantity" and t.low >= 0 and low is not None and low < 0:
        return FIRST_ORDER_NEGATIVE
    mean, sd = q.get("mean"), q.get("sd")
    if t.kind == "quantity" and mean is not None and sd is not None and math.isfinite(mean) and sd > abs(mean) > 0:
        return WIDE_SD
    return ""


def quantity_cells(name: str, q: dict, *, note: bool = True) -> tuple[str, str]:
    """The value and 95 % interval cells of one summary, as every table writes them: a note on
    an odd interval or sd (:func:`interval_note`) in parentheses after the interval, or, with
    ``note=False``, a ``*`` that a footnote below the table explains (:func:`note_lines`)."""
    value, span = _quantity_cells(name, q)
    why = interval_note(name, q)
    if not why:
        return value, span
    return value, f"{span} ({why})" if note else f"{span} *"


def note_lines(summary: dict[str, dict]) -> list[str]:
    """The footnotes of a terminal table: one line per quantity marked ``*``, saying why."""
    notes = [f"  {name}: {why}" for name, q in summary.items() if (why := interval_note(name, q))]
    return ["", "* read with care:", *notes] if notes else []


def _quantity_cells(name: str, q: dict) -> tuple[str, str]:
    t = term(name)
    unit = typeset(q["unit"])
    low, high = q["ci95"]
    if t.kind == "probability":
        return probability_cells(q)
    if q["mean"] is not None and not math.isfinite(q["mean"]):
        return NON_FINITE, "n/a"
    if q["sd"] is None:
        if low is None or high is None or not (math.isfinite(low) and math.isfinite(high)):
            return NON_FINITE, "n/a"
        # A heavy tail: the median, at the precision its interval allows; no ± that means nothing.
        scale = (high - low) / 3.92 if high > low else 0.0
        median = q.get("median", q["mean"])
        shown = round_pair(median, scale)[0] if scale > 0 else f"{median:.4g}"
        shown = f"{shown} {unit}".rstrip() if unit and unit != "1" else shown
        what = "mean, sd" if q["mean"] is None else "sd"
        return f"median {shown} ({what} not defined)", interval(low, high, scale) if scale > 0 else "exact"
    if q["sd"] <= 0:
        return with_uncertainty(q["mean"], 0.0, unit), "exact"
    return with_uncertainty(q["mean"], q["sd"], unit), interval(low, high, q["sd"])


def summary_rows(summary: dict[str, dict]) -> list[tuple[str, str, str]]:
    rows = [("quantity", "value", "95 % interval")]
    rows.extend((name, *quantity_cells(name, q, note=False)) for name, q in summary.items())
    return rows

