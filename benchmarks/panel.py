"""The panel's timeline thumbnails and set-up test: what they cost, on real video.

- thumbnails: a clip's thumbnail made from its MP4 (first picture decoded, scaled to
  THUMBNAIL_WIDTH, JPEG) and the same served from the cache, side by side; and its size
  beside the full-size snapshot JPEG of the same picture (what a phone would load
  without thumbnails).
- set-up test: `probe` of a local RTSP camera (the tests' pure-Python RTP server over
  loopback) until its first picture, at 1280x720.

Usage: scripts/bench panel [--runs 15]
Ends with `RESULT thumb_ms=… thumb_cached_ms=… thumb_kb=… snapshot_kb=… size_ratio=…
probe_ms=…`.
"""

from __future__ import annotations

import argparse
import asyncio
from fractions import Fraction
from pathlib import Path
import statistics
import sys
import tempfile
import time

import av
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "addon")]

from porchlight_edge.api.thumbnails import Thumbnails, clip_picture  # noqa: E402
from porchlight_edge.capture.frame import Frame, as_u8, encode_jpeg  # noqa: E402
from porchlight_edge.capture.probe import probe  # noqa: E402
from tests.helpers.rtp_camera import RtpCamera, encode_units  # noqa: E402


def write_clip(path: Path, width: int, height: int, frames: int = 30) -> None:
    """An H.264 MP4 of a moving bright block on a ramp (libx264, 15 fps)."""
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=15)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.options = {"preset": "ultrafast", "g": "15"}
        ramp = np.tile(np.linspace(40, 200, width, dtype=np.uint8), (height, 1))
        for i in range(frames):
            img = np.dstack([ramp] * 3)
            x = (i * 16) % (width - 64)
            img[height // 3 : height // 3 + 64, x : x + 64] = 240
            frame = av.VideoFrame.from_ndarray(img, format="rgb24")
            frame.pts, frame.time_base = i, Fraction(1, 15)
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)


def median_ms(times: list[float]) -> float:
    return statistics.median(times) * 1000


async def measure(runs: int) -> str:
    with tempfile.TemporaryDirectory() as tmp:
        clip = Path(tmp) / "clip.mp4"
        write_clip(clip, 1920, 1080)
        cold, cached, sizes = [], [], []
        for i in range(runs):
            thumbs = Thumbnails()
            start = time.perf_counter()
            data = await thumbs.get(f"clip:{i}", lambda: clip_picture(clip))
            cold.append(time.perf_counter() - start)
            start = time.perf_counter()
            await thumbs.get(f"clip:{i}", lambda: clip_picture(clip))
            cached.append(time.perf_counter() - start)
            assert data is not None
            sizes.append(len(data))
        with av.open(str(clip)) as container:
            picture = next(container.decode(video=0)).to_ndarray(format="bgr24")
        snapshot = len(encode_jpeg(Frame.from_bgr(as_u8(picture), 0.0, 0.0), 85))
    thumb_kb, snapshot_kb = statistics.median(sizes) / 1024, snapshot / 1024
    print(f"thumbnail of a 1080p clip: made {median_ms(cold):.1f} ms, cached "
          f"{median_ms(cached):.4f} ms (median of {runs})")  # fmt: skip
    print(f"thumbnail {thumb_kb:.1f} kB vs full snapshot {snapshot_kb:.1f} kB")

    probes = []
    with RtpCamera(encode_units(150, size=(1280, 720)), fps=15) as camera:
        for _ in range(runs):
            start = time.perf_counter()
            outcome = await probe("rtsp", camera.url)
            probes.append(time.perf_counter() - start)
            assert outcome.ok, outcome.message
    print(f"set-up test of a 720p RTSP camera: {median_ms(probes):.1f} ms to its first picture")
    return (
        f"RESULT thumb_ms={median_ms(cold):.1f} thumb_cached_ms={median_ms(cached):.4f} "
        f"thumb_kb={thumb_kb:.1f} snapshot_kb={snapshot_kb:.1f} "
        f"size_ratio={snapshot_kb / thumb_kb:.1f} probe_ms={median_ms(probes):.1f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    print(asyncio.run(measure(args.runs)))


if __name__ == "__main__":
    main()
