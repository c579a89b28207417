"""Decode on demand: how many consumers need decoded pictures of a camera's main stream.

With a detect sub-stream, motion reads the sub-stream and recording and the live
stream pass the main stream's packets through, so the main stream is decoded only
while somebody needs its pictures: a privacy mask (masked video is re-encoded), an
MJPEG viewer (`hold`/`release`), a snapshot (`request_picture`: one picture) or a
ring's or motion event's snapshot (`request`: a short window). The
demuxer keeps running either way; only the decode step is skipped.

Shared by the event loop (consumers) and the capture worker thread (`active`), so
every field is guarded by one lock.
"""

from __future__ import annotations

import threading
import time

SKIPPABLE_CODECS = frozenset({"h264"})
"""Codecs whose packets the recorder and live stream pass through; others are always
decoded (they are re-encoded from pictures)."""


class DecodeDemand:
    """A demand counter plus a deadline; `frames_decoded`/`frames_skipped` for diagnostics."""

    def __init__(self, codecs: frozenset[str] = SKIPPABLE_CODECS) -> None:
        self.codecs = codecs
        self._lock = threading.Lock()
        self._holds = 0
        self._until = 0.0
        self._pictures = 0
        self.frames_decoded = 0
        """Pictures the main stream's decoder produced (written by the worker thread)."""
        self.frames_skipped = 0
        """Packets passed on without decoding (written by the worker thread)."""

    def hold(self) -> None:
        """Decode from now until the matching `release` (a mask, an MJPEG viewer)."""
        with self._lock:
            self._holds += 1

    def release(self) -> None:
        """End one `hold`."""
        with self._lock:
            self._holds = max(0, self._holds - 1)

    def request(self, seconds: float) -> None:
        """Decode for at least `seconds` from now (a snapshot, a ring's picture)."""
        with self._lock:
            self._until = max(self._until, time.monotonic() + seconds)

    def request_picture(self) -> None:
        """Decode until the next picture (a snapshot), then stop."""
        with self._lock:
            self._pictures = 1

    def decoded(self) -> None:
        """The worker thread decoded a picture."""
        with self._lock:
            self.frames_decoded += 1
            self._pictures = 0

    @property
    def holds(self) -> int:
        """Current holds (masks and MJPEG viewers)."""
        with self._lock:
            return self._holds

    def active(self) -> bool:
        """True while pictures are needed."""
        with self._lock:
            return self._holds > 0 or self._pictures > 0 or time.monotonic() < self._until
