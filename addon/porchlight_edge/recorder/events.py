"""What the recorder and the clip store tell the service (called on the event loop)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any, TypedDict

if TYPE_CHECKING:
    from porchlight_edge.protocol import StorageReason

    from .retention import DeletionReason


class RecordingEventType(StrEnum):
    CLIP_STARTED = "clip_started"
    """data: `ClipStartedData`; the .part file exists with the pre-roll in it."""
    CLIP_FINISHED = "clip_finished"
    """data: `ClipFinishedData`."""
    CLIP_FAILED = "clip_failed"
    """data: `ClipFailedData`."""
    SNAPSHOT_READY = "snapshot_ready"
    """data: `SnapshotReadyData`."""
    STORAGE_STATUS = "storage_status"
    """data: `StorageStatusData`."""
    RETENTION_WARNING = "retention_warning"
    """data: `RetentionWarningData` (a *protected* clip the limits will delete)."""
    CLIP_DELETED = "clip_deleted"
    """data: `ClipDeletedData`."""


class TriggerEvent(TypedDict):
    """An event that asked for a clip (as the recorder indexes it)."""

    id: str
    seq: int | None
    kind: str
    time: float
    """Epoch seconds (camera clock)."""


class ClipStartedData(TypedDict):
    clip_id: str
    start: float | None
    """Wallclock of the clip's first frame (its pre-roll)."""
    mode: str
    events: list[TriggerEvent]


class ClipFinishedData(TypedDict):
    clip_id: str
    start: float
    end: float | None
    size: int
    """Bytes."""
    state: str
    """`ClipState`: complete, or partial when cut short."""
    events: list[str]
    """Ids of the clip's events."""


class ClipFailedData(TypedDict):
    clip_id: str | None
    """None when recording was paused and no clip started."""
    reason: str
    events: list[TriggerEvent]


class SnapshotReadyData(TypedDict):
    event_id: str
    kind: str
    snapshot: str
    """File name in the store's snapshot folder."""
    time: float
    clip_id: str | None


class StorageStatusData(TypedDict):
    recording: bool
    reason: StorageReason | None
    free_bytes: int
    """-1 when the disk cannot be asked."""


class RetentionWarningData(TypedDict):
    clip_id: str
    reason: DeletionReason
    delete_after: float
    """Epoch seconds: not deleted before this, and only if the limit still needs it then."""


class ClipDeletedData(TypedDict):
    clip_id: str
    reason: DeletionReason


@dataclass(frozen=True, slots=True)
class RecordingEvent:
    type: RecordingEventType
    camera: str | None
    data: Mapping[str, Any] = field(default_factory=dict)


type RecordingListener = Callable[[RecordingEvent], None]
