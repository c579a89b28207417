"""Live view: one encode per frame shared by all viewers; slow viewers only lose their own."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest

from porchlight_edge.capture.frame import Frame
import porchlight_edge.live as live_module
from porchlight_edge.live import LiveView, TooManyViewers


def frame(value: int) -> Frame:
    buf = np.full((360 * 3 // 2, 640), value, np.uint8)
    return Frame.from_i420(buf, pts=value / 10, wallclock=1000 + value / 10)


@pytest.fixture
def encodes(monkeypatch: pytest.MonkeyPatch) -> list[Frame]:
    """Count real JPEG encodes."""
    seen: list[Frame] = []
    real = live_module.encode_jpeg

    def counting(f: Frame, quality: int, max_width: int | None) -> bytes:
        seen.append(f)
        return real(f, quality, max_width)

    monkeypatch.setattr(live_module, "encode_jpeg", counting)
    return seen


async def test_snapshot_is_encoded_once_per_frame(encodes: list[Frame]) -> None:
    view = LiveView(width=320)
    assert await view.jpeg() is None
    view.update(frame(10))
    first, again = await asyncio.gather(view.jpeg(), view.jpeg())
    assert first == again
    assert first is not None
    assert first[:2] == b"\xff\xd8"
    assert len(encodes) == 1
    view.update(frame(20))
    assert await view.jpeg() != first
    assert len(encodes) == 2
    await view.close()


async def test_slow_viewer_never_holds_back_a_fast_one(encodes: list[Frame]) -> None:
    view = LiveView(width=320)
    view.update(frame(0))
    fast_stream, slow_stream = view.stream(), view.stream()
    await anext(fast_stream)
    await anext(slow_stream)  # the slow viewer then stops reading
    received = 0
    for value in range(1, 31):
        view.update(frame(value))  # the capture side never waits
        await asyncio.wait_for(anext(fast_stream), 2)
        received += 1
    assert received == 30
    # Shared encodes: one per frame, whatever the number of viewers.
    assert len(encodes) <= 31
    # The slow viewer kept only the newest picture, not a backlog.
    latest = await asyncio.wait_for(anext(slow_stream), 2)
    assert latest == await view.jpeg()
    await view.close()
    # Closing the view ends every stream.
    with pytest.raises(StopAsyncIteration):
        await asyncio.wait_for(anext(fast_stream), 2)


async def test_viewer_limit() -> None:
    view = LiveView(width=320, max_viewers=2)
    view.update(frame(1))
    streams = [view.stream(), view.stream()]
    for stream in streams:
        await anext(stream)
    with pytest.raises(TooManyViewers):
        await anext(view.stream())
    await streams[0].aclose()  # a viewer leaving frees its place
    extra = view.stream()
    assert await anext(extra)
    await view.close()
