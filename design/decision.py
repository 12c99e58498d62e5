"""One design decision: what the next cell is chosen for, validated once.

A :class:`Decision` is the objective (an energy density at the cycling current, a quantile of
its posterior), the limits a cell must meet and how they are held (on the posterior means, or
with a posterior probability), the cycling (:class:`OperatingPoint`: a C-rate of each design's own
delivered capacity or a fixed current density, a number of cycles) and whether the search stays
within the calibrating cells.  ``nassb design``, ``nassb campaign`` and ``nassb next-experiment``
build the same object from the same options, and :func:`nassb.design.optimum.best_design` turns a
card and a decision into one best cell.

Its defaults live in one place (:mod:`nassb.design.defaults`, which the command line reads to
build its options and their help without importing the rest).
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import asdict, dataclass, field
from typing import Any

from ..priors import OptionError

from .defaults import DEFAULT_C_RATE, DEFAULTS, HOLDS, OBJECTIVES, rate_name

KEYS = tuple(DEFAULTS)
# Each way of holding the limits across the readings, in words: in full, and in a decision's line.
HOLD_WORDS = {"every": ("under every reading of the paper the draws represent", "under every reading"),
              "combined": ("on the readings of the paper combined (model average)", "on the readings combined"),
              "file": ("under the observations file's reading alone", "under the file's reading alone")}


def _limited():
    """The declared risks that carry a limit (:mod:`nassb.inference.risk.registry`)."""
    from ..inference.risk.registry import limited

    return limited()


class _Upper:
    """``Limits.UPPER``: the names of the declared risks limited from above, read when asked."""

    def __get__(self, obj, owner=None) -> tuple[str, ...]:
        return tuple(r.name for r in _limited() if r.limit.upper)


@dataclass(frozen=True)
class Limits:
    """The constraints a design must meet: on the posterior means, or, with ``confidence`` C, with
    posterior probability C (a chance constraint: the C quantile of each upper-limited quantity's
    draws below its limit, the 1 - C quantile of the retention above its own).

    ``hold`` says under which readings of the paper (priors/data/risk-readings.toml) they are
    held: ``every`` reading the draws can represent (the worst of them, per limit; the default),
    the ``combined`` readings (their Bayesian model average), or the observations ``file``'s reading
    alone (:func:`nassb.design.study.constraints`).

    The limited quantities are the declared risks' (:mod:`nassb.inference.risk.registry`); the
    four built-in ones are these fields, a risk declared beside them is limited at its declared
    default (:meth:`bound`)."""

    max_fracture: float = DEFAULTS["max_fracture"]
    max_short: float = DEFAULTS["max_short"]
    max_drop: float = DEFAULTS["max_drop"]            # V at the target current
    min_retention: float = DEFAULTS["min_retention"]  # after the target cycles
    confidence: float | None = None
    hold: str = DEFAULTS["hold"]

    UPPER = _Upper()   # the quantities limited from above; the retention from below

    @classmethod
    def make(cls, max_fracture: float, max_short: float, max_drop: float, min_retention: float,
             confidence: float | None = None, hold: str = DEFAULTS["hold"]) -> Limits:
        """Checked limits: each within its declared range (probabilities and the retention in
        [0, 1], the drop >= 0 V), the confidence in [0.5, 1), ``hold`` one of
        :data:`~nassb.design.defaults.HOLDS`."""
        given = {"max_fracture": max_fracture, "max_short": max_short, "max_drop": max_drop,
                 "min_retention": min_retention}
        for risk in sorted(_limited(), key=lambda r: r.limit.high == math.inf):  # the bounded ones first
            name, lo, hi = risk.limit.setting, risk.limit.low, risk.limit.high
            value = given.get(name, risk.limit.default)
            if isinstance(value, bool) or not (isinstance(value, (int, float)) and lo <= value <= hi):
                raise OptionError(f"must lie in [{lo:g}, {hi:g}], got {value!r}", field=name)
        if confidence is not None and (isinstance(confidence, bool) or not isinstance(confidence, (int, float))
                                       or not 0.5 <= confidence < 1.0):
            raise OptionError(f"must lie in [0.5, 1) (a posterior probability), got {confidence!r}",
                              field="limit_confidence")
        if hold not in HOLDS:
            raise OptionError(f"'{hold}' is not a way to hold the limits; must be one of {', '.join(HOLDS)}",
                              field="hold")
        return cls(float(max_fracture), float(max_short), float(max_drop), float(min_retention),
                   None if confidence is None else float(confidence), hold)

    def bound(self, risk) -> float:
        """The limit on a declared risk (:class:`~nassb.inference.risk.registry.Risk`): this
        object's field of its setting, else the default of its declaration."""
        return float(getattr(self, risk.limit.setting, risk.limit.default))

    def settings(self) -> dict[str, float]:
        """Each limit by its setting (``max_fracture``), in the order the risks are declared."""
        return {r.limit.setting: self.bound(r) for r in _limited()}

    def judged(self, values: dict) -> dict[str, float]:
        """What the limits are judged on, per quantity: its mean, or with a ``confidence`` the
        quantile of its draws that must stay within the limit."""
        import numpy as np

        if self.confidence is None:
            return {k: float(np.mean(v)) for k, v in values.items()}
        upper = {r.name: r.limit.upper for r in _limited()}
        out = {}
        for k, v in values.items():
            if k not in upper:
                out[k] = float(np.mean(v))
                continue
            out[k] = float(np.quantile(v, self.confidence if upper[k] else 1.0 - self.confidence))
        return out

    def feasible(self, values: dict) -> Any:
        """Per draw: every limit holds under it."""
        import numpy as np

        out = np.asarray(True)
        for risk in _limited():
            v, limit = values[risk.name], self.bound(risk)
            out = out & ((v <= limit) if risk.limit.upper else (v >= limit))
        return out

    def words(self) -> str:
        """How the limits are judged, in words."""
        judged = ("posterior means" if self.confidence is None
                  else f"held with posterior probability {self.confidence:g} (a chance constraint)")
        return f"{judged}, {self.hold_words()}"

    def hold_words(self) -> str:
        """Under which readings of the paper the limits are held, in words."""
        return HOLD_WORDS[self.hold][0]

    def violations(self, means: dict[str, float]) -> dict[str, float]:
        """Constraint values in Optuna's convention (<= 0 is feasible), relative to each limit so
        that a probability and a voltage weigh alike when the sampler ranks infeasible trials."""
        def rel(excess: float, scale: float) -> float:
            return excess / max(scale, 1e-9)

        out = {}
        for risk in _limited():
            limit = self.bound(risk)
            out[risk.name] = (rel(means[risk.name] - limit, limit) if risk.limit.upper
                              else rel(limit - means[risk.name], 1.0 - limit))
        return out

    def active(self, means: dict[str, float], margin: float = 0.2) -> list[str]:
        """Constraints within ``margin`` (relative) of their limit: what limits the design."""
        return [name for name, v in self.violations(means).items() if v > -margin]


@dataclass(frozen=True)
class OperatingPoint:
    """How a design is cycled (the analogue of PyBaMM's ``Experiment`` for these cells).

    Attributes
    ----------
    c_rate : float or None
        C-rate (1/h) of each design's own delivered capacity; None when ``current`` is fixed.
    current : float or None
        A fixed current density, mA/cm^2; None when cycled at ``c_rate``.
    cycles : int
        Target cycles: P_short and the retention are judged after them.
    """

    c_rate: float | None = DEFAULT_C_RATE
    current: float | None = None
    cycles: int = DEFAULTS["cycles"]

    @classmethod
    def make(cls, *, c_rate=None, current=None, cycles=DEFAULTS["cycles"]) -> OperatingPoint:
        """A checked operating point: a C-rate or a current (mA/cm^2 or a quantity string), not
        both; neither gives C/10."""
        if isinstance(cycles, bool) or not isinstance(cycles, int) or cycles < 1:
            raise OptionError(f"must be a whole number >= 1, got {cycles!r}", field="cycles")
        if c_rate is not None and current is not None:
            raise OptionError("give a C-rate or a current density, not both", field="c_rate")
        if current is not None:
            return cls(None, _current(current), cycles)
        if c_rate is None:
            return cls(DEFAULT_C_RATE, None, cycles)
        if isinstance(c_rate, bool) or not isinstance(c_rate, (int, float)) or not (math.isfinite(c_rate)
                                                                                   and c_rate > 0):
            raise OptionError(f"must be a number > 0 (1/h; 0.1 is C/10), got {c_rate!r}", field="c_rate")
        return cls(float(c_rate), None, cycles)

    def words(self) -> str:
        """``C/10 of each design's own capacity, 100 cycles`` or ``0.2 mA/cm^2, 100 cycles``."""
        rate = (f"{self.current:g} mA/cm^2" if self.c_rate is None
                else f"{rate_name(self.c_rate)} of each design's own capacity")
        return f"{rate}, {self.cycles} cycles"


def _current(current) -> float:
    """A current density in mA/cm^2 from a number or a quantity string."""
    from ..inference.risk.scoring import parse_current

    return float(parse_current(current).value)


def _quantile(quantile) -> float | None:
    if quantile is None or quantile == "mean":
        return None
    try:
        q = float(quantile)
    except (TypeError, ValueError):
        raise OptionError(f"expected a number in (0, 1) or 'mean', got {quantile!r}", field="quantile") from None
    if not 0 < q < 1:
        raise OptionError(f"must lie in (0, 1), or be 'mean', got {quantile!r}", field="quantile")
    return q


@dataclass(frozen=True)
class Decision:
    """What a design decision maximises and under which limits: one object for design, campaign,
    next experiment and the reports.

    Build it with :meth:`make` (checks every setting, defaults from :data:`DEFAULTS`).

    Attributes
    ----------
    objective : {"E_V", "E_m"}
        The energy density maximised at the cycling current (Wh/l or Wh/kg).
    quantile : float or None
        The quantile of its posterior that is maximised (robust design); None: the mean.
    limits : Limits
    operating : OperatingPoint
    within_data : bool
        Keep the search inside the range of the cells that calibrate the risk models.
    """

    objective: str = DEFAULTS["objective"]
    quantile: float | None = DEFAULTS["quantile"]
    limits: Limits = field(default_factory=Limits)
    operating: OperatingPoint = field(default_factory=OperatingPoint)
    within_data: bool = DEFAULTS["within_data"]

    @classmethod
    def make(cls, **settings) -> Decision:
        """A checked decision from keyword settings (:data:`KEYS`; a missing one takes its default).

        An unknown key, an objective not in :data:`OBJECTIVES`, a limit outside its range, both a
        C-rate and a current: an :class:`~nassb.priors.OptionError` naming the setting.
        """
        unknown = sorted(k for k in settings if k not in DEFAULTS)
        if unknown:
            raise OptionError(f"unknown decision setting; known: {', '.join(KEYS)}", field=unknown[0])
        s = {**DEFAULTS, **settings}
        if s["objective"] not in OBJECTIVES:
            raise OptionError(f"'{s['objective']}' is not an objective; must be one of {', '.join(OBJECTIVES)}",
                              field="objective")
        limits = Limits.make(s["max_fracture"], s["max_short"], s["max_drop"], s["min_retention"],
                             s["limit_confidence"], s["hold"])
        operating = OperatingPoint.make(c_rate=s["c_rate"], current=s["current"], cycles=s["cycles"])
        return cls(s["objective"], _quantile(s["quantile"]), limits, operating, bool(s["within_data"]))

    @classmethod
    def of(cls, decision: Decision | dict | None = None, **settings) -> Decision:
        """``decision`` as a Decision: itself, or made from a mapping of settings; ``settings``
        given beside it override its own."""
        if decision is None:
            return cls.make(**settings)
        if isinstance(decision, Decision):
            return cls.make(**{**decision.settings(), **settings}) if settings else decision
        if isinstance(decision, dict):
            return cls.make(**{**decision, **settings})
        raise OptionError(f"expected a Decision or a mapping of its settings, got {type(decision).__name__}",
                          field="decision")

    def search_settings(self, card_sha256: str, risk_fingerprint: str = "", *, pareto: str | None = None,
                        space: tuple = ()):
        """The :class:`SearchSettings` a study of this decision stores."""
        op = self.operating
        return SearchSettings(card_sha256, objective=self.objective, quantile=self.quantile, pareto=pareto,
                              current=op.current, cycles=op.cycles, limits=self.limits, space=space,
                              risk=risk_fingerprint, c_rate=op.c_rate, within_data=self.within_data)

    @classmethod
    def of_search(cls, settings) -> Decision:
        """The decision a study's :class:`SearchSettings` hold."""
        op = OperatingPoint(settings.c_rate, settings.current, settings.cycles)
        return cls(settings.objective, settings.quantile, settings.limits, op, settings.within_data)

    def settings(self) -> dict[str, Any]:
        """The keyword settings (:data:`KEYS`) that make this decision again (current in mA/cm^2)."""
        lim, op = self.limits, self.operating
        return {"objective": self.objective, "quantile": self.quantile, "max_fracture": lim.max_fracture,
                "max_short": lim.max_short, "max_drop": lim.max_drop, "min_retention": lim.min_retention,
                "limit_confidence": lim.confidence, "hold": lim.hold, "cycles": op.cycles,
                "c_rate": op.c_rate, "current": op.current, "within_data": self.within_data}

    @property
    def cycles(self) -> int:
        return self.operating.cycles

    def words(self) -> str:
        """The decision in a line: ``q0.05 E_V, C/10 of each design's own capacity, 100 cycles``."""
        target = "mean" if self.quantile is None else f"q{self.quantile:g}"
        data = ", within the calibrated range" if self.within_data else ""
        chance = ("" if self.limits.confidence is None
                  else f", limits held with probability {self.limits.confidence:g}")
        return f"{target} {self.objective}, {self.operating.words()}{data}{chance}{hold_suffix(self.limits)}"


def hold_suffix(limits: Limits) -> str:
    """What a decision's one-line description says of how its limits are held across the readings."""
    return f", limits held {HOLD_WORDS[limits.hold][1]}"


@dataclass(frozen=True)
class SearchSettings:
    """What a study optimises (a decision, the card and risk draws it is made for, the space
    searched); stored with the study so every worker agrees (:mod:`nassb.design.study`)."""

    card_sha256: str
    objective: str = "E_V"
    quantile: float | None = 0.05     # None: the mean
    pareto: str | None = None         # a second objective: P_short or E_m
    current: float | None = None      # mA/cm^2, a fixed cycling current; None: the C-rate
    cycles: int = 100
    limits: Limits = field(default_factory=Limits)
    space: tuple = ()
    risk: str = ""                    # fingerprint of the calibrated risk draws
    c_rate: float | None = DEFAULT_C_RATE  # 1/h of each design's own delivered capacity
    within_data: bool = False         # the search kept inside the calibrated range

    def fingerprint(self) -> str:
        raw = asdict(self)
        if raw["limits"].get("confidence") is None:  # limits on means: the fingerprint of before chance limits
            raw["limits"].pop("confidence", None)
        if raw["limits"].get("hold") == "file":  # under the file's reading: the fingerprint of before readings
            raw["limits"].pop("hold")
        text = json.dumps(raw, sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()[:16]
