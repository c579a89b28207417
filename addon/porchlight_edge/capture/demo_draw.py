"""Drawing for the demo scene: the visitor's primitives on I420 planes, and sensor noise."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import cv2
import numpy as np

if TYPE_CHECKING:
    from collections.abc import Callable

    from numpy.typing import NDArray

Color = tuple[int, int, int]
"""BGR, 0-255 each."""


@dataclass(frozen=True, slots=True)
class Pose:
    """The visitor at one instant (pixels, radians, 0-1 arm reach)."""

    x: float  # centre of the body, pixels
    walk_phase: float  # radians of the leg swing; only meaningful while walking
    walking: bool
    arm_reach: float  # 0 = arm down, 1 = finger on the button


@dataclass(frozen=True, slots=True)
class Shape:
    """One primitive of the visitor, so drawing and ground-truth extent cannot disagree."""

    kind: str  # "line" (x0, y0, x1, y1), "rect" (x0, y0, x1, y1), "circle" (cx, cy, r),
    # "ellipse" (cx, cy, ax, ay)
    geom: tuple[float, ...]
    width: float  # line thickness
    color: Color

    def extent(self) -> tuple[float, float, float, float]:
        """Bounding box (x0, y0, x1, y1) in pixels, with line width and 1 px of anti-aliasing."""
        g = self.geom
        if self.kind in ("line", "rect"):
            pad = self.width / 2 + 1
            return (
                min(g[0], g[2]) - pad,
                min(g[1], g[3]) - pad,
                max(g[0], g[2]) + pad,
                max(g[1], g[3]) + pad,
            )
        ax, ay = (g[2], g[2]) if self.kind == "circle" else (g[2], g[3])
        return g[0] - ax - 1, g[1] - ay - 1, g[0] + ax + 1, g[1] + ay + 1

    def draw(self, planes: Planes) -> None:
        """Draw the shape onto `planes`."""
        g = self.geom
        if self.kind == "line":
            planes.line((g[0], g[1]), (g[2], g[3]), self.width, self.color)
        elif self.kind == "rect":
            planes.rect(g[0], g[1], g[2], g[3], self.color)
        elif self.kind == "circle":
            planes.circle(g[0], g[1], g[2], self.color)
        else:
            planes.ellipse(g[0], g[1], g[2], g[3], self.color)


class Planes:
    """Draws BGR-coloured primitives onto the Y, U and V planes of an I420 buffer."""

    def __init__(self, buf: NDArray[np.uint8], width: int, height: int) -> None:
        self.y = buf[:height]
        chroma = buf[height:].reshape(2, height // 2, width // 2)
        self.u, self.v = chroma[0], chroma[1]

    @staticmethod
    def yuv(color: Color) -> tuple[int, int, int]:
        """The (Y, U, V) values of a BGR colour."""
        px = cv2.cvtColor(np.full((2, 2, 3), color, np.uint8), cv2.COLOR_BGR2YUV_I420)
        return int(px[0, 0]), int(px[2, 0]), int(px[2, 1])

    def _each(self, color: Color, draw: Callable[[NDArray[np.uint8], int, int], None]) -> None:
        y, u, v = self.yuv(color)
        draw(self.y, y, 1)
        draw(self.u, u, 2)
        draw(self.v, v, 2)

    def rect(self, x0: float, y0: float, x1: float, y1: float, color: Color) -> None:
        """Fill the rectangle (x0, y0)-(x1, y1), in luma pixels."""

        def draw(plane: NDArray[np.uint8], value: int, div: int) -> None:
            cv2.rectangle(
                plane, (int(x0) // div, int(y0) // div), (int(x1) // div, int(y1) // div), value, -1
            )

        self._each(color, draw)

    def circle(self, cx: float, cy: float, r: float, color: Color) -> None:
        """Fill a circle of radius `r` luma pixels."""

        def draw(plane: NDArray[np.uint8], value: int, div: int) -> None:
            cv2.circle(plane, (int(cx) // div, int(cy) // div), max(1, int(r) // div), value, -1)

        self._each(color, draw)

    def ellipse(self, cx: float, cy: float, ax: float, ay: float, color: Color) -> None:
        """Fill an axis-aligned ellipse with half-axes `ax`, `ay` luma pixels."""

        def draw(plane: NDArray[np.uint8], value: int, div: int) -> None:
            centre = (int(cx) // div, int(cy) // div)
            axes = (max(1, int(ax) // div), max(1, int(ay) // div))
            cv2.ellipse(plane, centre, axes, 0, 0, 360, value, -1)

        self._each(color, draw)

    def line(self, p0: tuple[float, float], p1: tuple[float, float], w: float, c: Color) -> None:
        """Draw a line `w` luma pixels wide (anti-aliased on the luma plane)."""

        def draw(plane: NDArray[np.uint8], value: int, div: int) -> None:
            a = (int(p0[0]) // div, int(p0[1]) // div)
            b = (int(p1[0]) // div, int(p1[1]) // div)
            cv2.line(plane, a, b, value, max(1, int(w) // div), cv2.LINE_AA if div == 1 else 8)

        self._each(color=c, draw=draw)


def ease(k: float) -> float:
    """Smooth start and stop of a walk (no instant jumps in speed)."""
    k = min(1.0, max(0.0, k))
    return k * k * (3 - 2 * k)


def noise_bank(
    width: int, height: int, sigma: float, rng: np.random.Generator, banks: int = 3
) -> tuple[list[NDArray[np.uint8]], list[NDArray[np.uint8]], int]:
    """Positive and negative halves of Gaussian luma noise, and their extra rows.

    The arrays are taller than the frame, so a per-frame row offset makes many distinct
    noise fields out of a few arrays.
    """
    extra = 61
    pos, neg = [], []
    for _ in range(banks):
        noise = np.rint(rng.normal(0.0, sigma, (height + extra, width))).clip(-40, 40)
        pos.append(np.maximum(noise, 0).astype(np.uint8))
        neg.append(np.maximum(-noise, 0).astype(np.uint8))
    return pos, neg, extra
