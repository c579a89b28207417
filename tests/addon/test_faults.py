"""The fault suite: a full disk, kill -9 and a corrupt database, at seeded random points.

Each case draws its fault point from `random.Random(seed)` (a bounded list of seeds,
so a failure names the seed that reproduces it). The checks are the same for all:
the store (and the service) opens, every whole fragment that reached the disk is
kept, and every clip in the index decodes.

"Whole fragments on disk" is measured here with the test's own reading of the
top-level boxes and PyAV decoding that prefix, independently of the product's salvage.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
import random
import shutil
import signal
import struct
import subprocess
import sys
import time

import aiohttp
import av
import pytest

from porchlight_edge.config import parse_options
from porchlight_edge.recorder.index import ClipState
from porchlight_edge.recorder.notices import NoticeType as T, RecordingNotice
from porchlight_edge.recorder.recorder import Recorder, RecorderSettings
from porchlight_edge.recorder.storage import ClipStore, StoreSettings
from porchlight_edge.service import Service
from tests.helpers.disk import KB, fill, recording, tmpfs
from tests.helpers.footage import make_h264, play
from tests.helpers.recording_client import options
from tests.helpers.waiting import wait_until

REPO = Path(__file__).resolve().parents[2]
W0 = 1_000_000.0
GOP = 15


@pytest.fixture(scope="module")
def video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("faults") / "cam.mp4"
    return make_h264(path, seconds=16, width=480, height=360, fps=15, gop=GOP, bitrate=1_000_000)


def whole_prefix(data: bytes) -> int:
    """End of the last moof+mdat pair that is entirely in `data` (0 if none)."""
    offset, end, moof = 0, 0, False
    while offset + 8 <= len(data):
        size, kind = struct.unpack(">I4s", data[offset : offset + 8])
        if size < 8 or offset + size > len(data):
            break
        offset += size
        end = offset if kind == b"mdat" and moof else end
        moof = kind == b"moof"
    return end


def frames_in(path: Path) -> int:
    with av.open(str(path)) as container:
        return sum(1 for _ in container.decode(video=0))


def whole_frames(part: Path, scratch: Path) -> int:
    """Frames in the whole fragments of a `.part` as it lies on disk now."""
    data = part.read_bytes()
    end = whole_prefix(data)
    if end == 0:
        return 0
    scratch.write_bytes(data[:end])
    return frames_in(scratch)


def every_clip_decodes(store: ClipStore) -> dict[str, int]:
    """{clip id: frames}; every finished clip in the index decodes at least one frame."""
    out = {}
    for clip in store.index.all_clips():
        assert clip.state is not ClipState.RECORDING, clip
        out[clip.id] = frames_in(store.clip_path(clip.id))
        assert out[clip.id] > 0, clip
    return out


# --- disk full at random points (a real tmpfs) ------------------------------------------------


@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5, 6])
async def test_disk_full_at_a_random_point(seed: int, tmp_path: Path, video: Path) -> None:
    rng = random.Random(seed)
    fill_at = round(rng.uniform(1.5, 4.5) * 15) / 15  # a frame time inside the clip
    leave = rng.randrange(0, 200 * KB)
    events: list[RecordingNotice] = []
    with tmpfs(tmp_path / "disk", "4m") as disk:
        async with recording(
            disk / "rec",
            events,
            RecorderSettings(preroll=1.0, postroll=30.0),
            pause_free_bytes=8 * KB,
            resume_free_bytes=600 * KB,
            check_interval=0.05,
        ) as (store, rec):
            clip_id = None
            for frame in play(video, wallclock0=W0, decode=False):
                if clip_id is None and frame.pts >= 1.0:
                    clip_id = rec.trigger("ring", f"ring-{seed}", frame.wallclock)
                if abs(frame.pts - fill_at) < 1e-3:
                    fill(disk, leave)
                rec.on_frame(frame, None)
                await asyncio.sleep(0.001)
                if store.paused or frame.pts > 12.0:
                    break
            assert clip_id is not None
            await wait_until(lambda: store.paused, 10, f"the disk-full pause (seed {seed})")
            await wait_until(lambda: rec.recording is None, 5, "the failed clip to end")
            await rec.stop()  # the worker is idle: the .part is final
            part = store.part_path(clip_id)
            expected = whole_frames(part, tmp_path / "prefix.mp4") if part.exists() else None
            (disk / "filler").unlink()

            def settled() -> bool:
                record = store.index.get_clip(clip_id)
                return not store.paused and (
                    record is None or record.state is not ClipState.RECORDING
                )

            await wait_until(settled, 10, f"the resume and salvage (seed {seed})")
            record = store.index.get_clip(clip_id)
            case = f"seed {seed}: full at {fill_at:.2f} s, {leave} B left, {expected} frames"
            if expected:
                assert record is not None, f"{case}: the clip was lost"
                assert frames_in(store.clip_path(clip_id)) == expected, case
                assert expected >= GOP, case
            every_clip_decodes(store)
            assert not list(store.clips_dir.glob("*.part")), f"seed {seed}"
            assert any(e.type is T.CLIP_FAILED for e in events) or record is not None


# --- kill -9 at random points of recording and of recovery -------------------------------------

RECORD = """
import asyncio, sys
from pathlib import Path
from porchlight_edge.recorder.recorder import Recorder, RecorderSettings
from porchlight_edge.recorder.storage import ClipStore, StoreSettings
from tests.helpers.footage import play

def say(event):
    print(event.type, event.data.get("clip_id"), flush=True)

async def main():
    store = ClipStore(Path(sys.argv[1]), StoreSettings(monitor=False), listener=say)
    await store.open()
    rec = Recorder("front", store, RecorderSettings(preroll=1.0, postroll=1.0))
    rec.start()
    for frame in play(Path(sys.argv[2]), wallclock0=1_000_000.0, decode=False):
        if abs(frame.pts - 1.0) < 1e-3:
            rec.trigger("ring", "done-1", frame.wallclock)      # finishes at 2 s
        if abs(frame.pts - 3.0) < 1e-3:
            rec.trigger("ring", "cut-1", frame.wallclock, postroll=60.0)
        rec.on_frame(frame, None)
        await asyncio.sleep(0.01)  # a camera's pace
    print("END", flush=True)

asyncio.run(main())
"""

RECOVER = """
import asyncio, sys
from pathlib import Path
from porchlight_edge.recorder.storage import ClipStore, StoreSettings

async def main():
    print("READY", flush=True)
    store = ClipStore(Path(sys.argv[1]), StoreSettings(monitor=False))
    await store.open()
    print("RECOVERED", flush=True)

asyncio.run(main())
"""


def spawn(script: str, *args: str) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": f"{REPO / 'addon'}:{REPO}"}
    return subprocess.Popen(
        [sys.executable, "-c", script, *args], stdout=subprocess.PIPE, text=True, env=env
    )


def kill_after(proc: subprocess.Popen[str], until: str, delay: float, deadline: float) -> list[str]:
    """Read lines until one starts with `until`, wait `delay` s, SIGKILL; every line it wrote."""
    assert proc.stdout is not None
    lines = []
    try:
        for line in proc.stdout:
            lines.append(line.strip())
            if line.startswith(until):
                time.sleep(delay)
                break
            assert time.monotonic() < deadline, "the child took too long"
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    return lines + [line.strip() for line in proc.stdout]


@pytest.mark.parametrize("seed", [11, 12, 13, 14])
def test_kill_9_while_recording_and_while_recovering(
    seed: int, tmp_path: Path, video: Path
) -> None:
    rng = random.Random(seed)
    root = tmp_path / "rec"
    deadline = time.monotonic() + 60
    # kill -9 anywhere from inside the first clip, through its finish (rename, index), to
    # well into the second one.
    said = kill_after(
        spawn(RECORD, str(root), str(video)), "clip_started", rng.uniform(0.0, 4.0), deadline
    )
    finished = {line.split()[1] for line in said if line.startswith("clip_finished")}
    expected = {
        part.name.removesuffix(".mp4.part"): whole_frames(part, tmp_path / "prefix.mp4")
        for part in (root / "clips").glob("*.mp4.part")
    }
    # kill -9 the recovery at a random point (it salvages in well under a second).
    said = kill_after(spawn(RECOVER, str(root)), "READY", rng.uniform(0.0, 0.4), deadline)
    assert said[0] == "READY"
    case = f"seed {seed}: finished {sorted(finished)}, cut {expected}"

    async def recover() -> None:
        store = ClipStore(root, StoreSettings(monitor=False))
        await store.open()
        try:
            frames = every_clip_decodes(store)
            assert finished <= set(frames), f"{case}: a finished clip was lost"
            for clip_id, whole in expected.items():
                # Salvaged by the killed recovery or now: every whole fragment is there.
                assert frames.get(clip_id, 0) == whole, case
            assert not list(store.clips_dir.glob("*.part*")), case
            again = store.reconcile()
            assert (again.recovered, again.dropped, again.adopted) == ([], [], []), case
        finally:
            await store.close()

    asyncio.run(recover())


# --- a corrupt database ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory, video: Path) -> Path:
    """A data folder with two ring clips and their snapshots."""
    data = tmp_path_factory.mktemp("recorded") / "data"

    async def record() -> None:
        store = ClipStore(data / "recordings", StoreSettings(monitor=False))
        await store.open()
        rec = Recorder("porch", store, RecorderSettings(preroll=1.0, postroll=1.0))
        rec.start()
        # Recent footage: the service's retention (30 days) must not be what removes it.
        for frame in play(video, wallclock0=time.time() - 60, decode=False):
            for i, at in enumerate((2.0, 6.0)):
                if abs(frame.pts - at) < 1e-3:
                    rec.trigger("ring", f"boot:{i}", frame.wallclock, seq=i)
            rec.on_frame(frame, None)
            await asyncio.sleep(0)
            if frame.pts > 9.0:
                break
        await rec.stop()
        await store.close()

    asyncio.run(record())
    return data


@pytest.mark.parametrize("seed", [21, 22, 23])
async def test_a_corrupt_database_at_a_random_place(
    seed: int, tmp_path: Path, video: Path, recorded: Path
) -> None:
    rng = random.Random(seed)
    data = tmp_path / "data"
    shutil.copytree(recorded, data)
    for suffix in ("-wal", "-shm"):
        Path(f"{data / 'recordings' / 'index.db'}{suffix}").unlink(missing_ok=True)
    victim = data / "recordings" / "index.db"
    size = victim.stat().st_size
    offset = rng.randrange(0, size)
    with open(victim, "r+b") as f:  # noqa: ASYNC230 (a test's few bytes)
        f.seek(offset)
        f.write(rng.randbytes(rng.randrange(1, 4096)))
    clips = sorted(p.name for p in (data / "recordings" / "clips").iterdir())
    service = Service(parse_options(options(tmp_path, video), data))
    await service.start()
    try:
        async with (
            aiohttp.ClientSession() as session,
            session.get(f"http://127.0.0.1:{service.port}/healthz") as resp,
        ):
            assert resp.status == 200
        assert sorted(p.name for p in service.store.clips_dir.iterdir()) == clips
        frames = every_clip_decodes(service.store)
        assert len(frames) == len(clips), f"seed {seed} (offset {offset})"
    finally:
        await service.stop()
