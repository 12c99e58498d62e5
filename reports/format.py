"""Numbers as a metrologist writes them: uncertainty to at most two significant digits, the
value rounded to match (JCGM 100 section 7.2.6), e.g. ``277 ± 11 Wh/l``.

The number of digits follows the Particle Data Group rule: the three leading digits of the
uncertainty decide; 100-354 keep two significant digits, 355-949 keep one, 950-999 round up to
1000 and keep two.  The paper's Table 1 follows the same habit ("239 ± 10", "138 ± 6").
"""

from __future__ import annotations

import math

from ..priors.jsonio import finite, json_text  # noqa: F401  (re-exported: the writers use them)


def _decimals(sd: float) -> int:
    """Decimal places at which to round a value whose standard uncertainty is ``sd``."""
    exponent = math.floor(math.log10(sd))
    leading = int(sd / 10.0 ** (exponent - 2))  # three leading digits, 100..999
    if leading >= 950:
        exponent += 1
        digits = 2
    elif leading >= 355:
        digits = 1
    else:
        digits = 2
    return digits - 1 - exponent


def round_pair(value: float, sd: float) -> tuple[str, str]:
    """Value and uncertainty as strings, rounded together.

    >>> round_pair(277.887, 11.108)
    ('278', '11')
    >>> round_pair(238.59, 9.64)
    ('239', '10')
    >>> round_pair(0.6300, 0.0300)
    ('0.630', '0.030')
    """
    if not (math.isfinite(value) and math.isfinite(sd)):
        return f"{value}", f"{sd}"
    if sd <= 0:
        return f"{value:.4g}", "0"
    decimals = _decimals(sd)
    places = max(decimals, 0)
    factor = 10.0 ** decimals
    v = round(value * factor) / factor
    u = round(sd * factor) / factor
    return f"{v:.{places}f}", f"{u:.{places}f}"


def with_uncertainty(value: float, sd: float, unit: str = "") -> str:
    """``"277 ± 11 Wh/l"`` (or ``"2.52 mAh/cm^2"`` when there is no uncertainty)."""
    v, u = round_pair(value, sd)
    text = v if u == "0" else f"{v} ± {u}"
    return f"{text} {unit}".rstrip() if unit and unit != "1" else text


def interval(low: float, high: float, sd: float) -> str:
    """A coverage interval at the precision of the value: ``[256, 300]``."""
    if sd <= 0:
        return f"[{low:.4g}, {high:.4g}]"
    places = max(_decimals(sd), 0)
    return f"[{low:.{places}f}, {high:.{places}f}]"
