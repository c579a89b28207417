"""Clips with the camera's sound: AAC passes through, G.711 and Opus become AAC.

Generated footage (H.264 plus a 700 Hz tone in each codec) goes through the real
capture path (`decode_video`) into the real recorder; the clips are decoded with PyAV.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
import threading

import av
import numpy as np
import pytest

from porchlight_edge.capture.pyav import decode_video, open_container
from porchlight_edge.recorder.index import ClipRecord, ClipState
from porchlight_edge.recorder.recorder import Recorder, RecorderSettings
from porchlight_edge.recorder.storage import ClipStore
from tests.helpers.sound import (
    GAP,
    RATES,
    TONE_HZ,
    decoded_audio,
    dominant_frequency,
    frame_number,
    make_av,
    silence_start,
)

W0 = 1_000_000.0
FPS = 15  # make_av's frame rate
TRIGGER_AT = 4.0
PREROLL, POSTROLL = 2.0, 2.0


@pytest.fixture(scope="module", params=sorted(RATES))
def footage(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    codec = str(request.param)
    return make_av(tmp_path_factory.mktemp("media") / f"{codec}.av", codec)


@pytest.fixture
def store(clip_store: ClipStore) -> ClipStore:
    return clip_store


async def record(
    store: ClipStore, source: Path, *, audio: bool, lose: tuple[float, float] | None = None
) -> ClipRecord:
    """Play `source` through capture (audio taken when `audio`) and ring at TRIGGER_AT.

    `lose`: audio packets within this span of source seconds never arrive (a hiccup).
    """
    rec = Recorder(
        "front", store, RecorderSettings(preroll=PREROLL, postroll=POSTROLL, audio=audio)
    )
    rec.start()
    container = open_container(str(source), protocols="file")
    try:
        for i, frame in enumerate(decode_video(container, threading.Event(), audio=audio)):
            frame.wallclock = W0 + frame.pts
            if lose is not None:
                frame.audio = tuple(
                    p for p in frame.audio if not lose[0] <= p.pts * p.time_base < lose[1]
                )
            if abs(frame.pts - TRIGGER_AT) < 1e-3:
                rec.trigger("ring", "ev-1", W0 + TRIGGER_AT, seq=1)
            rec.on_frame(frame, 0.0)
            if i % 10 == 0:
                await asyncio.sleep(0)
    finally:
        container.close()
    await rec.stop()
    [clip] = store.index.list_clips().items
    assert clip.state is ClipState.COMPLETE
    return clip


def video_span(path: Path) -> tuple[float, float, int]:
    """(first, last) frame times in seconds and the first frame's generated number."""
    with av.open(str(path)) as c:
        frames = [(float(f.time), f) for f in c.decode(video=0)]
    first = frames[0][1].to_ndarray()[: frames[0][1].height]
    return frames[0][0], frames[-1][0], frame_number(first)


async def test_clip_carries_the_source_tone_as_aac(store: ClipStore, footage: Path) -> None:
    clip = await record(store, footage, audio=True)
    path = store.clip_path(clip.id)
    samples, rate, codec, audio_start = decoded_audio(path)
    assert codec == "aac"
    assert rate == RATES[footage.stem]
    assert dominant_frequency(samples, rate) == pytest.approx(TONE_HZ, abs=15)
    # In sync: the pause generated at GAP[0] s is heard when the video shows the frame
    # generated then. The first frame's number says when it was generated.
    first, last, number = video_span(path)
    heard = audio_start + silence_start(samples, rate)
    assert heard == pytest.approx(first + GAP[0] - number / FPS, abs=0.07)
    # The sound covers the picture, pre-roll included.
    assert audio_start <= first + 0.07
    assert audio_start + len(samples) / rate >= last - 0.2
    assert last - first >= PREROLL + POSTROLL - 1.0


@pytest.mark.parametrize("codec", ["pcm_alaw", "libopus"])
async def test_lost_audio_packets_leave_a_gap_not_a_shift(
    store: ClipStore, tmp_path: Path, codec: str
) -> None:
    source = make_av(tmp_path / f"{codec}.av", codec)
    clip = await record(store, source, audio=True, lose=(3.0, 3.6))
    samples, rate, _, audio_start = decoded_audio(store.clip_path(clip.id))
    first, _, number = video_span(store.clip_path(clip.id))
    # The lost span is silent where it belongs, and the later pause is still in sync.
    assert audio_start + silence_start(samples, rate) == pytest.approx(
        first + 3.0 - number / FPS, abs=0.07
    )
    pause = first + GAP[0] - number / FPS - audio_start  # where it belongs, in samples' time
    before = round((pause - 0.1) * rate)
    assert silence_start(samples[before:], rate) == pytest.approx(0.1, abs=0.07)


async def test_aac_passes_through_untouched(store: ClipStore, tmp_path: Path) -> None:
    source = make_av(tmp_path / "aac.mkv", "aac")
    clip = await record(store, source, audio=True)
    with av.open(str(source)) as c:
        sent = {bytes(p) for p in c.demux(audio=0) if p.size}
    with av.open(str(store.clip_path(clip.id))) as c:
        kept = [bytes(p) for p in c.demux(audio=0) if p.size]
    assert kept
    assert set(kept) <= sent  # the camera's own AAC frames, not re-encoded ones


async def test_audio_off_records_video_only(store: ClipStore, footage: Path) -> None:
    clip = await record(store, footage, audio=False)
    with av.open(str(store.clip_path(clip.id))) as c:
        assert len(c.streams.video) == 1
        assert not c.streams.audio


def test_dominant_frequency_tells_tones_apart() -> None:
    rate = 8000
    t = np.arange(rate) / rate
    assert dominant_frequency(np.sin(2 * np.pi * 300 * t), rate) == pytest.approx(300, abs=2)
    assert dominant_frequency(np.sin(2 * np.pi * 1200 * t), rate) == pytest.approx(1200, abs=2)
