"""A measured quantity: value, standard uncertainty, unit, distribution, bounds and source.

The card grammar (design.md) accepts

* a plain number, read in the field's canonical unit: ``porosity = 0.63``;
* a string with an optional uncertainty and a unit: ``"50 ± 4 um"``, ``"(50 +/- 4) um"``,
  ``"1.6 ± 0.3 mS/cm"``, ``"30 degC"``;
* a table: ``{value = 0.63, sd = 0.03, dist = "normal", unit = "1", low, high, coverage,
  source}``, where ``value`` and ``sd`` may themselves be strings with units.

``dist`` is one of normal, lognormal, truncnormal, uniform (``low``/``high``), loguniform
(``low``/``high`` > 0: uniform in the logarithm, for a quantity known only to an order of
magnitude, such as a stack pressure "between 0.005 and 0.05 MPa"), fixed.  A loguniform
quantity's ``value`` is its mean (h - l) / ln(h / l) and ``sd`` its standard deviation.

"±" is a standard uncertainty (coverage factor k = 1) unless ``coverage`` says otherwise, in
which case the standard uncertainty is the expanded one divided by ``coverage``.  Every quantity
is converted to its field's canonical unit on reading (:class:`FieldSpec`), so the cell
equations never see a unit.
"""

from __future__ import annotations

import functools
import math
import re
from dataclasses import dataclass

import numpy as np

from .errors import CardError
from .units import conversion

DISTRIBUTIONS = ("normal", "lognormal", "truncnormal", "uniform", "loguniform", "fixed")
BOUNDED = ("uniform", "loguniform")  # distributions given by low and high alone
_TABLE_KEYS = ("value", "sd", "unit", "dist", "low", "high", "coverage", "source")

_NUMBER = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?|[-+]?(?:nan|inf|infinity)"
_PLUS_MINUS = r"(?:±|\+/-|\+-)"
_QUANTITY = re.compile(
    rf"^\s*\(?\s*(?P<value>{_NUMBER})\s*(?:{_PLUS_MINUS}\s*(?P<sd>{_NUMBER}))?\s*\)?\s*(?P<unit>.*?)\s*$",
    re.IGNORECASE,
)
# Probability mass outside the physical bounds below which truncation is not worth a draw.
_NEGLIGIBLE_MASS = 1e-12


@dataclass(frozen=True)
class FieldSpec:
    """What one card field holds: its canonical unit, its physical bounds and its plausible range.

    ``low``/``high`` are bounds in the canonical unit; ``low_open``/``high_open`` say whether the
    bound itself is excluded (a thickness is > 0, a reservoir >= 0, a porosity in (0, 1)).  A
    value outside the bounds is impossible (an error).  ``plausible`` is the range, in the
    canonical unit, that real cells and materials fall in (``zero_plausible``: 0 itself is
    plausible too, e.g. no sodium reservoir); a value outside it is possible but suspicious (a
    warning), most often a wrong unit.  ``plausible_words`` writes the range for a message, in
    the units people use ("0.1 um to 10 mm").  A standard uncertainty above ``max_relative_sd``
    times the value is suspicious as well.
    """

    unit: str
    low: float = -math.inf
    high: float = math.inf
    low_open: bool = False
    high_open: bool = False
    words: str = "a quantity"
    plausible: tuple[float, float] = (-math.inf, math.inf)
    zero_plausible: bool = False
    plausible_words: str = ""
    max_relative_sd: float = math.inf

    def plausibility(self, value: float, sd: float = 0.0) -> str | None:
        """Why a value (and its standard uncertainty), in the canonical unit, is implausible for
        this field, or None when it is plausible."""
        lo, hi = self.plausible
        if not (lo <= value <= hi or (self.zero_plausible and value == 0.0)):
            unit = f" {self.unit}" if self.unit else ""
            span = self.plausible_words or f"{_fmt(lo)} to {_fmt(hi)}{unit}"
            return (f"{_fmt(value)}{unit} is outside the plausible range of {self.words} ({span}); "
                    "check the number and its unit")
        if value != 0.0 and sd > self.max_relative_sd * abs(value):
            unit = f" {self.unit}" if self.unit else ""
            return (f"the uncertainty {_fmt(sd)}{unit} is {sd / abs(value):.3g} times the value {_fmt(value)}{unit} "
                    f"(above {100 * self.max_relative_sd:g} %); check the number and its unit")
        return None

    def admits(self, x: float) -> bool:
        above = x > self.low if self.low_open else x >= self.low
        below = x < self.high if self.high_open else x <= self.high
        return above and below

    def describe_bounds(self) -> str:
        """The bounds as the end of "must ...": "be > 0 um" or "lie in (0, 1)"."""
        lo = "(" if self.low_open else "["
        hi = ")" if self.high_open else "]"
        if self.high == math.inf:
            if self.low == -math.inf:
                return "be a number"
            return f"be {'>' if self.low_open else '>='} {_fmt(self.low)} {self.unit}".rstrip()
        return f"lie in {lo}{_fmt(self.low)}, {_fmt(self.high)}{hi}"


def _normal_tail(z: float) -> float:
    """P(Z > z) for a standard normal Z."""
    return 0.5 * math.erfc(z / math.sqrt(2.0))


def _redraw(draw, size: int, lo: float, hi: float) -> np.ndarray:
    """``size`` draws from ``draw(n)`` restricted to [lo, hi] by redrawing the ones outside."""
    x = draw(size)
    bad = np.flatnonzero((x < lo) | (x > hi))
    while bad.size:
        x[bad] = draw(bad.size)
        bad = bad[(x[bad] < lo) | (x[bad] > hi)]
    return x


def _fmt(x: float) -> str:
    return f"{x:g}"


@dataclass(frozen=True)
class Measured:
    """A measured (or assumed) quantity in its canonical unit.

    Attributes
    ----------
    value : float
        Best estimate: the mean (for ``uniform`` the midpoint of ``low``/``high``, for
        ``loguniform`` (h - l) / ln(h / l)).
    sd : float
        Standard uncertainty (k = 1), in ``unit``; 0 for a fixed value.
    unit : str
        Canonical unit of the field (pint spelling), e.g. ``"um"``.
    dist : str
        One of :data:`DISTRIBUTIONS`.
    low, high : float
        Range of a ``uniform`` or ``loguniform``, or truncation bounds of a ``truncnormal``.
    bounds : FieldSpec
        The physical bounds of the field; draws outside them are truncated away.
    source : str
        Where the number comes from.
    """

    value: float
    sd: float = 0.0
    unit: str = ""
    dist: str = "fixed"
    low: float = -math.inf
    high: float = math.inf
    bounds: FieldSpec = FieldSpec("")
    source: str = ""

    @property
    def uncertain(self) -> bool:
        return self.dist != "fixed" and self.sd > 0

    def truncation(self) -> tuple[float, float]:
        """Bounds that draws must respect: the table's low/high within the field's bounds."""
        return max(self.low, self.bounds.low), min(self.high, self.bounds.high)

    def lognormal_parameters(self) -> tuple[float, float]:
        """mu and sigma of the log of a lognormal quantity with this mean and sd."""
        s2 = math.log1p((self.sd / self.value) ** 2)
        return math.log(self.value) - s2 / 2, math.sqrt(s2)

    def mass_outside(self) -> float:
        """Probability that the untruncated distribution falls outside :meth:`truncation`."""
        if not self.uncertain or self.dist in BOUNDED:
            return 0.0
        lo, hi = self.truncation()
        if self.dist == "lognormal":
            mu, sigma = self.lognormal_parameters()
            below = _normal_tail((mu - math.log(lo)) / sigma) if lo > 0 else 0.0
            above = _normal_tail((math.log(hi) - mu) / sigma) if hi < math.inf else 0.0
            return below + above
        below = _normal_tail((self.value - lo) / self.sd) if lo > -math.inf else 0.0
        above = _normal_tail((hi - self.value) / self.sd) if hi < math.inf else 0.0
        return below + above

    @property
    def truncated(self) -> bool:
        """Whether the bounds cut off enough probability to matter (draws and moments)."""
        return self.mass_outside() >= _NEGLIGIBLE_MASS

    def moments(self) -> tuple[float, float]:
        """Mean and standard deviation of the distribution (what first-order propagation uses)."""
        return self._moments

    @functools.cached_property
    def _moments(self) -> tuple[float, float]:
        if not self.uncertain:
            return self.value, 0.0
        if self.dist in BOUNDED or not self.truncated:
            return self.value, self.sd
        from scipy import stats

        lo, hi = self.truncation()
        if self.dist == "lognormal":
            mu, sigma = self.lognormal_parameters()
            dist = stats.lognorm(s=sigma, scale=math.exp(mu))
            mean = dist.expect(lambda x: x, lb=lo, ub=hi, conditional=True)
            second = dist.expect(lambda x: x * x, lb=lo, ub=hi, conditional=True)
            return float(mean), float(math.sqrt(max(second - mean * mean, 0.0)))
        dist = self._truncnorm(stats)
        return float(dist.mean()), float(dist.std())

    def _truncnorm(self, stats):
        lo, hi = self.truncation()
        return stats.truncnorm((lo - self.value) / self.sd, (hi - self.value) / self.sd,
                               loc=self.value, scale=self.sd)

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray | float:
        """Draw ``size`` values; a fixed quantity returns its value as a float.

        Draws outside :meth:`truncation` are redrawn (cheap when they are few); a normal that
        loses half its mass or more is drawn by inverse CDF instead.
        """
        if not self.uncertain:
            return float(self.value)
        if self.dist == "uniform":
            return rng.uniform(self.low, self.high, size)
        if self.dist == "loguniform":
            return np.exp(rng.uniform(math.log(self.low), math.log(self.high), size))
        if self.dist == "lognormal":
            mu, sigma = self.lognormal_parameters()
            draw = lambda n: rng.lognormal(mu, sigma, n)  # noqa: E731
        else:
            draw = lambda n: rng.normal(self.value, self.sd, n)  # noqa: E731
        outside = self.mass_outside()
        if outside < _NEGLIGIBLE_MASS:
            return draw(size)
        if outside < 0.5:
            return _redraw(draw, size, *self.truncation())
        from scipy import stats

        return self._truncnorm(stats).rvs(size=size, random_state=rng)

    def quantiles(self, u) -> np.ndarray:
        """The values below which the fractions ``u`` (in (0, 1)) of the distribution lie.

        The inverse of the cumulative distribution, truncation included; a fixed quantity gives
        its value for every ``u``.  Used for quadrature over an uncertain condition (the
        pressure of an observed cell marginalised in the risk calibration).
        """
        u = np.asarray(u, dtype=float)
        if not self.uncertain:
            return np.full(u.shape, float(self.value))
        if self.dist == "uniform":
            return self.low + u * (self.high - self.low)
        if self.dist == "loguniform":
            return np.exp(math.log(self.low) + u * math.log(self.high / self.low))
        from scipy import stats

        lo, hi = self.truncation()
        if self.dist == "lognormal":
            mu, sigma = self.lognormal_parameters()
            dist = stats.lognorm(s=sigma, scale=math.exp(mu))
        else:
            dist = stats.norm(self.value, self.sd)
        c_lo, c_hi = (dist.cdf(lo) if np.isfinite(lo) else 0.0), (dist.cdf(hi) if np.isfinite(hi) else 1.0)
        return np.asarray(dist.ppf(c_lo + u * (c_hi - c_lo)), dtype=float)

    def __str__(self) -> str:
        unit = f" {self.unit}" if self.unit else ""
        if self.dist == "loguniform":
            return f"log-uniform in [{self.low:g}, {self.high:g}]{unit}"
        if not self.uncertain:
            return f"{self.value:g}{unit}"
        return f"{self.value:g} ± {self.sd:g}{unit}"


def parse_quantity(raw, spec: FieldSpec) -> Measured:
    """Read a card entry into a :class:`Measured` in the field's canonical unit.

    Parameters
    ----------
    raw : float, int, str or dict
        The entry as TOML gives it.
    spec : FieldSpec
        Canonical unit and physical bounds of the field.

    Raises
    ------
    CardError
        With a message saying what is wrong (the caller adds the file and the field).
    """
    if isinstance(raw, bool):
        raise CardError(f"expected {spec.words}, got {raw!r}")
    if isinstance(raw, (int, float)):
        return _build(float(raw), None, spec.unit, spec, {})
    if isinstance(raw, str):
        value, sd, unit = _split(raw, spec)
        return _build(value, sd, unit, spec, {})
    if isinstance(raw, dict):
        return _parse_table(raw, spec)
    raise CardError(f"expected a number, a string like '50 ± 4 um' or a table, got {raw!r}")


def _split(text: str, spec: FieldSpec) -> tuple[float, float | None, str]:
    match = _QUANTITY.match(text)
    if not match:
        raise CardError(f"expected a number with an optional '± uncertainty' and a unit, got {text!r}")
    value = float(match["value"])
    sd = float(match["sd"]) if match["sd"] is not None else None
    unit = match["unit"] or spec.unit
    return value, sd, unit


def _writes_unit(text: str) -> bool:
    """Whether ``text`` (already read by :func:`_split`) writes its own unit."""
    match = _QUANTITY.match(text)
    return match is not None and bool(match["unit"])


def _number_or_text(raw, key: str, spec: FieldSpec) -> tuple[float, str | None]:
    """A table entry that is a number (unit from the table) or a string with its own unit."""
    if isinstance(raw, bool) or not isinstance(raw, (int, float, str)):
        raise CardError(f"'{key}' must be a number, got {raw!r}")
    if isinstance(raw, str):
        value, sd, unit = _split(raw, spec)
        if sd is not None:
            raise CardError(f"'{key}' must be a single number, got {raw!r}")
        return value, (unit if _writes_unit(raw) else None)
    return float(raw), None


def _parse_table(table: dict, spec: FieldSpec) -> Measured:
    unknown = sorted(set(table) - set(_TABLE_KEYS))
    if unknown:
        raise CardError(f"unknown key '{unknown[0]}' in quantity table; expected one of {', '.join(_TABLE_KEYS)}")
    dist = table.get("dist")
    if dist is not None and dist not in DISTRIBUTIONS:
        raise CardError(f"'{dist}' is not a supported distribution; must be one of {', '.join(DISTRIBUTIONS)}")
    source = table.get("source", "")
    if not isinstance(source, str):
        raise CardError(f"'source' must be a string, got {source!r}")
    unit = table.get("unit")
    if unit is not None and not isinstance(unit, str):
        raise CardError(f"'unit' must be a string, got {unit!r}")
    extra: dict = {"dist": dist, "source": source}
    for key in ("coverage", "low", "high"):
        if key in table:
            extra[key] = table[key]

    value = sd = None
    value_unit = sd_unit = None
    if "value" in table:
        raw = table["value"]
        if isinstance(raw, str):
            value, sd, typed = _split(raw, spec)
            value_unit = typed if _writes_unit(raw) else None
        else:
            value, value_unit = _number_or_text(raw, "value", spec)
    if "sd" in table:
        if sd is not None:
            raise CardError("give the uncertainty either in 'value' ('50 ± 4 um') or as 'sd', not both")
        sd, sd_unit = _number_or_text(table["sd"], "sd", spec)
    # low and high may carry their own unit ("0.005 MPa"); they are read in the table's unit.
    bound_units = {}
    for key in ("low", "high"):
        if isinstance(table.get(key), str):
            extra[key], bound_units[key] = _number_or_text(table[key], key, spec)
    base_unit = unit or value_unit or sd_unit or next((u for u in bound_units.values() if u), None) or spec.unit
    for key, bound_unit in bound_units.items():
        if bound_unit and bound_unit != base_unit:
            extra[key] = conversion(bound_unit, base_unit)(extra[key])
    if value is None and dist not in BOUNDED and not ("low" in table and "high" in table):
        raise CardError("quantity table needs a 'value'")
    return _build(value, sd, base_unit, spec, extra, sd_unit=sd_unit)


def _finite(x, what: str) -> float:
    if isinstance(x, bool) or not isinstance(x, (int, float)):
        raise CardError(f"'{what}' must be a number, got {x!r}")
    x = float(x)
    if not math.isfinite(x):
        raise CardError(f"{what} must be a finite number, got {x}")
    return x


def _build(value, sd, unit: str, spec: FieldSpec, extra: dict, *, sd_unit: str | None = None) -> Measured:
    convert = conversion(unit, spec.unit)
    convert_sd = conversion(sd_unit, spec.unit) if sd_unit else convert
    dist = extra.get("dist")
    coverage = _finite(extra.get("coverage", 1.0), "coverage")
    if coverage <= 0:
        raise CardError(f"coverage must be > 0, got {coverage:g}")

    if value is not None:
        value = _finite(value, "value")
    if sd is not None:
        sd = _finite(sd, "uncertainty")
        if sd < 0:
            raise CardError(f"uncertainty must be >= 0, got {sd:g}")
    low = _finite(extra["low"], "low") if "low" in extra else None
    high = _finite(extra["high"], "high") if "high" in extra else None
    if low is not None and high is not None and not low < high:
        raise CardError(f"low must be below high, got low={low:g}, high={high:g}")

    # Convert to the canonical unit.  An uncertainty is a difference, so it converts as one
    # (this keeps "25 ± 1 degC" at 1 K).
    c_value = convert(value) if value is not None else None
    c_sd = None
    if sd is not None:
        ref = value if value is not None else 0.0
        c_sd = abs(convert_sd(ref + sd) - convert_sd(ref)) / coverage
    c_low = convert(low) if low is not None else -math.inf
    c_high = convert(high) if high is not None else math.inf

    for name, converted in (("value", c_value), ("uncertainty", c_sd), ("low", c_low if low is not None else None),
                            ("high", c_high if high is not None else None)):
        if converted is not None and not math.isfinite(converted):
            raise CardError(f"{name} overflows in {spec.unit or 'the field unit'}: it is not a finite number "
                            f"once converted from {unit!r}")
    dist, c_value, c_sd, c_low, c_high = _distribution(dist, value, sd, low, high, (c_value, c_sd, c_low, c_high),
                                                       spec)

    if not spec.admits(c_value):
        raise CardError(f"must {spec.describe_bounds()}, got {value:g}{' ' + unit if unit else ''}")
    for name, bound in (("low", c_low), ("high", c_high)):
        if math.isfinite(bound) and dist in BOUNDED and not spec.admits(bound):
            raise CardError(f"{name} must {spec.describe_bounds()}, got {bound:g} {spec.unit}".rstrip())

    return Measured(value=c_value, sd=c_sd or 0.0, unit=spec.unit, dist=dist, low=c_low, high=c_high, bounds=spec,
                    source=extra.get("source", ""))


def _distribution(dist: str | None, value, sd, low, high, converted: tuple, spec: FieldSpec):
    """The distribution of a quantity and its value, sd, low and high in the canonical unit
    (``converted``), as its kind sets them (a uniform's mean and sd, a loguniform's); a CardError
    for what the kind cannot be given with."""
    c_value, c_sd, c_low, c_high = converted
    if dist is None:
        dist = "normal" if c_sd else "fixed"
    if dist == "uniform":
        if low is None or high is None:
            if c_value is None or c_sd is None:
                raise CardError("a uniform quantity needs 'low' and 'high' (or value and sd)")
            half = math.sqrt(3.0) * c_sd
            c_low, c_high = c_value - half, c_value + half
        c_value = 0.5 * (c_low + c_high)
        c_sd = (c_high - c_low) / math.sqrt(12.0)
    elif dist == "loguniform":
        if low is None or high is None:
            raise CardError("a loguniform quantity needs 'low' and 'high'")
        if value is not None or sd is not None:
            raise CardError("a loguniform quantity is given by 'low' and 'high' alone, not a value or sd")
        if not c_low > 0:
            raise CardError(f"a loguniform quantity needs low > 0, got {low:g}")
        span = math.log(c_high / c_low)
        c_value = (c_high - c_low) / span
        c_sd = math.sqrt(max((c_high ** 2 - c_low ** 2) / (2.0 * span) - c_value ** 2, 0.0))
    elif c_value is None:
        raise CardError("quantity table needs a 'value'")
    if dist in ("normal", "lognormal", "truncnormal") and not c_sd:
        raise CardError(f"a {dist} quantity needs an uncertainty > 0")
    if dist == "fixed":
        c_sd = 0.0
    if dist == "lognormal" and c_value <= 0:
        raise CardError(f"a lognormal quantity needs a value > 0, got {value:g}")
    if dist == "truncnormal" and low is None and high is None:
        dist = "normal"  # physical bounds alone truncate a normal quantity anyway
    if dist == "truncnormal" and not c_low <= c_value <= c_high:
        unit_ = f" {spec.unit}" if spec.unit else ""
        raise CardError(f"the value {c_value:g}{unit_} lies outside its own truncation [{c_low:g}, {c_high:g}]{unit_}: "
                        "a truncated normal is drawn within low and high only, so its value must lie there too")
    return dist, c_value, c_sd, c_low, c_high


def parse_uncertainty(raw, spec: FieldSpec) -> float:
    """A standard uncertainty alone (``"1.0 um"``, ``"0.5 degC"``, or a number in the field's
    unit), converted as a difference into the canonical unit; it must be > 0."""
    if isinstance(raw, bool) or not isinstance(raw, (int, float, str)):
        raise CardError(f"expected an uncertainty like '1 {spec.unit}', got {raw!r}")
    value, sd, unit = _split(raw, spec) if isinstance(raw, str) else (float(raw), None, spec.unit)
    if sd is not None:
        raise CardError(f"expected a single uncertainty, got {raw!r}")
    value = _finite(value, "uncertainty")
    if value <= 0:
        raise CardError(f"uncertainty must be > 0, got {value:g}")
    convert = conversion(unit, spec.unit)
    return abs(convert(value) - convert(0.0))
