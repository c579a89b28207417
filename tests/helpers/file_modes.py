"""What in a folder is readable or writable by others than its owner (group or world bits)."""

from __future__ import annotations

from pathlib import Path
import stat


def loose_modes(root: Path) -> list[str]:
    """`"<path relative to root> <octal mode>"` of each file and folder below `root` (not
    `root` itself, not symlinks) that has any group or other permission bit."""
    loose = []
    for path in root.rglob("*"):  # the folder itself is the caller's
        mode = stat.S_IMODE(path.lstat().st_mode)
        if not path.is_symlink() and mode & 0o077:
            loose.append(f"{path.relative_to(root)} {mode:o}")
    return loose
