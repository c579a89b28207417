"""Frame.luma: any camera size scaled to the engine's working height."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from porchlight_edge.capture.frame import Frame, luma_size


def i420_frame(width: int, height: int, seed: int = 0) -> tuple[Frame, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 256, (height, width), dtype=np.uint8)
    chroma = np.full((height // 2, width), 128, np.uint8)
    return Frame.from_i420(np.concatenate([y, chroma]), 0.0, 0.0), y


@pytest.mark.parametrize(
    ("size", "expected"),
    [
        ((1920, 1080), (178, 100)),  # factor 10.8: not a whole number
        ((640, 360), (178, 100)),  # 3.6
        ((320, 240), (133, 100)),  # 2.4: the old integer step (2) gave 120 rows
        ((256, 144), (178, 100)),  # a small camera: still scaled, not kept at 144
        ((160, 96), (160, 96)),  # smaller than the working height: never upscaled
    ],
)
def test_luma_reaches_the_working_height_at_any_factor(
    size: tuple[int, int], expected: tuple[int, int]
) -> None:
    frame, y = i420_frame(*size)
    assert luma_size(*size, 100) == expected
    out = frame.luma(100)
    assert (out.shape[1], out.shape[0]) == expected
    assert out.flags.c_contiguous
    # Nearest neighbour: every output pixel is a pixel of the Y plane.
    ref = cv2.resize(y, expected, interpolation=cv2.INTER_NEAREST)
    assert np.array_equal(out, ref)
    assert frame.luma(100) is out  # cached


def test_bgr_frames_scale_the_same_way() -> None:
    rng = np.random.default_rng(1)
    bgr = rng.integers(0, 256, (1080, 1920, 3), dtype=np.uint8)
    out = Frame.from_bgr(bgr, 0.0, 0.0).luma(100)
    assert out.shape == (100, 178)
    small = cv2.resize(bgr, (178, 100), interpolation=cv2.INTER_NEAREST)
    assert np.array_equal(out, cv2.cvtColor(small, cv2.COLOR_BGR2GRAY))


def test_a_bgr_frame_converted_whole_keeps_its_full_luma() -> None:
    # 240 rows to 100: most rows are kept, so the whole picture is converted once;
    # the full-size plane (the motion outline's input) then costs nothing more.
    rng = np.random.default_rng(2)
    bgr = rng.integers(0, 256, (240, 320, 3), dtype=np.uint8)
    frame = Frame.from_bgr(bgr, 0.0, 0.0)
    assert frame.luma(100).shape == (100, 133)
    frame.bgr = None  # nothing left to convert: the plane must come from the cache
    assert np.array_equal(frame.luma(240), cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY))
