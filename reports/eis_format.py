"""Rows of an impedance fit's parameters, shared by the terminal table and the report."""

from __future__ import annotations

import math

from .format import interval, with_uncertainty


def scaled(q: dict, unit: str) -> tuple[str, str]:
    """Value and 95 % interval, with a power of ten pulled out of very small or large numbers:
    ``(3.8 ± 2.2)e-8 F`` rather than ``0.000000038 ± 0.000000022 F``."""
    mean, sd, (low, high) = q["mean"], q["sd"], q["ci95"]
    if not all(v is not None and math.isfinite(v) for v in (mean, sd, low, high)):
        return f"n/a {unit}".rstrip(), "n/a"
    size = max(abs(mean), abs(high), 1e-300)
    if 1e-2 <= size < 1e5:
        return with_uncertainty(mean, sd, unit), interval(low, high, sd)
    exponent = int(math.floor(math.log10(size)))
    f = 10.0 ** -exponent
    return (f"({with_uncertainty(mean * f, sd * f)})e{exponent} {unit}".rstrip(),
            f"{interval(low * f, high * f, sd * f)}e{exponent}")


def spectrum_rows(quantities: dict, least_squares: dict | None = None) -> list[list[str]]:
    """[name, posterior, 95 % interval, least squares] per parameter or derived quantity."""
    rows = []
    for name, q in quantities.items():
        unit = "" if q["unit"] in ("1", "") else q["unit"]
        ls = f"{least_squares[name]:.4g}" if least_squares and name in least_squares else ""
        rows.append([name, *scaled(q, unit), ls])
    return rows
