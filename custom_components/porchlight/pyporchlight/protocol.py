"""Porchlight protocol 1.2 ("v2"): the single source of the wire contract.

This file is the one definition shared by both halves. The add-on imports it as
`porchlight_edge.protocol`; the integration ships a byte-identical copy as
`custom_components/porchlight/protocol.py` (written by `scripts/sync-protocol`,
checked by `tests/test_protocol_contract.py`), because the Supervisor builds the
add-on alone and HACS ships only the integration. Standard library only.

See docs/protocol.md for the prose contract and the upgrade rules: within a major
version fields, events and commands are only added; a payload field an older peer leaves
out is `NotRequired` here; every peer ignores fields and events it does not know.

Over 400 lines: the whole contract (versions, limits, routes, message and payload shapes)
must be this one file, which the integration copies byte for byte.
"""

from __future__ import annotations

from enum import StrEnum
import json
import re
from typing import Any, Final, NamedTuple, NotRequired, TypedDict

PROTOCOL_VERSION: Final = 1
"""Major version, sent as the integer `protocol_version`: bumped only on an incompatible
change. Protocol 1.0 peers compare it exactly, so it stays 1 while changes are additive."""
PROTOCOL_MINOR: Final = 2
"""Minor version (`protocol_minor`): bumped when fields, events or commands are added.
Within a major, fields are only added; a peer ignores fields and events it does not know."""

WS_PATH: Final = "/api/websocket"
MAX_MESSAGE_BYTES: Final = 64 * 1024
"""Largest client→server websocket message; larger ones get `message_too_large`."""
EVENT_BUFFER_SIZE: Final = 1024
"""How many past events the server keeps for replay after a reconnect."""
DEFAULT_PORT: Final = 8765

STREAM_CREDENTIAL_PARAM: Final = "credential"
"""Query parameter of the live stream URL that carries the scoped stream credential."""
CAMERA_NAME_RE: Final = re.compile(r"^[a-z0-9_]{1,32}$")

NO_MESSAGE_ID: Final = -1
"""`message_id` of an error result for a message without a usable id."""
MAX_MESSAGE_ID: Final = 2**53 - 1
"""Largest `message_id`: the largest integer every JSON implementation keeps exact."""
MAX_PAGE_SIZE: Final = 200
"""Largest `limit` of the list commands."""
MAX_SHAPES: Final = 32
"""Most privacy masks, zones or motion masks one camera may have (`set_camera_layout`)."""
MAX_SHAPE_POINTS: Final = 64
"""Most corners of one polygon (`set_camera_layout`)."""
_COORD = r"(0(\.[0-9]+)?|1(\.0+)?|\.[0-9]+)"
_CORNERS = rf"{_COORD},{_COORD}( +{_COORD},{_COORD}){{2,}}"
POLYGON_PATTERN: Final = rf"^ *{_CORNERS} *$"
"""A polygon as the add-on options write it: "x1,y1 x2,y2 x3,y3 …", corners relative to the
picture's width and height (0..1), at least three. config.yaml's schema uses this pattern."""
ZONE_PATTERN: Final = rf"^ *([A-Za-z0-9_-]{{1,32}}=)?{_CORNERS} *$"
"""A zone: "name=x1,y1 x2,y2 x3,y3 …" (the name and "=" may be left out)."""


class Limit(NamedTuple):
    """The inclusive range of one numeric setting, its UI step, and whether it is an integer.

    Every check and every UI control of the setting reads it.
    """

    low: float
    high: float
    step: float = 1
    integer: bool = False

    @property
    def range(self) -> tuple[float, float]:
        """(low, high)."""
        return (self.low, self.high)


class Setting(StrEnum):
    """The numeric settings with a range; values are `section.key` as in config.yaml.

    `record_clip.seconds` is a command argument, not an option.
    """

    THRESHOLD = "motion.threshold"
    """Motion threshold (luma difference 1-255)."""
    MIN_AREA = "motion.min_area"
    """Motion minimum area, percent of the zone area."""
    PRE_ROLL = "recording.pre_roll"
    """Seconds recorded before the trigger."""
    POST_ROLL = "recording.post_roll"
    """Seconds recorded after the last trigger."""
    RECORD_SECONDS = "record_clip.seconds"
    """Length of a manual clip (`record_clip`), seconds."""
    SNAPSHOT_WIDTH = "snapshot.width"
    """Largest width of a camera snapshot (`SNAPSHOT_ROUTE` query `width`), pixels."""
    SNAPSHOT_HEIGHT = "snapshot.height"
    """Largest height of a camera snapshot (`SNAPSHOT_ROUTE` query `height`), pixels."""


LIMITS: Final[dict[Setting, Limit]] = {
    Setting.THRESHOLD: Limit(1, 255, integer=True),
    Setting.MIN_AREA: Limit(0.0, 100.0, step=0.5),
    Setting.PRE_ROLL: Limit(0.0, 30.0),
    Setting.POST_ROLL: Limit(1.0, 300.0),
    Setting.RECORD_SECONDS: Limit(1.0, 300.0),
    # 8K is the largest picture a camera sends; 16 px the smallest a JPEG scaler keeps sane.
    Setting.SNAPSHOT_WIDTH: Limit(16, 7680, integer=True),
    Setting.SNAPSHOT_HEIGHT: Limit(16, 7680, integer=True),
}
"""The one table of setting limits: the add-on's option parser, settings, command schemas
and recorder, and the integration's number entities and action schemas read it;
tests compare config.yaml's schema with it."""

# Views of LIMITS under their older names.
RECORD_SECONDS: Final = LIMITS[Setting.RECORD_SECONDS].range
THRESHOLD_RANGE: Final = LIMITS[Setting.THRESHOLD].range
MIN_AREA_RANGE: Final = LIMITS[Setting.MIN_AREA].range
PRE_ROLL_RANGE: Final = LIMITS[Setting.PRE_ROLL].range
POST_ROLL_RANGE: Final = LIMITS[Setting.POST_ROLL].range
MIN_TOKEN_LENGTH: Final = 16
"""Shortest access token the add-on accepts (a generated one has 43 characters)."""


SNAPSHOT_ROUTE: Final = "/api/cameras/{camera}/snapshot.jpg"
"""HTTP routes, as aiohttp route templates: the server registers these, the client fills
them in with the functions below."""
MJPEG_ROUTE: Final = "/api/cameras/{camera}/stream.mjpeg"
LIVE_STREAM_ROUTE: Final = "/api/cameras/{camera}/stream.ts"
CLIP_ROUTE: Final = "/api/clips/{clip_id}.mp4"
EVENT_SNAPSHOT_ROUTE: Final = "/api/events/{event_id}/snapshot.jpg"
CLIP_THUMBNAIL_ROUTE: Final = "/api/clips/{clip_id}/thumbnail.jpg"
EVENT_THUMBNAIL_ROUTE: Final = "/api/events/{event_id}/thumbnail.jpg"
THUMBNAIL_WIDTH: Final = 320
"""Width in pixels of clip and event thumbnails (the height keeps the aspect ratio)."""
CAMERA_TEST_SECONDS: Final = 10.0
"""Longest a `test_camera` probe runs before it answers `timeout`."""
MAX_CAMERAS: Final = 32
"""Most cameras one add-on runs; `add_camera` refuses more (options are not limited)."""


def snapshot_path(camera: str) -> str:
    """The URL path of a camera's current JPEG picture."""
    return SNAPSHOT_ROUTE.format(camera=camera)


SNAPSHOT_SIZE_PARAMS: Final = {"width": Setting.SNAPSHOT_WIDTH, "height": Setting.SNAPSHOT_HEIGHT}
"""Optional query parameters of `SNAPSHOT_ROUTE` (protocol 1.2) and their limits: the
picture is scaled down, keeping its aspect ratio, to fit within them (never up). Without
them a snapshot is full size. A value that is not an integer in range gets
400 `invalid_args`; an older add-on ignores them and sends its own size."""


def mjpeg_path(camera: str) -> str:
    """The URL path of a camera's MJPEG stream."""
    return MJPEG_ROUTE.format(camera=camera)


def live_stream_path(camera: str) -> str:
    """The live MPEG-TS stream for HA's `stream` integration (auth: `STREAM_CREDENTIAL_PARAM`)."""
    return LIVE_STREAM_ROUTE.format(camera=camera)


def clip_path(clip_id: str) -> str:
    """The URL path of a recorded clip (MP4)."""
    return CLIP_ROUTE.format(clip_id=clip_id)


def event_snapshot_path(event_id: str) -> str:
    """The URL path of an event's snapshot (JPEG)."""
    return EVENT_SNAPSHOT_ROUTE.format(event_id=event_id)


USER_HEADER: Final = "X-Porchlight-User"
"""Optional: the person on whose behalf a client fetches footage, for the audit log."""
MAX_USER_CHARS: Final = 64
"""Longest user name kept in the audit log (`USER_HEADER`, `USER_ARG`)."""
STALE_HEADER: Final = "X-Porchlight-Stale"
"""`1` on a snapshot response when the picture is the last one of a camera that is not
online (the client shows it but knows it is old)."""
STALE_YES: Final = "1"
"""The value of `STALE_HEADER` that marks a stale picture."""


class MessageType(StrEnum):
    """The `type` field of every server→client message, and of the client's auth."""

    SERVER_INFO = "server_info"
    AUTH = "auth"
    AUTH_OK = "auth_ok"
    AUTH_INVALID = "auth_invalid"
    RESULT = "result"
    EVENT = "event"


class Command(StrEnum):
    """Commands a client may send after authenticating."""

    PING = "ping"
    GET_STATE = "get_state"
    SUBSCRIBE = "subscribe"
    RING = "ring"
    SET_MOTION_SETTINGS = "set_motion_settings"
    SET_RECORDING_SETTINGS = "set_recording_settings"
    SET_PRIVACY_MODE = "set_privacy_mode"
    SET_AUDIO = "set_audio"
    TAKE_SNAPSHOT = "take_snapshot"
    RECORD_CLIP = "record_clip"
    LIST_EVENTS = "list_events"
    LIST_CLIPS = "list_clips"
    PROTECT_CLIP = "protect_clip"
    DELETE_CLIPS = "delete_clips"
    EXPORT_CLIP = "export_clip"
    GET_STORAGE = "get_storage"
    GET_AUDIT_LOG = "get_audit_log"
    GET_STREAM_URL = "get_stream_url"
    ROTATE_STREAM_CREDENTIAL = "rotate_stream_credential"
    GET_CAMERA_SOURCES = "get_camera_sources"
    TEST_CAMERA = "test_camera"
    SAVE_CAMERA_SOURCE = "save_camera_source"
    ADD_CAMERA = "add_camera"
    REMOVE_CAMERA = "remove_camera"
    GET_CAMERA_LAYOUT = "get_camera_layout"
    SET_CAMERA_LAYOUT = "set_camera_layout"


USER_ARG: Final = "user"
"""Optional argument of every `AUDITED_COMMANDS` command (since 1.2): the person on whose
behalf the client sends it, printable, 1-`MAX_USER_CHARS` characters, written to the
audit entry's `detail.user`."""
AUDITED_COMMANDS: Final = frozenset(
    {
        Command.RING,
        Command.SET_MOTION_SETTINGS,
        Command.SET_RECORDING_SETTINGS,
        Command.SET_PRIVACY_MODE,
        Command.SET_AUDIO,
        Command.TAKE_SNAPSHOT,
        Command.RECORD_CLIP,
        Command.PROTECT_CLIP,
        Command.DELETE_CLIPS,
        Command.EXPORT_CLIP,
        Command.GET_STREAM_URL,
        Command.ROTATE_STREAM_CREDENTIAL,
        Command.TEST_CAMERA,
        Command.ADD_CAMERA,
        Command.REMOVE_CAMERA,
        Command.SAVE_CAMERA_SOURCE,
        Command.SET_CAMERA_LAYOUT,
    }
)
"""Commands the add-on writes to its audit log; they take `USER_ARG`."""


class EventType(StrEnum):
    """Typed events; every event carries `boot_id` and `seq`."""

    RING = "ring"
    MOTION = "motion"
    CAMERA_STATUS = "camera_status"
    CAMERA_STATE = "camera_state"
    OCCUPANCY = "occupancy"
    SNAPSHOT_READY = "snapshot_ready"
    CLIP_STARTED = "clip_started"
    CLIP_FINISHED = "clip_finished"
    CLIP_DELETED = "clip_deleted"
    RETENTION_WARNING = "retention_warning"
    STORAGE_STATUS = "storage_status"
    CAMERAS_CHANGED = "cameras_changed"


class ErrorCode(StrEnum):
    """The `code` of an error result or `auth_invalid`."""

    INVALID_AUTH = "invalid_auth"
    INVALID_FORMAT = "invalid_format"
    MESSAGE_TOO_LARGE = "message_too_large"
    UNKNOWN_COMMAND = "unknown_command"
    INVALID_ARGS = "invalid_args"
    NOT_FOUND = "not_found"
    UNSUPPORTED_VERSION = "unsupported_version"
    UNAVAILABLE = "unavailable"
    INTERNAL_ERROR = "internal_error"


class Peer(StrEnum):
    """One side of a connection: the one a version mismatch says to update."""

    SERVER = "server"
    """The add-on."""
    CLIENT = "client"
    """The integration (or another client)."""


class CameraStatus(StrEnum):
    """A camera's connection state (`CameraState.status`, `camera_status` events)."""

    ONLINE = "online"
    STALLED = "stalled"
    OFFLINE = "offline"
    PRIVACY = "privacy"
    """Privacy mode is on: a state the owner chose, not a fault (protocol 1.2; a 1.1
    add-on says `offline` with the reason `PRIVACY_REASON`)."""


PRIVACY_REASON: Final = "privacy mode"
"""`status_reason` of a camera in privacy mode (with either status)."""


def dark_by_choice(camera: CameraState) -> bool:
    """True when a camera has no picture because its owner switched privacy mode on.

    Status `privacy`, an older add-on's `offline` with reason `PRIVACY_REASON`, or
    `privacy_mode` itself: none of these is a camera problem.
    """
    status, reason = camera["status"], camera["status_reason"]
    return (
        camera.get("privacy_mode", False)
        or status == CameraStatus.PRIVACY
        or (status == CameraStatus.OFFLINE and reason == PRIVACY_REASON)
    )


class RingSource(StrEnum):
    """Where a ring came from (`ring` event data): the GPIO button, the API or the demo."""

    BUTTON = "button"
    API = "api"
    DEMO = "demo"


class StorageReason(StrEnum):
    """Why recording is paused (`StorageStatus.reason`)."""

    DISK_FULL = "disk_full"
    """A write failed: the disk is full."""
    LOW_SPACE = "low_space"
    """Free space fell below the pause threshold and retention could not free enough."""
    LIMITS_UNREACHABLE = "limits_unreachable"
    """The retention limits cannot be met even with no clips (e.g. `min_free_bytes` larger
    than the disk can free): nothing recorded could be kept, so nothing is recorded."""


class CameraTestReason(StrEnum):
    """Why a `test_camera` probe showed no picture."""

    WRONG_PASSWORD = "wrong_password"
    """The camera refused the credentials (RTSP/HTTP 401 or 403)."""
    NO_VIDEO = "no_video"
    """The URL answers but offers no video track (audio or metadata only)."""
    UNREACHABLE = "unreachable"
    """Nothing answers at that address and port (refused, no route, unknown host)."""
    UNSUPPORTED_CODEC = "unsupported_codec"
    """The video track's codec cannot be decoded, or the URL serves no MJPEG."""
    NOT_FOUND = "not_found"
    """The camera answers, but has no stream at that path (RTSP/HTTP 404)."""
    TIMEOUT = "timeout"
    """No picture within `CAMERA_TEST_SECONDS`."""
    FAILED = "failed"
    """Any other failure; the message says what the camera answered."""


class EventKind(StrEnum):
    """What an indexed (recorded) event was."""

    RING = "ring"
    MOTION = "motion"
    MANUAL = "manual"


class ClipState(StrEnum):
    """Where a clip is in its life (`ClipRecord.state`, `EventRecord.clip_state`)."""

    RECORDING = "recording"
    """Still being written: `GET /api/clips/{id}.mp4` serves its whole fragments so far."""
    COMPLETE = "complete"
    PARTIAL = "partial"
    """Cut short (a crash, a full disk, a write error): shorter than planned."""


# --- versions -------------------------------------------------------------------------------


class ProtocolVersion(NamedTuple):
    """A protocol version `major.minor`; tuples order versions."""

    major: int
    minor: int

    def __str__(self) -> str:
        return f"{self.major}.{self.minor}"

    @classmethod
    def parse(cls, text: object) -> ProtocolVersion:
        """`"1.1"` -> ProtocolVersion(1, 1); ProtocolError(INVALID_FORMAT) for anything else."""
        match = re.fullmatch(r"(\d{1,6})\.(\d{1,6})", text) if isinstance(text, str) else None
        if match is None:
            raise ProtocolError(ErrorCode.INVALID_FORMAT, f"{text!r} is not a version major.minor")
        return cls(int(match[1]), int(match[2]))


CURRENT_VERSION: Final = ProtocolVersion(PROTOCOL_VERSION, PROTOCOL_MINOR)
MIN_SUPPORTED_VERSION: Final = ProtocolVersion(1, 0)
"""Oldest peer version this side still serves: one minor back (the upgrade rule)."""
USER_ARG_VERSION: Final = ProtocolVersion(1, 2)
"""The first version whose `AUDITED_COMMANDS` take `USER_ARG` (older add-ons refuse the
argument as unknown)."""
SNAPSHOT_SIZE_VERSION: Final = ProtocolVersion(1, 2)
"""The first version whose snapshot takes `width` and `height` (older add-ons ignore them)."""
RECORDING_CLIPS_VERSION: Final = ProtocolVersion(1, 2)
"""The first version whose `list_clips` lists clips still recording; older clients read
every listed clip as finished (to play or export), so they are not sent those."""
COMMAND_AUDIT_VERSION: Final = ProtocolVersion(1, 2)
"""The first version whose audit log records `ring`, `motion_settings`,
`recording_settings`, `take_snapshot`, `record_clip`, `camera_add`, `camera_remove` and
`camera_source`; older clients are not sent those entries (their action vocabulary has none
of them)."""
PRIVACY_STATUS_VERSION: Final = ProtocolVersion(1, 2)
"""The first version with camera status `privacy`; older clients get `offline` with reason
`PRIVACY_REASON`, as older add-ons sent (their status vocabulary has no `privacy`)."""


class VersionInfo(TypedDict):
    """The version fields of `server_info` and of `auth` (one shape for both peers)."""

    protocol_version: int
    protocol_minor: NotRequired[int]
    """Absent from protocol 1.0 peers: minor 0."""
    min_supported_version: NotRequired[str]
    """`major.minor`; absent from protocol 1.0 peers: `<major>.0`."""


def version_info() -> VersionInfo:
    """This side's version fields, to merge into `server_info` or `auth`."""
    return {
        "protocol_version": PROTOCOL_VERSION,
        "protocol_minor": PROTOCOL_MINOR,
        "min_supported_version": str(MIN_SUPPORTED_VERSION),
    }


def peer_version(message: object) -> tuple[ProtocolVersion, ProtocolVersion]:
    """(version, oldest version it serves) that a peer's `server_info` or `auth` announces.

    Fields a protocol 1.0 peer leaves out take its values: a missing `protocol_version`
    (a 1.0 client's auth) is 1, a missing minor 0, a missing minimum `<major>.0`.
    Raises ProtocolError(INVALID_FORMAT) when a field is there but malformed.
    """
    fields = message if isinstance(message, dict) else {}
    major = fields.get("protocol_version", 1)
    minor = fields.get("protocol_minor", 0)
    for name, value in (("protocol_version", major), ("protocol_minor", minor)):
        if type(value) is not int or value < 0:
            raise ProtocolError(ErrorCode.INVALID_FORMAT, f"{name} must be an integer >= 0")
    version = ProtocolVersion(major, minor)
    minimum = fields.get("min_supported_version")
    return version, (
        ProtocolVersion(major, 0) if minimum is None else ProtocolVersion.parse(minimum)
    )


def outdated_peer(
    server: tuple[ProtocolVersion, ProtocolVersion], client: tuple[ProtocolVersion, ProtocolVersion]
) -> Peer | None:
    """Which side must be updated for the pair to talk, or None when they can.

    Each argument is (version, oldest version served). The pair talks when each side's
    version is at least the other's minimum; both sides run this same rule, so they agree.
    """
    (server_version, server_min), (client_version, client_min) = server, client
    if client_version < server_min:
        return Peer.CLIENT
    if server_version < client_min:
        return Peer.SERVER
    return None


def unsupported_version_message(
    outdated: Peer, server: ProtocolVersion | str, client: ProtocolVersion | str
) -> str:
    """The `unsupported_version` error text: both versions and which side to update."""
    side = "add-on" if outdated is Peer.SERVER else "integration"
    return f"add-on speaks protocol {server}, client speaks {client}: update the {side}"


# --- message shapes -------------------------------------------------------------------------


class ErrorInfo(TypedDict):
    """An error: `code` (ErrorCode) and a human-readable `message`."""

    code: str
    message: str


class ServerInfo(VersionInfo):
    """The first message on a websocket: versions, server version, instance and boot ids."""

    type: str
    server_version: str
    instance_id: str
    boot_id: str
    name: str


class AuthMessage(TypedDict):
    """The client's `auth` message: token, client name and its protocol versions."""

    type: str
    token: str
    client: NotRequired[str]
    protocol_version: NotRequired[int]
    """Absent from protocol 1.0 clients (they speak 1.0)."""
    protocol_minor: NotRequired[int]
    min_supported_version: NotRequired[str]


class CommandMessage(TypedDict):
    """A client command: `message_id` (echoed in the result), name and `args`."""

    message_id: int
    command: str
    args: NotRequired[dict[str, Any]]


class ResultMessage(TypedDict):
    """The answer to a command: `result` on success, else `error`."""

    type: str
    message_id: int
    success: bool
    result: NotRequired[Any]
    error: NotRequired[ErrorInfo]


class EventMessage(TypedDict):
    """An event: numbered by `seq` within `boot_id`; `time` in Unix seconds."""

    type: str
    event: str
    boot_id: str
    seq: int
    time: float
    camera: str | None
    data: dict[str, Any]
    """Shaped as `EVENT_DATA[event]` (checked by the contract tests); a dict here because
    a reader must keep working with events and fields it does not know."""


class MotionSettings(TypedDict):
    """A camera's motion settings: on/off, threshold (luma 1-255), min_area (%)."""

    enabled: bool
    threshold: int
    min_area: float


class RecordingSettings(TypedDict):
    """A camera's recording settings: on/off, pre-/post-roll in seconds."""

    enabled: bool
    pre_roll: float
    post_roll: float


class StorageStatus(TypedDict):
    """Storage: bytes used and free, clips, pause state and the retention limits."""

    used_bytes: int
    free_bytes: int
    clips: int
    oldest_clip: float | None
    paused: bool
    reason: str | None
    max_age_days: float | None
    max_size_bytes: int | None
    min_free_bytes: int | None


class ZoneState(TypedDict):
    """A motion zone's debounced occupancy."""

    name: str
    occupied: bool
    """Foreground (someone moving or standing still) is in the zone, debounced like motion."""


class CameraState(TypedDict):
    """One camera's full state (`get_state`, the `camera_state` event)."""

    name: str
    title: str
    status: str
    status_reason: str | None
    motion: bool
    motion_settings: MotionSettings
    width: int | None
    height: int | None
    fps: float | None
    last_frame: float | None
    frames: int
    dropped: int
    latency_ms: float | None
    privacy_mode: bool
    recording: NotRequired[RecordingSettings]
    """Absent from add-ons before recording settings (clients fall back to defaults)."""
    last_ring: float | None
    last_motion: float | None
    preroll_bytes: int
    zones: NotRequired[list[ZoneState]]
    """The configured motion zones in order (absent from add-ons before zone occupancy)."""
    live_stream: NotRequired[bool]
    """The add-on serves this camera's live stream (`get_stream_url`); absent: MJPEG only."""
    audio: NotRequired[bool]
    """Clips and the live stream carry the camera's sound (`set_audio`); absent: never."""


class StreamFormat(StrEnum):
    """The container of a live stream."""

    MPEGTS = "mpegts"


class CameraLayout(TypedDict):
    """`get_camera_layout` / `set_camera_layout` result: a camera's polygons as saved.

    Each polygon in the options' form (`POLYGON_PATTERN`, zones `ZONE_PATTERN`).
    """

    camera: str
    privacy_masks: list[str]
    """Burned in black before anything is stored, streamed or sent."""
    zones: list[str]
    """Named motion zones ("name=x1,y1 …"): where motion counts, each with occupancy."""
    motion_masks: list[str]
    """Where motion is ignored (the picture is not changed)."""
    replaced_by_options: NotRequired[list[str]]
    """Which of `privacy_masks`, `zones`, `motion_masks` the panel had saved but a later edit
    of the add-on options replaced at start (the later edit wins): the owner is told until
    the panel saves that list again. Absent: nothing replaced (and from older add-ons)."""


class StreamUrl(TypedDict):
    """`get_stream_url` result: where a live stream is and its container.

    `path` is the HTTP path with the stream credential as query parameter (the client
    adds scheme and host); `format` the container.
    """

    path: str
    format: StreamFormat


class ServerState(TypedDict):
    """`get_state`: every camera, storage, and the bus position (boot id, seq)."""

    instance_id: str
    boot_id: str
    seq: int
    cameras: list[CameraState]
    storage: NotRequired[StorageStatus]
    """Absent from add-ons before storage status (clients ask `get_storage`)."""


# --- event payloads (`EventMessage.data`) ---------------------------------------------------


class RingData(TypedDict):
    """`ring` event data."""

    source: str
    """A `RingSource`."""


class MotionData(TypedDict):
    """`motion` event data: state, stream time (s), boxes (relative 0-1), area (%), zones."""

    active: bool
    pts: float
    """Stream seconds."""
    boxes: list[list[float]]
    """`[x, y, w, h]`, relative 0-1."""
    area: float
    """Percent of the zone area in motion."""
    zones: list[str]
    """Names of the zones hit."""


class CameraStatusData(TypedDict):
    """`camera_status` event data."""

    status: str
    """A `CameraStatus`."""
    reason: str | None
    """Credentials redacted (`redact_secrets`)."""


class OccupancyData(TypedDict):
    """`occupancy` event data: a zone's new state at stream time `pts` (s)."""

    zone: str
    occupied: bool
    pts: float | None
    """Stream seconds; null when the camera went offline or motion was turned off."""


class SnapshotReadyData(TypedDict):
    """`snapshot_ready` event data: the event and the HTTP path of its JPEG."""

    event_id: str
    kind: str
    """An `EventKind`."""
    path: str
    """HTTP path of the JPEG (`event_snapshot_path`)."""


class ClipStartedData(TypedDict):
    """`clip_started` event data: the clip and its event ids."""

    clip_id: str
    events: list[str]


class ClipFinishedData(TypedDict):
    """`clip_finished` event data; times in Unix seconds, size in bytes."""

    clip_id: str
    start: float
    end: float
    size: int
    events: list[str]
    state: str


class ClipDeletedData(TypedDict):
    """`clip_deleted` event data: the clip and why it went."""

    clip_id: str
    reason: str
    """`max_age`, `max_size`, `min_free` or `user`."""


class RetentionWarningData(TypedDict):
    """`retention_warning` event data: a protected clip deleted after `delete_after` (Unix s)."""

    clip_id: str
    reason: str
    delete_after: float
    """Epoch seconds."""


class CamerasChangedData(TypedDict):
    """`cameras_changed` event data (protocol 1.2): cameras added or removed at runtime.

    The event's `camera` is null. Clients read the new set with `get_state`.
    """

    added: list[str]
    removed: list[str]
    cameras: list[str]
    """Every camera's name after the change."""


EVENT_DATA: Final[dict[EventType, type]] = {
    EventType.RING: RingData,
    EventType.MOTION: MotionData,
    EventType.CAMERA_STATUS: CameraStatusData,
    EventType.CAMERA_STATE: CameraState,
    EventType.OCCUPANCY: OccupancyData,
    EventType.SNAPSHOT_READY: SnapshotReadyData,
    EventType.CLIP_STARTED: ClipStartedData,
    EventType.CLIP_FINISHED: ClipFinishedData,
    EventType.CLIP_DELETED: ClipDeletedData,
    EventType.RETENTION_WARNING: RetentionWarningData,
    EventType.STORAGE_STATUS: StorageStatus,
    EventType.CAMERAS_CHANGED: CamerasChangedData,
}
"""The `data` shape of every event type."""


# --- command results (`ResultMessage.result`) -----------------------------------------------


class PongResult(TypedDict):
    """`ping` result."""

    pong: bool


class SubscribeResult(TypedDict):
    """`subscribe` result: bus position, events replayed, and whether some were lost."""

    boot_id: str
    seq: int
    replayed: int
    gap: bool


class RingResult(TypedDict):
    """`ring` result: the ring event's seq."""

    seq: int


class PrivacyResult(TypedDict):
    """`set_privacy_mode` result."""

    privacy_mode: bool


class AudioResult(TypedDict):
    """`set_audio` result: whether the camera's sound is now on."""

    audio: bool


class SnapshotResult(TypedDict):
    """`take_snapshot` result: the manual event's id."""

    event_id: str


class RecordClipResult(TypedDict):
    """`record_clip` result: the manual event's and the clip's ids."""

    event_id: str
    clip_id: str


class EventRecord(TypedDict):
    """An indexed (recorded) event."""

    id: str
    seq: int | None
    kind: str
    """An `EventKind`."""
    camera: str
    time: float
    snapshot: str | None
    clip_id: str | None
    clip_state: NotRequired[str | None]
    """A `ClipState` of its clip, null without a clip (since 1.2; absent before)."""


class EventPage(TypedDict):
    """`list_events` result: a page of events, newest first."""

    events: list[EventRecord]
    next_offset: int | None


class ClipRecord(TypedDict):
    """A clip as list_clips/protect_clip return it; times in Unix seconds, size in bytes."""

    id: str
    camera: str
    start: float
    end: float | None
    duration: float | None
    size: int
    protected: bool
    state: str
    """A `ClipState`."""
    mode: str | None
    reason: str | None
    events: list[EventRecord]


class ClipPage(TypedDict):
    """`list_clips` result: a page of clips, newest first."""

    clips: list[ClipRecord]
    next_offset: int | None


class DeleteResult(TypedDict):
    """`delete_clips` result: the ids deleted."""

    deleted: list[str]


class ExportManifest(TypedDict):
    """The manifest written beside an export (times in Unix seconds)."""

    sha256: str
    start: float
    end: float
    camera: str
    clip_id: str
    exported_at: float


class ExportResult(TypedDict):
    """`export_clip` result: the export's path and its manifest."""

    path: str
    manifest: ExportManifest


class AuditEntry(TypedDict):
    """One audit log entry (`time` in Unix seconds)."""

    id: int
    time: float
    action: str
    client_id: str
    address: str | None
    camera: str | None
    target: str | None
    detail: dict[str, Any] | None
    """For HTTP requests `{"user": ...}`; for changes, the new value (free-form JSON)."""


class RotatedResult(TypedDict):
    """`rotate_stream_credential` result: old stream URLs stop working."""

    rotated: bool


class AuditPage(TypedDict):
    """`get_audit_log` result: a page of entries, newest first."""

    entries: list[AuditEntry]
    next_offset: int | None


class CameraSourceView(TypedDict):
    """A configured camera's source as the set-up page sees it: never its password.

    `url` has no user or password, and its secret query parameters are `***`.
    """

    name: str
    source: str
    """A capture source kind (`rtsp`, `mjpeg`, `demo`, `file`, `images`, `v4l2`)."""
    url: str | None
    username: str | None
    password_set: bool
    rtsp_transport: str
    """`tcp` or `udp` (RTSP only; kept as is for other sources)."""


class CameraSourcesResult(TypedDict):
    """`get_camera_sources` result."""

    cameras: list[CameraSourceView]


class RemovedCamera(TypedDict):
    """`remove_camera` result: the camera is stopped; its clips stay (retention applies)."""

    removed: str


class CameraTestResult(TypedDict):
    """`test_camera` result: a picture (`ok`) or the reason there is none."""

    ok: bool
    reason: str | None
    """A `CameraTestReason`, null when `ok`."""
    message: str
    """What happened, for people; credentials redacted."""
    url: str
    """The tested URL without user and password (secret parameters `***`)."""
    codec: str | None
    width: int | None
    height: int | None
    jpeg: str | None
    """The first frame as base64 JPEG (the camera's privacy masks applied), null unless `ok`."""


COMMAND_RESULTS: Final[dict[Command, type]] = {
    Command.PING: PongResult,
    Command.GET_STATE: ServerState,
    Command.SUBSCRIBE: SubscribeResult,
    Command.RING: RingResult,
    Command.SET_MOTION_SETTINGS: MotionSettings,
    Command.SET_RECORDING_SETTINGS: RecordingSettings,
    Command.SET_PRIVACY_MODE: PrivacyResult,
    Command.SET_AUDIO: AudioResult,
    Command.TAKE_SNAPSHOT: SnapshotResult,
    Command.RECORD_CLIP: RecordClipResult,
    Command.LIST_EVENTS: EventPage,
    Command.LIST_CLIPS: ClipPage,
    Command.PROTECT_CLIP: ClipRecord,
    Command.DELETE_CLIPS: DeleteResult,
    Command.EXPORT_CLIP: ExportResult,
    Command.GET_STORAGE: StorageStatus,
    Command.GET_AUDIT_LOG: AuditPage,
    Command.GET_STREAM_URL: StreamUrl,
    Command.ROTATE_STREAM_CREDENTIAL: RotatedResult,
    Command.GET_CAMERA_SOURCES: CameraSourcesResult,
    Command.TEST_CAMERA: CameraTestResult,
    Command.SAVE_CAMERA_SOURCE: CameraSourceView,
    Command.ADD_CAMERA: CameraSourceView,
    Command.REMOVE_CAMERA: RemovedCamera,
    Command.GET_CAMERA_LAYOUT: CameraLayout,
    Command.SET_CAMERA_LAYOUT: CameraLayout,
}
"""The `result` shape of every command."""


# --- builders and parsers (used by both sides) -------------------------------------------------


# Credentials in URLs and in text that embeds URLs (FFmpeg errors). Userinfo runs from `//`
# to the LAST `@` before whitespace (a raw `/`, `@` or quote in a password is covered). Blanked
# in query, fragment and path (`/user=admin&password=…`): names holding a password word
# (`loginpas`, `psw`), ending in a user or key word (`api_key`, not `monkey`), or `u`/`p`.
_USERINFO_RE: Final = re.compile(r"(?P<lead>//)[^\s<>]*@")
_PARAM_NAME: Final = r"[^=&;#/?\s'\"<>]*"
_SECRET_PARAM_RE: Final = re.compile(
    rf"(?P<lead>[?&;#/](?:{_PARAM_NAME}?(?:pw|psw|pas|secret|token|cred|auth){_PARAM_NAME}"
    rf"|(?:{_PARAM_NAME}[_.-])?(?:user|usr|username|login|loginuse|key|apikey|sig|signature"
    r"|session|sid)|u|p)=)[^&;#\s'\"<>]*",
    re.IGNORECASE,
)
REDACTED: Final = "***"


def redact_secrets(text: str) -> str:
    """`text` with URL credentials (userinfo, secret query parameters) replaced by `***`.

    Safe on any text: a URL, a malformed URL, or an error message that embeds one.
    Both halves use it wherever a camera URL can surface (logs, `status_reason`,
    `camera_status` events, diagnostics).
    """
    text = _USERINFO_RE.sub(rf"\g<lead>{REDACTED}@", text)
    return _SECRET_PARAM_RE.sub(rf"\g<lead>{REDACTED}", text)


class ProtocolError(Exception):
    """A message that breaks the contract; `code` is an `ErrorCode`."""

    def __init__(self, code: ErrorCode, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def result_ok(message_id: int, result: Any = None) -> ResultMessage:
    """A success result for command `message_id`."""
    return {"type": MessageType.RESULT, "message_id": message_id, "success": True, "result": result}


def result_error(message_id: int, code: ErrorCode, message: str) -> ResultMessage:
    """An error result for command `message_id`."""
    return {
        "type": MessageType.RESULT,
        "message_id": message_id,
        "success": False,
        "error": {"code": code, "message": message},
    }


def _usable_id(value: object) -> bool:
    return type(value) is int and 0 <= value <= MAX_MESSAGE_ID


def message_id_of(raw: object) -> int:
    """The id an answer to `raw` carries.

    Its own `message_id` when that is an integer 0..MAX_MESSAGE_ID, else NO_MESSAGE_ID.
    Other values are never echoed back.
    """
    value = raw.get("message_id") if isinstance(raw, dict) else None
    return value if isinstance(value, int) and _usable_id(value) else NO_MESSAGE_ID


def decode_message(text: str) -> object:
    """JSON-decode a client message.

    ProtocolError(INVALID_FORMAT) when it is not JSON (including JSON nested too deeply).
    """
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        raise ProtocolError(ErrorCode.INVALID_FORMAT, "message is not valid JSON") from None


def parse_command(raw: object) -> CommandMessage:
    """Validate a decoded client message; raise ProtocolError with a clear reason."""
    if not isinstance(raw, dict):
        raise ProtocolError(ErrorCode.INVALID_FORMAT, "message must be a JSON object")
    message_id = raw.get("message_id")
    if not isinstance(message_id, int) or not _usable_id(message_id):
        raise ProtocolError(
            ErrorCode.INVALID_FORMAT, f"message_id must be an integer 0-{MAX_MESSAGE_ID}"
        )
    command = raw.get("command")
    if not isinstance(command, str):
        raise ProtocolError(ErrorCode.INVALID_FORMAT, "command must be a string")
    args = raw.get("args", {})
    if not isinstance(args, dict):
        raise ProtocolError(ErrorCode.INVALID_FORMAT, "args must be a JSON object")
    return {"message_id": message_id, "command": command, "args": args}


def parse_event(raw: object) -> EventMessage:
    """Validate a decoded event message (client side)."""
    if not isinstance(raw, dict) or raw.get("type") != MessageType.EVENT:
        raise ProtocolError(ErrorCode.INVALID_FORMAT, "not an event message")
    for key, kind in (("event", str), ("boot_id", str), ("seq", int), ("data", dict)):
        if not isinstance(raw.get(key), kind):
            raise ProtocolError(ErrorCode.INVALID_FORMAT, f"event field {key!r} is missing")
    if not isinstance(raw.get("time"), int | float):
        raise ProtocolError(ErrorCode.INVALID_FORMAT, "event field 'time' is missing")
    return {
        "type": MessageType.EVENT,
        "event": raw["event"],
        "boot_id": raw["boot_id"],
        "seq": raw["seq"],
        "time": float(raw["time"]),
        "camera": raw.get("camera"),
        "data": raw["data"],
    }
