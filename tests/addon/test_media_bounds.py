"""Exports and snapshots stay bounded: exports go with their clip, a failed export
leaves nothing, a burst of rings (or of take_snapshot calls) writes one JPEG, and
snapshots count against the size limit."""

from __future__ import annotations

import asyncio
import errno
import os
from pathlib import Path
import shutil

import pytest

from porchlight_edge.recorder import export as export_module
from porchlight_edge.recorder.export import export_clip
from porchlight_edge.recorder.ids import new_id
from porchlight_edge.recorder.index import ClipRecord, ClipState
from porchlight_edge.recorder.recorder import Recorder, RecorderSettings
from porchlight_edge.recorder.retention import RetentionPolicy
from porchlight_edge.recorder.snapshot import write_atomic
from porchlight_edge.recorder.storage import ClipStore, StoreSettings
from tests.helpers.footage import make_h264, play

W0 = 1_000_000.0
NOW = 2_000_000_000.0


@pytest.fixture(scope="module")
def video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("media") / "cam.mp4"
    return make_h264(path, seconds=8, width=160, height=120, fps=15, gop=15)


def add_clip(store: ClipStore, start: float = NOW, size: int = 1000) -> str:
    cid = new_id()
    store.clip_path(cid).write_bytes(b"x" * size)
    record = ClipRecord(
        cid, "front", start, start + 10, f"{cid}.mp4", size, False, ClipState.COMPLETE, "", None
    )
    store.index.adopt_clip(record)
    return cid


@pytest.fixture
async def store(tmp_path: Path) -> ClipStore:
    s = ClipStore(tmp_path / "rec", StoreSettings(monitor=False))
    await s.open()
    yield s  # type: ignore[misc]
    await s.close()


def our_files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


async def test_exports_go_with_their_clip(store: ClipStore) -> None:
    keep, drop = add_clip(store), add_clip(store)
    for cid in (keep, drop):
        export_clip(store, cid)
    (store.exports_dir / "notes.txt").write_text("the user's own file")
    assert len(our_files(store.exports_dir)) == 5
    assert await store.delete_clip(drop)
    left = our_files(store.exports_dir)
    assert not [n for n in left if drop in n]
    assert len([n for n in left if keep in n]) == 2
    assert "notes.txt" in left
    # Retention deletes exports too.
    store.settings = StoreSettings(
        retention=RetentionPolicy(max_age_days=1, min_free_bytes=0), monitor=False
    )
    assert await store.apply_retention(now=NOW + 3 * 86400) == [keep]
    assert our_files(store.exports_dir) == ["notes.txt"]


async def test_exports_of_a_clip_gone_behind_our_back_are_removed(tmp_path: Path) -> None:
    store = ClipStore(tmp_path / "rec", StoreSettings(monitor=False))
    await store.open()
    keep, gone = add_clip(store), add_clip(store)
    for cid in (keep, gone):
        export_clip(store, cid)
    await store.close()
    (store.clips_dir / f"{gone}.mp4").unlink()  # e.g. removed by hand while stopped
    store = ClipStore(tmp_path / "rec", StoreSettings(monitor=False))
    await store.open()
    try:
        assert store.index.get_clip(gone) is None
        left = our_files(store.exports_dir)
        assert len(left) == 2
        assert all(keep in name for name in left)
    finally:
        await store.close()


async def test_a_failed_export_leaves_nothing(
    store: ClipStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    cid = add_clip(store, size=100_000)

    def copy_then_fill(src: Path, dst: Path) -> None:
        with open(src, "rb") as fin, open(dst, "wb") as fout:
            fout.write(fin.read(5000))
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(shutil, "copyfile", copy_then_fill)
    with pytest.raises(OSError, match="No space"):
        export_clip(store, cid)
    assert our_files(store.exports_dir) == []
    monkeypatch.undo()

    def no_manifest(path: Path, data: bytes) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(export_module, "write_atomic", no_manifest)
    with pytest.raises(OSError, match="No space"):
        export_clip(store, cid)
    assert our_files(store.exports_dir) == []


def test_write_atomic_leaves_no_part_when_the_write_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_write = os.write

    def full(fd: int, data: bytes) -> int:
        if len(data) > 100:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_write(fd, data)

    monkeypatch.setattr(os, "write", full)
    with pytest.raises(OSError, match="No space"):
        write_atomic(tmp_path / "a.jpg", b"x" * 1000)
    assert list(tmp_path.iterdir()) == []


async def run(store: ClipStore, video: Path, actions: dict[float, object]) -> Recorder:
    rec = Recorder("front", store, RecorderSettings(preroll=1.0, postroll=1.0))
    rec.start()
    for frame in play(video, wallclock0=W0):
        for at, action in actions.items():
            if abs(frame.pts - at) < 1e-3:
                action(rec, frame)  # type: ignore[operator]
        rec.on_frame(frame, None)
        await asyncio.sleep(0)
    await rec.stop()
    return rec


async def test_a_burst_of_300_rings_writes_one_snapshot(store: ClipStore, video: Path) -> None:
    ids = [f"boot:{i}" for i in range(300)]

    def burst(part: int) -> object:
        def ring(rec: Recorder, frame: object) -> None:
            for eid in ids[part * 10 : part * 10 + 10]:
                rec.trigger("ring", eid, frame.wallclock)  # type: ignore[attr-defined]

        return ring

    # 300 rings over two seconds, ten per frame.
    await run(store, video, {(30 + i) / 15: burst(i) for i in range(30)})
    files = our_files(store.snapshots_dir)
    assert len(files) == 1  # old code: 300
    names = {store.index.get_event(eid).snapshot for eid in ids}  # type: ignore[union-attr]
    assert names == set(files)
    # A ring well after the burst gets a picture of its own.
    await run(store, video, {6.0: lambda rec, f: rec.trigger("ring", "later", f.wallclock)})
    assert len(our_files(store.snapshots_dir)) == 2


async def test_take_snapshot_repeated_writes_one_jpeg(store: ClipStore, video: Path) -> None:
    def many(rec: Recorder, frame: object) -> None:
        for i in range(50):
            assert rec.snapshot(f"manual-{i}")

    await run(store, video, {3.0: many})
    files = our_files(store.snapshots_dir)
    assert len(files) == 1  # old code: 50
    shared = {store.index.get_event(f"manual-{i}").snapshot for i in range(50)}  # type: ignore[union-attr]
    assert shared == set(files)
    # Expiring some of the events keeps the file the others still show.
    store.index.remove_event("manual-0")
    store._drop_snapshot(files[0])
    assert (store.snapshots_dir / files[0]).exists()


async def test_snapshots_count_against_the_size_limit(store: ClipStore, video: Path) -> None:
    def manual(i: int) -> object:
        return lambda rec, frame: rec.snapshot(f"manual-{i}")

    await run(store, video, {1.0: manual(0), 4.6: manual(1), 7.8: manual(2)})
    files = our_files(store.snapshots_dir)
    assert len(files) == 3
    sizes = sorted((store.snapshots_dir / n).stat().st_size for n in files)
    await store.apply_retention(now=W0 + 10)  # nothing is due yet: it only measures
    assert store.usage()["clips_bytes"] == sum(sizes)
    limit = sum(sizes) - 1  # one snapshot too many
    store.settings = StoreSettings(
        retention=RetentionPolicy(max_age_days=None, max_total_bytes=limit, min_free_bytes=0),
        monitor=False,
    )
    await store.apply_retention(now=NOW)
    assert store.media_bytes() <= limit
    assert store.usage()["clips_bytes"] <= limit
    assert store.index.get_event("manual-0").snapshot is None  # type: ignore[union-attr]
    assert store.index.get_event("manual-2").snapshot is not None  # type: ignore[union-attr]
