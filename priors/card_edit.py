"""Cards built and varied in Python: a mapping as the TOML of a card parses, and a card with some
fields replaced (:meth:`~nassb.priors.card.CellCard.replace`), each turned into the merged TOML a
card file gives, which :mod:`nassb.priors.card` then validates exactly as a card file's."""

from __future__ import annotations

import copy
import datetime as _dt
import numbers
from collections.abc import Mapping
from pathlib import Path

from .card_files import _drop_removed, _is_quantity_table, _with_base
from .errors import CardError

MAPPING_ORIGIN = "card mapping"


def _toml_value(value, where: str):
    """``value`` as TOML would parse it (dict, list, str, int, float, bool, dates); anything
    else is a CardError naming the field."""
    if isinstance(value, Mapping):
        out = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise CardError(f"a table's keys are strings, got {key!r}", field=where or None)
            out[key] = _toml_value(item, f"{where}.{key}" if where else key)
        return out
    if isinstance(value, (list, tuple)):
        return [_toml_value(item, f"{where}[{i}]") for i, item in enumerate(value)]
    if isinstance(value, (str, bool, _dt.date, _dt.time)):
        return value
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        return float(value)
    if isinstance(value, Path):
        return str(value)
    raise CardError(f"expected a string, number, boolean, table or list as a card holds, got "
                    f"{type(value).__name__} {value!r}", field=where or None)


def mapping_raw(mapping: Mapping, origin: str = MAPPING_ORIGIN) -> dict:
    """The merged TOML of a card given as a mapping as the TOML of a card parses (see
    :func:`~nassb.priors.card.load_card`), its base and files relative to the working directory."""
    raw = _toml_value(mapping, "")
    merged, _ = _with_base(raw, origin, Path.cwd(), (f"mapping {id(mapping)}",))
    _drop_removed(merged, keep=("materials",))
    return merged


def _set(raw: dict, path: str, value) -> None:
    """Set ``a.b.c`` in the nested tables of ``raw``, making the tables on the way."""
    keys = path.split(".")
    if not path or any(not k for k in keys):
        raise CardError("expected a dotted field path such as 'cathode.thickness'", field=path or "replace")
    table = raw
    for i, key in enumerate(keys[:-1]):
        nxt = table.setdefault(key, {})
        if not isinstance(nxt, dict) or _is_quantity_table(nxt):
            raise CardError(f"{'.'.join(keys[:i + 1])} is a value, not a table", field=path)
        table = nxt
    table[keys[-1]] = value


def replaced_raw(raw: Mapping, changes: Mapping[str, object]) -> dict:
    """A card's merged TOML ``raw`` (left as it is) with the fields of ``changes`` (dotted path
    -> value) replaced."""
    out = copy.deepcopy(dict(raw))
    for path, value in changes.items():
        _set(out, path, _toml_value(value, path))
    _drop_removed(out, keep=("materials",))  # a material's `false` removes a built-in field there
    return out
