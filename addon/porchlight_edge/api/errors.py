"""Every HTTP error leaves as the protocol's JSON body `{"error": {"code", "message"}}`.

aiohttp answers routing errors (404, 405) and failed websocket upgrades (400) with
plain text. The middleware turns raised HTTP errors and unexpected exceptions into
the JSON body (the handlers answer ranges with no bytes, 416, themselves).
"""

from __future__ import annotations

import errno
import logging
import sqlite3
from typing import TYPE_CHECKING, Final

from aiohttp import hdrs, web

from porchlight_edge.api.auth import error_response
from porchlight_edge.api.safe_errors import describe
from porchlight_edge.protocol import ErrorCode, ProtocolError

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

_LOGGER = logging.getLogger(__name__)

CODE_BY_STATUS: Final[dict[int, ErrorCode]] = {
    400: ErrorCode.INVALID_FORMAT,
    401: ErrorCode.INVALID_AUTH,
    403: ErrorCode.INVALID_AUTH,
    404: ErrorCode.NOT_FOUND,
    405: ErrorCode.INVALID_FORMAT,
    413: ErrorCode.MESSAGE_TOO_LARGE,
    416: ErrorCode.INVALID_ARGS,
    503: ErrorCode.UNAVAILABLE,
}
_KEPT_HEADERS: Final = (hdrs.ALLOW, hdrs.CONTENT_RANGE, hdrs.RETRY_AFTER)
_MAX_MESSAGE: Final = 200

type _Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def not_saved(err: OSError) -> ProtocolError:
    """The `unavailable` answer to a settings change the disk refused (nothing changed)."""
    return ProtocolError(
        ErrorCode.UNAVAILABLE,
        f"the change could not be saved ({err.strerror or err}): nothing was changed",
    )


_DISK_ERRNOS: Final = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EIO})


def storage_fault(err: BaseException) -> str | None:
    """What to tell the client when `err` is the disk failing, else None.

    Full, read-only, a database that cannot be written: a fault of the moment,
    `unavailable`, not a server bug.
    """
    if isinstance(err, sqlite3.OperationalError):
        return f"storage is unavailable: {err}"
    if isinstance(err, OSError) and err.errno in _DISK_ERRNOS:
        return f"storage is unavailable: {err.strerror}"
    return None


def code_for(status: int) -> ErrorCode:
    """The protocol error code of an HTTP error status."""
    default = ErrorCode.INTERNAL_ERROR if status >= 500 else ErrorCode.INVALID_FORMAT
    return CODE_BY_STATUS.get(status, default)


def _as_json(err: web.HTTPException) -> web.Response:
    text = (err.text or "").strip()
    # aiohttp's default text is "<status>: <reason>"; its upgrade errors say more.
    message = text if text and not text.startswith(f"{err.status}:") else err.reason
    response = error_response(err.status, code_for(err.status), message[:_MAX_MESSAGE])
    for name in _KEPT_HEADERS:
        if name in err.headers:
            response.headers[name] = err.headers[name]
    return response


@web.middleware
async def protocol_errors(request: web.Request, handler: _Handler) -> web.StreamResponse:
    """Outermost middleware: raised HTTP errors and crashes become JSON error bodies."""
    try:
        return await handler(request)
    except web.HTTPException as err:
        if err.status < 400 or err.content_type == "application/json":
            raise
        return _as_json(err)
    except ConnectionError:
        raise  # the client is gone (maybe mid-stream): there is no one to answer
    except Exception as err:
        # Logged by route, never by the path or message a client made (they may quote it).
        resource = request.match_info.route.resource
        route = resource.canonical if resource is not None else "?"
        if (fault := storage_fault(err)) is not None:
            _LOGGER.warning("%s %s: %s", request.method, route, fault)
            return error_response(503, ErrorCode.UNAVAILABLE, fault)
        _LOGGER.error("%s %s failed: %s", request.method, route, describe(err))
        return error_response(500, ErrorCode.INTERNAL_ERROR, "the request failed")
