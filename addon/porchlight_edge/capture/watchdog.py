"""Keeps one camera running: stall detection, reconnect with backoff, status events.

Status model (`protocol.CameraStatus`):
- `online`: frames are arriving.
- `stalled`: the camera was delivering and stopped (no frame for `stall_seconds`, or
  the stream broke); the last good frame is kept, marked stale, while we reconnect.
- `offline`: a connection attempt failed (cannot open, or no first frame in time).
Reconnects wait a capped exponential backoff (1, 2, 4 ... 30 s), reset by a good frame.

A camera with a long keyframe interval (GOP), joined mid-GOP, delivers packets the
decoder cannot show until the next keyframe. While a source reports packets arriving
(`packets_received` growing), the first frame is awaited up to `MAX_KEYFRAME_WAIT`
instead of `connect_timeout`, with a status reason naming the keyframe interval:
a retry would only join another GOP in its middle and start over.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
import contextlib
from dataclasses import dataclass
import inspect
import logging
import time
from typing import TYPE_CHECKING, Any

from porchlight_edge.capture.base import CameraSource, CaptureError
from porchlight_edge.capture.factory import open_source
from porchlight_edge.capture.urls import redact_url
from porchlight_edge.lograte import RateLimitedLog
from porchlight_edge.protocol import CameraStatus

if TYPE_CHECKING:
    from porchlight_edge.capture.config import CameraConfig
    from porchlight_edge.capture.demand import DecodeDemand
    from porchlight_edge.capture.frame import Frame
    from porchlight_edge.rings import RingPublisher

_LOGGER = logging.getLogger(__name__)

HANDLER_ERROR_INTERVAL = 60.0
"""Seconds between reports of a frame handler that keeps failing (one traceback, then a count)."""

MAX_KEYFRAME_WAIT = 120.0
"""Seconds to wait for a first keyframe while packets arrive: cameras allow GOPs up to
about 60 s (some 'smart codec' modes); beyond twice that the stream is broken."""


@dataclass(frozen=True, slots=True)
class StatusEvent:
    """A camera's status change, as kept in `CameraRunner.events`."""

    camera: str
    status: CameraStatus
    reason: str
    """Human-readable and credential-free."""
    retry_in: float | None = None
    """Seconds until the next connection attempt, when one is scheduled."""


class Backoff:
    """Capped exponential delays: base, base*factor, ... up to cap; `reset()` starts over."""

    def __init__(self, base: float = 1.0, cap: float = 30.0, factor: float = 2.0) -> None:
        self.base, self.cap, self.factor = base, cap, factor
        self._next = base

    def next(self) -> float:
        """The next delay in seconds (doubling up to `cap`)."""
        delay = self._next
        self._next = min(self.cap, self._next * self.factor)
        return delay

    def reset(self) -> None:
        """Start over at `base` (after a success)."""
        self._next = self.base


StatusCallback = Callable[[CameraStatus, str], Awaitable[None] | None]
"""`on_status(status, reason)`: called on every status change; reason is credential-free."""


class _Stalled(Exception):
    pass


async def _next(frames: AsyncIterator[Frame]) -> Frame:
    return await anext(frames)


def _keyframe_reason(waited: float) -> str:
    return (
        f"connected, waiting for the first keyframe: none in {waited:.0f} s"
        " (the camera's keyframe interval is longer than that; 1-2 s is usual)"
    )


def _packets(source: CameraSource | None) -> int:
    """Packets the source has demuxed so far (0 when it does not say)."""
    count = getattr(source, "packets_received", 0)
    return count if isinstance(count, int) else 0


async def _maybe_await(result: object) -> None:
    if inspect.isawaitable(result):
        await result


class CameraRunner:
    """Runs `source_factory()` sources one after another, forever, until `stop()`."""

    def __init__(
        self,
        source_factory: Callable[[], CameraSource],
        on_frame: Callable[[Frame], Awaitable[None] | None],
        on_status: StatusCallback | None = None,
        *,
        name: str | None = None,
        stall_seconds: float = 5.0,
        connect_timeout: float | None = None,
        backoff_base: float = 1.0,
        backoff_cap: float = 30.0,
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.name = name or "camera"
        self._named = name is not None
        self._factory = source_factory
        self._on_frame = on_frame
        self._on_status = on_status
        self.stall_seconds = stall_seconds
        # Opening (RTSP handshake, first keyframe) may take longer than one frame gap.
        self.connect_timeout = connect_timeout or max(2 * stall_seconds, 15.0)
        self.backoff = Backoff(backoff_base, backoff_cap)
        self._sleep = sleep
        self._clock = clock
        self.status: CameraStatus | None = None
        self.reason = "not started"
        self.last_frame: Frame | None = None
        self.last_frame_at: float | None = None
        self.frames_received = 0
        self._handler_errors = RateLimitedLog(_LOGGER, HANDLER_ERROR_INTERVAL)
        self.events: list[StatusEvent] = []
        """Every status change published, in order."""
        self.delays: list[float] = []
        """Every backoff delay waited, in order (for diagnostics and tests)."""
        self.source: CameraSource | None = None
        """The most recent source (still open while a session runs)."""
        self._open_source: CameraSource | None = None
        self._dropped_before = 0
        self._task: asyncio.Task[None] | None = None
        self._stopping = False

    @classmethod
    def for_config(
        cls,
        cfg: CameraConfig,
        on_frame: Callable[[Frame], Awaitable[None] | None],
        on_status: StatusCallback | None = None,
        *,
        rings: RingPublisher | None = None,
        demand: DecodeDemand | None = None,
        **kwargs: Any,
    ) -> CameraRunner:
        """A runner for `cfg`'s main source.

        A source with a doorbell publishes to `rings`; one that can skip decoding
        follows `demand` (decode on demand).
        """

        def factory() -> CameraSource:
            source = open_source(cfg, rings)
            if demand is not None and hasattr(source, "demand"):
                source.demand = demand
            return source

        kwargs.setdefault("stall_seconds", cfg.stall_seconds)
        kwargs.setdefault("connect_timeout", cfg.open_timeout + cfg.stall_seconds)
        return cls(factory, on_frame, on_status, name=cfg.name, **kwargs)

    @property
    def frames_dropped(self) -> int:
        """Frames sources discarded because we consumed slower than the camera delivered."""
        live = getattr(self._open_source, "frames_dropped", 0)
        return self._dropped_before + (live if isinstance(live, int) else 0)

    @property
    def stopping(self) -> bool:
        """True once `stop()` was called."""
        return self._stopping

    @property
    def stale(self) -> bool:
        """True when `last_frame` is not a current picture."""
        if self.status != CameraStatus.ONLINE or self.last_frame_at is None:
            return True
        return self._clock() - self.last_frame_at > self.stall_seconds

    async def run(self) -> None:
        """Run until `stop()` (or until cancelled). A runner may be run again after stop()."""
        self._stopping = False
        # A new run starts from no status, so its first `online` is published again.
        self.status = None
        self._task = asyncio.create_task(self._loop(), name=f"camera-{self.name}")
        try:
            await self._task
        except asyncio.CancelledError:
            if not self._stopping:
                raise
        finally:
            if not self._task.done():
                self._task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await self._task

    async def stop(self) -> None:
        """Stop the runner and close its source; waits for the task to end."""
        self._stopping = True
        task = self._task
        if task is not None and not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _loop(self) -> None:
        while not self._stopping:
            delay = await self._session()
            if self.stopping:  # a property: mypy must not assume the loop condition still holds
                return
            await self._sleep(delay)

    async def _session(self) -> float:
        """One source from open to failure; returns the backoff delay before the next one.

        The failure is published *before* the source is cleaned up: closing a source whose
        worker is stuck in a blocking read may take a while, the status must not wait.
        """
        got_frame = False
        source: CameraSource | None = None
        frames: AsyncIterator[Frame] | None = None
        pending: asyncio.Task[Frame] | None = None
        reason: str | None = None
        delay = 0.0
        try:
            source = self.source = self._open_source = self._factory()
            if not self._named:
                self.name = source.name
            frames = source.frames()
            timeout = self.connect_timeout
            opened, packets = self._clock(), 0
            while True:
                pending = asyncio.create_task(_next(frames))
                while True:
                    # wait() rather than timeout(): on a stall we report first, cancel later.
                    done, _ = await asyncio.wait({pending}, timeout=timeout)
                    if done:
                        break
                    seen = _packets(source)
                    waited = self._clock() - opened
                    if got_frame or seen <= packets or waited >= MAX_KEYFRAME_WAIT:
                        raise _Stalled(f"no frame for {timeout:g} s")
                    packets, timeout = seen, self.stall_seconds
                    await self._publish(CameraStatus.OFFLINE, _keyframe_reason(waited), notify=True)
                frame, pending = pending.result(), None
                got_frame, timeout = True, self.stall_seconds
                await self._accept(frame)
        except (CaptureError, _Stalled) as err:
            reason = str(err)
        except StopAsyncIteration:
            reason = "stream ended"
        except (OSError, ValueError, RuntimeError) as err:  # e.g. a bad config in the factory
            _LOGGER.exception("%s: source failed", self.name)
            reason = f"{type(err).__name__}: {err}"
        finally:
            if reason is not None and not self.stopping:
                delay = self.backoff.next()
                self.delays.append(delay)
                # Lost after delivering → stalled; a failed (re)connect → offline.
                status = CameraStatus.STALLED if got_frame else CameraStatus.OFFLINE
                await self._publish(status, redact_url(reason), retry_in=delay)
            await self._cleanup(source, frames, pending)
        return delay

    async def _cleanup(
        self,
        source: CameraSource | None,
        frames: AsyncIterator[Frame] | None,
        pending: asyncio.Task[Frame] | None,
    ) -> None:
        if pending is not None and not pending.done():
            pending.cancel()
        if pending is not None:
            # wait() never raises the task's own error or cancellation, only ours.
            await asyncio.wait({pending})
        aclose = getattr(frames, "aclose", None)
        if aclose is not None:
            with contextlib.suppress(Exception):
                await aclose()
        if source is not None:
            with contextlib.suppress(Exception):
                await source.close()
            dropped = getattr(source, "frames_dropped", 0)
            self._dropped_before += dropped if isinstance(dropped, int) else 0
        self._open_source = None

    async def _accept(self, frame: Frame) -> None:
        self.backoff.reset()
        self.last_frame, self.last_frame_at = frame, self._clock()
        self.frames_received += 1
        if self.status != CameraStatus.ONLINE:
            await self._publish(CameraStatus.ONLINE, "receiving frames")
        try:
            await _maybe_await(self._on_frame(frame))
        except Exception:
            # A consumer bug must not take the camera down with it, nor fill the log
            # with a traceback per frame when it fails on every frame.
            if (held := self._handler_errors.allow("frame")) is not None:
                more = f" ({held} more since the last report)" if held else ""
                _LOGGER.exception("%s: frame handler failed%s", self.name, more)

    async def _publish(
        self,
        status: CameraStatus,
        reason: str,
        retry_in: float | None = None,
        *,
        notify: bool = False,
    ) -> None:
        """Record the status.

        Events and `on_status` only on a change (or with `notify`, a change of reason alone).
        """
        changed = status != self.status or (notify and reason != self.reason)
        self.status, self.reason = status, reason
        if not changed:
            _LOGGER.debug("%s: still %s: %s", self.name, status, reason)
            return
        level = logging.INFO if status == CameraStatus.ONLINE else logging.WARNING
        _LOGGER.log(level, "%s: %s (%s)", self.name, status, reason)
        self.events.append(StatusEvent(self.name, status, reason, retry_in))
        if self._on_status is not None:
            try:
                await _maybe_await(self._on_status(status, reason))
            except Exception:
                _LOGGER.exception("%s: status handler failed", self.name)
