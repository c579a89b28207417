"""A clip that ends abnormally is finished in the index at once, never left `recording`.

Disk full (with no space back yet), another write error, and a job that breaks in an
unexpected way: each keeps the clip's whole fragments as a `partial` clip that
list_clips shows and that plays, and announces it with clip_failed then clip_finished.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import av
import pytest

from porchlight_edge.recorder.index import ClipRecord, ClipState
from porchlight_edge.recorder.notices import NoticeType as T, RecordingNotice
from porchlight_edge.recorder.packets import EncodedPacket
from porchlight_edge.recorder.recorder import CAMERA_LOST, RecorderSettings
from porchlight_edge.recorder.storage import ClipStore
from porchlight_edge.recorder.writer import ClipWriter, WriteError
from tests.helpers.disk import KB, recording
from tests.helpers.footage import make_h264, play
from tests.helpers.waiting import wait_until

W0 = 1_000_000.0
BREAK_AFTER = 40
"""Packets written before the fault: two whole 1 s fragments (15 fps) are on disk."""

FAULTS = {
    "disk full": WriteError("No space left on device", enospc=True),
    "write error": WriteError("Input/output error"),
    "unexpected": RuntimeError("muxer state broken"),
}


async def _partial_clip(store: ClipStore, clip_id: str, what: str) -> ClipRecord:
    """The clip's record once it is no longer `recording` (within 10 s); it must be partial."""

    def finished() -> bool:
        record = store.index.get_clip(clip_id)
        return record is not None and record.state is not ClipState.RECORDING

    await wait_until(finished, 10, what)
    record = store.index.get_clip(clip_id)
    assert record is not None
    assert record.state is ClipState.PARTIAL
    return record


@pytest.mark.parametrize("fault", list(FAULTS))
async def test_a_cut_clip_is_finished_at_once(
    fault: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    video = make_h264(tmp_path / "cam.mp4", seconds=12, width=320, height=240, fps=15, gop=15)
    real_write = ClipWriter.write
    broke = {"yet": False}

    def write(self: ClipWriter, packet: EncodedPacket) -> None:
        if self.packets >= BREAK_AFTER:
            broke["yet"] = True
            raise FAULTS[fault]
        real_write(self, packet)

    monkeypatch.setattr(ClipWriter, "write", write)
    # Once broken, the disk stays short of space (above the pause, below the resume
    # threshold): nothing may wait for space to come back.
    monkeypatch.setattr(
        ClipStore, "free_bytes", lambda self: 100 * KB if broke["yet"] else 10_000 * KB
    )
    events: list[RecordingNotice] = []
    settings = RecorderSettings(preroll=1.0, postroll=60.0)
    async with recording(tmp_path / "rec", events, settings) as (store, rec):
        frames = play(video, wallclock0=W0, decode=False)
        clip_id = None
        for frame in frames:
            if clip_id is None and frame.pts >= 2.0:
                clip_id = rec.trigger("ring", "ring-1", frame.wallclock)
            rec.on_frame(frame, None)
            await asyncio.sleep(0)
            if clip_id is not None and rec.recording is None:
                break
        assert clip_id is not None
        record = await _partial_clip(store, clip_id, "the cut clip to be finished in the index")
        assert record.reason == ("disk full" if fault == "disk full" else str(FAULTS[fault]))
        assert [e.id for e in record.events] == ["ring-1"]
        assert record.end is not None
        assert 1.5 <= record.end - record.start <= 3.5
        # list_clips and list_events agree: the ring's clip is listed.
        assert clip_id in [c.id for c in store.index.list_clips().items]
        ring = store.index.get_event("ring-1")
        assert ring is not None
        assert ring.clip_id == clip_id
        assert not store.part_path(clip_id).exists()
        assert record.size == store.clip_path(clip_id).stat().st_size
        with av.open(str(store.clip_path(clip_id))) as c:
            assert sum(1 for _ in c.decode(video=0)) >= 30  # the two whole fragments
        await wait_until(lambda: any(e.type is T.CLIP_FINISHED for e in events), 5, "clip_finished")
        kinds = [e.type for e in events if e.type in (T.CLIP_FAILED, T.CLIP_FINISHED)]
        assert kinds == [T.CLIP_FAILED, T.CLIP_FINISHED]
        finished_data = next(e.data for e in events if e.type is T.CLIP_FINISHED)
        assert finished_data["state"] == "partial"
        assert finished_data["clip_id"] == clip_id


async def test_a_clip_the_camera_left_is_finished_as_cut_short(tmp_path: Path) -> None:
    """The camera falls silent mid-clip: the clip ends on time, as partial with the reason."""
    video = make_h264(tmp_path / "cam.mp4", seconds=6, width=320, height=240, fps=15, gop=15)
    events: list[RecordingNotice] = []
    settings = RecorderSettings(preroll=1.0, postroll=1.5, stall_seconds=0.5)
    async with recording(tmp_path / "rec", events, settings) as (store, rec):
        clip_id = None
        for frame in play(video, wallclock0=W0, decode=False):
            if frame.pts > 3.0:
                break  # the camera is gone, 0.5 s before the clip's planned end
            if clip_id is None and frame.pts >= 2.0:
                clip_id = rec.trigger("ring", "ring-1", frame.wallclock)
            rec.on_frame(frame, None)
            await asyncio.sleep(0)
        assert clip_id is not None
        record = await _partial_clip(store, clip_id, "the clip to end without its camera")
        assert record.reason == CAMERA_LOST
        with av.open(str(store.clip_path(clip_id))) as c:
            assert sum(1 for _ in c.decode(video=0)) >= 15
