"""One way in for doorbell presses: the demo visitor and the GPIO button publish here.

Sources call `RingPublisher.publish_ring` from any thread (the button watcher has its
own thread, the demo source runs on the loop). `RingQueue` is the service's publisher:
a bounded asyncio queue, filled only through `loop.call_soon_threadsafe`, drained on
the loop by `run()`, which hands each press to the service's ring handler. Nothing
else crosses the thread boundary.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
import logging
from typing import TYPE_CHECKING, Final, Protocol

if TYPE_CHECKING:
    from collections.abc import Callable

    from porchlight_edge.protocol import RingSource

_LOGGER = logging.getLogger(__name__)

RING_QUEUE_SIZE: Final = 64
"""Presses waiting for the loop; beyond this a press is dropped with a warning (a stuck loop)."""


class RingPublisher(Protocol):
    """Something a press can be published to (thread-safe, never blocks)."""

    def publish_ring(self, camera: str, source: RingSource) -> None:
        """Publish one press at `camera` (a configured camera name) from `source`."""
        ...


@dataclass(frozen=True, slots=True)
class RingPress:
    """One press waiting in the queue."""

    camera: str
    source: RingSource


class RingQueue:
    """The service's `RingPublisher`: presses from any thread, delivered on the loop in order.

    `deliver(camera, source)` runs on the loop for each press; its exceptions are
    logged and the queue carries on. Call `attach` on the loop before the first press.
    """

    def __init__(
        self, deliver: Callable[[str, RingSource], object], maxsize: int = RING_QUEUE_SIZE
    ) -> None:
        self._deliver = deliver
        self._queue: asyncio.Queue[RingPress] = asyncio.Queue(maxsize)
        self._loop: asyncio.AbstractEventLoop | None = None

    def attach(self, loop: asyncio.AbstractEventLoop) -> None:
        """Bind to the loop that runs `run()`; presses before this raise RuntimeError."""
        self._loop = loop

    def publish_ring(self, camera: str, source: RingSource) -> None:
        """Queue a press (any thread). RuntimeError before `attach`."""
        if self._loop is None:
            raise RuntimeError("RingQueue.publish_ring before attach()")
        self._loop.call_soon_threadsafe(self._put, RingPress(camera, source))

    def _put(self, press: RingPress) -> None:
        try:
            self._queue.put_nowait(press)
        except asyncio.QueueFull:
            _LOGGER.warning("Ring at %s dropped: %d presses waiting", press.camera, RING_QUEUE_SIZE)

    async def run(self) -> None:
        """Deliver presses until cancelled."""
        while True:
            press = await self._queue.get()
            try:
                self._deliver(press.camera, press.source)
            except Exception:
                _LOGGER.exception("Ring at %s could not be delivered", press.camera)
