"""A full disk pauses recording with a status event and resumes once space is back.

Runs twice: on a real 2 MB tmpfs (skipped unless this process may mount one, i.e.
root where mounting is allowed) and with a fault-injected writer and free-space
probe (always runs). The test id says which.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
import contextlib
import itertools
from pathlib import Path

import av
import pytest

from porchlight_edge.recorder.index import ClipState
from porchlight_edge.recorder.notices import NoticeType as T, RecordingNotice
from porchlight_edge.recorder.packets import EncodedPacket
from porchlight_edge.recorder.recorder import RecorderSettings
from porchlight_edge.recorder.storage import ClipStore
from porchlight_edge.recorder.writer import ClipWriter, WriteError
from tests.helpers.disk import KB, fill, recording, tmpfs
from tests.helpers.footage import make_h264, play
from tests.helpers.waiting import wait_until

W0 = 1_000_000.0


Fill = Callable[[], None]


def paused(store: ClipStore) -> bool:
    """Read through a call: the monitor flips it while the test awaits."""
    return store.paused


@contextlib.contextmanager
def small_disk(
    how: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fail_after: int = 10
) -> Iterator[tuple[Path, Fill, Fill]]:
    """A disk that fills on demand: a real tmpfs, or a writer failing once `fail_after`
    packets of a clip are written while "full"."""
    mount = tmp_path / "disk"
    if how == "tmpfs":
        with tmpfs(mount, "2m"):
            yield mount, lambda: fill(mount, 150 * KB), lambda: (mount / "filler").unlink()
        return
    # Fault injection: the writer fails with ENOSPC and free space reads low while "full".
    mount.mkdir(parents=True, exist_ok=True)
    state = {"full": False}
    real_write = ClipWriter.write

    def write(self: ClipWriter, packet: EncodedPacket) -> None:
        if state["full"] and self.packets > fail_after:
            raise WriteError("No space left on device", enospc=True)
        real_write(self, packet)

    monkeypatch.setattr(ClipWriter, "write", write)
    monkeypatch.setattr(
        ClipStore, "free_bytes", lambda self: 100 * KB if state["full"] else 10_000 * KB
    )
    yield mount, lambda: state.update(full=True), lambda: state.update(full=False)


@pytest.mark.parametrize("how", ["tmpfs", "fault-injected"])
async def test_disk_full_pauses_and_resumes(
    how: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    video = make_h264(
        tmp_path / "cam.mp4", seconds=20, width=480, height=360, fps=15, gop=15, bitrate=1_500_000
    )
    events: list[RecordingNotice] = []
    with small_disk(how, tmp_path, monkeypatch) as (disk, fill_up, unfill):
        async with recording(disk / "rec", events, RecorderSettings(preroll=1.0, postroll=4.0)) as (
            store,
            rec,
        ):
            frames = play(
                video, wallclock0=W0, decode=False
            )  # lazily: packets need an open demuxer
            # Fill the disk, then ring: the clip cannot fit.
            fill_up()
            for frame in itertools.islice(frames, 60):
                if abs(frame.pts - 2.0) < 1e-3:
                    assert rec.trigger("ring", "full-1", frame.wallclock) is not None
                rec.on_frame(frame, None)
                await asyncio.sleep(0.002)
            await wait_until(lambda: paused(store), 5, "the disk-full pause")
            assert paused(store)
            assert store.pause_reason == "disk_full"
            failed = [e for e in events if e.type is T.CLIP_FAILED]
            assert failed
            assert failed[0].data["reason"] == "disk full"
            status = [e for e in events if e.type is T.STORAGE_STATUS]
            assert status[-1].data["recording"] is False
            # While paused, a ring is refused cleanly (no crash, a clip_failed event).
            assert rec.trigger("ring", "full-2") is None
            # Space comes back: the monitor resumes and salvages the cut clip.
            unfill()
            await wait_until(lambda: not paused(store), 5, "the resume")
            assert not paused(store)
            # The event comes from the monitor thread through the loop: wait for it too.
            await wait_until(
                lambda: [e for e in events if e.type is T.STORAGE_STATUS][-1].data["recording"],
                5,
                "the storage_status event of the resume",
            )
            # Recording works again.
            for frame in frames:
                if abs(frame.pts - 8.0) < 1e-3:
                    rec.trigger("ring", "after-1", frame.wallclock)
                rec.on_frame(frame, None)
                await asyncio.sleep(0)
            await rec.stop()  # waits for the worker: every clip is closed
            listed = store.index.list_clips().items
            after = [c for c in listed if any(e.id == "after-1" for e in c.events)]
            assert after
            assert after[0].state is ClipState.COMPLETE
            for clip in listed:
                with av.open(str(store.clip_path(clip.id))) as c:
                    assert sum(1 for _ in c.decode(video=0)) > 0


@pytest.mark.parametrize("how", ["tmpfs", "fault-injected"])
async def test_a_clip_the_full_disk_broke_ends_at_once(
    how: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The failed clip is kept as partial at once; later triggers start new clips."""
    video = make_h264(
        tmp_path / "cam.mp4", seconds=24, width=480, height=360, fps=15, gop=15, bitrate=1_000_000
    )
    events: list[RecordingNotice] = []
    with small_disk(how, tmp_path, monkeypatch, fail_after=40) as (disk, fill_up, unfill):
        async with recording(disk / "rec", events, RecorderSettings(preroll=1.0, postroll=4.0)) as (
            store,
            rec,
        ):
            frames = play(video, wallclock0=W0, decode=False)
            broken = None
            for frame in frames:
                if abs(frame.pts - 2.0) < 1e-3:  # a long clip: it would run to 62 s
                    broken = rec.trigger("ring", "ring-1", frame.wallclock, postroll=60.0)
                if abs(frame.pts - 5.0) < 1e-3:  # three whole fragments are on disk
                    fill_up()
                rec.on_frame(frame, None)
                await asyncio.sleep(0.002)
                if frame.pts > 5.0 and paused(store):
                    break
            assert broken is not None
            await wait_until(lambda: paused(store), 5, "the disk-full pause")
            failed = [e for e in events if e.type is T.CLIP_FAILED]
            assert [e.data["clip_id"] for e in failed] == [broken]
            await wait_until(lambda: rec.recording is None, 5, "the failed clip to end")
            # Space comes back: resumed; the failed clip is partial, without a restart.
            unfill()
            await wait_until(lambda: not paused(store), 5, "the resume")

            def salvaged() -> bool:
                record = store.index.get_clip(broken)
                return record is not None and record.state is ClipState.PARTIAL

            await wait_until(salvaged, 10, "the salvage of the failed clip")
            with av.open(str(store.clip_path(broken))) as c:
                assert sum(1 for _ in c.decode(video=0)) >= 45  # 3 s of whole fragments
            assert not store.part_path(broken).exists()
            # The next ring starts a new clip, announced with clip_started.
            after = None
            for frame in frames:
                if after is None and frame.pts >= 9.0:
                    after = rec.trigger("ring", "ring-2", frame.wallclock)
                    assert after not in (None, broken)
                rec.on_frame(frame, None)
                await asyncio.sleep(0)
                if frame.pts > 15.0:
                    break
            # The worker announces it once its first keyframe is on disk (a loaded machine
            # may take longer than the frames above).
            await wait_until(
                lambda: after in [e.data["clip_id"] for e in events if e.type is T.CLIP_STARTED],
                5,
                "clip_started of the next clip",
            )
            # ... and so does record_clip (a manual clip), also while frames keep coming.
            manual = asyncio.ensure_future(rec.record_manual(1.0))
            for frame in frames:
                rec.on_frame(frame, None)
                await asyncio.sleep(0)
                if manual.done():
                    break
            made = await manual
            assert made.id not in (broken, after)
            assert made.state is ClipState.COMPLETE
