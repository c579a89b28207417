"""CameraRunner: stall detection, status sequence, backoff delays, stale last frame, stop."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

import numpy as np
import pytest

from porchlight_edge.capture import Backoff, CameraConfig, CameraRunner, CaptureError, Frame
from porchlight_edge.capture.demo import DemoSource
from porchlight_edge.protocol import CameraStatus, RingSource
from tests.helpers.rings import RecordedRings
from tests.helpers.waiting import wait_until

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from porchlight_edge.capture.base import StreamInfo

ONLINE, STALLED, OFFLINE = CameraStatus.ONLINE, CameraStatus.STALLED, CameraStatus.OFFLINE


class ScriptedSource:
    """A source that fails at once (`fail`), or yields `frames` frames and then hangs."""

    stream_info: StreamInfo | None = None

    def __init__(self, fail: str | None = None, frames: int = 0) -> None:
        self.name = "fake"
        self.fail, self.count = fail, frames
        self.closed = False

    async def frames(self) -> AsyncIterator[Frame]:
        if self.fail:
            raise CaptureError(f"fake: {self.fail}")
        for i in range(self.count):
            buf = np.full((6, 4), i, np.uint8)
            yield Frame.from_i420(buf, i / 10, 0.0)
        await asyncio.Event().wait()  # camera stops sending, connection stays open

    async def close(self) -> None:
        self.closed = True


class Harness:
    def __init__(self, script: list[ScriptedSource], stop_after_sleeps: int) -> None:
        self.script = list(script)
        self.sources: list[ScriptedSource] = []
        self.statuses: list[tuple[CameraStatus, str]] = []
        self.frames: list[Frame] = []
        self.sleeps: list[float] = []
        self.stop_after = stop_after_sleeps
        self.runner = CameraRunner(
            self.factory,
            self.frames.append,
            self.on_status,
            stall_seconds=0.1,
            connect_timeout=0.2,
            sleep=self.sleep,
        )

    def factory(self) -> ScriptedSource:
        source = self.script.pop(0) if self.script else ScriptedSource(fail="connection refused")
        self.sources.append(source)
        return source

    def on_status(self, status: CameraStatus, reason: str) -> None:
        self.statuses.append((status, reason))

    async def sleep(self, delay: float) -> None:
        self.sleeps.append(delay)
        if len(self.sleeps) >= self.stop_after:
            await self.runner.stop()
        await asyncio.sleep(0)


def test_backoff_is_capped_exponential() -> None:
    backoff = Backoff(1.0, 30.0)
    assert [backoff.next() for _ in range(8)] == [1, 2, 4, 8, 16, 30, 30, 30]
    backoff.reset()
    assert backoff.next() == 1


async def test_failing_camera_goes_offline_once_and_backs_off() -> None:
    h = Harness([], stop_after_sleeps=7)
    await asyncio.wait_for(h.runner.run(), 5)
    assert h.sleeps == [1, 2, 4, 8, 16, 30, 30]
    assert h.runner.delays == h.sleeps
    assert h.statuses == [(OFFLINE, "fake: connection refused")]  # published on change only
    assert all(s.closed for s in h.sources)
    assert h.runner.last_frame is None
    assert h.runner.stale


async def test_stall_then_reconnect_sequence_and_backoff_reset() -> None:
    script = [
        ScriptedSource(fail="no route to host"),
        ScriptedSource(fail="no route to host"),
        ScriptedSource(frames=3),  # online, then silent → stalled after 0.1 s
        ScriptedSource(fail="connection refused"),
        ScriptedSource(frames=0),  # connects but never sends: offline after connect_timeout
        ScriptedSource(frames=2),
    ]
    h = Harness(script, stop_after_sleeps=6)
    await asyncio.wait_for(h.runner.run(), 5)
    assert [s for s, _ in h.statuses] == [OFFLINE, ONLINE, STALLED, OFFLINE, ONLINE, STALLED]
    assert h.statuses[2] == (STALLED, "no frame for 0.1 s")
    assert h.statuses[3] == (OFFLINE, "fake: connection refused")
    # Backoff restarts at 1 s after each good frame.
    assert h.sleeps == [1, 2, 1, 2, 4, 1]
    assert [e.retry_in for e in h.runner.events if e.status != ONLINE] == [1, 1, 2, 1]
    assert len(h.frames) == 5
    assert h.runner.frames_received == 5


async def test_last_frame_kept_and_marked_stale() -> None:
    h = Harness([ScriptedSource(frames=2)], stop_after_sleeps=100)
    task = asyncio.create_task(h.runner.run())
    await wait_until(lambda: h.runner.frames_received >= 2)
    assert h.runner.status == ONLINE
    fresh = not h.runner.stale  # (a local: mypy would narrow the property for good)
    assert fresh
    last = h.runner.last_frame
    assert last is not None
    assert last.pts == pytest.approx(0.1)
    await wait_until(lambda: h.runner.status != ONLINE)
    assert h.runner.stale
    assert h.runner.last_frame is last  # still there for the snapshot, marked stale
    await h.runner.stop()
    await asyncio.wait_for(task, 2)


async def failing_handler(frames: int, fail_from: int | None = None) -> list[float]:
    """Run a camera of `frames` frames whose handler raises on every frame (or only on
    frame `fail_from`'s position, 1-based); the pts the handler saw."""
    seen: list[float] = []

    def on_frame(frame: Frame) -> None:
        seen.append(frame.pts)
        if fail_from is None or len(seen) == fail_from:
            raise RuntimeError("consumer bug")

    runner = CameraRunner(lambda: ScriptedSource(frames=frames), on_frame, stall_seconds=0.1)
    task = asyncio.create_task(runner.run())
    await wait_until(lambda: len(seen) >= frames)
    await runner.stop()
    await asyncio.wait_for(task, 2)
    return seen


async def test_frame_handler_errors_do_not_stop_the_camera() -> None:
    seen = await failing_handler(3, fail_from=1)
    assert seen == pytest.approx([0.0, 0.1, 0.2])


async def test_stop_during_backoff_sleep_is_prompt() -> None:
    runner = CameraRunner(lambda: ScriptedSource(fail="down"), lambda f: None, stall_seconds=0.1)
    task = asyncio.create_task(runner.run())
    await wait_until(lambda: runner.status == OFFLINE)
    await asyncio.wait_for(runner.stop(), 1)  # it is inside a real 1 s asyncio.sleep
    await asyncio.wait_for(task, 1)
    assert task.done()
    assert not task.cancelled()


async def test_for_config_wires_the_demo_ring() -> None:
    rings = RecordedRings()
    cfg = CameraConfig.from_dict(
        {
            "name": "porch",
            "source": "demo",
            "fps": 20,
            "realtime": False,
            "demo": {"width": 160, "height": 96, "loop_seconds": 1.0},
        }
    )
    frames: list[Frame] = []
    runner = CameraRunner.for_config(cfg, frames.append, rings=rings)
    task = asyncio.create_task(runner.run())
    await wait_until(lambda: len(frames) >= 25)
    await runner.stop()
    await asyncio.wait_for(task, 2)
    assert isinstance(runner.source, DemoSource)
    assert runner.name == "porch"
    assert runner.stall_seconds == 5.0
    source = runner.source
    last = frames[-1].pts
    # One press per 1 s loop, as the ground truth holds. The press fires as its frame is
    # rendered, so a stop can land between a ring and the delivery of its frame.
    delivered = source.scene.rings_between(-0.05, last)
    rendered = source.scene.rings_between(-0.05, last + 1 / source.scene.fps)
    assert delivered >= 1
    assert len(rings.presses) in {delivered, rendered}
    assert set(rings.presses) == {("porch", RingSource.DEMO)}
    assert runner.events[0].status == ONLINE


async def test_a_handler_failing_on_every_frame_is_reported_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """One traceback, not one per frame: a camera at 15 fps would write 54 000 an hour."""
    assert len(await failing_handler(40)) == 40
    failures = [r for r in caplog.records if "frame handler failed" in r.getMessage()]
    assert len(failures) == 1, [r.getMessage() for r in failures]
    assert failures[0].exc_info is not None, "the first report keeps its traceback"
