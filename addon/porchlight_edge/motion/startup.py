"""The start-up picture: how to find a still object that was in view at start-up.

When the engine starts (add-on start, camera reconnect, a relearn after a scene
change) its first background is the first frame, with whoever stands in view in
it. Such a visitor is found only where they differ from that picture, and the
running background follows slow changes (a slight sway, a turned head) too closely
for those to pass the threshold. Against the start-up picture itself they do: a
pixel that has drifted from its start-up value by more than its limit, next to a
still object the engine already holds, is part of that object.

The start-up value is *confirmed* (a true background) where nothing changed and
nothing was held nearby for `CONFIRM_SECONDS`, or where a ghost was absorbed (the
revealed scene replaced it). Confirmed values are never tested again, so a visitor
who arrives later is judged as before; once all are confirmed this step costs
nothing. The clock runs on cells half the ghost radius wide (cheap at any size).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import cv2 as _cv2
import numpy as np

if TYPE_CHECKING:
    from numpy.typing import NDArray

    from .config import Rect

cv2: Any = _cv2

CONFIRM_SECONDS = 2.0
"""Seconds of stream time with no change and no held object near a pixel after which
its start-up value is background: the time a ghost is given to clear (about 2 s), so
that what is still unexplained after it can only be something that stood still."""


class StartupPicture:
    """The first frame of a background (float32 luma, H x W) and which of it is confirmed.

    `cell` is the side in pixels of the cells the quiet clock runs on (at least 1);
    "near" a pixel means in its cell or a neighbouring one.
    """

    def __init__(self, first: NDArray[np.float32], cell: int) -> None:
        h, w = first.shape
        self._first = first.copy()
        self._cell = max(1, cell)
        # Whole cells only (an integer factor is several times cheaper to pool); the
        # strip of less than a cell at the right and bottom is not measured.
        self._cells = (max(1, w // self._cell), max(1, h // self._cell))
        self._crop = np.s_[: self._cells[1] * self._cell, : self._cells[0] * self._cell]
        self._unconfirmed = np.full(self._cells[::-1], 255, np.uint8)
        self._quiet_t = np.zeros(self._cells[::-1], np.float32)
        self.active = True
        """Some start-up value is still unconfirmed (False: nothing left to do)."""

    def scale(self, gain: float) -> None:
        """Follow a global illumination change (the background's gain this frame)."""
        if self.active:
            np.multiply(self._first, gain, out=self._first)

    def confirm(self, where: NDArray[np.uint8]) -> None:
        """Mark the cells wholly inside `where` (uint8 0/255, H x W) as background."""
        if self.active:
            whole = cv2.compare(self._to_cells(where), 255, cv2.CMP_GE)
            self._confirm_cells(whole)

    def step(
        self,
        cur: NDArray[np.float32],
        fg: NDArray[np.uint8],
        limit: NDArray[np.float32],
        hold: NDArray[np.uint8] | None,
        busy: list[Rect],
        dt: float,
    ) -> NDArray[np.uint8]:
        """`fg` with the unconfirmed pixels near a held object that left their start-up value.

        `cur` is the frame, `limit` the engine's per-pixel squared-difference limit
        (float32), `fg` its changed pixels and `hold` the still objects it held last
        frame (uint8 0/255, or None when it held none), all H x W; `busy` the boxes
        (x, y, w, h pixels) of last frame's changed regions; `dt` the frame step in
        seconds. Only the box around all held objects is read (one cell's margin).
        """
        self._quiet_t += dt
        for x, y, w, h in busy:
            self._quiet_t[self._near(x, y, w, h)] = 0.0
        self._confirm_cells(cv2.compare(self._quiet_t, CONFIRM_SECONDS, cv2.CMP_GE))
        if hold is None or not self.active:
            return fg
        near = self._near(*cv2.boundingRect(hold))
        cells = self._unconfirmed[near]
        if not cv2.countNonZero(cells):
            return fg
        # Only the box of cells near the held objects is compared with the start-up picture.
        n = self._cell
        box = np.s_[near[0].start * n : near[0].stop * n, near[1].start * n : near[1].stop * n]
        test = cv2.resize(cells, None, fx=n, fy=n, interpolation=cv2.INTER_NEAREST)
        d = cv2.absdiff(cur[box], self._first[box])
        left = cv2.compare(cv2.multiply(d, d), limit[box], cv2.CMP_GT)
        out = fg.copy()
        out[box] |= cv2.bitwise_and(left, test)
        return out

    def _near(self, x: int, y: int, w: int, h: int) -> tuple[slice, slice]:
        """The cells (rows, columns) within a cell of the box (x, y, w, h) in pixels."""
        n = self._cell
        cw, ch = self._cells
        return (
            slice(max(0, y // n - 1), min(ch, (y + h - 1) // n + 2)),
            slice(max(0, x // n - 1), min(cw, (x + w - 1) // n + 2)),
        )

    def _to_cells(self, mask: NDArray[np.uint8]) -> NDArray[np.uint8]:
        # The mean of each cell: > 0 where any pixel is set, 255 where all are.
        return np.asarray(cv2.resize(mask[self._crop], self._cells, interpolation=cv2.INTER_AREA))

    def _confirm_cells(self, cells: NDArray[np.uint8]) -> None:
        self._unconfirmed = cv2.subtract(self._unconfirmed, cells)
        self.active = cv2.countNonZero(self._unconfirmed) > 0
