"""Real-time pacing for sources that could otherwise deliver as fast as they decode."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import threading

# Falling further behind than this (slow consumer, suspended machine) restarts the
# schedule instead of bursting frames to catch up.
_MAX_LAG = 1.0


class Pacer:
    """Blocks until stream time `pts` is due on the wall clock (no-op when not realtime)."""

    def __init__(self, realtime: bool, stop: threading.Event) -> None:
        self._realtime = realtime
        self._stop = stop
        self._base: tuple[float, float] | None = None  # (monotonic, pts) at schedule start

    def wait(self, pts: float) -> None:
        """Sleep until the frame at `pts` (seconds) is due in real time (no wait otherwise)."""
        if not self._realtime:
            return
        now = time.monotonic()
        if self._base is None:
            self._base = (now, pts)
            return
        due = self._base[0] + (pts - self._base[1])
        if due - now < -_MAX_LAG or pts < self._base[1]:
            self._base = (now, pts)
        elif due > now:
            self._stop.wait(due - now)
