"""The pre-roll ring: compressed packets of the last N seconds, whole GOPs only.

It starts at a keyframe so any clip cut from it decodes from its first packet,
and it is bounded twice: by time (pre-roll + one GOP) and by bytes (a camera with
a huge bitrate shortens its pre-roll instead of exhausting memory).
"""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .audio import AudioPacket
    from .packets import EncodedPacket

    Packet = EncodedPacket | AudioPacket


class PrerollBuffer:
    """The last `seconds` of packets, whole GOPs only, within `max_bytes`.

    Starts at a keyframe; drops the oldest GOP when the next keyframe makes it
    unneeded or the byte budget (packet data plus overhead) is exceeded.
    """

    def __init__(self, seconds: float, max_bytes: int) -> None:
        self.seconds = seconds
        self.max_bytes = max_bytes
        self._packets: deque[Packet] = deque()
        self._gops: deque[int] = deque()  # packet count of each GOP, oldest first
        self._bytes = 0
        self.peak_bytes = 0

    @property
    def bytes(self) -> int:
        """Bytes held now (data plus per-packet overhead)."""
        return self._bytes

    def __len__(self) -> int:
        return len(self._packets)

    def clear(self) -> None:
        """Drop everything (a new stream starts)."""
        self._packets.clear()
        self._gops.clear()
        self._bytes = 0

    def append(self, packet: Packet) -> None:
        """Add a video or audio packet; ignored until the first video keyframe.

        Nothing before the keyframe can be decoded. Audio packets are never keyframes:
        they join the GOP they arrived in and are dropped with it.
        """
        if not self._packets and not packet.keyframe:
            return  # undecodable without its keyframe
        self._packets.append(packet)
        if packet.keyframe:
            self._gops.append(1)
        else:
            self._gops[-1] += 1
        self._bytes += packet.cost
        self.peak_bytes = max(self.peak_bytes, self._bytes)
        self._trim(packet.wallclock)

    def _second_keyframe(self) -> int | None:
        return self._gops[0] if len(self._gops) > 1 else None

    def _drop_first_gop(self, upto: int) -> None:
        self._gops.popleft()
        for _ in range(upto):
            self._bytes -= self._packets.popleft().cost

    def _trim(self, now: float) -> None:
        # Drop the oldest GOP while the next keyframe is still old enough to cover the pre-roll.
        while True:
            nxt = self._second_keyframe()
            if nxt is None:
                break
            if self._packets[nxt].wallclock <= now - self.seconds or self._bytes > self.max_bytes:
                self._drop_first_gop(nxt)
                continue
            break
        if self._bytes > self.max_bytes and self._second_keyframe() is None:
            # One GOP larger than the budget: nothing decodable can be kept.
            self.clear()

    def since(self, start: float) -> list[Packet]:
        """Packets from the last keyframe at or before `start` (or the oldest keyframe)."""
        begin = 0
        for i, pkt in enumerate(self._packets):
            if pkt.keyframe and pkt.wallclock <= start:
                begin = i
            elif pkt.wallclock > start:
                break
        return list(self._packets)[begin:]
