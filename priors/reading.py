"""How much of a file nassb reads: every input is read up to a size limit, so that a device
(``/dev/zero``, ``/dev/urandom``), a huge file or a wrong path is refused in one line naming the
file, not read until memory runs out.

==================================  ============  =================================================
input                               limit         what it holds at most, for scale
==================================  ============  =================================================
card (``CARD``, a ``base`` card)    1 MiB         a card is a few kB
TOML file (observations, risk       16 MiB        tens of thousands of observed cells
priors, experiments)
data table (CSV: Arrhenius series,  64 MiB        about two million rows of three numbers
observations, thicknesses)
impedance spectrum file             256 MiB       millions of points (fitted on
                                                  :data:`~nassb.inference.eis.spectrum.MAX_FIT_POINTS`)
==================================  ============  =================================================
"""

from __future__ import annotations

from pathlib import Path

from .errors import NassbError

MIB = 1 << 20
CARD_BYTES = 1 * MIB
TOML_BYTES = 16 * MIB
TABLE_BYTES = 64 * MIB
SPECTRUM_BYTES = 256 * MIB


def read_bounded(path: str | Path, limit: int, *, what: str, label: str | None = None,
                 error: type[NassbError] = NassbError) -> bytes:
    """The bytes of ``path``, refused with ``error`` naming the file when there are more than
    ``limit``: only ``limit + 1`` bytes are ever read (a device that never ends included).

    OSError (a missing file, a folder, no permission) reaches the caller, which words it.
    """
    with open(path, "rb") as handle:
        data = handle.read(limit + 1)
    if len(data) > limit:
        raise error(f"larger than {_size(limit)}, the most nassb reads from {what}: is this the right file?",
                    file=label or str(path))
    return data


def _size(limit: int) -> str:
    return f"{limit // MIB} MiB" if limit >= MIB and limit % MIB == 0 else f"{limit} bytes"
