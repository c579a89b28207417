"""Full-range video (yuvj420p, color_range=pc) keeps its levels: grey bars at 16, 31 and
235 stay there in snapshots, the MJPEG live view and masked (re-encoded) clips, instead
of being stretched as if they were video range (0, 17, 255)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import av
import cv2
import numpy as np
import pytest

from porchlight_edge.capture import Frame
from porchlight_edge.capture.frame import encode_jpeg
from porchlight_edge.privacy import PrivacyMasker
from porchlight_edge.recorder.recorder import Recorder, RecorderSettings
from porchlight_edge.recorder.storage import ClipStore
from tests.helpers.camera_session import camera_config, first_frames
from tests.helpers.footage import mux_all

LEVELS = (16, 31, 235)
W, H, FPS = 384, 240, 15
TOLERANCE = 3  # JPEG and H.264 rounding on flat bars


def bars_y() -> np.ndarray:
    y = np.zeros((H, W), np.uint8)
    for i, level in enumerate(LEVELS):
        y[:, i * W // 3 : (i + 1) * W // 3] = level
    return y


def bar_means(gray: np.ndarray) -> list[float]:
    """Mean of the middle of each bar (away from edges and the masked top-left corner)."""
    h, w = gray.shape
    return [
        float(gray[h // 2 :, i * w // 3 + w // 12 : (i + 1) * w // 3 - w // 12].mean())
        for i in range(3)
    ]


@pytest.fixture(scope="module")
def full_range_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("fullrange") / "bars.mp4"
    y = bars_y()
    buf = np.concatenate([y, np.full((H // 2, W), 128, np.uint8)])
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=FPS)
        stream.width, stream.height, stream.pix_fmt = W, H, "yuvj420p"
        stream.options = {"preset": "ultrafast", "g": str(FPS), "bf": "0", "qp": "0"}
        frames = (av.VideoFrame.from_ndarray(buf, format="yuvj420p") for _ in range(3 * FPS))
        mux_all(out, stream, frames)
    return path


def decoded_frames(path: Path, count: int, *, realtime: bool = False) -> AsyncIterator[Frame]:
    """`count` frames from a file source; `realtime` paces them like a live camera."""
    return first_frames(camera_config("file", path=str(path), realtime=realtime), count)


def jpeg_gray(data: bytes) -> np.ndarray:
    img = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    assert img is not None
    return cv2.cvtColor(img, cv2.COLOR_BGR2GRAY)


async def test_snapshots_and_live_view_keep_full_range_levels(full_range_clip: Path) -> None:
    [frame] = [f async for f in decoded_frames(full_range_clip, 1)]
    assert frame.full_range
    for data in (
        encode_jpeg(frame, 95),
        encode_jpeg(frame, 95, 192),
        encode_jpeg(frame, 95, 256),
    ):
        means = bar_means(jpeg_gray(data))
        assert means == pytest.approx(LEVELS, abs=TOLERANCE), means


async def test_masked_clip_keeps_full_range_levels(
    full_range_clip: Path, clip_store: ClipStore
) -> None:
    masker = PrivacyMasker([[(0.0, 0.0), (0.2, 0.0), (0.2, 0.2), (0.0, 0.2)]])
    rec = Recorder("front", clip_store, RecorderSettings(preroll=0.0, postroll=1.0))
    rec.start()
    clip_id = None
    # The clip ends 1 s in (postroll); the second second lets the encoder catch up.
    async for frame in decoded_frames(full_range_clip, 2 * FPS, realtime=True):
        rec.on_frame(masker.apply(frame), 0.0)
        if clip_id is None:
            clip_id = rec.trigger("manual", "e-1", at=frame.wallclock, snapshot=False)
    await rec.stop()
    assert rec.mode == "encode"
    assert clip_id is not None
    checked = 0
    with av.open(str(clip_store.clip_path(clip_id))) as container:
        for vframe in container.decode(video=0):
            full = vframe.format.name == "yuvj420p" or int(vframe.color_range) == 2
            assert full, "the clip is not tagged full range"
            y = vframe.to_ndarray()[:H]
            assert bar_means(y) == pytest.approx(LEVELS, abs=TOLERANCE)
            assert y[: H // 8, : W // 8].max() <= TOLERANCE, "the mask is not black"
            checked += 1
    assert checked >= FPS // 2
