"""Footage and secrets left readable by others are made private at start.

Left so by a version before files were created private, or copied in; standalone as
under the Supervisor (where run.sh also does it): folders 0700, files 0600 at most.
Only what the service owns by name is touched; foreign files in the media folder stay
as they are.
"""

from __future__ import annotations

import logging
import stat
from typing import TYPE_CHECKING

from porchlight_edge.recorder.ids import media_file

if TYPE_CHECKING:
    from pathlib import Path

_LOGGER = logging.getLogger(__name__)

DATA_FILES = ("token", "instance_id", "settings.json", "audit.db", "stream_secret", "cameras.json")
"""Files of the data folder (a database's -wal and -shm files go with it)."""
MEDIA_FOLDERS = ("clips", "snapshots", "exports")


def _tighten(path: Path) -> int:
    """Strip the group and other bits of `path` (never through a link); 1 if it changed."""
    try:
        st = path.lstat()
    except FileNotFoundError:
        return 0
    mode = stat.S_IMODE(st.st_mode)
    if stat.S_ISLNK(st.st_mode) or not mode & 0o077:
        return 0
    path.chmod(mode & ~0o077)
    return 1


def make_private(data_dir: Path, media_root: Path) -> int:
    """Tighten the service's own files and folders; returns how many changed.

    OSError (a read-only or foreign-owned file) is logged, never fatal.
    """
    changed = 0
    try:
        for name in DATA_FILES:
            for suffix in ("", "-wal", "-shm"):
                changed += _tighten(data_dir / f"{name}{suffix}")
        for suffix in ("", "-wal", "-shm"):
            changed += _tighten(media_root / f"index.db{suffix}")
        for folder in MEDIA_FOLDERS:
            path = media_root / folder
            if not path.is_dir() or path.is_symlink():
                continue
            changed += _tighten(path)
            for entry in path.iterdir():
                if media_file(entry.name) is not None and entry.is_file():
                    changed += _tighten(entry)
    except OSError as err:
        _LOGGER.warning("Cannot make every footage file private: %s", err)
    if changed:
        _LOGGER.info("Made %d file(s) and folder(s) private (readable by others before)", changed)
    return changed
