"""Realistic H.264 test footage made with PyAV/libx264, cached under benchmarks/out/.

A textured doorstep with a person-sized block walking across, sensor noise and
a slow brightness drift, so bitrate and decode cost resemble a real camera.
"""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np

OUT = Path(__file__).resolve().parent / "out"


def make_h264(
    width: int = 1920, height: int = 1080, fps: int = 15, seconds: int = 20, gop: int = 30
) -> Path:
    path = OUT / f"test_{width}x{height}_{fps}fps_{seconds}s.mp4"
    if path.exists():
        return path
    OUT.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(7)
    # Background: smooth gradients plus texture, in I420.
    yy, xx = np.mgrid[0:height, 0:width]
    base_y = 90 + 60 * np.sin(xx / 97.0) * np.cos(yy / 131.0) + rng.normal(0, 12, (height, width))
    base_y = np.clip(base_y, 16, 235).astype(np.uint8)
    chroma = np.full((height // 2, width), 128, np.uint8)
    noise_bank = [rng.normal(0, 3, (height, width)).astype(np.int16) for _ in range(4)]
    tmp = path.with_suffix(".tmp.mp4")
    with av.open(str(tmp), "w") as out:
        stream = out.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.options = {"preset": "veryfast", "crf": "23", "g": str(gop), "bf": "0"}
        for i in range(fps * seconds):
            y = base_y.astype(np.int16) + noise_bank[i % 4] + int(8 * np.sin(i / 40))
            x0 = int((i * 11) % (width + 300)) - 300
            y[height // 3 : height // 3 + 450, max(0, x0) : max(0, x0 + 220)] = 200
            buf = np.vstack([np.clip(y, 0, 255).astype(np.uint8), chroma])
            frame = av.VideoFrame.from_ndarray(buf, format="yuv420p")
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    tmp.rename(path)
    return path
