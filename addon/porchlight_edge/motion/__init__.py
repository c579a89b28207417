"""Motion detection on decimated luma: engine, zones and hysteresis."""

from .config import Box, MotionConfig, MotionResult
from .engine import MotionEngine
from .hysteresis import MotionHysteresis
from .zones import Point, Polygon, Zone, rasterise, validate_polygon

__all__ = [
    "Box",
    "MotionConfig",
    "MotionEngine",
    "MotionHysteresis",
    "MotionResult",
    "Point",
    "Polygon",
    "Zone",
    "rasterise",
    "validate_polygon",
]
