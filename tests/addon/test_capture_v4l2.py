"""V4L2: device validation and a clear error when the device is missing (no camera here)."""

from __future__ import annotations

from pathlib import Path

import pytest

from porchlight_edge.capture import CameraConfig, CaptureError, open_source
from porchlight_edge.capture.v4l2 import V4l2Source


@pytest.mark.parametrize(
    "device", ["/dev/video", "/dev/sda", "video0", "/dev/video0 ", "/dev/../dev/video0", "0", 0]
)
def test_only_dev_video_n(device: object) -> None:
    with pytest.raises(ValueError, match="device must look like /dev/videoN"):
        CameraConfig.from_dict({"name": "usb", "source": "v4l2", "device": device})


async def test_missing_device_is_a_clear_capture_error() -> None:
    device = next(f"/dev/video{n}" for n in range(900, 1000) if not Path(f"/dev/video{n}").exists())
    cfg = CameraConfig.from_dict({"name": "usb", "source": "v4l2", "device": device})
    source = open_source(cfg)
    assert isinstance(source, V4l2Source)
    with pytest.raises(CaptureError, match=rf"^usb: V4L2 device {device} does not exist$"):
        async for _ in source.frames():
            pass
    await source.close()
