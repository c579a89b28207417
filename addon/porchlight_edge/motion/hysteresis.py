"""Debounce per-frame motion into on/off events."""

from __future__ import annotations


class MotionHysteresis:
    """Debounced motion: on after `on_frames` motion frames, off after `off_seconds` without.

    Driven only by (pts, has_motion) so it works the same live and offline.
    """

    def __init__(self, on_frames: int = 2, off_seconds: float = 5.0) -> None:
        self.configure(on_frames, off_seconds)
        self.active = False
        self._streak = 0
        self._last_motion_pts: float | None = None

    def configure(self, on_frames: int, off_seconds: float) -> None:
        """Set the debounce; ValueError for on_frames < 1 or negative off_seconds."""
        if on_frames < 1:
            raise ValueError(f"on_frames must be at least 1, got {on_frames}")
        if off_seconds < 0:
            raise ValueError(f"off_seconds must not be negative, got {off_seconds}")
        self.on_frames = on_frames
        self.off_seconds = off_seconds

    def update(self, pts: float, has_motion: bool) -> bool | None:
        """Feed one frame; return the new state when it changes, else None."""
        if has_motion:
            self._streak += 1
            self._last_motion_pts = pts
            if not self.active and self._streak >= self.on_frames:
                self.active = True
                return True
            return None
        self._streak = 0
        if (
            self.active
            and self._last_motion_pts is not None
            and pts - self._last_motion_pts >= self.off_seconds
        ):
            self.active = False
            return False
        return None

    def reset(self) -> None:
        """Back to no motion (nothing counted)."""
        self.active = False
        self._streak = 0
        self._last_motion_pts = None
