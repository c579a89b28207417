"""HTTP endpoints: latest snapshot and the MJPEG live view."""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Any

from aiohttp import web

from porchlight_edge.api.auth import error_response
from porchlight_edge.audit import AuditAction
from porchlight_edge.live import TooManyViewers
from porchlight_edge.protocol import USER_HEADER, CameraStatus, ErrorCode
from porchlight_edge.recorder.ids import is_clip_id, validate_event_id

if TYPE_CHECKING:
    from porchlight_edge.camera import CameraPipeline
    from porchlight_edge.service import Service

BOUNDARY = "frame"


def _camera(request: web.Request) -> CameraPipeline:
    service: Service = request.app["service"]
    camera = service.cameras.get(request.match_info["camera"])
    if camera is None:
        raise web.HTTPNotFound(
            text='{"error": {"code": "not_found", "message": "unknown camera"}}',
            content_type="application/json",
        )
    return camera


def audit(request: web.Request, action: AuditAction, **fields: Any) -> None:
    """Log one access to footage: who (client, user header), what, from where."""
    service: Service = request.app["service"]
    user = request.headers.get(USER_HEADER)
    detail = {"user": user[:64]} if user else None
    service.audit.record(action, client_id="http", address=request.remote, detail=detail, **fields)


async def snapshot(request: web.Request) -> web.StreamResponse:
    camera = _camera(request)
    audit(request, AuditAction.SNAPSHOT, camera=camera.name)
    data = await camera.live.jpeg()
    if data is None:
        reason = "privacy mode is on" if camera.settings.privacy_mode else "no frame yet"
        return error_response(503, ErrorCode.UNAVAILABLE, f"no picture: {reason}")
    headers = {"Cache-Control": "no-store"}
    if camera.status is not CameraStatus.ONLINE:
        headers["X-Porchlight-Stale"] = "1"
    return web.Response(body=data, content_type="image/jpeg", headers=headers)


async def mjpeg(request: web.Request) -> web.StreamResponse:
    camera = _camera(request)
    audit(request, AuditAction.LIVE_STREAM, camera=camera.name)
    response = web.StreamResponse(
        headers={
            "Content-Type": f"multipart/x-mixed-replace; boundary={BOUNDARY}",
            "Cache-Control": "no-store",
        }
    )
    frames = camera.live.stream()
    try:
        first = await anext(frames)
    except TooManyViewers as err:
        return error_response(503, ErrorCode.UNAVAILABLE, str(err))
    await response.prepare(request)
    with contextlib.suppress(ConnectionResetError):
        await _write_part(response, first)
        async for jpeg in frames:
            await _write_part(response, jpeg)
    await frames.aclose()
    return response


async def _write_part(response: web.StreamResponse, jpeg: bytes) -> None:
    head = f"--{BOUNDARY}\r\nContent-Type: image/jpeg\r\nContent-Length: {len(jpeg)}\r\n\r\n"
    await response.write(head.encode() + jpeg + b"\r\n")


async def clip(request: web.Request) -> web.StreamResponse:
    """The clip file; aiohttp's FileResponse answers Range requests (206) for seeking."""
    service: Service = request.app["service"]
    clip_id = request.match_info["clip_id"]
    if not is_clip_id(clip_id):
        return error_response(400, ErrorCode.INVALID_ARGS, "malformed clip id")
    try:
        record, path = service.store.clip_file(clip_id)
    except KeyError:
        return error_response(404, ErrorCode.NOT_FOUND, "unknown clip")
    if "Range" not in request.headers or request.headers["Range"].startswith("bytes=0-"):
        # One entry per playback, not one per seek.
        audit(request, AuditAction.CLIP_DOWNLOAD, camera=record.camera, target=clip_id)
    return web.FileResponse(path, headers={"Content-Type": "video/mp4"})


async def event_snapshot(request: web.Request) -> web.StreamResponse:
    service: Service = request.app["service"]
    event_id = request.match_info["event_id"]
    try:
        validate_event_id(event_id)
    except ValueError:
        return error_response(400, ErrorCode.INVALID_ARGS, "malformed event id")
    event = service.store.index.get_event(event_id)
    if event is None or event.snapshot is None:
        return error_response(404, ErrorCode.NOT_FOUND, "no snapshot for this event")
    audit(request, AuditAction.SNAPSHOT, camera=event.camera, target=event_id)
    return web.FileResponse(
        service.store.snapshot_path(event.snapshot), headers={"Content-Type": "image/jpeg"}
    )
