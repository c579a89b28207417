"""Background-subtraction motion engine on decimated luma.

Per frame: compensate global illumination (gain of frame over background), take
the difference to a running background, threshold it against a per-pixel noise
floor, clean it up morphologically, keep connected regions that are large enough,
and report boxes, a mask and which zones they touch. Configuration and result
shapes are in motion/config.py.

Over 400 lines: one algorithm, `MotionEngine`'s per-frame pipeline, whose steps share
the background model, noise floor and ghost/still state; its constants are documented
here beside the steps that use them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import cv2 as _cv2
import numpy as np

from .config import Box, MotionConfig, MotionResult, check_sensitivity
from .hysteresis import MotionHysteresis
from .occupancy import ZoneOccupancy
from .outline import refine_outline
from .regions import Edges, RegionKind, classify, still_enough, still_ghosts
from .zones import Polygon, Zone, rasterise, validate_polygon

if TYPE_CHECKING:
    from collections.abc import Sequence

    from numpy.typing import NDArray

# OpenCV's stubs reject scalar operands (cv2.compare(img, 20.0, ...)) that the library
# accepts and that save a full-size temporary per call; untyped here on purpose.
cv2: Any = _cv2

_KERNEL3 = np.ones((3, 3), np.uint8)
_GHOST_RADIUS = 0.1
"""Neighbourhood (share of the height) that must be free of frame-to-frame change
before a changed pixel counts as a ghost; keeps slow walkers' interiors alive."""
_SPECKLE_PCT = 0.05
"""Regions smaller than this percent of the frame are noise, never motion."""
_SPECKLE_NEIGHBOURS = 2
"""A changed pixel needs more than this many changed pixels in its 3x3 (itself included)."""
_MAX_DT = 1.0
"""Longest step between frames the clocks advance by (a stalled stream is no evidence)."""
_GLOBAL_GRID = 4
_GLOBAL_CELLS = 0.8
_GLOBAL_CELL_FILL = 0.75
"""A change that fills (this share of) this share of the 4x4 grid cells is a scene
change (IR switch, camera knocked), not an object: relearn instead of reporting motion.
People close to the lens cover much of the picture, but seldom fill whole cells all
over it while the rest still matches."""
_GAIN_SAMPLES = 400
_BLINK_GAIN = 2.0
"""A pixel flipping every frame needs a squared difference (1 + this) times the usual."""
_BLINK_SECONDS = 0.4
"""Time constant of the flip rate: a pixel flipping on every frame for this long is
most of the way to the full raise (per second of stream time, not per frame)."""


class MotionEngine:
    """Offline-drivable motion detector: `process(luma, pts)` per frame, no I/O."""

    def __init__(self, config: MotionConfig | None = None) -> None:
        self.config = config or MotionConfig()
        self.hysteresis = MotionHysteresis(self.config.on_frames, self.config.off_seconds)
        self.occupancy = ZoneOccupancy(
            tuple(z.name for z in self.config.zones), self.config.on_frames, self.config.off_seconds
        )
        self._bg: NDArray[np.float32] | None = None
        self._var = np.zeros((0, 0), np.float32)
        self._prev = np.zeros((0, 0), np.float32)
        self._still_t = np.zeros((0, 0), np.float32)
        """Seconds each pixel has been a change with nothing moving near it."""
        self._hold = np.zeros((0, 0), np.uint8)
        """Pixels of still objects this frame: the background does not learn them."""
        self._holding = False
        self._last_pts: float | None = None
        self._dt = 0.0
        self._clipped = np.zeros((0, 0), np.uint8)
        self._frames = 0
        self._blink = np.zeros((0, 0), np.float32)
        self._prev_fg = np.zeros((0, 0), np.uint8)
        self._limit = np.zeros((0, 0), np.float32)
        self._mask = np.zeros((0, 0), np.uint8)
        self._reach = self._mask
        # Masks at working resolution, made on the first frame (and on any size change).
        self._valid = np.zeros((0, 0), np.uint8)
        self._zone_masks: list[tuple[str, NDArray[np.uint8]]] = []
        self._zone_areas: list[int] = []
        self._count_mask = self._valid
        self._whole_frame = True
        """No masks and no zones: the mask operations are skipped (all-255 masks)."""
        self._count_area = 1
        self._ghost_kernel = _KERNEL3

    # -- run-time configuration -------------------------------------------------
    def set_sensitivity(
        self, threshold: int | None = None, min_area_pct: float | None = None
    ) -> None:
        """Change sensitivity between frames; the background model is kept."""
        t = self.config.threshold if threshold is None else threshold
        a = self.config.min_area_pct if min_area_pct is None else min_area_pct
        check_sensitivity(t, a)
        self.config.threshold, self.config.min_area_pct = t, a

    def set_zones(
        self, zones: Sequence[Zone] = (), masks: Sequence[Polygon] = ()
    ) -> dict[str, bool]:
        """Replace zones and masks; returns removed zones that were occupied (now clear)."""
        self.config.zones = tuple(zones)
        gone = self.occupancy.set_zones(tuple(z.name for z in self.config.zones))
        self.config.masks = tuple(validate_polygon(m, f"mask {i}") for i, m in enumerate(masks))
        if self._bg is not None:
            self._rasterise(*self._bg.shape)
        return gone

    def set_hysteresis(self, on_frames: int, off_seconds: float) -> None:
        """Set motion debounce: on after `on_frames` motion frames, off after `off_seconds` (s)."""
        self.hysteresis.configure(on_frames, off_seconds)
        self.occupancy.configure(on_frames, off_seconds)
        self.config.on_frames, self.config.off_seconds = on_frames, off_seconds

    def reset(self) -> dict[str, bool]:
        """Forget the background: the next frame starts a new one.

        Returns the zones that were occupied (now clear).
        """
        self._bg = None
        self._last_pts = None
        self.hysteresis.reset()
        return self.occupancy.reset()

    def _rasterise(self, h: int, w: int) -> None:
        cfg = self.config
        self._valid = cv2.bitwise_not(rasterise(cfg.masks, w, h))
        self._zone_masks = [
            (z.name, cv2.bitwise_and(rasterise([z.polygon], w, h), self._valid)) for z in cfg.zones
        ]
        self._zone_areas = [max(1, cv2.countNonZero(m)) for _, m in self._zone_masks]
        if self._zone_masks:
            union = np.zeros((h, w), np.uint8)
            for _, m in self._zone_masks:
                union |= m
            self._count_mask = union
        else:
            self._count_mask = self._valid
        self._count_area = max(1, cv2.countNonZero(self._count_mask))
        self._whole_frame = self._count_area == h * w
        k = max(3, int(h * _GHOST_RADIUS) | 1)
        self._ghost_kernel = cv2.getStructuringElement(cv2.MORPH_RECT, (k, k))

    def _start(self, cur: NDArray[np.float32]) -> None:
        h, w = cur.shape
        self._rasterise(h, w)
        self._bg = cur.copy()
        self._var = np.full((h, w), 16.0, np.float32)
        self._prev = cur
        self._still_t = np.zeros((h, w), np.float32)
        self._hold = np.zeros((h, w), np.uint8)
        self._clipped = np.zeros((h, w), np.uint8)
        self._frames = 0
        self._blink = np.zeros((h, w), np.float32)
        self._prev_fg = np.zeros((h, w), np.uint8)

    # -- per frame ----------------------------------------------------------------
    def process(self, luma: NDArray[np.uint8], pts: float) -> MotionResult:
        """Detect motion in one decimated luma frame (uint8, H x W) taken at `pts` seconds.

        ValueError for a picture smaller than 2 x 2 pixels.
        """
        cfg = self.config
        h, w = luma.shape
        if h < 2 or w < 2:
            raise ValueError(f"a {w}x{h} picture is too small for motion detection (at least 2x2)")
        cur = cv2.GaussianBlur(luma, (3, 3), 0).astype(np.float32)
        if self._bg is None or self._bg.shape != (h, w):
            self._start(cur)
        bg = self._bg
        assert bg is not None
        self._frames += 1
        last, self._last_pts = self._last_pts, pts
        self._dt = 0.0 if last is None else min(_MAX_DT, max(0.0, pts - last))

        # Global illumination: scale the background by the median brightness ratio so
        # a cloud or the porch light does not look like motion, without forgetting the
        # scene (a person walking in during the change stays visible).
        gain = self._gain(cur, bg)
        if abs(gain - 1.0) > 0.005:
            # numpy for array-by-scalar: several times faster than cv2.multiply here.
            np.multiply(bg, gain, out=bg)
            if gain > 1.0:
                # Brighter light saturates the sensor: what would exceed 255 reads 255,
                # and from then on the background there is only a lower bound.
                over = cv2.compare(bg, 254.0, cv2.CMP_GT)
                if cv2.countNonZero(over):
                    cv2.min(bg, 255.0, dst=bg)
                    self._clipped = cv2.bitwise_or(self._clipped, over)

        diff = cv2.absdiff(cur, bg)
        has_clipped = cv2.countNonZero(self._clipped) > 0
        if has_clipped:
            # Where the background is a lower bound only darker pixels are a change.
            cv2.copyTo(cv2.max(cv2.subtract(bg, cur), 0.0), self._clipped, diff)
        # Changed = above the fixed threshold and above the pixel's own noise (waves,
        # leaves, sensor noise in the dark); compared squared to avoid a sqrt.
        diff2 = cv2.multiply(diff, diff)
        limit = np.multiply(self._var, cfg.noise_factor**2)
        np.maximum(limit, float(cfg.threshold**2), out=limit)
        # Per-pixel decision threshold raised where the decision keeps flipping
        # (sparkle on water, rain, leaves), as in PBAS/SuBSENSE: `_blink` is the
        # recent rate of flips, 0..255.
        limit += cv2.multiply(limit, self._blink, scale=_BLINK_GAIN / 255.0)
        fg = cv2.compare(diff2, limit, cv2.CMP_GT)
        self._limit = limit
        blink_rate = 1.0 - float(np.exp(-self._dt / _BLINK_SECONDS))
        cv2.accumulateWeighted(cv2.bitwise_xor(fg, self._prev_fg), self._blink, blink_rate)
        self._prev_fg = fg
        if not self._whole_frame:
            fg = cv2.bitwise_and(fg, self._valid)
        # Remove isolated speckle, then join the parts of one object. (An opening or a
        # majority vote would also erase the slivers a slow walker uncovers per frame
        # and small distant figures, and those are all there is of them at first.)
        fg = _despeckle(fg)
        fg = cv2.dilate(fg, _KERNEL3)

        if self._global_change(fg):
            # The whole scene changed its look at once: start a new background.
            self._start(cur)
            fg[:] = 0

        # Changes with no frame-to-frame change anywhere near them have stopped moving.
        moved = cv2.compare(cv2.absdiff(cur, self._prev), cfg.threshold * 0.5, cv2.CMP_GE)
        # fg and not near moved, in one call (saturating subtraction of 0/255 masks).
        static = cv2.subtract(fg, cv2.dilate(moved, self._ghost_kernel))
        motion, reach, boxes = self._regions(fg, static, h, w, cur, bg)
        if has_clipped:
            self._unclip(cur, fg)
        self._learn(cur, diff2, fg, static)

        self._mask, self._reach = motion, reach
        moving = cv2.countNonZero(reach)
        motion_pct = 100.0 * moving / self._count_area
        zones_hit = [
            name for name, m in self._zone_masks if cv2.countNonZero(cv2.bitwise_and(m, reach))
        ]
        has_motion = moving > 0 and motion_pct >= cfg.min_area_pct
        changed = self.hysteresis.update(pts, has_motion)
        present = {
            name
            for (name, m), area in zip(self._zone_masks, self._zone_areas, strict=True)
            if 100.0 * cv2.countNonZero(cv2.bitwise_and(m, reach)) >= cfg.min_area_pct * area
        }
        return MotionResult(
            pts=pts,
            mask=motion,
            boxes=boxes if has_motion else [],
            motion_pct=motion_pct,
            zones_hit=zones_hit if has_motion else [],
            has_motion=has_motion,
            active=self.hysteresis.active,
            changed=changed,
            occupancy_changed=self.occupancy.update(pts, present) if self._zone_masks else {},
        )

    def outline(self, picture: NDArray[np.uint8]) -> NDArray[np.uint8]:
        """The last frame's mask redrawn at up to `config.outline_height` rows.

        `picture` is that frame at its own size, luma (H x W) or BGR (H x W x 3)
        uint8, e.g. an I420 buffer's Y rows; only the part near the mask is read.
        Returns uint8 0/255 at `outline_size(W, H, outline_height)`; see
        `refine_outline`. Raises RuntimeError before the first frame, ValueError
        when `picture` is smaller than the working size.
        """
        if self._bg is None or self._mask.shape != self._bg.shape:
            raise RuntimeError("outline() needs a processed frame")
        return refine_outline(
            self._mask, self._reach, self._bg, self._limit, picture, self.config.outline_height
        )

    def _regions(
        self,
        fg: NDArray[np.uint8],
        static: NDArray[np.uint8],
        h: int,
        w: int,
        cur: NDArray[np.float32],
        bg: NDArray[np.float32],
    ) -> tuple[NDArray[np.uint8], NDArray[np.uint8], list[Box]]:
        """Keep regions above the speckle floor; fill them; clip to the zones.

        Returns (mask, reach, boxes): `reach` is the filled regions as found, `mask`
        the same with the joining dilation's growth of the outline undone.
        """
        min_area = max(2.0, _SPECKLE_PCT / 100.0 * h * w)
        contours, _ = cv2.findContours(fg, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
        kept = []
        rects = []
        for c in contours:
            x, y, bw, bh = cv2.boundingRect(c)
            # Box area first: cheap, and most speckle fails it.
            if bw * bh >= min_area and cv2.contourArea(c) >= min_area * 0.5:
                kept.append(c)
                rects.append((x, y, bw, bh))
        self._hold = np.zeros_like(fg)
        self._holding = False
        # Edge maps over the regions' box, made at most once for all judgements below.
        frame = Edges(cur, bg, rects)
        tested = still_enough(rects, static) if cv2.countNonZero(static) else []
        if any(tested):
            kinds = classify(kept, rects, tested, frame, self.config.threshold)
            held = [c for c, k in zip(kept, kinds, strict=True) if k is RegionKind.OBJECT]
            if held:
                cv2.drawContours(self._hold, held, -1, 255, cv2.FILLED)
                self._holding = True
            report = [k is not RegionKind.GHOST for k in kinds]
            tested = [t for t, ok in zip(tested, report, strict=True) if ok]
            kept = [c for c, ok in zip(kept, report, strict=True) if ok]
            rects = [r for r, ok in zip(rects, report, strict=True) if ok]
        reach = np.zeros_like(fg)
        if not kept:
            return reach, reach, []
        cv2.drawContours(reach, kept, -1, 255, cv2.FILLED)
        if any(tested):
            # The place someone left, while they are still next to it, is part of their
            # region: its still part is judged on its own. A ghost is not reported and
            # not held (it joins the background after `ghost_seconds`).
            judged = [i for i, t in enumerate(tested) if t]
            ghosts = still_ghosts(
                [kept[i] for i in judged],
                [rects[i] for i in judged],
                fg,
                static,
                frame,
                self.config.threshold,
                min_area,
            )
            if ghosts is not None:
                reach = cv2.subtract(reach, ghosts)
                if self._holding:
                    self._hold = cv2.subtract(self._hold, ghosts)
        if not self.config.fill_holes:
            reach = cv2.bitwise_and(reach, fg)
        if not self._whole_frame:
            reach = cv2.bitwise_and(reach, self._count_mask)
        motion = cv2.erode(reach, _KERNEL3)
        boxes = [
            (x / w, y / h, bw / w, bh / h)
            for x, y, bw, bh in rects
            if cv2.countNonZero(reach[y : y + bh, x : x + bw])
        ]
        return motion, reach, boxes

    def _learn(
        self,
        cur: NDArray[np.float32],
        diff2: NDArray[np.float32],
        fg: NDArray[np.uint8],
        static: NDArray[np.uint8],
    ) -> None:
        cfg = self.config
        bg = self._bg
        assert bg is not None
        # Learn the background where nothing changed; creep slowly under changes that
        # are not objects (water, leaves); never under a still object, which stays
        # foreground until it has been still for `still_hold_seconds`.
        if self._frames > cfg.warmup_frames:
            rate = 1.0 - float(np.exp(-self._dt / cfg.background_seconds))
        else:
            rate = cfg.warmup_rate
        busy = fg
        if self._holding:
            hold = cv2.dilate(self._hold, _KERNEL3)
            busy = cv2.bitwise_or(fg, hold)
            creep = cv2.subtract(fg, hold)
        else:
            creep = fg
        quiet = cv2.bitwise_not(busy)
        cv2.accumulateWeighted(cur, bg, rate, mask=quiet)
        cv2.accumulateWeighted(diff2, self._var, rate, mask=quiet)
        if cv2.countNonZero(creep):
            cv2.accumulateWeighted(cur, bg, rate * 0.1, mask=creep)

        # Changes with no frame-to-frame change anywhere near them stopped moving: once
        # still for `ghost_seconds` they join the background (the car that was there at
        # start-up, a shadow), unless they are a still object (held far longer).
        still_t = np.zeros_like(self._still_t)
        if not cv2.countNonZero(static):
            self._still_t = still_t
            self._prev = cur
            return
        cv2.add(self._still_t, self._dt, dst=still_t, mask=static)
        self._still_t = still_t
        absorb = cv2.bitwise_or(
            cv2.subtract(cv2.compare(self._still_t, cfg.ghost_seconds, cv2.CMP_GE), self._hold),
            cv2.compare(self._still_t, cfg.still_hold_seconds, cv2.CMP_GE),
        )
        if cv2.countNonZero(absorb):
            cv2.copyTo(cur, absorb, bg)
            self._still_t[absorb > 0] = 0.0
        self._prev = cur

    def _unclip(self, cur: NDArray[np.float32], fg: NDArray[np.uint8]) -> None:
        """Raise lower-bound background pixels to what the camera now sees.

        Once a pixel reads below saturation again its true value is known.
        """
        bg = self._bg
        assert bg is not None
        ok = cv2.bitwise_and(self._clipped, cv2.bitwise_not(fg))
        cv2.copyTo(cv2.max(bg, cur), ok, bg)
        known = cv2.bitwise_and(ok, cv2.compare(cur, 250.0, cv2.CMP_LT))
        self._clipped = cv2.bitwise_and(self._clipped, cv2.bitwise_not(known))

    def _global_change(self, fg: NDArray[np.uint8]) -> bool:
        # Enough full cells mean most of the frame changed; below that the answer is
        # no, and counting is far cheaper than the grid.
        if cv2.countNonZero(fg) < _GLOBAL_CELLS * _GLOBAL_CELL_FILL * fg.size:
            return False
        cells = cv2.resize(fg, (_GLOBAL_GRID, _GLOBAL_GRID), interpolation=cv2.INTER_AREA)
        changed = np.count_nonzero(cells > 255 * _GLOBAL_CELL_FILL)
        return bool(changed >= _GLOBAL_CELLS * _GLOBAL_GRID * _GLOBAL_GRID)

    def _gain(self, cur: NDArray[np.float32], bg: NDArray[np.float32]) -> float:
        # A sparse grid is plenty for a median and keeps this cheap at any size.
        step = max(1, int(np.sqrt(cur.size / _GAIN_SAMPLES)))
        c = cur[::step, ::step].ravel()
        b = bg[::step, ::step].ravel()
        ok = b > 8.0
        if np.count_nonzero(ok) < 50:
            return 1.0
        ratio = c[ok] / b[ok]
        mid = ratio.size // 2
        return float(np.partition(ratio, mid)[mid])


def _despeckle(fg: NDArray[np.uint8]) -> NDArray[np.uint8]:
    """Drop changed pixels with fewer than `_SPECKLE_NEIGHBOURS` changed neighbours.

    Isolated pixels and pairs are sensor noise; a compact 2x2 blob is kept, since at a
    100-row working height that is all there is of a distant walker at first (a 3x3
    majority vote would erase it).
    """
    # The 3x3 mean of a 0/255 mask is 255 * count / 9; compare halfway between counts.
    mean = cv2.blur(fg, (3, 3))
    level = 255.0 * (_SPECKLE_NEIGHBOURS + 0.5) / 9.0
    return np.asarray(cv2.bitwise_and(fg, cv2.compare(mean, level, cv2.CMP_GT)))
