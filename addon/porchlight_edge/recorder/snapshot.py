"""Snapshot JPEGs, written atomically (temp file, fsync, rename), with their event inside.

Each JPEG carries its event as JSON in a COM (comment) segment, so a lost or
corrupt index can be rebuilt from the files: the snapshot is not an orphan.
"""

from __future__ import annotations

import contextlib
import json
import os
import struct
from typing import TYPE_CHECKING, Any

from .writer import replace_durably

if TYPE_CHECKING:
    from pathlib import Path


_SOI = b"\xff\xd8"
_COM = 0xFE
_SOS = 0xDA
_MAX_SEGMENT = 0xFFFF - 2


def with_comment(jpeg: bytes, comment: dict[str, Any]) -> bytes:
    """`jpeg` with `comment` (JSON, at most 64 kB) as a COM segment right after SOI.

    Own code: OpenCV cannot write JPEG comments and a COM segment is four header
    bytes (JPEG, ITU T.81 B.2.4.5). ValueError if `jpeg` is not a JPEG.
    """
    if not jpeg.startswith(_SOI):
        raise ValueError("not a JPEG")
    payload = json.dumps(comment, separators=(",", ":")).encode()[:_MAX_SEGMENT]
    return _SOI + struct.pack(">BBH", 0xFF, _COM, len(payload) + 2) + payload + jpeg[2:]


def read_comment(path: Path) -> dict[str, Any] | None:
    """The JSON object of the first COM segment before the image data, None if none/invalid."""
    with contextlib.suppress(OSError), open(path, "rb") as f:
        if f.read(2) != _SOI:
            return None
        for _ in range(64):  # markers before the scan: a handful in practice
            head = f.read(4)
            if len(head) < 4 or head[0] != 0xFF or head[1] == _SOS:
                return None
            length = struct.unpack(">H", head[2:])[0]
            if length < 2:
                return None
            body = f.read(length - 2)
            if head[1] == _COM:
                try:
                    value = json.loads(body)
                except ValueError:
                    return None
                return value if isinstance(value, dict) else None
    return None


def write_atomic(path: Path, data: bytes) -> None:
    """Write `data` to `path` so a crash leaves either nothing or the whole file."""
    tmp = path.with_name(path.name + ".part")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
        finally:
            os.close(fd)
        replace_durably(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)  # a failed write (e.g. disk full) leaves no .part
        raise
