"""The mask's outline redrawn at a finer resolution than the engine works at."""

from __future__ import annotations

from typing import TYPE_CHECKING

import cv2
import numpy as np
import pytest

from porchlight_edge.capture.frame import Frame
from porchlight_edge.motion import MotionConfig, MotionEngine
from porchlight_edge.motion.outline import refine_outline

if TYPE_CHECKING:
    from numpy.typing import NDArray

H, W = 240, 360
FPS = 25.0


def backdrop(rng: np.random.Generator) -> NDArray[np.float32]:
    coarse = rng.uniform(60, 180, (H // 12, W // 12)).astype(np.float32)
    return np.asarray(cv2.resize(coarse, (W, H), interpolation=cv2.INTER_CUBIC), np.float32)


def walker(i: int) -> NDArray[np.bool_]:
    """An ellipse (a person seen at a distance) walking right, at camera resolution.
    Its edges fall between the working height's blocks (240 rows to 100: 2.4 px)."""
    truth = np.zeros((H, W), np.uint8)
    cv2.ellipse(truth, (int(60 + 3.3 * i), 131), (17, 61), 0, 0, 360, 255, -1)
    return truth > 0


def f1(truth: NDArray[np.bool_], pred: NDArray[np.bool_]) -> float:
    tp = np.count_nonzero(truth & pred)
    return float(2 * tp / (np.count_nonzero(truth) + np.count_nonzero(pred)))


def test_outline_follows_the_object_closer_than_the_working_blocks() -> None:
    rng = np.random.default_rng(3)
    bg = backdrop(rng)
    engine = MotionEngine(MotionConfig(detect_height=100))
    coarse_f1, fine_f1 = [], []
    for i in range(60):
        img = bg.copy()
        truth = walker(i) if i >= 20 else np.zeros((H, W), bool)
        img[truth] = 30.0
        y = np.asarray(np.clip(img + rng.normal(0, 2.0, img.shape), 0, 255), np.uint8)
        bgr = np.asarray(cv2.cvtColor(y, cv2.COLOR_GRAY2BGR), np.uint8)
        frame = Frame.from_bgr(bgr, i / FPS, i / FPS)
        result = engine.process(frame.luma(100), i / FPS)
        fine = engine.outline(bgr if i % 2 else y)
        assert fine.shape == (H, W)
        assert fine.dtype == np.uint8
        if i < 25:
            continue
        blocks = cv2.resize(result.mask, (W, H), interpolation=cv2.INTER_NEAREST) > 0
        coarse_f1.append(f1(truth, blocks))
        fine_f1.append(f1(truth, fine > 0))
    # The engine finds the walker either way; the outline is the finer of the two.
    assert min(coarse_f1) > 0.7
    assert np.mean(fine_f1) > np.mean(coarse_f1) + 0.03, (np.mean(fine_f1), np.mean(coarse_f1))


def test_empty_mask_gives_an_empty_outline_at_the_fine_size() -> None:
    mask = np.zeros((100, 150), np.uint8)
    bg = np.full((100, 150), 100.0, np.float32)
    lim = np.full_like(bg, 400.0)
    out = refine_outline(mask, mask, bg, lim, np.zeros((480, 720), np.uint8), 240)
    assert out.shape == (240, 360)
    assert not out.any()


def test_outline_needs_a_frame_and_a_finer_picture() -> None:
    engine = MotionEngine()
    with pytest.raises(RuntimeError, match="processed frame"):
        engine.outline(np.zeros((240, 360), np.uint8))
    engine.process(np.zeros((100, 150), np.uint8), 0.0)
    with pytest.raises(ValueError, match="smaller than the mask"):
        engine.outline(np.zeros((50, 75), np.uint8))
    with pytest.raises(ValueError, match="outline_height"):
        MotionConfig(outline_height=8)


def test_outline_is_never_coarser_than_the_working_height() -> None:
    # A camera configured to work on 300 rows (above the default outline height) keeps
    # its own detail: the outline is drawn at the working height, not below it.
    engine = MotionEngine(MotionConfig(detect_height=300))
    picture = np.zeros((600, 800), np.uint8)
    engine.process(picture[::2, ::2].copy(), 0.0)
    assert engine.outline(picture).shape == (300, 400)
