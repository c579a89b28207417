"""A protocol 1.0 add-on played back from its recording (tests/fixtures/protocol_v1).

Serves on a real socket exactly what the 1.0 add-on sent: its `server_info` (no
minor, no minimum), `auth_ok`, the recorded result of each command (looked up by
command name, the `message_id` swapped for the caller's) and, after `subscribe`,
the recorded events in `seq` order (`play`). The new client must get along with it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from aiohttp import WSMsgType, web

from custom_components.porchlight.pyporchlight.protocol import WS_PATH, MessageType

FIXTURES = Path(__file__).parent.parent / "fixtures" / "protocol_v1"


def recorded(name: str) -> Any:
    """One recorded fixture (`server_info`, `auth`, `auth_ok`, `results`, `events`)."""
    return json.loads((FIXTURES / f"{name}.json").read_text())


class RecordedAddon:
    """The 1.0 add-on's recording behind a websocket on 127.0.0.1."""

    def __init__(self) -> None:
        self.token: str = recorded("auth")["token"]
        self.server_info: dict[str, Any] = recorded("server_info")
        self.replies: dict[str, dict[str, Any]] = {}
        for step in recorded("results"):
            self.replies.setdefault(step["command"], step["reply"])
        self.events: list[dict[str, Any]] = sorted(
            recorded("events").values(), key=lambda event: event["seq"]
        )
        self.auth_seen: list[dict[str, Any]] = []
        self.subscribers: list[web.WebSocketResponse] = []
        self._runner: web.AppRunner | None = None
        self.port = 0

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get(WS_PATH, self._websocket)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = self._runner.addresses[0][1]

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _websocket(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        await ws.send_json(self.server_info)
        auth = await ws.receive_json(timeout=10)
        self.auth_seen.append(auth)
        if auth.get("token") != self.token:
            await ws.close()
            return ws
        await ws.send_json(recorded("auth_ok"))
        async for msg in ws:
            if msg.type is not WSMsgType.TEXT:
                break
            command = json.loads(msg.data)
            reply = self.replies.get(command["command"], self.replies["no_such_command"])
            await ws.send_json({**reply, "message_id": command["message_id"]})
            if command["command"] == "subscribe":
                self.subscribers.append(ws)
        if ws in self.subscribers:
            self.subscribers.remove(ws)
        return ws

    async def play(self) -> None:
        """Send the recorded events, in order, to every subscribed client."""
        for ws in tuple(self.subscribers):
            for event in self.events:
                assert event["type"] == MessageType.EVENT
                await ws.send_json(event)
