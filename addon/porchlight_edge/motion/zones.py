"""Named zones and ignore masks as polygons in relative (0..1) coordinates.

Polygons are resolution independent so one configuration serves any stream; the
engine rasterises them once per working resolution.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import cv2
import numpy as np

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

    from numpy.typing import NDArray

type Point = tuple[float, float]
type Polygon = tuple[Point, ...]


def validate_polygon(points: Iterable[Sequence[float]], what: str = "polygon") -> Polygon:
    """Return `points` as a tuple of (x, y) floats, or raise ValueError saying what is wrong."""
    out: list[Point] = []
    for i, point in enumerate(points):
        if len(point) != 2:
            raise ValueError(f"{what}: point {i} must be [x, y], got {list(point)!r}")
        x, y = float(point[0]), float(point[1])
        if not (np.isfinite(x) and np.isfinite(y)):
            raise ValueError(f"{what}: point {i} has a non-finite coordinate ({x}, {y})")
        if not (0.0 <= x <= 1.0 and 0.0 <= y <= 1.0):
            raise ValueError(
                f"{what}: point {i} ({x}, {y}) is outside 0..1; "
                "coordinates are relative to the frame width and height"
            )
        out.append((x, y))
    if len(out) < 3:
        raise ValueError(f"{what}: needs at least 3 points, got {len(out)}")
    if not _spans_area(out):
        raise ValueError(f"{what}: points are collinear or repeated, the polygon has no area")
    return tuple(out)


def _spans_area(points: Sequence[Point]) -> bool:
    """True unless every point lies on one line.

    Not the signed (shoelace) area: the two lobes of a valid self-crossing polygon (a bow tie)
    cancel out there, while cv2.fillPoly fills both.
    """
    offsets = np.asarray(points, np.float64) - np.asarray(points[0], np.float64)
    return bool(np.linalg.matrix_rank(offsets, tol=1e-9) == 2)


@dataclass(frozen=True, slots=True)
class Zone:
    """A named area where motion counts."""

    name: str
    polygon: Polygon

    def __init__(self, name: str, polygon: Iterable[Sequence[float]]) -> None:
        if not name or not name.strip():
            raise ValueError("zone name must not be empty")
        object.__setattr__(self, "name", name)
        object.__setattr__(self, "polygon", validate_polygon(polygon, f"zone {name!r}"))


def rasterise(polygons: Iterable[Polygon], width: int, height: int) -> NDArray[np.uint8]:
    """Fill `polygons` into a (height, width) uint8 mask: 255 inside any polygon, 0 elsewhere."""
    mask = np.zeros((height, width), np.uint8)
    # Relative corner (1, 1) maps onto the last pixel so a full-frame polygon covers everything.
    scale = np.array([width - 1, height - 1], np.float64)
    pts = [np.round(np.asarray(p, np.float64) * scale).astype(np.int32) for p in polygons]
    if pts:
        cv2.fillPoly(mask, pts, 255)
    return mask
