"""Event bus: numbered events, a bounded replay buffer and fan-out to subscribers.

Every event gets the service's boot id and the next sequence number. Subscribers
register and read back missed events in one synchronous step, so no event can
fall between the replay and the live feed: each reaches a client exactly once.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
import time
from typing import Any
import uuid

from porchlight_edge.protocol import EVENT_BUFFER_SIZE, EventMessage, EventType, MessageType

type Listener = Callable[[EventMessage], None]


@dataclass(frozen=True, slots=True)
class Replay:
    """What a subscriber missed: events to send first, and whether some were lost."""

    events: list[EventMessage]
    gap: bool


class EventBus:
    """Numbers events (`seq`, per boot) and fans them out to subscribers on the loop.

    Keeps the last `buffer_size` events so a reconnecting client can replay what it missed.
    """

    def __init__(self, buffer_size: int = EVENT_BUFFER_SIZE, boot_id: str | None = None) -> None:
        self.boot_id = boot_id or uuid.uuid4().hex
        self.seq = 0
        self._buffer: deque[EventMessage] = deque(maxlen=buffer_size)
        self._listeners: list[Listener] = []

    def publish(
        self,
        event: EventType,
        camera: str | None,
        data: dict[str, Any],
        at: float | None = None,
    ) -> EventMessage:
        """Number the event, remember it and hand it to every listener synchronously."""
        self.seq += 1
        message: EventMessage = {
            "type": MessageType.EVENT,
            "event": event,
            "boot_id": self.boot_id,
            "seq": self.seq,
            "time": time.time() if at is None else at,
            "camera": camera,
            "data": data,
        }
        self._buffer.append(message)
        for listener in tuple(self._listeners):
            listener(message)
        return message

    def subscribe(self, listener: Listener, since: tuple[str, int] | None = None) -> Replay:
        """Register `listener` and return what it missed after `since` (boot id, seq).

        A different boot id means the client saw an earlier run: nothing of that
        run survives, so nothing is replayed and there is no gap to report.
        """
        self._listeners.append(listener)
        if since is None or since[0] != self.boot_id:
            return Replay([], gap=False)
        last_seen = since[1]
        missed = [e for e in self._buffer if e["seq"] > last_seen]
        oldest = self._buffer[0]["seq"] if self._buffer else self.seq + 1
        gap = last_seen < self.seq and oldest > last_seen + 1
        return Replay(missed, gap)

    def unsubscribe(self, listener: Listener) -> None:
        """Stop calling `listener` (nothing when it is not subscribed)."""
        if listener in self._listeners:
            self._listeners.remove(listener)

    def history(self) -> list[EventMessage]:
        """The buffered events, oldest first."""
        return list(self._buffer)
