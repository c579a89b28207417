"""One authenticated websocket to the add-on: handshake, commands by `message_id`, events.

The transport knows the message framing of docs/protocol.md and nothing of sessions:
resuming the event feed, resyncing and reconnecting live in `client` and `reconnect`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
import contextlib
import itertools
import json
import logging
from typing import Any, cast

import aiohttp

from .exceptions import (
    PorchlightAuthError,
    PorchlightCommandError,
    PorchlightConnectionError,
    PorchlightUnsupportedVersion,
)
from .protocol import (
    CURRENT_VERSION,
    MIN_SUPPORTED_VERSION,
    AuthMessage,
    CommandMessage,
    ErrorCode,
    ErrorInfo,
    EventMessage,
    MessageType,
    Peer,
    ProtocolError,
    ServerInfo,
    outdated_peer,
    parse_event,
    peer_version,
    version_info,
)

_LOGGER = logging.getLogger(__name__)

type EventHandler = Callable[[EventMessage], None]


class Transport:
    """The websocket of one connection; a new `Transport` for every reconnect.

    Args:
        ws: An open websocket to the add-on's `WS_PATH`, not yet authenticated.
        on_event: Called with every well-formed event, in order, on the event loop.
    """

    def __init__(self, ws: aiohttp.ClientWebSocketResponse, on_event: EventHandler) -> None:
        self.ws = ws
        self._on_event = on_event
        self._pending: dict[int, asyncio.Future[Any]] = {}
        self._ids = itertools.count(1)
        self._reader: asyncio.Task[None] | None = None

    @classmethod
    async def open(
        cls,
        session: aiohttp.ClientSession,
        url: str,
        token: str,
        client_name: str,
        on_event: EventHandler,
        within: float,
    ) -> tuple[Transport, ServerInfo]:
        """Connect, check the protocol version and authenticate.

        Args:
            session: The aiohttp session to connect with.
            url: The websocket URL (`ws://` or `http://` host, port and `WS_PATH`).
            token: The add-on's access token.
            client_name: Who connects, for the add-on's log (`AuthMessage.client`).
            on_event: See the class.
            within: Seconds for connecting and the whole handshake.

        Returns:
            The authenticated transport (reading in the background) and the add-on's
            `server_info`.

        Raises:
            PorchlightConnectionError: unreachable, timed out, or not the protocol.
            PorchlightUnsupportedVersion: the add-on speaks another protocol version.
            PorchlightAuthError: the add-on rejected the token.
        """
        try:
            async with asyncio.timeout(within):
                # No aiohttp heartbeat: the client pings at the protocol level instead,
                # which also proves the add-on's command loop is alive (and aiohttp 3.14
                # can re-arm its heartbeat timer after close).
                ws = await session.ws_connect(url)
                try:
                    info = await _handshake(ws, token, client_name)
                except BaseException:
                    await ws.close()
                    raise
        except TimeoutError as err:
            raise PorchlightConnectionError(
                f"timed out connecting to {url} after {within} s"
            ) from err
        except aiohttp.ClientError as err:
            raise PorchlightConnectionError(f"cannot connect to {url}: {err}") from err
        transport = cls(ws, on_event)
        transport._reader = asyncio.create_task(
            transport._read_loop(), name="porchlight websocket reader"
        )
        return transport, info

    @property
    def connected(self) -> bool:
        """Whether the websocket is open."""
        return not self.ws.closed

    @property
    def reader(self) -> asyncio.Task[None] | None:
        """The task reading the websocket; done once the connection is gone."""
        return self._reader

    async def close(self) -> None:
        """Close the websocket and fail every command still waiting for an answer."""
        await self.ws.close()
        reader, self._reader = self._reader, None
        if reader is not None and reader is not asyncio.current_task():
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reader
        self._fail_pending("disconnected")

    async def request(self, command: str, args: dict[str, Any], within: float) -> Any:
        """Send a command and wait for its result.

        Args:
            command: A `Command` value.
            args: The command's arguments (left out of the message when empty).
            within: Seconds to wait for the answer.

        Returns:
            The result's `result` (shape per command, docs/protocol.md).

        Raises:
            PorchlightConnectionError: not connected, sending failed, no answer in time,
                or the connection dropped while waiting.
            PorchlightCommandError: the add-on answered with an error.
        """
        if self.ws.closed:
            raise PorchlightConnectionError("not connected")
        message_id = next(self._ids)
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._pending[message_id] = future
        message: CommandMessage = {"message_id": message_id, "command": command}
        if args:
            message["args"] = args
        try:
            await self.ws.send_json(message)
            async with asyncio.timeout(within):
                return await future
        except TimeoutError as err:
            raise PorchlightConnectionError(
                f"no answer to {str(command)!r} within {within} s"
            ) from err
        except (aiohttp.ClientError, ConnectionError) as err:
            raise PorchlightConnectionError(f"sending {str(command)!r} failed: {err}") from err
        finally:
            self._pending.pop(message_id, None)

    def _fail_pending(self, reason: str) -> None:
        pending, self._pending = self._pending, {}
        for future in pending.values():
            if not future.done():
                future.set_exception(PorchlightConnectionError(reason))

    async def _read_loop(self) -> None:
        try:
            async for msg in self.ws:
                if msg.type is aiohttp.WSMsgType.TEXT:
                    self._dispatch(msg.data)
                elif msg.type is aiohttp.WSMsgType.ERROR:
                    _LOGGER.debug("Websocket error: %s", self.ws.exception())
                    break
        finally:
            self._fail_pending("connection lost")

    def _dispatch(self, raw: str) -> None:
        try:
            message = json.loads(raw)
        except ValueError:
            _LOGGER.warning("Ignoring a message that is not JSON: %.100s", raw)
            return
        if not isinstance(message, dict):
            return
        kind = message.get("type")
        if kind == MessageType.RESULT:
            self._resolve(message)
        elif kind == MessageType.EVENT:
            try:
                event = parse_event(message)
            except ProtocolError as err:
                _LOGGER.warning("Ignoring a malformed event: %s", err.message)
                return
            self._on_event(event)
        # Unknown message types are ignored: the protocol may grow within a version.

    def _resolve(self, message: dict[str, Any]) -> None:
        message_id = message.get("message_id")
        future = self._pending.get(message_id) if isinstance(message_id, int) else None
        if future is None:
            _LOGGER.warning("Result for no pending command: %.200s", message)
            return
        if future.done():
            return
        if message.get("success"):
            future.set_result(message.get("result"))
        else:
            error = message.get("error") or {}
            future.set_exception(
                PorchlightCommandError(
                    str(error.get("code", ErrorCode.INTERNAL_ERROR)), str(error.get("message", ""))
                )
            )


async def _handshake(
    ws: aiohttp.ClientWebSocketResponse, token: str, client_name: str
) -> ServerInfo:
    hello = await _receive_json(ws)
    if hello.get("type") != MessageType.SERVER_INFO:
        raise PorchlightConnectionError(f"expected server_info, got {hello.get('type')!r}")
    try:
        server_version, server_min = peer_version(hello)
    except ProtocolError as err:
        raise PorchlightConnectionError(f"server_info: {err.message}") from err
    outdated = outdated_peer((server_version, server_min), (CURRENT_VERSION, MIN_SUPPORTED_VERSION))
    if outdated is not None:
        raise PorchlightUnsupportedVersion(str(server_version), str(CURRENT_VERSION), outdated)
    for key in ("instance_id", "boot_id"):
        if not isinstance(hello.get(key), str):
            raise PorchlightConnectionError(f"server_info has no {key}")
    auth: AuthMessage = {
        "type": MessageType.AUTH,
        "token": token,
        "client": client_name,
        **version_info(),
    }
    await ws.send_json(auth)
    reply = await _receive_json(ws)
    if reply.get("type") == MessageType.AUTH_INVALID:
        error: ErrorInfo | dict[str, Any] = reply.get("error") or {}
        if error.get("code") == ErrorCode.UNSUPPORTED_VERSION:
            # The add-on refused this client's version (only a server that raised its
            # minimum after sending server_info would, or one that reads it differently).
            raise PorchlightUnsupportedVersion(
                str(server_version), str(CURRENT_VERSION), Peer.CLIENT
            )
        raise PorchlightAuthError(str(error.get("message", "invalid access token")))
    if reply.get("type") != MessageType.AUTH_OK:
        raise PorchlightConnectionError(f"expected auth_ok, got {reply.get('type')!r}")
    return cast(ServerInfo, hello)


async def _receive_json(ws: aiohttp.ClientWebSocketResponse) -> dict[str, Any]:
    msg = await ws.receive()
    if msg.type is not aiohttp.WSMsgType.TEXT:
        raise PorchlightConnectionError(f"connection closed during handshake ({msg.type.name})")
    try:
        data = json.loads(msg.data)
    except ValueError as err:
        raise PorchlightConnectionError("server sent invalid JSON") from err
    if not isinstance(data, dict):
        raise PorchlightConnectionError("server sent a non-object message")
    return data
