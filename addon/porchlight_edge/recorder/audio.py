"""Camera audio in clips: packet copies for the pre-roll, and an AAC track in the MP4.

AAC passes through untouched. Other codecs cameras send (G.711 μ-law/A-law, Opus) have
no place in MP4 players' usual support, so they are decoded, resampled to planar float
and encoded to AAC at the source's sample rate.

Audio timestamps are placed on the clip's timeline in seconds: the demuxer gives every
track of one session the same clock, so `seconds(audio) - seconds(first video keyframe)`
keeps sound and picture aligned, pre-roll included.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
import io
import threading
from typing import TYPE_CHECKING, Any

import av
import numpy as np

from .packets import PACKET_OVERHEAD, fraction

if TYPE_CHECKING:
    from porchlight_edge.capture.frame import Frame

AAC = "aac"
AAC_FRAME_SAMPLES = 1024
"""Samples per AAC frame (the encoder takes exactly this many)."""
_template_lock = threading.Lock()
_templates: dict[tuple[int, int], Any] = {}


@dataclass(frozen=True, slots=True)
class AudioParams:
    """One audio track's codec parameters, enough to decode or mux its packets."""

    codec: str
    sample_rate: int
    channels: int
    time_base: Fraction
    extradata: bytes | None


@dataclass(frozen=True, slots=True)
class AudioPacket:
    """One compressed audio packet as owned bytes; `pts` in `params.time_base` units."""

    data: bytes
    pts: int
    wallclock: float
    """Capture time of the video frame this packet arrived with (`time.time()` scale)."""
    params: AudioParams
    keyframe: bool = False
    """Always False: audio never starts a pre-roll GOP."""

    @property
    def cost(self) -> int:
        """Bytes of memory this packet holds, for the pre-roll budget."""
        return len(self.data) + PACKET_OVERHEAD

    @property
    def seconds(self) -> float:
        """The packet's presentation time in seconds (the camera's clock)."""
        return float(self.pts * self.params.time_base)


def audio_params(stream: Any) -> AudioParams:
    """The parameters of a PyAV audio stream."""
    ctx = stream.codec_context
    return AudioParams(
        codec=str(ctx.name),
        sample_rate=int(ctx.sample_rate),
        channels=max(1, int(ctx.channels)),
        time_base=fraction(stream.time_base),
        extradata=bytes(ctx.extradata) if ctx.extradata else None,
    )


def copy_audio(frame: Frame) -> list[AudioPacket]:
    """`frame.audio` (PyAV packets) as owned copies; packets without timestamps are dropped."""
    out: list[AudioPacket] = []
    params: AudioParams | None = None
    for pkt in frame.audio:
        if not pkt.size or pkt.pts is None or pkt.stream is None:
            continue
        if params is None:
            params = audio_params(pkt.stream)
        out.append(AudioPacket(bytes(pkt), int(pkt.pts), frame.wallclock, params))
    return out


def aac_template(sample_rate: int, channels: int) -> Any:
    """An AAC stream to copy parameters from, so AAC packets pass through unencoded."""
    key = (sample_rate, channels)
    with _template_lock:
        if key not in _templates:
            buf = io.BytesIO()
            out = av.open(buf, "w", format="mp4")
            stream: Any = out.add_stream(AAC, rate=sample_rate)
            stream.layout = _layout(channels)
            out.start_encoding()
            silence = np.zeros((channels, AAC_FRAME_SAMPLES), np.float32)
            frame = av.AudioFrame.from_ndarray(silence, format="fltp", layout=_layout(channels))
            frame.sample_rate, frame.pts = sample_rate, 0
            for packet in [*stream.encode(frame), *stream.encode()]:
                out.mux(packet)
            out.close()
            buf.seek(0)
            _templates[key] = av.open(buf, "r").streams.audio[0]
        return _templates[key]


def _silence_like(frame: Any, samples: int) -> Any:
    """`samples` of silence in `frame`'s sample format, layout and rate."""
    pcm = frame.to_ndarray()
    per_row = pcm.shape[1] // max(1, frame.samples)  # interleaved channels in packed formats
    silence = av.AudioFrame.from_ndarray(
        np.zeros((pcm.shape[0], samples * per_row), pcm.dtype),
        format=frame.format.name,
        layout=frame.layout.name,
    )
    silence.sample_rate = frame.sample_rate
    return silence


def _layout(channels: int) -> str:
    return "mono" if channels == 1 else "stereo"


class AudioTrack:
    """The AAC track of one clip being written. Used from the writer's thread only.

    `add` must be called before the muxer writes its header; `write` then takes the
    camera's packets, with `base` the first video keyframe's time in seconds.
    """

    def __init__(self, out: Any, params: AudioParams) -> None:
        self.params = params
        channels = min(params.channels, 2)
        self._passthrough = params.codec == AAC and params.extradata is not None
        self.stream: Any
        if self._passthrough:
            self.stream = out.add_stream_from_template(aac_template(params.sample_rate, channels))
            self.stream.codec_context.extradata = params.extradata
            self.stream.time_base = Fraction(1, params.sample_rate)
            self._decoder: Any = None
            self._resampler: Any = None
        else:
            self.stream = out.add_stream(AAC, rate=params.sample_rate)
            self.stream.layout = _layout(channels)
            self._decoder = av.CodecContext.create(params.codec, "r")
            self._decoder.sample_rate = params.sample_rate
            self._decoder.layout = _layout(params.channels if params.channels <= 2 else 2)
            if params.extradata:
                self._decoder.extradata = params.extradata
            self._resampler = av.AudioResampler(
                format="fltp",
                layout=_layout(channels),
                rate=params.sample_rate,
                frame_size=AAC_FRAME_SAMPLES,
            )
        self._out = out
        self._last_pts: int | None = None
        self._next_sample: int | None = None
        self._origin = 0
        self._fed = 0  # samples decoded (and gaps filled) since the first packet
        self.packets = 0

    def write(self, packet: AudioPacket, base: float) -> None:
        """Mux (or transcode and mux) `packet`; audio from before `base` is skipped."""
        if packet.params != self.params:
            return  # another track (reconnect with new parameters): not this header's
        offset = packet.seconds - base
        if offset < 0:
            return
        if self._passthrough:
            pts = round(offset * self.params.sample_rate)
            if self._last_pts is not None and pts <= self._last_pts:
                return
            pkt = av.Packet(packet.data)
            pkt.pts = pkt.dts = pts
            pkt.time_base = Fraction(1, self.params.sample_rate)
            pkt.stream = self.stream
            self._out.mux(pkt)
            self._last_pts = pts
            self.packets += 1
            return
        at = round(offset * self.params.sample_rate)
        if self._next_sample is None:
            self._next_sample = self._origin = at
        heard = self._origin + self._fed  # where this packet lands if nothing was lost
        if at < heard - AAC_FRAME_SAMPLES:
            return  # already written (a repeated packet)
        # Lost packets (a network hiccup): silence of their length keeps later sound in sync.
        gap = at - heard if at > heard + AAC_FRAME_SAMPLES else 0
        for decoded in self._decoder.decode(av.Packet(packet.data)):
            decoded.pts = None
            if gap:
                self._feed(_silence_like(decoded, gap))
                gap = 0
            self._feed(decoded)

    def _feed(self, decoded: Any) -> None:
        self._fed += decoded.samples
        for frame in self._resampler.resample(decoded):
            self._encode(frame)

    def _encode(self, frame: Any) -> None:
        assert self._next_sample is not None
        frame.pts = self._next_sample
        frame.time_base = Fraction(1, self.params.sample_rate)
        self._next_sample += frame.samples
        self._mux_encoded(self.stream.encode(frame))

    def _mux_encoded(self, packets: list[Any]) -> None:
        for pkt in packets:
            # The encoder's priming packet (negative pts) would push the track late: a
            # fragmented MP4 has no edit list to skip it, so the muxer shifts it to 0.
            if pkt.pts is not None and pkt.pts < 0:
                continue
            self._out.mux(pkt)
            self.packets += 1

    def flush(self) -> None:
        """Encode what the resampler and encoder still hold (before the trailer)."""
        if self._passthrough or self._next_sample is None:
            return
        for frame in self._resampler.resample(None):
            self._encode(frame)
        self._mux_encoded(self.stream.encode(None))
