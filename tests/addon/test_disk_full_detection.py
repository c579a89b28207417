"""Disk-full is decided by error codes (errno, sqlite_errorcode), never by message text."""

from __future__ import annotations

import errno
from pathlib import Path
import sqlite3

import pytest

from porchlight_edge.diskfull import is_disk_full
from porchlight_edge.recorder.writer import WriteError
from tests.helpers.disk import fill, tmpfs


def test_real_full_disk_errors_are_disk_full(tmp_path: Path) -> None:
    """A file write and an SQLite insert on a really full tmpfs, and a wrapped one."""
    with tmpfs(tmp_path / "disk", "1m") as disk:
        db = sqlite3.connect(disk / "index.db", isolation_level=None)
        db.execute("CREATE TABLE t (b BLOB)")
        fill(disk, 0)
        with pytest.raises(OSError, match="No space") as os_err:
            (disk / "more").write_bytes(b"\0" * 65536)
        with pytest.raises(sqlite3.Error) as db_err:
            db.executemany("INSERT INTO t VALUES (?)", [(b"\0" * 65536,)] * 64)
        db.close()
    assert os_err.value.errno == errno.ENOSPC
    assert is_disk_full(os_err.value)
    assert is_disk_full(db_err.value), db_err.value.sqlite_errorcode
    wrapped = WriteError("writing failed")
    wrapped.__cause__ = os_err.value
    assert is_disk_full(wrapped)


def test_messages_that_say_full_are_not_disk_full() -> None:
    """The old substring checks took these for a full disk and paused recording."""
    assert not is_disk_full(OSError(errno.EACCES, "full access denied"))
    assert not is_disk_full(sqlite3.OperationalError("database table is full of locks"))
    assert not is_disk_full(ValueError("No space left in the pre-roll buffer"))
    assert not is_disk_full(OSError(errno.EIO, "I/O error"))
