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
_NEVER = 256.0
"""A difference no pixel reaches (luma is 0..255)."""


def outline_size(width: int, height: int, rows: int) -> tuple[int, int]:
    """(width, height) of the picture scaled to `rows` rows: the size `refine_outline` draws at.

    The aspect is kept and the picture never upscaled.
    """
    out_h = max(1, min(height, rows))
    return max(1, round(width * out_h / height)), out_h


def refine_outline(
    mask: NDArray[np.uint8],
    reach: NDArray[np.uint8],
    background: NDArray[np.float32],
    limit: NDArray[np.float32],
    picture: NDArray[np.uint8],
    rows: int,
) -> NDArray[np.uint8]:
    """`mask` (uint8 0/255, h x w) redrawn at `outline_size` of `picture` and `rows`.

    `reach` is how far out the outline may move (uint8 0/255, h x w, a superset of
    `mask`; the engine passes its regions before their outline was pulled in by a
    pixel). `picture` is the same frame at its own size: luma (H x W) or BGR
    (H x W x 3), uint8; only the pixels near the mask's box are read. `background`
    is the engine's background and `limit` its per-pixel limit on the squared
    difference (both float32, h x w). Pixels more than a working pixel inside the
    outline stay set; between them and `reach`'s edge a fine pixel is set when its
    difference to the linearly scaled background exceeds the scaled limit's root.
    Returns a new uint8 0/255 array. Raises ValueError when `picture` has fewer rows
    or columns than `mask`.
    """
    h, w = mask.shape
    ph, pw = picture.shape[:2]
    if ph < h or pw < w:
        raise ValueError(f"picture {pw}x{ph} is smaller than the mask {w}x{h}")
    fw, fh = outline_size(pw, ph, max(rows, h))
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
    # The box only, scaled by nearest neighbour: a 1080p picture is never read whole.
    crop = picture[fy0 * ph // fh : -(-fy1 * ph // fh), fx0 * pw // fw : -(-fx1 * pw // fw)]
    if crop.shape[0] != size[1] or crop.shape[1] != size[0]:
        crop = cv2.resize(crop, size, interpolation=cv2.INTER_NEAREST)
    if crop.ndim == 3:
        crop = cv2.cvtColor(crop, cv2.COLOR_BGR2GRAY)
    # One threshold map at working size, scaled once (linearly: a soft band): -1
    # deep inside (always set), the engine's limit on the difference near the
    # outline, unreachable outside `reach`.
    level = cv2.sqrt(limit[y0:y1, x0:x1])
    level[cv2.erode(mask[y0:y1, x0:x1], _KERNEL3) > 0] = -1.0
    level[reach[y0:y1, x0:x1] == 0] = _NEVER
    level = cv2.resize(level, size, interpolation=cv2.INTER_LINEAR)
    bg = cv2.resize(background[y0:y1, x0:x1], size, interpolation=cv2.INTER_LINEAR)
    cur = cv2.GaussianBlur(crop, (3, 3), 0).astype(np.float32)
    out[fy0:fy1, fx0:fx1] = cv2.compare(cv2.absdiff(cur, bg), level, cv2.CMP_GT)
    return out
