"""Recorded footage as a camera: a video file (PyAV, any container) or an image folder.

Used for evaluation (`realtime=False`: every frame, as fast as the consumer takes
them) and for demos on real footage (`realtime=True`: paced like a live camera).
"""

from __future__ import annotations

import logging
from pathlib import Path
import re
import time
from typing import TYPE_CHECKING

import av
import cv2

from porchlight_edge.capture.base import CaptureError, ThreadedSource
from porchlight_edge.capture.frame import Frame, as_u8
from porchlight_edge.capture.pacing import Pacer
from porchlight_edge.capture.pyav import decode_video, open_container, stream_info

if TYPE_CHECKING:
    from collections.abc import Iterator
    import threading

    from porchlight_edge.capture.config import CameraConfig

_LOGGER = logging.getLogger(__name__)
IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".bmp"})
_NUMBER_RE = re.compile(r"(\d+)(?!.*\d)")


class VideoFileSource(ThreadedSource):
    """Decodes a video file to I420 frames with the stream's own timestamps."""

    def __init__(self, cfg: CameraConfig) -> None:
        super().__init__(cfg.name)
        assert cfg.path is not None
        self._path = Path(cfg.path).expanduser().resolve()
        self._realtime = cfg.realtime
        self._loop = cfg.loop
        self._audio = cfg.audio
        self._fallback_fps = cfg.fps or 10.0
        # Evaluation must see every frame; a paced "live" file behaves like a camera.
        self._drop = cfg.realtime

    def _produce(self, stop: threading.Event) -> Iterator[Frame]:
        pacer = Pacer(self._realtime, stop)
        offset = 0.0
        while not stop.is_set():
            if not self._path.is_file():
                raise CaptureError(f"{self.name}: file {self._path} does not exist")
            try:
                container = open_container(str(self._path), protocols="file")
            except av.FFmpegError as err:
                raise CaptureError(f"{self.name}: cannot open {self._path}: {err}") from None
            count, last, step = 0, offset, 1.0 / self._fallback_fps
            try:
                if container.streams.video:
                    info = stream_info(container.streams.video[0])
                    self.stream_info = info
                    step = 1.0 / (info.fps or self._fallback_fps)
                for frame in decode_video(
                    container, stop, pts_offset=offset, audio=self._audio, demand=self.demand
                ):
                    pacer.wait(frame.pts)
                    frame.wallclock = time.time()
                    yield frame
                    count, last = count + 1, frame.pts
            except av.FFmpegError as err:
                raise CaptureError(f"{self.name}: decoding {self._path} failed: {err}") from None
            finally:
                container.close()
            if not self._loop or count == 0:
                return
            # Keep pts increasing across loops, as a live camera's would.
            offset = last + step


def numbered_images(folder: Path) -> list[Path]:
    """Image files in `folder` in numeric order (`in2.jpg` before `in10.jpg`)."""

    def key(path: Path) -> tuple[int, str]:
        match = _NUMBER_RE.search(path.stem)
        return (int(match.group(1)) if match else -1, path.name)

    images = [p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file()]
    return sorted(images, key=key)


class ImageFolderSource(ThreadedSource):
    """A folder of numbered images (e.g. `in000001.jpg`) played as a camera at `fps`."""

    def __init__(self, cfg: CameraConfig) -> None:
        super().__init__(cfg.name)
        assert cfg.path is not None
        self._folder = Path(cfg.path).expanduser().resolve()
        self._fps = cfg.effective_fps or 10.0
        self._realtime = cfg.realtime
        self._loop = cfg.loop
        self._drop = cfg.realtime

    def _produce(self, stop: threading.Event) -> Iterator[Frame]:
        if not self._folder.is_dir():
            raise CaptureError(f"{self.name}: folder {self._folder} does not exist")
        images = numbered_images(self._folder)
        if not images:
            raise CaptureError(f"{self.name}: no images ({', '.join(IMAGE_SUFFIXES)}) in folder")
        pacer = Pacer(self._realtime, stop)
        index = 0
        while not stop.is_set():
            for path in images:
                if stop.is_set():
                    return
                img = cv2.imread(str(path), cv2.IMREAD_COLOR)
                if img is None:
                    raise CaptureError(f"{self.name}: cannot decode image {path.name}")
                pts = index / self._fps
                pacer.wait(pts)
                index += 1
                yield Frame.from_bgr(as_u8(img), pts, time.time())
            if not self._loop:
                return
