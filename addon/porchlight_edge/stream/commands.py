"""Websocket commands of the live stream: its URL, and rotating its credential."""

from __future__ import annotations

import logging
import sqlite3
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from porchlight_edge.api.commands import audit_command, camera_arg, command, on_behalf
from porchlight_edge.audit import AuditAction
from porchlight_edge.protocol import (
    STREAM_CREDENTIAL_PARAM,
    Command,
    StreamFormat,
    StreamUrl,
    live_stream_path,
)
from porchlight_edge.stream.http import AUDIT_TARGET

if TYPE_CHECKING:
    from porchlight_edge.api.commands import CommandContext

_LOGGER = logging.getLogger(__name__)


@command(Command.GET_STREAM_URL)
async def get_stream_url(ctx: CommandContext, args: dict[str, Any]) -> StreamUrl:
    """`get_stream_url`: the camera's stream path (with its credential) and container format.

    With `USER_ARG` (a client's viewer), that viewer is audited first (`live_stream`): HA's
    own connection to the stream is shared by all its viewers and names none of them.
    """
    camera = camera_arg(ctx.service, args)
    if on_behalf():
        audit_command(ctx, AuditAction.LIVE_STREAM, camera=camera.name, target=AUDIT_TARGET)
    credential = quote(ctx.service.stream_credential.for_camera(camera.name), safe="")
    path = f"{live_stream_path(camera.name)}?{STREAM_CREDENTIAL_PARAM}={credential}"
    return {"path": path, "format": StreamFormat.MPEGTS}


@command(Command.ROTATE_STREAM_CREDENTIAL)
async def rotate_stream_credential(ctx: CommandContext, args: dict[str, Any]) -> Any:
    """New secret, and every open stream ends: a leaked URL stops working at once."""
    ctx.service.stream_credential.rotate()
    for camera in ctx.service.cameras.values():
        camera.stream.end_all()
    # Revoking always works (like privacy on): the paperwork may fail after it.
    try:
        audit_command(ctx, AuditAction.STREAM_CREDENTIAL)
    except (sqlite3.Error, OSError) as err:
        _LOGGER.error("Stream credential rotated, but the audit log cannot be written: %s", err)
    return {"rotated": True}
