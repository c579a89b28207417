"""Token checks shared by the websocket and HTTP endpoints."""

from __future__ import annotations

import hmac
from typing import TYPE_CHECKING

from aiohttp import web

if TYPE_CHECKING:
    from porchlight_edge.protocol import ErrorCode


def token_matches(expected: str, given: object) -> bool:
    """True only for a string equal to the token.

    Anything else a client sends (a number, null, a list, text that is not UTF-8) is simply a wrong
    token, never an error.
    """
    if not isinstance(given, str):
        return False
    try:
        candidate = given.encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates: aiohttp's decoding of non-UTF-8 bytes
        return False
    # Constant-time comparison: the token is the only secret between HA and the add-on.
    return hmac.compare_digest(expected.encode(), candidate)


def bearer_token(request: web.Request) -> str | None:
    """The token of an `Authorization: Bearer <token>` header, or None."""
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


def error_response(status: int, code: ErrorCode, message: str) -> web.Response:
    """A JSON error response: {"error": {"code", "message"}} with HTTP `status`."""
    return web.json_response({"error": {"code": code, "message": message}}, status=status)
