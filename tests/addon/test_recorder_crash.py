"""kill -9 in the middle of a clip: reconciliation salvages it, the index stays consistent."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
import signal
import subprocess
import sys
import time

import av
import pytest

from porchlight_edge.recorder.index import ClipState
from porchlight_edge.recorder.storage import ClipStore
from tests.helpers.footage import make_h264

REPO = Path(__file__).resolve().parents[2]

WRITER = """
import asyncio, sys, time
from pathlib import Path
from porchlight_edge.recorder.recorder import Recorder, RecorderSettings
from porchlight_edge.recorder.storage import ClipStore
from tests.helpers.footage import play

def say(event):
    print(event.type, event.data.get("clip_id"), flush=True)

async def main():
    store = ClipStore(Path(sys.argv[1]), listener=say)
    await store.open()
    rec = Recorder("front", store, RecorderSettings(preroll=1.0, postroll=1.0))
    rec.start()
    for frame in play(Path(sys.argv[2]), wallclock0=1_000_000.0):
        if abs(frame.pts - 2.0) < 1e-3:
            rec.trigger("ring", "done-1", frame.wallclock)    # finishes at 3 s
        if abs(frame.pts - 5.0) < 1e-3:
            rec.trigger("ring", "crash-1", frame.wallclock, postroll=60.0)  # never finishes
        rec.on_frame(frame, None)
        await asyncio.sleep(0.02 if frame.pts > 5 else 0)  # slow writing, like a camera
    print("END", flush=True)

asyncio.run(main())
"""


def test_kill_9_mid_clip_leaves_a_consistent_index(tmp_path: Path) -> None:
    video = make_h264(tmp_path / "cam.mp4", seconds=30, width=320, height=240, fps=15, gop=15)
    root = tmp_path / "rec"
    script = tmp_path / "writer.py"
    script.write_text(WRITER)
    env = {**os.environ, "PYTHONPATH": f"{REPO / 'addon'}:{REPO}"}
    proc = subprocess.Popen(
        [sys.executable, str(script), str(root), str(video)],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert proc.stdout is not None
    crash_clip = None
    done_clip = None
    deadline = time.monotonic() + 30
    try:
        for line in proc.stdout:
            kind, _, clip_id = line.strip().partition(" ")
            if kind == "clip_finished":
                done_clip = clip_id
            if kind == "clip_started" and done_clip is not None:
                crash_clip = clip_id
                break
            assert time.monotonic() < deadline
        assert crash_clip is not None, "the writer never started the second clip"
        part = root / "clips" / f"{crash_clip}.mp4.part"
        while part.stat().st_size < 40_000:  # a few fragments written, the clip unfinished
            assert proc.poll() is None
            assert time.monotonic() < deadline
            time.sleep(0.05)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    assert part.exists()

    async def reopen() -> None:
        store = ClipStore(root)
        report = await store.open()
        try:
            assert report.recovered == [crash_clip]
            assert not part.exists()
            assert done_clip is not None
            listed = {c.id: c for c in store.index.list_clips().items}
            assert set(listed) == {done_clip, crash_clip}
            assert listed[done_clip].state is ClipState.COMPLETE
            assert listed[crash_clip].state is ClipState.PARTIAL
            assert [e.id for e in listed[crash_clip].events] == ["crash-1"]
            for clip in listed.values():
                with av.open(str(store.clip_path(clip.id))) as c:
                    frames = [f.time for f in c.decode(video=0)]
                assert len(frames) >= 15
                assert frames[-1] - frames[0] == pytest.approx(clip.duration, abs=0.15)
            # A second reconciliation finds nothing left to do.
            again = store.reconcile()
            assert again.recovered == []
            assert again.dropped == []
            assert again.adopted == []
            assert again.missing == []
        finally:
            await store.close()

    asyncio.run(reopen())
