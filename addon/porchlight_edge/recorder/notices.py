"""Notices from the recorder and the clip store to the service (delivered on the loop).

Not the event bus (porchlight_edge/events.py): these are internal, one typed class per
kind, so the service's translation into protocol events is checked by mypy and a
recorder change cannot silently change the wire.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, ClassVar, TypedDict

if TYPE_CHECKING:
    from porchlight_edge.protocol import StorageReason

    from .retention import DeletionReason


class NoticeType(StrEnum):
    """The kinds of notice; each has its class below with `type` set to it."""

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
    """Data of `ClipStarted`; `start` in Unix seconds (camera clock), `mode` a RecordingMode."""

    clip_id: str
    start: float | None
    """Wallclock of the clip's first frame (its pre-roll)."""
    mode: str
    events: list[TriggerEvent]


class ClipFinishedData(TypedDict):
    """Data of `ClipFinished`; times in Unix seconds (camera clock)."""

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
    """Data of `ClipFailed`: why, and the events that wanted the clip."""

    clip_id: str | None
    """None when recording was paused and no clip started."""
    reason: str
    events: list[TriggerEvent]


class SnapshotReadyData(TypedDict):
    """Data of `SnapshotReady`; `time` in Unix seconds (camera clock)."""

    event_id: str
    kind: str
    snapshot: str
    """File name in the store's snapshot folder."""
    time: float
    clip_id: str | None


class StorageStatusData(TypedDict):
    """Data of `StorageChanged`: whether clips are recorded, and why not."""

    recording: bool
    reason: StorageReason | None
    free_bytes: int
    """-1 when the disk cannot be asked."""


class RetentionWarningData(TypedDict):
    """Data of `RetentionWarning`."""

    clip_id: str
    reason: DeletionReason
    delete_after: float
    """Epoch seconds: not deleted before this, and only if the limit still needs it then."""


class ClipDeletedData(TypedDict):
    """Data of `ClipDeleted`."""

    clip_id: str
    reason: DeletionReason


@dataclass(frozen=True, slots=True)
class ClipStarted:
    """A clip's .part file exists with its pre-roll."""

    camera: str
    data: ClipStartedData
    type: ClassVar[NoticeType] = NoticeType.CLIP_STARTED


@dataclass(frozen=True, slots=True)
class ClipFinished:
    """A clip is closed and indexed (complete or partial)."""

    camera: str
    data: ClipFinishedData
    type: ClassVar[NoticeType] = NoticeType.CLIP_FINISHED


@dataclass(frozen=True, slots=True)
class ClipFailed:
    """A clip could not be written, or none started (recording paused)."""

    camera: str
    data: ClipFailedData
    type: ClassVar[NoticeType] = NoticeType.CLIP_FAILED


@dataclass(frozen=True, slots=True)
class SnapshotReady:
    """An event's snapshot JPEG is written and indexed."""

    camera: str
    data: SnapshotReadyData
    type: ClassVar[NoticeType] = NoticeType.SNAPSHOT_READY


@dataclass(frozen=True, slots=True)
class StorageChanged:
    """Recording paused or resumed for lack of space (store-wide: camera is None)."""

    camera: None
    data: StorageStatusData
    type: ClassVar[NoticeType] = NoticeType.STORAGE_STATUS


@dataclass(frozen=True, slots=True)
class RetentionWarning:
    """A protected clip the retention limits will delete after a grace period."""

    camera: str
    data: RetentionWarningData
    type: ClassVar[NoticeType] = NoticeType.RETENTION_WARNING


@dataclass(frozen=True, slots=True)
class ClipDeleted:
    """A clip was deleted (by a user or retention)."""

    camera: str
    data: ClipDeletedData
    type: ClassVar[NoticeType] = NoticeType.CLIP_DELETED


type RecordingNotice = (
    ClipStarted
    | ClipFinished
    | ClipFailed
    | SnapshotReady
    | StorageChanged
    | RetentionWarning
    | ClipDeleted
)
"""Any notice; match on its class."""

type NoticeListener = Callable[[RecordingNotice], None]
