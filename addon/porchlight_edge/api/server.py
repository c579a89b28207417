"""aiohttp application: the websocket API and the authenticated HTTP endpoints."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
import contextlib
from typing import TYPE_CHECKING

from aiohttp import WSCloseCode, web

from porchlight_edge.api import http
from porchlight_edge.api.auth import bearer_token, error_response, token_matches
from porchlight_edge.api.errors import protocol_errors
from porchlight_edge.api.websocket import websocket_handler
from porchlight_edge.protocol import (
    CLIP_ROUTE,
    EVENT_SNAPSHOT_ROUTE,
    LIVE_STREAM_ROUTE,
    MJPEG_ROUTE,
    SNAPSHOT_ROUTE,
    WS_PATH,
    ErrorCode,
)
from porchlight_edge.stream import http as stream_http

if TYPE_CHECKING:
    from porchlight_edge.service import Service

HEALTH_PATH = "/healthz"
CLOSE_TIMEOUT = 1.0
"""Seconds a websocket client gets to take the server's close frame at shutdown."""

type _Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def require_token(request: web.Request, handler: _Handler) -> web.StreamResponse:
    """Middleware: HTTP routes need the bearer token (401 with the protocol's JSON otherwise)."""
    service: Service = request.app["service"]
    service.connections.request_started(request.transport)
    # The websocket authenticates in-band (its first message), like HA's own API.
    # The live stream authenticates by its own scoped credential (see stream.http).
    route = request.match_info.route.name
    if request.path not in (WS_PATH, HEALTH_PATH) and route != stream_http.ROUTE_NAME:
        if not token_matches(service.identity.token, bearer_token(request)):
            return error_response(401, ErrorCode.INVALID_AUTH, "missing or invalid bearer token")
        service.connections.trust(request.transport)
    return await handler(request)


async def _health(request: web.Request) -> web.Response:
    return web.Response(text="ok")


async def _close_websockets(app: web.Application) -> None:
    service: Service = app["service"]
    for ws in list(service.websockets):
        # A client that does not read would hold the close (and the shutdown) forever;
        # cut short, the handler drops its connection instead.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(
                ws.close(code=WSCloseCode.GOING_AWAY, message=b"server shutdown"), CLOSE_TIMEOUT
            )


def create_app(service: Service) -> web.Application:
    """The aiohttp application: the websocket and HTTP routes, token check and JSON errors."""
    app = web.Application(middlewares=[protocol_errors, require_token], client_max_size=64 * 1024)
    app["service"] = service
    app[http.PLAYBACKS] = http.PlaybackAudit()
    app.on_shutdown.append(_close_websockets)
    app.router.add_get(WS_PATH, websocket_handler)
    app.router.add_get(HEALTH_PATH, _health)
    app.router.add_get(SNAPSHOT_ROUTE, http.snapshot)
    app.router.add_get(MJPEG_ROUTE, http.mjpeg)
    app.router.add_get(LIVE_STREAM_ROUTE, stream_http.live_stream, name=stream_http.ROUTE_NAME)
    app.router.add_get(CLIP_ROUTE, http.clip)
    app.router.add_get(EVENT_SNAPSHOT_ROUTE, http.event_snapshot)
    return app
