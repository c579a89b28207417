"""Sound from a real RTSP camera (tests/helpers/rtp_camera.py) whose SDP lists the audio
track before the video one: G.711 μ-law/A-law, AAC and Opus reach the clip as AAC when
the camera's audio is on, and nothing of it is taken when it is off (the default)."""

from __future__ import annotations

import av
import pytest

from porchlight_edge.capture.config import CameraConfig
from porchlight_edge.capture.demand import DecodeDemand
from porchlight_edge.recorder.recorder import Recorder, RecorderSettings
from porchlight_edge.recorder.storage import ClipStore
from tests.helpers.camera_session import camera_config, first_frames
from tests.helpers.rtp_camera import RtpCamera, Unit, audio_track, encode_units
from tests.helpers.sound import TONE_HZ, decoded_audio, dominant_frequency

FPS = 15
FRAMES = 150  # served; the clip needs about half (the probe and a slow loop take some)
READ = 60


@pytest.fixture(scope="module")
def units() -> list[Unit]:
    return encode_units(FRAMES, fps=FPS, gop=FPS)


async def record_camera(
    camera: RtpCamera,
    store: ClipStore,
    cfg: CameraConfig,
    audio: bool,
    demand: DecodeDemand | None = None,
) -> tuple[str, int]:
    """A clip from about frame 20 on; returns (clip id, audio packets seen)."""
    rec = Recorder("door", store, RecorderSettings(preroll=1.0, postroll=2.0, audio=audio))
    rec.start()
    clip_id, heard = None, 0
    try:
        async for frame in first_frames(cfg, READ, demand):
            heard += len(frame.audio)
            rec.on_frame(frame, 0.0)
            if clip_id is None and camera.sent >= 20:
                clip_id = rec.trigger("manual", "e-1", postroll=2.0, snapshot=False)
    finally:
        await rec.stop()
    assert clip_id is not None
    return clip_id, heard


@pytest.mark.parametrize("codec", ["pcm_mulaw", "pcm_alaw", "aac", "libopus"])
async def test_camera_sound_reaches_the_clip_as_aac(
    units: list[Unit], clip_store: ClipStore, codec: str
) -> None:
    with RtpCamera(units, fps=FPS, audio=audio_track(codec, FRAMES / FPS)) as camera:
        cfg = camera_config("rtsp", url=camera.url, audio=True)
        clip_id, heard = await record_camera(camera, clip_store, cfg, audio=True)
    assert heard > 0
    path = clip_store.clip_path(clip_id)
    with av.open(str(path)) as container:
        assert len(container.streams.video) == 1
        assert container.streams.video[0].codec_context.name == "h264"
    samples, rate, name, _ = decoded_audio(path)
    assert name == "aac"
    assert len(samples) / rate > 2.0
    assert dominant_frequency(samples, rate) == pytest.approx(TONE_HZ, abs=15)


async def test_sound_reaches_the_clip_while_the_main_stream_is_not_decoded(
    units: list[Unit], clip_store: ClipStore
) -> None:
    # Beside a detect sub-stream nobody asks for pictures: frames carry packets only,
    # and the audio demuxed meanwhile must ride on them, not wait for a decoded picture.
    demand = DecodeDemand()
    with RtpCamera(units, fps=FPS, audio=audio_track("pcm_mulaw", FRAMES / FPS)) as camera:
        cfg = camera_config("rtsp", url=camera.url, audio=True)
        clip_id, heard = await record_camera(camera, clip_store, cfg, True, demand)
    assert demand.frames_decoded == 0
    assert demand.frames_skipped > 0
    assert heard > 0
    samples, rate, name, _ = decoded_audio(clip_store.clip_path(clip_id))
    assert name == "aac"
    assert len(samples) / rate > 2.0
    assert dominant_frequency(samples, rate) == pytest.approx(TONE_HZ, abs=15)


async def test_audio_off_takes_no_sound(units: list[Unit], clip_store: ClipStore) -> None:
    with RtpCamera(units, fps=FPS, audio=audio_track("pcm_mulaw", FRAMES / FPS)) as camera:
        cfg = camera_config("rtsp", url=camera.url)
        assert cfg.audio is False  # off by default
        clip_id, heard = await record_camera(camera, clip_store, cfg, audio=False)
    assert heard == 0  # the audio track was not even set up
    with av.open(str(clip_store.clip_path(clip_id))) as container:
        assert len(container.streams.video) == 1
        assert not container.streams.audio
