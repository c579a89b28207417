"""Websocket commands over the recordings and the audit log.

Events, clips and audit entries listed; clips protected, deleted and exported; the storage
status. Each goes through the recordings façade (`service.recordings`), never the clip store.
"""

from __future__ import annotations

import asyncio
import json
from typing import TYPE_CHECKING, Any

from porchlight_edge.api.commands import audit_command, command
from porchlight_edge.audit import AuditAction
from porchlight_edge.protocol import Command, ErrorCode, ProtocolError
from porchlight_edge.recorder.export import ExportError
from porchlight_edge.recordings import TimeQuery

if TYPE_CHECKING:
    from porchlight_edge.api.commands import CommandContext


def _query(ctx: CommandContext, args: dict[str, Any]) -> TimeQuery:
    """The list commands' common filters (checked by the schema) as a `TimeQuery`.

    Camera, start/end and limit/offset. The camera need not run now: a removed camera's
    clips stay listed until retention drops them.
    """
    camera = args.get("camera")
    return TimeQuery(
        camera=camera,
        since=args.get("start"),
        until=args.get("end"),
        limit=args.get("limit", 50),
        offset=args.get("offset", 0),
    )


@command(Command.LIST_EVENTS)
async def list_events(ctx: CommandContext, args: dict[str, Any]) -> Any:
    """`list_events`: a page of events, newest first, filtered by camera/kind/time."""
    page = await ctx.service.recordings.list_events(_query(ctx, args), kind=args.get("kind"))
    return {"events": [e.as_dict() for e in page.items], "next_offset": page.next_offset}


@command(Command.LIST_CLIPS)
async def list_clips(ctx: CommandContext, args: dict[str, Any]) -> Any:
    """`list_clips`: a page of clips, newest first, filtered by camera/time/protection."""
    recordings = ctx.service.recordings
    page = await recordings.list_clips(_query(ctx, args), protected=args.get("protected"))
    return {"clips": [c.as_dict() for c in page.items], "next_offset": page.next_offset}


@command(Command.PROTECT_CLIP)
async def protect_clip(ctx: CommandContext, args: dict[str, Any]) -> Any:
    """`protect_clip`: set a clip's protection; the clip record. NOT_FOUND when unknown."""
    clip_id, protected = args["clip_id"], args["protected"]
    record = await ctx.service.recordings.protect(clip_id, protected)
    if record is None:
        raise ProtocolError(ErrorCode.NOT_FOUND, f"unknown clip {clip_id}")
    audit_command(ctx, AuditAction.CLIP_PROTECT, target=clip_id, detail={"protected": protected})
    return record.as_dict()


async def _clips_to_delete(ctx: CommandContext, args: dict[str, Any]) -> list[str]:
    recordings = ctx.service.recordings
    if "clip_ids" in args:
        return list(dict.fromkeys(args["clip_ids"]))
    if "event_ids" in args:
        return await recordings.clips_of_events(args["event_ids"])
    return await recordings.matching_clips(_query(ctx, {**args, "limit": 1, "offset": 0}))


@command(Command.DELETE_CLIPS)
async def delete_clips(ctx: CommandContext, args: dict[str, Any]) -> Any:
    """`delete_clips`: delete by ids, by event ids or by filter; the ids deleted (audited)."""
    deleted = []
    for clip_id in await _clips_to_delete(ctx, args):
        if await ctx.service.recordings.delete(clip_id):
            audit_command(ctx, AuditAction.CLIP_DELETE, target=clip_id)
            deleted.append(clip_id)
    return {"deleted": deleted}


@command(Command.EXPORT_CLIP)
async def export_clip_command(ctx: CommandContext, args: dict[str, Any]) -> Any:
    """`export_clip`: copy a finished clip to the exports folder; its path and manifest.

    NOT_FOUND for an unknown, unfinished or missing clip; UNAVAILABLE when the copy fails.
    """
    clip_id = args["clip_id"]
    try:
        video, manifest = await ctx.service.recordings.export(clip_id)
    except KeyError as err:
        raise ProtocolError(ErrorCode.NOT_FOUND, f"unknown or unfinished clip {clip_id}") from err
    except FileNotFoundError as err:
        raise ProtocolError(ErrorCode.NOT_FOUND, f"the file of clip {clip_id} is gone") from err
    except (ExportError, OSError) as err:
        raise ProtocolError(ErrorCode.UNAVAILABLE, f"cannot export clip {clip_id}: {err}") from err
    audit_command(ctx, AuditAction.CLIP_EXPORT, target=clip_id, detail={"file": video.name})
    return {"path": str(video), "manifest": json.loads(manifest.read_text())}


@command(Command.GET_STORAGE)
async def get_storage(ctx: CommandContext, args: dict[str, Any]) -> Any:
    """`get_storage`: the `StorageStatus` (bytes used and free, clips, pause state, limits)."""
    return await asyncio.to_thread(ctx.service.storage_status)


@command(Command.GET_AUDIT_LOG)
async def get_audit_log(ctx: CommandContext, args: dict[str, Any]) -> Any:
    """`get_audit_log`: a page of audit entries, newest first, filtered by action/camera/time."""
    query = _query(ctx, args)
    action = args.get("action")
    page = await asyncio.to_thread(ctx.service.audit.query, action=action, **query.filters())
    return {"entries": [e.as_dict() for e in page.items], "next_offset": page.next_offset}
