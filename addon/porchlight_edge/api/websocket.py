"""The websocket API: handshake, token auth, commands and the ordered event feed."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from typing import TYPE_CHECKING, Any

from aiohttp import WSMsgType, web

from porchlight_edge.api.auth import token_matches
from porchlight_edge.api.commands import COMMANDS, CommandContext, Deferred
from porchlight_edge.api.older_clients import for_client
from porchlight_edge.api.safe_errors import describe
from porchlight_edge.panel.ingress import ingress_user
from porchlight_edge.protocol import (
    CURRENT_VERSION,
    MAX_MESSAGE_BYTES,
    MIN_SUPPORTED_VERSION,
    NO_MESSAGE_ID,
    ErrorCode,
    ErrorInfo,
    EventMessage,
    MessageType,
    ProtocolError,
    ProtocolVersion,
    ServerInfo,
    decode_message,
    message_id_of,
    outdated_peer,
    parse_command,
    peer_version,
    result_error,
    result_ok,
    unsupported_version_message,
    version_info,
)

if TYPE_CHECKING:
    from porchlight_edge.service import Service

_LOGGER = logging.getLogger(__name__)

AUTH_TIMEOUT = 10.0


class _WebSocket(web.WebSocketResponse):
    """A websocket response that leaves no heartbeat timer behind after close.

    aiohttp 3.14 re-arms the heartbeat timer when data (the client's close reply) arrives
    after close, leaving a ping timer behind every closed session.
    """

    def _reset_heartbeat(self) -> None:
        if not self.closed:
            super()._reset_heartbeat()


class Session(CommandContext):
    """One authenticated client.

    Results and events leave through one ordered outbox, bounded in bytes
    (ConnectionLimits.outbox_bytes): a client that overflows it is disconnected at once and replays
    what it missed when it reconnects.
    """

    def __init__(
        self,
        service: Service,
        ws: web.WebSocketResponse,
        request: web.Request,
        client: str,
        version: ProtocolVersion = CURRENT_VERSION,
    ) -> None:
        self.service = service
        self.ws = ws
        self.peer = request.remote or "?"
        self.client = client
        self.version = version
        """The protocol version the client announced: what it is sent (`for_client`)."""
        ingress = ingress_user(request)
        self.user: dict[str, str] | None = ingress.audit_detail() if ingress else None
        self._transport = request.transport
        self.outbox: asyncio.Queue[str] = asyncio.Queue()
        self.outbox_bytes = 0
        """Bytes queued and not yet handed to the socket (JSON text is ASCII)."""
        self._room = asyncio.Event()
        self.dropped = False
        self.subscribed = False

    def send(self, message: Any) -> None:
        """Queue `message` as JSON; a client whose outbox overflows is dropped instead."""
        if self.dropped:
            return
        data = json.dumps(for_client(message, self.version))
        limit = self.service.connections.limits.outbox_bytes
        if self.outbox_bytes and self.outbox_bytes + len(data) > limit:
            self.drop(f"fell behind ({self.outbox_bytes} bytes waiting)")
            return
        self.outbox_bytes += len(data)
        self.outbox.put_nowait(data)

    def drop(self, why: str) -> None:
        """Disconnect now: the socket is aborted.

        The handler ends even when the client neither reads nor closes (a polite close would
        wait on it).
        """
        _LOGGER.warning("Client %s %s; disconnecting it", self.peer, why)
        self.dropped = True
        self.service.bus.unsubscribe(self.on_event)
        while not self.outbox.empty():
            self.outbox.get_nowait()
        self.outbox_bytes = 0
        if self._transport is not None:
            self._transport.abort()

    def on_event(self, event: EventMessage) -> None:
        """Send an event to this client."""
        self.send(event)

    async def wait_for_room(self) -> None:
        """Hold the next command while more than `command_pause_bytes` wait (or half the outbox).

        A client that does not read gets no more work done for it, and one that stays behind
        for `stall_timeout` is dropped.
        """
        limits = self.service.connections.limits
        pause = min(limits.command_pause_bytes, limits.outbox_bytes // 2)
        try:
            async with asyncio.timeout(limits.stall_timeout):
                while self.outbox_bytes > pause and not self.dropped:
                    self._room.clear()
                    await self._room.wait()
        except TimeoutError:
            self.drop(f"read nothing for {limits.stall_timeout} s")

    async def writer(self) -> None:
        """Send the outbox in order until the socket closes."""
        while True:
            data = await self.outbox.get()
            self.outbox_bytes -= len(data)
            await self.ws.send_str(data)
            self._room.set()


def server_info(service: Service) -> ServerInfo:
    """The `server_info` message: versions, server version, instance and boot ids, name."""
    return {
        "type": MessageType.SERVER_INFO,
        **version_info(),
        "server_version": service.version,
        "instance_id": service.identity.instance_id,
        "boot_id": service.bus.boot_id,
        "name": service.name,
    }


_INVALID_TOKEN: ErrorInfo = {"code": ErrorCode.INVALID_AUTH, "message": "invalid access token"}


async def _authenticate(
    service: Service, ws: web.WebSocketResponse, *, ingress: bool
) -> tuple[str, ProtocolVersion] | ErrorInfo:
    """(client name, protocol version) when the token is right and the version is served.

    Through Home Assistant's ingress the user is already authenticated: no token is
    asked for (the auth message still names the client and its version). Else the error
    of the `auth_invalid` answer (`invalid_auth`, or `unsupported_version` naming the side
    to update). The token is checked first, so an unauthenticated peer
    learns nothing beyond `server_info`.
    """
    try:
        msg = await ws.receive(timeout=AUTH_TIMEOUT)
    except TimeoutError:
        return _INVALID_TOKEN
    if msg.type is not WSMsgType.TEXT or len(msg.data) > MAX_MESSAGE_BYTES:
        return _INVALID_TOKEN
    try:
        data = decode_message(msg.data)
    except ProtocolError:
        return _INVALID_TOKEN
    if not (
        isinstance(data, dict)
        and data.get("type") == MessageType.AUTH
        and (ingress or token_matches(service.identity.token, data.get("token")))
    ):
        return _INVALID_TOKEN
    try:
        client_version, client_min = peer_version(data)
    except ProtocolError as err:
        return {"code": ErrorCode.UNSUPPORTED_VERSION, "message": err.message}
    outdated = outdated_peer((CURRENT_VERSION, MIN_SUPPORTED_VERSION), (client_version, client_min))
    if outdated is not None:
        return {
            "code": ErrorCode.UNSUPPORTED_VERSION,
            "message": unsupported_version_message(outdated, CURRENT_VERSION, client_version),
        }
    client = data.get("client")
    return (client if isinstance(client, str) and client else "unnamed"), client_version


async def websocket_handler(request: web.Request) -> web.WebSocketResponse:
    """GET the websocket: `server_info`, auth (token and version), then commands and events."""
    service: Service = request.app["service"]
    # aiohttp's own limit is set higher than ours so an oversized message gets a clear
    # error result instead of a bare close. The heartbeat ends half-open sessions.
    ws = _WebSocket(
        max_msg_size=MAX_MESSAGE_BYTES * 16, heartbeat=service.connections.limits.heartbeat
    )
    await ws.prepare(request)
    service.connections.awaiting_auth(request.transport)
    service.websockets.add(ws)
    try:
        return await _serve(service, ws, request)
    except ConnectionError:
        return ws  # the client is gone (reset, or dropped by the guard): nothing to answer
    finally:
        service.websockets.discard(ws)
        transport = request.transport
        if transport is not None and transport.get_write_buffer_size():
            # Closed with data the client never took (no pong, not reading): a close would
            # wait for it to drain forever and keep the socket; drop it instead.
            transport.abort()


async def _serve(
    service: Service, ws: web.WebSocketResponse, request: web.Request
) -> web.WebSocketResponse:
    peer = request.remote or "?"
    await ws.send_json(server_info(service))
    client = await _authenticate(service, ws, ingress=ingress_user(request) is not None)
    if not isinstance(client, tuple):
        if client["code"] == ErrorCode.INVALID_AUTH:
            service.connections.auth_failed(peer)  # rate-limited: the peer chooses how often
        else:  # a token holder with a version this server cannot serve
            _LOGGER.warning("Refused websocket client %s: %s", peer, client["message"])
        await ws.send_json({"type": MessageType.AUTH_INVALID, "error": client})
        await ws.close()
        return ws
    service.connections.trust(request.transport)
    await ws.send_json({"type": MessageType.AUTH_OK})
    _LOGGER.debug("Client %s connected", peer)

    session = Session(service, ws, request, *client)
    writer = asyncio.create_task(session.writer())
    try:
        async for msg in ws:
            await session.wait_for_room()
            if session.dropped:
                break  # what it sent after falling behind gets no work done
            if msg.type is WSMsgType.TEXT:
                await _handle_text(session, msg.data)
            elif msg.type is WSMsgType.BINARY:
                session.send(
                    result_error(
                        NO_MESSAGE_ID, ErrorCode.INVALID_FORMAT, "binary frames are not used"
                    )
                )
    finally:
        service.bus.unsubscribe(session.on_event)
        writer.cancel()
        with contextlib.suppress(asyncio.CancelledError, ConnectionError):
            await writer
        _LOGGER.debug("Client %s disconnected", peer)
    return ws


async def _handle_text(session: Session, text: str) -> None:
    if len(text.encode()) > MAX_MESSAGE_BYTES:
        session.send(
            result_error(
                NO_MESSAGE_ID,
                ErrorCode.MESSAGE_TOO_LARGE,
                f"messages are limited to {MAX_MESSAGE_BYTES} bytes",
            )
        )
        return
    message_id = NO_MESSAGE_ID
    name = "?"  # what is logged: never the client's text, which may hold anything
    try:
        raw = decode_message(text)
        message_id = message_id_of(raw)
        command = parse_command(raw)
        handler = COMMANDS.get(command["command"])
        if handler is None:
            raise ProtocolError(
                ErrorCode.UNKNOWN_COMMAND, f"unknown command {command['command']!r}"
            )
        name = command["command"]
        result = await handler(session, command.get("args", {}))
    except ProtocolError as err:
        session.send(result_error(message_id, err.code, err.message))
        return
    except Exception as err:
        _LOGGER.error("Command %s failed: %s", name, describe(err))
        session.send(result_error(message_id, ErrorCode.INTERNAL_ERROR, "the command failed"))
        return
    if isinstance(result, Deferred):
        # subscribe: the result must precede the replayed events in the outbox.
        session.send(result_ok(message_id, result.result))
        result.after()
    else:
        session.send(result_ok(message_id, result))
