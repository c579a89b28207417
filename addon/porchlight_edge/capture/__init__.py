"""Camera capture: sources (demo, RTSP, MJPEG, V4L2, file, image folder) and their watchdog.

Typical use by the service::

    cfg = CameraConfig.from_dict(options)          # ValueError with a clear message
    runner = CameraRunner.for_config(cfg, on_frame, on_status, on_ring=ring)
    task = asyncio.create_task(runner.run())       # reconnects forever
    ...
    await runner.stop()

Source modules (PyAV, aiohttp) are imported lazily by `open_source`.
"""

from porchlight_edge.capture.base import (
    CameraSource,
    CaptureError,
    StreamInfo,
)
from porchlight_edge.capture.config import SOURCE_KINDS, CameraConfig
from porchlight_edge.capture.factory import open_detect_source, open_source
from porchlight_edge.capture.frame import Frame
from porchlight_edge.capture.urls import redact_url
from porchlight_edge.capture.watchdog import Backoff, CameraRunner, StatusEvent

__all__ = [
    "SOURCE_KINDS",
    "Backoff",
    "CameraConfig",
    "CameraRunner",
    "CameraSource",
    "CaptureError",
    "Frame",
    "StatusEvent",
    "StreamInfo",
    "open_detect_source",
    "open_source",
    "redact_url",
]
