"""Synthetic camera footage for tests and benchmarks: real H.264 played back as `Frame`s.

Made with libx264, for the recorder's tests and benchmarks without a camera: a textured
scene with sensor noise and a moving block, so the bitrate is like a real
camera's, and a player that demuxes + decodes it into Frames carrying their
packets exactly like the capture sources do.
"""

from __future__ import annotations

import json
import time
from typing import TYPE_CHECKING, Any, cast

import av
import cv2
import numpy as np

from porchlight_edge.capture.frame import Frame

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator
    from pathlib import Path


def make_h264(
    path: Path,
    *,
    seconds: float,
    fps: int = 15,
    width: int = 1920,
    height: int = 1080,
    gop: int | None = None,
    bitrate: int | None = None,
    bframes: int = 0,
    preset: str = "ultrafast",
    seed: int = 1,
    metadata: dict[str, str] | None = None,
    x264_params: str | None = None,
    codec: str = "libx264",
) -> Path:
    """Write an MP4 (or, by suffix, e.g. `.ts`, another container) of a noisy textured
    scene with a block moving across it; `metadata`: container tags (the recorder's
    writer keeps its clip facts in `comment`); `x264_params`: extra libx264 options;
    `codec`: libx264, or libx265 for H.265."""
    rng = np.random.default_rng(seed)
    base = cv2.resize(
        rng.integers(30, 220, (max(2, height // 16), max(2, width // 16)), np.uint8),
        (width, height),
        interpolation=cv2.INTER_CUBIC,
    )
    # A few noise planes cycled: realistic sensor grain without generating 1080p noise per frame.
    noise = [rng.integers(0, 14, (height, width), np.uint8) for _ in range(5)]
    chroma = np.full((height // 2, width), 128, np.uint8)
    with av.open(str(path), "w") as out:
        out.metadata.update(metadata or {})
        stream = cast("av.VideoStream", out.add_stream(codec, rate=fps))
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.gop_size = gop or fps * 2
        opts: dict[str, object] = {"preset": preset, "bf": str(bframes), "sc_threshold": "0"}
        if bitrate:
            stream.bit_rate = bitrate
            opts["maxrate"] = str(bitrate)
            opts["bufsize"] = str(bitrate)
        else:
            opts["crf"] = "26"
        if x264_params:
            opts["x264-params"] = x264_params
        if codec == "libx265":
            keyint = stream.gop_size
            params = f"keyint={keyint}:min-keyint={keyint}:bframes={bframes}:log-level=error"
            opts = {"preset": preset, "x265-params": params}
            if not bitrate:
                opts["crf"] = "28"
        stream.options = opts
        block_w, block_h = max(8, width // 10), max(8, height // 4)

        def picture(i: int) -> av.VideoFrame:
            y = cv2.add(base, noise[i % len(noise)])
            x0 = (i * max(2, width // 60)) % max(1, width - block_w)
            y0 = height // 3
            y[y0 : y0 + block_h, x0 : x0 + block_w] = 235
            return av.VideoFrame.from_ndarray(np.concatenate([y, chroma]), format="yuv420p")

        mux_all(out, stream, (picture(i) for i in range(round(seconds * fps))))
    return path


def mux_all(out: Any, stream: Any, frames: Iterable[av.VideoFrame]) -> None:
    """Encode `frames` (pts 0, 1, 2, ... in `stream`'s time base) into the open output
    container `out`, then flush the encoder."""
    for i, frame in enumerate(frames):
        frame.pts = i
        for packet in stream.encode(frame):
            out.mux(packet)
    for packet in stream.encode():
        out.mux(packet)


def play(path: Path, *, wallclock0: float = 1_000_000.0, decode: bool = True) -> Iterator[Frame]:
    """Frames of `path` with their packets, `wallclock = wallclock0 + pts`.

    `decode=False` skips decoding (passthrough only needs packets) and hands out
    one shared grey picture instead.
    """
    with av.open(str(path), "r") as container:
        stream = container.streams.video[0]
        ctx = stream.codec_context
        width, height = int(ctx.width), int(ctx.height)
        grey: Any = np.full((height * 3 // 2, width), 128, np.uint8)
        pending: list[Any] = []
        for packet in container.demux(stream):
            if packet.size:
                pending.append(packet)
            if not decode:
                if packet.size and packet.pts is not None:
                    pts = float(packet.pts * packet.time_base)
                    yield _frame(grey, pts, wallclock0, pending)
                    pending = []
                continue
            for vframe in packet.decode():
                pts = float(vframe.time or 0.0)
                yield _frame(vframe.to_ndarray(), pts, wallclock0, pending)
                pending = []


def _frame(buf: Any, pts: float, wallclock0: float, packets: list[Any]) -> Frame:
    carried = tuple(packets)
    return Frame.from_i420(
        buf,
        pts,
        wallclock0 + pts,
        packet=carried[-1] if carried else None,
        packets=carried,
        keyframe=bool(carried and carried[0].is_keyframe),
    )


FOREIGN_CLIP_ID = "0b7a3c2e-1d4f-4a5b-8c6d-7e8f9a0b1c2d"
"""A clip id the add-on did not record: for a clip someone left in the media folder."""


def write_foreign_clip(path: Path, camera: str) -> Path:
    """A short real H.264 MP4 carrying writer-style metadata that names `camera`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    facts = {"clip_id": path.stem, "camera": camera, "start": time.time(), "mode": "encode"}
    return make_h264(
        path, seconds=1, fps=10, width=64, height=64, metadata={"comment": json.dumps(facts)}
    )
