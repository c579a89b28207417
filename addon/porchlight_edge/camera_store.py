"""Camera settings saved from the panel (masks, zones; set-up's sources), across restarts.

Kept in `<data_dir>/cameras.json`. This store is the single source of what the panel
saves; the add-on options only seed it. Each saved field remembers the option value it
replaced (its *seed*). At start, a saved field wins while the option still has that
value; when the owner has since edited the option (Supervisor UI, options file), the
later edit wins: the saved field is dropped, with a log line saying so. So the two never
fight, and standalone (no Supervisor) works the same. Values are kept in the options' own
form ("x1,y1 x2,y2 …" strings), so what the panel saves and what a hand-written config
says are read by the same parser (`config.parse_camera`).

File shape: `{"<camera>": {"<field>": {"value": <option value>, "seed": <option value>}}}`
with `<field>` a dotted path into the camera's options (`motion.zones`).
"""

from __future__ import annotations

import copy
import logging
from typing import TYPE_CHECKING, Any, Final

from porchlight_edge.config import CameraOptions, ConfigError, parse_camera
from porchlight_edge.jsonfile import UnreadableFile, read_object, write_atomic

if TYPE_CHECKING:
    from pathlib import Path

_LOGGER = logging.getLogger(__name__)

PRIVACY_MASKS: Final = "privacy_masks"
ZONES: Final = "motion.zones"
MOTION_MASKS: Final = "motion.masks"
LAYOUT_FIELDS: Final = (PRIVACY_MASKS, ZONES, MOTION_MASKS)
"""What the mask and zone editor saves."""


def get_field(raw: dict[str, Any], field: str) -> Any:
    """The value at dotted `field` of a raw camera dict, None when absent."""
    node: Any = raw
    for key in field.split("."):
        if not isinstance(node, dict):
            return None
        node = node.get(key)
    return node


def same_value(a: Any, b: Any) -> bool:
    """Whether two option values are equal; absent, null and empty are one.

    The Supervisor's UI writes an empty list where a hand-written file leaves the key out.
    """
    return (a or None) == (b or None)


def with_field(raw: dict[str, Any], field: str, value: Any) -> dict[str, Any]:
    """A deep copy of `raw` with dotted `field` set to `value` (sections made as needed)."""
    out = copy.deepcopy(raw)
    node = out
    *sections, last = field.split(".")
    for key in sections:
        child = node.get(key)
        node[key] = child = dict(child) if isinstance(child, dict) else {}
        node = child
    node[last] = copy.deepcopy(value)
    return out


class CameraStore:
    """Saved camera fields over the options' seeds; one JSON file, written atomically.

    An unreadable file is moved aside (`cameras.json.unreadable-<UTC time>`) and the options apply:
    masks are then what the options say, and a warning says which file was kept.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._saved: dict[str, dict[str, dict[str, Any]]] = {}
        try:
            raw = read_object(path)
        except UnreadableFile as err:
            _LOGGER.warning(
                "Saved camera settings %s are unreadable (%s); kept as %s, the options apply",
                path,
                err.reason,
                err.kept.name,
            )
            return
        for camera, fields in raw.items():
            if isinstance(fields, dict):
                self._saved[camera] = {
                    name: entry
                    for name, entry in fields.items()
                    if isinstance(entry, dict) and "value" in entry
                }

    def overlay(self, raw: dict[str, Any]) -> dict[str, Any]:
        """The camera's raw options with each saved field whose seed still matches applied.

        A saved field whose option changed since it was saved is dropped (the newer edit
        wins) and the file rewritten without it.
        """
        camera = str(raw.get("name"))
        fields = self._saved.get(camera, {})
        out = raw
        stale = []
        for field, entry in fields.items():
            if not same_value(entry.get("seed"), get_field(raw, field)):
                stale.append(field)
                continue
            out = with_field(out, field, entry["value"])
        if stale:
            _LOGGER.warning(
                "%s: the options' %s changed since the panel saved them: the options apply",
                camera,
                ", ".join(stale),
            )
            saved = {k: v for k, v in self._saved.items() if k != camera}
            if kept := {k: v for k, v in fields.items() if k not in stale}:
                saved[camera] = kept
            try:
                self._write(saved)
                self._saved = saved
            except OSError as err:
                _LOGGER.warning("Cannot rewrite %s: %s", self.path, err)
        return out

    def apply(self, options: CameraOptions, index: int) -> CameraOptions:
        """`options` with the saved fields applied, parsed by the options' own parser.

        Saved fields the parser refuses (a hand-edited file) are ignored, with a warning.
        """
        merged = self.overlay(options.raw)
        if merged == options.raw:
            return options
        try:
            parsed = parse_camera(merged, index)
        except ConfigError as err:
            _LOGGER.warning("%s: ignoring the saved settings: %s", options.name, err)
            return options
        parsed.raw = options.raw  # the seed stays the options' own value
        return parsed

    def check(self, options: CameraOptions, index: int, changes: dict[str, Any]) -> CameraOptions:
        """The camera `options` would become with `changes` (dotted field → option value).

        ConfigError (from the options' parser, naming the field) when they are invalid.
        """
        merged = self.overlay(options.raw)
        for field, value in changes.items():
            merged = with_field(merged, field, value)
        parsed = parse_camera(merged, index)
        parsed.raw = options.raw
        return parsed

    def save(self, options: CameraOptions, changes: dict[str, Any]) -> None:
        """Keep `changes` (dotted field → option value) for the camera, seeded by its options.

        Atomic (fsynced); OSError leaves the file and this store as they were.
        """
        fields = dict(self._saved.get(options.name, {}))
        for field, value in changes.items():
            fields[field] = {"value": value, "seed": get_field(options.raw, field)}
        saved = {**self._saved, options.name: fields}
        self._write(saved)
        self._saved = saved

    def _write(self, saved: dict[str, Any]) -> None:
        write_atomic(self.path, saved)
