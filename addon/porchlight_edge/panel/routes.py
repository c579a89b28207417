"""The panel's pages: static files, security headers and the standalone session route.

The page is plain HTML and ES modules from `static/`, read from the package (nothing is
built). It lives at `/panel/` on both ports; every URL in it is relative, so it works
under Home Assistant's ingress prefix unchanged.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Final

from aiohttp import web

from porchlight_edge.panel.ingress import ingress_path, ingress_user
from porchlight_edge.panel.sessions import COOKIE_NAME, SESSION_PATH, PanelSessions

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, MutableMapping

STATIC_DIR: Final = Path(__file__).with_name("static")
PANEL_PATH: Final = "/panel/"
STATIC_ROUTE: Final = "panel-static"
"""Route name of the page's files: public (no token), they hold no data."""
SESSIONS: Final = web.AppKey("panel_sessions", PanelSessions)
CONTENT_TYPES: Final = {
    ".html": "text/html",
    ".js": "text/javascript",
    ".css": "text/css",
    ".svg": "image/svg+xml",
    ".png": "image/png",
}
CSP: Final = (
    "default-src 'self'; img-src 'self' blob: data:; media-src 'self' blob:; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'self'"
)
"""Nothing from outside: no CDN, font, script or beacon. `frame-ancestors 'self'`: Home
Assistant frames the panel from its own origin (the ingress proxy's)."""
SECURITY_HEADERS: Final = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Resource-Policy": "same-origin",
}


async def security_headers(request: web.Request, response: web.StreamResponse) -> None:
    """`on_response_prepare`: the CSP and friends on every answer; no-store but for the page.

    A signal, not a middleware: streams (MJPEG, a growing clip) send their headers from
    inside the handler, before a middleware would see the response.
    """
    _decorate(request, response.headers)


def _decorate(request: web.Request, headers: MutableMapping[str, str]) -> None:
    for name, value in SECURITY_HEADERS.items():
        headers.setdefault(name, value)
    if not (request.match_info.route.name or "").startswith(STATIC_ROUTE):
        headers.setdefault("Cache-Control", "no-store")


def _files() -> dict[str, Path]:
    """The page's files by name: regular files of `static/` with a known type."""
    return {
        path.name: path
        for path in STATIC_DIR.iterdir()
        if path.is_file() and path.suffix in CONTENT_TYPES
    }


def _static_handler(files: dict[str, Path]) -> Callable[[web.Request], Awaitable[web.Response]]:
    async def static(request: web.Request) -> web.Response:
        name = request.match_info.get("name") or "index.html"
        path = files.get(name)
        if path is None:
            raise web.HTTPNotFound()
        # Revalidated each time: an updated add-on must not run yesterday's modules.
        headers = {"Cache-Control": "no-cache"}
        return web.Response(
            body=path.read_bytes(), content_type=CONTENT_TYPES[path.suffix], headers=headers
        )

    return static


async def _to_panel(request: web.Request) -> web.StreamResponse:
    """`/` → the panel, under the ingress prefix when there is one (else relative)."""
    prefix = ingress_path(request) if ingress_user(request) is not None else ""
    location = f"{prefix}{PANEL_PATH}" if prefix else PANEL_PATH.lstrip("/")
    return web.Response(status=302, headers={"Location": location})


async def _open_session(request: web.Request) -> web.Response:
    """POST (token checked by the API's middleware): a session cookie for pictures and clips."""
    session = request.app[SESSIONS].open()
    response = web.Response(status=204)
    response.set_cookie(
        COOKIE_NAME, session, httponly=True, samesite="Strict", path="/", max_age=None
    )
    return response


async def _close_session(request: web.Request) -> web.Response:
    """DELETE: log out (the cookie's session ends)."""
    request.app[SESSIONS].close(request.cookies.get(COOKIE_NAME))
    response = web.Response(status=204)
    response.del_cookie(COOKIE_NAME, path="/")
    return response


def session_valid(request: web.Request) -> bool:
    """Whether the request carries an open standalone page session cookie."""
    sessions = request.app.get(SESSIONS)
    return sessions is not None and sessions.valid(request.cookies.get(COOKIE_NAME))


def add_panel_routes(app: web.Application, *, sessions: bool) -> None:
    """Register `/` (→ panel), the panel's files and, standalone, the session route."""
    static = _static_handler(_files())
    app.router.add_get("/", _to_panel)
    app.router.add_get(PANEL_PATH, static, name=STATIC_ROUTE)
    app.router.add_get(PANEL_PATH + "{name}", static, name=STATIC_ROUTE + "-file")
    if sessions:
        app[SESSIONS] = PanelSessions()
        app.router.add_post(SESSION_PATH, _open_session)
        app.router.add_delete(SESSION_PATH, _close_session)


def is_public(request: web.Request) -> bool:
    """The page's own files and `/`: served without a token (they hold nothing private)."""
    name = request.match_info.route.name or ""
    return name.startswith(STATIC_ROUTE) or (request.path == "/" and request.method == "GET")
