"""One voluptuous schema per websocket command: the only check of a command's `args`.

`validate_args` runs before any handler, so a handler reads values of the right
type and range, and bad input always gets `invalid_args` (never `internal_error`).
Ranges come from the protocol module. Unknown keys are refused, so a typo is an
error instead of a silently ignored option. Whether a named camera, clip or
event exists is state, not shape: handlers answer `not_found` for those.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, Final

import voluptuous as vol

from porchlight_edge.audit import AuditAction
from porchlight_edge.capture.urls import MAX_URL_LENGTH, SCHEMES_BY_KIND
from porchlight_edge.config import MAX_TITLE_LENGTH
from porchlight_edge.protocol import (
    AUDITED_COMMANDS,
    CAMERA_NAME_RE,
    LIMITS,
    MAX_MESSAGE_ID,
    MAX_PAGE_SIZE,
    MAX_SHAPE_POINTS,
    MAX_SHAPES,
    MAX_USER_CHARS,
    POLYGON_PATTERN,
    USER_ARG,
    ZONE_PATTERN,
    Command,
    ErrorCode,
    EventKind,
    ProtocolError,
    Setting,
)
from porchlight_edge.recorder.ids import validate_clip_id, validate_event_id

if TYPE_CHECKING:
    from collections.abc import Callable

MAX_ID_LIST: Final = 1000
"""Most ids one `delete_clips` may name."""
MAX_EPOCH: Final = 1e11
"""Epoch seconds beyond year 5000: larger `start`/`end` values are typos."""


def _finite(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise vol.Invalid("expected a number")
    try:
        number = float(value)
    except OverflowError:  # an integer beyond float range
        number = math.inf
    if not math.isfinite(number):
        raise vol.Invalid("expected a finite number")
    return number


def number(low: float, high: float) -> Callable[[object], float]:
    """A finite int or float (never a bool) in [low, high], as float."""

    def check(value: object) -> float:
        result = _finite(value)
        if not low <= result <= high:
            raise vol.Invalid(f"must be {low:g}-{high:g}")
        return result

    return check


def integer(low: int, high: int) -> Callable[[object], int]:
    """An int (never a bool, never a float) in [low, high]."""

    def check(value: object) -> int:
        if type(value) is not int:
            raise vol.Invalid("expected an integer")
        if not low <= value <= high:
            raise vol.Invalid(f"must be an integer {low}-{high}")
        return value

    return check


def limited(setting: Setting) -> Callable[[object], float] | Callable[[object], int]:
    """The check of a setting's value: its protocol limit, as integer or number."""
    limit = LIMITS[setting]
    if limit.integer:
        return integer(int(limit.low), int(limit.high))
    return number(limit.low, limit.high)


def boolean(value: object) -> bool:
    """True or false only (no 0/1, no "yes")."""
    if not isinstance(value, bool):
        raise vol.Invalid("expected true or false")
    return value


def _pattern(value: object, check: Callable[[object], str]) -> str:
    try:
        return check(value)
    except ValueError as err:
        raise vol.Invalid(str(err)) from None


def short_text(most: int) -> Callable[[object], str]:
    """A string of 1-`most` characters."""

    def check(value: object) -> str:
        if not isinstance(value, str) or not 1 <= len(value) <= most:
            raise vol.Invalid(f"expected text of 1-{most} characters")
        return value

    return check


def camera_name(value: object) -> str:
    """`value` if it is a camera name (1-32 of a-z, 0-9, _), else vol.Invalid."""
    if not isinstance(value, str) or not CAMERA_NAME_RE.fullmatch(value):
        raise vol.Invalid("expected a camera name (1-32 characters of a-z, 0-9 and _)")
    return value


def clip_id(value: object) -> str:
    """`value` if it is a well-formed clip id, else vol.Invalid."""
    return _pattern(value, validate_clip_id)


def event_id(value: object) -> str:
    """`value` if it is a well-formed event id, else vol.Invalid."""
    return _pattern(value, validate_event_id)


def one_of(values: type[Any]) -> Callable[[object], str]:
    """A validator accepting the string values of the enum `values` (vol.Invalid otherwise)."""
    allowed = {str(v) for v in values}

    def check(value: object) -> str:
        if not isinstance(value, str) or value not in allowed:
            raise vol.Invalid(f"must be one of {', '.join(sorted(allowed))}")
        return value

    return check


def nullable(check: Callable[[object], Any]) -> Callable[[object], Any]:
    """null, or a value `check` accepts (its message, not voluptuous' "not a valid value").

    For settings, null leaves the value as it is; for filters, it means "any".
    """

    def run(value: object) -> Any:
        return None if value is None else check(value)

    return run


def user_name(value: object) -> str:
    """A user name for the audit log: printable text of 1-`MAX_USER_CHARS` characters."""
    if (
        not isinstance(value, str)
        or not 0 < len(value) <= MAX_USER_CHARS
        or not value.isprintable()
    ):
        raise vol.Invalid(f"must be printable text of 1-{MAX_USER_CHARS} characters")
    return value


EPOCH = nullable(number(0.0, MAX_EPOCH))
CAMERA: Final[dict[Any, Any]] = {vol.Optional("camera"): nullable(camera_name)}
PAGING: Final[dict[Any, Any]] = {
    **CAMERA,
    vol.Optional("start"): EPOCH,
    vol.Optional("end"): EPOCH,
    vol.Optional("limit", default=50): integer(1, MAX_PAGE_SIZE),
    vol.Optional("offset", default=0): integer(0, MAX_MESSAGE_ID),
}

SOURCE: Final[dict[Any, Any]] = {
    vol.Required("source"): vol.In(sorted(SCHEMES_BY_KIND), msg="must be rtsp or mjpeg"),
    vol.Required("url"): short_text(MAX_URL_LENGTH),
    vol.Optional("username"): nullable(short_text(256)),
    vol.Optional("password"): nullable(short_text(256)),
    vol.Optional("rtsp_transport"): nullable(vol.In(["tcp", "udp"], msg="must be tcp or udp")),
}
"""A camera source as the set-up page sends it (`test_camera`, `save_camera_source`)."""
CAMERA_SOURCE: Final[dict[Any, Any]] = {**CAMERA, **SOURCE}


def _one_target(args: dict[str, Any]) -> dict[str, Any]:
    given = [key for key in ("clip_ids", "event_ids") if key in args]
    ranged = args.get("start") is not None and args.get("end") is not None
    if len(given) + ranged != 1:
        raise vol.Invalid("give exactly one of 'clip_ids', 'event_ids', or 'start' and 'end'")
    return args


def _shapes(pattern: str, form: str) -> vol.All:
    """A list of polygons in the options' string form (the same pattern as config.yaml)."""
    corners = vol.Match(pattern, msg=f"expected corners '{form}' (0..1, at least three)")

    def small(value: str) -> str:
        if len(value.split()) > MAX_SHAPE_POINTS:
            raise vol.Invalid(f"at most {MAX_SHAPE_POINTS} corners")
        return value

    return vol.All([vol.All(str, corners, small)], vol.Length(max=MAX_SHAPES))


SCHEMAS: Final[dict[Command, vol.Schema]] = {
    Command.PING: vol.Schema({}),
    Command.GET_STATE: vol.Schema({}),
    Command.GET_STORAGE: vol.Schema({}),
    Command.SUBSCRIBE: vol.Schema(
        {
            vol.Optional("since"): nullable(
                vol.Schema(
                    {
                        vol.Required("boot_id"): vol.All(str, vol.Length(min=1, max=64)),
                        vol.Required("seq"): integer(0, MAX_MESSAGE_ID),
                    }
                )
            )
        }
    ),
    Command.RING: vol.Schema(CAMERA),
    Command.SET_MOTION_SETTINGS: vol.Schema(
        {
            **CAMERA,
            vol.Optional("enabled"): nullable(boolean),
            vol.Optional("threshold"): nullable(limited(Setting.THRESHOLD)),
            vol.Optional("min_area"): nullable(limited(Setting.MIN_AREA)),
        }
    ),
    Command.SET_RECORDING_SETTINGS: vol.Schema(
        {
            **CAMERA,
            vol.Optional("enabled"): nullable(boolean),
            vol.Optional("pre_roll"): nullable(limited(Setting.PRE_ROLL)),
            vol.Optional("post_roll"): nullable(limited(Setting.POST_ROLL)),
        }
    ),
    Command.SET_PRIVACY_MODE: vol.Schema({**CAMERA, vol.Required("enabled"): boolean}),
    Command.SET_AUDIO: vol.Schema({**CAMERA, vol.Required("enabled"): boolean}),
    Command.TAKE_SNAPSHOT: vol.Schema(CAMERA),
    Command.RECORD_CLIP: vol.Schema(
        {**CAMERA, vol.Required("seconds"): limited(Setting.RECORD_SECONDS)}
    ),
    Command.LIST_EVENTS: vol.Schema({**PAGING, vol.Optional("kind"): nullable(one_of(EventKind))}),
    Command.LIST_CLIPS: vol.Schema({**PAGING, vol.Optional("protected"): nullable(boolean)}),
    Command.PROTECT_CLIP: vol.Schema(
        {vol.Required("clip_id"): clip_id, vol.Required("protected"): boolean}
    ),
    Command.DELETE_CLIPS: vol.Schema(
        vol.All(
            {
                **CAMERA,
                vol.Optional("clip_ids"): vol.All([clip_id], vol.Length(min=1, max=MAX_ID_LIST)),
                vol.Optional("event_ids"): vol.All([event_id], vol.Length(min=1, max=MAX_ID_LIST)),
                vol.Optional("start"): EPOCH,
                vol.Optional("end"): EPOCH,
            },
            _one_target,
        )
    ),
    Command.EXPORT_CLIP: vol.Schema({vol.Required("clip_id"): clip_id}),
    Command.GET_AUDIT_LOG: vol.Schema(
        {**PAGING, vol.Optional("action"): nullable(one_of(AuditAction))}
    ),
    Command.GET_STREAM_URL: vol.Schema(CAMERA),
    Command.ROTATE_STREAM_CREDENTIAL: vol.Schema({}),
    Command.GET_CAMERA_SOURCES: vol.Schema({}),
    Command.TEST_CAMERA: vol.Schema(CAMERA_SOURCE),
    Command.SAVE_CAMERA_SOURCE: vol.Schema({vol.Required("camera"): camera_name, **SOURCE}),
    Command.ADD_CAMERA: vol.Schema(
        {
            vol.Required("camera"): camera_name,
            vol.Optional("title"): nullable(short_text(MAX_TITLE_LENGTH)),
            **SOURCE,
        }
    ),
    Command.REMOVE_CAMERA: vol.Schema({vol.Required("camera"): camera_name}),
    Command.GET_CAMERA_LAYOUT: vol.Schema(CAMERA),
    Command.SET_CAMERA_LAYOUT: vol.Schema(
        {
            **CAMERA,
            vol.Optional("privacy_masks"): _shapes(POLYGON_PATTERN, "x1,y1 x2,y2 x3,y3"),
            vol.Optional("zones"): _shapes(ZONE_PATTERN, "name=x1,y1 x2,y2 x3,y3"),
            vol.Optional("motion_masks"): _shapes(POLYGON_PATTERN, "x1,y1 x2,y2 x3,y3"),
        }
    ),
}


ON_BEHALF: Final = vol.Schema({vol.Optional(USER_ARG): nullable(user_name)})
"""`USER_ARG`, checked here once for every audited command (`AUDITED_COMMANDS`)."""


def _where(err: vol.Invalid) -> str:
    return ".".join(str(p) for p in err.path) or "args"


def validate_args(command: Command, args: dict[str, Any]) -> dict[str, Any]:
    """`args` checked and with defaults filled in.

    An audited command's `USER_ARG` is checked by `ON_BEHALF`; it stays in the result
    (null when given as null).

    ProtocolError(INVALID_ARGS) naming the argument and what it must be.
    """
    try:
        if command in AUDITED_COMMANDS and isinstance(args, dict) and USER_ARG in args:
            own = {key: value for key, value in args.items() if key != USER_ARG}
            user = ON_BEHALF({USER_ARG: args[USER_ARG]})
            return {**validate_args(command, own), **user}
        result: dict[str, Any] = SCHEMAS[command](args)
    except vol.MultipleInvalid as err:
        first = err.errors[0]
        # voluptuous words an extra key differently for an empty schema (`ping`)
        unknown = first.error_message in ("extra keys not allowed", "not a valid option")
        message = "unknown argument" if unknown else None
        raise ProtocolError(
            ErrorCode.INVALID_ARGS, f"'{_where(first)}': {message or first.error_message}"
        ) from None
    except vol.Invalid as err:
        raise ProtocolError(
            ErrorCode.INVALID_ARGS, f"'{_where(err)}': {err.error_message}"
        ) from None
    return result
