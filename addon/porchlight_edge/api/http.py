"""HTTP endpoints: latest snapshot and the MJPEG live view."""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING

from aiohttp import web

from porchlight_edge.api.auth import error_response
from porchlight_edge.live import TooManyViewers
from porchlight_edge.protocol import CameraStatus, ErrorCode

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


async def snapshot(request: web.Request) -> web.StreamResponse:
    camera = _camera(request)
    data = await camera.live.jpeg()
    if data is None:
        return error_response(503, ErrorCode.NOT_FOUND, "the camera has not delivered a frame yet")
    headers = {"Cache-Control": "no-store"}
    if camera.status is not CameraStatus.ONLINE:
        headers["X-Porchlight-Stale"] = "1"
    return web.Response(body=data, content_type="image/jpeg", headers=headers)


async def mjpeg(request: web.Request) -> web.StreamResponse:
    camera = _camera(request)
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
        return error_response(503, ErrorCode.INVALID_ARGS, str(err))
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
