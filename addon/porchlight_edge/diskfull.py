"""Is this error the disk being full? Decided by error codes, never by message text.

Sources: OSError (and PyAV's FFmpeg errors, which carry an `errno`) with ENOSPC or
EDQUOT (a quota is a full disk for us), and sqlite3 errors whose `sqlite_errorcode`
is SQLITE_FULL. Wrapped errors (`raise ... from err`) are followed along `__cause__`.
"""

from __future__ import annotations

import errno
import sqlite3
from typing import Final

DISK_FULL_ERRNOS: Final = frozenset({errno.ENOSPC, errno.EDQUOT})
_MAX_CAUSES: Final = 8


def is_disk_full(err: BaseException) -> bool:
    """True when `err`, or an error it was raised from, says there is no space left."""
    current: BaseException | None = err
    for _ in range(_MAX_CAUSES):  # a cause chain is short; never loop on a cycle
        if current is None:
            return False
        if isinstance(current, sqlite3.Error):
            if getattr(current, "sqlite_errorcode", None) == sqlite3.SQLITE_FULL:
                return True
        elif getattr(current, "errno", None) in DISK_FULL_ERRNOS:
            return True
        current = current.__cause__
    return False
