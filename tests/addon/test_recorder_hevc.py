"""H.265 cameras: clips keep the camera's packets (passthrough) in MP4 tagged `hvc1`, from
an MP4 file (hvcC extradata) and over RTSP (RFC 7798, with and without sprop parameter
sets); a privacy mask or `recording.hevc: convert` re-encodes to H.264 instead."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from pathlib import Path
import struct
from typing import TYPE_CHECKING

import av
import cv2
import numpy as np
import pytest

from porchlight_edge.capture.frame import Frame
from porchlight_edge.config import parse_options
from porchlight_edge.privacy import PrivacyMasker
from porchlight_edge.recorder.codecs import (
    HevcRecording,
    VideoCodec,
    nal_type,
    parameter_set_types,
    passthrough_codecs,
)
from porchlight_edge.recorder.encoder import EncodeSettings
from porchlight_edge.recorder.index import ClipRecord
from porchlight_edge.recorder.packets import split_annexb
from porchlight_edge.recorder.recorder import Recorder, RecorderSettings
from porchlight_edge.recorder.recover import salvage
from porchlight_edge.recorder.storage import ClipStore
from porchlight_edge.service import Service
from tests.helpers.camera_session import camera_config, first_frames
from tests.helpers.footage import make_h264, play
from tests.helpers.rtp_camera import RtpCamera, Unit, encode_units
from tests.helpers.waiting import wait_until

if TYPE_CHECKING:
    from collections.abc import Iterable

if "libx265" not in av.codecs_available:
    pytest.skip("this PyAV has no libx265 to make H.265 footage", allow_module_level=True)

W0 = 1_000_000.0
FPS = 15
SIZE = (320, 240)


@pytest.fixture(scope="module")
def hevc_mp4(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("media") / "cam_hevc.mp4"
    return make_h264(path, seconds=8, width=SIZE[0], height=SIZE[1], fps=FPS, codec="libx265")


@pytest.fixture(scope="module")
def hevc_units() -> list[Unit]:
    return encode_units(6 * FPS, size=SIZE, fps=FPS, gop=FPS, codec=VideoCodec.HEVC)


def sample_entry(path: Path) -> str:
    """The four-character type of the first video sample entry (moov/trak/.../stsd)."""
    data = path.read_bytes()

    def children(start: int, end: int) -> dict[bytes, tuple[int, int]]:
        out: dict[bytes, tuple[int, int]] = {}
        while start + 8 <= end:
            size, kind = struct.unpack(">I4s", data[start : start + 8])
            if size < 8:
                break
            out.setdefault(kind, (start + 8, start + size))
            start += size
        return out

    box = (0, len(data))
    for name in (b"moov", b"trak", b"mdia", b"minf", b"stbl", b"stsd"):
        box = children(*box)[name]
    # stsd: version/flags (4), entry count (4), then the first entry's size and type.
    return data[box[0] + 12 : box[0] + 16].decode("ascii")


def clip_packets(path: Path) -> tuple[str, list[bytes]]:
    """(codec name, sample bytes) of a clip."""
    with av.open(str(path)) as c:
        stream = c.streams.video[0]
        return str(stream.codec_context.name), [bytes(p) for p in c.demux(stream) if p.size]


def decoded_frames(path: Path) -> list[np.ndarray]:
    with av.open(str(path)) as c:
        return [f.to_ndarray(format="gray") for f in c.decode(video=0)]


def leading_rasl(samples: list[bytes]) -> int:
    """RASL pictures (NAL types 8, 9) that follow the clip's first keyframe in decode order."""
    count = 0
    for sample in samples[1:]:
        kinds = {nal_type(VideoCodec.HEVC, n) for n in length_prefixed_nals(sample) if n}
        if not kinds & {8, 9}:
            break
        count += 1
    return count


def length_prefixed_nals(sample: bytes) -> list[bytes]:
    """NAL units of an MP4 sample (4-byte big-endian lengths)."""
    out, i = [], 0
    while i + 4 <= len(sample):
        (n,) = struct.unpack(">I", sample[i : i + 4])
        out.append(sample[i + 4 : i + 4 + n])
        i += 4 + n
    return out


async def record(
    store: ClipStore, frames: Iterable[Frame], settings: RecorderSettings, at: float
) -> tuple[Recorder, ClipRecord]:
    """Feed `frames` (as they are demuxed: their packets need an open demuxer), ring at
    wallclock `at`, return the one clip."""
    rec, ring = Recorder("front", store, settings), Ring(at)
    rec.start()
    for i, frame in enumerate(frames):
        ring.feed(rec, frame)
        if i % 10 == 0:
            await asyncio.sleep(0)
    await rec.stop()
    return rec, one_clip(store)


@dataclass
class Ring:
    at: float
    rung: bool = False

    def feed(self, rec: Recorder, frame: Frame) -> None:
        """One frame; the first one at or after `at` rings (once)."""
        if frame.wallclock >= self.at and not self.rung:
            self.rung = rec.trigger("ring", "r-1", self.at) is not None
            assert self.rung
        rec.on_frame(frame, 0.0)


def one_clip(store: ClipStore) -> ClipRecord:
    [clip] = store.index.list_clips().items
    return clip


@pytest.fixture(scope="module")
def hevc_mp4_bframes(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("media") / "cam_hevc_b.mp4"
    return make_h264(
        path, seconds=8, width=SIZE[0], height=SIZE[1], fps=FPS, codec="libx265", bframes=3
    )


@pytest.mark.parametrize("footage", ["hevc_mp4", "hevc_mp4_bframes"], ids=["ipp", "bframes"])
async def test_hevc_file_is_passed_through_as_hvc1(
    clip_store: ClipStore, footage: str, request: pytest.FixtureRequest
) -> None:
    """From an MP4 (hvcC extradata, length-prefixed packets), with and without B-frames."""
    hevc_mp4: Path = request.getfixturevalue(footage)
    frames = play(hevc_mp4, wallclock0=W0)
    settings = RecorderSettings(preroll=1.0, postroll=3.0)
    _, clip = await record(clip_store, frames, settings, W0 + 3.0)
    path = clip_store.clip_path(clip.id)
    assert clip.mode == "passthrough"
    assert sample_entry(path) == "hvc1"
    codec, samples = clip_packets(path)
    assert codec == "hevc"
    # No re-encode: the clip's samples are a run of the camera's own packets, byte for byte.
    _, source = clip_packets(hevc_mp4)
    first = source.index(samples[0])
    assert samples == source[first : first + len(samples)]
    assert len(samples) >= 3.5 * FPS
    pictures = decoded_frames(path)
    # Every sample decodes, less the RASL pictures of an open GOP that the clip starts at
    # a CRA keyframe of: they reference the GOP before it (H.265 8.3.2 discards them).
    assert len(pictures) == len(samples) - leading_rasl(samples)
    assert max(int(p.max()) for p in pictures) >= 200  # the bright block: real pictures


async def test_hevc_from_the_file_source_is_decoded_and_passed_through(
    clip_store: ClipStore, hevc_mp4: Path
) -> None:
    """The add-on's own file source (`source: file`) decodes H.265 for motion and hands its
    packets on: the clip is the camera's H.265, as hvc1."""
    rec = Recorder("front", clip_store, RecorderSettings(preroll=1.0, postroll=2.0))
    rec.start()
    ring: Ring | None = None
    frames = first_frames(camera_config("file", path=str(hevc_mp4), realtime=False), 8 * FPS)
    brightest = 0
    async with contextlib.aclosing(frames):
        async for frame in frames:
            brightest = max(brightest, int(frame.luma(SIZE[1]).max()))
            ring = ring or Ring(frame.wallclock)  # the file source stamps arrival time
            ring.feed(rec, frame)
    await rec.stop()
    assert brightest >= 200
    clip = one_clip(clip_store)
    path = clip_store.clip_path(clip.id)
    assert clip.mode == "passthrough"
    assert (sample_entry(path), clip_packets(path)[0]) == ("hvc1", "hevc")
    _, samples = clip_packets(path)
    _, source = clip_packets(hevc_mp4)
    assert samples == source[: len(samples)]  # from the first keyframe on, byte for byte
    assert len(decoded_frames(path)) == len(samples) >= FPS


async def test_hevc_convert_option_records_h264(clip_store: ClipStore, hevc_mp4: Path) -> None:
    frames = play(hevc_mp4, wallclock0=W0)
    settings = RecorderSettings(
        preroll=1.0,
        postroll=3.0,
        encode=EncodeSettings(queue_size=500),  # faster than real time: queue, don't drop
        passthrough_codecs=passthrough_codecs(HevcRecording.CONVERT),
    )
    rec, clip = await record(clip_store, frames, settings, W0 + 3.0)
    path = clip_store.clip_path(clip.id)
    assert (rec.mode, clip.mode) == ("encode", "encode")
    assert sample_entry(path) == "avc1"
    assert clip_packets(path)[0] == "h264"
    assert len(decoded_frames(path)) >= 3.5 * FPS


async def test_masked_hevc_is_reencoded_to_h264_with_the_mask_black(
    clip_store: ClipStore, hevc_mp4: Path
) -> None:
    # The mask covers the band the bright block moves through, so the test can fail.
    masker = PrivacyMasker([[(0.0, 0.25), (1.0, 0.25), (1.0, 0.7), (0.0, 0.7)]])
    frames = (masker.apply(f) for f in play(hevc_mp4, wallclock0=W0))
    settings = RecorderSettings(preroll=1.0, postroll=3.0, encode=EncodeSettings(queue_size=500))
    _, clip = await record(clip_store, frames, settings, W0 + 3.0)
    path = clip_store.clip_path(clip.id)
    assert clip.mode == "encode"
    assert (sample_entry(path), clip_packets(path)[0]) == ("avc1", "h264")
    inside = cv2.erode(masker.mask(*SIZE).astype(np.uint8), np.ones((9, 9), np.uint8)) > 0
    pictures = decoded_frames(path)
    assert len(pictures) >= 3.5 * FPS
    assert max(int(p[inside].max()) for p in pictures) <= 24, "masked area is not black"


@pytest.mark.parametrize("sprop", [True, False], ids=["sprop", "in-band-only"])
async def test_hevc_over_rtsp_is_decoded_and_passed_through(
    clip_store: ClipStore, hevc_units: list[Unit], sprop: bool
) -> None:
    """RFC 7798 RTP from a camera; without sprop-vps/sps/pps the demuxer has no extradata,
    so the clip's hvcC comes from the first keyframe's in-band parameter sets."""
    # Pre-roll back to the stream's first keyframe: the clip does not wait for the next GOP.
    rec = Recorder("front", clip_store, RecorderSettings(preroll=1.0, postroll=1.5))
    rec.start()
    frames: list[Frame] = []
    ring: Ring | None = None
    with RtpCamera(hevc_units, fps=FPS, codec=VideoCodec.HEVC, sprop=sprop) as camera:
        source = first_frames(camera_config("rtsp", url=camera.url), 4 * FPS)
        async with contextlib.aclosing(source):
            async for frame in source:
                frames.append(frame)
                ring = ring or Ring(frame.wallclock + 1.0)
                ring.feed(rec, frame)
    await rec.stop()
    clip = one_clip(clip_store)
    # Motion reads decoded pictures: the H.265 stream decodes, with the bright block in it.
    assert {(f.width, f.height) for f in frames} == {SIZE}
    assert max(int(f.luma(SIZE[1]).max()) for f in frames) >= 200
    path = clip_store.clip_path(clip.id)
    assert clip.mode == "passthrough"
    assert sample_entry(path) == "hvc1"
    codec, samples = clip_packets(path)
    assert codec == "hevc"
    assert len(decoded_frames(path)) == len(samples) >= FPS
    # No re-encode: every sample holds exactly the NAL units the camera sent for a frame,
    # less its in-band VPS/SPS/PPS: under hvc1 those live only in the hvcC box.
    sets = set(parameter_set_types(VideoCodec.HEVC))
    sent = {
        tuple(n for n in split_annexb(u.data) if nal_type(VideoCodec.HEVC, n) not in sets)
        for u in hevc_units
    }
    assert all(tuple(length_prefixed_nals(s)) in sent for s in samples)


@pytest.mark.parametrize(
    ("option", "expected"),
    [
        ({}, ("hvc1", "hevc", "passthrough")),
        ({"hevc": "passthrough"}, ("hvc1", "hevc", "passthrough")),
        ({"hevc": "convert"}, ("avc1", "h264", "encode")),
    ],
    ids=["default", "passthrough", "convert"],
)
async def test_the_recording_hevc_option_in_the_running_addon(
    tmp_path: Path, hevc_mp4: Path, option: dict[str, str], expected: tuple[str, str, str]
) -> None:
    """`recording.hevc` as the owner writes it, through the real service and its H.265 camera."""
    raw = {
        "host": "127.0.0.1",
        "port": 0,
        "token": "hevc-test-token-0123",
        "zeroconf": False,
        "cameras": [
            {
                "name": "porch",
                "source": "file",
                "path": str(hevc_mp4),
                "realtime": True,  # 8 s, played once: no loop splits the clip
                "motion": {"enabled": False},  # the moving block would extend the clip
                "recording": {"pre_roll": 2, **option},
            }
        ],
    }
    service = Service(parse_options(raw, tmp_path / "data"))
    await service.start()
    try:
        recorder = service.cameras["porch"].recorder
        camera = service.cameras["porch"]
        # 2.5 s in: the pre-roll holds a keyframe (2 s GOP), the clip ends before the file.
        await wait_until(
            lambda: camera.last_frame is not None and camera.last_frame.pts >= 2.5,
            15,
            "2.5 s from the file camera",
        )
        clip = await asyncio.wait_for(recorder.record_manual(1.5), 15)
        path = recorder.store.clip_path(clip.id)
        assert (sample_entry(path), clip_packets(path)[0], clip.mode) == expected
        assert len(decoded_frames(path)) >= FPS
    finally:
        await service.stop()


async def test_a_salvaged_hevc_clip_stays_hvc1(
    clip_store: ClipStore, hevc_mp4: Path, tmp_path: Path
) -> None:
    """A clip cut short (power loss) is salvaged by remuxing: the copy keeps `hvc1`."""
    _, clip = await record(
        clip_store, play(hevc_mp4, wallclock0=W0), RecorderSettings(preroll=1.0), W0 + 3.0
    )
    data = clip_store.clip_path(clip.id).read_bytes()
    part = tmp_path / "cut.mp4.part"
    part.write_bytes(data[: len(data) * 2 // 3])  # the last fragment torn
    facts = salvage(part, tmp_path / "cut.mp4")
    assert facts is not None
    assert facts.frames >= FPS
    assert (sample_entry(tmp_path / "cut.mp4"), clip_packets(tmp_path / "cut.mp4")[0]) == (
        "hvc1",
        "hevc",
    )
