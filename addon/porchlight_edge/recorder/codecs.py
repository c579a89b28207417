"""Which camera codecs clips keep as they are, and how each is tagged in MP4.

H.264 and H.265 (HEVC) packets are remuxed into the clip untouched (passthrough):
no decoder-encoder round trip, no quality loss, almost no CPU. H.265 is tagged
`hvc1` (parameter sets in the sample entry's hvcC box), the one tag Safari and
Apple devices play; FFmpeg's default `hev1` they refuse. An owner whose browsers
cannot play H.265 converts it to H.264 instead (`recording.hevc: convert`).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Final


class VideoCodec(StrEnum):
    """FFmpeg decoder names of the codecs clips can pass through."""

    H264 = "h264"
    HEVC = "hevc"


class HevcRecording(StrEnum):
    """The `recording.hevc` option: what clips do with an H.265 camera stream."""

    PASSTHROUGH = "passthrough"
    """Remux the camera's packets, tagged `hvc1`."""
    CONVERT = "convert"
    """Re-encode to H.264 (plays everywhere, costs CPU)."""


SAMPLE_ENTRY: Final[dict[VideoCodec, str]] = {VideoCodec.H264: "avc1", VideoCodec.HEVC: "hvc1"}
"""MP4 sample entry (codec tag) per passthrough codec."""

# NAL unit types of the parameter sets, in the order they go into extradata.
_H264_SETS: Final = (7, 8)  # SPS, PPS
_HEVC_SETS: Final = (32, 33, 34)  # VPS, SPS, PPS


def passthrough_codecs(hevc: HevcRecording) -> frozenset[str]:
    """Codec names (`StreamParams.codec`) recorded by passthrough under the `hevc` option."""
    if hevc is HevcRecording.CONVERT:
        return frozenset({VideoCodec.H264})
    return frozenset({VideoCodec.H264, VideoCodec.HEVC})


def nal_type(codec: str, nal: bytes) -> int:
    """NAL unit type of one NAL unit (no start code) of `codec` (h264 or hevc)."""
    return (nal[0] >> 1) & 0x3F if codec == VideoCodec.HEVC else nal[0] & 0x1F


def parameter_set_types(codec: str) -> tuple[int, ...]:
    """NAL unit types a decoder needs before the first picture of `codec`, in order."""
    return _HEVC_SETS if codec == VideoCodec.HEVC else _H264_SETS


PASSTHROUGH_DEFAULT: Final = passthrough_codecs(HevcRecording.PASSTHROUGH)
"""The codecs passed through under the default options."""
