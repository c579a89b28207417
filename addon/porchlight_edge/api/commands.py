"""Websocket command handlers.

Each takes the session and its `args`, already checked against the command's schema
(api/schemas.py): handlers only look up state.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from dataclasses import dataclass
import logging
import sqlite3
from typing import TYPE_CHECKING, Any, Protocol

from porchlight_edge.api.errors import not_saved, storage_fault
from porchlight_edge.api.schemas import validate_args
from porchlight_edge.audit import CLIENT_RE, AuditAction
from porchlight_edge.protocol import (
    USER_ARG,
    Command,
    ErrorCode,
    EventMessage,
    ProtocolError,
    RingSource,
)

if TYPE_CHECKING:
    from porchlight_edge.camera import CameraPipeline
    from porchlight_edge.config import CameraOptions
    from porchlight_edge.service import Service

_LOGGER = logging.getLogger(__name__)


class CommandContext(Protocol):
    """What a handler sees of the session: the service, client name and address, outbox."""

    service: Service
    client: str
    """Client name from the auth message (audit log)."""
    peer: str
    user: dict[str, str] | None
    """The Home Assistant user behind an ingress session (audit fields), else None."""

    def send(self, message: Any) -> None:
        """Queue a message (result or event) for this client."""
        ...

    def on_event(self, event: EventMessage) -> None:
        """Deliver an event to this client."""
        ...


@dataclass(slots=True)
class Deferred:
    """A result plus work that must follow it on the wire (subscribe's replay)."""

    result: Any
    after: Callable[[], None]


type Handler = Callable[[CommandContext, dict[str, Any]], Awaitable[Any]]
COMMANDS: dict[str, Handler] = {}
_ON_BEHALF: ContextVar[str | None] = ContextVar("porchlight_on_behalf", default=None)
"""The `USER_ARG` of the command being handled (its task's context, so concurrent
commands of other sessions never see it)."""


def on_behalf() -> str | None:
    """The user the client names for the command being handled (`USER_ARG`), if any."""
    return _ON_BEHALF.get()


def command(name: Command) -> Callable[[Handler], Handler]:
    """Register `handler` for `name`; the registered callable checks `args` first."""

    def register(handler: Handler) -> Handler:
        async def checked(ctx: CommandContext, args: dict[str, Any]) -> Any:
            valid = validate_args(name, args)
            token = _ON_BEHALF.set(valid.pop(USER_ARG, None))
            try:
                return await handler(ctx, valid)
            except (sqlite3.Error, OSError) as err:
                if (fault := storage_fault(err)) is None:
                    raise
                raise ProtocolError(ErrorCode.UNAVAILABLE, fault) from err
            finally:
                _ON_BEHALF.reset(token)

        COMMANDS[name] = checked
        return handler

    return register


def camera_arg(service: Service, args: dict[str, Any]) -> CameraPipeline:
    """The camera named in `args`, or the only camera when there is just one."""
    name = args.get("camera")
    if name is None and len(service.cameras) == 1:
        return next(iter(service.cameras.values()))
    if name is None:
        raise ProtocolError(ErrorCode.INVALID_ARGS, "argument 'camera' is required")
    camera = service.cameras.get(name)
    if camera is None:
        raise ProtocolError(ErrorCode.NOT_FOUND, f"unknown camera {name!r}")
    return camera


def checked_camera_options(service: Service, name: str, changes: dict[str, Any]) -> CameraOptions:
    """Camera `name`'s options with `changes` (dotted field → value) over the camera store.

    Raises ConfigError or ValueError, from the options' own parser, when they are invalid.
    """
    position = next(i for i, known in enumerate(service.camera_options) if known == name)
    return service.camera_store.check(service.camera_options[name], position, changes)


@command(Command.PING)
async def ping(ctx: CommandContext, args: dict[str, Any]) -> Any:
    """`ping`: {"pong": true}."""
    return {"pong": True}


@command(Command.GET_STATE)
async def get_state(ctx: CommandContext, args: dict[str, Any]) -> Any:
    """`get_state`: the full `ServerState`."""
    return ctx.service.state()


@command(Command.SUBSCRIBE)
async def subscribe(ctx: CommandContext, args: dict[str, Any]) -> Any:
    """`subscribe`: start events, after replaying those missed since `since` (boot_id, seq)."""
    since = args.get("since")
    marker = (since["boot_id"], since["seq"]) if since is not None else None
    bus = ctx.service.bus
    bus.unsubscribe(ctx.on_event)
    # Registering and reading the backlog happen with no await in between: nothing is
    # published in the gap, so every event arrives exactly once.
    replay = bus.subscribe(ctx.on_event, marker)

    def send_replay() -> None:
        for event in replay.events:
            ctx.send(event)

    result = {
        "boot_id": bus.boot_id,
        "seq": bus.seq,
        "replayed": len(replay.events),
        "gap": replay.gap,
    }
    return Deferred(result, send_replay)


@command(Command.RING)
async def ring(ctx: CommandContext, args: dict[str, Any]) -> Any:
    """`ring`: ring the bell at the camera (source `api`); the ring event's seq."""
    camera = camera_arg(ctx.service, args)
    event = ctx.service.ring(camera.name, RingSource.API)
    audit_command(ctx, AuditAction.RING, camera=camera.name)
    return {"seq": event["seq"]}


async def _update(camera: CameraPipeline, **changes: Any) -> None:
    try:
        await camera.update_settings(**changes)
    except ValueError as err:
        raise ProtocolError(ErrorCode.INVALID_ARGS, str(err)) from err
    except OSError as err:
        raise not_saved(err) from err


def audit_command(ctx: CommandContext, action: AuditAction, **fields: Any) -> None:
    """Write an audit entry; sqlite3.Error / OSError when the audit log cannot be written.

    `detail.user` names who acted: the signed-in user of an ingress session, else the
    command's `USER_ARG` (the client's word for whom it acts), else none.
    """
    client = ctx.client if CLIENT_RE.fullmatch(ctx.client) else "unknown"
    user = ctx.user or ({"user": named} if (named := on_behalf()) else None)
    if user:
        fields["detail"] = {**(fields.get("detail") or {}), **user}
    ctx.service.audit.record(action, client_id=client, address=ctx.peer, **fields)


def _audit_settings(
    ctx: CommandContext, action: AuditAction, camera: CameraPipeline, args: dict[str, Any]
) -> None:
    """Audit a settings change: the values given (null ones change nothing)."""
    detail = {key: value for key, value in args.items() if key != "camera" and value is not None}
    audit_command(ctx, action, camera=camera.name, detail=detail)


@command(Command.SET_MOTION_SETTINGS)
async def set_motion_settings(ctx: CommandContext, args: dict[str, Any]) -> Any:
    """`set_motion_settings`: switch motion, set threshold/min_area; the new settings."""
    camera = camera_arg(ctx.service, args)
    await _update(
        camera,
        motion_enabled=args.get("enabled"),
        threshold=args.get("threshold"),
        min_area=args.get("min_area"),
    )
    _audit_settings(ctx, AuditAction.MOTION_SETTINGS, camera, args)
    return camera.motion_settings()


@command(Command.SET_RECORDING_SETTINGS)
async def set_recording_settings(ctx: CommandContext, args: dict[str, Any]) -> Any:
    """`set_recording_settings`: recording on/off, pre-/post-roll (s); the new settings."""
    camera = camera_arg(ctx.service, args)
    await _update(
        camera,
        recording_enabled=args.get("enabled"),
        pre_roll=args.get("pre_roll"),
        post_roll=args.get("post_roll"),
    )
    _audit_settings(ctx, AuditAction.RECORDING_SETTINGS, camera, args)
    return camera.recording_settings()


async def _set_audited(
    ctx: CommandContext, camera: Any, action: AuditAction, setting: str, value: bool, *, safe: bool
) -> dict[str, bool]:
    """Set a privacy switch (`setting`, a bool) to `value` and audit it; `{setting: value}`.

    The less private way (`safe` False: the lens back on, sound on) must leave a trace
    first: no audit entry, no change (UNAVAILABLE). The more private way always works: it
    applies first, the paperwork may fail after it (logged).
    """
    detail = {"enabled": value}
    if not safe:
        try:
            audit_command(ctx, action, camera=camera.name, detail=detail)
        except (sqlite3.Error, OSError) as err:
            raise ProtocolError(
                ErrorCode.UNAVAILABLE, f"the audit log cannot be written ({err}): nothing changed"
            ) from err
    await _update(camera, **{setting: value})
    if safe:
        try:
            audit_command(ctx, action, camera=camera.name, detail=detail)
        except (sqlite3.Error, OSError) as err:
            _LOGGER.error(
                "%s: %s is %s, but the audit log cannot be written: %s",
                camera.name,
                setting.replace("_", " "),
                "on" if value else "off",
                err,
            )
    return {setting: bool(getattr(camera.settings, setting))}


@command(Command.SET_PRIVACY_MODE)
async def set_privacy_mode(ctx: CommandContext, args: dict[str, Any]) -> Any:
    """`set_privacy_mode`: switch the camera off (always works) or back on (audited first)."""
    camera = camera_arg(ctx.service, args)
    enabled = args["enabled"]
    return await _set_audited(
        ctx, camera, AuditAction.PRIVACY_MODE, "privacy_mode", enabled, safe=enabled
    )


@command(Command.SET_AUDIO)
async def set_audio(ctx: CommandContext, args: dict[str, Any]) -> Any:
    """`set_audio`: sound on is audited before it applies; off always applies.

    Setting the value it already has changes nothing and writes no audit entry.
    """
    camera = camera_arg(ctx.service, args)
    enabled = args["enabled"]
    if enabled == camera.settings.audio:
        return {"audio": enabled}
    return await _set_audited(ctx, camera, AuditAction.AUDIO, "audio", enabled, safe=not enabled)


@command(Command.TAKE_SNAPSHOT)
async def take_snapshot(ctx: CommandContext, args: dict[str, Any]) -> Any:
    """`take_snapshot`: save the current picture as a manual event; its event id.

    UNAVAILABLE without a frame, in privacy mode or while storage is paused.
    """
    camera = camera_arg(ctx.service, args)
    if not camera.settings.privacy_mode:
        await camera.live.fresh_frame()  # decoding on demand: a current picture first
    eid = None if camera.settings.privacy_mode else ctx.service.recordings.snapshot(camera.name)
    if eid is None:
        raise ProtocolError(
            ErrorCode.UNAVAILABLE, "no picture to save (no frame yet, privacy mode or disk full)"
        )
    audit_command(ctx, AuditAction.TAKE_SNAPSHOT, camera=camera.name, target=eid)
    return {"event_id": eid}


@command(Command.RECORD_CLIP)
async def record_clip(ctx: CommandContext, args: dict[str, Any]) -> Any:
    """`record_clip`: start (or extend) a manual clip of `seconds`; its event and clip ids.

    UNAVAILABLE in privacy mode, with recording off, or while storage is paused.
    """
    camera = camera_arg(ctx.service, args)
    if camera.settings.privacy_mode:
        raise ProtocolError(ErrorCode.UNAVAILABLE, "the camera is in privacy mode")
    if not camera.settings.recording_enabled:
        raise ProtocolError(
            ErrorCode.UNAVAILABLE, "recording is switched off for this camera: switch it on first"
        )
    started = ctx.service.recordings.trigger(camera.name, args["seconds"])
    if started.clip_id is None:
        raise ProtocolError(ErrorCode.UNAVAILABLE, "recording is paused: the disk is full")
    audit_command(
        ctx,
        AuditAction.RECORD_CLIP,
        camera=camera.name,
        target=started.clip_id,
        detail={"seconds": args["seconds"]},
    )
    return {"event_id": started.event_id, "clip_id": started.clip_id}


# Commands of other features register themselves with `command` above; import them last so
# the table is complete wherever COMMANDS is used.
from porchlight_edge.api import (  # noqa: E402
    camera_admin as _camera_admin,  # noqa: F401
    camera_setup as _camera_setup,  # noqa: F401
    footage as _footage_commands,  # noqa: F401
    layout as _layout_commands,  # noqa: F401
)
from porchlight_edge.stream import commands as _stream_commands  # noqa: E402, F401
