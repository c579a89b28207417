"""The recorder's jobs: what the loop submits to its worker thread (immutable).

recorder.py and snapshots.py build them on the loop; worker.py runs them in order.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import threading

    from porchlight_edge.capture.frame import Frame

    from .audio import AudioPacket, AudioParams
    from .notices import TriggerEvent
    from .packets import EncodedPacket


# --- jobs (loop -> worker) -------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class IndexEvent:
    """Index an event (with its clip, or none)."""

    event: TriggerEvent
    clip_id: str | None


@dataclass(frozen=True, slots=True)
class OpenClip:
    """Index a new clip, open its .part file and write its pre-roll."""

    clip_id: str
    trigger_at: float
    """Unix seconds (camera clock) of the trigger."""
    mode: str
    events: tuple[TriggerEvent, ...]
    packets: list[EncodedPacket | AudioPacket]
    failed: threading.Event
    audio: AudioParams | None = None
    """The audio track the clip's header gets; None for video only."""


@dataclass(frozen=True, slots=True)
class JoinClip:
    """An event joins a clip being recorded: index it with the clip."""

    clip_id: str
    event: TriggerEvent


@dataclass(frozen=True, slots=True)
class WritePackets:
    """Append packets to a clip."""

    clip_id: str
    packets: list[EncodedPacket | AudioPacket]


@dataclass(frozen=True, slots=True)
class CloseClip:
    """Finish a clip: complete when `reason` is None, else partial with `reason`."""

    clip_id: str
    reason: str | None


@dataclass(frozen=True, slots=True)
class SnapshotEvent:
    """An event that gets a snapshot (its own JPEG, or its burst's)."""

    event_id: str
    kind: str
    at: float
    clip_id: str | None


@dataclass(frozen=True, slots=True)
class WriteSnapshot:
    """Encode `frame` as `name` in the snapshot folder, for `event` and its followers."""

    name: str
    event: SnapshotEvent
    seq: int | None
    frame: Frame
    followers: tuple[SnapshotEvent, ...]
    quality: int
    max_width: int | None


@dataclass(frozen=True, slots=True)
class LinkSnapshot:
    """Give `event` the JPEG `name` its burst already wrote (nothing if that failed)."""

    name: str
    event: SnapshotEvent


type Job = (
    IndexEvent | OpenClip | JoinClip | WritePackets | CloseClip | WriteSnapshot | LinkSnapshot
)
