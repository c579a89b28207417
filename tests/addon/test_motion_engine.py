"""Motion engine on synthetic scenes whose truth we know exactly."""

from __future__ import annotations

from typing import TYPE_CHECKING

import cv2
import numpy as np
import pytest

from porchlight_edge.capture.frame import Frame
from porchlight_edge.motion import MotionConfig, MotionEngine, MotionHysteresis, Zone
from tests.helpers.motion_scenes import FPS, H, W, draw, figure_box, scene, shoot, visitor_frames

if TYPE_CHECKING:
    from numpy.typing import NDArray


def iou(a: tuple[float, ...], b: tuple[float, ...]) -> float:
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    ix = max(0.0, min(ax + aw, bx + bw) - max(ax, bx))
    iy = max(0.0, min(ay + ah, by + bh) - max(ay, by))
    inter = ix * iy
    return inter / (aw * ah + bw * bh - inter)


def run(engine: MotionEngine, frames: list[NDArray[np.uint8]]) -> list[bool]:
    return [engine.process(f, i / FPS).has_motion for i, f in enumerate(frames)]


def test_walking_figure_detected_fast_with_box_on_it() -> None:
    rng = np.random.default_rng(1)
    bg = scene()
    engine = MotionEngine(MotionConfig(on_frames=2))
    onset = 30
    first_hit = None
    for i in range(60):
        img = bg.copy()
        box = figure_box(i, onset) if i >= onset else None
        if box:
            draw(img, box)
        y = shoot(img, rng)
        # Through the real Frame path: I420 at 4x the working size, decimated luma.
        big = cv2.resize(y, (W * 4, H * 4), interpolation=cv2.INTER_NEAREST)
        i420 = np.concatenate([big, np.full((H * 2, W * 4), 128, np.uint8)])
        frame = Frame.from_i420(i420, i / FPS, 0.0)
        res = engine.process(frame.luma(engine.config.detect_height), frame.pts)
        # 720 rows scaled to the 100-row working height: a non-integer factor.
        assert res.mask.shape == (100, round(W * 100 / H))
        assert res.pts == pytest.approx(i / FPS)
        if box is None:
            assert not res.has_motion, f"motion on the empty scene at frame {i}"
            continue
        if res.has_motion and first_hit is None:
            first_hit = i
        if res.has_motion:
            truth = (box[0] / W, box[1] / H, box[2] / W, box[3] / H)
            best = max(iou(b, truth) for b in res.boxes)
            assert best > 0.5, f"frame {i}: boxes {res.boxes} miss the figure at {truth}"
        if i == onset + 5:
            assert res.active, "hysteresis should be on a few frames after onset"
    assert first_hit is not None
    assert first_hit - onset <= 2


def test_global_brightness_steps_make_no_motion() -> None:
    rng = np.random.default_rng(2)
    bg = scene()
    engine = MotionEngine()
    gains = [1.0] * 30 + [1.7] * 20 + [0.5] * 20 + [1.0] * 10
    hits = run(engine, [shoot(bg * g, rng) for g in gains])
    assert not any(hits), f"lighting steps reported as motion at frames {np.flatnonzero(hits)}"


def test_ir_switch_relearns_without_motion() -> None:
    rng = np.random.default_rng(3)
    day = scene(3)
    night = 255 - scene(4) * 0.8  # a different-looking picture, as when IR turns on
    engine = MotionEngine()
    hits = run(
        engine, [shoot(day, rng) for _ in range(20)] + [shoot(night, rng) for _ in range(20)]
    )
    assert not any(hits)


def test_person_walking_up_during_lighting_change_is_detected() -> None:
    rng = np.random.default_rng(4)
    bg = scene()
    engine = MotionEngine()
    onset = 30
    hits = []
    for i in range(50):
        # Porch light fades up over 20 frames while a person walks up (grows) to the door.
        gain = 1.0 + 0.8 * min(1.0, max(0, i - onset) / 20)
        img = bg * gain
        if i >= onset:
            grow = 1 + (i - onset) * 0.15
            w, h = int(0.06 * W * grow), int(0.2 * H * grow)
            x, y = W // 2 - w // 2, min(H - h, int(0.3 * H))
            draw(img, (x, y, w, min(h, H - y)), level=30.0)
        hits.append(engine.process(shoot(img, rng), i / FPS).has_motion)
    assert not any(hits[:onset])
    assert any(hits[onset : onset + 3]), "person not detected within 2 frames of onset"
    assert all(hits[onset + 3 :]), "person lost while the light changed"


def test_noise_only_makes_no_motion() -> None:
    rng = np.random.default_rng(5)
    bg = scene()
    hits = run(MotionEngine(), [shoot(bg, rng, sigma=5.0) for _ in range(100)])
    assert not any(hits)


def swaying_frames(n: int) -> list[NDArray[np.uint8]]:
    """A branch in the top-left corner swinging back and forth."""
    rng = np.random.default_rng(6)
    bg = scene()
    out = []
    for i in range(n):
        img = bg.copy()
        dx = int(12 * np.sin(i * 0.9))
        cv2.line(img, (20 + dx, 5), (70 - dx, 60), 230.0, 6)
        out.append(shoot(img, rng))
    return out


def test_motion_mask_hides_swaying_branch() -> None:
    frames = swaying_frames(60)
    # Without the mask the branch is motion: proves the scene would trip the engine.
    assert any(run(MotionEngine(MotionConfig(min_area_pct=0.1)), frames)[10:])
    mask = ((0.0, 0.0), (0.35, 0.0), (0.35, 0.45), (0.0, 0.45))
    engine = MotionEngine(MotionConfig(min_area_pct=0.1, masks=(mask,)))
    results = [engine.process(f, i / FPS) for i, f in enumerate(frames)]
    assert not any(r.has_motion for r in results)
    assert all(r.mask.max() == 0 for r in results)


def walking_frames(n: int, onset: int) -> list[NDArray[np.uint8]]:
    rng = np.random.default_rng(7)
    bg = scene()
    out = []
    for i in range(n):
        img = bg.copy()
        if i >= onset:
            draw(img, figure_box(i, onset, x0=0.05, speed=0.01))
        out.append(shoot(img, rng))
    return out


def test_zones_decide_where_motion_counts() -> None:
    frames = walking_frames(40, 20)  # figure stays in the left third
    right = Zone("street", [(0.6, 0.0), (1.0, 0.0), (1.0, 1.0), (0.6, 1.0)])
    left = Zone("porch", [(0.0, 0.0), (0.5, 0.0), (0.5, 1.0), (0.0, 1.0)])

    outside = MotionEngine(MotionConfig(zones=(right,)))
    assert not any(run(outside, frames))

    engine = MotionEngine(MotionConfig(zones=(right, left)))
    results = [engine.process(f, i / FPS) for i, f in enumerate(frames)]
    moving = [r for r in results[20:] if r.has_motion]
    assert len(moving) >= 18
    assert all(r.zones_hit == ["porch"] for r in moving)
    # Percentage is of the zones' area: the figure covers a few percent of it.
    assert all(1.0 < r.motion_pct < 20.0 for r in moving)


def test_sensitivity_changes_at_run_time() -> None:
    rng = np.random.default_rng(8)
    bg = scene()
    engine = MotionEngine(MotionConfig(threshold=40))
    hits = []
    for i in range(60):
        img = bg.copy()
        if i >= 20:
            x, y, w, h = figure_box(i, 20)
            img[y : y + h, x : x + w] += 25.0  # a low-contrast figure
        if i == 40:
            engine.set_sensitivity(threshold=12)
        hits.append(engine.process(shoot(img, rng), i / FPS).has_motion)
    assert not any(hits[:40]), "threshold 40 should not see a 25-level figure"
    assert all(hits[41:]), "threshold 12 should see it"
    engine.set_sensitivity(min_area_pct=50.0)
    assert not engine.process(shoot(bg + 0, rng), 6.1).has_motion
    with pytest.raises(ValueError, match="threshold"):
        engine.set_sensitivity(threshold=0)
    with pytest.raises(ValueError, match="min_area_pct"):
        engine.set_sensitivity(min_area_pct=-1)


def test_hysteresis_on_after_n_frames_off_after_t_seconds() -> None:
    hys = MotionHysteresis(on_frames=3, off_seconds=2.0)
    assert hys.update(0.0, True) is None
    assert hys.update(0.1, False) is None  # streak broken
    assert hys.update(0.2, True) is None
    assert hys.update(0.3, True) is None
    assert hys.update(0.4, True) is True
    assert hys.active
    assert hys.update(0.5, True) is None
    assert hys.update(2.4, False) is None  # 1.9 s after the last motion
    assert hys.update(2.45, True) is None  # motion again resets the off timer
    assert hys.update(4.4, False) is None
    assert hys.update(4.45, False) is False
    assert hys.update(4.5, True) is None  # one frame is not enough to turn on again
    with pytest.raises(ValueError, match="on_frames"):
        MotionHysteresis(on_frames=0)


def test_engine_reports_hysteresis_changes() -> None:
    frames = walking_frames(30, 10)
    engine = MotionEngine(MotionConfig(on_frames=2, off_seconds=0.5))
    changes = []
    for i, f in enumerate(frames + [frames[0]] * 20):
        r = engine.process(f, i / FPS)
        if r.changed is not None:
            changes.append((i, r.changed))
    assert changes[0][1] is True
    assert 10 < changes[0][0] <= 12
    assert changes[-1][1] is False


def test_start_position_of_object_that_walks_away_is_not_motion() -> None:
    # The figure is in the very first frame, so it is in the background; once it has
    # walked off, its old place differs from the background but has no outline in the
    # current frame: a ghost, not motion.
    rng = np.random.default_rng(4)
    bg = scene(2)
    engine = MotionEngine()
    start = figure_box(0, 0, speed=0.03)
    start_rel = (start[0] / W, start[1] / H, start[2] / W, start[3] / H)
    for i in range(14):
        img = bg.copy()
        box = figure_box(i, 0, speed=0.03)
        draw(img, box)
        res = engine.process(shoot(img, rng), i / FPS)
        if i < 5:  # still overlapping its start position
            continue
        truth = (box[0] / W, box[1] / H, box[2] / W, box[3] / H)
        assert res.has_motion, f"frame {i}: the walking figure is missed"
        assert max(iou(b, truth) for b in res.boxes) > 0.5, f"frame {i}: {res.boxes}"
        ghost = max(iou(b, start_rel) for b in res.boxes)
        assert ghost < 0.2, f"frame {i}: start position reported as motion {res.boxes}"


def test_visitor_standing_still_stays_detected_until_the_hold() -> None:
    rng = np.random.default_rng(7)
    # 60 s of standing still at 10 fps; the old engine absorbed him after 15 frames.
    frames = visitor_frames(rng, walk=20, wait=600)
    engine = MotionEngine(MotionConfig(still_hold_seconds=300.0))
    hits = run(engine, frames)
    assert all(hits[12:]), (
        f"still visitor lost at frames {np.flatnonzero(~np.array(hits[12:])) + 12}"
    )
    # With a short hold the same visitor joins the background once the hold is over.
    engine = MotionEngine(MotionConfig(still_hold_seconds=10.0))
    hits = run(engine, frames)
    assert all(hits[12 : 30 + 95]), "lost before the hold was over"
    assert not any(hits[30 + 110 :]), "still reported long after the hold"


def test_ghost_of_object_present_at_start_clears_within_two_seconds() -> None:
    # A parcel lies there at start-up and is taken away: its place looks changed
    # against the background but is no object; it must not stay motion.
    rng = np.random.default_rng(8)
    bg = scene(7)
    with_parcel = bg.copy()
    draw(with_parcel, (W // 2, H // 2, W // 8, H // 6), level=220.0)
    frames = [shoot(with_parcel, rng) for _ in range(10)] + [shoot(bg, rng) for _ in range(60)]
    hits = run(MotionEngine(), frames)
    assert not any(hits[10 + int(2 * FPS) :]), f"ghost kept: {np.flatnonzero(hits)}"


def test_local_lighting_change_clears_within_two_seconds() -> None:
    # Sun through a window brightens a patch of the porch (texture kept, one gain).
    rng = np.random.default_rng(9)
    bg = scene(8)
    lit = bg.copy()
    x, y, w, h = W // 4, H // 4, W // 3, H // 3
    lit[y : y + h, x : x + w] *= 1.5
    frames = [shoot(bg, rng) for _ in range(10)] + [shoot(lit, rng) for _ in range(60)]
    hits = run(MotionEngine(), frames)
    assert not any(hits[10 + int(2 * FPS) :]), f"lighting kept: {np.flatnonzero(hits)}"


def _flicker_level(fps: float, seconds: float = 0.6) -> float:
    """Mean flip rate (0..1) the engine has learned for a patch glinting on every other frame."""
    rng = np.random.default_rng(3)
    bg = scene(4)
    engine = MotionEngine()
    y0, x0, size = H // 3, W // 3, 12
    for i in range(int(seconds * fps) + 1):
        img = bg.copy()
        if i % 2:
            img[y0 : y0 + size, x0 : x0 + size] += 60.0
        engine.process(shoot(img, rng), i / fps)
    inner = engine._blink[y0 + 2 : y0 + size - 2, x0 + 2 : x0 + size - 2]
    return float(inner.mean()) / 255.0


def test_flip_rate_learns_in_seconds_not_frames() -> None:
    # Sparkle that flips on every frame raises the threshold by the same amount after
    # the same time at any frame rate (it was per frame: 5 fps learned 3x slower).
    levels = {fps: _flicker_level(fps) for fps in (5.0, 10.0, 25.0, 50.0)}
    assert min(levels.values()) > 0.5, levels
    assert max(levels.values()) - min(levels.values()) < 0.05, levels


def striped(img: NDArray[np.float32], box: tuple[int, int, int, int]) -> None:
    """A figure with vertical stripes: where it overlaps its old place, it still differs."""
    x, y, w, h = box
    cols = np.arange(x, x + w)
    img[y : y + h, x : x + w] = np.where(cols // 4 % 2, 30.0, 90.0)[None, :]


def test_place_left_is_no_motion_while_the_leaver_is_next_to_it() -> None:
    # Someone in view at start-up walks off slowly: the place they stood and they are
    # one changed region until they are clear of it. That place is not motion (it was
    # reported whole for about a second), while they are.
    rng = np.random.default_rng(11)
    bg = scene(12)
    x0, y, w, h = W // 4, int(0.25 * H), W // 10, int(0.6 * H)
    engine = MotionEngine()
    ghost_share, figure_share = [], []
    for i in range(23):
        step = max(0, i - 10) * 3  # still for 1 s, then 3 px per frame
        img = bg.copy()
        striped(img, (x0 + step, y, w, h))
        result = engine.process(shoot(img, rng), i / FPS)
        if i >= 17:  # the place left is wider than the stillness test's reach
            left = result.mask[y : y + h, x0 : x0 + step - 10]
            ghost_share.append(float(left.mean()) / 255.0)
            figure = result.mask[y : y + h, x0 + step : x0 + step + w]
            figure_share.append(float(figure.mean()) / 255.0)
    assert max(ghost_share) < 0.2, ghost_share
    assert min(figure_share) > 0.5, figure_share


@pytest.mark.parametrize("shape", [(0, 0), (1, 1), (1, 40), (40, 1), (0, 40)])
def test_a_picture_too_small_is_a_clear_error(shape: tuple[int, int]) -> None:
    """A broken stream's 1x1 or empty picture says what is wrong (was an OpenCV error)."""
    engine = MotionEngine()
    with pytest.raises(ValueError, match="too small for motion detection"):
        engine.process(np.zeros(shape, np.uint8), 0.0)


def test_the_smallest_picture_works() -> None:
    engine = MotionEngine()
    for i in range(5):
        result = engine.process(np.full((2, 2), 40 * i, np.uint8), i / FPS)
    assert result.mask.shape == (2, 2)
