"""aiohttp application: the websocket API and the authenticated HTTP endpoints."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
import contextlib
from typing import TYPE_CHECKING

from aiohttp import WSCloseCode, web

from porchlight_edge.api import http, thumbnails
from porchlight_edge.api.auth import bearer_token, error_response, token_matches
from porchlight_edge.api.errors import protocol_errors
from porchlight_edge.api.websocket import websocket_handler
from porchlight_edge.panel import ingress, routes as panel_routes
from porchlight_edge.protocol import (
    CLIP_ROUTE,
    CLIP_THUMBNAIL_ROUTE,
    EVENT_SNAPSHOT_ROUTE,
    EVENT_THUMBNAIL_ROUTE,
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
    # The panel's own files hold nothing private; its pictures need the token or a session.
    route = request.match_info.route.name
    exempt = request.path in (WS_PATH, HEALTH_PATH) or route == stream_http.ROUTE_NAME
    if not exempt and not panel_routes.is_public(request):
        token_ok = token_matches(service.identity.token, bearer_token(request))
        # The session cookie stands for the token only where the browser loads by itself.
        if not token_ok and not (request.method == "GET" and panel_routes.session_valid(request)):
            return error_response(401, ErrorCode.INVALID_AUTH, "missing or invalid bearer token")
        service.connections.trust(request.transport)
    return await handler(request)


@web.middleware
async def trust_ingress(request: web.Request, handler: _Handler) -> web.StreamResponse:
    """Ingress port middleware, after `only_from`: the Supervisor's proxy is trusted."""
    service: Service = request.app["service"]
    service.connections.request_started(request.transport)
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
    """The API port's application: websocket and HTTP routes, token check and JSON errors.

    Also the panel for standalone use (its pictures by token or page session).
    """
    app = web.Application(
        middlewares=[protocol_errors, require_token],
        client_max_size=64 * 1024,
    )
    _add_routes(app, service)
    app.router.add_get(LIVE_STREAM_ROUTE, stream_http.live_stream, name=stream_http.ROUTE_NAME)
    panel_routes.add_panel_routes(app, sessions=True)
    return app


def create_ingress_app(service: Service, peers: frozenset[str]) -> web.Application:
    """The ingress port's application: the panel and the routes it uses, for `peers` only.

    Home Assistant has authenticated the user before the Supervisor's proxy (the only
    peer) forwards a request, so no token is asked for here.
    """
    app = web.Application(
        middlewares=[
            protocol_errors,
            ingress.only_from(peers),
            trust_ingress,
        ],
        client_max_size=64 * 1024,
    )
    _add_routes(app, service)
    panel_routes.add_panel_routes(app, sessions=False)
    return app


def _add_routes(app: web.Application, service: Service) -> None:
    """The websocket, health check, pictures and clips (both ports)."""
    app["service"] = service
    app.on_response_prepare.append(panel_routes.security_headers)
    app[http.PLAYBACKS] = http.PlaybackAudit()
    app[thumbnails.THUMBNAILS] = thumbnails.Thumbnails()
    app.on_shutdown.append(_close_websockets)
    app.router.add_get(WS_PATH, websocket_handler)
    app.router.add_get(HEALTH_PATH, _health)
    app.router.add_get(SNAPSHOT_ROUTE, http.snapshot)
    app.router.add_get(MJPEG_ROUTE, http.mjpeg)
    app.router.add_get(CLIP_ROUTE, http.clip)
    app.router.add_get(EVENT_SNAPSHOT_ROUTE, http.event_snapshot)
    app.router.add_get(CLIP_THUMBNAIL_ROUTE, thumbnails.clip_thumbnail)
    app.router.add_get(EVENT_THUMBNAIL_ROUTE, thumbnails.event_thumbnail)
