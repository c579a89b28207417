"""A camera that changes its SPS (resolution) mid-session, served by a real RTSP server:
recording continues across the change, in a new clip segment whose header matches its
pictures, with and without a privacy mask (re-encoder re-initialised)."""

from __future__ import annotations

import contextlib
from pathlib import Path

import av
import pytest

from porchlight_edge.privacy import PrivacyMasker
from porchlight_edge.recorder.codecs import VideoCodec
from porchlight_edge.recorder.recorder import Recorder, RecorderSettings
from porchlight_edge.recorder.storage import ClipStore
from tests.helpers.camera_session import camera_config, first_frames
from tests.helpers.rtp_camera import RtpCamera, Unit, encode_units

FPS = 15
SMALL, LARGE = (320, 240), (480, 360)
CHANGE_AT = 45  # frame index of the first picture with the new SPS


def changing_units(codec: VideoCodec) -> list[Unit]:
    before = encode_units(CHANGE_AT, size=SMALL, fps=FPS, gop=FPS, codec=codec)
    return before + encode_units(45, size=LARGE, fps=FPS, gop=FPS, first=CHANGE_AT, codec=codec)


@pytest.fixture(scope="module")
def units() -> list[Unit]:
    return changing_units(VideoCodec.H264)


def sizes_in(path: Path) -> tuple[tuple[int, int], set[tuple[int, int]], int]:
    """(header size, decoded picture sizes, decoded frame count) of one clip file."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        header = (stream.codec_context.width, stream.codec_context.height)
        decoded = [(f.width, f.height) for f in container.decode(stream)]
    return header, set(decoded), len(decoded)


@pytest.mark.parametrize(
    ("masked", "codec"),
    [(False, VideoCodec.H264), (True, VideoCodec.H264), (False, VideoCodec.HEVC)],
    ids=["passthrough", "masked", "hevc-passthrough"],
)
async def test_recording_continues_across_an_sps_change(
    units: list[Unit], clip_store: ClipStore, masked: bool, codec: VideoCodec
) -> None:
    if codec is VideoCodec.HEVC:
        if "libx265" not in av.codecs_available:
            pytest.skip("this PyAV has no libx265 to make H.265 footage")
        units = changing_units(codec)
    masker = PrivacyMasker([[(0.0, 0.0), (0.3, 0.0), (0.3, 0.3), (0.0, 0.3)]] if masked else [])
    rec = Recorder("front", clip_store, RecorderSettings(preroll=0.0, postroll=1.0))
    rec.start()
    first_clip = None
    with RtpCamera(units, fps=FPS, codec=codec) as camera:
        frames = first_frames(camera_config("rtsp", url=camera.url), len(units))
        async with contextlib.aclosing(frames):
            async for frame in frames:
                rec.on_frame(masker.apply(frame), 0.0)
                if first_clip is None and camera.sent >= CHANGE_AT - 20:
                    first_clip = rec.trigger("manual", "e-1", postroll=3.5, snapshot=False)
                if frame.width == LARGE[0] and camera.sent >= CHANGE_AT + 35:
                    break
    await rec.stop()
    records = sorted(clip_store.index.list_clips().items, key=lambda c: c.start)
    assert first_clip is not None
    assert [r.id for r in records][:1] == [first_clip]
    assert len(records) == 2, [(r.id, r.state, r.reason) for r in records]
    seen: set[tuple[int, int]] = set()
    total = 0
    for record in records:
        header, decoded, count = sizes_in(clip_store.clip_path(record.id))
        assert decoded == {header}, f"{record.id}: header {header}, pictures {decoded}"
        seen |= decoded
        total += count
    assert seen == {SMALL, LARGE}
    # 3.5 s of activity from the trigger: most of it is in the two segments.
    assert total >= 2.5 * FPS  # some slack: a loaded re-encoder drops frames
    event = clip_store.index.get_event("e-1")
    assert event is not None
    assert event.clip_id == first_clip
