"""Settings changed at run time (switches and sliders in Home Assistant), kept across restarts.

The add-on options give the defaults; a change over the API is written here,
atomically, so a restart never loses a switch the owner flipped.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
import json
import logging
import os
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pathlib import Path

_LOGGER = logging.getLogger(__name__)

MAX_PRE_ROLL = 30.0
MAX_POST_ROLL = 300.0


@dataclass(slots=True)
class CameraSettings:
    motion_enabled: bool = True
    threshold: int = 20  # the motion engine's defaults (MotionConfig.threshold, min_area_pct)
    min_area: float = 0.1
    recording_enabled: bool = True
    pre_roll: float = 5.0
    post_roll: float = 10.0
    privacy_mode: bool = False

    def check(self) -> None:
        """Raise ValueError naming the first out-of-range value."""
        if not 1 <= self.threshold <= 255:
            raise ValueError("'threshold' must be an integer 1-255")
        if not 0 <= self.min_area <= 100:
            raise ValueError("'min_area' must be a number 0-100")
        if not 0 <= self.pre_roll <= MAX_PRE_ROLL:
            raise ValueError(f"'pre_roll' must be 0-{MAX_PRE_ROLL:g} seconds")
        if not 1 <= self.post_roll <= MAX_POST_ROLL:
            raise ValueError(f"'post_roll' must be 1-{MAX_POST_ROLL:g} seconds")


_KINDS: dict[str, tuple[type, ...]] = {
    "motion_enabled": (bool,),
    "threshold": (int,),
    "min_area": (int, float),
    "recording_enabled": (bool,),
    "pre_roll": (int, float),
    "post_roll": (int, float),
    "privacy_mode": (bool,),
}


def updated(current: CameraSettings, changes: dict[str, Any]) -> CameraSettings:
    """A copy of `current` with `changes` applied and checked (ValueError on bad input)."""
    values = asdict(current)
    for key, value in changes.items():
        if value is None:
            continue
        kinds = _KINDS[key]
        if (isinstance(value, bool) and bool not in kinds) or not isinstance(value, kinds):
            raise ValueError(f"{key!r} has the wrong type: {value!r}")
        values[key] = float(value) if float in kinds and isinstance(value, int | float) else value
    result = CameraSettings(**values)
    result.check()
    return result


class SettingsStore:
    """Per-camera overrides in one JSON file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._saved: dict[str, dict[str, Any]] = {}
        try:
            raw = json.loads(path.read_text())
            if isinstance(raw, dict):
                self._saved = {k: v for k, v in raw.items() if isinstance(v, dict)}
        except FileNotFoundError:
            pass
        except (OSError, ValueError) as err:
            _LOGGER.warning("Ignoring unreadable settings file %s: %s", path, err)

    def load(self, camera: str, defaults: CameraSettings) -> CameraSettings:
        saved = {k: v for k, v in self._saved.get(camera, {}).items() if k in _KINDS}
        try:
            return updated(defaults, saved)
        except ValueError as err:
            _LOGGER.warning("Ignoring saved settings for %s: %s", camera, err)
            return defaults

    def save(self, camera: str, settings: CameraSettings) -> None:
        self._saved[camera] = asdict(settings)
        tmp = self.path.with_name(self.path.name + ".tmp")
        with tmp.open("w") as handle:
            json.dump(self._saved, handle, indent=1)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, self.path)
