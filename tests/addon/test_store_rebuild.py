"""A corrupt or missing database, and foreign files in the media folders.

The store and the audit log must open whatever they find: a corrupt database is
moved aside (kept) and rebuilt from the clips and snapshots on disk, and files that
are not ours are never deleted.
"""

from __future__ import annotations

import asyncio
import logging
import os
from pathlib import Path
import time

import aiohttp
import av
import pytest

from porchlight_edge.audit import AuditAction, AuditLog
from porchlight_edge.config import parse_options
from porchlight_edge.recorder.recorder import Recorder, RecorderSettings
from porchlight_edge.recorder.storage import ClipStore, StoreSettings
from porchlight_edge.service import Service
from tests.helpers.footage import make_h264, play
from tests.helpers.recording_client import options

W0 = 1_000_000.0
NOT_A_DATABASE = b"this is not an SQLite file at all" * 4


@pytest.fixture(scope="module")
def video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("media") / "cam.mp4"
    return make_h264(path, seconds=10, width=160, height=120, fps=10, gop=10)


async def record(root: Path, video: Path) -> dict[str, tuple[str | None, str | None]]:
    """Two ring clips and a manual snapshot; {event id: (clip id, snapshot name)}."""
    store = ClipStore(root, StoreSettings(monitor=False))
    await store.open()
    rec = Recorder("front", store, RecorderSettings(preroll=1.0, postroll=1.0))
    rec.start()
    for frame in play(video, wallclock0=W0):
        if abs(frame.pts - 2.0) < 1e-3:
            rec.trigger("ring", "boot:1", frame.wallclock, seq=1)
        if abs(frame.pts - 6.0) < 1e-3:
            rec.trigger("ring", "boot:2", frame.wallclock, seq=2)
        if abs(frame.pts - 9.5) < 1e-3:
            assert rec.snapshot("manual-1")
        rec.on_frame(frame, None)
        await asyncio.sleep(0)
    await rec.stop()
    found = {}
    for eid in ("boot:1", "boot:2", "manual-1"):
        event = store.index.get_event(eid)
        assert event is not None
        assert event.snapshot is not None
        found[eid] = (event.clip_id, event.snapshot)
    await store.close()
    return found


def smash(path: Path, data: bytes = NOT_A_DATABASE, at: int = 0) -> None:
    """Overwrite bytes of a file in place (first bytes: "file is not a database")."""
    with open(path, "r+b") as f:
        f.seek(at)
        f.write(data)


def forget_index(root: Path, how: str) -> None:
    for suffix in ("-wal", "-shm"):
        Path(f"{root / 'index.db'}{suffix}").unlink(missing_ok=True)
    if how == "missing":
        (root / "index.db").unlink()
    else:
        smash(root / "index.db")


@pytest.mark.parametrize("how", ["corrupt", "missing"])
async def test_index_is_rebuilt_from_the_files(how: str, tmp_path: Path, video: Path) -> None:
    root = tmp_path / "rec"
    before = await record(root, video)
    snapshots = sorted(p.name for p in (root / "snapshots").iterdir())
    clips = sorted(p.name for p in (root / "clips").iterdir())
    assert len(clips) == 2
    assert len(snapshots) == 3
    forget_index(root, how)
    store = ClipStore(root, StoreSettings(monitor=False))
    report = await store.open()  # old code: "file is not a database" / snapshots deleted
    try:
        aside = sorted(p.name for p in root.glob("index.db.corrupt-*"))
        if how == "corrupt":
            assert len(aside) == 1
            assert (root / aside[0]).read_bytes().startswith(NOT_A_DATABASE)
        else:
            assert aside == []
        assert sorted(p.name for p in (root / "snapshots").iterdir()) == snapshots
        assert sorted(p.name for p in (root / "clips").iterdir()) == clips
        assert report.snapshots_removed == 0
        listed = {c.id for c in store.index.list_clips().items}
        assert listed == {clip for clip, _ in before.values() if clip}
        for eid, (clip_id, snapshot) in before.items():
            event = store.index.get_event(eid)
            assert event is not None, eid
            assert (event.clip_id, event.snapshot) == (clip_id, snapshot)
            assert event.camera == "front"
        assert store.index.get_event("boot:2").seq == 2  # type: ignore[union-attr]
    finally:
        await store.close()


async def test_corrupt_audit_log_is_moved_aside(tmp_path: Path) -> None:
    path = tmp_path / "audit.db"
    log = AuditLog(path)
    log.record(AuditAction.CLIP_DELETE, client_id="ha", address="127.0.0.1", target="x")
    log.close()
    smash(path)
    log = AuditLog(path)  # old code: sqlite3.DatabaseError
    try:
        log.record(AuditAction.CLIP_DELETE, client_id="ha", address="127.0.0.1", target="y")
        assert [e.target for e in log.query().items] == ["y"]
        (aside,) = tmp_path.glob("audit.db.corrupt-*")
        assert aside.read_bytes().startswith(NOT_A_DATABASE)
    finally:
        log.close()


async def test_readable_rows_of_a_damaged_index_are_kept(tmp_path: Path, video: Path) -> None:
    """A database that opens but fails its integrity check keeps the rows that still read."""
    import sqlite3

    root = tmp_path / "rec"
    before = await record(root, video)
    db = sqlite3.connect(root / "index.db")
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.execute("CREATE TABLE filler(x)")
    db.executemany("INSERT INTO filler VALUES (?)", [(b"x" * 3000,) for _ in range(20)])
    db.commit()
    pages = db.execute("PRAGMA page_count").fetchone()[0]
    page = db.execute("PRAGMA page_size").fetchone()[0]
    db.close()
    smash(root / "index.db", b"\xff" * page * 3, at=(pages - 3) * page)  # the filler's end
    store = ClipStore(root, StoreSettings(monitor=False))
    await store.open()
    try:
        assert list(root.glob("index.db.corrupt-*"))
        for eid in before:
            assert store.index.get_event(eid) is not None
    finally:
        await store.close()


async def test_the_service_starts_on_corrupt_databases(tmp_path: Path, video: Path) -> None:
    opts = parse_options(options(tmp_path, video), data_dir=tmp_path / "data")
    first = Service(opts)
    await first.start()
    await first.stop()
    data = tmp_path / "data"
    for name in ("audit.db", "recordings/index.db"):
        for suffix in ("-wal", "-shm"):
            Path(f"{data / name}{suffix}").unlink(missing_ok=True)
        smash(data / name)
    service = Service(opts)
    await service.start()
    try:
        async with aiohttp.ClientSession() as session:
            url = f"http://127.0.0.1:{service.port}"
            async with session.get(f"{url}/healthz") as resp:
                assert resp.status == 200
        assert list(data.glob("audit.db.corrupt-*"))
        assert list((data / "recordings").glob("index.db.corrupt-*"))
    finally:
        await service.stop()


async def test_foreign_files_are_skipped_and_kept(
    tmp_path: Path, video: Path, caplog: pytest.LogCaptureFixture
) -> None:
    root = tmp_path / "rec"
    before = await record(root, video)
    foreign = [
        root / "snapshots" / "@eaDir" / "thumb.jpg",
        root / "snapshots" / "family-photo.jpg",
        root / "clips" / "@eaDir" / "x.mp4.part",
        root / "clips" / "holiday.mp4",
        root / "clips" / "notes.mp4.part",
        root / "clips" / "backup.salvage",
        root / "exports" / "readme.txt",
        root / "exports" / "mine.mp4.part",
    ]
    for path in foreign:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"not ours")
    ours = root / "snapshots" / "0b7e3d9a-1111-4222-8333-944455556666.jpg.part"
    ours.write_bytes(b"half a jpeg")
    busy = root / "snapshots" / "1b7e3d9a-1111-4222-8333-944455556666.jpg.part"
    busy.write_bytes(b"being written right now")
    old = time.time() - 3600
    os.utime(ours, (old, old))
    caplog.set_level(logging.INFO, logger="porchlight_edge.recorder")
    store = ClipStore(root, StoreSettings(monitor=False))
    await store.open()  # old code: IsADirectoryError on @eaDir, family-photo.jpg deleted
    try:
        for path in foreign:
            assert path.read_bytes() == b"not ours", path
        assert not ours.exists()
        assert busy.exists()  # may still be written: left for the next reconciliation
        assert any(ours.name in r.getMessage() for r in caplog.records)
        for eid, (_, snapshot) in before.items():
            event = store.index.get_event(eid)
            assert event is not None
            assert event.snapshot == snapshot
        assert len(store.index.list_clips().items) == 2
        with av.open(str(store.clip_path(store.index.list_clips().items[0].id))) as c:
            assert sum(1 for _ in c.decode(video=0)) > 0
    finally:
        await store.close()


@pytest.mark.parametrize("index", ["healthy", "missing"])
async def test_a_snapshot_without_its_event_inside(
    index: str, tmp_path: Path, video: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """An older snapshot that names no event: removed (and logged) next to a healthy index,
    kept when the index was lost (it may be all that is left of an event)."""
    root = tmp_path / "rec"
    await record(root, video)
    legacy = root / "snapshots" / "0b7e3d9a-1111-4222-8333-944455556666.jpg"
    legacy.write_bytes(b"\xff\xd8\xff\xdb plain JPEG without a comment")
    if index == "missing":
        forget_index(root, "missing")
    caplog.set_level(logging.INFO, logger="porchlight_edge.recorder")
    store = ClipStore(root, StoreSettings(monitor=False))
    report = await store.open()
    await store.close()
    assert legacy.exists() is (index == "missing")
    assert report.snapshots_removed == (index == "healthy")
    assert any(legacy.name in r.getMessage() for r in caplog.records)


def test_a_second_corruption_keeps_the_first_copy(tmp_path: Path) -> None:
    path = tmp_path / "audit.db"
    for target in ("first", "second"):
        path.write_bytes(NOT_A_DATABASE + target.encode())
        AuditLog(path).close()
    copies = sorted(p.read_bytes() for p in tmp_path.glob("audit.db.corrupt-*"))
    assert copies == sorted(NOT_A_DATABASE + t.encode() for t in ("first", "second"))
