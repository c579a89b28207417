"""A released add-on played back from its recording: protocol 1.0
(tests/fixtures/protocol_v1) or 1.1 (tests/fixtures/protocol_1_1, add-on 0.2.0).

Serves on a real socket exactly what that add-on sent: its `server_info`, `auth_ok`,
the recorded result of each command (looked up by command name, the `message_id`
swapped for the caller's; a command it never answered gets its `unknown_command`) and,
after `subscribe`, the recorded events in `seq` order (`play`). Every command received
is kept (`commands`). The new client must get along with it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from aiohttp import WSMsgType, web

from custom_components.porchlight.pyporchlight.protocol import WS_PATH, MessageType

FIXTURES = Path(__file__).parent.parent / "fixtures"
RECORDINGS: dict[str, Path] = {
    "1.0": FIXTURES / "protocol_v1",
    "1.1": FIXTURES / "protocol_1_1",
}
"""Each released add-on's recording, by its protocol version."""


def recorded(name: str, version: str = "1.0") -> Any:
    """One recorded fixture (`server_info`, `auth`, `auth_ok`, `results`, `events`)."""
    return json.loads((RECORDINGS[version] / f"{name}.json").read_text())


class RecordedAddon:
    """A released add-on's recording behind a websocket on 127.0.0.1."""

    def __init__(self, version: str = "1.0") -> None:
        self.version = version
        self.token: str = recorded("auth", version)["token"]
        self.server_info: dict[str, Any] = recorded("server_info", version)
        self.steps: list[dict[str, Any]] = recorded("results", version)
        self.replies: dict[str, dict[str, Any]] = {}
        for step in self.steps:
            self.replies.setdefault(step["command"], step["reply"])
        self.events: list[dict[str, Any]] = sorted(
            recorded("events", version).values(), key=lambda event: event["seq"]
        )
        self.auth_seen: list[dict[str, Any]] = []
        self.commands: list[dict[str, Any]] = []
        """Every command received (`command`, `args`), in order."""
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
        await ws.send_json(recorded("auth_ok", self.version))
        async for msg in ws:
            if msg.type is not WSMsgType.TEXT:
                break
            command = json.loads(msg.data)
            self.commands.append(command)
            reply = self.replies.get(command["command"], self.replies["no_such_command"])
            await ws.send_json({**reply, "message_id": command["message_id"]})
            if command["command"] == "subscribe":
                self.subscribers.append(ws)
        if ws in self.subscribers:
            self.subscribers.remove(ws)
        return ws

    def answer_last(self, command: str) -> None:
        """Answer `command` with its last recording from now on (the state after privacy
        mode was switched on is the last `get_state`)."""
        self.replies[command] = [s for s in self.steps if s["command"] == command][-1]["reply"]

    async def play(self) -> None:
        """Send the recorded events, in order, to every subscribed client."""
        for ws in tuple(self.subscribers):
            for event in self.events:
                assert event["type"] == MessageType.EVENT
                await ws.send_json(event)
