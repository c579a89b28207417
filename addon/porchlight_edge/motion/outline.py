"""A motion mask's outline redrawn at a finer resolution than the engine works at.

The engine decides what moves on about 100 rows; scaled up as blocks, each of its
pixels covers several camera pixels and every outline is off by up to half a block.
Near the outline only, the finer frame is compared with the (smooth, linearly
scaled) background against the same per-pixel limit the engine used, so the
outline follows the object's real edge. The cost grows with the outline's box, not
with the frame.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import cv2 as _cv2
import numpy as np

if TYPE_CHECKING:
    from numpy.typing import NDArray

cv2: Any = _cv2

_KERNEL3 = np.ones((3, 3), np.uint8)


def refine_outline(
    mask: NDArray[np.uint8],
    background: NDArray[np.float32],
    limit: NDArray[np.float32],
    fine: NDArray[np.uint8],
) -> NDArray[np.uint8]:
    """`mask` (uint8 0/255, h x w) redrawn at the size of `fine` (uint8 luma, H x W).

    `background` is the engine's background and `limit` its per-pixel limit on the
    squared difference (both float32, h x w). Pixels deep inside the mask (more than
    one working pixel from its edge) stay set; within one working pixel of the edge,
    on either side, a fine pixel is set when its squared difference to the linearly
    scaled background exceeds the scaled limit. Returns a new uint8 0/255 H x W array.
    Raises ValueError when `fine` is smaller than `mask`.
    """
    h, w = mask.shape
    fh, fw = fine.shape
    if fh < h or fw < w:
        raise ValueError(f"fine luma {fw}x{fh} is smaller than the mask {w}x{h}")
    out = np.zeros((fh, fw), np.uint8)
    x, y, bw, bh = cv2.boundingRect(mask)
    if bw == 0 or bh == 0:
        return out
    # The box with one working pixel of margin (the band outside the outline).
    x0, y0 = max(0, x - 1), max(0, y - 1)
    x1, y1 = min(w, x + bw + 1), min(h, y + bh + 1)
    sx, sy = fw / w, fh / h
    fx0, fy0 = round(x0 * sx), round(y0 * sy)
    fx1, fy1 = min(fw, round(x1 * sx)), min(fh, round(y1 * sy))
    size = (fx1 - fx0, fy1 - fy0)
    m = mask[y0:y1, x0:x1]
    reach = cv2.resize(cv2.dilate(m, _KERNEL3), size, interpolation=cv2.INTER_NEAREST)
    core = cv2.resize(cv2.erode(m, _KERNEL3), size, interpolation=cv2.INTER_NEAREST)
    bg = cv2.resize(background[y0:y1, x0:x1], size, interpolation=cv2.INTER_LINEAR)
    lim = cv2.resize(limit[y0:y1, x0:x1], size, interpolation=cv2.INTER_LINEAR)
    cur = cv2.GaussianBlur(fine[fy0:fy1, fx0:fx1], (3, 3), 0).astype(np.float32)
    diff = cv2.absdiff(cur, bg)
    changed = cv2.compare(cv2.multiply(diff, diff), lim, cv2.CMP_GT)
    out[fy0:fy1, fx0:fx1] = cv2.bitwise_or(core, cv2.bitwise_and(reach, changed))
    return out
