"""A camera with a low-resolution detect stream: motion reads it, the live view the main one."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from porchlight_edge.config import parse_options
from porchlight_edge.service import Service
from tests.helpers.mjpeg_camera import mjpeg_camera, solid_jpeg
from tests.helpers.waiting import wait_until


async def test_motion_runs_on_the_detect_stream(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    streams = {"/main": solid_jpeg(640, 360), "/sub": solid_jpeg(160, 96)}
    async with mjpeg_camera(streams) as port:
        raw = {
            "host": "127.0.0.1",
            "port": 0,
            "token": "detect-stream-test-token",
            "zeroconf": False,
            "cameras": [
                {
                    "name": "gate",
                    "source": "mjpeg",
                    "url": f"http://127.0.0.1:{port}/main",
                    "detect_url": f"http://127.0.0.1:{port}/sub",
                    "motion": {"detect_height": 96},
                }
            ],
        }
        service = Service(parse_options(raw, tmp_path))
        camera = service.cameras["gate"]
        shapes: list[tuple[int, ...]] = []
        real = camera.engine.process

        def spy(luma: np.ndarray, pts: float):  # type: ignore[no-untyped-def]
            shapes.append(luma.shape)
            return real(luma, pts)

        monkeypatch.setattr(camera.engine, "process", spy)
        await service.start()
        try:
            await wait_until(
                lambda: len(shapes) >= 5 and camera.last_frame is not None, 10, "five frames"
            )
        finally:
            await service.stop()
    # Motion saw only detect-stream frames; the live view kept the main stream's size.
    assert set(shapes) == {(96, 160)}
    frame = camera.last_frame
    assert frame is not None
    assert (frame.width, frame.height) == (640, 360)
