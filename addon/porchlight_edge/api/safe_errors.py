"""What the server logs about its clients: never a value they sent, never a flood.

aiohttp logs a malformed request at ERROR with the offending raw line, and answers it
with that line in a text body: an `Authorization` header holding the token plus a NUL
byte put the whole token in the log. Here a request error is logged as its kind and
status only, and answered with the protocol's JSON error. Repeated lines (a flood of bad
requests, accept failures at the file limit) are rate-limited per kind.
"""

from __future__ import annotations

import logging
import traceback
from typing import TYPE_CHECKING, Any

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError

from porchlight_edge.lograte import RateLimitedLog
from porchlight_edge.protocol import ErrorCode

if TYPE_CHECKING:
    import asyncio
    from collections.abc import Callable

_LOGGER = logging.getLogger(__name__)


def exception_handler(
    log: RateLimitedLog,
) -> Callable[[asyncio.AbstractEventLoop, dict[str, Any]], None]:
    """A loop exception handler passing each kind of error on at most once per interval.

    At the file limit asyncio reports the same accept failure for every waiting
    connection, many times a second (python/cpython#151615).
    """

    def handle(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        exc = context.get("exception")
        key = f"{context.get('message')}|{type(exc).__name__}|{getattr(exc, 'errno', '')}"
        held = log.allow(key)
        if held is None:
            return
        if held:
            context = {
                **context,
                "message": f"{context.get('message')} (and {held} more "
                f"like it in the last {log.interval:.0f} s)",
            }
        loop.default_exception_handler(context)

    return handle


def request_log() -> RateLimitedLog:
    """A rate-limited log for one server's request errors."""
    return RateLimitedLog(_LOGGER)


def describe(exc: BaseException | None) -> str:
    """An exception's kind and where it was raised, without its message.

    The message may quote request values; the kinds and places of chained exceptions
    are included.
    """
    if exc is None:
        return "no exception"
    lines: list[str] = []
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        stack = "".join(traceback.format_tb(current.__traceback__)).rstrip()
        lines.append(
            f"{type(current).__qualname__}\n{stack}" if stack else type(current).__qualname__
        )
        current = current.__cause__ or current.__context__
    return "\ncaused by ".join(lines)


class SafeRequestHandler(web.RequestHandler):
    """Request errors logged without request values and answered with JSON."""

    __slots__ = ("_request_log",)

    def __init__(self, manager: web.Server, request_log: RateLimitedLog, **kwargs: Any) -> None:
        super().__init__(manager, **kwargs)
        self._request_log = request_log

    def log_exception(self, *args: Any, **kw: Any) -> None:
        """Log an exception by kind and place only (never its message)."""
        exc = kw.get("exc_info")
        error = exc if isinstance(exc, BaseException) else None
        message = args[0] if args and isinstance(args[0], str) else "Server error"
        _LOGGER.error("%s: %s", message.split("%")[0].strip(), describe(error))

    def handle_error(
        self,
        request: web.BaseRequest,
        status: int = 500,
        exc: BaseException | None = None,
        message: str | None = None,
    ) -> web.StreamResponse:
        """Answer a failed request with the protocol's JSON error, logging only its kind."""
        if isinstance(exc, HttpProcessingError) or status < 500:
            # The client's fault: its kind is enough, the raw line is what must not leak.
            kind = type(exc).__name__ if exc is not None else "bad request"
            self._request_log.log(
                logging.INFO,
                kind,
                "Rejected a request from %s: %s (%d)",
                request.remote,
                kind,
                status,
            )
            code, text = ErrorCode.INVALID_FORMAT, "malformed HTTP request"
        else:
            self._request_log.log(
                logging.ERROR,
                "error",
                "Error handling a request from %s: %s",
                request.remote,
                describe(exc),
            )
            code, text = ErrorCode.INTERNAL_ERROR, "the request failed"
        if request.writer.output_size > 0:
            raise ConnectionError("the response had started; cannot send an error instead")
        response = web.json_response({"error": {"code": code, "message": text}}, status=status)
        response.force_close()
        return response
