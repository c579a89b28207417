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
    """data: clip_id, events, start, mode; the .part file exists with the pre-roll in it."""
    CLIP_FINISHED = "clip_finished"
    """data: the clip record (`ClipRecord.as_dict()`)."""
    CLIP_FAILED = "clip_failed"
    """data: clip_id (None if never started), reason, events."""
    SNAPSHOT_READY = "snapshot_ready"
    """data: event_id, kind, snapshot (file name), time, clip_id."""
    STORAGE_STATUS = "storage_status"
    """data: `StorageStatusData`."""
    RETENTION_WARNING = "retention_warning"
    """data: `RetentionWarningData` (a *protected* clip the limits will delete)."""
    CLIP_DELETED = "clip_deleted"
    """data: `ClipDeletedData`."""


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
