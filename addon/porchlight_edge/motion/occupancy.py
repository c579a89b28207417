"""Zone occupancy: is someone (moving or standing still) in each named zone.

Like Frigate's zone occupancy sensors, but for foreground rather than detected
objects: a zone is occupied while the engine's foreground (moving objects and held
still ones) covers enough of it, debounced like motion itself.
"""

from __future__ import annotations

from .hysteresis import MotionHysteresis


class ZoneOccupancy:
    """Debounced occupancy per zone name, driven by (pts, zones with foreground)."""

    def __init__(self, names: tuple[str, ...], on_frames: int, off_seconds: float) -> None:
        self._on_frames, self._off_seconds = on_frames, off_seconds
        self._zones = {name: MotionHysteresis(on_frames, off_seconds) for name in names}

    @property
    def occupied(self) -> dict[str, bool]:
        """Current state of every zone, in configuration order."""
        return {name: h.active for name, h in self._zones.items()}

    def configure(self, on_frames: int, off_seconds: float) -> None:
        """Set every zone's debounce: on after `on_frames` frames, off after `off_seconds` (s)."""
        self._on_frames, self._off_seconds = on_frames, off_seconds
        for h in self._zones.values():
            h.configure(on_frames, off_seconds)

    def set_zones(self, names: tuple[str, ...]) -> dict[str, bool]:
        """Track these zones from now on.

        Returns the removed zones that were occupied (now reported clear).
        """
        gone = {n: False for n, h in self._zones.items() if n not in names and h.active}
        kept = {n: h for n, h in self._zones.items() if n in names}
        self._zones = {n: kept.get(n) or MotionHysteresis(self._on_frames, self._off_seconds)
                       for n in names}  # fmt: skip
        return gone

    def update(self, pts: float, present: set[str]) -> dict[str, bool]:
        """Feed one frame (`present`: zones with enough foreground).

        Returns the zones whose occupancy changed, with their new state.
        """
        changes = {}
        for name, h in self._zones.items():
            changed = h.update(pts, name in present)
            if changed is not None:
                changes[name] = changed
        return changes

    def reset(self) -> dict[str, bool]:
        """Forget everything (camera offline); returns the zones that were occupied."""
        gone = {n: False for n, h in self._zones.items() if h.active}
        for h in self._zones.values():
            h.reset()
        return gone
