"""USB / CSI cameras through Video4Linux2 (OpenCV's V4L2 backend), `/dev/videoN` only."""

from __future__ import annotations

import os
import time
from typing import TYPE_CHECKING

import cv2

from porchlight_edge.capture.base import CaptureError, ThreadedSource
from porchlight_edge.capture.frame import Frame, as_u8
from porchlight_edge.capture.urls import validate_device

if TYPE_CHECKING:
    from collections.abc import Iterator
    import threading

    from porchlight_edge.capture.config import CameraConfig


class V4l2Source(ThreadedSource):
    """Reads BGR frames from a V4L2 device in a worker thread."""

    def __init__(self, cfg: CameraConfig) -> None:
        super().__init__(cfg.name)
        self.device = validate_device(cfg.device)
        self._fps = cfg.fps

    def _produce(self, stop: threading.Event) -> Iterator[Frame]:
        if not os.path.exists(self.device):
            raise CaptureError(f"{self.name}: V4L2 device {self.device} does not exist")
        if not os.access(self.device, os.R_OK | os.W_OK):
            raise CaptureError(f"{self.name}: no permission to open {self.device}")
        cap = cv2.VideoCapture(self.device, cv2.CAP_V4L2)
        try:
            if not cap.isOpened():
                raise CaptureError(f"{self.name}: cannot open V4L2 device {self.device}")
            if self._fps:
                cap.set(cv2.CAP_PROP_FPS, self._fps)
            t0 = time.monotonic()
            while not stop.is_set():
                ok, img = cap.read()
                if not ok or img is None:
                    raise CaptureError(f"{self.name}: {self.device} stopped delivering frames")
                yield Frame.from_bgr(as_u8(img), time.monotonic() - t0, time.time())
        finally:
            cap.release()
