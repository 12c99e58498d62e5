"""Column names and units: which header cell holds the frequency, Z', Z'', a temperature or a cycle.

Names are compared in any case with spaces and underscores ignored.  A unit follows a name in
brackets (``frequency [kHz]``), after a slash (``Re(Z)/Ohm``), in parentheses with or without a
space (``Z' (ohm)``, ``Freq(Hz)``) or as an underscore suffix (``f_Hz``, ``Z_real_ohm_cm2``).  A
leading minus (``-Im(Z)``, ``-Z''``, ``minus_z_imag``) means the column holds -Z''.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ....priors.errors import DataError
from ....priors.units import UNIT_TEXT_ERRORS, normalise_unit, registry

ALIASES = {
    "frequency": ("f", "freq", "frequency"),
    "real": ("zreal", "re(z)", "z'", "z′", "zre", "real", "real(z)", "z'(a)"),
    "imag": ("zimag", "zimg", "im(z)", "z''", 'z"', "z″", "z′′", "zim", "imag", "imag(z)", "z''(b)"),
    "temperature": ("temperature", "temp"),
    "cycle": ("cycle", "cyclenumber"),
    "zcycle": ("zcycle",),
}
ROLE_OF = {alias: role for role, aliases in ALIASES.items() for alias in aliases}
FIELD = {"frequency": "frequency", "real": "Z_real", "imag": "Z_imag", "temperature": "temperature",
         "cycle": "cycle", "zcycle": "z cycle"}
REQUIRED = ("frequency", "real", "imag")
ALL_ROLES = tuple(ALIASES)

_BRACKET = re.compile(r"^\s*(?P<name>[^\[\]]*?)\s*\[(?P<unit>[^\]]*)\]\s*$")
_PAREN = re.compile(r"^\s*(?P<name>.*\S)\s+\((?P<unit>[^()]*)\)\s*$")
_TIGHT_PAREN = re.compile(r"^\s*(?P<name>.*[^\s(])\((?P<unit>[^()]*)\)\s*$")
_EXAMPLES = {"frequency": "'frequency [Hz]', 'f_Hz' or 'freq/Hz'",
             "real": "'Z_real [ohm]', \"Z'\" or 'Re(Z)/Ohm'",
             "imag": "'Z_imag [ohm]', '-Im(Z)/Ohm' or \"-Z''\""}


@dataclass(frozen=True)
class Column:
    """A recognised column: where it is, what it holds, its unit and its sign."""

    role: str
    index: int
    header: str
    unit: str
    negated: bool


def _sign_and_key(name: str) -> tuple[bool, str]:
    """Whether a name says 'minus', and the name reduced to its lookup key."""
    text = name.strip()
    negated = False
    if text[:1] in ("-", "−"):
        negated, text = True, text[1:]
    elif text.lower().startswith("minus"):
        negated, text = True, text[5:]
    key = re.sub(r"[\s_]+", "", text.lower())
    return negated, key


def parse_unit(text: str):
    """The pint unit of a header's unit text, or None when pint cannot read it."""
    spelled = re.sub(r"(?i)ohm", "ohm", normalise_unit(text))
    try:
        return registry().parse_units(spelled)
    except UNIT_TEXT_ERRORS:
        return None  # text that is not a unit (pint's parser raises many kinds of error, even assertions)


def _candidates(text: str) -> list[tuple[str, str, bool]]:
    """(name, unit, whether the unit is surely meant) readings of a header cell, in order."""
    bracket = _BRACKET.match(text)
    if bracket:
        return [(bracket["name"], bracket["unit"].strip(), True)]
    candidates = [(text, "", True)]
    if "/" in text:
        name, unit = text.rsplit("/", 1)
        candidates.append((name, unit.strip(), True))
    paren = _PAREN.match(text)
    if paren:
        candidates.append((paren["name"], paren["unit"].strip(), True))
    tight = _TIGHT_PAREN.match(text)
    if tight:  # "Freq(Hz)", but not "f(x)": the unit must fit the column
        candidates.append((tight["name"], tight["unit"].strip(), False))
    parts = text.split("_")
    for cut in range(len(parts) - 1, 0, -1):  # "Z_real_ohm_cm2" -> "Z_real", "ohm*cm2"
        candidates.append(("_".join(parts[:cut]), "*".join(parts[cut:]), False))
    return candidates


def recognise(cell: str, index: int, label: str) -> Column | None:
    """The column a header cell names, or None for a column nassb does not use."""
    text = cell.strip()
    if not text:
        return None
    for name, unit, unit_is_meant in _candidates(text):
        negated, key = _sign_and_key(name)
        role = ROLE_OF.get(key)
        if role is None:
            continue
        if not unit_is_meant and not _suits(role, parse_unit(unit)):
            continue  # "Z_real_fit", "Z_real_2": not a unit suffix, so not our column
        if unit and parse_unit(unit) is None:
            raise DataError(f"unknown unit {unit!r} in the header {text!r}", file=label, field=text)
        if negated and role not in ("real", "imag"):
            continue
        return Column(role, index, text, unit, negated)
    return None


def _suits(role: str, unit) -> bool:
    """Whether a parsed unit (or None) has the dimension a column of this role needs."""
    if unit is None:
        return False
    ureg = registry()
    wanted = {"frequency": ("Hz",), "real": ("ohm", "ohm*cm^2"), "imag": ("ohm", "ohm*cm^2"),
              "temperature": ("K",)}.get(role, ("dimensionless",))
    return any(unit.dimensionality == ureg.parse_units(w).dimensionality for w in wanted)


def roles_named(cells: list[str]) -> set[str]:
    """The roles a line's cells name, units unchecked: how a header is told from other text (a
    known name with a bad unit still makes a header; reading it then says what is wrong)."""
    found = set()
    for cell in cells:
        text = cell.strip()
        for name, unit, unit_is_meant in _candidates(text) if text else ():
            negated, key = _sign_and_key(name)
            role = ROLE_OF.get(key)
            if role is None or (negated and role not in ("real", "imag")):
                continue
            if unit_is_meant or _suits(role, parse_unit(unit)):
                found.add(role)
                break
    return found


def recognise_all(header: list[str], label: str, where: str,
                  roles: tuple[str, ...] = ALL_ROLES) -> dict[str, Column]:
    """The recognised columns of a header by role; frequency, Z' and Z'' must be there.

    ``roles`` limits what is looked for (an instrument whose other columns mean something else).
    """
    columns: dict[str, Column] = {}
    for index, cell in enumerate(header):
        column = recognise(cell, index, label)
        if column is None or column.role not in roles:
            continue
        if column.role in columns:
            raise DataError(f"two columns hold the {FIELD[column.role]}: "
                            f"{columns[column.role].header!r} and {column.header!r}", file=label,
                            field=column.header)
        columns[column.role] = column
    for role in REQUIRED:
        if role not in columns:
            names = [repr(cell.strip()) for cell in header if cell.strip()]
            found = ", ".join(names[:8]) + (f" and {len(names) - 8} more" if len(names) > 8 else "") or "nothing"
            raise DataError(f"no {FIELD[role]} column in the header ({where}); expected a name like "
                            f"{_EXAMPLES[role]}, found {found}", file=label, field=FIELD[role])
    return columns


def factor(column: Column, canonical: str, label: str, what: str) -> float:
    """Multiply a column's values by this to get them in ``canonical``."""
    if not column.unit:
        return 1.0
    ureg = registry()
    parsed, target = parse_unit(column.unit), ureg.parse_units(canonical)
    if parsed is None or parsed.dimensionality != target.dimensionality:
        raise DataError(f"unit {column.unit!r} is not {what}", file=label, field=column.header)
    return float(ureg.Quantity(1.0, parsed).to(target).magnitude)


def impedance_unit(column: Column, label: str) -> str:
    """``"ohm"`` or ``"ohm*cm^2"``: the canonical unit of an impedance column."""
    if not column.unit:
        return "ohm"
    parsed = parse_unit(column.unit)
    ureg = registry()
    for canonical in ("ohm", "ohm*cm^2"):
        if parsed is not None and parsed.dimensionality == ureg.parse_units(canonical).dimensionality:
            return canonical
    raise DataError(f"unit {column.unit!r} is not an impedance; expected ohm (kohm, mohm, ...) or an "
                    "area-normalised ohm*cm^2", file=label, field=column.header)
