"""Snapshot JPEGs, written atomically (temp file, fsync, rename)."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import cv2

from .writer import replace_durably

if TYPE_CHECKING:
    from pathlib import Path

    from porchlight_edge.capture.frame import Frame


def encode_jpeg(frame: Frame, quality: int = 85, max_width: int | None = None) -> bytes:
    ok, data = cv2.imencode(
        ".jpg", frame.to_bgr(max_width), [cv2.IMWRITE_JPEG_QUALITY, int(quality)]
    )
    if not ok:
        raise ValueError("JPEG encoding failed")
    return bytes(data)


def write_atomic(path: Path, data: bytes) -> None:
    """Write `data` to `path` so a crash leaves either nothing or the whole file."""
    tmp = path.with_name(path.name + ".part")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
    finally:
        os.close(fd)
    try:
        replace_durably(tmp, path)
    except OSError:
        tmp.unlink(missing_ok=True)
        raise
