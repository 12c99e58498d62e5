"""The design variables, declared once: unit, default range, scale, the card's own value, how a
design's value enters the scored cell and how it is written into a proposal's card.

A :class:`DesignVariable` is named by the card field it sets (the vocabulary's one name).  The
design space (:func:`nassb.design.space.design_space`), the search, the scorer
(:class:`nassb.design.score.DesignScorer`), a card scored as a design, the experiment ranking's
candidates and a campaign's proposal cards all iterate :data:`VARIABLES`.

A new design variable is one more :class:`DesignVariable` in :data:`BUILT_IN` (:func:`register`
declares one while nassb runs, as the tests do) and its tests.  By default its value replaces
the card input of its name in every draw and is written into the proposal card as
``key = "value unit"`` under its section; ``apply`` and ``write`` say otherwise.  The five of the
seed paper's cells are applied by :meth:`DesignScorer.score
<nassb.design.score.DesignScorer.score>` itself (the cathode's capacity and porosity set its
thickness and loading together; the separator keeps the card's manufacturing tolerance), and the
cathode's two are written by the proposal card's cathode section (the loading, porosity and
capacity a card gives depend on which of them it derives).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from ..priors import fields as F
from ..priors.quantity import FieldSpec

_PRESSURE = FieldSpec("MPa", 0.0, math.inf, low_open=True, words="a pressure")


@dataclass(frozen=True)
class DesignVariable:
    """One design variable's declaration.

    Attributes
    ----------
    name : str
        The card path it sets (``"separator.thickness"``).
    spec : FieldSpec
        Canonical unit and physical bounds of a value (a range bound, a candidate's value).
    low, high : str
        Default range, as a card's ``[design]`` table writes it (``"20 um"``).
    log : bool
        The search samples it on a log scale (where its low bound is above zero).
    of_card : callable
        ``of_card(card, nominal, outputs) -> float``: a card's own value (``nominal``: the
        card's nominal inputs, ``outputs``: the cell model evaluated on them).
    apply : callable or None
        ``apply(x, value)``: put a design's value into the per-draw card inputs ``x`` before the
        cell model and the risks are evaluated; None: ``x[name] = value``.
    write : callable or None
        ``write(value) -> line``: its line in the proposal card's section; None: ``key = "value
        unit"``.
    by_scorer : bool
        Applied by the scorer's own code and (the cathode's) written by the card writer's (the
        five of the seed paper's cells); a new variable leaves it False.
    """

    name: str
    spec: FieldSpec
    low: str
    high: str
    log: bool = False
    of_card: Callable[..., float] | None = None
    apply: Callable[[dict, float], None] | None = None
    write: Callable[[float], str] | None = None
    by_scorer: bool = False

    @property
    def section(self) -> str:
        return self.name.partition(".")[0]

    @property
    def unit(self) -> str:
        return self.spec.unit or "1"

    def card_value(self, card, nominal: dict, outputs: dict) -> float:
        """The card's own value of this variable."""
        if self.of_card is not None:
            return float(self.of_card(card, nominal, outputs))
        return float(nominal[self.name])

    def set(self, x: dict, value: float) -> None:
        """Put a design's value into the per-draw card inputs ``x``."""
        if self.apply is not None:
            self.apply(x, value)
        else:
            x[self.name] = value

    def line(self, value: float) -> str:
        """Its line in the proposal card's ``[section]``."""
        if self.write is not None:
            return self.write(value)
        unit = "" if self.unit == "1" else f" {self.unit}"
        return f"{self.name.partition('.')[2]} = \"{value:.6g}{unit}\""

    @property
    def zero_allowed(self) -> bool:
        """Zero is a value it may take (a reservoir), not only a positive one."""
        return not self.spec.low_open and self.spec.low == 0.0


BUILT_IN: tuple[DesignVariable, ...] = (
    DesignVariable("cathode.theoretical_capacity", F.AREAL_CAPACITY, "0.5 mAh/cm^2", "5 mAh/cm^2",
                   of_card=lambda card, nominal, y: y["C_theo"], by_scorer=True),
    DesignVariable("cathode.porosity", F.FRACTION, "0.2", "0.7",
                   of_card=lambda card, nominal, y: y["porosity"], by_scorer=True),
    DesignVariable("separator.thickness", F.THICKNESS, "20 um", "200 um", True, by_scorer=True,
                   write=lambda v: f"thickness = \"{v:.6g} um\""),
    DesignVariable("anode.reservoir_thickness", F.THICKNESS_OR_ZERO, "0 um", "60 um", by_scorer=True,
                   write=lambda v: f"reservoir_thickness = \"{v:.6g} um\""),
    DesignVariable("cell.pressure", _PRESSURE, "0.005 MPa", "5 MPa", True, by_scorer=True,
                   of_card=lambda card, nominal, y: card.cell["pressure"].value,
                   write=lambda v: f"pressure = \"{v:.6g} MPa\""),
)
VARIABLES: dict[str, DesignVariable] = {v.name: v for v in BUILT_IN}
"""Every declared design variable by its card path, in the order a design lists them."""


def register(variable: DesignVariable) -> DesignVariable:
    """Declare a design variable beside the built-in ones; returns it.  A name already declared
    is a ValueError."""
    if variable.name in VARIABLES or "." not in variable.name:
        raise ValueError(f"design variable {variable.name!r}: a card path not declared already")
    VARIABLES[variable.name] = variable
    return variable


def unregister(name: str) -> None:
    """Remove a registered design variable (a built-in one stays)."""
    if name not in VARIABLES or name in {v.name for v in BUILT_IN}:
        raise ValueError(f"{name!r} is not a registered design variable")
    del VARIABLES[name]


def names() -> tuple[str, ...]:
    """Every design variable's card path, in order."""
    return tuple(VARIABLES)


def generic() -> list[DesignVariable]:
    """The variables the scorer applies by their declaration (all but the five of its own code)."""
    return [v for v in VARIABLES.values() if not v.by_scorer]
