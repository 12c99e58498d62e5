"""Secrets kept out of every output: the password of a URL is shown as ``***``.

A storage URL such as ``postgresql://user:PASSWORD@host/db`` reaches outputs in many ways: the
JSON of ``nassb design``, a report's provenance (its command line), an error message that quotes
the URL.  :func:`mask_url` is applied to each of them; it finds every URL in a text, so a
whole command line or error message can be passed through it.
"""

from __future__ import annotations

import re

MASK = "***"

# scheme://user:password@ (the user may be empty).  The password runs to the last "@" before the
# host: an unescaped "@" or "/" inside it ("p@ss/word") stays hidden.  Whitespace and quotes end it.
_USERINFO = re.compile(
    r"(?P<head>\b[A-Za-z][A-Za-z0-9+.\-]*://[^\s:/@'\"]*):(?P<password>[^\s'\"]*)@(?=[^\s@/'\"]*(?:[/\s'\"?]|$))"
)
# password=... in a query string (libpq accepts ?password=) or in a key=value connection string.
_KEYWORD = re.compile(r"(?P<head>\b(?:password|passwd|pwd)\s*=\s*)(?P<password>'[^']*'|[^\s&;'\"]+)",
                      re.IGNORECASE)


def mask_url(text: str) -> str:
    """``text`` with the password of every URL in it replaced by ``***``.

    >>> mask_url("postgresql://user:s3cret@db.lab:5432/nassb")
    'postgresql://user:***@db.lab:5432/nassb'
    >>> mask_url("nassb design --storage postgresql://u:p@ss@host/db --trials 5")
    'nassb design --storage postgresql://u:***@host/db --trials 5'
    >>> mask_url("sqlite:///nassb-design.db")
    'sqlite:///nassb-design.db'
    """
    if not isinstance(text, str) or ("://" not in text and "=" not in text):
        return text
    text = _USERINFO.sub(lambda m: f"{m['head']}:{MASK}@", text)
    return _KEYWORD.sub(lambda m: f"{m['head']}{MASK}", text)


def mask_all(value):
    """:func:`mask_url` applied to every string in a (nested) dict, list or tuple."""
    if isinstance(value, str):
        return mask_url(value)
    if isinstance(value, dict):
        return {key: mask_all(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(mask_all(item) for item in value)
    return value
