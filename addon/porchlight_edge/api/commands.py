"""Websocket command handlers. Each takes the session and the `args` object."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
import json
from typing import TYPE_CHECKING, Any, Protocol
import uuid

from porchlight_edge.audit import CLIENT_RE, AuditAction
from porchlight_edge.protocol import (
    Command,
    ErrorCode,
    EventKind,
    EventMessage,
    ProtocolError,
    RingSource,
)
from porchlight_edge.recorder.export import export_clip
from porchlight_edge.recorder.ids import validate_clip_id

if TYPE_CHECKING:
    from porchlight_edge.camera import CameraPipeline
    from porchlight_edge.service import Service


class CommandContext(Protocol):
    service: Service
    client: str
    """Client name from the auth message (audit log)."""
    peer: str

    def send(self, message: Any) -> None: ...
    def on_event(self, event: EventMessage) -> None: ...


@dataclass(slots=True)
class Deferred:
    """A result plus work that must follow it on the wire (subscribe's replay)."""

    result: Any
    after: Callable[[], None]


type Handler = Callable[[CommandContext, dict[str, Any]], Awaitable[Any]]
COMMANDS: dict[str, Handler] = {}


def command(name: Command) -> Callable[[Handler], Handler]:
    def register(handler: Handler) -> Handler:
        COMMANDS[name] = handler
        return handler

    return register


def camera_arg(service: Service, args: dict[str, Any]) -> CameraPipeline:
    """The camera named in `args`, or the only camera when there is just one."""
    name = args.get("camera")
    if name is None and len(service.cameras) == 1:
        return next(iter(service.cameras.values()))
    if not isinstance(name, str):
        raise ProtocolError(ErrorCode.INVALID_ARGS, "argument 'camera' is required")
    camera = service.cameras.get(name)
    if camera is None:
        raise ProtocolError(ErrorCode.NOT_FOUND, f"unknown camera {name!r}")
    return camera


@command(Command.PING)
async def ping(ctx: CommandContext, args: dict[str, Any]) -> Any:
    return {"pong": True}


@command(Command.GET_STATE)
async def get_state(ctx: CommandContext, args: dict[str, Any]) -> Any:
    return ctx.service.state()


@command(Command.SUBSCRIBE)
async def subscribe(ctx: CommandContext, args: dict[str, Any]) -> Any:
    since = args.get("since")
    marker: tuple[str, int] | None = None
    if since is not None:
        if (
            not isinstance(since, dict)
            or not isinstance(since.get("boot_id"), str)
            or not isinstance(since.get("seq"), int)
        ):
            raise ProtocolError(ErrorCode.INVALID_ARGS, "'since' must be {boot_id: str, seq: int}")
        marker = (since["boot_id"], since["seq"])
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
    camera = camera_arg(ctx.service, args)
    event = ctx.service.ring(camera.name, RingSource.API)
    return {"seq": event["seq"]}


async def _update(camera: CameraPipeline, **changes: Any) -> None:
    try:
        await camera.update_settings(**changes)
    except ValueError as err:
        raise ProtocolError(ErrorCode.INVALID_ARGS, str(err)) from err


def _audit(ctx: CommandContext, action: AuditAction, **fields: Any) -> None:
    client = ctx.client if CLIENT_RE.fullmatch(ctx.client) else "unknown"
    ctx.service.audit.record(action, client_id=client, address=ctx.peer, **fields)


@command(Command.SET_MOTION_SETTINGS)
async def set_motion_settings(ctx: CommandContext, args: dict[str, Any]) -> Any:
    camera = camera_arg(ctx.service, args)
    await _update(
        camera,
        motion_enabled=args.get("enabled"),
        threshold=args.get("threshold"),
        min_area=args.get("min_area"),
    )
    return camera.motion_settings()


@command(Command.SET_RECORDING_SETTINGS)
async def set_recording_settings(ctx: CommandContext, args: dict[str, Any]) -> Any:
    camera = camera_arg(ctx.service, args)
    await _update(
        camera,
        recording_enabled=args.get("enabled"),
        pre_roll=args.get("pre_roll"),
        post_roll=args.get("post_roll"),
    )
    return camera.recording_settings()


@command(Command.SET_PRIVACY_MODE)
async def set_privacy_mode(ctx: CommandContext, args: dict[str, Any]) -> Any:
    camera = camera_arg(ctx.service, args)
    enabled = args.get("enabled")
    if not isinstance(enabled, bool):
        raise ProtocolError(ErrorCode.INVALID_ARGS, "'enabled' must be true or false")
    _audit(ctx, AuditAction.PRIVACY_MODE, camera=camera.name, detail={"enabled": enabled})
    await _update(camera, privacy_mode=enabled)
    return {"privacy_mode": camera.settings.privacy_mode}


@command(Command.TAKE_SNAPSHOT)
async def take_snapshot(ctx: CommandContext, args: dict[str, Any]) -> Any:
    camera = camera_arg(ctx.service, args)
    eid = f"manual-{uuid.uuid4().hex}"
    if camera.settings.privacy_mode or not camera.recorder.snapshot(eid, EventKind.MANUAL):
        raise ProtocolError(
            ErrorCode.UNAVAILABLE, "no picture to save (no frame yet, privacy mode or disk full)"
        )
    return {"event_id": eid}


@command(Command.RECORD_CLIP)
async def record_clip(ctx: CommandContext, args: dict[str, Any]) -> Any:
    camera = camera_arg(ctx.service, args)
    seconds = args.get("seconds")
    if isinstance(seconds, bool) or not isinstance(seconds, int | float) or not 1 <= seconds <= 300:
        raise ProtocolError(ErrorCode.INVALID_ARGS, "'seconds' must be a number 1-300")
    if camera.settings.privacy_mode:
        raise ProtocolError(ErrorCode.UNAVAILABLE, "the camera is in privacy mode")
    eid = f"manual-{uuid.uuid4().hex}"
    clip_id = camera.recorder.trigger(EventKind.MANUAL, eid, postroll=float(seconds))
    if clip_id is None:
        raise ProtocolError(ErrorCode.UNAVAILABLE, "recording is paused: the disk is full")
    return {"event_id": eid, "clip_id": clip_id}


def _query(ctx: CommandContext, args: dict[str, Any]) -> dict[str, Any]:
    """Common filters of the list commands, checked: camera, start/end, limit/offset."""
    limit, offset = args.get("limit", 50), args.get("offset", 0)
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= 200:
        raise ProtocolError(ErrorCode.INVALID_ARGS, "'limit' must be an integer 1-200")
    if isinstance(offset, bool) or not isinstance(offset, int) or offset < 0:
        raise ProtocolError(ErrorCode.INVALID_ARGS, "'offset' must be a non-negative integer")
    query: dict[str, Any] = {"limit": limit, "offset": offset, "camera": None}
    for key, column in (("start", "since"), ("end", "until")):
        value = args.get(key)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)):
            raise ProtocolError(ErrorCode.INVALID_ARGS, f"'{key}' must be epoch seconds")
        query[column] = value
    if args.get("camera") is not None:
        query["camera"] = camera_arg(ctx.service, {"camera": args["camera"]}).name
    return query


@command(Command.LIST_EVENTS)
async def list_events(ctx: CommandContext, args: dict[str, Any]) -> Any:
    query = _query(ctx, args)
    kind = args.get("kind")
    if kind is not None and kind not in set(EventKind):
        raise ProtocolError(ErrorCode.INVALID_ARGS, "'kind' must be ring, motion or manual")
    page = await asyncio.to_thread(ctx.service.store.index.list_events, kind=kind, **query)
    return {"events": [e.as_dict() for e in page.items], "next_offset": page.next_offset}


@command(Command.LIST_CLIPS)
async def list_clips(ctx: CommandContext, args: dict[str, Any]) -> Any:
    query = _query(ctx, args)
    protected = args.get("protected")
    if protected is not None and not isinstance(protected, bool):
        raise ProtocolError(ErrorCode.INVALID_ARGS, "'protected' must be true or false")
    index = ctx.service.store.index
    page = await asyncio.to_thread(index.list_clips, protected=protected, **query)
    return {"clips": [c.as_dict() for c in page.items], "next_offset": page.next_offset}


def _clip_id(value: object) -> str:
    try:
        return validate_clip_id(value)
    except ValueError as err:
        raise ProtocolError(ErrorCode.INVALID_ARGS, str(err)) from err


@command(Command.PROTECT_CLIP)
async def protect_clip(ctx: CommandContext, args: dict[str, Any]) -> Any:
    clip_id = _clip_id(args.get("clip_id"))
    protected = args.get("protected")
    if not isinstance(protected, bool):
        raise ProtocolError(ErrorCode.INVALID_ARGS, "'protected' must be true or false")
    store = ctx.service.store
    if not await store.set_protected(clip_id, protected):
        raise ProtocolError(ErrorCode.NOT_FOUND, f"unknown clip {clip_id}")
    _audit(ctx, AuditAction.CLIP_PROTECT, target=clip_id, detail={"protected": protected})
    record = store.index.get_clip(clip_id)
    return record.as_dict() if record else None


async def _clips_to_delete(ctx: CommandContext, args: dict[str, Any]) -> list[str]:
    index = ctx.service.store.index
    if "clip_ids" in args:
        ids = args["clip_ids"]
        if not isinstance(ids, list) or not ids:
            raise ProtocolError(ErrorCode.INVALID_ARGS, "'clip_ids' must be a non-empty list")
        return [_clip_id(i) for i in ids]
    if "event_ids" in args:
        events = args["event_ids"]
        if not isinstance(events, list) or not events:
            raise ProtocolError(ErrorCode.INVALID_ARGS, "'event_ids' must be a non-empty list")
        found = [index.get_event(str(e)) for e in events]
        return sorted({e.clip_id for e in found if e is not None and e.clip_id})
    if args.get("start") is None or args.get("end") is None:
        raise ProtocolError(
            ErrorCode.INVALID_ARGS, "give 'clip_ids', 'event_ids', or 'start' and 'end'"
        )
    query = _query(ctx, {**args, "limit": 200, "offset": 0})
    targets: list[str] = []
    while True:
        query["offset"] = len(targets)
        page = await asyncio.to_thread(index.list_clips, **query)
        targets += [c.id for c in page.items]
        if page.next_offset is None:
            return targets


@command(Command.DELETE_CLIPS)
async def delete_clips(ctx: CommandContext, args: dict[str, Any]) -> Any:
    deleted = []
    for clip_id in await _clips_to_delete(ctx, args):
        if await ctx.service.store.delete_clip(clip_id):
            _audit(ctx, AuditAction.CLIP_DELETE, target=clip_id)
            deleted.append(clip_id)
    return {"deleted": deleted}


@command(Command.EXPORT_CLIP)
async def export_clip_command(ctx: CommandContext, args: dict[str, Any]) -> Any:
    clip_id = _clip_id(args.get("clip_id"))
    try:
        video, manifest = await asyncio.to_thread(export_clip, ctx.service.store, clip_id)
    except KeyError as err:
        raise ProtocolError(ErrorCode.NOT_FOUND, f"unknown or unfinished clip {clip_id}") from err
    _audit(ctx, AuditAction.CLIP_EXPORT, target=clip_id, detail={"file": video.name})
    return {"path": str(video), "manifest": json.loads(manifest.read_text())}


@command(Command.GET_STORAGE)
async def get_storage(ctx: CommandContext, args: dict[str, Any]) -> Any:
    return await asyncio.to_thread(ctx.service.storage_status)


@command(Command.GET_AUDIT_LOG)
async def get_audit_log(ctx: CommandContext, args: dict[str, Any]) -> Any:
    query = _query(ctx, args)
    action = args.get("action")
    if action is not None and action not in set(AuditAction):
        raise ProtocolError(ErrorCode.INVALID_ARGS, f"unknown audit action {action!r}")
    page = await asyncio.to_thread(ctx.service.audit.query, action=action, **query)
    return {"entries": [e.as_dict() for e in page.items], "next_offset": page.next_offset}
