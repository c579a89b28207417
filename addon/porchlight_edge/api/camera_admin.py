"""Adding and removing cameras from the panel: `add_camera`, `remove_camera`.

Both are kept in the camera store (the single source; the options seed it, see
camera_store), applied at once and audited. Names follow the options' rules.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from porchlight_edge.api.camera_setup import source_view
from porchlight_edge.api.commands import audit_command, command
from porchlight_edge.api.errors import not_saved
from porchlight_edge.audit import AuditAction
from porchlight_edge.capture.urls import redact_url
from porchlight_edge.capture.userinfo import merge
from porchlight_edge.config import ConfigError, parse_camera
from porchlight_edge.protocol import (
    MAX_CAMERAS,
    CameraSourceView,
    Command,
    ErrorCode,
    ProtocolError,
    RemovedCamera,
)

if TYPE_CHECKING:
    from porchlight_edge.api.commands import CommandContext


def new_camera_options(args: dict[str, Any]) -> dict[str, Any]:
    """The options entry (`cameras[i]` shape) of a camera the set-up page adds.

    ValueError when user or password cannot go into the URL (`userinfo.merge`).
    """
    raw: dict[str, Any] = {
        "name": args["camera"],
        "source": args["source"],
        "url": merge(args["url"], args.get("username"), args.get("password"), None),
    }
    if args.get("title"):
        raw["title"] = args["title"]
    if args["source"] == "rtsp":
        raw["rtsp_transport"] = args.get("rtsp_transport") or "tcp"
    return raw


@command(Command.ADD_CAMERA)
async def add_camera(ctx: CommandContext, args: dict[str, Any]) -> CameraSourceView:
    """`add_camera`: a new RTSP or MJPEG camera, checked by the options' parser, saved, started.

    `invalid_args` for a taken name (also one of the options, removed or not), a bad URL or
    too many cameras; nothing is kept then.
    """
    service = ctx.service
    name = args["camera"]
    if name in service.cameras:
        raise ProtocolError(ErrorCode.INVALID_ARGS, f"a camera named {name!r} exists already")
    if any(cam.name == name for cam in service.options.cameras):
        # Removed here but still in the options: the options' entry would win it back.
        raise ProtocolError(
            ErrorCode.INVALID_ARGS, f"the add-on options name a camera {name!r}: pick another"
        )
    if len(service.cameras) >= MAX_CAMERAS:
        raise ProtocolError(ErrorCode.INVALID_ARGS, f"at most {MAX_CAMERAS} cameras")
    try:
        raw = new_camera_options(args)
        options = parse_camera(raw, len(service.cameras))
    except (ConfigError, ValueError) as err:
        raise ProtocolError(ErrorCode.INVALID_ARGS, redact_url(str(err))) from None
    # Audited before it takes effect: no camera runs without its entry.
    audit_command(ctx, AuditAction.CAMERA_ADD, camera=name, detail={"source": args["source"]})
    try:
        service.camera_store.add(raw)
    except OSError as err:
        raise not_saved(err) from err
    service.add_camera(options)
    return source_view(options.capture)


@command(Command.REMOVE_CAMERA)
async def remove_camera(ctx: CommandContext, args: dict[str, Any]) -> RemovedCamera:
    """`remove_camera`: stop a camera and forget its settings; its clips stay.

    `not_found` for an unknown camera; `invalid_args` for the last camera or the one the
    doorbell button rings.
    """
    service = ctx.service
    name = args["camera"]
    options = service.camera_options.get(name)
    if options is None:
        raise ProtocolError(ErrorCode.NOT_FOUND, f"unknown camera {name!r}")
    if len(service.cameras) == 1:
        raise ProtocolError(ErrorCode.INVALID_ARGS, "the last camera cannot be removed")
    button = service.options.button
    if button is not None and (button.camera or next(iter(service.cameras))) == name:
        raise ProtocolError(
            ErrorCode.INVALID_ARGS, f"the doorbell button rings {name}: change that first"
        )
    from_options = any(cam.name == name for cam in service.options.cameras)
    audit_command(ctx, AuditAction.CAMERA_REMOVE, camera=name)
    try:
        service.camera_store.remove(options, from_options=from_options)
    except OSError as err:
        raise not_saved(err) from err
    await service.remove_camera(name)
    return {"removed": name}
