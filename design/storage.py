"""Reading a storage without writing it: ``nassb studies`` and the reports of a study.

A listing or a report reads the trials and writes nothing, so a SQLite file on a read-only mount
(a shared drive, a backup, a file another user owns) is opened read-only instead of through
Optuna's usual opening, which creates or checks tables and fails there with a write error.  Any
error of the database (a server that does not answer, a file that is not a study storage) is one
:class:`OptionError` naming the storage with its password masked.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import warnings
from pathlib import Path
from urllib.parse import quote

from ..priors import OptionError
from ..priors.secrets import mask_url

SQLITE_PREFIX = "sqlite:///"


def sqlite_path(url: str) -> Path | None:
    """The file of a ``sqlite:///PATH`` URL (None for another database or an in-memory one)."""
    if not url.startswith(SQLITE_PREFIX):
        return None
    path = url[len(SQLITE_PREFIX):].split("?", 1)[0]
    return Path(path) if path and path != ":memory:" else None


def writable(path: Path) -> bool:
    """Whether SQLite may write the file and its journal next to it (False on a read-only mount,
    even for root: the mount says no before the permissions are asked)."""
    return os.access(path, os.W_OK) and os.access(path.parent if str(path.parent) else Path("."), os.W_OK)


def reading_storage(url: str):
    """Optuna's RDB storage of ``url`` for reading only.

    A SQLite file that cannot be written is opened read-only (``mode=ro``); one whose
    write-ahead log cannot be opened so (no ``-shm`` file and a read-only folder) is opened as
    immutable, which reads what the last clean close left.  Other storages open as usual.
    """
    import optuna

    shown = mask_url(url)
    path = sqlite_path(url)
    with reading_errors(url), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if path is None or not path.is_file() or writable(path):
            return optuna.storages.RDBStorage(url, engine_kwargs=_connect_timeout(url))
        connect = _read_only_connection(path, shown)
        return optuna.storages.RDBStorage(url, engine_kwargs={"creator": connect}, skip_table_creation=True)


def _read_only_connection(path: Path, shown: str):
    """A function opening ``path`` read-only: ``mode=ro`` where SQLite can, else ``immutable``."""
    base = f"file:{quote(str(path.resolve()))}"
    for query in ("mode=ro", "mode=ro&immutable=1"):
        try:
            with contextlib.closing(sqlite3.connect(f"{base}?{query}", uri=True)) as probe:
                probe.execute("SELECT count(*) FROM sqlite_master").fetchone()
        except sqlite3.Error as err:
            last = err
            continue
        uri = f"{base}?{query}"
        return lambda: sqlite3.connect(uri, uri=True, check_same_thread=False)
    raise OptionError(f"cannot open the storage {shown!r} read-only: {last}", field="storage")


def _connect_timeout(url: str) -> dict:
    """A server that does not answer is given up after 20 s, not the minutes of TCP's timeout."""
    if url.startswith(("postgresql", "mysql")):
        return {"connect_args": {"connect_timeout": 20}}
    return {}


@contextlib.contextmanager
def reading_errors(url: str):
    """Any database error while opening or reading ``url`` becomes one OptionError naming it."""
    import optuna
    import sqlalchemy.exc

    try:
        yield
    except (sqlalchemy.exc.SQLAlchemyError, optuna.exceptions.StorageInternalError, sqlite3.Error, ValueError,
            ImportError, RuntimeError) as err:
        cause = err.__cause__ if isinstance(err, optuna.exceptions.StorageInternalError) and err.__cause__ else err
        first = str(cause).strip().splitlines()[0] if str(cause).strip() else type(cause).__name__
        raise OptionError(f"cannot open the storage {mask_url(url)!r}: {mask_url(first)}", field="storage") from None
