"""The clip store: folders, index, reconciliation after a crash, retention, disk space.

Layout under `root`: `index.db` (SQLite, WAL), `clips/<clip_id>.mp4` (finished),
`clips/<clip_id>.mp4.part` (being written), `snapshots/<uuid>.jpg`, `exports/`.
One store serves every camera; each camera's `Recorder` writes through it.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field
import logging
import shutil
import sqlite3
import threading
import time
from typing import TYPE_CHECKING

from porchlight_edge.protocol import StorageReason

from .ids import media_file, validate_clip_id
from .index import ClipIndex, ClipRecord, ClipState
from .journal import EventJournal
from .notices import (
    ClipDeleted,
    ClipDeletedData,
    RecordingNotice,
    RetentionWarning,
    RetentionWarningData,
    StorageChanged,
    StorageStatusData,
)
from .reconcile import ReconcileReport, reconcile
from .retention import DeletionReason, RetentionPolicy, plan_retention
from .writer import PART_SUFFIX

if TYPE_CHECKING:
    from pathlib import Path

    from .notices import NoticeListener

_LOGGER = logging.getLogger(__name__)
MB = 1024 * 1024


@dataclass(frozen=True, slots=True)
class StoreSettings:
    """How a `ClipStore` keeps space: retention, pause/resume bytes, intervals in seconds."""

    retention: RetentionPolicy = field(default_factory=RetentionPolicy)
    pause_free_bytes: int = 64 * MB
    """Recording pauses when free space falls below this (after retention tried)."""
    resume_free_bytes: int = 128 * MB
    """...and resumes once free space is back above this."""
    check_interval: float = 10.0
    """Seconds between free-space checks (and resume attempts while paused)."""
    retention_interval: float = 600.0
    monitor: bool = True
    """Run the free-space / retention monitor task (off: call `check_space_sync` yourself)."""
    event_max_age_days: float | None = None
    """Events and snapshots older than this are deleted (None: same as clips' max age)."""
    protected_grace: float = 3600.0
    """Seconds between a protected clip's `retention_warning` and its deletion (if the
    limits still need it then): time to export or free space. Kept in memory: after a
    restart the warning comes again and the grace starts over (the safe direction)."""


class ClipStore:
    """The clip store: clips, snapshots and exports under `root`, the index, and free-space care.

    Notices (`RecordingNotice`) go to `listener` on the loop. Paths only come from ids
    (`clip_path`, `snapshot_path`), never from client input.
    """

    def __init__(
        self,
        root: Path,
        settings: StoreSettings | None = None,
        listener: NoticeListener | None = None,
    ) -> None:
        self.root = root
        self.settings = settings or StoreSettings()
        self.clips_dir = root / "clips"
        self.snapshots_dir = root / "snapshots"
        self.exports_dir = root / "exports"
        self._listener = listener
        self._index: ClipIndex | None = None
        self._journal: EventJournal | None = None
        self._active: set[str] = set()
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task[None] | None = None
        self.paused = False
        self.pause_reason: StorageReason | None = None
        self.limits_unreachable = False
        """The last retention pass found limits no deletion can meet."""
        self._warned: dict[str, float] = {}
        """Protected clips a retention_warning announced: id -> monotonic time of it."""
        self._last_retention = 0.0
        self._media_bytes = 0
        """Snapshots and exports at the last scan (retention, start-up)."""

    # --- lifecycle -------------------------------------------------------------------------
    async def open(self) -> ReconcileReport:
        """Create folders and the index, reconcile them with the files, start monitoring."""
        self._loop = asyncio.get_running_loop()
        report = await asyncio.to_thread(self._open_sync)
        if self.settings.monitor:
            self._task = asyncio.create_task(self._monitor(), name="clip-store")
        return report

    def _open_sync(self) -> ReconcileReport:
        for folder in (self.root, self.clips_dir, self.snapshots_dir, self.exports_dir):
            folder.mkdir(parents=True, exist_ok=True)
        self._index = ClipIndex(self.root / "index.db")
        self._journal = EventJournal(self._index, self.report_disk_full)
        report = self.reconcile()
        self.media_bytes()
        return report

    async def close(self) -> None:
        """Stop the monitor and close the index."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self._journal is not None:
            await asyncio.to_thread(self._journal.close)
        if self._index is not None:
            self._index.close()

    @property
    def index(self) -> ClipIndex:
        """The open index; RuntimeError before `open()`."""
        if self._index is None:
            raise RuntimeError("ClipStore.open() was not called")
        return self._index

    @property
    def journal(self) -> EventJournal:
        """The open index's event journal (announced events); RuntimeError before `open()`."""
        if self._journal is None:
            raise RuntimeError("ClipStore.open() was not called")
        return self._journal

    # --- paths (the only way from an id to a file) ------------------------------------------
    def clip_path(self, clip_id: str) -> Path:
        """Path of a finished clip's file; ValueError for a malformed id."""
        return self.clips_dir / f"{validate_clip_id(clip_id)}.mp4"

    def part_path(self, clip_id: str) -> Path:
        """Path of a clip being written (`.mp4.part`); ValueError for a malformed id."""
        return self.clips_dir / f"{validate_clip_id(clip_id)}{PART_SUFFIX}"

    def snapshot_path(self, name: str) -> Path:
        """Path of a snapshot file name as stored in the index (`<uuid>.jpg`)."""
        stem, dot, ext = name.partition(".")
        if ext != "jpg" or not dot:
            raise ValueError("invalid snapshot name")
        return self.snapshots_dir / f"{validate_clip_id(stem)}.jpg"

    def clip_file(self, clip_id: str) -> tuple[ClipRecord, Path]:
        """A finished clip and its file, for download; KeyError if unknown or not finished."""
        record = self.index.get_clip(validate_clip_id(clip_id))
        if record is None or record.state is ClipState.RECORDING:
            raise KeyError(clip_id)
        return record, self.clip_path(clip_id)

    # --- active clips (reconciliation must not touch them) ----------------------------------
    def register_active(self, clip_id: str) -> None:
        """Mark a clip as being written (reconciliation leaves it alone); any thread."""
        with self._lock:
            self._active.add(clip_id)

    def unregister_active(self, clip_id: str) -> None:
        """The clip is no longer being written; any thread."""
        with self._lock:
            self._active.discard(clip_id)

    def is_active(self, clip_id: str) -> bool:
        """True while the clip is being written; any thread."""
        with self._lock:
            return clip_id in self._active

    # --- events to the service --------------------------------------------------------------
    def emit(self, event: RecordingNotice) -> None:
        """Deliver a notice to the listener on the loop thread (callable from any thread)."""
        if self._listener is None:
            return
        loop = self._loop
        if loop is None:
            self._listener(event)
            return
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            self._listener(event)
        elif not loop.is_closed():
            loop.call_soon_threadsafe(self._listener, event)

    # --- reconciliation --------------------------------------------------------------------
    def reconcile(self) -> ReconcileReport:
        """Make index and files agree (see `reconcile.reconcile`). Blocking."""
        return reconcile(self)

    # --- deletion, protection, retention -----------------------------------------------------
    def delete_clip_sync(self, clip_id: str, reason: DeletionReason = DeletionReason.USER) -> bool:
        """Delete a finished clip and its exports; its events stay. Blocking."""
        record = self.index.get_clip(validate_clip_id(clip_id))
        if record is None or record.state is ClipState.RECORDING:
            return False
        self.clip_path(clip_id).unlink(missing_ok=True)
        self.index.remove_clip(clip_id)
        self._warned.pop(clip_id, None)
        for path in self.exports_dir.iterdir():
            parsed = media_file(path.name)
            if parsed is not None and parsed[1] == clip_id and path.is_file():
                path.unlink(missing_ok=True)
                _LOGGER.info("removed export %s with its clip", path.name)
        data: ClipDeletedData = {"clip_id": clip_id, "reason": reason}
        self.emit(ClipDeleted(record.camera, data))
        return True

    async def delete_clip(self, clip_id: str) -> bool:
        """Delete a finished clip (its events stay). False if unknown or still recording."""
        return await asyncio.to_thread(self.delete_clip_sync, clip_id)

    async def set_protected(self, clip_id: str, protected: bool) -> bool:
        """Set a clip's protection; False when unknown, ValueError for a malformed id."""
        return await asyncio.to_thread(
            self.index.set_protected, validate_clip_id(clip_id), protected
        )

    def free_bytes(self) -> int:
        """Free bytes on the store's disk (OSError when it cannot be asked)."""
        return shutil.disk_usage(self.root).free

    def media_bytes(self) -> int:
        """Bytes of our snapshots and exports (clips are counted from the index).

        Scans two folders: blocking. `usage()` shows the value of the last scan.
        """
        total = 0
        for folder in (self.snapshots_dir, self.exports_dir):
            for path in folder.iterdir():
                if media_file(path.name) is not None:
                    with contextlib.suppress(OSError):
                        total += path.stat().st_size
        self._media_bytes = total
        return total

    def apply_retention_sync(self, now: float | None = None) -> list[str]:
        """Delete what the policy says; returns the ids deleted. Blocking.

        A protected clip goes only a grace period after its `retention_warning`.
        """
        now = time.time() if now is None else now
        self._expire_events(now)
        finished = [c for c in self.index.all_clips() if c.state is not ClipState.RECORDING]
        policy = self.settings.retention
        if policy.max_total_bytes is not None:
            self._trim_snapshots(self.media_bytes() - policy.max_total_bytes)
        plan = plan_retention(finished, policy, now, self.free_bytes(), self.media_bytes())
        deleted: list[str] = []
        wanted: set[str] = set()
        for item in plan.deletions:
            clip = item.clip
            if clip.protected:
                wanted.add(clip.id)
                if not self._warned_long_enough(clip, item.reason, now):
                    continue
            if self.delete_clip_sync(clip.id, item.reason):
                deleted.append(clip.id)
        for clip_id in set(self._warned) - wanted:  # no longer needed: warn again next time
            del self._warned[clip_id]
        if plan.unreachable and not self.limits_unreachable:
            _LOGGER.warning(
                "the retention limits cannot be met even without any clip (%d bytes free,"
                " limits %s): recording is paused; lower min_free_bytes / raise max_size_bytes",
                self.free_bytes(),
                policy,
            )
        self.limits_unreachable = plan.unreachable
        self._last_retention = time.monotonic()
        return deleted

    def _warned_long_enough(self, clip: ClipRecord, reason: DeletionReason, now: float) -> bool:
        """Warn (once) before a protected clip is deleted; True once the grace has passed."""
        first = self._warned.get(clip.id)
        if first is not None:
            return time.monotonic() - first >= self.settings.protected_grace
        self._warned[clip.id] = time.monotonic()
        _LOGGER.warning("protected clip %s will be deleted (%s)", clip.id, reason)
        data: RetentionWarningData = {
            "clip_id": clip.id,
            "reason": reason,
            "delete_after": now + self.settings.protected_grace,
        }
        self.emit(RetentionWarning(clip.camera, data))
        return False  # never in the pass that warns: the warning always comes first

    async def apply_retention(self, now: float | None = None) -> list[str]:
        """`apply_retention_sync` in a worker thread."""
        return await asyncio.to_thread(self.apply_retention_sync, now)

    def _drop_snapshot(self, name: str) -> None:
        """Delete a snapshot file once no event refers to it (bursts share one)."""
        if not self.index.snapshot_in_use(name):
            with contextlib.suppress(ValueError):
                self.snapshot_path(name).unlink(missing_ok=True)

    def _expire_events(self, now: float) -> None:
        days = self.settings.event_max_age_days or self.settings.retention.max_age_days
        if days is None:
            return
        for event in self.index.events_before(now - days * 86400.0):
            if event.clip_id is not None:
                continue  # kept as long as its clip
            self.index.remove_event(event.id)
            if event.snapshot:
                self._drop_snapshot(event.snapshot)

    def _trim_snapshots(self, excess: int) -> None:
        """Snapshots count against `max_total_bytes`: drop the oldest clip-less ones."""
        for event in self.index.snapshot_events(limit=10_000):
            if excess <= 0:
                return
            assert event.snapshot is not None
            try:
                size = self.snapshot_path(event.snapshot).stat().st_size
            except (OSError, ValueError):
                size = 0
            self.index.clear_snapshot(event.snapshot)
            self._drop_snapshot(event.snapshot)
            excess -= size

    # --- disk space: pause and resume --------------------------------------------------------
    def report_disk_full(self) -> None:
        """A write failed with ENOSPC (any thread): pause until space is back."""
        self._set_paused(True, StorageReason.DISK_FULL)

    def _set_paused(self, paused: bool, reason: StorageReason | None) -> None:
        if paused == self.paused and reason == self.pause_reason:
            return
        self.paused, self.pause_reason = paused, reason
        try:
            free = self.free_bytes()
        except OSError:
            free = -1
        if paused:
            _LOGGER.warning("recording paused: %s (%d bytes free)", reason, free)
        else:
            _LOGGER.info("recording resumed (%d bytes free)", free)
        data: StorageStatusData = {"recording": not paused, "reason": reason, "free_bytes": free}
        self.emit(StorageChanged(None, data))

    def check_space_sync(self) -> None:
        """One monitor step: retention when due or short of space, then pause/resume."""
        s = self.settings
        try:
            free = self.free_bytes()
            due = time.monotonic() - self._last_retention >= s.retention_interval
            if due or self.paused or free < s.retention.min_free_bytes:
                self.apply_retention_sync()
                free = self.free_bytes()
            if self.limits_unreachable:
                self._set_paused(True, StorageReason.LIMITS_UNREACHABLE)
            elif self.paused:
                if free >= s.resume_free_bytes or (
                    self.pause_reason is StorageReason.LIMITS_UNREACHABLE
                    and free >= s.pause_free_bytes
                ):
                    self._set_paused(False, None)
                    self.reconcile()  # salvage what the full disk cut short
            elif free < s.pause_free_bytes:
                self._set_paused(True, StorageReason.LOW_SPACE)
        except (OSError, sqlite3.Error) as err:
            _LOGGER.warning("storage check failed: %s", err)

    async def _monitor(self) -> None:
        while True:
            await asyncio.to_thread(self.check_space_sync)
            await asyncio.sleep(self.settings.check_interval)

    def usage(self) -> dict[str, int | bool | str | None]:
        """Usage for `storage_status`: clip and media bytes, free bytes, recording, pause reason."""
        return {
            "clips_bytes": self.index.total_size() + self._media_bytes,
            "free_bytes": self.free_bytes(),
            "recording": not self.paused,
            "reason": self.pause_reason,
        }
