"""Service options: HA add-on `/data/options.json`, a JSON file, or command-line flags.

Parsing is strict: a wrong type or an unknown key is a clear error naming the
option, so a typo never silently turns a feature off. Every number is bounded
(the ranges of config.yaml's schema; NaN and infinity are refused) and every
string is checked, so no option can end in a traceback later.

Over 400 lines: the whole option grammar, one parser per section with its own error
messages, mirrors config.yaml's schema in one place (tests compare the two).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
import json
from pathlib import Path
import re
from typing import Any, Final

from porchlight_edge.api.connections import ConnectionLimits
from porchlight_edge.button import ButtonConfig
from porchlight_edge.capture.config import CameraConfig
from porchlight_edge.motion.config import MotionConfig
from porchlight_edge.motion.zones import Polygon, Zone, validate_polygon
from porchlight_edge.panel.ingress import SUPERVISOR_INGRESS_ADDRESS
from porchlight_edge.protocol import (
    CAMERA_NAME_RE,
    DEFAULT_PORT,
    LIMITS,
    MIN_TOKEN_LENGTH,
    Setting,
)
from porchlight_edge.recorder.codecs import HevcRecording
from porchlight_edge.recorder.retention import RetentionPolicy
from porchlight_edge.settings import CameraSettings

ADDON_OPTIONS = Path("/data/options.json")
ADDON_MEDIA_DIR = Path("/media/porchlight")
"""media_dir under the Supervisor when the option is left out (standalone: data_dir/recordings)."""
LOG_LEVELS = ("debug", "info", "warning", "error")
MAX_NAME_LENGTH = 48
"""The device name; it also labels the zeroconf service, which DNS caps at 63 bytes."""
MAX_TOKEN_LENGTH: Final = 256
MAX_TITLE_LENGTH: Final = 64
# The token travels in an HTTP header: visible ASCII only, no spaces.
_TOKEN_RE: Final = re.compile(r"^[\x21-\x7e]+$")
_HOST_RE: Final = re.compile(r"^[A-Za-z0-9_.:%\[\]-]{1,253}$")
_ZONE_NAME_RE: Final = re.compile(r"^[A-Za-z0-9_-]{1,32}$")
_CHIP_RE: Final = re.compile(r"^/dev/gpiochip[0-9]{1,3}$")

# The protocol's limits that are also options (record_clip.seconds is only an argument).
_OPTIONS: Final = frozenset(
    {Setting.THRESHOLD, Setting.MIN_AREA, Setting.PRE_ROLL, Setting.POST_ROLL}
)
# Ranges of the numeric options, as config.yaml's schema states them (a test compares).
RANGES: Final[dict[str, tuple[float, float]]] = {
    "audit_retention_days": (1, 3650),
    "live.width": (160, 3840),
    "live.quality": (1, 100),
    "live.max_viewers": (1, 64),
    "retention.max_age_days": (0, 3650),
    "retention.max_size_gb": (0, 100000),
    "retention.min_free_gb": (0, 1000),
    "button.line": (0, 1023),
    "button.debounce_ms": (0, 1000),
    **{setting: limit.range for setting, limit in LIMITS.items() if setting in _OPTIONS},
    "motion.detect_height": (16, 1080),
    "motion.on_frames": (1, 30),
    "motion.off_seconds": (0, 600),
    "motion.still_hold": (1, 86400),
}


class ConfigError(ValueError):
    """The options are invalid; the message names the offending option."""


DEFAULT_LIVE_WIDTH = 960
"""Live view and snapshot width: half of 1080p, a whole-number ratio that scales cheaply."""


@dataclass(slots=True)
class LiveOptions:
    """Live view options: width in pixels, JPEG quality 1-100, viewers per camera."""

    width: int = DEFAULT_LIVE_WIDTH
    quality: int = 80
    max_viewers: int = 8


@dataclass(slots=True)
class CameraOptions:
    """One camera's options: capture, motion, default settings and privacy masks."""

    name: str
    title: str
    capture: CameraConfig
    motion: MotionConfig = field(default_factory=MotionConfig)
    defaults: CameraSettings = field(default_factory=CameraSettings)
    """Switches and sliders before the owner changes them over the API."""
    privacy_masks: tuple[Polygon, ...] = ()
    """Blacked out before anything is stored, streamed or sent; motion there is ignored."""
    hevc: HevcRecording = HevcRecording.PASSTHROUGH
    """What clips do with an H.265 camera stream (`recording.hevc`)."""
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)
    """The camera's options as given (the seed of what the panel saves, camera_store).
    Not part of equality (`{}` and a missing section mean the same) nor of the repr (it may
    hold a camera password)."""


@dataclass(slots=True)
class ServiceOptions:
    """The whole service's options, parsed from the add-on options (or --demo)."""

    data_dir: Path
    host: str = "0.0.0.0"
    port: int = DEFAULT_PORT
    name: str = "Porchlight"
    log_level: str = "info"
    token: str | None = None
    """Fixed token (tests, development); normally generated into the data folder."""
    cameras: list[CameraOptions] = field(default_factory=list)
    live: LiveOptions = field(default_factory=LiveOptions)
    button: ButtonConfig | None = None
    zeroconf: bool = True
    media_dir: Path | None = None
    """Clips, snapshots and the index (default: <data_dir>/recordings)."""
    retention: RetentionPolicy = field(default_factory=RetentionPolicy)
    audit_retention_days: float = 365.0
    connections: ConnectionLimits = field(default_factory=ConnectionLimits)
    """Caps on API client connections (not an add-on option: the defaults suit a home)."""
    ingress_port: int | None = None
    """Port of the Home Assistant ingress panel (under the Supervisor INGRESS_PORT), None
    standalone. Not an option: set by the command line (see __main__)."""
    ingress_peers: frozenset[str] = frozenset({SUPERVISOR_INGRESS_ADDRESS})
    """The only addresses let into the ingress port (a test hook may change it)."""
    """Advertise on the LAN when standalone (under the Supervisor, discovery goes through it)."""


def _take(
    d: dict[str, Any], key: str, kind: type | tuple[type, ...], where: str, default: Any
) -> Any:
    value = d.pop(key, default)
    if value is default:
        return value
    if isinstance(value, bool) and bool not in (kind if isinstance(kind, tuple) else (kind,)):
        raise ConfigError(f"{where}.{key}: expected {_kind_name(kind)}, got a boolean")
    if not isinstance(value, kind):
        raise ConfigError(f"{where}.{key}: expected {_kind_name(kind)}, got {value!r}")
    return value


def _number(d: dict[str, Any], key: str, where: str, default: Any, *, integer: bool = False) -> Any:
    """Pop a bounded number from `d` (ValueError when it is out of range or not a number).

    An int (or also a float unless `integer`), never a bool, inside RANGES[<section>.<key>]
    (the section is `where` without its `options.`/`cameras[i].`).
    """
    value = d.pop(key, default)
    if value is default:
        return value
    section = where.rsplit(".", 1)[-1] if "." in where else ""
    low, high = RANGES[f"{section}.{key}" if section and section != "options" else key]
    kind = "an integer" if integer else "a number"
    if isinstance(value, bool) or not isinstance(value, int if integer else int | float):
        raise ConfigError(f"{where}.{key}: expected {kind}, got {value!r}")
    if not low <= value <= high:  # NaN and infinity compare false: refused too
        raise ConfigError(f"{where}.{key}: must be {low:g}-{high:g}, got {value!r}")
    return value if integer else float(value)


def _string(
    d: dict[str, Any], key: str, where: str, default: Any, pattern: re.Pattern[str], rule: str
) -> Any:
    value = _take(d, key, str, where, default)
    if value is not default and not pattern.fullmatch(value):
        raise ConfigError(f"{where}.{key}: {rule}")
    return value


def _kind_name(kind: type | tuple[type, ...]) -> str:
    kinds = kind if isinstance(kind, tuple) else (kind,)
    return " or ".join(k.__name__ for k in kinds)


def _no_leftovers(d: dict[str, Any], where: str) -> None:
    if d:
        raise ConfigError(f"{where}: unknown option(s) {', '.join(sorted(d))}")


def parse_polygon(value: object, what: str) -> Any:
    """A polygon as the add-on UI writes it, "x1,y1 x2,y2 x3,y3" (relative 0..1), as [x, y] pairs.

    Any other value is returned as given (JSON lists of pairs).
    """
    if not isinstance(value, str):
        return value
    try:
        return [[float(c) for c in point.split(",")] for point in value.split()]
    except ValueError:
        raise ValueError(
            f"{what}: expected corners 'x1,y1 x2,y2 x3,y3' (0..1), got {value!r}"
        ) from None


def parse_zone(raw: object, index: int) -> Zone:
    """A zone: {"name", "polygon"}, a polygon, or the UI's "name=x1,y1 x2,y2 x3,y3"."""
    if isinstance(raw, dict):
        name = _zone_name(raw.get("name", f"zone_{index}"))
        return Zone(name, parse_polygon(raw.get("polygon", []), f"zone {name!r}"))
    if isinstance(raw, str) and "=" in raw:
        name, _, points = raw.partition("=")
        name = _zone_name(name.strip())
        return Zone(name, parse_polygon(points, f"zone {name!r}"))
    return Zone(f"zone_{index}", parse_polygon(raw, f"zone {index}"))


def _zone_name(name: object) -> str:
    # Zone names travel in motion events: the same rule as config.yaml's schema.
    if not isinstance(name, str) or not _ZONE_NAME_RE.fullmatch(name):
        raise ValueError(f"zone name {name!r}: 1-32 characters of A-Z, a-z, 0-9, _ and -")
    return name


def parse_motion(raw: dict[str, Any], where: str) -> tuple[MotionConfig, bool]:
    """A camera's motion options: the engine config and whether motion is on; ValueError if bad."""
    d = dict(raw)
    enabled = _take(d, "enabled", bool, where, True)
    defaults = MotionConfig()
    zones_raw = _take(d, "zones", list, where, [])
    masks_raw = _take(d, "masks", list, where, [])
    kwargs: dict[str, Any] = {
        "threshold": _number(d, "threshold", where, defaults.threshold, integer=True),
        "min_area_pct": _number(d, "min_area", where, defaults.min_area_pct),
        "detect_height": _number(d, "detect_height", where, defaults.detect_height, integer=True),
        "on_frames": _number(d, "on_frames", where, defaults.on_frames, integer=True),
        "off_seconds": _number(d, "off_seconds", where, defaults.off_seconds),
        "still_hold_seconds": _number(d, "still_hold", where, defaults.still_hold_seconds),
    }
    _no_leftovers(d, where)
    try:
        zones = tuple(parse_zone(z, i) for i, z in enumerate(zones_raw))
        masks = tuple(parse_polygon(m, f"mask {i}") for i, m in enumerate(masks_raw))
        return MotionConfig(zones=zones, masks=masks, **kwargs), enabled
    except (ValueError, TypeError) as err:
        raise ConfigError(f"{where}: {err}") from err


def parse_camera(raw: object, index: int) -> CameraOptions:
    """The camera at `index` of `cameras`; ValueError naming the bad field."""
    where = f"cameras[{index}]"
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}: expected an object")
    d = dict(raw)
    name = d.get("name")
    if not isinstance(name, str) or not CAMERA_NAME_RE.match(name):
        raise ConfigError(f"{where}.name: 1-32 characters of a-z, 0-9 and _ required, got {name!r}")
    title = _take(d, "title", str, where, None) or name.replace("_", " ").title()
    if len(title) > MAX_TITLE_LENGTH or not title.isprintable():
        raise ConfigError(f"{where}.title: 1-{MAX_TITLE_LENGTH} printable characters required")
    masks_raw = d.pop("privacy_masks", []) or []
    if not isinstance(masks_raw, list):
        raise ConfigError(f"{where}.privacy_masks: expected a list of polygons")
    # The add-on UI writes an empty section as null.
    recording = dict(_take(d, "recording", (dict, type(None)), where, {}) or {})
    motion_raw = _take(d, "motion", (dict, type(None)), where, {}) or {}
    motion, enabled = parse_motion(motion_raw, f"{where}.motion")
    try:
        privacy = tuple(
            validate_polygon(parse_polygon(m, f"privacy mask {i}"), f"privacy mask {i}")
            for i, m in enumerate(masks_raw)
        )
        # Motion under a privacy mask is never looked at.
        motion.masks = motion.masks + privacy
        capture = CameraConfig.from_dict(d)
    except (ValueError, TypeError) as err:
        raise ConfigError(f"{where}: {err}") from err
    rwhere = f"{where}.recording"
    base = CameraSettings()
    defaults = CameraSettings(
        motion_enabled=enabled,
        threshold=motion.threshold,
        min_area=motion.min_area_pct,
        recording_enabled=_take(recording, "enabled", bool, rwhere, True),
        pre_roll=_number(recording, "pre_roll", rwhere, base.pre_roll),
        post_roll=_number(recording, "post_roll", rwhere, base.post_roll),
        audio=capture.audio,
    )
    hevc = _take(recording, "hevc", str, rwhere, HevcRecording.PASSTHROUGH)
    if hevc not in set(HevcRecording):
        choices = " or ".join(repr(str(m)) for m in HevcRecording)
        raise ConfigError(f"{rwhere}.hevc: expected {choices}, got {hevc!r}")
    _no_leftovers(recording, rwhere)
    try:
        defaults.check()
    except ValueError as err:
        raise ConfigError(f"{rwhere}: {err}") from err
    return CameraOptions(
        name,
        str(title),
        capture,
        motion,
        defaults,
        privacy,
        HevcRecording(hevc),
        copy.deepcopy(raw),
    )


def parse_options(raw: dict[str, Any], data_dir: Path) -> ServiceOptions:
    """All options (the add-on's options.json shape); ValueError naming the bad field."""
    d = dict(raw)
    where = "options"
    options = ServiceOptions(data_dir=data_dir)
    options.host = _string(d, "host", where, options.host, _HOST_RE, "an IP address or host name")
    options.port = _take(d, "port", int, where, options.port)
    if not 0 <= options.port <= 65535:  # 0: any free port (tests, development)
        raise ConfigError(f"options.port: must be 0-65535, got {options.port}")
    options.name = _take(d, "name", str, where, options.name).strip()
    if not 1 <= len(options.name) <= MAX_NAME_LENGTH or not options.name.isprintable():
        raise ConfigError(f"options.name: 1-{MAX_NAME_LENGTH} printable characters required")
    options.log_level = _take(d, "log_level", str, where, options.log_level).lower()
    if options.log_level not in LOG_LEVELS:
        raise ConfigError(f"options.log_level: one of {', '.join(LOG_LEVELS)}")
    options.token = parse_token(_take(d, "token", str, where, None))
    options.zeroconf = _take(d, "zeroconf", bool, where, options.zeroconf)
    live = dict(_take(d, "live", dict, where, {}))
    options.live = LiveOptions(
        width=_number(live, "width", "options.live", DEFAULT_LIVE_WIDTH, integer=True),
        quality=_number(live, "quality", "options.live", 80, integer=True),
        max_viewers=_number(live, "max_viewers", "options.live", 8, integer=True),
    )
    _no_leftovers(live, "options.live")
    cameras = _take(d, "cameras", list, where, [{"name": "front_door", "source": "demo"}])
    options.cameras = [parse_camera(c, i) for i, c in enumerate(cameras)]
    names = [c.name for c in options.cameras]
    if not names:
        raise ConfigError("options.cameras: at least one camera is required")
    if len(set(names)) != len(names):
        raise ConfigError("options.cameras: camera names must be unique")
    retention = dict(_take(d, "retention", dict, where, {}))
    options.retention = parse_retention(retention)
    options.audit_retention_days = _number(
        d, "audit_retention_days", where, options.audit_retention_days
    )
    media_dir = _take(d, "media_dir", str, where, None)
    if media_dir and (not media_dir.startswith("/") or not media_dir.isprintable()):
        raise ConfigError("options.media_dir: an absolute path of printable characters required")
    options.media_dir = Path(media_dir) if media_dir else None
    button = _take(d, "button", dict, where, None)
    if button is not None:
        button = dict(button)
        # The add-on UI always has a button section; enabled: false means no button.
        enabled = _take(button, "enabled", bool, "options.button", True)
        parsed = parse_button(button, [c.name for c in options.cameras])
        options.button = parsed if enabled else None
    _no_leftovers(d, where)
    return options


GB = 1024**3


def parse_retention(raw: dict[str, Any]) -> RetentionPolicy:
    """The `retention` options (days, bytes); ValueError for a value out of range."""
    where, default = "options.retention", RetentionPolicy()
    age = _number(raw, "max_age_days", where, default.max_age_days)
    size = _number(raw, "max_size_gb", where, None)
    free = _number(raw, "min_free_gb", where, default.min_free_bytes / GB)
    _no_leftovers(raw, where)
    try:
        return RetentionPolicy(
            max_age_days=float(age) if age else None,
            max_total_bytes=int(size * GB) if size else None,
            min_free_bytes=int(free * GB),
        )
    except ValueError as err:
        raise ConfigError(f"{where}: {err}") from err


def parse_button(raw: dict[str, Any], cameras: list[str]) -> ButtonConfig:
    """The `button` options for `cameras`; ValueError for a bad value or an unknown camera."""
    d, where = dict(raw), "options.button"
    defaults = ButtonConfig()
    kwargs: dict[str, Any] = {
        "chip": _string(d, "chip", where, defaults.chip, _CHIP_RE, "a /dev/gpiochipN path"),
        "line": _number(d, "line", where, defaults.line, integer=True),
        "active_low": _take(d, "active_low", bool, where, defaults.active_low),
        "debounce_ms": _number(d, "debounce_ms", where, defaults.debounce_ms, integer=True),
        "camera": _take(d, "camera", str, where, cameras[0]),
    }
    _no_leftovers(d, where)
    if kwargs["camera"] not in cameras:
        raise ConfigError(f"{where}.camera: no camera named {kwargs['camera']!r}")
    try:
        return ButtonConfig(**kwargs)
    except ValueError as err:
        raise ConfigError(str(err)) from err


def parse_token(token: str | None) -> str | None:
    """A fixed access token: None (generate one) or MIN_TOKEN_LENGTH+ visible ASCII."""
    if not token:
        return None
    if not MIN_TOKEN_LENGTH <= len(token) <= MAX_TOKEN_LENGTH or not _TOKEN_RE.fullmatch(token):
        raise ConfigError(
            f"options.token: {MIN_TOKEN_LENGTH}-{MAX_TOKEN_LENGTH} visible ASCII characters"
            " without spaces required (or leave it out to use the generated token)"
        )
    return token


def load_options_file(path: Path, data_dir: Path) -> ServiceOptions:
    """Read and parse the options file at `path` (JSON); ValueError naming what is wrong."""
    try:
        raw = json.loads(path.read_text())
    except (OSError, ValueError) as err:
        raise ConfigError(f"cannot read {path}: {err}") from err
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: expected a JSON object")
    return parse_options(raw, data_dir)
