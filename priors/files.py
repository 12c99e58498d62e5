"""Writing files and folders atomically: a result or report is either whole or absent, never half
written, and a full disk is one clear line."""

from __future__ import annotations

import contextlib
import errno
import glob
import os
import shutil
import socket
import tempfile
import time
from collections.abc import Callable, Mapping
from pathlib import Path

from .errors import OutputError


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


# --- Result folders ---------------------------------------------------------------------------
#
# A folder nassb writes (--out of propagate, fit, risk; a report) is built beside its target as
# ".NAME.new-XXXX" and swapped in with two renames (NAME -> ".NAME.old-XXXX", new -> NAME), so it
# is always the old folder or the new one, never half of each.  The marker file says nassb wrote
# a folder: only such folders are replaced, and only such leftovers are tidied away.

MARKER = ".nassb"
REPORT_MARKER = ".nassb-report"        # the marker of report folders (older than result folders')
_MARKERS = (MARKER, REPORT_MARKER)
_STALE_AFTER_S = 24 * 3600             # a staging folder of another machine this old is abandoned


def is_nassb_folder(path: str | Path) -> bool:
    """Whether ``path`` is a folder nassb wrote (it holds the marker file)."""
    path = Path(path)
    return path.is_dir() and any((path / name).is_file() for name in _MARKERS)


def output_error(err: OSError, path: str | Path) -> OutputError:
    """One line for an OSError met while writing ``path``; a full disk says so first.

    HDF5 (NetCDF) wraps the system's message in its own lines; only ``errno``, the system's
    message or the first line is kept.
    """
    text = str(err)
    if err.errno == errno.ENOSPC or "No space left on device" in text or "errno = 28," in text:
        return OutputError(f"no space left on device: cannot write {str(path)!r}")
    if err.errno == errno.EDQUOT or "Disk quota exceeded" in text:
        return OutputError(f"disk quota exceeded: cannot write {str(path)!r}")
    reason = err.strerror or (text.strip().splitlines()[0] if text.strip() else type(err).__name__)
    return OutputError(f"cannot write {str(path)!r}: {reason}")


def check_folder(out: str | Path, *, kind: str = "result") -> None:
    """Raise :class:`OutputError` now if a folder could not be written into ``out`` later.

    ``out`` must be new, an empty folder, or a folder nassb wrote; its parent must be writable.
    Call it before any sampling, so that minutes of work are not lost to a wrong path.
    """
    out = Path(out)
    _refuse_foreign(out, kind)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        os.rmdir(tempfile.mkdtemp(prefix=f".{out.name}.check-", dir=out.parent))
    except OSError as err:
        raise output_error(err, out) from None


def _refuse_foreign(out: Path, kind: str) -> None:
    if out.exists() and not (out.is_dir() and (is_nassb_folder(out) or not any(out.iterdir()))):
        raise OutputError(f"{out} exists and is not an nassb {kind} directory; nassb replaces only folders it "
                          "wrote: choose another folder")


def tidy_folder(out: str | Path) -> None:
    """Repair what killed runs left beside ``out``.

    A run killed between the two renames of a swap leaves the previous folder as
    ``.NAME.old-*`` and no ``NAME``: it is renamed back.  Staging folders ``.NAME.new-*`` of
    runs that died (their process is gone) and leftover ``.NAME.old-*`` folders are removed.
    Only folders that hold nassb's marker are touched.
    """
    out = Path(out)
    parent = out.parent
    if not parent.is_dir():
        return
    old = sorted((p for p in parent.glob(f".{glob.escape(out.name)}.old-*") if is_nassb_folder(p)),
                 key=lambda p: p.stat().st_ctime)
    if old and not out.exists() and not out.is_symlink():
        with contextlib.suppress(OSError):  # another run may restore it at the same moment
            os.replace(old.pop(), out)
    if out.exists():
        for path in old:
            shutil.rmtree(path, ignore_errors=True)
    for path in parent.glob(f".{glob.escape(out.name)}.new-*"):
        if _abandoned(path):
            shutil.rmtree(path, ignore_errors=True)


def _abandoned(staging: Path) -> bool:
    """Whether a staging folder belongs to a run that is gone (read from its marker)."""
    try:
        if not any(staging.iterdir()):
            return time.time() - staging.stat().st_mtime > 60  # killed before it wrote its marker
        marker = next(staging / name for name in _MARKERS if (staging / name).is_file())
        fields = dict(part.split("=", 1) for part in marker.read_text().split() if "=" in part)
        age = time.time() - marker.stat().st_mtime
    except (OSError, ValueError, StopIteration):
        return False  # no marker: not ours
    if fields.get("host") != socket.gethostname():
        return age > _STALE_AFTER_S
    try:
        pid = int(fields.get("pid", ""))
    except ValueError:
        return age > _STALE_AFTER_S
    return pid_alive(pid) is False


def pid_alive(pid: int) -> bool | None:
    """Whether a process of this id runs on this machine (ours or another user's): True, False,
    or None where the system cannot tell."""
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process runs under this id
        return True
    except OSError:
        return None
    return True


Content = bytes | str | Callable[[Path], object]


def write_folder(out: str | Path, files: Mapping[str, Content], *, kind: str = "result",
                 marker: str = MARKER) -> Path:
    """Write a folder as a whole: every file or none, and never into a folder nassb did not write.

    Parameters
    ----------
    out : str or Path
        The folder.  It must be new, empty, or a folder nassb wrote (:func:`is_nassb_folder`).
    files : mapping
        Relative path -> bytes, text (UTF-8), or a function that writes the file at the path it
        is given (``result.to_netcdf``).
    kind : str
        What the folder is ("result", "report"), for messages.
    marker : str
        The marker's file name (:data:`MARKER`, or :data:`REPORT_MARKER` for reports).

    Returns
    -------
    Path
        ``out``.

    Raises
    ------
    OutputError
        For a folder nassb did not write, or any failure to write (a full disk says "no space
        left on device").  The previous folder, if any, is left as it was.
    """
    out = Path(out)
    tidy_folder(out)
    _refuse_foreign(out, kind)
    staging = None
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.new-", dir=out.parent))
        # The marker first: a run killed while writing leaves a staging folder known to be ours.
        (staging / marker).write_text(f"written by nassb; nassb replaces this folder as a whole\n"
                                      f"pid={os.getpid()} host={socket.gethostname()}\n", encoding="utf-8")
        for rel, content in files.items():
            target = staging / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            if callable(content):
                content(target)
            elif isinstance(content, str):
                target.write_text(content, encoding="utf-8")
            else:
                target.write_bytes(content)
        for path in sorted(staging.rglob("*"), reverse=True):
            if path.is_file():
                with open(path, "rb") as handle:  # on disk before the folder takes the name
                    os.fsync(handle.fileno())
            os.chmod(path, (0o777 if path.is_dir() else 0o666) & ~_UMASK)
        os.chmod(staging, 0o777 & ~_UMASK)
        _swap(staging, out, kind)
    except OSError as err:
        raise output_error(err, out) from None
    finally:
        if staging is not None and staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
    return out


def _swap(new: Path, out: Path, kind: str) -> None:
    """Put ``new`` where ``out`` is: two renames, the old folder kept until the new one is in."""
    if not out.exists():
        os.replace(new, out)
        return
    if not out.is_dir():
        raise OutputError(f"{out} exists and is not an nassb {kind} directory")
    old = Path(tempfile.mkdtemp(prefix=f".{out.name}.old-", dir=out.parent))
    os.rmdir(old)
    os.replace(out, old)
    os.replace(new, out)
    shutil.rmtree(old, ignore_errors=True)
