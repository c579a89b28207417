"""The client against a scripted server that breaks the protocol in specific ways.

The fake add-on is well behaved; these cases need a server that misbehaves on purpose
(wrong handshake, malformed events, duplicate results, hung HTTP), still over real sockets.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Awaitable, Callable
import contextlib
import json
import logging
from typing import Any
from unittest.mock import patch

import aiohttp
from aiohttp import WSMsgType, web
import pytest

from custom_components.porchlight.pyporchlight.client import PorchlightClient
from custom_components.porchlight.pyporchlight.exceptions import (
    PorchlightCommandError,
    PorchlightConnectionError,
)
from custom_components.porchlight.pyporchlight.protocol import (
    MAX_MESSAGE_ID,
    NO_MESSAGE_ID,
    PROTOCOL_VERSION,
    ErrorCode,
    EventMessage,
    ProtocolError,
    ServerState,
    clip_path,
    decode_message,
    message_id_of,
    parse_command,
    parse_event,
)
from tests.helpers.loopback_http import start_on_loopback

from .conftest import wait_for
from .fake_addon import FakeAddon

ANY_CLIP = "00000000-0000-4000-8000-000000000000"

type Script = Callable[[web.WebSocketResponse], Awaitable[None]]

HELLO = {
    "type": "server_info",
    "protocol_version": PROTOCOL_VERSION,
    "server_version": "0.1.0",
    "instance_id": "scripted",
    "boot_id": "b1",
    "name": "Scripted",
}
STATE = {"instance_id": "scripted", "boot_id": "b1", "seq": 0, "cameras": []}


class ScriptedServer:
    """A websocket (and a hanging HTTP) endpoint that runs the test's script."""

    def __init__(self) -> None:
        self.script: Script | None = None
        self.port = 0
        self._runner: web.AppRunner | None = None
        self._handlers: set[asyncio.Task[Any]] = set()

    def _track(self) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._handlers.add(task)
        task.add_done_callback(self._handlers.discard)

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/api/websocket", self._ws)
        app.router.add_get("/api/cameras/{camera}/snapshot.jpg", self._hang)
        app.router.add_get("/api/cameras/{camera}/stream.mjpeg", self._hang)
        app.router.add_get("/api/clips/{clip_id}.mp4", self._hang)
        self._runner, self.port = await start_on_loopback(app, shutdown_timeout=0.1)

    async def stop(self) -> None:
        assert self._runner is not None
        # Hung handlers would outlive the test: end them first.
        for task in tuple(self._handlers):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self._runner.cleanup()

    async def _ws(self, request: web.Request) -> web.WebSocketResponse:
        self._track()
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        assert self.script is not None
        with contextlib.suppress(ConnectionError):
            await self.script(ws)
        await ws.close()
        return ws

    async def _hang(self, request: web.Request) -> web.Response:
        self._track()
        await asyncio.sleep(5)
        return web.Response(body=b"late")


@pytest.fixture
async def server(socket_enabled: None) -> AsyncGenerator[ScriptedServer]:
    scripted = ScriptedServer()
    await scripted.start()
    yield scripted
    await scripted.stop()


@pytest.fixture
async def session() -> AsyncGenerator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


def client_for(session: aiohttp.ClientSession, port: int, timeout: float = 2.0) -> PorchlightClient:
    return PorchlightClient(
        session, "127.0.0.1", port, "t", request_timeout=timeout, backoff_min=0.01, backoff_max=0.02
    )


async def authed(ws: web.WebSocketResponse) -> None:
    await ws.send_json(HELLO)
    await ws.receive_json()
    await ws.send_json({"type": "auth_ok"})


async def answer_commands(
    ws: web.WebSocketResponse, extra: Callable[[dict[str, Any]], list[Any]]
) -> None:
    """Answer get_state/subscribe/ping; `extra` adds raw frames after each answer."""
    async for msg in ws:
        if msg.type is not WSMsgType.TEXT:
            continue
        command = json.loads(msg.data)
        result: Any = {"pong": True}
        if command["command"] == "get_state":
            result = STATE
        elif command["command"] == "subscribe":
            result = {"boot_id": "b1", "seq": 0, "replayed": 0, "gap": False}
        await ws.send_json(
            {
                "type": "result",
                "message_id": command["message_id"],
                "success": True,
                "result": result,
            }
        )
        for frame in extra(command):
            await (ws.send_str(frame) if isinstance(frame, str) else ws.send_json(frame))


@pytest.mark.parametrize(
    ("script_messages", "match"),
    [
        ([{"type": "hello"}], "expected server_info"),
        ([{**HELLO, "instance_id": None}], "server_info has no instance_id"),
        ([HELLO, {"type": "welcome"}], "expected auth_ok"),
        (["not json"], "invalid JSON"),
        (["[1, 2]"], "non-object message"),
        ([], "connection closed during handshake"),
    ],
)
async def test_broken_handshakes(
    session: aiohttp.ClientSession, server: ScriptedServer, script_messages: list[Any], match: str
) -> None:
    async def script(ws: web.WebSocketResponse) -> None:
        for message in script_messages:
            await (ws.send_str(message) if isinstance(message, str) else ws.send_json(message))
            if message is HELLO:
                await ws.receive_json()

    server.script = script
    client = client_for(session, server.port)
    with pytest.raises(PorchlightConnectionError, match=match):
        await client.connect()
    assert not client.connected


async def test_silent_server_times_out(
    session: aiohttp.ClientSession, server: ScriptedServer
) -> None:
    async def script(ws: web.WebSocketResponse) -> None:
        await asyncio.sleep(2)

    server.script = script
    with pytest.raises(PorchlightConnectionError, match="timed out connecting"):
        await client_for(session, server.port, timeout=0.2).connect()


async def test_garbage_and_malformed_events_are_ignored(
    session: aiohttp.ClientSession, server: ScriptedServer, caplog: pytest.LogCaptureFixture
) -> None:
    good = {
        "type": "event",
        "event": "ring",
        "boot_id": "b1",
        "seq": 1,
        "time": 1.0,
        "camera": "c",
        "data": {},
    }

    def extra(command: dict[str, Any]) -> list[Any]:
        if command["command"] != "subscribe":
            return []
        return [
            "not json",
            "[1]",
            {"type": "event", "event": "ring"},  # missing fields
            {**good, "time": "yesterday"},
            {"type": "something_new"},  # unknown types are ignored
            {"type": "result", "message_id": 999, "success": True},  # nothing pending
            good,
            good,  # a duplicate: delivered once
            {**good, "seq": 2},
        ]

    async def script(ws: web.WebSocketResponse) -> None:
        await authed(ws)
        await answer_commands(ws, extra)

    server.script = script
    client = client_for(session, server.port)
    events: list[EventMessage] = []
    states: list[ServerState] = []

    def on_event(event: EventMessage) -> None:
        events.append(event)
        if event["seq"] == 2:
            raise RuntimeError("a faulty listener")  # must not take the connection down

    with caplog.at_level(logging.DEBUG, logger="custom_components.porchlight.pyporchlight"):
        client.start(on_event=on_event, on_state=states.append, on_connection=lambda _: None)
        await wait_for(lambda: len(events) == 2)
        await client.ping()  # still connected and answering
    assert [e["seq"] for e in events] == [1, 2]
    assert "Ignoring a message that is not JSON" in caplog.text
    assert "Ignoring a malformed event" in caplog.text
    assert "Result for no pending command" in caplog.text
    assert "Dropping duplicate event" in caplog.text
    assert "Error handling event ring" in caplog.text
    await client.stop()


async def test_duplicate_result_is_ignored(
    session: aiohttp.ClientSession, server: ScriptedServer
) -> None:
    def extra(command: dict[str, Any]) -> list[Any]:
        # The same result again, in the same burst: the future is already resolved.
        return [{"type": "result", "message_id": command["message_id"], "success": False}]

    async def script(ws: web.WebSocketResponse) -> None:
        await authed(ws)
        await answer_commands(ws, extra)

    server.script = script
    client = client_for(session, server.port)
    await client.connect()
    assert (await client.subscribe())["replayed"] == 0  # subscribe without `since`
    await client.ping()
    await client.disconnect()


async def test_websocket_protocol_error_drops_connection(
    session: aiohttp.ClientSession, server: ScriptedServer
) -> None:
    async def script(ws: web.WebSocketResponse) -> None:
        await authed(ws)
        await ws.receive()
        # A frame with a reserved opcode: the client's websocket reader reports an ERROR.
        assert ws._writer is not None
        ws._writer.transport.write(b"\x83\x00")
        await asyncio.sleep(1)

    server.script = script
    client = client_for(session, server.port)
    await client.connect()
    with pytest.raises(PorchlightConnectionError):
        await client.ping()
    await wait_for(lambda: not client.connected)


async def test_unexpected_error_in_resync_is_retried(
    session: aiohttp.ClientSession, server: ScriptedServer, caplog: pytest.LogCaptureFixture
) -> None:
    async def script(ws: web.WebSocketResponse) -> None:
        await authed(ws)
        await answer_commands(ws, lambda _: [])

    server.script = script
    client = client_for(session, server.port)
    states: list[ServerState] = []
    connection: list[bool] = []

    def on_state(state: ServerState) -> None:
        states.append(state)
        if len(states) == 1:
            raise KeyError("a bug")

    client.start(on_event=lambda _: None, on_state=on_state, on_connection=connection.append)
    await wait_for(lambda: connection == [False, True])
    assert "Unexpected error in the Porchlight connection" in caplog.text
    await client.stop()


async def test_send_failure_is_a_connection_error(
    session: aiohttp.ClientSession, fake_addon: FakeAddon
) -> None:
    client = PorchlightClient(session, "127.0.0.1", fake_addon.port, fake_addon.token)
    await client.connect()
    assert client.transport is not None
    # The transport died between the connected check and the write.
    with (
        patch.object(client.transport.ws, "send_json", side_effect=ConnectionResetError("reset")),
        pytest.raises(PorchlightConnectionError, match="sending 'ping' failed"),
    ):
        await client.ping()
    await client.disconnect()


async def test_http_timeouts_and_refusals(
    session: aiohttp.ClientSession, server: ScriptedServer, fake_addon: FakeAddon
) -> None:
    hung = client_for(session, server.port, timeout=0.2)
    with pytest.raises(PorchlightConnectionError, match="timed out"):
        await hung.snapshot("front_door")
    with pytest.raises(PorchlightConnectionError, match="timed out"):
        await hung.open_mjpeg("front_door")
    with pytest.raises(PorchlightConnectionError, match="timed out"):
        await hung.open_clip(ANY_CLIP)

    port = fake_addon.port
    await fake_addon.stop()
    gone = client_for(session, port)
    with pytest.raises(PorchlightConnectionError, match="failed"):
        await gone.snapshot("front_door")
    with pytest.raises(PorchlightConnectionError, match="failed"):
        await gone.open_mjpeg("front_door")
    with pytest.raises(PorchlightConnectionError, match="failed"):
        await gone.open_clip(ANY_CLIP)


async def test_mjpeg_of_unknown_camera(
    session: aiohttp.ClientSession, fake_addon: FakeAddon
) -> None:
    client = PorchlightClient(session, "127.0.0.1", fake_addon.port, fake_addon.token)
    with pytest.raises(PorchlightCommandError) as raised:
        await client.open_mjpeg("garage")
    assert raised.value.code == ErrorCode.NOT_FOUND


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ([], "JSON object"),
        ({"message_id": True, "command": "ping"}, "message_id must be an integer 0-"),
        ({"message_id": MAX_MESSAGE_ID + 1, "command": "ping"}, "message_id must be an integer"),
        ({"message_id": 1, "command": 5}, "command must be a string"),
        ({"message_id": 1, "command": "ping", "args": []}, "args must be"),
    ],
)
def test_protocol_rejects_malformed_commands(raw: object, reason: str) -> None:
    with pytest.raises(ProtocolError, match=reason) as raised:
        parse_command(raw)
    assert raised.value.code == ErrorCode.INVALID_FORMAT


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ({"message_id": 7}, 7),
        ({"message_id": MAX_MESSAGE_ID}, MAX_MESSAGE_ID),
        ({"message_id": MAX_MESSAGE_ID + 1}, NO_MESSAGE_ID),
        ({"message_id": True}, NO_MESSAGE_ID),
        ({"message_id": -3}, NO_MESSAGE_ID),
        ({"message_id": 1.0}, NO_MESSAGE_ID),
        ({"message_id": "7"}, NO_MESSAGE_ID),
        ([7], NO_MESSAGE_ID),
    ],
)
def test_only_usable_message_ids_are_answered_with(raw: object, expected: int) -> None:
    assert message_id_of(raw) == expected


def test_decode_message_turns_any_undecodable_text_into_invalid_format() -> None:
    assert decode_message('{"a": [1]}') == {"a": [1]}
    for text in ("{", "[" * 100_000, ""):
        with pytest.raises(ProtocolError) as raised:
            decode_message(text)
        assert raised.value.code == ErrorCode.INVALID_FORMAT


def test_clip_path_matches_the_documented_endpoint() -> None:
    assert clip_path("0b5e") == "/api/clips/0b5e.mp4"


def test_protocol_rejects_non_events() -> None:
    with pytest.raises(ProtocolError, match="not an event message"):
        parse_event([])
