"""A websocket session of the add-on's API driven by hand: connect with a token, then one
command at a time by its message id (events in between are skipped)."""

from __future__ import annotations

from typing import Any

import aiohttp

from porchlight_edge.service import Service
from tests.helpers.service import connect_ws

TOKEN = "test-token-0123456789"


async def connect(
    session: aiohttp.ClientSession, service: Service, token: str = TOKEN
) -> tuple[aiohttp.ClientWebSocketResponse, dict[str, Any]]:
    """The signed-in websocket and the server_info message the service sent first."""
    return await connect_ws(session, service, token)


async def call(
    ws: aiohttp.ClientWebSocketResponse, message_id: int, command: str, **args: Any
) -> Any:
    """The result message of `command` sent as `message_id` (5 s for each message read)."""
    await ws.send_json({"message_id": message_id, "command": command, "args": args})
    while True:
        msg = await ws.receive_json(timeout=5)
        if msg.get("type") == "result" and msg["message_id"] == message_id:
            return msg
