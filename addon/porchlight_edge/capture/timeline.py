"""Continuous stream time for cameras whose clocks jump.

Cameras' RTP clocks jump forward (an NTP resync adds an hour), backwards (a reboot of
the encoder, a clock set back) or wrap. Every consumer downstream assumes stream time
follows wall time: the muxer (a +3600 s step makes a 16 s clip last an hour), motion
hysteresis ("no motion for 3600 s", so motion ends), the re-encoder. So a source
rewrites each packet's timestamps before decoding: where a step between consecutive
packets disagrees with the wall time that passed between their arrivals by more than
`JUMP_TOLERANCE`, the step is replaced by the wall time (at least one frame interval)
and the difference is carried as an offset for all later packets.
"""

from __future__ import annotations

from fractions import Fraction
import logging
from typing import Any

_LOGGER = logging.getLogger(__name__)

JUMP_TOLERANCE = 2.0
"""Seconds a timestamp step may exceed the arrival gap: above any network jitter buffer
(a burst after a hiccup delivers late packets close together, never early ones)."""


MAX_FRAME_INTERVAL = 1.0
"""Seconds: longer steps are pauses, not the frame interval used to bridge a jump."""


class Timeline:
    """Makes one stream's packet timestamps continuous; one instance per demuxer session."""

    def __init__(self, tolerance: float = JUMP_TOLERANCE) -> None:
        self.tolerance = tolerance
        self.offset = 0
        """Ticks added to every timestamp (time-base units of the last packet)."""
        self.jumps = 0
        """Clock jumps corrected so far."""
        self._last: int | None = None
        self._last_wall = 0.0
        self._step: int | None = None  # last frame interval in ticks

    def correct(self, packet: Any, wall: float) -> None:
        """Shift `packet.pts`/`packet.dts` (PyAV packet, in `packet.time_base`) in place.

        `wall` is the arrival time in seconds (`time.monotonic()` scale). Packets without
        timestamps are left alone.
        """
        raw = packet.dts if packet.dts is not None else packet.pts
        if raw is None or packet.time_base is None:
            return
        tb = Fraction(packet.time_base)
        ts = raw + self.offset
        if self._last is not None:
            step = ts - self._last
            gap = wall - self._last_wall
            if step < 0 or float(step * tb) > gap + self.tolerance:
                wanted = max(round(gap / tb), self._step or 1, 1)
                self.offset += self._last + wanted - ts
                self.jumps += 1
                _LOGGER.info(
                    "stream clock jumped by %.3f s; continuing at wall time", float(step * tb)
                )
                ts = self._last + wanted
            elif 0 < step * tb <= MAX_FRAME_INTERVAL:
                self._step = step
        if packet.dts is not None:
            packet.dts = packet.dts + self.offset
        if packet.pts is not None:
            packet.pts = packet.pts + self.offset
        self._last, self._last_wall = ts, wall
