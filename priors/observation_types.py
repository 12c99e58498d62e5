"""The kinds of observation a card holds (:mod:`.observations` reads them from its
``[[observations]]`` tables): replicate readings, capacities, an Arrhenius series, one measured
value and several measured jointly."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import fields as F
from .quantity import Measured

ARRHENIUS_FIELDS = {"conductivity": "activation_energy", "interface_resistance": "interface_activation_energy"}


@dataclass(frozen=True)
class Spread:
    """The scale of the prior of a specimen-to-specimen spread: absolute (in the quantity's unit)
    or relative to the quantity's value."""

    value: float
    relative: bool

    def absolute(self, reference: float) -> float:
        return self.value * abs(reference) if self.relative else self.value

    def fraction(self, reference: float) -> float:
        return self.value if self.relative else self.value / abs(reference)


@dataclass(frozen=True)
class Replicates:
    quantity: str
    values: np.ndarray
    samples: np.ndarray  # integer specimen index of each reading
    sample_names: tuple[str, ...]
    reading_sd: float | None
    cell_sample: int | None
    file: str
    source: str
    where: str
    specimen_spread: Spread | None = None


@dataclass(frozen=True)
class Capacities:
    cycles: np.ndarray
    charge: np.ndarray
    discharge: np.ndarray
    file: str
    source: str
    where: str


@dataclass(frozen=True)
class ArrheniusSeries:
    """A temperature series of a conductivity or an area resistance (Eq. 4 data).

    The same type serves a card's ``arrhenius`` observation (``quantity`` names the material's
    field) and a CSV fitted alone by ``nassb fit arrhenius`` (no ``quantity``).
    """

    temperature: np.ndarray  # K
    values: np.ndarray       # mS/cm (conductivity) or ohm cm^2 (resistance)
    kind: str                # "conductivity" or "resistance"
    file: str
    quantity: str = ""       # "<material>.conductivity" or "<material>.interface_resistance"
    source: str = ""
    where: str = ""
    specimen: str = ""       # the specimen measured (default: one of its own, named by ``where``)
    cell_sample: bool = False  # whether that specimen is the cell's own
    specimen_spread: Spread | None = None

    @property
    def unit(self) -> str:
        return F.CONDUCTIVITY.unit if self.kind == "conductivity" else F.AREA_RESISTANCE.unit

    @property
    def energy(self) -> str:
        """The paired activation energy of the card quantity (``"<material>.activation_energy"``)."""
        material, _, key = self.quantity.partition(".")
        return f"{material}.{ARRHENIUS_FIELDS[key]}"


@dataclass(frozen=True)
class Measurement:
    """One measured value of a quantity (``per_area`` False: in ohm, to be normalised by the
    card's area)."""

    quantity: str
    value: Measured
    temperature: float | None
    where: str
    source: str
    specimen: str = ""
    cell_sample: bool = False
    specimen_spread: Spread | None = None
    per_area: bool = True


@dataclass(frozen=True)
class JointMeasurement:
    """Several quantities of one fit, with their covariance (canonical units, in the order of
    ``parts``); ``note`` says when the fit gave no covariance and they enter as independent."""

    parts: tuple[Measurement, ...]
    covariance: np.ndarray
    where: str
    source: str
    note: str = ""

    @property
    def quantity(self) -> str:
        return ", ".join(p.quantity for p in self.parts)


Observation = Replicates | Capacities | ArrheniusSeries | Measurement | JointMeasurement
