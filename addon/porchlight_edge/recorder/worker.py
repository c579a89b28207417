"""The recorder's worker thread: clip files, the index and snapshot JPEGs, in order.

The thread boundary is one explicit queue. The loop side (recorder.py, snapshots.py)
only `submit`s immutable jobs (jobs.py); the worker owns every `ClipWriter` and all it learns
about a clip (started, announced, failed, its events). What the loop needs back is
posted to it as a `ClipOutcome` (via `loop.call_soon_threadsafe`, by `post`). The one
other signal is each clip's `failed` threading.Event: set here, only read on the loop.
Each job carries the event journal's ticket at its submission and waits for it first, so
the journal's rows of announced events are always written before the worker's.
Notices to the service go through `ClipStore.emit`, which is thread-safe.
"""

from __future__ import annotations

from dataclasses import dataclass, field
import logging
import queue
import sqlite3
import threading
from typing import TYPE_CHECKING, Final

from porchlight_edge.capture.frame import encode_jpeg
from porchlight_edge.diskfull import is_disk_full

from .cut import finish_cut_clip
from .index import ClipRecord, ClipState
from .jobs import (
    CloseClip,
    IndexEvent,
    Job,
    JoinClip,
    LinkSnapshot,
    OpenClip,
    SnapshotEvent,
    WritePackets,
    WriteSnapshot,
)
from .notices import (
    ClipFailed,
    ClipFailedData,
    ClipFinished,
    ClipFinishedData,
    ClipStarted,
    ClipStartedData,
    SnapshotReady,
    SnapshotReadyData,
    TriggerEvent,
)
from .settings import RecordingError
from .snapshot import with_comment, write_atomic
from .writer import ClipWriter, WriteError, replace_durably

if TYPE_CHECKING:
    from collections.abc import Callable

    from .audio import AudioPacket
    from .packets import EncodedPacket
    from .storage import ClipStore

_LOGGER = logging.getLogger(__name__)


# --- results (worker -> loop) ----------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class ClipOutcome:
    """How a clip ended: its record, or the error that ended it."""

    clip_id: str
    record: ClipRecord | None
    error: RecordingError | None


@dataclass(slots=True)
class _Segment:
    """A clip as the worker knows it (worker thread only)."""

    id: str
    trigger_at: float
    mode: str
    failed: threading.Event
    events: list[TriggerEvent] = field(default_factory=list)
    writer: ClipWriter | None = None
    announced: bool = False


_STOP: Final = None


class RecorderWorker:
    """One thread per camera running `Job`s in submission order.

    `post(outcome)` is called from the worker thread for every finished or failed clip;
    it must hand the outcome to the loop itself.
    """

    def __init__(self, camera: str, store: ClipStore, post: Callable[[ClipOutcome], None]) -> None:
        self.camera = camera
        self.store = store
        self._post = post
        self._queue: queue.SimpleQueue[tuple[int, Job] | None] = queue.SimpleQueue()
        self._segments: dict[str, _Segment] = {}
        self._thread = threading.Thread(target=self._run, name=f"recorder-{camera}", daemon=True)

    def submit(self, job: Job) -> None:
        """Queue `job` (loop thread); the thread starts with the first job.

        It runs after the journal wrote every event announced before it.
        """
        if not self._thread.is_alive() and self._thread.ident is None:
            self._thread.start()
        self._queue.put((self.store.journal.ticket, job))

    def close(self) -> None:
        """Run every queued job, then end the thread. Blocking: call it in a thread."""
        if self._thread.ident is None:
            return
        self._queue.put(_STOP)
        self._thread.join()

    def _run(self) -> None:
        while (item := self._queue.get()) is not _STOP:
            ticket, job = item
            try:
                if not self.store.journal.wait(ticket, writer=True):
                    _LOGGER.warning("%s: the event journal is slow; going on", self.camera)
                self._do(job)
            except Exception as err:
                _LOGGER.exception("%s: recorder job failed", self.camera)
                # A clip whose job broke ends here, finished in the index like any cut clip.
                clip_id = getattr(job, "clip_id", None)
                clip = self._segments.get(clip_id) if isinstance(clip_id, str) else None
                if clip is not None:
                    self._fail(clip, err)

    def _do(self, job: Job) -> None:
        match job:
            case IndexEvent(event, clip_id):
                self._index_event(event, clip_id)
            case OpenClip():
                self._open_clip(job)
            case JoinClip(clip_id, event):
                segment = self._segments.get(clip_id)
                if segment is not None:
                    segment.events.append(event)
                self._index_event(event, clip_id)
            case WritePackets(clip_id, packets):
                self._write_packets(clip_id, packets)
            case CloseClip(clip_id, reason):
                self._close_clip(clip_id, reason)
            case WriteSnapshot():
                self._write_snapshot(job)
            case LinkSnapshot(name, event):
                self._link_snapshot(name, event)

    # --- clips -----------------------------------------------------------------------------
    def _index_event(self, event: TriggerEvent, clip_id: str | None) -> None:
        try:
            self.store.index.add_event(
                event["id"],
                seq=event["seq"],
                kind=event["kind"],
                camera=self.camera,
                time=event["time"],
                clip_id=clip_id,
            )
        except sqlite3.Error as err:
            _LOGGER.warning("%s: cannot index event %s: %s", self.camera, event["id"], err)
            if is_disk_full(err):
                self.store.report_disk_full()

    def _open_clip(self, job: OpenClip) -> None:
        store = self.store
        clip = _Segment(job.clip_id, job.trigger_at, job.mode, job.failed, list(job.events))
        self._segments[clip.id] = clip
        try:
            store.index.add_clip(
                clip.id, self.camera, clip.trigger_at, store.clip_path(clip.id).name, clip.mode
            )
            for event in clip.events:
                self._index_event(event, clip.id)
            # The events go into the file too: a lost index is rebuilt from the clips.
            meta = {"clip_id": clip.id, "camera": self.camera, "mode": clip.mode}
            clip.writer = ClipWriter(
                store.part_path(clip.id), {**meta, "events": list(clip.events)}, job.audio
            )
            for pkt in job.packets:
                clip.writer.write(pkt)
        except (WriteError, sqlite3.Error, OSError) as err:
            self._fail(clip, err)
            return
        self._announce(clip)

    def _announce(self, clip: _Segment) -> None:
        """clip_started, once the file exists with its first keyframe (and pre-roll) in it."""
        if clip.announced or clip.writer is None or not clip.writer.started:
            return
        clip.announced = True
        data: ClipStartedData = {
            "clip_id": clip.id,
            "start": clip.writer.first_wallclock,
            "mode": clip.mode,
            "events": list(clip.events),
        }
        self.store.emit(ClipStarted(self.camera, data))

    def _write_packets(self, clip_id: str, packets: list[EncodedPacket | AudioPacket]) -> None:
        clip = self._segments.get(clip_id)
        if clip is None or clip.failed.is_set() or clip.writer is None:
            return
        try:
            for pkt in packets:
                clip.writer.write(pkt)
        except WriteError as err:
            self._fail(clip, err)
            return
        self._announce(clip)

    def _close_clip(self, clip_id: str, reason: str | None) -> None:
        store = self.store
        clip = self._segments.get(clip_id)
        if clip is None:
            return
        try:
            if clip.failed.is_set() or clip.writer is None:
                return
            writer = clip.writer
            if not writer.started:
                self._fail(clip, RecordingError("no video arrived for the clip"))
                return
            try:
                writer.close()
                final = store.clip_path(clip.id)
                replace_durably(writer.part, final)
                start = writer.first_wallclock or clip.trigger_at
                end = writer.last_wallclock or start
                state = ClipState.COMPLETE if reason is None else ClipState.PARTIAL
                store.index.finish_clip(
                    clip.id,
                    start=start,
                    end=end,
                    path=final.name,
                    size=final.stat().st_size,
                    state=state,
                    reason=reason,
                )
                record = store.index.get_clip(clip.id)
            except Exception as err:  # whatever broke, the clip ends as a cut one
                self._fail(clip, err)
                return
            assert record is not None
            self._emit_finished(record)
            self._post(ClipOutcome(clip.id, record, None))
        finally:
            self._segments.pop(clip.id, None)
            store.unregister_active(clip.id)

    def _emit_finished(self, record: ClipRecord) -> None:
        finished: ClipFinishedData = {
            "clip_id": record.id,
            "start": record.start,
            "end": record.end,
            "size": record.size,
            "state": str(record.state),
            "events": [e.id for e in record.events],
        }
        self.store.emit(ClipFinished(self.camera, finished))

    def _fail(self, clip: _Segment, err: BaseException) -> None:
        """End a clip that cannot go on: its whole fragments are kept as a partial clip now."""
        clip.failed.set()
        self._segments.pop(clip.id, None)
        enospc = (isinstance(err, WriteError) and err.enospc) or is_disk_full(err)
        start = None
        if clip.writer is not None:
            clip.writer.abort()
            start = clip.writer.first_wallclock
        _LOGGER.warning("%s: clip %s failed: %s", self.camera, clip.id, err)
        if enospc:
            self.store.report_disk_full()
        reason = "disk full" if enospc else str(err)
        data: ClipFailedData = {"clip_id": clip.id, "reason": reason, "events": list(clip.events)}
        self.store.emit(ClipFailed(self.camera, data))
        record = finish_cut_clip(self.store, clip.id, reason, start)
        self.store.unregister_active(clip.id)
        if record is not None:
            self._emit_finished(record)
        # The clip ends now: the loop forgets it, so the next trigger starts a new one.
        self._post(ClipOutcome(clip.id, None, RecordingError(reason)))

    # --- snapshots -------------------------------------------------------------------------
    def _write_snapshot(self, job: WriteSnapshot) -> None:
        event = job.event
        meta = {
            "event_id": event.event_id,
            "seq": job.seq,
            "kind": event.kind,
            "camera": self.camera,
            "time": event.at,
            "clip_id": event.clip_id,
        }
        try:
            data = encode_jpeg(job.frame, job.quality, job.max_width)
            write_atomic(self.store.snapshot_path(job.name), with_comment(data, meta))
            self.store.index.set_snapshot(event.event_id, job.name)
        except (OSError, ValueError, sqlite3.Error) as err:
            _LOGGER.warning("%s: snapshot for %s failed: %s", self.camera, event.event_id, err)
            if is_disk_full(err):
                self.store.report_disk_full()
            return
        self._snapshot_ready(job.name, event)
        for follower in job.followers:
            self._link_snapshot(job.name, follower)

    def _link_snapshot(self, name: str, event: SnapshotEvent) -> None:
        try:
            if not self.store.snapshot_path(name).exists():
                return
            self.store.index.set_snapshot(event.event_id, name)
        except sqlite3.Error as err:
            _LOGGER.warning("%s: snapshot for %s failed: %s", self.camera, event.event_id, err)
            return
        self._snapshot_ready(name, event)

    def _snapshot_ready(self, name: str, event: SnapshotEvent) -> None:
        data: SnapshotReadyData = {
            "event_id": event.event_id,
            "kind": event.kind,
            "snapshot": name,
            "time": event.at,
            "clip_id": event.clip_id,
        }
        self.store.emit(SnapshotReady(self.camera, data))
