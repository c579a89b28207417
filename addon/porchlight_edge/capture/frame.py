"""A decoded picture as it leaves a camera source.

Sources decode once and hand out a `Frame`. Consumers ask only for what they
need: the motion engine takes a decimated luma plane, the live view a small BGR
picture. Decimation happens before any colour or float work, so a 1080p frame is
never converted to full-size BGR just to detect motion.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast

import cv2
import numpy as np

if TYPE_CHECKING:
    from numpy.typing import NDArray


def as_u8(arr: object) -> NDArray[np.uint8]:
    """OpenCV's stubs type results as generic arrays; ours are uint8 by construction."""
    return cast("NDArray[np.uint8]", arr)


def luma_size(width: int, height: int, target_height: int) -> tuple[int, int]:
    """(width, height) of the luma plane scaled to `target_height` rows, aspect kept.

    Never upscales: a picture with fewer rows than `target_height` keeps its size.
    """
    out_h = max(1, min(height, target_height))
    return max(1, round(width * out_h / height)), out_h


_GATHER_SHARE = 3
"""BGR pictures keeping fewer than 1/this of their rows are scaled before the colour
conversion; others are converted whole first."""


@dataclass(slots=True, eq=False)
class Frame:
    """One picture in one of two layouts, with lazily cached conversions.

    `i420` is the planar YUV 4:2:0 buffer of shape (H * 3 // 2, W) as PyAV and
    most cameras deliver it; `bgr` is an (H, W, 3) array as OpenCV sources give.
    At most one of them is set by the source: neither when the source passed the
    packets on without decoding them (`has_picture` False, see `capture.demand`).
    """

    pts: float
    """Stream time in seconds (monotonic within one source session)."""
    wallclock: float
    """`time.time()` when the frame was captured."""
    width: int
    height: int
    i420: NDArray[np.uint8] | None = None
    bgr: NDArray[np.uint8] | None = None
    packet: Any = None
    """The compressed packet this frame came from, when the source has one (passthrough)."""
    keyframe: bool = False
    """True when `packets` starts with a keyframe (a recording may begin here)."""
    packets: tuple[Any, ...] = ()
    """All packets demuxed since the previous frame, in decode order (`packet` is the last).

    Usually exactly one; more while a decoder holds frames back (B-frames, threading).
    """
    audio: tuple[Any, ...] = ()
    """Audio packets (PyAV) demuxed since the previous frame, when the source takes audio."""
    full_range: bool = False
    """`i420` uses full-range levels (0-255, `yuvj420p`, `color_range=pc`) instead of
    video range (16-235). Conversions and the re-encoder keep the source's levels."""
    _cache: dict[tuple[str, int], NDArray[np.uint8]] = field(default_factory=dict, repr=False)

    @property
    def has_picture(self) -> bool:
        """False for a frame that carries only compressed packets (decoding was off)."""
        return self.i420 is not None or self.bgr is not None

    @classmethod
    def from_i420(cls, buf: NDArray[np.uint8], pts: float, wallclock: float, **kw: Any) -> Frame:
        """A frame over an I420 buffer (1.5 x height rows, width columns).

        `pts` in seconds of stream time, `wallclock` in Unix seconds.
        """
        height = buf.shape[0] * 2 // 3
        return cls(pts, wallclock, buf.shape[1], height, i420=buf, **kw)

    @classmethod
    def from_bgr(cls, img: NDArray[np.uint8], pts: float, wallclock: float, **kw: Any) -> Frame:
        """A frame over a BGR picture (height x width x 3); `pts` s, `wallclock` Unix s."""
        return cls(pts, wallclock, img.shape[1], img.shape[0], bgr=img, **kw)

    def luma(self, target_height: int) -> NDArray[np.uint8]:
        """Y plane scaled to `target_height` rows (any factor, aspect kept; never upscaled).

        Returns a contiguous uint8 (rows, cols) array, see `luma_size`. Nearest
        neighbour on the Y plane (about 0.05 ms for 1080p to 100 rows, where
        INTER_AREA costs milliseconds). A BGR picture is converted to luma before or
        after the scaling, whichever reads less of it.
        """
        out_w, out_h = luma_size(self.width, self.height, target_height)
        key = ("luma", out_h)
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        if self.i420 is not None:
            out = _nearest(self.i420[: self.height], out_w, out_h)
        elif out_h * _GATHER_SHARE < self.height:
            # Few rows kept (1080p to 100): gather them, then convert only those.
            assert self.bgr is not None
            out = as_u8(cv2.cvtColor(_nearest(self.bgr, out_w, out_h), cv2.COLOR_BGR2GRAY))
        else:
            # Most rows kept: a gather would read most of the picture anyway, and
            # converting all of it in order beats scattered reads of a cold picture.
            # The whole plane is kept too: the full-size luma of this frame is then free.
            full = self._cache.get(("luma", self.height))
            if full is None:
                assert self.bgr is not None
                full = as_u8(cv2.cvtColor(self.bgr, cv2.COLOR_BGR2GRAY))
                self._cache[("luma", self.height)] = full
            out = _nearest(full, out_w, out_h)
        self._cache[key] = out
        return out

    def to_bgr(self, max_width: int | None = None) -> NDArray[np.uint8]:
        """BGR picture no wider than `max_width` (full size when None)."""
        width = self.width if max_width is None else min(max_width, self.width)
        key = ("bgr", width)
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        src = self.bgr
        if width == self.width:
            if src is not None:
                out = src
            else:
                assert self.i420 is not None
                out = _i420_to_bgr(self.i420, self.full_range)
        else:
            height = max(4, round(self.height * width / self.width) // 4 * 4)
            if src is None:
                # Shrink the planes first, then convert: colour work on the small picture only.
                assert self.i420 is not None
                out = _i420_resize_to_bgr(
                    self.i420, self.width, self.height, width, height, self.full_range
                )
            else:
                out = as_u8(cv2.resize(src, (width, height), interpolation=cv2.INTER_AREA))
        self._cache[key] = out
        return out


def encode_jpeg(frame: Frame, quality: int = 85, max_width: int | None = None) -> bytes:
    """`frame` as a baseline JPEG (OpenCV): the one encoder of snapshots and the live view.

    No wider than `max_width` pixels (full size when None), at `quality` 1-100.
    ValueError when OpenCV cannot encode it.
    """
    ok, data = cv2.imencode(
        ".jpg", frame.to_bgr(max_width), [cv2.IMWRITE_JPEG_QUALITY, int(quality)]
    )
    if not ok:
        raise ValueError("JPEG encoding failed")
    return bytes(data)


def _nearest(img: NDArray[np.uint8], width: int, height: int) -> NDArray[np.uint8]:
    """`img` at (width, height) by nearest neighbour; contiguous, a copy only if needed."""
    if img.shape[1] == width and img.shape[0] == height:
        return np.ascontiguousarray(img)
    return as_u8(cv2.resize(img, (width, height), interpolation=cv2.INTER_NEAREST))


def _i420_to_bgr(buf: NDArray[np.uint8], full_range: bool) -> NDArray[np.uint8]:
    """BGR of an (H*3/2, W) I420 buffer, BT.601 in video or full range.

    OpenCV's I420 conversion assumes video range (it stretches 16-235 to 0-255), so a
    full-range picture goes through YCrCb, which OpenCV defines with full-range (JPEG)
    levels: grey 16 stays 16 instead of being crushed to 0.
    """
    if not full_range:
        return as_u8(cv2.cvtColor(buf, cv2.COLOR_YUV2BGR_I420))
    h, w = buf.shape[0] * 2 // 3, buf.shape[1]
    uv = buf[h:].reshape(2, h // 2, w // 2)
    u = cv2.resize(uv[0], (w, h), interpolation=cv2.INTER_LINEAR)
    v = cv2.resize(uv[1], (w, h), interpolation=cv2.INTER_LINEAR)
    return as_u8(cv2.cvtColor(cv2.merge([buf[:h], v, u]), cv2.COLOR_YCrCb2BGR))


def _i420_resize_to_bgr(
    buf: NDArray[np.uint8], w: int, h: int, out_w: int, out_h: int, full_range: bool = False
) -> NDArray[np.uint8]:
    y = buf[:h]
    uv = buf[h:].reshape(2, h // 2, w // 2)
    # Even width and height divisible by 4 so the chroma planes pack back into I420 rows.
    out_w -= out_w % 2
    # INTER_AREA is fast only for whole-number ratios (1080p → 960 wide); elsewhere it
    # costs several times INTER_LINEAR, which looks the same at live-view sizes.
    whole = w % out_w == 0 and h % out_h == 0
    interp = cv2.INTER_AREA if whole else cv2.INTER_LINEAR
    ys = cv2.resize(y, (out_w, out_h), interpolation=interp)
    us = cv2.resize(uv[0], (out_w // 2, out_h // 2), interpolation=interp)
    vs = cv2.resize(uv[1], (out_w // 2, out_h // 2), interpolation=interp)
    small = np.concatenate([ys, us.reshape(-1, out_w), vs.reshape(-1, out_w)])
    return _i420_to_bgr(small, full_range)
