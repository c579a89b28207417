"""What the recorder and the clip store tell the service (called on the event loop)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


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
    """data: recording (bool), reason (None | "disk_full" | "low_space"), free_bytes."""
    RETENTION_WARNING = "retention_warning"
    """data: clip record of a *protected* clip about to be deleted, reason."""
    CLIP_DELETED = "clip_deleted"
    """data: clip_id, reason ("max_age" | "max_size" | "min_free" | "user")."""


@dataclass(frozen=True, slots=True)
class RecordingEvent:
    type: RecordingEventType
    camera: str | None
    data: dict[str, Any] = field(default_factory=dict)


type RecordingListener = Callable[[RecordingEvent], None]
