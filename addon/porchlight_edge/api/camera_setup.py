"""Websocket commands of the set-up page: camera sources (no passwords) and the "test" probe."""

from __future__ import annotations

import asyncio
import base64
from typing import TYPE_CHECKING, Any

from porchlight_edge.api.commands import (
    audit_command,
    camera_arg,
    checked_camera_options,
    command,
)
from porchlight_edge.api.errors import not_saved
from porchlight_edge.audit import AuditAction
from porchlight_edge.capture.frame import encode_jpeg
from porchlight_edge.capture.probe import ProbeBusy, probe
from porchlight_edge.capture.urls import SCHEMES_BY_KIND, redact_url, validate_url
from porchlight_edge.capture.userinfo import merge, public_view
from porchlight_edge.config import ConfigError
from porchlight_edge.protocol import (
    CAMERA_TEST_SECONDS,
    CameraSourceView,
    CameraTestResult,
    Command,
    ErrorCode,
    ProtocolError,
)

if TYPE_CHECKING:
    from porchlight_edge.api.commands import CommandContext
    from porchlight_edge.capture.config import CameraConfig

TEST_JPEG_WIDTH = 1280
"""Widest test picture sent to the page (enough to judge framing and focus)."""


def source_view(cfg: CameraConfig) -> CameraSourceView:
    """What the set-up page may see of a camera's source: never its password."""
    url, username, password_set = (None, None, False)
    if cfg.url is not None:
        url, username, password_set = public_view(cfg.url)
    return {
        "name": cfg.name,
        "source": cfg.source,
        "url": url,
        "username": username,
        "password_set": password_set,
        "rtsp_transport": cfg.rtsp_transport,
    }


@command(Command.GET_CAMERA_SOURCES)
async def get_camera_sources(ctx: CommandContext, args: dict[str, Any]) -> Any:
    """`get_camera_sources`: every camera's source kind and redacted URL."""
    return {"cameras": [source_view(cam.config) for cam in ctx.service.cameras.values()]}


@command(Command.TEST_CAMERA)
async def test_camera(ctx: CommandContext, args: dict[str, Any]) -> CameraTestResult:
    """`test_camera`: open a URL once and answer its first picture, or why there is none.

    With `camera` (a configured camera): its stored password is used when `password` is
    null and the URL's scheme, host and port are unchanged, and its privacy masks black
    out the picture, as everywhere else.
    """
    camera, stored = None, None
    if (name := args.get("camera")) is not None:
        camera = ctx.service.cameras.get(name)
        if camera is None:
            raise ProtocolError(ErrorCode.NOT_FOUND, f"unknown camera {name!r}")
        if camera.settings.privacy_mode:
            raise ProtocolError(ErrorCode.UNAVAILABLE, "privacy mode is on: the lens stays off")
        if camera.config.source == args["source"]:
            stored = camera.config.url
    try:
        url = validate_url(
            merge(args["url"], args.get("username"), args.get("password"), stored), args["source"]
        )
    except ValueError as err:
        raise ProtocolError(ErrorCode.INVALID_ARGS, str(err)) from None
    # A picture of the camera leaves the add-on: audited like a snapshot, before it does.
    audit_command(ctx, AuditAction.SNAPSHOT, camera=name, target=Command.TEST_CAMERA.value)
    try:
        outcome = await probe(
            args["source"], url, transport=args.get("rtsp_transport") or "tcp",
            seconds=CAMERA_TEST_SECONDS,
        )  # fmt: skip
    except ProbeBusy as err:
        raise ProtocolError(ErrorCode.UNAVAILABLE, str(err)) from None
    jpeg = None
    if outcome.frame is not None:
        frame = outcome.frame if camera is None else camera.masker.apply(outcome.frame)
        data = await asyncio.to_thread(encode_jpeg, frame, 85, TEST_JPEG_WIDTH)
        jpeg = base64.b64encode(data).decode("ascii")
    return {
        "ok": outcome.ok,
        "reason": None if outcome.reason is None else outcome.reason.value,
        "message": outcome.message,
        "url": public_view(url)[0],
        "codec": outcome.codec,
        "width": outcome.width,
        "height": outcome.height,
        "jpeg": jpeg,
    }


@command(Command.SAVE_CAMERA_SOURCE)
async def save_camera_source(ctx: CommandContext, args: dict[str, Any]) -> CameraSourceView:
    """`save_camera_source`: a configured camera's new source, saved and applied at once.

    Checked by the options' own parser, kept in the camera store (over the options' seed,
    like the editor's masks) and the camera reopened. The password follows
    `test_camera`'s rule: null keeps the stored one for the same scheme, host and port.
    """
    service = ctx.service
    camera = camera_arg(service, args)
    options = service.camera_options[camera.name]
    kind = args["source"]
    if camera.config.source not in SCHEMES_BY_KIND:
        raise ProtocolError(
            ErrorCode.INVALID_ARGS,
            f"{camera.name} is a {camera.config.source} camera: change it in the add-on options",
        )
    stored = camera.config.url if camera.config.source == kind else None
    changes: dict[str, Any] = {"source": kind}
    if kind == "rtsp":
        changes["rtsp_transport"] = args.get("rtsp_transport") or camera.config.rtsp_transport
    try:
        changes["url"] = merge(args["url"], args.get("username"), args.get("password"), stored)
        new = checked_camera_options(service, camera.name, changes)
    except (ConfigError, ValueError) as err:
        raise ProtocolError(ErrorCode.INVALID_ARGS, redact_url(str(err))) from None
    # Audited before it takes effect, as adding a camera is; the URL's secrets never go in.
    audit_command(ctx, AuditAction.CAMERA_SOURCE, camera=camera.name, detail={"source": kind})
    try:
        service.camera_store.save(options, changes)
    except OSError as err:
        raise not_saved(err) from err
    service.camera_options[camera.name] = new
    await camera.reopen(new.capture)
    return source_view(new.capture)
