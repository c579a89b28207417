"""Continuous low-cost H.264 encoding for frames that have no usable packets.

Used when a privacy mask must be burned in (the camera's own packets show what
the mask hides) or the source is not H.264 (USB, MJPEG, demo). Its output feeds
the same pre-roll buffer and clip writer as passthrough packets, so pre-roll holds
compressed data in both modes. Encoding runs in its own thread; when it falls
behind, frames are dropped rather than queued (memory stays bounded).
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from fractions import Fraction
import logging
import queue
import threading
from typing import TYPE_CHECKING, Any

import av

from .packets import EncodedPacket, StreamParams

if TYPE_CHECKING:
    from collections.abc import Callable

    from porchlight_edge.capture.frame import Frame

_LOGGER = logging.getLogger(__name__)
TIME_BASE = Fraction(1, 90000)
_RANGE_MPEG, _RANGE_JPEG = 1, 2  # AVColorRange: video (limited) and full range


@dataclass(frozen=True, slots=True)
class EncodeSettings:
    """x264 settings of the re-encoder (masked frames, sources without H.264 packets)."""

    preset: str = "ultrafast"
    """x264 preset: `ultrafast` costs ~20 % of one core for 1080p 15 fps."""
    crf: int = 26
    max_height: int | None = None
    """Scale down to at most this many rows (None: keep the camera's size)."""
    keyframe_interval: float = 2.0
    """Seconds between keyframes: the granularity of pre-roll starts."""
    threads: int = 2
    queue_size: int = 3
    """Frames waiting for the encoder; more are dropped (live cameras must not pile up)."""


def _even(value: int) -> int:
    return max(2, value - value % 2)


class FrameEncoder:
    """Encodes frames to H.264 in its own thread; `deliver` gets each batch of packets.

    `deliver` runs in the encoder thread and must hand the packets on itself. A full
    queue drops frames (`dropped`) instead of blocking capture.
    """

    def __init__(
        self,
        settings: EncodeSettings,
        deliver: Callable[[list[EncodedPacket]], None],
        name: str = "encoder",
    ) -> None:
        self.settings = settings
        self._deliver = deliver
        self._queue: queue.Queue[Frame | None] = queue.Queue(maxsize=settings.queue_size)
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._started = False
        self.dropped = 0
        self.encoded = 0
        self.error: str | None = None
        self.discard = False
        """Set on the loop: packets it still delivers are thrown away there."""

    def submit(self, frame: Frame) -> bool:
        """Queue `frame` for encoding; False (frame dropped) when the encoder is behind."""
        if not self._started:
            self._started = True
            self._thread.start()
        try:
            self._queue.put_nowait(frame)
        except queue.Full:
            self.dropped += 1
            return False
        return True

    def close(self, timeout: float = 5.0) -> None:
        """Flush and stop the thread, waiting up to `timeout` seconds."""
        if not self._started:
            return
        while True:
            try:
                self._queue.put(None, timeout=0.1)
                break
            except queue.Full:
                with contextlib.suppress(queue.Empty):
                    self._queue.get_nowait()
        self._thread.join(timeout)

    # --- worker thread ---------------------------------------------------------------------
    def _open(self, width: int, height: int, full_range: bool) -> tuple[Any, StreamParams]:
        s = self.settings
        if s.max_height and height > s.max_height:
            width, height = _even(round(width * s.max_height / height)), _even(s.max_height)
        ctx = av.CodecContext.create("libx264", "w")
        ctx.width, ctx.height = _even(width), _even(height)
        ctx.pix_fmt = "yuv420p"
        # Full-range sources stay full range: x264 writes the VUI flag, players keep levels.
        ctx.color_range = _RANGE_JPEG if full_range else _RANGE_MPEG
        ctx.time_base = TIME_BASE
        ctx.thread_count = s.threads
        # Keyframes are forced by time (below); x264's own GOP limit is only a fallback.
        ctx.gop_size = 600
        ctx.options = {
            "preset": s.preset,
            "crf": str(s.crf),
            "tune": "zerolatency",  # no B-frames, no lookahead: one frame in, one packet out
            "forced-idr": "1",
        }
        ctx.open()
        # No global header: SPS/PPS go in-band with every keyframe (Annex-B), like RTSP.
        params = StreamParams("h264", ctx.width, ctx.height, TIME_BASE, None)
        return ctx, params

    def _run(self) -> None:
        ctx: Any = None
        params: StreamParams | None = None
        size: tuple[int, int, bool] | None = None
        origin: float | None = None
        last_pts = -1
        last_key: float | None = None
        while True:
            frame = self._queue.get()
            if frame is None:
                break
            try:
                shape = (frame.width, frame.height, _keeps_full_range(frame))
                if size != shape:
                    ctx, params = self._open(*shape)
                    size, origin, last_pts, last_key = shape, None, -1, None
                assert params is not None
                if origin is None:
                    origin = frame.pts
                pts = max(last_pts + 1, round((frame.pts - origin) / TIME_BASE))
                last_pts = pts
                vframe = self._to_video_frame(frame, ctx.width, ctx.height)
                vframe.pts, vframe.time_base = pts, TIME_BASE
                if last_key is None or frame.pts - last_key >= self.settings.keyframe_interval:
                    vframe.pict_type = av.video.frame.PictureType.I
                    last_key = frame.pts
                out = [
                    EncodedPacket(
                        bytes(p),
                        int(p.pts),
                        int(p.dts if p.dts is not None else p.pts),
                        bool(p.is_keyframe),
                        frame.wallclock,
                        params,
                    )
                    for p in ctx.encode(vframe)
                ]
                self.encoded += 1
                if out:
                    self._deliver(out)
            except Exception as err:  # keep the camera running; report once
                if self.error is None:
                    _LOGGER.exception("encoder failed")
                self.error = str(err)
                size = None  # reopen on the next frame

    @staticmethod
    def _to_video_frame(frame: Frame, width: int, height: int) -> Any:
        rng = _RANGE_JPEG if _keeps_full_range(frame) else _RANGE_MPEG
        if frame.i420 is not None and frame.width % 2 == 0 and frame.height % 2 == 0:
            vframe = av.VideoFrame.from_ndarray(frame.i420, format="yuv420p")
        else:
            vframe = av.VideoFrame.from_ndarray(frame.to_bgr(), format="bgr24")
        vframe.color_range = rng
        if vframe.width != width or vframe.height != height or vframe.format.name != "yuv420p":
            vframe = vframe.reformat(
                width=width, height=height, format="yuv420p", dst_color_range=rng
            )
        return vframe


def _keeps_full_range(frame: Frame) -> bool:
    """True when the frame's own full-range planes go to the encoder (BGR ones do not)."""
    even = frame.width % 2 == 0 and frame.height % 2 == 0
    return frame.full_range and frame.i420 is not None and even
