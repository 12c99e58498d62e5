"""A card's TOML as read: from a file, a stream (``/dev/stdin``) or a built-in name, with its
``base`` cards merged under it and its observation files anchored to the card naming them, and
the digest of the merged card (what a result's provenance names).  :mod:`nassb.priors.card`
validates what this reads.
"""

from __future__ import annotations

import copy
import hashlib
import json
import tomllib
from importlib import resources
from pathlib import Path

from .errors import CardError
from .reading import CARD_BYTES, SPECTRUM_BYTES, read_bounded

TOP_LEVEL = ("base", "cell", "anode", "separator", "cathode", "materials", "observations", "design")
MAX_BASE_DEPTH = 16  # base cards under a card: a longer chain is a mistake, not a design


def builtin_cards() -> list[str]:
    """Names of the cards shipped with nassb (``paper-cell-1``, ...).

    ``paper-cell-1`` and ``paper-cell-2`` are Table 1 of the seed paper (Lowack et al.,
    Materials Technology), the ``paper-roadmap-*`` cards its roadmap, and
    ``example-cell-1-synthetic`` cell 1 with SYNTHETIC observations attached.
    """
    folder = resources.files("nassb.priors") / "data" / "cells"
    return sorted(p.name[:-5] for p in folder.iterdir() if p.name.endswith(".toml"))


def _builtin_text(name: str) -> str:
    return (resources.files("nassb.priors") / "data" / "cells" / f"{name}.toml").read_text("utf-8")


_FILE_KEYS = ("file", "fit")  # observation keys that name a file (a data table, an impedance fit)


def _digest(raw: dict) -> str:
    """SHA-256 of the merged card and of the data files its observations name (provenance)."""
    h = hashlib.sha256(json.dumps(raw, sort_keys=True, default=str).encode())
    for table in raw.get("observations", []) if isinstance(raw.get("observations"), list) else []:
        for key in _FILE_KEYS:
            path = Path(table[key]) if isinstance(table, dict) and isinstance(table.get(key), str) else None
            if path is not None and path.is_file():
                h.update(read_bounded(path, SPECTRUM_BYTES, what="a data file", error=CardError))
    return h.hexdigest()


def _drop_removed(raw: dict, keep: tuple[str, ...] = ()) -> None:
    """``field = false`` removes a field (one a base card gave): drop those keys everywhere
    except under ``keep`` (materials are merged with the built-ins first)."""
    for key in [k for k, v in raw.items() if v is False]:
        del raw[key]
    for key, value in raw.items():
        if isinstance(value, dict) and key not in keep:
            _drop_removed(value)


class _TooDeep(CardError):
    """A chain of ``base`` cards longer than :data:`MAX_BASE_DEPTH` (reported by the first card)."""


def _read(ref: str | Path, seen: tuple[str, ...]) -> tuple[dict, str]:
    """Load a card's TOML, with its ``base`` merged under it."""
    text, origin, folder = _locate(ref)
    identity = str((folder / Path(ref).name).resolve()) if folder is not None else f"built-in {origin}"
    if identity in seen:
        raise CardError(f"card bases form a loop through {origin}", file=origin, field="base")
    if len(seen) > MAX_BASE_DEPTH:
        raise _TooDeep(f"card bases nest deeper than {MAX_BASE_DEPTH} levels (at {origin}); "
                       "merge some of them", field="base")
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise CardError(f"not valid TOML: {err}", file=origin) from None
    except RecursionError:
        raise CardError("not valid TOML for a card: arrays or tables nested too deep", file=origin) from None
    return _with_base(raw, origin, folder, (*seen, identity))


def _with_base(raw: dict, origin: str, folder: Path | None, seen: tuple[str, ...]) -> tuple[dict, str]:
    """A parsed card with its ``base`` merged under it (``seen``: the cards above, this one last)."""
    unknown = [key for key in raw if key not in TOP_LEVEL]
    if unknown:
        raise CardError(f"unknown section; expected one of {', '.join(TOP_LEVEL)}", file=origin, field=unknown[0])
    _anchor_files(raw, folder if folder is not None else _builtin_folder())
    base = raw.pop("base", None)
    if base is None:
        return raw, origin
    if not isinstance(base, str):
        raise CardError(f"expected a card path or built-in name, got {base!r}", file=origin, field="base")
    base_ref = folder / base if folder is not None and not _is_builtin(base) else base
    try:
        merged, _ = _read(base_ref, seen)
    except _TooDeep as err:
        if len(seen) > 1:
            raise
        raise CardError(err.message, file=origin, field="base") from None
    except CardError as err:
        raise CardError(str(err), file=origin, field="base") from None
    _merge(merged, raw)
    return merged, origin


def _builtin_folder() -> Path:
    return Path(str(resources.files("nassb.priors") / "data" / "cells"))


def _anchor_files(raw: dict, folder: Path) -> None:
    """Make observation files relative to the card that names them (bases live elsewhere)."""
    for table in raw.get("observations", []) if isinstance(raw.get("observations"), list) else []:
        for key in _FILE_KEYS:
            if isinstance(table, dict) and isinstance(table.get(key), str) and table[key].strip():
                path = Path(table[key].strip())
                table[key] = str(path if path.is_absolute() else folder / path)


def _is_builtin(name: str) -> bool:
    return name in builtin_cards()


_STREAM_FOLDERS = ("/dev/", "/proc/")  # /dev/stdin, /dev/fd/3, /proc/self/fd/0: no folder of their own


def _locate(ref: str | Path) -> tuple[str, str, Path | None]:
    """The text of a card, how messages name it, and the folder its relative paths start from.

    A card is read from a regular file, a named pipe or a stream such as ``/dev/stdin`` (the
    paths of a streamed card are relative to the working directory); a UTF-8 byte-order mark is
    dropped.
    """
    path = Path(ref)
    if path.is_dir():
        raise CardError("is a directory, not a card file", file=str(ref))
    if path.exists():  # a regular file, a named pipe, /dev/stdin
        try:
            text = read_bounded(path, CARD_BYTES, what="a card", label=str(ref), error=CardError).decode("utf-8-sig")
        except UnicodeDecodeError as err:
            raise CardError(f"cannot read the card: not UTF-8 text ({err.reason} at byte {err.start})",
                            file=str(ref)) from None
        except OSError as err:
            raise CardError(f"cannot read the card: {err.strerror or err}", file=str(ref)) from None
        folder = Path.cwd() if str(ref).startswith(_STREAM_FOLDERS) else path.parent
        return text, str(ref), folder
    name = str(ref)
    if _is_builtin(name):
        return _builtin_text(name), name, None
    if path.suffix or "/" in name or path.exists():
        raise CardError("no such card file", file=name)
    raise CardError(f"neither a card file nor a built-in card; built-in cards: {', '.join(builtin_cards())}", file=name)


def _merge(into: dict, over: dict) -> None:
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(into.get(key), dict) and not _is_quantity_table(value):
            _merge(into[key], value)
        else:
            into[key] = copy.deepcopy(value)


def _is_quantity_table(value: dict) -> bool:
    return "value" in value or "sd" in value or "dist" in value
