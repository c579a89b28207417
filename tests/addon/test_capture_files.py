"""Video files and image folders as cameras: real clips made with PyAV, real JPEGs."""

from __future__ import annotations

import asyncio
from dataclasses import replace
import time
from typing import TYPE_CHECKING

import cv2
import numpy as np
import pytest

from porchlight_edge.capture import CameraConfig, CaptureError, Frame, open_source
from porchlight_edge.capture.files import numbered_images
from tests.helpers.camera_session import drain

if TYPE_CHECKING:
    from pathlib import Path

    from tests.addon.conftest import ClipMaker


def file_cfg(path: Path, **kw: object) -> CameraConfig:
    return CameraConfig.from_dict({"name": "clip", "source": "file", "path": str(path), **kw})


async def collect(cfg: CameraConfig, limit: int = 10_000) -> list[Frame]:
    frames, ended = await drain(open_source(cfg), limit)
    assert ended is None or "ended" in ended
    return frames


def grey_level(frame: Frame) -> float:
    """Mean luma of the top rows, where the clip has only its flat grey."""
    return float(frame.luma(frame.height)[:40].mean())


async def test_fast_mode_delivers_every_frame_in_order(capture_make_clip: ClipMaker) -> None:
    clip = capture_make_clip("fast.mp4", 45, fps=15)
    start = time.monotonic()
    frames = await collect(file_cfg(clip, realtime=False))
    elapsed = time.monotonic() - start
    assert len(frames) == 45
    assert elapsed < 1.5  # 3 s of video, far faster than real time
    assert [f.pts for f in frames] == pytest.approx([i / 15 for i in range(45)], abs=1e-3)
    first = frames[0]
    assert (first.width, first.height) == (320, 240)
    assert first.i420 is not None
    assert first.i420.shape == (360, 320)
    levels = [grey_level(f) for f in frames]
    # The encoded grey ramp survives the codec (BGR grey g → limited-range luma 16 + 219g/255).
    assert levels == pytest.approx([16 + (20 + 4 * i) * 219 / 255 for i in range(45)], abs=3)


async def test_packets_and_stream_info_for_passthrough(capture_make_clip: ClipMaker) -> None:
    clip = capture_make_clip("gop.mp4", 30, fps=15, gop=10)
    source = open_source(file_cfg(clip, realtime=False))
    frames, ended = await drain(source)
    assert ended == "clip: stream ended"
    info = source.stream_info
    assert info is not None
    assert (info.codec, info.width, info.height, info.fps) == ("h264", 320, 240, 15.0)
    assert info.extradata  # avcC with SPS/PPS, needed to mux the packets
    assert all(f.packet is not None for f in frames)
    assert [i for i, f in enumerate(frames) if f.keyframe] == [0, 10, 20]
    assert sum(f.packet.size for f in frames) > 0


async def test_b_frames_every_packet_delivered_once(capture_make_clip: ClipMaker) -> None:
    """With B-frames the decoder holds packets back; none may be lost for passthrough."""
    clip = capture_make_clip("bframes.mp4", 30, fps=15, bframes=2, gop=30)
    frames = await collect(file_cfg(clip, realtime=False))
    assert len(frames) == 30
    packets = [p for f in frames for p in f.packets]
    assert len(packets) == 30
    assert len({id(p) for p in packets}) == 30
    dts = [p.dts for p in packets]
    assert dts == sorted(dts)
    assert frames[0].keyframe
    assert [f.pts for f in frames] == sorted(f.pts for f in frames)


async def test_realtime_paces_at_the_clip_rate(capture_make_clip: ClipMaker) -> None:
    clip = capture_make_clip("paced.mp4", 15, fps=15)
    start = time.monotonic()
    frames = await collect(file_cfg(clip, realtime=True))
    elapsed = time.monotonic() - start
    assert len(frames) == 15
    assert 0.85 < elapsed < 1.6  # 14 frame intervals at 15 fps = 0.93 s
    gaps = np.diff([f.wallclock for f in frames])
    assert float(np.median(gaps)) == pytest.approx(1 / 15, abs=0.02)


async def test_loop_keeps_pts_increasing(capture_make_clip: ClipMaker) -> None:
    clip = capture_make_clip("loop.mp4", 10, fps=10)
    frames = await collect(file_cfg(clip, realtime=False, loop=True), limit=25)
    assert len(frames) == 25
    pts = [f.pts for f in frames]
    assert pts == pytest.approx([i / 10 for i in range(25)], abs=1e-3)
    assert grey_level(frames[10]) == pytest.approx(grey_level(frames[0]), abs=2)


async def test_missing_and_corrupt_files(tmp_path: Path) -> None:
    clip = tmp_path / "gone.mp4"
    clip.write_bytes(b"not a video at all" * 100)
    cfg = file_cfg(clip, realtime=False)
    source = open_source(cfg)
    with pytest.raises(CaptureError, match=r"clip: cannot open .*gone\.mp4"):
        async for _ in source.frames():
            pass
    clip.unlink()
    with pytest.raises(CaptureError, match="does not exist"):
        async for _ in source.frames():
            pass
    await source.close()


def write_images(folder: Path, numbers: list[int], ext: str = "jpg") -> None:
    folder.mkdir(exist_ok=True)
    for n in numbers:
        img = np.full((48, 64, 3), min(250, n * 2), np.uint8)
        assert cv2.imwrite(str(folder / f"in{n:06d}.{ext}"), img)


def test_numeric_ordering(tmp_path: Path) -> None:
    folder = tmp_path / "seq"
    folder.mkdir()
    for name in ["in10.jpg", "in2.jpg", "in1.jpg", "notes.txt", "in100.png", "gt000001.PNG"]:
        (folder / name).write_bytes(b"")
    names = [p.name for p in numbered_images(folder)]
    assert names == ["gt000001.PNG", "in1.jpg", "in2.jpg", "in10.jpg", "in100.png"]


async def test_image_folder_fast_and_paced(tmp_path: Path) -> None:
    folder = tmp_path / "input"
    write_images(folder, [1, 2, 3, 10, 11, 12, 20, 30, 40, 50])
    cfg = CameraConfig.from_dict(
        {"name": "seq", "source": "images", "path": str(folder), "realtime": False, "fps": 25}
    )
    frames = await collect(cfg)
    assert len(frames) == 10
    levels = [float(f.luma(48).mean()) for f in frames]
    assert levels == pytest.approx([2, 4, 6, 20, 22, 24, 40, 60, 80, 100], abs=2)
    assert [f.pts for f in frames] == pytest.approx([i / 25 for i in range(10)])
    assert frames[0].bgr is not None
    assert (frames[0].width, frames[0].height) == (64, 48)

    start = time.monotonic()
    paced = await collect(replace(cfg, realtime=True))
    elapsed = time.monotonic() - start
    assert len(paced) == 10
    assert 0.3 < elapsed < 0.9  # 9 intervals at 25 fps = 0.36 s


async def test_image_folder_loop_and_empty(tmp_path: Path) -> None:
    folder = tmp_path / "few"
    write_images(folder, [5, 6, 7], ext="png")
    cfg = CameraConfig.from_dict(
        {"name": "seq", "source": "images", "path": str(folder), "realtime": False, "loop": True}
    )
    frames = await collect(cfg, limit=7)
    levels = [round(float(f.luma(48).mean())) for f in frames]
    assert levels == [10, 12, 14, 10, 12, 14, 10]
    empty = tmp_path / "empty"
    empty.mkdir()
    cfg = CameraConfig.from_dict({"name": "seq", "source": "images", "path": str(empty)})
    source = open_source(cfg)
    with pytest.raises(CaptureError, match="no images"):
        async for _ in source.frames():
            pass


@pytest.mark.shared_data
async def test_real_sequence_from_shared_data(capture_shared_data: Path) -> None:
    folder = capture_shared_data / "UCSD" / "boats" / "input"
    if not folder.is_dir():
        pytest.skip(f"{folder} missing")
    cfg = CameraConfig.from_dict(
        {"name": "boats", "source": "images", "path": str(folder), "realtime": False}
    )
    frames = await collect(cfg)
    assert len(frames) == len(numbered_images(folder)) == 31
    assert (frames[0].width, frames[0].height) == (344, 224)


async def test_realtime_slow_consumer_drops_oldest_and_counts(
    capture_make_clip: ClipMaker,
) -> None:
    """A live-paced source never queues up stale frames: it drops and counts them."""
    clip = capture_make_clip("slow.mp4", 20, fps=30)
    source = open_source(file_cfg(clip, realtime=True))
    received: list[Frame] = []

    async def consume_slowly() -> None:
        async for frame in source.frames():
            received.append(frame)
            await asyncio.sleep(0.1)  # consumer at 10 fps, camera at 30 fps

    with pytest.raises(CaptureError, match="ended"):
        await consume_slowly()
    await source.close()
    dropped = getattr(source, "frames_dropped", None)
    assert isinstance(dropped, int)
    assert dropped >= 8
    assert len(received) + dropped == 20  # every frame either delivered or counted
    pts = [f.pts for f in received]
    assert pts == sorted(pts)
    assert pts[-1] == pytest.approx(19 / 30, abs=1e-3)  # the newest frame is never dropped
