"""The camera source protocol and the threaded reader every blocking source shares.

The factory that picks a source for a configuration is capture/factory.py: this
module imports no source, so sources can import it without a cycle.

Blocking decoders (PyAV, OpenCV) run in one worker thread per camera; frames reach
the event loop through a small queue so the loop never blocks on a camera.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
import logging
import threading
from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Callable, Iterator
    from fractions import Fraction

    from porchlight_edge.capture.demand import DecodeDemand
    from porchlight_edge.capture.frame import Frame

_LOGGER = logging.getLogger(__name__)


class CaptureError(Exception):
    """A source failed to open, broke, or ended. Messages never contain credentials."""


@dataclass(frozen=True, slots=True)
class StreamInfo:
    """What a passthrough recorder needs to mux the source's packets without re-encoding."""

    codec: str
    width: int
    height: int
    fps: float | None
    time_base: Fraction | None
    extradata: bytes | None


@runtime_checkable
class CameraSource(Protocol):
    """A camera: opens on `frames()` and yields decoded `Frame`s.

    Raises CaptureError when it fails or ends.
    """

    name: str
    stream_info: StreamInfo | None

    def frames(self) -> AsyncIterator[Frame]:
        """Open the camera and yield decoded frames; raise CaptureError on failure or end."""
        ...

    async def close(self) -> None:
        """Stop the source and release its device, connection or thread; safe to call twice."""
        ...


class _End:
    """Queue marker: the worker finished (error is None) or failed."""

    __slots__ = ("error",)

    def __init__(self, error: BaseException | None) -> None:
        self.error = error


class ThreadedReader:
    """Runs a blocking frame generator in its own thread and hands frames to the loop.

    `drop=True` (live cameras): a queue of `maxsize` where a new frame evicts the
    oldest, so a slow consumer sees fresh pictures. `drop=False` (file evaluation):
    the worker waits for room, so every frame is delivered.
    """

    def __init__(
        self,
        produce: Callable[[threading.Event], Iterator[Frame]],
        *,
        name: str,
        drop: bool,
        maxsize: int = 2,
    ) -> None:
        self._produce = produce
        self._name = name
        self._drop = drop
        self._queue: asyncio.Queue[Frame | _End] = asyncio.Queue(maxsize=maxsize)
        self._stop = threading.Event()
        self._loop = asyncio.get_running_loop()
        self._thread = threading.Thread(target=self._run, name=f"capture-{name}", daemon=True)
        self._done = False
        self.dropped = 0
        """Frames evicted unseen because the consumer was slower than the camera."""

    def start(self) -> None:
        """Start the worker thread (once)."""
        self._thread.start()

    def _put_drop_oldest(self, item: Frame | _End) -> None:
        if self._queue.full():
            evicted = self._queue.get_nowait()
            self.dropped += not isinstance(evicted, _End)
        self._queue.put_nowait(item)

    def _deliver(self, item: Frame | _End) -> bool:
        """Hand `item` to the loop; False when the reader was stopped or the loop is gone."""
        try:
            if self._drop:
                self._loop.call_soon_threadsafe(self._put_drop_oldest, item)
                return True
            fut = asyncio.run_coroutine_threadsafe(self._queue.put(item), self._loop)
        except RuntimeError:  # event loop closed under us
            return False
        while True:
            try:
                fut.result(timeout=0.2)
                return True
            except TimeoutError:
                if self._stop.is_set():
                    fut.cancel()
                    return False
            except Exception:  # the put was cancelled along with the loop
                return False

    def _run(self) -> None:
        error: BaseException | None = None
        try:
            for frame in self._produce(self._stop):
                if self._stop.is_set() or not self._deliver(frame):
                    return
        except BaseException as err:
            error = err
        if not self._stop.is_set():
            self._deliver(_End(error))

    async def get(self) -> Frame:
        """Next frame; CaptureError when the worker ended or failed."""
        if self._done:
            raise CaptureError(f"{self._name}: source is closed")
        item = await self._queue.get()
        if isinstance(item, _End):
            self._done = True
            if isinstance(item.error, CaptureError):
                raise item.error
            if item.error is not None:
                raise CaptureError(f"{self._name}: {item.error}") from item.error
            raise CaptureError(f"{self._name}: stream ended")
        return item

    async def stop(self, join_seconds: float = 1.0) -> None:
        """Ask the worker to finish and wait for it, briefly.

        A worker stuck in a blocking read (a frozen camera) is abandoned: it sees the stop
        flag, delivers nothing more and closes its container when the read times out.
        """
        self._stop.set()
        self._done = True
        while not self._queue.empty():  # unblock a worker waiting for room
            self._queue.get_nowait()
        if self._thread.is_alive():
            await asyncio.to_thread(self._thread.join, join_seconds)
            if self._thread.is_alive():
                _LOGGER.debug("%s: worker still in a blocking read; left to time out", self._name)


class ThreadedSource:
    """Base for sources whose decoding is a blocking generator run by a ThreadedReader."""

    name: str
    stream_info: StreamInfo | None = None
    demand: DecodeDemand | None = None
    """Set (before `frames()`) to decode only on demand; sources that cannot skip ignore it."""
    _drop: bool = True

    def __init__(self, name: str) -> None:
        self.name = name
        self._reader: ThreadedReader | None = None
        self._dropped_before = 0

    @property
    def frames_dropped(self) -> int:
        """Frames the drop-oldest queue discarded over this source's life."""
        return self._dropped_before + (self._reader.dropped if self._reader else 0)

    async def _stop_reader(self) -> None:
        reader, self._reader = self._reader, None
        if reader is not None:
            await reader.stop()
            self._dropped_before += reader.dropped

    def _produce(self, stop: threading.Event) -> Iterator[Frame]:
        raise NotImplementedError

    async def frames(self) -> AsyncIterator[Frame]:
        """Start the reader thread and yield its frames; CaptureError when the source ends."""
        await self._stop_reader()
        reader = ThreadedReader(self._produce, name=self.name, drop=self._drop)
        self._reader = reader
        reader.start()
        try:
            while True:
                yield await reader.get()
        finally:
            if self._reader is reader:
                await self._stop_reader()
            else:
                await reader.stop()

    async def close(self) -> None:
        """Stop the reader thread (waits up to a second for it)."""
        await self._stop_reader()
