"""A recorder's settings, its modes and its error."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Final

from porchlight_edge.protocol import LIMITS, Setting

from .codecs import PASSTHROUGH_DEFAULT
from .encoder import EncodeSettings

MAX_PREROLL: Final = LIMITS[Setting.PRE_ROLL].high
"""Seconds of pre-roll a clip may ask for (the buffer holds this plus one GOP)."""
_POSTROLL: Final = LIMITS[Setting.POST_ROLL]


class RecordingMode(StrEnum):
    """How a camera's clips get their video."""

    PASSTHROUGH = "passthrough"
    """The camera's own packets, muxed without re-encoding."""
    ENCODE = "encode"
    """Decoded (e.g. masked) frames, re-encoded to H.264."""


class RecordingError(Exception):
    """A clip could not be recorded (message says why)."""


@dataclass(frozen=True, slots=True)
class RecorderSettings:
    """One camera's recording settings; ValueError when out of range.

    Seconds for every time, bytes for sizes; `preroll` and `postroll` within protocol.LIMITS.
    """

    preroll: float = 5.0
    postroll: float = 10.0
    max_clip_seconds: float = 600.0
    preroll_max_bytes: int = 48 * 1024 * 1024
    snapshot_window: float = 3.0
    """Motion snapshots: the frame with the largest motion within this many seconds."""
    snapshot_quality: int = 85
    snapshot_max_width: int | None = None
    stall_seconds: float = 3.0
    """Finish a clip this long after its end when the camera stops sending frames."""
    encode: EncodeSettings = field(default_factory=EncodeSettings)
    passthrough_codecs: frozenset[str] = PASSTHROUGH_DEFAULT
    """Codecs whose packets clips keep (others are re-encoded to H.264)."""
    audio: bool = False
    """Clips carry the camera's audio (AAC; other codecs converted). Off by default."""

    def __post_init__(self) -> None:
        if not 0.0 <= self.preroll <= MAX_PREROLL:
            raise ValueError(f"preroll must be 0-{MAX_PREROLL:g} seconds")
        # One limit for post-roll and for record_clip's seconds, both of which end here.
        if not _POSTROLL.low <= self.postroll <= _POSTROLL.high:
            raise ValueError(f"postroll must be {_POSTROLL.low:g}-{_POSTROLL.high:g} seconds")
        if self.max_clip_seconds <= 0:
            raise ValueError("max_clip_seconds must be positive")
