"""Recorder on real H.264: pre-roll, post-roll, merging, manual clips, masked re-encode."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import av
import cv2
import numpy as np
import pytest

from porchlight_edge.capture.frame import Frame
from porchlight_edge.privacy import PrivacyMasker
from porchlight_edge.recorder.encoder import EncodeSettings
from porchlight_edge.recorder.index import ClipRecord, ClipState
from porchlight_edge.recorder.notices import NoticeType, RecordingNotice
from porchlight_edge.recorder.recorder import Recorder, RecorderSettings
from porchlight_edge.recorder.storage import ClipStore
from tests.helpers.footage import make_h264, play
from tests.helpers.waiting import wait_until

W0 = 1_000_000.0  # wallclock of pts 0 in the synthetic footage


@pytest.fixture(scope="module")
def video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("media") / "cam.mp4"
    return make_h264(path, seconds=24, width=320, height=240, fps=15, gop=15)


@pytest.fixture(scope="module")
def video_bframes(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("media") / "cam_b.mp4"
    return make_h264(path, seconds=12, width=320, height=240, fps=15, gop=15, bframes=2)


def decode_times(path: Path) -> list[float]:
    with av.open(str(path)) as c:
        return [float(f.time) for f in c.decode(video=0)]


async def run(
    store: ClipStore,
    video: Path,
    settings: RecorderSettings,
    actions: dict[float, Callable[[Recorder], object]],
    motion: Callable[[float], float] = lambda pts: 0.0,
    transform: Callable[[object], object] = lambda f: f,
) -> Recorder:
    rec = Recorder("front", store, settings)
    rec.start()
    for i, frame in enumerate(play(video, wallclock0=W0)):
        for at, action in actions.items():
            if abs(frame.pts - at) < 1e-3:
                action(rec)
        rec.on_frame(transform(frame), motion(frame.pts))  # type: ignore[arg-type]
        if i % 10 == 0:
            await asyncio.sleep(0)
    await rec.stop()
    return rec


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[ClipStore]:
    events: list[RecordingNotice] = []
    s = ClipStore(tmp_path / "rec", listener=events.append)
    await s.open()
    s.test_events = events  # type: ignore[attr-defined]
    yield s
    await s.close()


def clips(store: ClipStore) -> list[ClipRecord]:
    return sorted(store.index.list_clips().items, key=lambda c: c.start)


async def test_ring_clip_has_preroll_and_postroll(store: ClipStore, video: Path) -> None:
    settings = RecorderSettings(preroll=3.0, postroll=4.0)
    await run(store, video, settings, {8.0: lambda r: r.trigger("ring", "ev-1", W0 + 8.0, seq=1)})
    [clip] = clips(store)
    assert clip.state is ClipState.COMPLETE
    assert clip.mode == "passthrough"
    # Starts at the keyframe at or before the pre-roll point (GOP = 1 s here).
    assert clip.start <= W0 + 8.0 - 3.0
    assert clip.start > W0 + 8.0 - 3.0 - 1.0
    assert clip.end is not None
    assert W0 + 8.0 + 4.0 - 0.2 <= clip.end <= W0 + 12.2
    times = decode_times(store.clip_path(clip.id))
    duration = times[-1] - times[0]
    assert duration == pytest.approx(clip.end - clip.start, abs=0.1)
    assert len(times) == pytest.approx(duration * 15 + 1, abs=2)
    assert [e.id for e in clip.events] == ["ev-1"]
    # The ring snapshot exists and is a JPEG of the camera picture.
    event = store.index.get_event("ev-1")
    assert event is not None
    assert event.snapshot is not None
    img = cv2.imread(str(store.snapshot_path(event.snapshot)))
    assert img is not None
    assert img.shape == (240, 320, 3)
    kinds = [e.type for e in store.test_events]  # type: ignore[attr-defined]
    assert NoticeType.CLIP_STARTED in kinds
    assert NoticeType.CLIP_FINISHED in kinds
    assert NoticeType.SNAPSHOT_READY in kinds


async def test_overlapping_triggers_merge_into_one_clip(store: ClipStore, video: Path) -> None:
    settings = RecorderSettings(preroll=2.0, postroll=3.0)
    actions = {
        5.0: lambda r: r.trigger("motion", "m-1", W0 + 5.0, seq=1),
        7.0: lambda r: r.trigger("ring", "r-2", W0 + 7.0, seq=2),
        16.0: lambda r: r.trigger("ring", "r-3", W0 + 16.0, seq=3),
    }
    await run(store, video, settings, actions)
    first, second = clips(store)
    assert [e.id for e in first.events] == ["m-1", "r-2"]
    assert [e.seq for e in first.events] == [1, 2]
    assert first.end == pytest.approx(W0 + 10.0, abs=0.15)  # last trigger + post-roll
    assert [e.id for e in second.events] == ["r-3"]
    for clip in (first, second):
        times = decode_times(store.clip_path(clip.id))
        assert times[-1] - times[0] == pytest.approx(clip.end - clip.start, abs=0.1)  # type: ignore[operator]


async def test_motion_extends_postroll_and_picks_biggest_motion_frame(
    store: ClipStore, video: Path
) -> None:
    settings = RecorderSettings(preroll=1.0, postroll=2.0)

    def motion(pts: float) -> float:
        if 4.0 <= pts <= 9.0:
            return 5.0 if abs(pts - 5.0) < 1e-3 else 1.0
        return 0.0

    await run(store, video, settings, {4.0: lambda r: r.trigger("motion", "m-1", W0 + 4.0)}, motion)
    [clip] = clips(store)
    # Motion lasted until 9 s: the clip ends two seconds later, not at 4 + 2.
    assert clip.end == pytest.approx(W0 + 11.0, abs=0.15)
    event = store.index.get_event("m-1")
    assert event is not None
    assert event.snapshot is not None
    # The snapshot is the 5.0 s frame (largest motion): compare against the decoded source.
    frames = {round(f.pts, 3): f for f in play(video, wallclock0=W0) if 4.9 < f.pts < 5.1}
    img = cv2.imread(str(store.snapshot_path(event.snapshot)))
    assert img is not None
    snap = img.astype(np.int16)
    diffs = {pts: np.abs(snap - f.to_bgr().astype(np.int16)).mean() for pts, f in frames.items()}
    assert min(diffs, key=diffs.__getitem__) == pytest.approx(5.0, abs=1e-3)


async def test_manual_clip_lasts_n_seconds(store: ClipStore, video: Path) -> None:
    settings = RecorderSettings(preroll=5.0, postroll=10.0)
    rec = Recorder("front", store, settings)
    rec.start()
    manual: asyncio.Task[ClipRecord] | None = None
    for i, frame in enumerate(play(video, wallclock0=W0)):
        if abs(frame.pts - 6.0) < 1e-3:
            rec.on_frame(frame, None)
            # Manual clips have no pre-roll; the clock is the camera's (replayed) time.
            manual = asyncio.create_task(rec.record_manual(4.0, event_id="manual-1"))
            await asyncio.sleep(0)
            continue
        rec.on_frame(frame, None)
        if i % 5 == 0:
            await asyncio.sleep(0)
    assert manual is not None
    await rec.stop()
    clip = await manual
    assert clip.duration is not None
    times = decode_times(store.clip_path(clip.id))
    assert 3.8 <= times[-1] - times[0] <= 5.2
    assert [e.kind for e in clip.events] == ["manual"]


async def test_bframes_source_is_remuxed_decodably(store: ClipStore, video_bframes: Path) -> None:
    settings = RecorderSettings(preroll=2.0, postroll=3.0)
    await run(store, video_bframes, settings, {5.0: lambda r: r.trigger("ring", "b-1", W0 + 5.0)})
    [clip] = clips(store)
    times = decode_times(store.clip_path(clip.id))
    assert times == sorted(times)
    assert times[-1] - times[0] >= 4.5


async def test_masked_frames_are_reencoded_with_the_mask_black(
    store: ClipStore, video: Path
) -> None:
    # The mask covers the band the bright block moves through, so the test can fail.
    polygon = [(0.2, 0.25), (0.8, 0.25), (0.8, 0.7), (0.2, 0.7)]
    masker = PrivacyMasker([polygon])
    # Frames arrive faster than real time here: let the encoder queue instead of dropping.
    settings = RecorderSettings(preroll=2.0, postroll=3.0, encode=EncodeSettings(queue_size=500))
    rec = await run(
        store,
        video,
        settings,
        {6.0: lambda r: r.trigger("ring", "k-1", W0 + 6.0)},
        transform=masker.apply,  # type: ignore[arg-type]
    )
    assert rec.mode == "encode"
    [clip] = clips(store)
    assert clip.mode == "encode"
    inside = cv2.erode(masker.mask(320, 240).astype(np.uint8), np.ones((9, 9), np.uint8)) > 0
    outside = cv2.erode((~masker.mask(320, 240)).astype(np.uint8), np.ones((9, 9), np.uint8)) > 0
    count = 0
    with av.open(str(store.clip_path(clip.id))) as c:
        for vframe in c.decode(video=0):
            y = vframe.to_ndarray(format="gray")
            assert y[inside].max() <= 24, "masked area is not black"
            assert y[outside].mean() > 60
            count += 1
    assert count >= 4.5 * 15
    event = store.index.get_event("k-1")
    assert event is not None
    assert event.snapshot is not None
    snap = cv2.imread(str(store.snapshot_path(event.snapshot)), cv2.IMREAD_GRAYSCALE)
    assert snap is not None
    assert snap[inside].max() <= 24


async def test_ring_snapshot_is_the_next_frame_not_the_fallback(
    store: ClipStore, video: Path
) -> None:
    """The visitor's picture comes from the first frame after the press, straight away."""
    rec = Recorder("front", store, RecorderSettings(preroll=1.0, postroll=1.0))
    rec.start()
    frames = iter(play(video, wallclock0=W0))
    for _ in range(20):
        before = next(frames)
        rec.on_frame(before, 0.0)
    rec.trigger("ring", "ev-next", at=W0 + 19.5 / 15, seq=1)  # between frames 19 and 20
    after = next(frames)
    rec.on_frame(after, 0.0)
    events = store.test_events  # type: ignore[attr-defined]
    # Well before the no-more-frames fallback (deadline + stall_seconds = 4 s of camera time).
    await wait_until(
        lambda: NoticeType.SNAPSHOT_READY in [e.type for e in events], 1.0, "the snapshot"
    )
    await rec.stop()
    event = store.index.get_event("ev-next")
    assert event is not None
    assert event.snapshot is not None
    snap = cv2.imread(str(store.snapshot_path(event.snapshot)), cv2.IMREAD_GRAYSCALE).astype(int)

    def distance(frame: Frame) -> float:
        return float(np.abs(snap - frame.luma(frame.height).astype(int)).mean())

    # JPEG and sensor noise aside, it is the frame after the press, not the one before.
    assert distance(after) < distance(before)


async def test_longer_preroll_set_at_run_time_is_buffered(store: ClipStore, video: Path) -> None:
    def longer(rec: Recorder) -> None:
        rec.set_settings(RecorderSettings(preroll=10.0, postroll=1.0))

    # A 1 s pre-roll buffers about 1 s + one encoder keyframe interval (2 s) + one GOP.
    settings = RecorderSettings(preroll=1.0, postroll=1.0)
    actions = {1.0: longer, 15.0: lambda r: r.trigger("ring", "ev-long", W0 + 15.0, seq=1)}
    await run(store, video, settings, actions)
    [clip] = clips(store)
    # The buffer grew with the setting: the clip reaches back the whole new pre-roll.
    assert clip.start <= W0 + 15.0 - 10.0
