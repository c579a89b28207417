"""The factory that turns a camera configuration into a source.

Sources import capture/base.py; base.py imports no source. Each source module is
imported only when a camera of its kind is opened, so PyAV or aiohttp load only when used.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from porchlight_edge.capture.base import CameraSource
    from porchlight_edge.capture.config import CameraConfig
    from porchlight_edge.rings import RingPublisher


def open_source(cfg: CameraConfig, rings: RingPublisher | None = None) -> CameraSource:
    """The source for `cfg.source` (one of capture.config.SOURCE_KINDS).

    `rings` receives the presses of sources that have a doorbell (the demo visitor).
    Nothing is opened until the source's `frames()` is iterated. Raises ValueError
    for an unknown kind (CameraConfig validation normally rejects it first).
    """
    match cfg.source:
        case "demo":
            from porchlight_edge.capture.demo import DemoSource

            return DemoSource.from_config(cfg, rings)
        case "rtsp":
            from porchlight_edge.capture.rtsp import RtspSource

            assert cfg.url is not None
            return RtspSource(cfg, cfg.url)
        case "mjpeg":
            from porchlight_edge.capture.mjpeg import MjpegSource

            assert cfg.url is not None
            return MjpegSource(cfg, cfg.url)
        case "v4l2":
            from porchlight_edge.capture.v4l2 import V4l2Source

            return V4l2Source(cfg)
        case "file":
            from porchlight_edge.capture.files import VideoFileSource

            return VideoFileSource(cfg)
        case "images":
            from porchlight_edge.capture.files import ImageFolderSource

            return ImageFolderSource(cfg)
    raise ValueError(f"unknown source kind {cfg.source!r}")


def open_detect_source(cfg: CameraConfig) -> CameraSource | None:
    """The low-resolution detection stream when `cfg.detect_url` is set, else None.

    The service runs it beside the main source (each under its own CameraRunner):
    motion reads the detect source's frames, recording and live view the main one's.
    """
    if cfg.detect_url is None:
        return None
    source = open_source(replace(cfg, url=cfg.detect_url, detect_url=None))
    source.name = f"{cfg.name}:detect"
    return source
