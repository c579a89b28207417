"""Home Assistant ingress: only the Supervisor's proxy may talk to the ingress port.

The Supervisor proxies `<HA>/api/hassio_ingress/<token>/…` to the add-on's `ingress_port`
from one fixed address (172.30.32.2, "Ingress" in HA's add-on documentation), after Home
Assistant has authenticated the user. It names the user in `X-Remote-User-Id`,
`-Name` and `-Display-Name` and the public prefix in `X-Ingress-Path`. Those headers are
believed only because nothing but that address is let in.
"""

from __future__ import annotations

from dataclasses import dataclass
import ipaddress
import re
from typing import TYPE_CHECKING, Final

from aiohttp import web

from porchlight_edge.api.auth import error_response
from porchlight_edge.protocol import ErrorCode

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

SUPERVISOR_INGRESS_ADDRESS: Final = "172.30.32.2"
"""The one address the Supervisor's ingress proxy connects from."""
INGRESS_PORT: Final = 8099
"""The add-on's `ingress_port` in config.yaml (not published on the host)."""
INGRESS_PATH_HEADER: Final = "X-Ingress-Path"
USER_ID_HEADER: Final = "X-Remote-User-Id"
USER_NAME_HEADER: Final = "X-Remote-User-Name"
USER_DISPLAY_HEADER: Final = "X-Remote-User-Display-Name"
_INGRESS_PATH_RE: Final = re.compile(r"^(/[A-Za-z0-9_-]+)+$")
"""HA's prefix, `/api/hassio_ingress/<url-safe token>`: no dots, so never `..`."""
_USER_FIELD: Final = 64
"""Longest user id or name kept in the audit log (HA's ids are 32 hex digits)."""


@dataclass(frozen=True, slots=True)
class IngressUser:
    """The Home Assistant user the Supervisor vouches for (None fields: header absent)."""

    user_id: str | None
    name: str | None
    display_name: str | None

    @property
    def label(self) -> str:
        """What the audit log names: the login name, else the id, else "ingress"."""
        return self.name or self.user_id or "ingress"

    def audit_detail(self) -> dict[str, str]:
        """The audit entry's `user` fields: id, name and display name as sent."""
        fields = {"user": self.label, "user_id": self.user_id, "user_name": self.display_name}
        return {key: value for key, value in fields.items() if value}


INGRESS_USER: Final = web.RequestKey("porchlight_ingress_user", IngressUser)


def _header(request: web.Request, name: str) -> str | None:
    value = request.headers.get(name, "").strip()
    return value[:_USER_FIELD] if value and value.isprintable() else None


def ingress_user(request: web.Request) -> IngressUser | None:
    """The user of a request that came through ingress, None for any other request."""
    return request.get(INGRESS_USER)


def ingress_path(request: web.Request) -> str:
    """The public prefix of an ingress request (`X-Ingress-Path`), "" when absent or odd."""
    value = request.headers.get(INGRESS_PATH_HEADER, "")
    return value if _INGRESS_PATH_RE.fullmatch(value) else ""


def same_address(peer: str | None, allowed: frozenset[str]) -> bool:
    """Whether `peer` is one of `allowed` (IPv4-mapped IPv6 counts as its IPv4 address)."""
    if peer is None:
        return False
    try:
        address = ipaddress.ip_address(peer)
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return str(address) in allowed


type _Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def only_from(allowed: frozenset[str]) -> Callable[..., Awaitable[web.StreamResponse]]:
    """Middleware: 403 for every peer but `allowed`; the user of the others is noted."""

    @web.middleware
    async def ingress_only(request: web.Request, handler: _Handler) -> web.StreamResponse:
        if not same_address(request.remote, allowed):
            return error_response(403, ErrorCode.INVALID_AUTH, "only Home Assistant ingress")
        request[INGRESS_USER] = IngressUser(
            _header(request, USER_ID_HEADER),
            _header(request, USER_NAME_HEADER),
            _header(request, USER_DISPLAY_HEADER),
        )
        return await handler(request)

    return ingress_only
