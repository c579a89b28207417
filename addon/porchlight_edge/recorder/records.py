"""The index's record types: clip states, events and clips as the API shows them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from porchlight_edge.protocol import ClipState

if TYPE_CHECKING:
    import sqlite3

    from porchlight_edge.protocol import ClipRecord as ClipPayload, EventRecord as EventPayload


@dataclass(frozen=True, slots=True)
class EventRecord:
    """One indexed event (ring, motion, manual); `time` in Unix seconds (camera clock)."""

    id: str
    seq: int | None
    kind: str
    camera: str
    time: float
    snapshot: str | None
    """Snapshot file name (inside the store's snapshot folder), None until written."""
    clip_id: str | None
    clip_state: ClipState | None = None
    """The state of its clip (None without one): `recording` while the clip is written."""

    def as_dict(self) -> EventPayload:
        """The wire shape (`protocol.EventRecord`)."""
        return {
            "id": self.id,
            "seq": self.seq,
            "kind": self.kind,
            "camera": self.camera,
            "time": self.time,
            "snapshot": self.snapshot,
            "clip_id": self.clip_id,
            "clip_state": None if self.clip_state is None else str(self.clip_state),
        }


@dataclass(frozen=True, slots=True)
class ClipRecord:
    """One indexed clip; `start`/`end` in Unix seconds (camera clock), `size` in bytes."""

    id: str
    camera: str
    start: float
    end: float | None
    path: str
    """File name inside the store's clip folder."""
    size: int
    protected: bool
    state: ClipState
    mode: str
    """"passthrough" or "encode" (how the footage was produced)."""
    reason: str | None
    events: tuple[EventRecord, ...] = field(default=())

    @property
    def duration(self) -> float | None:
        """Seconds from start to end; None while the end is unknown."""
        return None if self.end is None else max(0.0, self.end - self.start)

    def as_dict(self) -> ClipPayload:
        """The wire shape (`protocol.ClipRecord`)."""
        return {
            "id": self.id,
            "camera": self.camera,
            "start": self.start,
            "end": self.end,
            "duration": self.duration,
            "size": self.size,
            "protected": self.protected,
            "state": str(self.state),
            "mode": self.mode,
            "reason": self.reason,
            "events": [e.as_dict() for e in self.events],
        }


def event_from_row(row: sqlite3.Row) -> EventRecord:
    """The event of an `events` table row."""
    return EventRecord(
        id=row["id"],
        seq=row["seq"],
        kind=row["kind"],
        camera=row["camera"],
        time=row["time"],
        snapshot=row["snapshot"],
        clip_id=row["clip_id"],
        clip_state=ClipState(row["clip_state"]) if row["clip_state"] else None,
    )


def clip_from_row(row: sqlite3.Row, events: tuple[EventRecord, ...]) -> ClipRecord:
    """The clip of a `clips` table row, with its events."""
    return ClipRecord(
        id=row["id"],
        camera=row["camera"],
        start=row["start"],
        end=row["end"],
        path=row["path"],
        size=row["size"],
        protected=bool(row["protected"]),
        state=ClipState(row["state"]),
        mode=row["mode"],
        reason=row["reason"],
        events=events,
    )
