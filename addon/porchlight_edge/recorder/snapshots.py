"""Which frame becomes an event's snapshot (loop side; the worker writes the JPEG).

A ring or manual event takes the first frame at or after its time (until that comes,
the latest before). A motion event takes the frame with the largest motion area within
`snapshot_window` seconds. Rings and manual events within the window of an earlier one
share its JPEG (a visitor ringing ten times is one picture). Picks live on the loop only;
the worker receives immutable `WriteSnapshot` / `LinkSnapshot` jobs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from porchlight_edge.protocol import EventKind

from .ids import new_id
from .jobs import LinkSnapshot, SnapshotEvent, WriteSnapshot

if TYPE_CHECKING:
    from collections.abc import Callable

    from porchlight_edge.capture.frame import Frame

    from .jobs import Job
    from .settings import RecorderSettings

RING_SNAPSHOT_WAIT = 1.0
"""Seconds a ring/manual pick waits for a frame at or after its time."""


@dataclass(slots=True)
class _Pick:
    event: SnapshotEvent
    deadline: float
    seq: int | None = None
    frame: Frame | None = None
    area: float = -1.0
    name: str = field(default_factory=lambda: f"{new_id()}.jpg")
    followers: list[SnapshotEvent] = field(default_factory=list)
    """Events of the same burst, until the pick is submitted."""
    submitted: bool = False


class SnapshotPicker:
    """Picks snapshot frames for events and hands the writes to the worker (`submit`).

    `paused()` says whether storage is paused (then no JPEG is written).
    """

    def __init__(
        self,
        settings: RecorderSettings,
        submit: Callable[[Job], None],
        paused: Callable[[], bool],
    ) -> None:
        self.settings = settings
        self._submit = submit
        self._paused = paused
        self._picks: list[_Pick] = []
        self._burst: _Pick | None = None
        """The last ring/manual pick: events within `snapshot_window` of it share it."""

    @property
    def waiting(self) -> bool:
        """True while some event still waits for its frame."""
        return bool(self._picks)

    def want(self, event: SnapshotEvent, seq: int | None, last: Frame | None) -> None:
        """`event` wants a snapshot; `last` is the latest frame (a ring may take it)."""
        if self._join_burst(event):
            return
        motion = event.kind == EventKind.MOTION
        wait = self.settings.snapshot_window if motion else RING_SNAPSHOT_WAIT
        pick = _Pick(event, event.at + wait, seq=seq)
        self._picks.append(pick)
        if not motion:
            self._burst = pick
            if last is not None:
                self.consider(last, None)

    def now(self, event: SnapshotEvent, frame: Frame) -> None:
        """Snapshot `frame` for `event` right away (or share its burst's)."""
        if self._join_burst(event):
            return
        pick = _Pick(event, event.at, frame=frame)
        self._burst = pick
        self._take(pick)

    def consider(self, frame: Frame, motion_area: float | None) -> None:
        """A new frame (on the loop); `motion_area` 0-1 of the zones, None when unknown."""
        for pick in list(self._picks):
            if pick.event.kind == EventKind.MOTION:
                area = motion_area or 0.0
                if frame.wallclock >= pick.event.at - 1.0 and area > pick.area:
                    pick.frame, pick.area = frame, area
                if frame.wallclock >= pick.deadline:
                    self._take(pick)
            else:
                # The ring frame: the first one at or after the press (the visitor at the
                # door, at most one frame interval away); until it comes, the latest before.
                pick.frame = frame
                if frame.wallclock >= pick.event.at:
                    self._take(pick)

    def overdue(self, now: float) -> None:
        """Take picks whose deadline passed `stall_seconds` ago (camera time `now`)."""
        for pick in list(self._picks):
            if now > pick.deadline + self.settings.stall_seconds:
                self._take(pick)

    def forget_frames(self) -> None:
        """Privacy masks changed: no frame from before now is written or linked later.

        Waiting picks wait on for a new frame; a later ring starts a burst of its own.
        """
        for pick in self._picks:
            pick.frame, pick.area = None, -1.0
        self._burst = None

    def flush(self) -> None:
        """Take every waiting pick with the frame it has (at stop)."""
        for pick in list(self._picks):
            self._take(pick)
        self._picks.clear()

    def _join_burst(self, event: SnapshotEvent) -> bool:
        leader = self._burst
        if event.kind == EventKind.MOTION or leader is None:
            return False
        if abs(event.at - leader.event.at) > self.settings.snapshot_window:
            return False
        if leader.submitted:
            self._submit(LinkSnapshot(leader.name, event))
        else:
            leader.followers.append(event)
        return True

    def _take(self, pick: _Pick) -> None:
        if pick in self._picks:
            self._picks.remove(pick)
        frame = pick.frame
        if frame is None or self._paused():
            if self._burst is pick:
                self._burst = None  # no picture: the next event starts a burst of its own
            return
        pick.submitted = True  # later events of its burst link to the file instead
        pick.frame = None
        settings = self.settings
        self._submit(
            WriteSnapshot(
                pick.name,
                pick.event,
                pick.seq,
                frame,
                tuple(pick.followers),
                settings.snapshot_quality,
                settings.snapshot_max_width,
            )
        )
