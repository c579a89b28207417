"""Generated footage with sound: H.264 video plus a pure tone in a chosen audio codec.

The tone's frequency is the audio's fingerprint: a clip that carries the camera's
sound has the same dominant frequency (`dominant_frequency`), whatever codec it was
converted through.
"""

from __future__ import annotations

from fractions import Fraction
from typing import TYPE_CHECKING, Any

import av
import numpy as np

if TYPE_CHECKING:
    from pathlib import Path

TONE_HZ = 700.0
RATES = {"aac": 16000, "pcm_mulaw": 8000, "pcm_alaw": 8000, "libopus": 48000}
"""Sample rate each codec is generated at (G.711 is 8 kHz by definition, Opus 48 kHz)."""
_CONTAINERS = {"pcm_mulaw": "mov", "pcm_alaw": "mov"}
"""Matroska has no G.711 mapping; QuickTime does (`ulaw`, `alaw`)."""


PATCH = 32
"""Side of the top-left square that carries the frame number."""
GAP = (5.0, 5.5)
"""Seconds of source time where the tone pauses: a landmark to check lip-sync by."""


def tone(samples: int, rate: int, start: int = 0, hz: float = TONE_HZ) -> Any:
    """The tone from sample `start` on, silent within `GAP`."""
    t = (np.arange(samples) + start) / rate
    wave = 0.5 * np.sin(2 * np.pi * hz * t)
    wave[(t >= GAP[0]) & (t < GAP[1])] = 0.0
    return wave.astype(np.float32)


def silence_start(samples: Any, rate: int, window: float = 0.01, least: float = 0.2) -> float:
    """Seconds into `samples` where the first silence of at least `least` s begins.

    Silence is RMS < 0.05 over `window`-long windows; shorter quiet spells (an AAC
    encoder's priming frame) do not count.
    """
    size = max(1, int(rate * window))
    count = len(samples) // size
    rms = np.sqrt(np.mean(samples[: count * size].reshape(count, size) ** 2, axis=1))
    need = round(least / window)
    run = 0
    for i, quiet in enumerate(rms < 0.05):
        run = run + 1 if quiet else 0
        if run == need:
            return float((i - need + 1) * size / rate)
    raise AssertionError("no silence in the audio")


def make_av(path: Path, codec: str, *, seconds: float = 7.0, fps: int = 15, gop: int = 15) -> Path:
    """A file of 320x240 H.264 (moving block) and a `TONE_HZ` tone in `codec`.

    Frame `i` shows its number as the grey level of the top-left patch (`frame_number`),
    so a clip's frames map back to the time they were generated at, the audio's clock.
    """
    rate = RATES[codec]
    out = av.open(str(path), "w", format=_CONTAINERS.get(codec, "matroska"))
    video: Any = out.add_stream("libx264", rate=fps)
    video.width, video.height, video.pix_fmt = 320, 240, "yuv420p"
    video.codec_context.gop_size = gop
    video.codec_context.options = {"bframes": "0"}
    audio: Any = out.add_stream(codec, rate=rate)
    audio.layout = "mono"
    out.start_encoding()
    fmt = audio.codec_context.format.name
    chunk = audio.codec_context.frame_size or 160
    resampler = av.AudioResampler(format=fmt, layout="mono", rate=rate, frame_size=chunk)
    total_frames, total_samples = int(seconds * fps), int(seconds * rate)
    assert 16 + 2 * total_frames <= 255, "frame numbers must fit the patch's grey levels"
    sent = 0
    for i in range(total_frames):
        img = np.full((360, 320), 128, np.uint8)
        x = (i * 8) % 280
        img[40:120, x : x + 40] = 235
        img[:PATCH, :PATCH] = 16 + 2 * i
        frame = av.VideoFrame.from_ndarray(img, format="yuv420p")
        frame.pts, frame.time_base = i, Fraction(1, fps)
        for packet in video.encode(frame):
            out.mux(packet)
        until = min(total_samples, round((i + 1) * rate / fps))
        if until > sent:
            pcm = av.AudioFrame.from_ndarray(tone(until - sent, rate, sent)[None, :], "flt", "mono")
            pcm.sample_rate, pcm.pts = rate, sent
            sent = until
            for chunked in resampler.resample(pcm):
                for packet in audio.encode(chunked):
                    out.mux(packet)
    for chunked in resampler.resample(None):
        for packet in audio.encode(chunked):
            out.mux(packet)
    for stream in (video, audio):
        for packet in stream.encode(None):
            out.mux(packet)
    out.close()
    return path


def frame_number(luma: Any) -> int:
    """The number `make_av` drew into a decoded frame's (H, W) luma plane."""
    return round((float(luma[4 : PATCH - 4, 4 : PATCH - 4].mean()) - 16) / 2)


def decoded_audio(path: Path) -> tuple[Any, int, str, float]:
    """(mono float samples, sample rate, codec, start seconds) of `path`'s first audio track.

    Samples sit where their frames' timestamps put them (gaps left silent), so sample
    `i` plays at `start + i / rate`.
    """
    with av.open(str(path)) as container:
        stream = container.streams.audio[0]
        codec = str(stream.codec_context.name)
        rate = int(stream.codec_context.sample_rate)
        placed: list[tuple[float, Any]] = [
            (float(frame.time or 0.0), frame.to_ndarray().astype(np.float32).mean(axis=0))
            for frame in container.decode(stream)
        ]
    if not placed:
        return np.zeros(0, np.float32), rate, codec, 0.0
    start = placed[0][0]
    end = max(round((t - start) * rate) + len(pcm) for t, pcm in placed)
    samples = np.zeros(end, np.float32)
    for t, pcm in placed:
        at = round((t - start) * rate)
        samples[at : at + len(pcm)] = pcm
    return samples, rate, codec, start


def dominant_frequency(samples: Any, rate: int) -> float:
    """Frequency in Hz of the strongest bin of the windowed spectrum."""
    spectrum = np.abs(np.fft.rfft(samples * np.hanning(len(samples))))
    spectrum[0] = 0.0
    return float(np.fft.rfftfreq(len(samples), 1.0 / rate)[int(np.argmax(spectrum))])
