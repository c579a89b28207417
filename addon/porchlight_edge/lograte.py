"""Rate-limited logging: a repeated line goes out at most once per interval.

For what can repeat without bound (a flood of bad requests, accept failures at the file
limit, a frame handler failing on every frame): the log keeps the first line of each kind
and says how many were held back, instead of filling the disk.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import logging


class RateLimitedLog:
    """At most one line per key and `interval`; the rest are counted into the next line."""

    def __init__(self, logger: logging.Logger, interval: float = 10.0) -> None:
        self.logger = logger
        self.interval = interval
        self._last: dict[str, float] = {}
        self._held: dict[str, int] = {}

    def allow(self, key: str) -> int | None:
        """None when a line of `key` went out within `interval` (this one is held back).

        Otherwise how many were held back since the last one.
        """
        now = time.monotonic()
        last = self._last.get(key)
        if last is not None and now - last < self.interval:
            self._held[key] = self._held.get(key, 0) + 1
            return None
        self._last[key] = now
        return self._held.pop(key, 0)

    def log(self, level: int, key: str, message: str, *args: Any) -> None:
        """Log `message % args` at `level` unless held back; says how many lines were held."""
        held = self.allow(key)
        if held is None:
            return
        if held:
            message += f" (and {held} more like it in the last {self.interval:.0f} s)"
        self.logger.log(level, message, *args)
