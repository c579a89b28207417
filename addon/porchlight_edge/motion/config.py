"""The motion engine's configuration and per-frame result (shapes and units)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from .zones import Polygon, Zone, validate_polygon

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

type Box = tuple[float, float, float, float]
type Rect = tuple[int, int, int, int]


@dataclass(slots=True)
class MotionConfig:
    """How one camera's motion engine works; ValueError for values out of range."""

    threshold: int = 20
    """Minimum luma difference (0..255) for a pixel to count as changed."""
    min_area_pct: float = 0.1
    """Smallest region that counts, in percent of the working frame area."""
    detect_height: int = 100
    """Rows of the luma plane the engine works on (Frame.luma(detect_height)); smaller
    pictures are used at their own size."""
    outline_height: int = 240
    """Rows `MotionEngine.outline` redraws the mask at (optional, see there): the
    outline of a small camera's own pixels instead of the working height's blocks.
    Never fewer rows than the working height, never more than the picture has."""
    on_frames: int = 2
    off_seconds: float = 5.0
    zones: tuple[Zone, ...] = ()
    """Where motion counts; empty = the whole frame."""
    masks: tuple[Polygon, ...] = ()
    """Areas ignored entirely (trees, a road, a timestamp overlay)."""
    noise_factor: float = 3.0
    """A pixel also needs a difference above this many standard deviations of its own noise."""
    background_seconds: float = 1.3
    """Time constant of the background's adaptation where nothing changed."""
    warmup_frames: int = 3
    """Frames after start (or a reset) that learn the background at `warmup_rate`."""
    warmup_rate: float = 0.1
    ghost_seconds: float = 1.0
    """A change that stopped moving and is not an object (the place something left, a
    local lighting change, noise) joins the background after this long."""
    still_hold_seconds: float = 300.0
    """A still object (a visitor waiting at the door) stays foreground this long before
    it joins the background."""
    fill_holes: bool = True
    """Report whole objects: a uniform shirt matches the background inside its outline."""

    def __post_init__(self) -> None:
        self.zones = tuple(self.zones)
        self.masks = tuple(validate_polygon(m, f"mask {i}") for i, m in enumerate(self.masks))
        check_sensitivity(self.threshold, self.min_area_pct)
        if self.detect_height < 16:
            raise ValueError(f"detect_height must be at least 16, got {self.detect_height}")
        if self.outline_height < 16:
            raise ValueError(f"outline_height must be at least 16, got {self.outline_height}")
        for name in ("background_seconds", "ghost_seconds", "still_hold_seconds"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be positive, got {getattr(self, name)}")


def check_sensitivity(threshold: int, min_area_pct: float) -> None:
    """ValueError unless threshold is 1-255 (luma steps) and min_area_pct 0-100 (%)."""
    if not 1 <= threshold <= 255:
        raise ValueError(f"threshold must be in 1..255, got {threshold}")
    if not 0.0 <= min_area_pct <= 100.0:
        raise ValueError(f"min_area_pct must be in 0..100, got {min_area_pct}")


@dataclass(slots=True)
class MotionResult:
    """What the engine found in one frame (`pts` in seconds of stream time)."""

    pts: float
    mask: NDArray[np.uint8]
    """255 where motion counts (inside zones, outside masks), at working resolution."""
    boxes: list[Box] = field(default_factory=list)
    """Moving regions as (x, y, w, h) relative to the frame (0..1)."""
    motion_pct: float = 0.0
    """Percent of the zone area (or the unmasked frame) in motion."""
    zones_hit: list[str] = field(default_factory=list)
    occupancy_changed: dict[str, bool] = field(default_factory=dict)
    """Zones whose debounced occupancy (foreground, moving or still, in the zone) changed
    with this frame, and their new state."""
    has_motion: bool = False
    """This frame has motion (before hysteresis)."""
    active: bool = False
    """Debounced motion state after this frame."""
    changed: bool | None = None
    """The new debounced state when this frame changed it, else None."""
