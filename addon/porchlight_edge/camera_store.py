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

Cameras added in the panel are kept whole under the field `+camera` (value: the camera's
options, seed null); a camera of the options removed in the panel is marked `-camera`
(seed: its options then). The same rule holds: a camera the options also name (added
later there) is the options' camera, and the panel's copy is dropped; a removed camera
comes back when its options are edited afterwards.
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
LAYOUT_KEYS: Final = {PRIVACY_MASKS: "privacy_masks", ZONES: "zones", MOTION_MASKS: "motion_masks"}
"""Each editor field's key in the `CameraLayout` payload."""
_FIELD_NAMES: Final = {PRIVACY_MASKS: "privacy masks", ZONES: "zones", MOTION_MASKS: "motion masks"}
ADDED: Final = "+camera"
"""A whole camera added in the panel (not an option field)."""
REMOVED: Final = "-camera"
"""An options camera removed in the panel, seeded by its options."""
_WHOLE: Final = (ADDED, REMOVED)


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


def _describe(field: str, value: Any) -> str:
    """What the panel had saved in `field`, for the log: "2 privacy masks", "source"."""
    if field in _FIELD_NAMES:
        count = len(value) if isinstance(value, list) else 0
        name = _FIELD_NAMES[field]
        return f"{count} {name.removesuffix('s') if count == 1 else name}"
    return field


class CameraStore:
    """Saved camera fields over the options' seeds; one JSON file, written atomically.

    An unreadable file is moved aside (`cameras.json.unreadable-<UTC time>`) and the options apply:
    masks are then what the options say, and a warning says which file was kept.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._saved: dict[str, dict[str, dict[str, Any]]] = {}
        self.replaced: dict[str, list[str]] = {}
        """Per camera, the editor fields (`LAYOUT_FIELDS`) drawn in the panel that a later
        edit of the options replaced at start, until the panel saves them again."""
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
            if field in _WHOLE:
                continue
            if not same_value(entry.get("seed"), get_field(raw, field)):
                stale.append(field)
                continue
            out = with_field(out, field, entry["value"])
        if stale:
            _LOGGER.warning(
                "%s: the options' %s changed since the panel saved them: the options apply"
                " and replace what the panel saved (%s)",
                camera,
                ", ".join(_FIELD_NAMES.get(f, f) for f in stale),
                "; ".join(_describe(f, fields[f].get("value")) for f in stale),
            )
            drawn = [f for f in stale if f in LAYOUT_FIELDS]
            if drawn:
                self.replaced[camera] = [*self.replaced.get(camera, []), *drawn]
            self._rewrite(camera, {k: v for k, v in fields.items() if k not in stale})
        return out

    def _rewrite(self, camera: str, kept: dict[str, Any]) -> None:
        """Keep only `kept` of the camera's entries; a failed write is logged, not raised."""
        saved = {k: v for k, v in self._saved.items() if k != camera}
        if kept:
            saved[camera] = kept
        try:
            self._write(saved)
            self._saved = saved
        except OSError as err:
            _LOGGER.warning("Cannot rewrite %s: %s", self.path, err)

    def added(self, option_names: set[str]) -> list[dict[str, Any]]:
        """The raw options of the cameras added in the panel, in the order they were added.

        A camera the options now name too is the options' one (the later edit wins): its
        panel copy is dropped, with a warning.
        """
        out = []
        for camera, fields in list(self._saved.items()):
            entry = fields.get(ADDED)
            if entry is None or not isinstance(entry.get("value"), dict):
                continue
            if camera in option_names:
                _LOGGER.warning(
                    "%s: the options now name this camera (added in the panel): the options apply",
                    camera,
                )
                self._rewrite(camera, {k: v for k, v in fields.items() if k != ADDED})
                continue
            out.append({**copy.deepcopy(entry["value"]), "name": camera})
        return out

    def removed(self, raw: dict[str, Any]) -> bool:
        """Whether the options camera `raw` was removed in the panel (and not edited since).

        A removal whose options changed afterwards is dropped: the edited camera runs.
        """
        camera = str(raw.get("name"))
        fields = self._saved.get(camera, {})
        if (entry := fields.get(REMOVED)) is None:
            return False
        if same_value(entry.get("seed"), raw):
            return True
        _LOGGER.warning(
            "%s: the options changed since the panel removed this camera: the options apply",
            camera,
        )
        self._rewrite(camera, {})
        return False

    def add(self, raw: dict[str, Any]) -> None:
        """Keep a camera added in the panel (its raw options, `name` included).

        Atomic; OSError leaves the file and this store as they were.
        """
        camera = str(raw["name"])
        saved = {**self._saved, camera: {ADDED: {"value": copy.deepcopy(raw), "seed": None}}}
        self._write(saved)
        self._saved = saved

    def remove(self, options: CameraOptions, *, from_options: bool) -> None:
        """Forget the camera's saved settings; one of the options is marked removed.

        Atomic; OSError leaves the file and this store as they were.
        """
        saved = {k: v for k, v in self._saved.items() if k != options.name}
        if from_options:
            saved[options.name] = {REMOVED: {"value": True, "seed": copy.deepcopy(options.raw)}}
        self._write(saved)
        self._saved = saved

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
        # Drawn again in the panel: the notice of what the options replaced is answered.
        if left := [f for f in self.replaced.get(options.name, []) if f not in changes]:
            self.replaced[options.name] = left
        else:
            self.replaced.pop(options.name, None)

    def _write(self, saved: dict[str, Any]) -> None:
        write_atomic(self.path, saved)
