"""Make the index agree with the files on disk (start-up, after a crash, after a full disk).

The files are the truth: clips cut short are salvaged, clip files the index does
not know are adopted with the events stored inside them, and snapshots carry their
event too, so a lost or rebuilt index gets its events back instead of losing them.
Only our own files are touched (`ids.media_file` names them); anything else in the
media folders (a NAS's `@eaDir/`, a user's photo) is skipped, and every removal is logged.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
import logging
import time
from typing import TYPE_CHECKING, Any

from porchlight_edge.dbfile import DatabaseState
from porchlight_edge.protocol import EventKind

from .ids import MediaFile, media_file, validate_camera, validate_event_id
from .index import ClipRecord, ClipState, trusted_camera
from .recover import ClipFacts, probe, salvage
from .snapshot import read_comment
from .writer import WriteError, replace_durably

if TYPE_CHECKING:
    from pathlib import Path

    from .index import ClipIndex
    from .storage import ClipStore

_LOGGER = logging.getLogger(__name__)
BUSY_SECONDS = 60.0
"""A temp file (`.part`) touched this recently may still be being written (reconciliation
also runs while recording resumes): no snapshot or export write takes this long."""


@dataclass(slots=True)
class ReconcileReport:
    """What reconciliation did, by clip id (or file name for foreign files)."""

    recovered: list[str] = field(default_factory=list)
    """Clips cut short by a crash, salvaged and kept as `partial`."""
    adopted: list[str] = field(default_factory=list)
    """Finished clip files the index did not know (kept)."""
    dropped: list[str] = field(default_factory=list)
    """Clips or files with nothing decodable (deleted)."""
    missing: list[str] = field(default_factory=list)
    """Index rows whose file was gone (removed from the index)."""
    deferred: list[str] = field(default_factory=list)
    """Clips cut short whose salvage could not be written yet (the `.part` stays)."""
    events_restored: int = 0
    """Events rebuilt from clip files and snapshots the index did not list."""
    snapshots_removed: int = 0
    foreign: list[str] = field(default_factory=list)
    """Entries in the media folders that are not ours: skipped, never touched."""


def _ours(path: Path) -> tuple[MediaFile, str] | None:
    """(kind, id) for a regular file we wrote; None for anything else (folders, links...)."""
    parsed = media_file(path.name)
    if parsed is None or path.is_symlink() or not path.is_file():
        return None
    return parsed


def _stale(path: Path) -> bool:
    try:
        return time.time() - path.stat().st_mtime > BUSY_SECONDS
    except OSError:
        return False


def _remove(path: Path, why: str) -> None:
    path.unlink(missing_ok=True)
    _LOGGER.info("removed %s/%s: %s", path.parent.name, path.name, why)


def reconcile(store: ClipStore) -> ReconcileReport:
    """Make index and files agree. Blocking; safe while other clips are being written."""
    report = ReconcileReport()
    index = store.index
    for clip in index.clips_in_state(ClipState.RECORDING):
        if not store.is_active(clip.id):
            _recover(store, clip.id, clip.camera, clip.mode, report)
    known = {c.id for c in index.all_clips()}
    for path in sorted(store.clips_dir.iterdir()):
        parsed = _ours(path)
        if parsed is None:
            report.foreign.append(f"clips/{path.name}")
            continue
        kind, clip_id = parsed
        if kind is MediaFile.CLIP_PART and clip_id not in known and not store.is_active(clip_id):
            _recover(store, clip_id, None, "", report)
        elif kind is MediaFile.CLIP and clip_id not in known:
            _adopt(store, path, report)
        elif kind is MediaFile.CLIP_SALVAGE and not store.is_active(clip_id):
            _remove(path, "an interrupted salvage (the .part it came from is kept)")
        elif kind not in (MediaFile.CLIP, MediaFile.CLIP_PART, MediaFile.CLIP_SALVAGE):
            report.foreign.append(f"clips/{path.name}")
    for clip in index.all_clips():
        if clip.state is not ClipState.RECORDING and not store.clip_path(clip.id).exists():
            index.remove_clip(clip.id)
            report.missing.append(clip.id)
    _reconcile_snapshots(store, report)
    _reconcile_exports(store, report)
    if report.foreign:
        _LOGGER.info("skipped files that are not Porchlight's: %s", ", ".join(report.foreign))
    changed = (report.recovered, report.adopted, report.dropped, report.missing)
    if any(changed) or report.events_restored or report.deferred:
        _LOGGER.info("reconciled clip store: %s", report)
    return report


def _recover(
    store: ClipStore, clip_id: str, camera: str | None, mode: str, report: ReconcileReport
) -> None:
    index = store.index
    part, final = store.part_path(clip_id), store.clip_path(clip_id)
    if not part.exists():
        if final.exists():  # renamed, but the index update was lost
            _adopt(store, final, report, replace=True)
        else:
            index.remove_clip(clip_id)
            report.dropped.append(clip_id)
        return
    tmp = part.with_name(part.name + ".salvage")
    try:
        facts = salvage(part, tmp)
    except WriteError as err:
        # No room for the salvaged copy: keep the .part and try again later.
        _LOGGER.warning("cannot salvage clip %s yet: %s", clip_id, err)
        if err.enospc:
            store.report_disk_full()
        report.deferred.append(clip_id)
        return
    if facts is None:
        _remove(part, "nothing in it decodes")
        index.remove_clip(clip_id)
        report.dropped.append(clip_id)
        return
    replace_durably(tmp, final)
    part.unlink(missing_ok=True)
    record = _record(final, facts, ClipState.PARTIAL, "recovered after an interrupted recording")
    record = replace(record, camera=camera or record.camera, mode=mode or record.mode)
    existing = index.get_clip(clip_id)
    if existing is not None:
        record = replace(record, protected=existing.protected)
    index.adopt_clip(record)
    report.events_restored += _restore_clip_events(index, clip_id, record.camera, facts)
    report.recovered.append(clip_id)


def _adopt(store: ClipStore, path: Path, report: ReconcileReport, replace: bool = False) -> None:
    clip_id = path.name[:-4]
    facts = probe(path)
    if facts is None:
        _remove(path, "not a playable clip")
        if replace:
            store.index.remove_clip(clip_id)
        report.dropped.append(clip_id)
        return
    record = _record(path, facts, ClipState.COMPLETE, "adopted")
    store.index.adopt_clip(record)
    report.events_restored += _restore_clip_events(store.index, clip_id, record.camera, facts)
    report.adopted.append(clip_id)


def _record(path: Path, facts: ClipFacts, state: ClipState, reason: str) -> ClipRecord:
    start = facts.start(path)
    return ClipRecord(
        id=path.name[:-4],
        camera=trusted_camera(facts.metadata.get("camera"), path.name[:-4]),
        start=start,
        end=start + facts.duration,
        path=path.name,
        size=path.stat().st_size,
        protected=False,
        state=state,
        mode=str(facts.metadata.get("mode", "")),
        reason=reason,
    )


def _restore_event(index: ClipIndex, raw: Any, camera: str, clip_id: str | None) -> bool:
    """Index an event read back from a file (if valid and unknown); True if added."""
    if not isinstance(raw, dict):
        return False
    try:
        event_id = validate_event_id(raw.get("id", raw.get("event_id")))
        camera = validate_camera(raw.get("camera", camera))
        when = float(raw["time"])
        kind = EventKind(raw["kind"])
        seq = raw.get("seq")
    except (KeyError, TypeError, ValueError):
        return False
    existing = index.get_event(event_id)
    if existing is not None:
        if existing.clip_id is None and clip_id is not None:
            index.set_event_clip(event_id, clip_id)
        return False
    index.add_event(
        event_id,
        seq=seq if isinstance(seq, int) and not isinstance(seq, bool) else None,
        kind=kind,
        camera=camera,
        time=when,
        clip_id=clip_id,
    )
    return True


def _restore_clip_events(index: ClipIndex, clip_id: str, camera: str, facts: ClipFacts) -> int:
    events = facts.metadata.get("events")
    if not isinstance(events, list):
        return 0
    return sum(_restore_event(index, raw, camera, clip_id) for raw in events[:1000])


def _reconcile_snapshots(store: ClipStore, report: ReconcileReport) -> None:
    index = store.index
    referenced = index.snapshot_names()
    for path in store.snapshots_dir.iterdir():
        parsed = _ours(path)
        if parsed is None:
            report.foreign.append(f"snapshots/{path.name}")
            continue
        kind, _ = parsed
        if kind is MediaFile.SNAPSHOT_PART:
            if _stale(path):
                _remove(path, "an interrupted snapshot write")
                report.snapshots_removed += 1
        elif kind is not MediaFile.SNAPSHOT:
            report.foreign.append(f"snapshots/{path.name}")
        elif path.name not in referenced and not _relink_snapshot(store, path, report):
            if index.state is not DatabaseState.OK:
                # A new index knows nothing: an older snapshot without its event inside
                # may still be wanted, so it stays (listed once here).
                _LOGGER.warning("kept %s: the index was rebuilt and it names no event", path)
                continue
            _remove(path, "no event refers to it and it names none")
            report.snapshots_removed += 1
    for name in referenced:
        try:
            exists = store.snapshot_path(name).exists()
        except ValueError:
            exists = False
        if not exists:
            index.clear_snapshot(name)


def _relink_snapshot(store: ClipStore, path: Path, report: ReconcileReport) -> bool:
    """Give a snapshot back to the event written inside it; False if it names none."""
    meta = read_comment(path)
    if meta is None:
        return False
    clip_id = meta.get("clip_id")
    if not isinstance(clip_id, str) or store.index.get_clip(clip_id) is None:
        clip_id = None
    camera = meta.get("camera")
    report.events_restored += _restore_event(
        store.index, meta, camera if isinstance(camera, str) else "", clip_id
    )
    event = store.index.get_event(str(meta.get("event_id")))
    if event is None or event.snapshot not in (None, path.name):
        return False
    if event.snapshot is None:
        store.index.set_snapshot(event.id, path.name)
    return True


def _reconcile_exports(store: ClipStore, report: ReconcileReport) -> None:
    """Exports live as long as their clip (deleting a clip deletes them too)."""
    for path in store.exports_dir.iterdir():
        parsed = _ours(path)
        if parsed is None:
            report.foreign.append(f"exports/{path.name}")
        elif parsed[0] is MediaFile.EXPORT_PART:
            if _stale(path):
                _remove(path, "an interrupted export")
        elif store.index.get_clip(parsed[1]) is None:
            _remove(path, "its clip is gone")
