"""The live MPEG-TS stream carries the camera's sound only while audio is on: AAC as
sent, G.711 and Opus converted. Generated footage through the real capture path, the
real hub and muxer; the transport stream decoded with PyAV."""

from __future__ import annotations

import io
from pathlib import Path
import threading

import av
import numpy as np
import pytest

from porchlight_edge.capture.pyav import decode_video, open_container
from porchlight_edge.recorder.audio import AudioPacket
from porchlight_edge.stream.hub import LiveStream
from porchlight_edge.stream.mpegts import TsMuxer
from tests.helpers.sound import RATES, TONE_HZ, dominant_frequency, make_av


async def live_ts(source: Path, audio: bool) -> bytes:
    """What one viewer who joins after a second receives, as the HTTP handler muxes it."""
    hub = LiveStream("front", 2)
    hub.audio = audio
    container = open_container(str(source), protocols="file")
    out, muxer = io.BytesIO(), None
    viewer = None
    try:
        for frame in decode_video(container, threading.Event(), audio=True):
            if viewer is None and frame.pts >= 1.0:
                viewer = hub.open()
            hub.on_frame(frame)
            while viewer is not None and not viewer.mailbox.empty():
                packet = viewer.mailbox.get_nowait()
                assert packet is not None
                if isinstance(packet, AudioPacket):
                    out.write(muxer.mux_audio(packet) if muxer is not None else b"")
                    continue
                if muxer is None:
                    muxer = TsMuxer(packet.params, viewer.audio)
                out.write(muxer.mux(packet))
    finally:
        container.close()
        await hub.close()
    assert muxer is not None
    out.write(muxer.close())
    return out.getvalue()


@pytest.mark.parametrize("codec", sorted(RATES))
async def test_stream_carries_the_tone_only_when_audio_is_on(tmp_path: Path, codec: str) -> None:
    source = make_av(tmp_path / f"{codec}.av", codec)
    for audio in (True, False):
        with av.open(io.BytesIO(await live_ts(source, audio)), format="mpegts") as ts:
            assert len(ts.streams.video) == 1
            if not audio:
                assert not ts.streams.audio
                continue
            [track] = ts.streams.audio
            assert track.codec_context.name == "aac"
            pcm = [f.to_ndarray().mean(axis=0) for f in ts.decode(track)]
        samples = np.concatenate(pcm)
        rate = RATES[codec]
        assert len(samples) / rate > 3.0
        assert dominant_frequency(samples, rate) == pytest.approx(TONE_HZ, abs=15)
