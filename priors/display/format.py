"""Numbers as a metrologist writes them: uncertainty to at most two significant digits, the
value rounded to match (JCGM 100 section 7.2.6), e.g. ``277 ± 11 Wh/l``.

The number of digits follows the Particle Data Group rule: the three leading digits of the
uncertainty decide; 100-354 keep two significant digits, 355-949 keep one, 950-999 round up to
1000 and keep two.  The paper's Table 1 follows the same habit ("239 ± 10", "138 ± 6").
"""

from __future__ import annotations

import math
from decimal import ROUND_HALF_EVEN, Decimal

NON_FINITE = "n/a (non-finite)"
# Beyond these, fixed-point notation writes dozens of digits (or digits a double does not
# hold): the pair is written as "(0.8 ± 2.6)e43" instead, with one exponent for both.
_PLAIN_DIGITS = 15
_PLAIN_PLACES = 9
# A relative uncertainty below 1e-15 is below double precision: the value is written as is.
_MAX_PLACES = 15


def _leading(sd: float) -> tuple[int, int]:
    """Decimal exponent and three leading digits (100..999) of ``sd`` > 0."""
    exponent = math.floor(math.log10(sd))
    if -290 < exponent < 290:
        leading = int(sd / 10.0 ** (exponent - 2))
    else:  # 10**exponent over- or underflows as a float: exact decimal arithmetic instead
        exact = Decimal(sd)
        exponent = exact.adjusted()
        leading = int(exact.scaleb(2 - exponent))
    if leading >= 1000:  # log10 rounded up across a power of ten
        exponent, leading = exponent + 1, leading // 10
    return exponent, leading


def _decimals(sd: float) -> int:
    """Decimal places at which to round a value whose standard uncertainty is ``sd``."""
    exponent, leading = _leading(sd)
    if leading >= 950:
        exponent += 1
        digits = 2
    elif leading >= 355:
        digits = 1
    else:
        digits = 2
    return digits - 1 - exponent


def _scale(*numbers: float) -> int:
    """The common decimal exponent of numbers written in scientific notation."""
    largest = max(abs(x) for x in numbers)
    return Decimal(largest).adjusted() if largest > 0 else 0


def _plain(decimals: int, *numbers: float) -> bool:
    scale = _scale(*numbers)
    return decimals <= _PLAIN_PLACES and scale + 1 + max(decimals, 0) <= _PLAIN_DIGITS


def _mantissa(x: float, exponent: int, places: int) -> str:
    return f"{Decimal(x).scaleb(-exponent).quantize(Decimal(1).scaleb(-places), ROUND_HALF_EVEN):f}"


def _rounded(value: float, sd: float) -> tuple[str, str, int | None]:
    """Value and uncertainty rounded together, and the exponent they share (None: plain)."""
    decimals = _decimals(sd)
    if _plain(decimals, value, sd):
        places = max(decimals, 0)
        factor = 10.0 ** decimals
        v = round(value * factor) / factor
        u = round(sd * factor) / factor
        return f"{v:.{places}f}", f"{u:.{places}f}", None
    exponent = _scale(value, sd)
    places = max(decimals + exponent, 0)
    if places > _MAX_PLACES:
        return f"{value:.15g}", f"{sd:.2g}", None
    return _mantissa(value, exponent, places), _mantissa(sd, exponent, places), exponent


def _all_finite(*numbers) -> bool:
    return all(x is not None and math.isfinite(x) for x in numbers)


def round_pair(value: float, sd: float) -> tuple[str, str]:
    """Value and uncertainty as strings, rounded together.

    Non-finite numbers (an overflow) are ``"n/a"``; very large or very small ones are written
    with an exponent (``"0.8e43"``).

    >>> round_pair(277.887, 11.108)
    ('278', '11')
    >>> round_pair(238.59, 9.64)
    ('239', '10')
    >>> round_pair(0.6300, 0.0300)
    ('0.630', '0.030')
    >>> round_pair(8e42, 2.6e43)
    ('0.8e43', '2.6e43')
    """
    if not _all_finite(value, sd):
        return "n/a", "n/a"
    if sd <= 0:
        return f"{value:.4g}", "0"
    v, u, exponent = _rounded(value, sd)
    return (v, u) if exponent is None else (f"{v}e{exponent}", f"{u}e{exponent}")


def with_uncertainty(value: float, sd: float, unit: str = "") -> str:
    """``"277 ± 11 Wh/l"`` (or ``"2.52 mAh/cm^2"`` when there is no uncertainty,
    ``"(0.8 ± 2.6)e43 ohm*cm^2"`` far from 1, ``"n/a (non-finite)"`` after an overflow)."""
    if not _all_finite(value, sd):
        return NON_FINITE
    if sd <= 0:
        text = f"{value:.4g}"
    else:
        v, u, exponent = _rounded(value, sd)
        text = f"{v} ± {u}" if exponent is None else f"({v} ± {u})e{exponent}"
    return f"{text} {unit}".rstrip() if unit and unit != "1" else text


def interval(low: float, high: float, sd: float) -> str:
    """A coverage interval at the precision of the value: ``[256, 300]``."""
    if not _all_finite(low, high, sd):
        return "n/a"
    if sd <= 0:
        return f"[{low:.4g}, {high:.4g}]"
    decimals = _decimals(sd)
    if _plain(decimals, low, high, sd):
        places = max(decimals, 0)
        return f"[{low:.{places}f}, {high:.{places}f}]"
    exponent = _scale(low, high, sd)
    places = decimals + exponent
    if places > _MAX_PLACES:
        return f"[{low:.15g}, {high:.15g}]"
    places = max(places, 0)
    return f"[{_mantissa(low, exponent, places)}e{exponent}, {_mantissa(high, exponent, places)}e{exponent}]"
