"""Writing files atomically: a result or report is either whole or absent, never half written."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path


def _read_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


_UMASK = _read_umask()  # read once, at import, not while other threads may create files


@contextlib.contextmanager
def atomic_target(path: str | Path):
    """Yield a temporary path beside ``path``; on success it replaces ``path`` in one step.

    If the block raises (or the process dies), ``path`` keeps its old content and the
    temporary file is removed (or left as a hidden ``.part`` file after a kill).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    os.close(fd)
    os.chmod(tmp, 0o666 & ~_UMASK)  # mkstemp makes 0600; a result file is as readable as any other
    try:
        yield Path(tmp)
        with open(tmp, "rb+") as handle:  # on disk before it takes the name
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def write_text(path: str | Path, text: str) -> Path:
    """Write ``text`` to ``path`` atomically (UTF-8)."""
    with atomic_target(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(path)


def check_writable(path: str | Path) -> None:
    """Raise OSError now if ``path`` could not be written later (its folder, permissions)."""
    path = Path(path)
    if path.is_dir():
        raise IsADirectoryError(21, "is a directory", str(path))
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(prefix=f".{path.name}.", suffix=".check", dir=path.parent):
        pass
