"""Live view: JPEG snapshots and MJPEG fan-out, each frame encoded at most once.

One encode per frame is shared by every viewer. A viewer has a one-slot mailbox:
when it is slow it only misses frames, it never holds up capture or others.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import TYPE_CHECKING

from porchlight_edge.capture.frame import encode_jpeg

if TYPE_CHECKING:
    from collections.abc import AsyncGenerator

    from porchlight_edge.capture.demand import DecodeDemand
    from porchlight_edge.capture.frame import Frame

_LOGGER = logging.getLogger(__name__)
STALE_SECONDS = 1.0
"""A picture older than this is not current: with decoding on demand, ask for a new one."""
FRESH_WAIT = 5.0
"""Seconds a snapshot waits for the decoder to give a current picture (from the last
keyframe, so about one frame) before it answers with the latest one it has."""
STILL_SIZES = 4
"""Sizes of one picture's snapshot JPEG kept (full size and the sizes viewers asked for)."""


def fit_width(width: int, height: int, max_width: int | None, max_height: int | None) -> int:
    """The width of a `width`x`height` picture scaled down to fit the box, aspect kept.

    Either bound may be None (no bound); never wider than the picture itself (no upscaling).
    """
    fitted = width
    if max_width is not None:
        fitted = min(fitted, max_width)
    if max_height is not None:
        fitted = min(fitted, max(1, max_height * width // height))
    return max(1, fitted)


class TooManyViewers(Exception):
    """The per-camera viewer limit is reached."""


class Viewer:
    """One viewer's place: a one-slot mailbox holding the newest JPEG (None: stream over).

    Leaving the `with` block, by any exception or cancellation, frees the place.
    """

    def __init__(self, view: LiveView) -> None:
        self._view = view
        self.mailbox: asyncio.Queue[bytes | None] = asyncio.Queue(maxsize=1)
        self._open = True

    async def next(self) -> bytes | None:
        """The next JPEG, or None when the view closed or went dark (privacy mode).

        Safe to cancel (a timeout loses nothing).
        """
        if self._view.closed:
            return None
        return await self.mailbox.get()

    def close(self) -> None:
        """Give up this viewer's place."""
        self._view._viewers.discard(self.mailbox)
        if self._open and self._view.demand is not None:
            self._view.demand.release()
        self._open = False

    def __enter__(self) -> Viewer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class LiveView:
    """One camera's live view: JPEG snapshots and MJPEG viewers sharing one encode per frame.

    `width` in pixels, `quality` 1-100; TooManyViewers past `max_viewers`.
    """

    def __init__(
        self,
        width: int = 960,
        quality: int = 80,
        max_viewers: int = 8,
        demand: DecodeDemand | None = None,
    ) -> None:
        self.demand = demand
        """Decoding on demand: every viewer holds it, a snapshot requests a picture."""
        self._dark = False
        self._forgotten = False
        """New masks dropped the picture and no new one has come yet."""
        self._updated = asyncio.Event()
        self.width = width
        self.quality = quality
        self.max_viewers = max_viewers
        self.frame: Frame | None = None
        self._jpeg: tuple[Frame, bytes] | None = None
        self._stills: tuple[Frame | None, dict[int, bytes]] = (None, {})
        self._encoding: asyncio.Task[bytes] | None = None
        self._encoding_frame: Frame | None = None
        self._viewers: set[asyncio.Queue[bytes | None]] = set()
        self._closed = False
        self._pump: asyncio.Task[None] | None = None

    @property
    def closed(self) -> bool:
        """True once `close()` was called."""
        return self._closed

    @property
    def viewers(self) -> int:
        """Viewers connected now."""
        return len(self._viewers)

    def update(self, frame: Frame) -> None:
        """Take the newest frame; start an encode for viewers unless one is running."""
        self.frame = frame
        self._dark = False
        self._forgotten = False
        self._updated.set()
        if self._viewers and (self._pump is None or self._pump.done()):
            self._pump = asyncio.create_task(self._feed_viewers())

    async def fresh_frame(self) -> Frame | None:
        """The current picture, or None.

        While the camera decodes on demand and the latest picture is older than
        STALE_SECONDS, decoding is asked for and the next picture awaited (up to
        FRESH_WAIT s; then the latest one, or None). So is the next picture when new
        privacy masks have just dropped the last one (`forget`).
        """
        frame = self.frame
        if self._closed or self._dark:
            return frame
        if self.demand is None:
            if frame is None and self._forgotten:
                # New masks dropped the picture: the next (masked) one is a frame away.
                self._updated.clear()
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(FRESH_WAIT):
                        await self._updated.wait()
            return self.frame
        if frame is not None and time.time() - frame.wallclock <= STALE_SECONDS:
            return frame
        self._updated.clear()
        self.demand.request_picture()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(FRESH_WAIT):
                await self._updated.wait()
        return self.frame

    async def jpeg(self) -> bytes | None:
        """JPEG of the current picture (see `fresh_frame`), encoded once per frame."""
        frame = await self.fresh_frame()
        return None if frame is None else await self._jpeg_of(frame)

    async def still(
        self, max_width: int | None = None, max_height: int | None = None
    ) -> bytes | None:
        """JPEG of the current picture (see `fresh_frame`), full size or fitted to a box.

        Scaled down to fit `max_width` x `max_height` pixels (aspect kept, never up) when
        given; None without a picture. Unlike the live view (`width` wide), a snapshot is
        the camera's own size unless a size is asked for. Encoded once per picture and
        size (the last STILL_SIZES kept).
        """
        frame = await self.fresh_frame()
        if frame is None:
            return None
        width = fit_width(frame.width, frame.height, max_width, max_height)
        cached_frame, sizes = self._stills
        if cached_frame is not frame:
            sizes = {}
            self._stills = (frame, sizes)
        data = sizes.get(width)
        if data is None:
            data = await asyncio.to_thread(encode_jpeg, frame, self.quality, width)
            while len(sizes) >= STILL_SIZES:
                del sizes[next(iter(sizes))]
            sizes[width] = data
        return data

    async def _jpeg_of(self, frame: Frame) -> bytes:
        if self._jpeg is not None and self._jpeg[0] is frame:
            return self._jpeg[1]
        if self._encoding is not None and self._encoding_frame is frame:
            return await asyncio.shield(self._encoding)
        self._encoding_frame = frame
        self._encoding = asyncio.create_task(
            asyncio.to_thread(encode_jpeg, frame, self.quality, self.width)
        )
        data = await asyncio.shield(self._encoding)
        self._jpeg = (frame, data)
        return data

    async def _feed_viewers(self) -> None:
        # Loop until no newer frame arrived during the last encode, so viewers never lag.
        sent: Frame | None = None
        while self._viewers and self.frame is not None and self.frame is not sent:
            sent = self.frame
            try:
                data = await self._jpeg_of(sent)
            except RuntimeError:
                _LOGGER.exception("Live view encode failed")
                return
            for mailbox in self._viewers:
                if mailbox.full():
                    mailbox.get_nowait()
                mailbox.put_nowait(data)

    def open_viewer(self) -> Viewer:
        """Take one viewer place; use it as a context manager so every ending frees it.

        Raises TooManyViewers when `max_viewers` places are taken.
        """
        if len(self._viewers) >= self.max_viewers:
            raise TooManyViewers(f"at most {self.max_viewers} live viewers per camera")
        viewer = Viewer(self)
        self._viewers.add(viewer.mailbox)
        if self.demand is not None:
            self.demand.hold()
        return viewer

    async def stream(self) -> AsyncGenerator[bytes]:
        """Yield JPEGs for one viewer until the caller stops iterating."""
        with self.open_viewer() as viewer:
            current = await self.jpeg()
            if current is not None:
                yield current
            while (data := await viewer.next()) is not None:
                yield data

    def forget(self) -> None:
        """New privacy masks: the last picture (masked the old way) is never served again.

        Viewers stay connected and get the next picture.
        """
        self.frame = None
        self._jpeg = None
        self._stills = (None, {})
        self._forgotten = True

    def blank(self) -> None:
        """Privacy mode: forget the picture and end every viewer (they must not wait on)."""
        self.frame = None
        self._jpeg = None
        self._stills = (None, {})
        self._dark = True
        self._end_viewers()

    def _end_viewers(self) -> None:
        for mailbox in self._viewers:
            if mailbox.full():
                mailbox.get_nowait()
            mailbox.put_nowait(None)

    async def close(self) -> None:
        """End every viewer's stream and refuse new ones."""
        self._closed = True
        self._end_viewers()
        for task in (self._pump, self._encoding):
            if task is not None and not task.done():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, RuntimeError):
                    await task
