"""One exception hierarchy for user mistakes.

The command line turns a :class:`NassbError` into exit code 2 and one line on stderr; nothing
else in the package catches them.  Each error names where the mistake is (a file, a field) and
what is wrong, so that the line is enough to fix it.
"""

from __future__ import annotations

import warnings


class NassbError(Exception):
    """A mistake in what the user gave us (a card, a data file, an option).

    Parameters
    ----------
    message : str
        What is wrong, e.g. ``"porosity must lie in (0, 1), got 1.2"``.
    file : str, optional
        The file the mistake is in (a path or a built-in card name).
    field : str, optional
        The dotted field inside the file, e.g. ``"cathode.porosity"``.
    """

    def __init__(self, message: str, *, file: str | None = None, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.file = file
        self.field = field

    def located(self, *, file: str | None = None, field: str | None = None) -> NassbError:
        """Return the same error with a file or a field filled in where it was missing."""
        return type(self)(
            self.message,
            file=self.file or file,
            field=self.field or field,
        )

    def __str__(self) -> str:
        where = ": ".join(part for part in (self.file, self.field) if part)
        return f"{where}: {self.message}" if where else self.message


class CardError(NassbError):
    """A cell or material card is malformed, incomplete or physically impossible."""


class DataError(NassbError):
    """A data file (CSV, spectrum) cannot be read or holds impossible values."""


class OptionError(NassbError):
    """A command-line option has a value that cannot be used."""


class OutputError(NassbError):
    """An output cannot be written: a full disk, no permission, or a folder nassb did not write."""


class NumericError(NassbError):
    """The inputs give a result that is not a finite number (an overflow or underflow)."""


def numeric_error(err: ArithmeticError) -> NumericError:
    """A :class:`NumericError` for an overflow or floating-point error that the inputs caused.

    Numbers far outside their plausible range (a thickness of 1e300 um, a temperature of 1e-300
    K) pass the physical bounds but overflow in the equations; the command line reports them as
    one line instead of a traceback.
    """
    first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
    return NumericError(f"the inputs give results that are not finite numbers (overflow or underflow): {first}")


class NassbWarning(UserWarning):
    """Something suspicious but possible in what the user gave: a value outside its plausible
    range, a bare number read in a unit the user may not have meant.

    Library code calls :func:`warn`; a notebook shows the warning as Python shows any warning,
    and the command line prints it as one line, ``nassb: warning: FILE: FIELD: message``.
    """

    def __init__(self, message: str, *, file: str | None = None, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.file = file
        self.field = field

    def __str__(self) -> str:
        where = ": ".join(part for part in (self.file, self.field) if part)
        return f"{where}: {self.message}" if where else self.message


def warn(message: str, *, file: str | None = None, field: str | None = None, stacklevel: int = 2) -> None:
    """Issue a :class:`NassbWarning` naming the file and the field."""
    warnings.warn(NassbWarning(message, file=file, field=field), stacklevel=stacklevel + 1)
