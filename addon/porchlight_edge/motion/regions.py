"""What a changed region physically is.

An object (moving or still), the place something left (a ghost), or a lighting
change.

All tests compare the current frame with the background along the region's outline
or inside it.
"""

from __future__ import annotations

from enum import Enum
from typing import TYPE_CHECKING, Any

import cv2 as _cv2
import numpy as np

if TYPE_CHECKING:
    from numpy.typing import NDArray

cv2: Any = _cv2

type Rect = tuple[int, int, int, int]

EDGE_BAND = 5
"""Width in pixels of the band around the outline that edges and steps are measured over."""
GHOST_EDGE = 0.7
"""A region whose outline has less than this share of the edge strength in the frame
that it has in the background is a ghost (what left, a boat's start position) or a
wake, not an object: a real object's outline is an edge in the current frame."""
HOLD_EDGE = 1.0
"""A still object's outline is at least this much stronger an edge in the frame than
in the background (a revealed background's outline is not)."""
LIGHT_RESIDUAL = 0.4
"""A region whose frame is the background times one gain, to within this share of
the threshold on average, is a lighting change (a shadow, a lamp), not an object."""


STATIC_SHARE = 0.1
"""Regions with less than this share of their box standing still are moving objects;
their few still pixels sit next to moving ones and are not absorbed anyway."""


class RegionKind(Enum):
    """What a changed region physically is (see `classify`)."""

    OBJECT = "object"
    """Its outline is in the frame and it is not the background re-lit: held while still."""
    MOVING = "moving"
    """Reported, but its outline is no clearer in the frame than in the background
    (a wake, water, a region that straddles a ghost): not held."""
    LIGHTING = "lighting"
    """The background times one gain: reported, never held."""
    GHOST = "ghost"
    """The place something left: not reported."""


class Edges:
    """A frame and its background (float32 luma, H x W) with their edge strength.

    The edge maps (`_edges`) cover the box around `rects` (with the edge band's
    reach), are computed when a judgement first needs them, and are shared by every
    judgement of the frame's regions (which all lie inside `rects`).
    """

    def __init__(
        self, cur: NDArray[np.float32], bg: NDArray[np.float32], rects: list[Rect]
    ) -> None:
        self.cur = cur
        self.bg = bg
        self._rects = rects
        self._maps: tuple[int, int, NDArray[np.float32], NDArray[np.float32]] | None = None

    def maps(self) -> tuple[int, int, NDArray[np.float32], NDArray[np.float32]]:
        """(x0, y0, frame edges, background edges): float32 maps of a box from (x0, y0)."""
        if self._maps is None:
            fh, fw = self.cur.shape
            pad = EDGE_BAND // 2 + 1
            x0 = max(0, min(x for x, _, _, _ in self._rects) - pad)
            y0 = max(0, min(y for _, y, _, _ in self._rects) - pad)
            x1 = min(fw, max(x + w for x, _, w, _ in self._rects) + pad)
            y1 = min(fh, max(y + h for _, y, _, h in self._rects) + pad)
            box = np.s_[y0:y1, x0:x1]
            self._maps = (x0, y0, _edges(self.cur[box]), _edges(self.bg[box]))
        return self._maps


def still_enough(rects: list[Rect], static: NDArray[np.uint8]) -> list[bool]:
    """Which regions (bounding `rects`) have `STATIC_SHARE` of their box standing still.

    `static` is uint8 0/255, H x W: changed pixels with nothing moving near them.
    Only those regions are judged: one that moves all over is a moving object, and
    what it is matters only once it stops (a ghost or a lighting change never moves).
    """
    return [
        cv2.countNonZero(static[y : y + h, x : x + w]) >= STATIC_SHARE * w * h
        for x, y, w, h in rects
    ]


def classify(
    contours: list[Any],
    rects: list[Rect],
    tested: list[bool],
    frame: Edges,
    threshold: int,
    outline_mask: NDArray[np.uint8] | None = None,
) -> list[RegionKind]:
    """Kind of each region of `frame` (its picture against its background).

    `contours` with bounding `rects` are in working-size pixels. Regions not `tested`
    (see `still_enough`) are MOVING. With `outline_mask` (uint8 0/255, H x W) only
    outline pixels where it is set are measured, and only ghosts are told apart:
    every other region is MOVING (so is one with no such pixel).
    """
    if not any(tested):
        return [RegionKind.MOVING] * len(rects)
    x0, y0, e_cur_map, e_bg_map = frame.maps()
    cur, bg = frame.cur, frame.bg
    kinds = []
    for c, (x, y, w, h), test in zip(contours, rects, tested, strict=True):
        if not test:
            kinds.append(RegionKind.MOVING)
            continue
        line = np.zeros((h, w), np.uint8)
        cv2.drawContours(line, [c], -1, 255, 1, offset=(-x, -y))
        if outline_mask is not None:
            line = cv2.bitwise_and(line, outline_mask[y : y + h, x : x + w])
            if not cv2.countNonZero(line):
                kinds.append(RegionKind.MOVING)
                continue
        cx, cy = x - x0, y - y0
        e_cur = cv2.mean(e_cur_map[cy : cy + h, cx : cx + w], mask=line)[0]
        e_bg = cv2.mean(e_bg_map[cy : cy + h, cx : cx + w], mask=line)[0]
        if e_cur < GHOST_EDGE * e_bg:
            kinds.append(RegionKind.GHOST)
            continue
        if outline_mask is not None or e_cur < HOLD_EDGE * e_bg:
            kinds.append(RegionKind.MOVING)
            continue
        inside = np.zeros_like(line)
        cv2.drawContours(inside, [c], -1, 255, cv2.FILLED, offset=(-x, -y))
        fc, fb = cur[y : y + h, x : x + w], bg[y : y + h, x : x + w]
        cb = cv2.mean(cv2.multiply(fc, fb), mask=inside)[0]
        bb = cv2.mean(cv2.multiply(fb, fb), mask=inside)[0]
        # Least-squares gain of frame over background; what it leaves unexplained, on
        # average (robust to the rim the joining dilation adds).
        gain = cb / bb if bb > 0 else 1.0
        residual = cv2.mean(cv2.absdiff(fc, fb * gain), mask=inside)[0]
        kinds.append(
            RegionKind.LIGHTING if residual < LIGHT_RESIDUAL * threshold else RegionKind.OBJECT
        )
    return kinds


def still_ghosts(
    contours: list[Any],
    rects: list[Rect],
    fg: NDArray[np.uint8],
    static: NDArray[np.uint8],
    frame: Edges,
    threshold: int,
    min_area: float,
) -> NDArray[np.uint8] | None:
    """The still parts of partly moving regions that are ghosts, judged on their own.

    `classify` judges a region whole. When someone leaves the place they stood (or
    were at start-up), that place and they are one region while they are still next
    to it, and the whole is no ghost. Here, in the regions (`contours`, bounding
    `rects`; the caller passes those `still_enough` and not judged ghosts) that have
    both still and moving pixels, each connected part of `static`
    (uint8 0/255, H x W: changed, nothing moving near) of at least `min_area` pixels
    is classified by its own outline against the unchanged background: outline pixels
    next to the moving rest of the region (`fg` without `static`) are a cut through
    it, not an edge of anything, and are not measured. Returns the parts judged GHOST
    filled (uint8 0/255, H x W), or None when there are none.
    """
    mixed, boxes = [], []
    for c, (x, y, w, h) in zip(contours, rects, strict=True):
        count = cv2.countNonZero(static[y : y + h, x : x + w])
        # `static` lies inside `fg`: more changed than still pixels means some move.
        if count >= min_area and cv2.countNonZero(fg[y : y + h, x : x + w]) > count:
            mixed.append(c)
            boxes.append((x, y, w, h))
    if not mixed:
        return None
    # The parts are found in the box around those regions only (one pixel of margin).
    fh, fw = static.shape
    x0 = max(0, min(x for x, _, _, _ in boxes) - 1)
    y0 = max(0, min(y for _, y, _, _ in boxes) - 1)
    x1 = min(fw, max(x + w for x, _, w, _ in boxes) + 1)
    y1 = min(fh, max(y + h for _, y, _, h in boxes) + 1)
    still = static[y0:y1, x0:x1]
    inside = np.zeros_like(still)
    cv2.drawContours(inside, mixed, -1, 255, cv2.FILLED, offset=(-x0, -y0))
    found, _ = cv2.findContours(
        cv2.bitwise_and(inside, still),
        cv2.RETR_EXTERNAL,
        cv2.CHAIN_APPROX_SIMPLE,
        offset=(x0, y0),
    )
    parts = [c for c in found if cv2.contourArea(c) >= min_area]
    if not parts:
        return None
    moving = cv2.subtract(fg[y0:y1, x0:x1], still)
    against_bg = np.full_like(static, 255)
    against_bg[y0:y1, x0:x1] = cv2.bitwise_not(cv2.dilate(moving, np.ones((3, 3), np.uint8)))
    kinds = classify(
        parts,
        [cv2.boundingRect(c) for c in parts],
        [True] * len(parts),
        frame,
        threshold,
        against_bg,
    )
    ghosts = [c for c, k in zip(parts, kinds, strict=True) if k is RegionKind.GHOST]
    if not ghosts:
        return None
    out = np.zeros_like(static)
    cv2.drawContours(out, ghosts, -1, 255, cv2.FILLED)
    return out


def _edges(img: NDArray[np.float32]) -> NDArray[np.float32]:
    """Edge strength near each pixel: L1 central-difference gradient over an `EDGE_BAND` square.

    Zero on the outer ring of pixels.
    """
    out = np.zeros_like(img)
    gx = cv2.absdiff(img[1:-1, 2:], img[1:-1, :-2])
    gy = cv2.absdiff(img[2:, 1:-1], img[:-2, 1:-1])
    out[1:-1, 1:-1] = cv2.add(gx, gy)
    return np.asarray(cv2.blur(out, (EDGE_BAND, EDGE_BAND)), np.float32)
