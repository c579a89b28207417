"""Open an SQLite database file that may be corrupt, without ever refusing to start.

A doorbell that exits on "file is not a database" crash-loops under the Supervisor
and rings nobody. So a database that fails to open or `PRAGMA quick_check` is moved
aside (renamed `<name>.corrupt-<UTC time>`, with its `-wal`/`-shm`, never deleted),
a fresh one is created, and the rows that can still be read are copied over.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from enum import StrEnum
import logging
import os
import sqlite3
import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Sequence
    from pathlib import Path

_LOGGER = logging.getLogger(__name__)
_SIDECARS = ("-wal", "-shm")
MAX_COPIED_ROWS = 10_000_000
"""Bound for the row copy out of a corrupt file (far above any real index)."""


class DatabaseState(StrEnum):
    """How `open_database` found the file."""

    OK = "ok"
    CREATED = "created"
    """There was no file: a new, empty database."""
    REBUILT = "rebuilt"
    """The file was corrupt: moved aside, a new one created (rows copied where readable)."""


@dataclass(frozen=True, slots=True)
class OpenedDatabase:
    """An open SQLite database and how it was opened (created, opened or rebuilt)."""

    connection: sqlite3.Connection
    state: DatabaseState
    moved_to: Path | None = None
    """Where the corrupt file went (REBUILT only)."""
    rows_kept: int = 0
    """Rows copied out of the corrupt file (REBUILT only)."""


def _connect(path: Path, schema: str) -> sqlite3.Connection:
    db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
    try:
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        db.execute("PRAGMA busy_timeout=5000")
        check = [row[0] for row in db.execute("PRAGMA quick_check")]
        if check != ["ok"]:
            raise sqlite3.DatabaseError("; ".join(str(c) for c in check[:3]))
        db.executescript(schema)
    except BaseException:
        db.close()
        raise
    return db


def open_database(path: Path, schema: str, tables: Sequence[str]) -> OpenedDatabase:
    """Open (or create) the WAL database at `path` with `schema` applied.

    A corrupt file is moved aside and replaced; rows of `tables` that still read are
    copied into the new file (`INSERT OR IGNORE`, in file order, stopping a table at
    its first unreadable page). Raises OSError only if the folder is unusable.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    existed = path.exists()
    try:
        return OpenedDatabase(
            _connect(path, schema), DatabaseState.OK if existed else DatabaseState.CREATED
        )
    except sqlite3.OperationalError:
        raise  # locked, unreadable, disk full...: not corruption, never move those aside
    except sqlite3.DatabaseError as err:
        reason = str(err)
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    aside = path.with_name(f"{path.name}.corrupt-{stamp}")
    for n in range(2, 100):  # never replace an earlier corrupt copy
        if not aside.exists():
            break
        aside = path.with_name(f"{path.name}.corrupt-{stamp}-{n}")
    os.replace(path, aside)
    for suffix in _SIDECARS:
        with contextlib.suppress(FileNotFoundError):
            os.replace(f"{path}{suffix}", f"{aside}{suffix}")
    db = _connect(path, schema)
    kept = _copy_rows(aside, db, tables)
    _LOGGER.error(
        "%s was corrupt (%s): moved it aside to %s and started a new one (%d rows kept)",
        path.name,
        reason,
        aside.name,
        kept,
    )
    return OpenedDatabase(db, DatabaseState.REBUILT, aside, kept)


def _copy_rows(source: Path, db: sqlite3.Connection, tables: Sequence[str]) -> int:
    """Best effort: whatever rows of `tables` still read from `source` (0 if none)."""
    kept = 0
    try:
        old = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    except sqlite3.Error:
        return 0
    try:
        for table in tables:
            columns = [row[1] for row in db.execute(f"PRAGMA table_info({table})")]
            names = ",".join(columns)
            marks = ",".join("?" * len(columns))
            try:
                cursor = old.execute(f"SELECT {names} FROM {table}")
                db.execute("BEGIN")
                try:
                    for count, row in enumerate(cursor):
                        if count >= MAX_COPIED_ROWS:
                            break
                        db.execute(f"INSERT OR IGNORE INTO {table}({names}) VALUES ({marks})", row)
                        kept += 1
                finally:
                    db.execute("COMMIT")
            except sqlite3.Error as err:
                _LOGGER.info("%s: stopped copying %s: %s", source.name, table, err)
    finally:
        old.close()
    return kept
