"""Websocket command handlers. Each takes the session and the `args` object."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from porchlight_edge.protocol import Command, ErrorCode, EventMessage, ProtocolError, RingSource

if TYPE_CHECKING:
    from porchlight_edge.camera import CameraPipeline
    from porchlight_edge.service import Service


class CommandContext(Protocol):
    service: Service

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


@command(Command.SET_MOTION_SETTINGS)
async def set_motion_settings(ctx: CommandContext, args: dict[str, Any]) -> Any:
    camera = camera_arg(ctx.service, args)
    try:
        return camera.set_motion_settings(
            enabled=args.get("enabled"),
            threshold=args.get("threshold"),
            min_area=args.get("min_area"),
        )
    except ValueError as err:
        raise ProtocolError(ErrorCode.INVALID_ARGS, str(err)) from err
