"""JSON as nassb writes it: one indented document, non-finite numbers as null (JSON has no NaN)."""

from __future__ import annotations

import json
import math

import numpy as np


def finite(value):
    """A float that is not finite (an R-hat of one chain) becomes None (null); numpy scalars and
    arrays become plain numbers and lists."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, np.ndarray):
        value = value.tolist()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [finite(v) for v in value]
    return value


def json_text(document) -> str:
    """One JSON document, indented, with non-finite numbers as null."""
    return json.dumps(finite(document), indent=2, allow_nan=False) + "\n"
