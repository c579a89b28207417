"""Small JSON files the service rewrites at run time (settings, saved camera fields)."""

from __future__ import annotations

import json
import os
import time
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pathlib import Path


def write_atomic(path: Path, data: Any) -> None:
    """Replace `path` with `data` as JSON, fsynced, through a temporary file beside it.

    OSError (disk full, read-only) leaves the old file as it was and no temporary file.
    The file is private (0600): a camera source saved from the set-up page holds its
    password.
    """
    tmp = path.with_name(path.name + ".tmp")
    tmp.unlink(missing_ok=True)  # a leftover keeps its mode through O_CREAT: start afresh
    try:
        with os.fdopen(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as handle:
            json.dump(data, handle, indent=1)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except OSError:
        tmp.unlink(missing_ok=True)
        raise


class UnreadableFile(Exception):
    """The file could not be read as a JSON object; it was kept as `kept`."""

    def __init__(self, kept: Path, reason: str) -> None:
        super().__init__(f"{kept.name}: {reason}")
        self.kept = kept
        self.reason = reason


def read_object(path: Path) -> dict[str, Any]:
    """The JSON object in `path`, {} when there is no file.

    A file that cannot be read as one (not JSON, not an object, an I/O error) is moved aside
    as `<name>.unreadable-<UTC time>`, never overwriting an earlier one, and UnreadableFile
    names where it went (the file itself when even the move failed).
    """
    try:
        raw = json.loads(path.read_bytes())
        if not isinstance(raw, dict):
            raise ValueError("not a JSON object")
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as err:
        aside = path.with_name(
            f"{path.name}.unreadable-{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}"
        )
        try:
            os.replace(path, aside)
        except OSError:
            aside = path
        raise UnreadableFile(aside, type(err).__name__) from err
    return raw
