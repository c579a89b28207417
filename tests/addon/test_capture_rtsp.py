"""RTSP against a real GStreamer RTSP server (H.264 clip made with PyAV): frames, auth,
and the watchdog through a producer outage (kill → stalled → offline → restart → online)."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import TYPE_CHECKING

import numpy as np
import pytest

from porchlight_edge.capture import CameraConfig, CameraRunner, CaptureError, Frame, open_source
from porchlight_edge.protocol import CameraStatus
from tests.helpers.waiting import wait_until

if TYPE_CHECKING:
    from tests.helpers.rtsp_server import RtspServerProcess

ONLINE, STALLED, OFFLINE = CameraStatus.ONLINE, CameraStatus.STALLED, CameraStatus.OFFLINE


def rtsp_cfg(url: str, **kw: object) -> CameraConfig:
    return CameraConfig.from_dict(
        {"name": "door", "source": "rtsp", "url": url, "open_timeout": 5, "read_timeout": 3, **kw}
    )


def _watched_runner(
    cfg: CameraConfig, *, backoff_base: float, backoff_cap: float
) -> tuple[CameraRunner, list[Frame], list[tuple[CameraStatus, str]]]:
    """A runner of `cfg` (backoff in seconds) with the frames and the (status, reason)
    changes it reports, in order."""
    frames: list[Frame] = []
    statuses: list[tuple[CameraStatus, str]] = []
    runner = CameraRunner.for_config(
        cfg,
        frames.append,
        lambda status, reason: statuses.append((status, reason)),
        backoff_base=backoff_base,
        backoff_cap=backoff_cap,
    )
    return runner, frames, statuses


async def test_frames_from_a_real_rtsp_server(capture_rtsp_server: RtspServerProcess) -> None:
    source = open_source(rtsp_cfg(capture_rtsp_server.url()))
    frames: list[Frame] = []
    start = time.monotonic()
    async for frame in source.frames():
        frames.append(frame)
        if len(frames) >= 20:
            break
    elapsed = time.monotonic() - start
    await source.close()
    assert elapsed < 6
    info = source.stream_info
    assert info is not None
    assert (info.codec, info.width, info.height) == ("h264", 320, 240)
    assert info.fps == pytest.approx(15, abs=0.5)
    first = frames[0]
    assert first.i420 is not None
    assert first.i420.shape == (360, 320)
    assert first.bgr is None
    assert all(f.packet is not None for f in frames)
    pts = np.array([f.pts for f in frames])
    assert np.all(np.diff(pts) > 0)
    assert float(np.median(np.diff(pts))) == pytest.approx(1 / 15, abs=0.01)
    # Live pacing: 19 frame intervals at 15 fps arrive in about 1.27 s.
    wall = frames[-1].wallclock - frames[0].wallclock
    assert 0.9 < wall < 2.0
    # The clip's grey ramp: +4 grey levels (≈3.4 luma) per frame, as encoded.
    levels = np.array([float(f.luma(240)[:40].mean()) for f in frames])
    steps = np.diff(levels)
    assert float(np.median(steps)) == pytest.approx(4 * 219 / 255, abs=0.8)


async def test_wrong_password_is_a_redacted_capture_error(
    capture_rtsp_server: RtspServerProcess, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    port = capture_rtsp_server.port
    url = f"rtsp://user:NotTheSecret@127.0.0.1:{port}/cam"
    source = open_source(rtsp_cfg(url))
    with pytest.raises(CaptureError) as err:
        async for _ in source.frames():
            pass
    await source.close()
    message = str(err.value)
    assert message.startswith(f"door: cannot open rtsp://***@127.0.0.1:{port}/cam")
    assert "NotTheSecret" not in message
    assert "NotTheSecret" not in caplog.text


async def test_producer_outage_stalled_offline_backoff_and_recovery(
    capture_rtsp_server: RtspServerProcess, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    cfg = rtsp_cfg(capture_rtsp_server.url(), stall_seconds=1.0)
    runner, frames, statuses = _watched_runner(cfg, backoff_base=0.25, backoff_cap=1.0)
    task = asyncio.create_task(runner.run())
    try:
        await wait_until(lambda: runner.status == ONLINE and len(frames) >= 5, 8)

        capture_rtsp_server.stop()  # SIGKILL: the camera vanishes mid-stream
        killed_at = time.monotonic()
        await wait_until(lambda: runner.status == STALLED, 5)
        assert time.monotonic() - killed_at < 1.5 + 0.5  # detected within stall_seconds
        stale_while_down = runner.stale
        stale_frame = runner.last_frame
        await wait_until(lambda: runner.status == OFFLINE, 5)
        await wait_until(lambda: len(runner.delays) >= 4, 5)  # keep failing for a while

        received = len(frames)
        capture_rtsp_server.start()  # same port
        await wait_until(lambda: runner.status == ONLINE and len(frames) > received + 3, 10)
    finally:
        await runner.stop()
        await asyncio.wait_for(task, 5)

    kinds = [s for s, _ in statuses]
    assert kinds == [ONLINE, STALLED, OFFLINE, ONLINE]
    stalled_reason, offline_reason = statuses[1][1], statuses[2][1]
    assert stalled_reason  # e.g. "ended the stream" or "no frame for 1 s"
    assert offline_reason.startswith("door: cannot open rtsp://***@127.0.0.1:")
    # Capped exponential backoff from 0.25 s up to 1 s while the producer was down.
    delays = runner.delays
    assert delays[:4] == [0.25, 0.5, 1.0, 1.0]
    assert max(delays) == 1.0
    assert stale_frame is not None
    assert runner.last_frame is not stale_frame
    assert stale_while_down
    assert not runner.stale
    for _, reason in statuses:
        assert "secret" not in reason
    assert ":secret@" not in caplog.text


async def test_frozen_producer_is_detected_by_the_stall_timer(
    capture_rtsp_server: RtspServerProcess,
) -> None:
    """SIGSTOP keeps the TCP connection open but silent: only the watchdog's timer sees it."""
    cfg = rtsp_cfg(capture_rtsp_server.url(), stall_seconds=1.0, open_timeout=1.5, read_timeout=5)
    runner, frames, statuses = _watched_runner(cfg, backoff_base=0.2, backoff_cap=0.4)
    task = asyncio.create_task(runner.run())
    try:
        await wait_until(lambda: runner.status == ONLINE and len(frames) >= 3, 8)
        capture_rtsp_server.pause()
        paused_at = time.monotonic()
        await wait_until(lambda: runner.status == STALLED, 4)
        detected_after = time.monotonic() - paused_at
        capture_rtsp_server.resume()
        received = len(frames)
        await wait_until(lambda: runner.status == ONLINE and len(frames) > received + 3, 12)
    finally:
        await runner.stop()
        await asyncio.wait_for(task, 5)
    assert 0.9 < detected_after < 2.0
    assert statuses[:2] == [(ONLINE, "receiving frames"), (STALLED, "no frame for 1 s")]
    assert statuses[-1][0] == ONLINE
