"""A client without the token cannot make the add-on hold much of what it sends: a
websocket that has not authenticated is dropped once it sends more than an auth message
could need, instead of having up to aiohttp's message limit (16 x MAX_MESSAGE_BYTES)
buffered per connection, hundreds of connections at once; nor fill the log, however often it
is refused. Real service, real socket."""

from __future__ import annotations

import asyncio
import base64
import logging
import os
import struct

import aiohttp
import pytest

from porchlight_edge.api.connections import ConnectionLimits
from porchlight_edge.protocol import MAX_MESSAGE_BYTES
from tests.helpers.limited_service import Starter, open_socket, start
from tests.helpers.waiting import wait_until

__all__ = ["start"]  # the fixture

DECLARED = 16 * MAX_MESSAGE_BYTES - 1
"""A text frame just under aiohttp's limit for this server's messages."""
FLOOD = 30
"""Wrong-token sessions in a row, well within one rate-limit interval."""


async def test_an_unauthenticated_websocket_cannot_buffer_a_large_message(
    start: Starter, caplog: pytest.LogCaptureFixture
) -> None:
    service = await start(limits=ConnectionLimits())
    loop = asyncio.get_running_loop()
    sock = await open_socket(service)
    try:
        key = base64.b64encode(os.urandom(16)).decode()
        upgrade = (
            "GET /api/websocket HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
            "Sec-WebSocket-Version: 13\r\n\r\n"
        )
        await loop.sock_sendall(sock, upgrade.encode())
        # A masked text frame (mask 0), all of it but its last byte: never a whole message.
        head = bytes([0x81, 0x80 | 127]) + struct.pack(">Q", DECLARED) + bytes(4)
        received = b""
        try:
            async with asyncio.timeout(60):
                sending = loop.sock_sendall(sock, head + b"a" * (DECLARED - 1))
                await asyncio.gather(sending, return_exceptions=True)
                while chunk := await loop.sock_recv(sock, 65536):
                    received += chunk
        except ConnectionError:
            pass
        # Dropped for what it sent, not answered after the auth timeout as if it were small.
        assert b"auth_invalid" not in received, received[-200:]
        assert b"server_info" in received
        await wait_until(lambda: service.connections.pending == 0, 10, "the connection freed")
        # A client that is gone is no error of the add-on's.
        assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    finally:
        sock.close()


async def test_a_flood_of_wrong_tokens_is_logged_once(
    start: Starter, caplog: pytest.LogCaptureFixture
) -> None:
    service = await start(limits=ConnectionLimits())
    url = f"http://127.0.0.1:{service.port}/api/websocket"
    caplog.set_level(logging.INFO)
    async with aiohttp.ClientSession() as session:
        for _ in range(FLOOD):
            async with session.ws_connect(url) as ws:
                await ws.receive_json()
                await ws.send_json({"type": "auth", "token": "wrong-token-0123456789"})
                assert (await ws.receive_json())["type"] == "auth_invalid"
    lines = [r for r in caplog.records if "Rejected websocket client" in r.getMessage()]
    assert 1 <= len(lines) <= 2, len(lines)
