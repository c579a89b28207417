"""Settings changed at run time (switches and sliders in Home Assistant), kept across restarts.

The add-on options give the defaults; a change over the API is written here,
atomically, so a restart never loses a switch the owner flipped. The file is read
field by field: one bad value (a hand edit, an older version) drops only itself,
so a saved privacy mode survives a broken neighbour.
"""

from __future__ import annotations

import contextlib
from dataclasses import asdict, dataclass
import logging
from typing import TYPE_CHECKING, Any

from porchlight_edge.jsonfile import UnreadableFile, read_object, write_atomic
from porchlight_edge.protocol import LIMITS, Setting

if TYPE_CHECKING:
    from pathlib import Path

_LOGGER = logging.getLogger(__name__)

MAX_PRE_ROLL = LIMITS[Setting.PRE_ROLL].high
MAX_POST_ROLL = LIMITS[Setting.POST_ROLL].high


@dataclass(slots=True)
class CameraSettings:
    """A camera's user settings: motion (threshold 1-255 luma steps, min_area %), roll times (s)."""

    motion_enabled: bool = True
    threshold: int = 20  # the motion engine's defaults (MotionConfig.threshold, min_area_pct)
    min_area: float = 0.1
    recording_enabled: bool = True
    pre_roll: float = 5.0
    post_roll: float = 10.0
    privacy_mode: bool = False
    audio: bool = False
    """Take the camera's sound into clips and the live stream. Off unless turned on."""

    def check(self) -> None:
        """Raise ValueError naming the first out-of-range value (NaN is out of every range)."""
        for key, (low, high) in _RANGES.items():
            value = getattr(self, key)
            if not low <= value <= high:  # NaN compares false: refused too
                raise ValueError(f"'{key}' must be {low:g}-{high:g}, got {value!r}")


_RANGES: dict[str, tuple[float, float]] = {
    "threshold": LIMITS[Setting.THRESHOLD].range,
    "min_area": LIMITS[Setting.MIN_AREA].range,
    "pre_roll": LIMITS[Setting.PRE_ROLL].range,
    "post_roll": LIMITS[Setting.POST_ROLL].range,
}


_KINDS: dict[str, tuple[type, ...]] = {
    "motion_enabled": (bool,),
    "threshold": (int,),
    "min_area": (int, float),
    "recording_enabled": (bool,),
    "pre_roll": (int, float),
    "post_roll": (int, float),
    "privacy_mode": (bool,),
    "audio": (bool,),
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
    """Per-camera overrides in one JSON file.

    A file that cannot be read as a whole (not JSON, not an object, unreadable) may have
    held a privacy mode the owner switched on, and nothing says which camera: the store
    then fails closed. The file is moved aside (`settings.json.unreadable-<UTC time>`,
    never overwritten) and every camera starts in privacy mode until the owner turns it
    off, with a warning saying so.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._saved: dict[str, dict[str, Any]] = {}
        self.failed_closed = False
        try:
            raw = read_object(path)
        except UnreadableFile as err:
            self.failed_closed = True
            _LOGGER.warning(
                "Settings file %s is unreadable (%s); kept as %s. Every camera starts in "
                "privacy mode until you turn it off",
                path,
                err.reason,
                err.kept.name,
            )
            return
        self._saved = {k: v for k, v in raw.items() if isinstance(v, dict)}
        for camera, values in self._saved.items():
            if not _privacy_readable(values):
                # This camera's entry is damaged where privacy lives: fail closed for it.
                values["privacy_mode"] = True
                _LOGGER.warning(
                    "Saved privacy mode of %s is unreadable; it starts in privacy mode", camera
                )

    def load(self, camera: str, defaults: CameraSettings) -> CameraSettings:
        """`defaults` with each valid saved value applied.

        An invalid or unknown saved value is logged and dropped on its own. After an
        unreadable file, privacy mode is on.
        """
        settings = defaults
        if self.failed_closed and camera not in self._saved:
            # Saved at once, so a restart before the owner acts still starts closed.
            with contextlib.suppress(OSError):
                self._write({**self._saved, camera: {"privacy_mode": True}})
            self._saved.setdefault(camera, {"privacy_mode": True})
        for key, value in self._saved.get(camera, {}).items():
            if key not in _KINDS:
                _LOGGER.warning("Ignoring unknown saved setting %r of %s", key, camera)
                continue
            try:
                settings = updated(settings, {key: value})
            except ValueError as err:
                _LOGGER.warning("Ignoring saved setting %r of %s: %s", key, camera, err)
        return settings

    def save(self, camera: str, settings: CameraSettings) -> None:
        """Write the file atomically.

        OSError (disk full, ...) leaves it and this store's view of it as they were.
        """
        saved = {**self._saved, camera: asdict(settings)}
        self._write(saved)
        self._saved = saved

    def _write(self, saved: dict[str, dict[str, Any]]) -> None:
        """Replace the file with `saved` atomically (fsynced); raises OSError, file intact."""
        write_atomic(self.path, saved)


def _privacy_readable(values: dict[str, Any]) -> bool:
    """Whether a saved camera entry's privacy mode is absent or a real boolean."""
    return "privacy_mode" not in values or isinstance(values["privacy_mode"], bool)
