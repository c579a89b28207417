"""The synthetic doorstep camera: picture format, noise, visitor ground truth, ring timing."""

from __future__ import annotations

import asyncio
import itertools
import time

import numpy as np
import pytest

from porchlight_edge.capture import CameraConfig, open_source
from porchlight_edge.capture.demo import DemoPhases, DemoScene, DemoSource
from porchlight_edge.protocol import RingSource
from porchlight_edge.rings import RingQueue

FAST = {"empty_before": 1.0, "walk_in": 1.0, "press": 0.4, "wait": 1.0, "leave": 1.0,
        "empty_after": 1.6}  # fmt: skip


def test_default_scene_is_720p_i420_with_the_documented_timeline() -> None:
    scene = DemoScene()
    assert scene.loop_seconds == pytest.approx(40.0)
    frame = scene.render(0.0)
    assert frame.shape == (720 * 3 // 2, 1280)
    assert frame.dtype == np.uint8
    assert scene.ring_time == pytest.approx(14.5)
    assert not scene.visitor_visible(4.0)
    assert scene.visitor_visible(12.0)
    assert scene.visitor_visible(scene.ring_time)
    assert scene.visitor_visible(20.0)  # waiting at the door
    assert not scene.visitor_visible(35.0)


def test_empty_frames_differ_only_by_noise() -> None:
    scene = DemoScene(seed=1)
    a = scene.render(1.0, 12).astype(np.int16)
    b = scene.render(1.0 + 1 / 12, 13).astype(np.int16)
    y_diff = np.abs(a[:720] - b[:720])
    assert 1.0 < y_diff.mean() < 8.0  # sensor noise everywhere, small
    assert (y_diff > 0).mean() > 0.5
    assert np.percentile(y_diff, 99.9) < 40  # no structure moved
    # Deterministic: the same seed and index give the same picture.
    again = DemoScene(seed=1).render(1.0, 12)
    assert np.array_equal(again, a.astype(np.uint8))


def test_lighting_drifts_slowly() -> None:
    scene = DemoScene(width=320, height=180, noise_sigma=0.0)
    means = [float(scene.render(t, 0)[:180].mean()) for t in range(0, 80, 5)]
    assert max(means) - min(means) > 2.0
    near = float(scene.render(1 / 12, 0)[:180].mean())
    assert abs(near - means[0]) < 0.5  # but barely between consecutive frames


def test_visitor_changes_pixels_inside_the_ground_truth_box() -> None:
    scene = DemoScene(width=640, height=360, noise_sigma=0.0, drift=0.0)
    empty = scene.render(2.0).astype(np.int16)
    t = scene.ring_time
    with_visitor = scene.render(t).astype(np.int16)
    diff = np.abs(with_visitor[:360] - empty[:360]) > 12
    box = scene.visitor_bbox(t)
    assert box is not None
    x0, y0, x1, y1 = box
    inside = diff[y0:y1, x0:x1].sum()
    assert inside > 0.2 * (x1 - x0) * (y1 - y0)
    assert diff.sum() - inside < 0.02 * inside  # nothing changes outside the box


def test_phases_scale_to_a_short_loop() -> None:
    scene = DemoScene(loop_seconds=8.0)
    assert scene.loop_seconds == pytest.approx(8.0)
    assert scene.phases.walk_in == pytest.approx(6.0 / 5)
    custom = DemoScene(phases=DemoPhases(**FAST))
    assert custom.loop_seconds == pytest.approx(6.0)
    assert custom.ring_time == pytest.approx(2.2)
    assert custom.rings_between(0.0, 6.0) == 1
    assert custom.rings_between(0.0, 18.0) == 3
    assert custom.rings_between(2.2, 8.0) == 0


def test_config_builds_a_demo_source() -> None:
    cfg = CameraConfig.from_dict(
        {
            "name": "demo",
            "source": "demo",
            "fps": 20,
            "demo": {"width": 320, "height": 180, "phases": FAST},
        }
    )
    source = open_source(cfg)
    assert isinstance(source, DemoSource)
    assert (source.scene.width, source.scene.fps, source.scene.loop_seconds) == (320, 20.0, 6.0)
    with pytest.raises(ValueError, match="unknown demo option"):
        CameraConfig.from_dict({"name": "demo", "source": "demo", "demo": {"colour": 1}})


async def test_visitor_comes_and_goes_and_rings_once_per_loop() -> None:
    """Two fast loops, as fast as possible: motion on→off in the pictures, ring at the press."""
    scene = DemoScene(width=320, height=180, fps=10, phases=FAST)
    source = DemoSource("demo", scene, realtime=False)
    rings: list[float] = []
    frame_pts: list[float] = []

    class AtFrame:
        def publish_ring(self, camera: str, ring_source: RingSource) -> None:
            assert (camera, ring_source) == ("demo", RingSource.DEMO)
            rings.append(frame_pts[-1] + 1 / 10 if frame_pts else 0.0)

    source.rings = AtFrame()
    empty = scene.render(0.5).astype(np.int16)[:180]
    changed: list[bool] = []
    async for frame in source.frames():
        assert frame.i420 is not None
        assert (frame.width, frame.height) == (320, 180)
        luma = frame.i420[:180].astype(np.int16)
        changed.append(bool((np.abs(luma - empty) > 30).sum() > 10))
        frame_pts.append(frame.pts)
        if len(frame_pts) >= 120:  # two 6 s loops at 10 fps
            break
    await source.close()
    truth = [scene.visitor_visible(t) for t in frame_pts]
    agree = np.mean([c == v for c, v in zip(changed, truth, strict=True)])
    assert agree > 0.97
    # The visitor appears and leaves in each loop: off → on → off → on → off.
    transitions = sum(1 for a, b in itertools.pairwise(changed) if a != b)
    assert transitions == 4
    assert rings == pytest.approx([2.2, 8.2], abs=0.11)


async def test_realtime_pacing_and_ring_through_the_queue() -> None:
    """The demo press reaches the deliverer through a RingQueue, as in the service."""
    scene = DemoScene(width=320, height=180, fps=20, loop_seconds=1.0)
    rung = asyncio.Event()
    delivered: list[tuple[str, RingSource]] = []

    def deliver(camera: str, ring_source: RingSource) -> None:
        delivered.append((camera, ring_source))
        rung.set()

    queue = RingQueue(deliver)
    queue.attach(asyncio.get_running_loop())
    drain = asyncio.create_task(queue.run())
    source = DemoSource("demo", scene, realtime=True, rings=queue)
    start = time.monotonic()
    count = 0
    async for _ in source.frames():
        count += 1
        if count == 20:
            break
    elapsed = time.monotonic() - start
    await source.close()
    assert 0.85 < elapsed < 1.6  # 20 frames at 20 fps ≈ 0.95 s
    await asyncio.wait_for(rung.wait(), 1.0)
    drain.cancel()
    assert delivered[0] == ("demo", RingSource.DEMO)


def test_waiting_variant_has_a_still_visitor_for_a_minute() -> None:
    demo = {"width": 320, "height": 180, "variant": "waiting"}
    cfg = CameraConfig.from_dict({"name": "demo", "source": "demo", "demo": demo})
    source = open_source(cfg)
    assert isinstance(source, DemoSource)
    scene = source.scene
    assert scene.phases.wait == 60.0
    start = scene.ring_time + 0.5 * scene.phases.press + 0.1
    boxes = {scene.visitor_bbox(start + s) for s in range(59)}
    assert len(boxes) == 1, "the visitor moves while waiting"
    assert boxes != {None}
    bad = CameraConfig.from_dict({"name": "d", "source": "demo", "demo": {"variant": "x"}})
    with pytest.raises(ValueError, match="unknown demo variant"):
        open_source(bad)
