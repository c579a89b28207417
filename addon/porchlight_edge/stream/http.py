"""`GET /api/cameras/{camera}/stream.ts?credential=…`: the live MPEG-TS stream.

Authenticated by the camera's stream credential only (the API token is refused
here and the credential everywhere else, see `api.server`). Privacy mode refuses
the stream and ends open ones; every opening is audited.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from aiohttp import web

from porchlight_edge.api.auth import error_response
from porchlight_edge.api.http import audit, next_or_gone
from porchlight_edge.audit import AuditAction
from porchlight_edge.live import TooManyViewers
from porchlight_edge.protocol import STREAM_CREDENTIAL_PARAM, ErrorCode
from porchlight_edge.recorder.audio import AudioPacket
from porchlight_edge.recorder.packets import EncodedPacket

from .mpegts import StreamChanged, TsMuxer

if TYPE_CHECKING:
    from porchlight_edge.service import Service

    from .hub import StreamViewer

_LOGGER = logging.getLogger(__name__)
ROUTE_NAME = "live_stream"
CONTENT_TYPE = "video/mp2t"
AUDIT_TARGET = "stream.ts"


async def live_stream(request: web.Request) -> web.StreamResponse:
    """The camera's live MPEG-TS stream, from its next keyframe on.

    401 without the camera's stream credential, 503 in privacy mode or when
    `max_viewers` stream viewers are watching. A viewer's place is freed however it
    ends: it closes, resets, stops reading (nothing taken within
    ConnectionLimits.stall_timeout), the camera goes dark or the credential rotates.
    """
    service: Service = request.app["service"]
    name = request.match_info["camera"]
    camera = service.cameras.get(name)
    given = request.query.get(STREAM_CREDENTIAL_PARAM)
    # Same answer for an unknown camera and a wrong credential: the route reveals nothing.
    if camera is None or not service.stream_credential.matches(name, given):
        return error_response(401, ErrorCode.INVALID_AUTH, "missing or invalid stream credential")
    service.connections.trust(request.transport)
    if camera.settings.privacy_mode:
        return error_response(503, ErrorCode.UNAVAILABLE, "no stream: privacy mode is on")
    try:
        viewer = camera.stream.open()
    except TooManyViewers as err:
        return error_response(503, ErrorCode.UNAVAILABLE, str(err))
    try:
        audit(request, AuditAction.LIVE_STREAM, camera=camera.name, target=AUDIT_TARGET)
        response = web.StreamResponse(
            headers={"Content-Type": CONTENT_TYPE, "Cache-Control": "no-store"}
        )
        await response.prepare(request)
        await _send(request, response, viewer, service.connections.limits.stall_timeout)
        return response
    finally:
        camera.stream.close_viewer(viewer)


async def _send(
    request: web.Request, response: web.StreamResponse, viewer: StreamViewer, stall: float
) -> None:
    muxer: TsMuxer | None = None
    try:
        while (packet := await next_or_gone(request, viewer)) is not None:
            if isinstance(packet, AudioPacket):
                data = muxer.mux_audio(packet) if muxer is not None else b""
            else:
                assert isinstance(packet, EncodedPacket)
                if muxer is None:
                    muxer = TsMuxer(packet.params, viewer.audio)
                data = muxer.mux(packet)
            if data:
                async with asyncio.timeout(stall):
                    await response.write(data)
    except StreamChanged as err:
        _LOGGER.info("%s: live stream ends: %s", request.match_info["camera"], err)
    except TimeoutError:
        # It stopped reading: drop the connection, or aiohttp would wait on it forever.
        if request.transport is not None:
            request.transport.abort()
    except ConnectionError:
        pass  # gone: reset, broken pipe, closed
    finally:
        if muxer is not None:
            muxer.close()
