"""Small JSON files the service rewrites at run time (settings, saved camera fields)."""

from __future__ import annotations

import json
import os
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pathlib import Path


def write_atomic(path: Path, data: Any) -> None:
    """Replace `path` with `data` as JSON, fsynced, through a temporary file beside it.

    OSError (disk full, read-only) leaves the old file as it was and no temporary file.
    """
    tmp = path.with_name(path.name + ".tmp")
    try:
        with tmp.open("w") as handle:
            json.dump(data, handle, indent=1)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except OSError:
        tmp.unlink(missing_ok=True)
        raise
