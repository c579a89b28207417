"""The service's recordings façade: what the API may do with clips, events and snapshots.

API handlers go through `Recordings` and never reach the clip store, its index or a
camera's recorder themselves, so storage can change without touching `api/`. Blocking
index and file work runs in a worker thread here; results are the index's records
(`ClipRecord`, `EventRecord`, `Page`). Storage faults surface as sqlite3.Error /
OSError for the API's storage-fault translation (api/errors.py).
"""

from __future__ import annotations

import asyncio
from dataclasses import asdict, dataclass
from functools import partial
from typing import TYPE_CHECKING, Any
import uuid

from porchlight_edge.protocol import ClipState, EventKind
from porchlight_edge.recorder.export import export_clip
from porchlight_edge.recorder.recover import complete_fragments_end

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from pathlib import Path

    from porchlight_edge.camera import CameraPipeline
    from porchlight_edge.paging import Page
    from porchlight_edge.recorder.index import ClipRecord, EventRecord
    from porchlight_edge.recorder.storage import ClipStore

DELETE_PAGE: int = 200
"""Clips read per index query while collecting a filtered delete."""


@dataclass(frozen=True, slots=True)
class TimeQuery:
    """The list commands' common filters.

    Camera name, time range [since, until] in Unix seconds, and paging (limit 1-MAX_PAGE,
    offset >= 0; the index checks them).
    """

    camera: str | None = None
    since: float | None = None
    until: float | None = None
    limit: int = 50
    offset: int = 0

    def filters(self) -> dict[str, Any]:
        """The query as the index's and the audit log's keyword arguments."""
        return asdict(self)


@dataclass(frozen=True, slots=True)
class ManualRecording:
    """A clip started on request: its event id and the clip id (None: recording paused)."""

    event_id: str
    clip_id: str | None


@dataclass(frozen=True, slots=True)
class ClipMedia:
    """What of a clip can be played now: its record, its file and how many bytes of it.

    `length` is None for a finished clip (the whole file); for a clip still recording it
    is the end of the last whole fragment of its growing `.part`, in bytes.
    """

    record: ClipRecord
    path: Path
    length: int | None


class NotPlayableYet(Exception):
    """The clip is recording but holds no whole fragment yet (try again in a second)."""


class Recordings:
    """List, protect, delete and export clips; trigger clips and snapshots on a camera."""

    def __init__(self, store: ClipStore, cameras: Mapping[str, CameraPipeline]) -> None:
        self._store = store
        self._cameras = cameras

    # --- reading ---------------------------------------------------------------------------
    async def _read[T](self, read: Callable[[], T]) -> T:
        """`read` the index in a worker thread once every event announced so far is in it.

        Read-your-writes: a ring on the bus is listed by the next list (journal.py).
        """
        journal, ticket = self._store.journal, self._store.journal.ticket

        def after_journal() -> T:
            journal.wait(ticket)
            return read()

        return await asyncio.to_thread(after_journal)

    async def list_events(self, query: TimeQuery, kind: str | None = None) -> Page[EventRecord]:
        """Events newest first, every announced one included; ValueError for paging out of range."""
        index = self._store.index
        return await self._read(partial(index.list_events, kind=kind, **query.filters()))

    async def list_clips(self, query: TimeQuery, protected: bool | None = None) -> Page[ClipRecord]:
        """Clips newest first, those still recording too (state `recording`)."""
        index = self._store.index
        return await self._read(partial(index.list_clips, protected=protected, **query.filters()))

    def summary(self) -> tuple[int, float | None]:
        """(number of clips, start of the oldest in Unix seconds or None)."""
        return self._store.index.summary()

    def clip_file(self, clip_id: str) -> tuple[ClipRecord, Path]:
        """A finished clip's record and file; KeyError when unknown or unfinished."""
        return self._store.clip_file(clip_id)

    def clip_media(self, clip_id: str) -> ClipMedia:
        """A clip to play: the finished file, or the part of a growing one that plays.

        Blocking (reads box headers). KeyError when the clip is unknown, FileNotFoundError
        when its file is gone, NotPlayableYet for a recording clip with no whole fragment.
        A clip just announced (`record_clip`'s) is known: it waits for the journal first.
        """
        journal = self._store.journal
        journal.wait(journal.ticket)
        for _ in range(2):  # the clip may finish (rename) between the two looks
            record = self._store.index.get_clip(clip_id)
            if record is None:
                raise KeyError(clip_id)
            if record.state is not ClipState.RECORDING:
                return ClipMedia(*self._store.clip_file(clip_id), None)
            part = self._store.part_path(clip_id)
            try:
                length = complete_fragments_end(part)
            except FileNotFoundError:
                continue
            if length is None:
                raise NotPlayableYet(clip_id)
            return ClipMedia(record, part, length)
        raise NotPlayableYet(clip_id)

    def event_snapshot(self, event_id: str) -> tuple[EventRecord, Path] | None:
        """An event and its snapshot JPEG's path, or None when it has no snapshot.

        The file may still be missing on disk: check before serving it.
        """
        event = self._store.index.get_event(event_id)
        if event is None or not event.snapshot:
            return None
        return event, self._store.snapshot_path(event.snapshot)

    # --- changing --------------------------------------------------------------------------
    async def protect(self, clip_id: str, protected: bool) -> ClipRecord | None:
        """Set a clip's protection (kept by retention); None when the clip is unknown.

        A clip just announced (`record_clip`'s) is known: it waits for the journal first.
        """
        await self._read(lambda: None)
        if not await self._store.set_protected(clip_id, protected):
            return None
        return self._store.index.get_clip(clip_id)

    async def delete(self, clip_id: str) -> bool:
        """Delete a clip, its snapshots-only-it-uses and its export; False when unknown."""
        return await self._store.delete_clip(clip_id)

    async def clips_of_events(self, event_ids: list[str]) -> list[str]:
        """The ids of the clips that hold any of `event_ids` (sorted, unknown ids skipped)."""
        index = self._store.index
        found = await self._read(lambda: [index.get_event(e) for e in event_ids])
        return sorted({e.clip_id for e in found if e is not None and e.clip_id})

    async def matching_clips(self, query: TimeQuery) -> list[str]:
        """Every clip id matching `query`'s camera and time range (its paging is ignored)."""
        targets: list[str] = []
        while True:
            page = await self.list_clips(
                TimeQuery(query.camera, query.since, query.until, DELETE_PAGE, len(targets))
            )
            targets += [c.id for c in page.items]
            if page.next_offset is None:
                return targets

    async def export(self, clip_id: str) -> tuple[Path, Path]:
        """Copy a finished clip to the exports folder: (video, manifest JSON) paths.

        Errors as recorder.export.export_clip: KeyError (unknown or unfinished),
        FileNotFoundError (file gone), ExportError / OSError (copy failed).
        """
        return await asyncio.to_thread(export_clip, self._store, clip_id)

    # --- on a camera -----------------------------------------------------------------------
    def trigger(self, camera: str, seconds: float) -> ManualRecording:
        """Start (or extend) a manual clip of `seconds` post-roll on `camera`.

        `camera` is a configured name (KeyError otherwise). The caller checks privacy
        mode and whether recording is on first.
        """
        event_id = f"manual-{uuid.uuid4().hex}"
        recorder = self._cameras[camera].recorder
        clip_id = recorder.trigger(EventKind.MANUAL, event_id, postroll=seconds)
        return ManualRecording(event_id, clip_id)

    def snapshot(self, camera: str) -> str | None:
        """Save `camera`'s current frame as a manual event's snapshot; its event id.

        None when there is no frame yet or recording is paused for lack of space.
        """
        event_id = f"manual-{uuid.uuid4().hex}"
        if not self._cameras[camera].recorder.snapshot(event_id, EventKind.MANUAL):
            return None
        return event_id
