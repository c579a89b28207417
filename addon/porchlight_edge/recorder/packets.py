"""Compressed video packets as the recorder keeps them, independent of any container.

A packet is copied out of PyAV into plain bytes plus timestamps, so the pre-roll
buffer owns its memory (no reference to a demuxer that may be closed or reused)
and its size is exactly accountable.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from .codecs import nal_type, parameter_set_types

_START = b"\x00\x00\x00\x01"
PACKET_OVERHEAD = 120
"""Approximate bytes of Python object overhead per buffered packet (for accounting)."""


@dataclass(frozen=True, slots=True)
class StreamParams:
    """What a muxer needs to write packets of one stream without decoding them."""

    codec: str
    width: int
    height: int
    time_base: Fraction
    extradata: bytes | None
    """avcC/hvcC (MP4 sources) or Annex-B parameter sets; None when they are in-band only."""

    @property
    def annexb(self) -> bool:
        """True when packets carry start codes (RTSP, raw H.264, our own encoder)."""
        return not self.extradata or self.extradata[0] != 1


@dataclass(frozen=True, slots=True)
class EncodedPacket:
    """One compressed video packet, owned (bytes), with its stream's parameters.

    `pts`/`dts` in `params.time_base` units.
    """

    data: bytes
    pts: int
    dts: int
    keyframe: bool
    wallclock: float
    """Capture time of the frame this packet arrived with (`time.time()` scale)."""
    params: StreamParams

    @property
    def cost(self) -> int:
        """Bytes of memory this packet holds, for the pre-roll budget."""
        return len(self.data) + PACKET_OVERHEAD


def fraction(value: Any) -> Fraction:
    """PyAV time bases (Fraction or AVRational-like) as a Fraction."""
    return Fraction(int(value.numerator), int(value.denominator))


def params_from_stream(stream: Any) -> StreamParams:
    """The `StreamParams` of a PyAV video stream (codec, size, time base, extradata)."""
    ctx = stream.codec_context
    extradata = bytes(ctx.extradata) if ctx.extradata else None
    return StreamParams(
        codec=str(ctx.name),
        width=int(ctx.width),
        height=int(ctx.height),
        time_base=fraction(stream.time_base),
        extradata=extradata,
    )


def split_annexb(data: bytes) -> list[bytes]:
    """NAL units of an Annex-B buffer (3- or 4-byte start codes), without start codes."""
    out: list[bytes] = []
    i, n = 0, len(data)
    start = -1
    while i + 3 <= n:
        if data[i] == 0 and data[i + 1] == 0 and data[i + 2] == 1:
            if start >= 0:
                end = i - 1 if i > 0 and data[i - 1] == 0 else i
                out.append(data[start:end])
            i += 3
            start = i
            continue
        i += 1
    if start >= 0 and start < n:
        out.append(data[start:])
    return [nal for nal in out if nal]


def annexb_parameter_sets(keyframe: bytes, codec: str = "h264") -> bytes | None:
    """Parameter sets of an Annex-B keyframe as Annex-B extradata, or None if any is absent.

    H.264: SPS and PPS; HEVC (`codec="hevc"`): VPS, SPS and PPS. The first of each kind
    counts (cameras send one set per keyframe).
    """
    wanted = parameter_set_types(codec)
    found: dict[int, bytes] = {}
    for nal in split_annexb(keyframe[:4096] if len(keyframe) > 4096 else keyframe):
        kind = nal_type(codec, nal)
        if kind in wanted and kind not in found:
            found[kind] = nal
    if any(kind not in found for kind in wanted):
        return None
    return b"".join(_START + found[kind] for kind in wanted)
