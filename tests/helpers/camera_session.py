"""Running a real camera source or runner for a bounded while, for the camera-kind tests."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

from porchlight_edge.capture import (
    CameraConfig,
    CameraRunner,
    CameraSource,
    CaptureError,
    Frame,
    open_source,
)
from porchlight_edge.capture.demand import DecodeDemand
from tests.helpers.waiting import wait_until


def camera_config(source: str, **fields: Any) -> CameraConfig:
    """Camera "door" of kind `source` with short timeouts (5 s open, 3 s read)."""
    return CameraConfig.from_dict(
        {"name": "door", "source": source, "open_timeout": 5, "read_timeout": 3, **fields}
    )


async def first_frames(
    cfg: CameraConfig, count: int, demand: DecodeDemand | None = None
) -> AsyncIterator[Frame]:
    """The source's first `count` frames as they arrive; the source is closed after.

    With `demand`, the source decodes only on demand (as beside a detect sub-stream).
    """
    source = open_source(cfg)
    if demand is not None:
        source.demand = demand
    seen = 0
    try:
        async for frame in source.frames():
            yield frame
            seen += 1
            if seen >= count:
                return
    finally:
        await source.close()


async def drain(source: CameraSource, limit: int = 10_000) -> tuple[list[Frame], str | None]:
    """Up to `limit` frames of `source`, and the CaptureError message if it ended first (None
    otherwise); the source is closed after."""
    frames: list[Frame] = []
    ended: str | None = None
    try:
        async for frame in source.frames():
            frames.append(frame)
            if len(frames) >= limit:
                break
    except CaptureError as err:
        ended = str(err)
    finally:
        await source.close()
    return frames, ended


async def run_until(
    runner: CameraRunner, check: Callable[[], object], timeout: float, what: str
) -> None:
    """Run `runner` until `check()` holds (or fail after `timeout` s), then stop it."""
    task = asyncio.create_task(runner.run())
    try:
        await wait_until(check, timeout, what)
    finally:
        await runner.stop()
        await task
