"""Reading a user's TOML file (observations, risk priors, experiments) with one set of errors."""

from __future__ import annotations

import tomllib
from pathlib import Path

from .errors import CardError
from .reading import TOML_BYTES, read_bounded


def read_toml(path: str | Path, *, what: str = "TOML file") -> tuple[dict, str]:
    """The parsed tables of a TOML file and its text (a byte-order mark dropped, as editors on
    Windows write one).

    Raises
    ------
    CardError
        (one line naming the file) for a folder, an unreadable or undecodable file, invalid
        TOML, or arrays and tables nested too deep to parse.
    """
    label = str(path)
    p = Path(path)
    if p.is_dir():
        raise CardError(f"is a directory, not {what_article(what)}", file=label)
    try:
        text = read_bounded(p, TOML_BYTES, what=what_article(what), label=label, error=CardError).decode("utf-8-sig")
    except (OSError, UnicodeDecodeError) as err:
        raise CardError(f"cannot read: {getattr(err, 'strerror', None) or err}", file=label) from None
    try:
        return tomllib.loads(text), text
    except tomllib.TOMLDecodeError as err:
        raise CardError(f"not valid TOML: {err}", file=label) from None
    except RecursionError:
        raise CardError("not valid TOML here: arrays or tables nested too deep", file=label) from None


def what_article(what: str) -> str:
    """'an observations file', 'a TOML file'."""
    return ("an " if what[:1].lower() in "aeiou" else "a ") + what
