"""Record one protocol session of the real add-on as JSON fixtures.

Usage: PYTHONPATH=addon:. python scripts/record_protocol_fixtures.py OUT_DIR

Starts the add-on in-process (two demo cameras, a temporary data folder, loopback),
connects as the integration's client would, and writes what crossed the wire:
`server_info.json`, `auth.json` (the client's message), `auth_ok.json`,
`results.json` (command -> args and result message) and `events.json` (one
event of each type seen). Volatile values (ids, times) are kept: a fixture is a
recording, and replay tests only rely on shapes. Run it against a release to
freeze that release's protocol (tests/fixtures/protocol_v1 is protocol 1.0,
tests/fixtures/protocol_1_1 is 0.2.0's protocol 1.1).
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
import sys
import tempfile
from typing import TYPE_CHECKING, Any

import aiohttp

from tests.helpers.service import demo_cameras, loopback_options, running_service, url

if TYPE_CHECKING:
    from porchlight_edge.service import Service

TOKEN = "fixture-token-0123456789"

# (command, args) in the order a client sends them; later ones use earlier ids.
SCRIPT: list[tuple[str, dict[str, Any]]] = [
    ("ping", {}),
    ("get_state", {}),
    ("subscribe", {}),
    ("ring", {"camera": "front_door"}),
    ("set_motion_settings", {"camera": "front_door", "threshold": 30, "min_area": 2.0}),
    ("set_recording_settings", {"camera": "front_door", "pre_roll": 2.0, "post_roll": 2.0}),
    ("set_privacy_mode", {"camera": "garage", "enabled": False}),
    ("take_snapshot", {"camera": "front_door"}),
    ("record_clip", {"camera": "front_door", "seconds": 1}),
    ("list_events", {}),
    ("list_clips", {}),
    ("get_storage", {}),
    ("get_audit_log", {}),
    ("get_state", {"camera": "nonexistent"}),
    ("no_such_command", {}),
]
# Privacy mode last (the garage goes dark): its `camera_status` event and state are recorded.
PRIVACY_SCRIPT: list[tuple[str, dict[str, Any]]] = [
    ("set_privacy_mode", {"camera": "garage", "enabled": True}),
    ("get_state", {}),
]


async def record(out: Path) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        raw = loopback_options(TOKEN, demo_cameras(320, 180, "front_door", "garage"))
        async with running_service(raw, Path(tmp)) as service:
            await _session(service, out)


async def _session(service: Service, out: Path) -> None:
    events: dict[str, dict[str, Any]] = {}
    results: list[dict[str, Any]] = []
    async with aiohttp.ClientSession() as session:
        ws = await session.ws_connect(url(service, "/api/websocket"))
        server_info = await ws.receive_json(timeout=10)
        auth = {"type": "auth", "token": TOKEN, "client": "home-assistant"}
        await ws.send_json(auth)
        auth_ok = await ws.receive_json(timeout=10)

        async def call(message_id: int, command: str, args: dict[str, Any]) -> dict[str, Any]:
            await ws.send_json({"message_id": message_id, "command": command, "args": args})
            async with asyncio.timeout(30):
                while True:
                    msg: dict[str, Any] = await ws.receive_json()
                    if msg.get("type") == "event":
                        events.setdefault(msg["event"], msg)
                    elif msg.get("message_id") == message_id:
                        return msg

        for message_id, (command, args) in enumerate(SCRIPT, start=1):
            results.append(
                {"command": command, "args": args, "reply": await call(message_id, command, args)}
            )
        # Let the manual clip finish so clip_finished / snapshot_ready are recorded too.
        async with asyncio.timeout(30):
            while "clip_finished" not in events:
                msg = await ws.receive_json()
                if msg.get("type") == "event":
                    events.setdefault(msg["event"], msg)
        final = await call(len(SCRIPT) + 1, "list_clips", {})
        results.append({"command": "list_clips", "args": {}, "reply": final})
        for message_id, (command, args) in enumerate(PRIVACY_SCRIPT, start=len(SCRIPT) + 2):
            results.append(
                {"command": command, "args": args, "reply": await call(message_id, command, args)}
            )
        await ws.close()
    out.mkdir(parents=True, exist_ok=True)
    for name, value in (
        ("server_info", server_info),
        ("auth", {**auth, "token": TOKEN}),
        ("auth_ok", auth_ok),
        ("results", results),
        ("events", dict(sorted(events.items()))),
    ):
        (out / f"{name}.json").write_text(json.dumps(value, indent=2, sort_keys=True) + "\n")


if __name__ == "__main__":
    asyncio.run(record(Path(sys.argv[1])))
