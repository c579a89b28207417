"""The mask and zone editor's websocket commands: `get_camera_layout`, `set_camera_layout`.

Polygons travel in the options' own string form ("x1,y1 x2,y2 …", relative 0..1), are
checked by the options' parser, saved in the camera store (camera_store: the single
source over the options' seeds) and applied at once (CameraPipeline.set_layout).
"""

from __future__ import annotations

import logging
import sqlite3
from typing import TYPE_CHECKING, Any

from porchlight_edge.api.commands import (
    audit_command,
    camera_arg,
    checked_camera_options,
    command,
)
from porchlight_edge.api.errors import not_saved
from porchlight_edge.audit import AuditAction
from porchlight_edge.camera_store import LAYOUT_KEYS, MOTION_MASKS, PRIVACY_MASKS, ZONES
from porchlight_edge.config import ConfigError, parse_polygon, parse_zone
from porchlight_edge.motion.zones import validate_polygon
from porchlight_edge.protocol import CameraLayout, Command, ErrorCode, ProtocolError

if TYPE_CHECKING:
    from porchlight_edge.api.commands import CommandContext
    from porchlight_edge.config import CameraOptions
    from porchlight_edge.motion.zones import Polygon

_LOGGER = logging.getLogger(__name__)
DECIMALS = 4
"""Corner coordinates are kept to 1/10000 of the picture: finer than a 4K pixel."""


def coordinate(value: float) -> str:
    """A relative coordinate as the options write it: "0", "1", "0.25" (no exponent)."""
    text = f"{value:.{DECIMALS}f}".rstrip("0").rstrip(".")
    return text or "0"


def polygon_text(polygon: Polygon) -> str:
    """A polygon in the options' form, "x1,y1 x2,y2 x3,y3"."""
    return " ".join(f"{coordinate(x)},{coordinate(y)}" for x, y in polygon)


def camera_layout(
    name: str, options: CameraOptions, replaced: list[str] | None = None
) -> CameraLayout:
    """The camera's polygons as the panel edits them, each in the options' string form.

    `replaced`: the store's fields a later option edit replaced (`CameraStore.replaced`).
    """
    privacy = options.privacy_masks
    # The parser appends the privacy masks to the motion masks (motion there is ignored).
    own = options.motion.masks[: len(options.motion.masks) - len(privacy)]
    layout: CameraLayout = {
        "camera": name,
        "privacy_masks": [polygon_text(p) for p in privacy],
        "zones": [f"{z.name}={polygon_text(z.polygon)}" for z in options.motion.zones],
        "motion_masks": [polygon_text(p) for p in own],
    }
    if replaced:
        layout["replaced_by_options"] = [LAYOUT_KEYS[f] for f in replaced]
    return layout


def _changes(args: dict[str, Any]) -> dict[str, list[str]]:
    """The store's fields from the command's arguments, each polygon in canonical form.

    ValueError naming the polygon that is not one (too few corners, no area, bad name).
    """
    changes: dict[str, list[str]] = {}
    for arg, field in (("privacy_masks", PRIVACY_MASKS), ("motion_masks", MOTION_MASKS)):
        if arg in args:
            changes[field] = [
                polygon_text(validate_polygon(parse_polygon(text, f"{arg}[{i}]"), f"{arg}[{i}]"))
                for i, text in enumerate(args[arg])
            ]
    if "zones" in args:
        zones = [parse_zone(text, i) for i, text in enumerate(args["zones"])]
        names = [zone.name for zone in zones]
        if len(set(names)) != len(names):
            raise ValueError("zones: each zone needs its own name")
        changes[ZONES] = [f"{zone.name}={polygon_text(zone.polygon)}" for zone in zones]
    return changes


@command(Command.GET_CAMERA_LAYOUT)
async def get_camera_layout(ctx: CommandContext, args: dict[str, Any]) -> CameraLayout:
    """`get_camera_layout`: the camera's privacy masks, zones and motion masks."""
    camera = camera_arg(ctx.service, args)
    store = ctx.service.camera_store
    options = ctx.service.camera_options[camera.name]
    return camera_layout(camera.name, options, store.replaced.get(camera.name))


@command(Command.SET_CAMERA_LAYOUT)
async def set_camera_layout(ctx: CommandContext, args: dict[str, Any]) -> CameraLayout:
    """`set_camera_layout`: replace the lists given (privacy_masks, zones, motion_masks).

    Saved first (UNAVAILABLE and nothing changed when the disk refuses), then applied at
    once. Removing or moving a privacy mask shows more: it is audited before it applies
    (no audit entry, no change); adding masks always works, audited after.
    """
    service = ctx.service
    camera = camera_arg(service, args)
    options = service.camera_options[camera.name]
    try:
        changes = _changes(args)
        new = checked_camera_options(service, camera.name, changes)
    except (ConfigError, ValueError) as err:
        raise ProtocolError(ErrorCode.INVALID_ARGS, str(err)) from err
    safe = set(options.privacy_masks) <= set(new.privacy_masks)
    layout = camera_layout(camera.name, new)
    detail = {key: len(layout[key]) for key in ("privacy_masks", "zones", "motion_masks")}
    if not safe:
        try:
            audit_command(ctx, AuditAction.PRIVACY_MASKS, camera=camera.name, detail=detail)
        except (sqlite3.Error, OSError) as err:
            raise ProtocolError(
                ErrorCode.UNAVAILABLE, f"the audit log cannot be written ({err}): nothing changed"
            ) from err
    try:
        service.camera_store.save(options, changes)
    except OSError as err:
        raise not_saved(err) from err
    service.camera_options[camera.name] = new
    camera.set_layout(new)
    if safe:
        try:
            audit_command(ctx, AuditAction.PRIVACY_MASKS, camera=camera.name, detail=detail)
        except (sqlite3.Error, OSError) as err:
            _LOGGER.error(
                "%s: masks saved, but the audit log cannot be written: %s", camera.name, err
            )
    return camera_layout(camera.name, new, service.camera_store.replaced.get(camera.name))
