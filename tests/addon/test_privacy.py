"""Privacy masks on I420 and BGR frames, and the persisted privacy state."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from porchlight_edge.capture.frame import Frame
from porchlight_edge.privacy import PrivacyMasker, PrivacyState

SQUARE = [(0.25, 0.25), (0.75, 0.25), (0.75, 0.75), (0.25, 0.75)]


def _i420(w: int, h: int) -> Frame:
    rng = np.random.default_rng(3)
    buf = rng.integers(60, 250, (h * 3 // 2, w), np.uint8)
    return Frame.from_i420(buf, 1.0, 2.0, packet=object(), packets=(object(),), keyframe=True)


def test_i420_mask_decodes_black_and_drops_packets() -> None:
    frame = _i420(64, 48)
    original = frame.i420.copy()  # type: ignore[union-attr]
    masker = PrivacyMasker([SQUARE])
    out = masker.apply(frame)
    assert out.packet is None
    assert out.packets == ()  # the unmasked packets must not leak
    assert frame.i420 is not None
    assert np.array_equal(frame.i420, original)  # input untouched
    bgr = cv2.cvtColor(out.i420, cv2.COLOR_YUV2BGR_I420)  # type: ignore[arg-type]
    inside = masker.mask(64, 48)
    assert bgr[inside].max() <= 2  # limited-range black decodes to 0
    assert bgr[~inside].mean() > 50


def test_bgr_mask_and_resolution_cache() -> None:
    masker = PrivacyMasker([SQUARE])
    for w, h in ((64, 48), (32, 24), (64, 48)):
        img = np.full((h, w, 3), 200, np.uint8)
        out = masker.apply(Frame.from_bgr(img, 0.0, 0.0))
        inside = masker.mask(w, h)
        assert out.bgr is not None
        assert (out.bgr[inside] == 0).all()
        assert (out.bgr[~inside] == 200).all()


def test_no_masks_is_a_no_op() -> None:
    frame = _i420(32, 24)
    assert PrivacyMasker().apply(frame) is frame


def test_state_persists_and_validates(tmp_path: Path) -> None:
    path = tmp_path / "privacy.json"
    state = PrivacyState(path)
    seen: list[bool] = []
    state.subscribe(lambda s: seen.append(s.enabled))
    assert state.set_enabled(True)
    assert not state.set_enabled(True)
    state.set_masks("front", [SQUARE])
    with pytest.raises(ValueError, match=r"outside 0\.\.1"):
        state.set_masks("front", [[(0, 0), (2, 0), (0, 1)]])
    again = PrivacyState(path)
    assert again.enabled is True
    assert again.masks("front") == (tuple(SQUARE),)
    assert again.masker("front").active
    assert not again.masker("back").active
    assert seen == [True, True]
