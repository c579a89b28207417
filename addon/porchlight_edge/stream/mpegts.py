"""Mux compressed packets into MPEG-TS bytes for one live viewer (no decoding).

PyAV's `mpegts` muxer writes into a Python sink; each `mux` returns the bytes
it produced, ready for the HTTP response. Timestamps are moved onto the viewer's
own 90 kHz timeline, continuous across source changes (reconnect, encoder
restart) and clock jumps of the camera, because a TS reader (HA's `stream`,
go2rtc) needs rising DTS without gaps that did not happen. MPEG-TS
carries H.264 parameter sets in-band, so a size change within Annex-B H.264
continues in the same stream; a change of codec or bitstream format ends it
(`StreamChanged`) and the reader reconnects.

One output stream per track: video, and with `audio` an AAC track added before the
header is written (G.711 and Opus converted, see `recorder.audio.AudioTrack`), placed
on the video's timeline so sound and picture stay together.
"""

from __future__ import annotations

import contextlib
from fractions import Fraction
from typing import TYPE_CHECKING, Any

import av

from porchlight_edge.recorder.audio import AudioTrack
from porchlight_edge.recorder.writer import h264_template

if TYPE_CHECKING:
    from porchlight_edge.recorder.audio import AudioPacket, AudioParams
    from porchlight_edge.recorder.packets import EncodedPacket, StreamParams

TS_TIME_BASE = Fraction(1, 90000)
_GAP = Fraction(1, 30)
"""Seconds between the last packet before a source change and the first after it."""
MAX_CLOCK_JUMP = 2.0
"""Seconds by which the source's clock may run ahead of the wall clock between two
packets before it counts as a jump (cameras whose RTP clock leaps forward)."""


class StreamChanged(Exception):
    """The source's codec or bitstream format changed: this TS stream cannot continue."""


class _Sink:
    """File-like object PyAV writes into; `take` hands out what was written so far."""

    def __init__(self) -> None:
        self._chunks: list[bytes] = []

    def write(self, data: bytes) -> int:
        self._chunks.append(bytes(data))
        return len(data)

    def take(self) -> bytes:
        out, self._chunks = b"".join(self._chunks), []
        return out


class TsMuxer:
    """One viewer's transport stream. The first packet must be a keyframe."""

    def __init__(self, video: StreamParams, audio: AudioParams | None = None) -> None:
        self._sink = _Sink()
        self._out: Any = av.open(self._sink, "w", format="mpegts")
        stream = self._out.add_stream_from_template(h264_template())
        ctx = stream.codec_context
        ctx.width, ctx.height = video.width, video.height
        # avcC extradata makes the muxer convert to Annex-B (h264_mp4toannexb); Annex-B
        # extradata is inserted before keyframes that lack in-band SPS/PPS.
        ctx.extradata = video.extradata
        stream.time_base = TS_TIME_BASE
        self._stream = stream
        self._audio = AudioTrack(self._out, audio) if audio is not None else None
        self._format = (video.codec, video.annexb)
        self._params: StreamParams | None = None
        self._origin_in = Fraction(0)
        self._origin_out = Fraction(0)
        self._last_dts_in: int | None = None
        self._last_wallclock = 0.0
        self._last_dts_out = -1
        self.packets = 0

    def _retime(self, packet: EncodedPacket) -> tuple[int, int]:
        tb = packet.params.time_base
        last = self._last_dts_in
        if (
            self._params is None
            or last is None
            or packet.params != self._params
            or packet.dts < last
            or (packet.dts - last) * tb - (packet.wallclock - self._last_wallclock) > MAX_CLOCK_JUMP
        ):
            # A new source timeline: continue ours just after the last packet.
            self._origin_in = packet.dts * tb
            self._origin_out = (
                Fraction(0) if self._params is None else self._last_dts_out * TS_TIME_BASE + _GAP
            )
            self._params = packet.params
        self._last_dts_in, self._last_wallclock = packet.dts, packet.wallclock
        dts = round((packet.dts * tb - self._origin_in + self._origin_out) / TS_TIME_BASE)
        dts = max(dts, self._last_dts_out + 1)
        pts = dts + max(0, round((packet.pts - packet.dts) * tb / TS_TIME_BASE))
        self._last_dts_out = dts
        return pts, dts

    def mux(self, packet: EncodedPacket) -> bytes:
        """Write one packet; returns the TS bytes produced (may be empty)."""
        if (packet.params.codec, packet.params.annexb) != self._format:
            raise StreamChanged(f"the camera's stream changed to {packet.params.codec}")
        pts, dts = self._retime(packet)
        out = av.Packet(packet.data)
        out.pts, out.dts, out.time_base = pts, dts, TS_TIME_BASE
        out.is_keyframe = packet.keyframe
        out.stream = self._stream
        self._out.mux(out)
        self.packets += 1
        return self._sink.take()

    def mux_audio(self, packet: AudioPacket) -> bytes:
        """Write one audio packet at its place on the video's timeline; returns TS bytes.

        Dropped before the first video packet and when the muxer has no audio track.
        """
        if self._audio is None or self._params is None:
            return b""
        self._audio.write(packet, float(self._origin_in - self._origin_out))
        return self._sink.take()

    def close(self) -> bytes:
        """Finish the stream; returns the last bytes."""
        with contextlib.suppress(av.FFmpegError, OSError):
            self._out.close()
        return self._sink.take()
