"""Who may hold a connection: caps per peer and in total, room kept for token holders.

Also a deadline for a new connection's first request headers.

A connection is *pending* from accept until one of its requests proves the token
(HTTP bearer or websocket auth); then it is *trusted*. A peer address at its cap of
pending connections is refused more. Past the cap on all pending connections
(`max_connections - reserved`) the oldest pending connection of the busiest peer makes
room, so an idle flood from many addresses cannot lock out Home Assistant, whose requests
prove the token within milliseconds. Trusted connections count only against
`max_connections`.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, replace
import logging
import resource
import socket
from typing import Any

from aiohttp import web

from porchlight_edge.api.safe_errors import SafeRequestHandler, request_log
from porchlight_edge.lograte import RateLimitedLog
from porchlight_edge.protocol import MAX_MESSAGE_BYTES

_LOGGER = logging.getLogger(__name__)

FD_HEADROOM = 128
"""File descriptors kept for everything but client sockets: clip files, the databases,
camera streams, decoder threads' pipes."""


@dataclass(frozen=True, slots=True)
class ConnectionLimits:
    """Caps on client connections of the API server (counts and seconds)."""

    max_connections: int = 512
    """All open client connections; past it the oldest pending one is dropped, or when
    every one is trusted, the new one is refused."""
    reserved: int = 64
    """Of `max_connections`, places only trusted connections (token proved) can take."""
    max_pending_per_peer: int = 32
    """Pending connections one address may hold."""
    header_timeout: float = 10.0
    """Seconds a new connection has to deliver its first request's headers."""
    idle_timeout: float = 30.0
    """Seconds a kept-alive connection may sit idle between requests (longer than the
    15 s aiohttp clients keep theirs, so a client never reuses one the server closes)."""
    heartbeat: float = 30.0
    """Seconds between the server's websocket pings; no pong within half that drops the
    session (a half-open connection otherwise lingers for TCP's minutes)."""
    stall_timeout: float = 10.0
    """Seconds a client may take nothing of what is sent to it (an MJPEG part, websocket
    results, a clip download) before it counts as gone."""
    preauth_bytes: int = 2 * MAX_MESSAGE_BYTES
    """Bytes a websocket may send before its auth message proves the token; past it the
    connection is dropped. aiohttp buffers a message up to its own, larger limit, so
    without this each connection without the token could hold a megabyte."""
    outbox_bytes: int = 4 * 1024 * 1024
    """Bytes of results and events one websocket client may have waiting; past it the
    client is dropped (it reconnects and replays). A replay of the whole event buffer
    (1024 events) fits many times over."""
    command_pause_bytes: int = 256 * 1024
    """Bytes waiting above which a client's next command is held until it reads (a few
    full pages of list results): a client that does not read gets no more work done."""

    def __post_init__(self) -> None:
        if not 0 <= self.reserved < self.max_connections:
            raise ValueError("reserved must be 0 or more and less than max_connections")
        counts = (
            self.max_pending_per_peer,
            self.preauth_bytes,
            self.outbox_bytes,
            self.command_pause_bytes,
        )
        seconds = (self.header_timeout, self.idle_timeout, self.heartbeat, self.stall_timeout)
        if min(counts) <= 0 or min(seconds) <= 0:
            raise ValueError("the caps and timeouts must be positive")


def fit_to_file_limit(limits: ConnectionLimits) -> ConnectionLimits:
    """Fit `max_connections` sockets beside FD_HEADROOM other files.

    Raises the soft RLIMIT_NOFILE (within the hard one); lowers `max_connections` if they
    still do not fit. Accepting past the file limit fails with EMFILE and stalls every client.
    """
    needed = limits.max_connections + FD_HEADROOM
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < needed:
        target = needed if hard == resource.RLIM_INFINITY else min(needed, hard)
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            soft = target
        except (ValueError, OSError) as err:
            _LOGGER.warning("Cannot raise the open-file limit to %d: %s", target, err)
    if soft == resource.RLIM_INFINITY or soft >= needed:
        return limits
    fitted = max(8, int(soft) - FD_HEADROOM)
    _LOGGER.warning(
        "Open-file limit %d allows %d client connections, not %d",
        soft,
        fitted,
        limits.max_connections,
    )
    return replace(limits, max_connections=fitted, reserved=min(limits.reserved, fitted // 4))


class ConnectionGuard:
    """Admits, counts and drops the API server's client connections (on the loop)."""

    def __init__(self, limits: ConnectionLimits | None = None) -> None:
        self.limits = limits or ConnectionLimits()
        # Per peer, pending transports oldest first (dicts keep insertion order).
        self._pending: dict[str, dict[asyncio.Transport, None]] = {}
        self._pending_count = 0
        self._trusted: set[asyncio.Transport] = set()
        self._deadlines: dict[asyncio.Transport, asyncio.TimerHandle] = {}
        # Websockets awaiting their auth message: the bytes each may still send.
        self._preauth: dict[asyncio.Transport, int] = {}
        self._log = RateLimitedLog(_LOGGER)
        self.request_log = request_log()

    @property
    def pending(self) -> int:
        """Pending connections now (not yet proved the token)."""
        return self._pending_count

    @property
    def trusted(self) -> int:
        """Trusted connections now."""
        return len(self._trusted)

    @property
    def backlogged(self) -> int:
        """Trusted connections whose client is not taking what is sent.

        The kernel's socket buffer is full and data waits in ours.
        """
        return sum(1 for t in self._trusted if t.get_write_buffer_size())

    def pending_from(self, peer: str) -> int:
        """Pending connections from `peer`."""
        return len(self._pending.get(peer, ()))

    def admit(self, transport: asyncio.Transport) -> bool:
        """A new connection: True to serve it, False when it must be refused."""
        limits = self.limits
        peer = _peer(transport)
        if self.pending_from(peer) >= limits.max_pending_per_peer:
            # Refusing costs least, and touches no other address's connections.
            self._log.log(
                logging.WARNING,
                "per-address",
                "Refused a connection from %s: %d of its connections have not shown the token",
                peer,
                limits.max_pending_per_peer,
            )
            return False
        full = self._pending_count + len(self._trusted) >= limits.max_connections
        if full and not self._evict_busiest("the connection limit"):
            self._log.log(
                logging.WARNING,
                "full",
                "Refused a connection from %s: %d connections are open (the limit)",
                peer,
                limits.max_connections,
            )
            return False
        if not full and self._pending_count >= limits.max_connections - limits.reserved:
            self._evict_busiest("the limit for unauthenticated connections")
        self._pending.setdefault(peer, {})[transport] = None
        self._pending_count += 1
        loop = asyncio.get_running_loop()
        self._deadlines[transport] = loop.call_later(
            limits.header_timeout, self._header_timeout, transport
        )
        return True

    def request_started(self, transport: asyncio.BaseTransport | None) -> None:
        """Headers of a request arrived: the first-request deadline is met."""
        if isinstance(transport, asyncio.Transport):
            handle = self._deadlines.pop(transport, None)
            if handle is not None:
                handle.cancel()

    def awaiting_auth(self, transport: asyncio.BaseTransport | None) -> None:
        """A websocket upgraded without the token: bound what it may send until `trust`."""
        if isinstance(transport, asyncio.Transport) and transport not in self._trusted:
            self._preauth[transport] = self.limits.preauth_bytes

    def received(self, transport: asyncio.Transport, size: int) -> bool:
        """`size` bytes arrived; False when the connection must be dropped for them."""
        left = self._preauth.get(transport)
        if left is None:
            return True
        self._preauth[transport] = left - size
        if left - size >= 0:
            return True
        self._log.log(
            logging.WARNING,
            "preauth",
            "Dropped a websocket from %s: it sent over %d bytes without the token",
            _peer(transport),
            self.limits.preauth_bytes,
        )
        self.release(transport)
        return False

    def auth_failed(self, peer: str) -> None:
        """Log a wrong token; clients without it choose how often, so rate-limited."""
        self._log.log(logging.WARNING, "auth", "Rejected websocket client %s: invalid token", peer)

    def trust(self, transport: asyncio.BaseTransport | None) -> None:
        """A request on this connection proved the token."""
        if not isinstance(transport, asyncio.Transport) or transport in self._trusted:
            return
        self._preauth.pop(transport, None)
        self.request_started(transport)
        if self._forget_pending(transport):
            self._trusted.add(transport)

    def release(self, transport: asyncio.Transport) -> None:
        """The connection is gone (idempotent)."""
        self.request_started(transport)
        self._preauth.pop(transport, None)
        self._trusted.discard(transport)
        self._forget_pending(transport)

    def _forget_pending(self, transport: asyncio.Transport) -> bool:
        peer = _peer(transport)
        queue = self._pending.get(peer)
        if queue is None or transport not in queue:
            return False
        del queue[transport]
        if not queue:
            del self._pending[peer]
        self._pending_count -= 1
        return True

    def _evict_busiest(self, why: str) -> bool:
        if not self._pending:
            return False
        busiest = max(self._pending.values(), key=len)
        self._evict(next(iter(busiest)), why)
        return True

    def _evict(self, transport: asyncio.Transport, why: str) -> None:
        self._log.log(
            logging.WARNING,
            why,
            "Dropped the oldest unauthenticated connection from %s: %s is reached",
            _peer(transport),
            why,
        )
        self.release(transport)
        transport.abort()

    def _header_timeout(self, transport: asyncio.Transport) -> None:
        self._deadlines.pop(transport, None)
        self._log.log(
            logging.INFO,
            "header timeout",
            "Closed a connection from %s: no request within %s s",
            _peer(transport),
            self.limits.header_timeout,
        )
        self.release(transport)
        transport.abort()


def _peer(transport: asyncio.BaseTransport) -> str:
    peername = transport.get_extra_info("peername")
    if isinstance(peername, tuple) and peername:
        return str(peername[0])
    return str(peername or "?")


def _drop_when_stalled(transport: asyncio.Transport, seconds: float) -> None:
    """Have the kernel abort a stalled connection after `seconds` (TCP_USER_TIMEOUT, Linux).

    Stalled: what is sent stays unacknowledged, or the client's window stays shut.
    Every response gets this, whoever writes it: a clip or snapshot download (sent with
    sendfile, out of reach of any timeout in our code), an MJPEG part, pipelined answers,
    websocket frames. A client that stops reading then frees its connection and open file
    instead of holding them until the add-on stops.
    """
    option = getattr(socket, "TCP_USER_TIMEOUT", None)
    sock = transport.get_extra_info("socket")
    if option is None or sock is None or sock.family not in (socket.AF_INET, socket.AF_INET6):
        return
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.IPPROTO_TCP, option, max(1, round(seconds * 1000)))


class GuardedRequestHandler(SafeRequestHandler):
    """aiohttp's request handler, admitted and released by the guard."""

    __slots__ = ("_admitted", "_guard")

    def __init__(self, manager: web.Server, guard: ConnectionGuard, **kwargs: Any) -> None:
        super().__init__(manager, guard.request_log, **kwargs)
        self._guard = guard
        # aiohttp forgets the transport when it closes it; the guard must still release it.
        self._admitted: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        """Admit the connection, or close it at once when the guard refuses it."""
        assert isinstance(transport, asyncio.Transport)
        if not self._guard.admit(transport):
            transport.abort()
            return
        self._admitted = transport
        _drop_when_stalled(transport, self._guard.limits.stall_timeout)
        super().connection_made(transport)

    def data_received(self, data: bytes) -> None:
        """Count received bytes against the pre-auth budget; abort a connection past it."""
        if self._admitted is not None and not self._guard.received(self._admitted, len(data)):
            self._admitted.abort()
            return
        super().data_received(data)

    def connection_lost(self, exc: BaseException | None) -> None:
        """Release the connection's place in the guard."""
        if self._admitted is None:
            return
        self._guard.release(self._admitted)
        super().connection_lost(exc)


class GuardedSite(web.BaseSite):
    """A TCP site whose connections are created by GuardedRequestHandler."""

    __slots__ = ("_guard", "_handler_args", "_host", "_port")

    def __init__(
        self,
        runner: web.AppRunner,
        host: str,
        port: int,
        guard: ConnectionGuard,
        handler_args: dict[str, Any],
    ) -> None:
        super().__init__(runner)
        self._host, self._port = host, port
        self._guard = guard
        self._handler_args = handler_args

    @property
    def name(self) -> str:
        """The site's URL (http://host:port as configured)."""
        return f"http://{self._host}:{self._port}"

    @property
    def port(self) -> int:
        """The bound port (the asked one, or the one the system chose for port 0)."""
        sockets = getattr(self._server, "sockets", None) or []
        return int(sockets[0].getsockname()[1]) if sockets else self._port

    @property
    def addresses(self) -> list[str]:
        """The addresses the listening sockets are bound to."""
        sockets = getattr(self._server, "sockets", None) or []
        return [str(sock.getsockname()[0]) for sock in sockets]

    async def start(self) -> None:
        """Start listening; OSError when the address cannot be bound."""
        await super().start()
        loop = asyncio.get_running_loop()
        server = self._runner.server
        assert server is not None
        guard, args = self._guard, self._handler_args

        def factory() -> GuardedRequestHandler:
            return GuardedRequestHandler(server, guard, loop=loop, **args)

        self._server = await loop.create_server(
            factory, self._host, self._port, backlog=self._backlog, reuse_address=True
        )
