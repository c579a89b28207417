"""Every audited command names the user it is sent for (`user`, protocol 1.2): the real
add-on on a socket, its audit log read back."""

from __future__ import annotations

from collections.abc import AsyncIterator
import json
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from porchlight_edge.protocol import (
    AUDITED_COMMANDS,
    MAX_USER_CHARS,
    USER_ARG,
    Command,
    ErrorCode,
)
from porchlight_edge.service import Service
from tests.helpers.footage import FOREIGN_CLIP_ID as CLIP_ID, write_foreign_clip
from tests.helpers.service import (
    connect_ws,
    demo_cameras,
    loopback_options,
    running_service,
    url,
)

TOKEN = "audit-users-test-token-0123"
USER = "Ada Lovelace"


@pytest.fixture
async def service(tmp_path: Path) -> AsyncIterator[Service]:
    write_foreign_clip(tmp_path / "media" / "clips" / f"{CLIP_ID}.mp4", "front_door")
    raw = loopback_options(
        TOKEN, demo_cameras(64, 64, "front_door"), media_dir=str(tmp_path / "media")
    )
    async with running_service(raw, tmp_path / "data") as svc:
        yield svc


class Wire:
    """One authenticated websocket: numbered commands, their results."""

    def __init__(self, ws: Any) -> None:
        self.ws = ws
        self.next_id = 0

    async def send(self, command: str, **args: Any) -> dict[str, Any]:
        self.next_id += 1
        message = {"message_id": self.next_id, "command": command, "args": args}
        await self.ws.send_str(json.dumps(message))
        reply: dict[str, Any] = await self.ws.receive_json(timeout=15)
        assert reply["type"] == "result", reply
        assert reply["message_id"] == self.next_id, reply
        return reply

    async def ok(self, command: str, **args: Any) -> Any:
        reply = await self.send(command, **args)
        assert reply["success"], reply
        return reply["result"]


@pytest.fixture
async def wire(service: Service, session: aiohttp.ClientSession) -> AsyncIterator[Wire]:
    ws, _ = await connect_ws(session, service, TOKEN, client="pytest")
    yield Wire(ws)
    await ws.close()


async def test_every_change_names_the_user_it_was_made_for(service: Service, wire: Wire) -> None:
    camera = {"camera": "front_door", USER_ARG: USER}
    await wire.ok(Command.RING, **camera)
    await wire.ok(Command.SET_MOTION_SETTINGS, threshold=40, **camera)
    await wire.ok(Command.SET_RECORDING_SETTINGS, enabled=True, post_roll=2, **camera)
    snapshot = await wire.ok(Command.TAKE_SNAPSHOT, **camera)
    clip = await wire.ok(Command.RECORD_CLIP, seconds=1, **camera)
    await wire.ok(Command.SET_PRIVACY_MODE, enabled=True, **camera)
    await wire.ok(Command.SET_PRIVACY_MODE, enabled=False, **camera)
    await wire.ok(Command.PROTECT_CLIP, clip_id=CLIP_ID, protected=True, user=USER)
    await wire.ok(Command.PROTECT_CLIP, clip_id=CLIP_ID, protected=False, user=USER)
    await wire.ok(Command.DELETE_CLIPS, clip_ids=[CLIP_ID], user=USER)
    await wire.ok(Command.ROTATE_STREAM_CREDENTIAL, user=USER)

    entries = service.audit.query(limit=100).items[::-1]
    assert [(e.action, e.target) for e in entries] == [
        ("ring", None),
        ("motion_settings", None),
        ("recording_settings", None),
        ("take_snapshot", snapshot["event_id"]),
        ("record_clip", clip["clip_id"]),
        ("privacy_mode", None),
        ("privacy_mode", None),
        ("clip_protect", CLIP_ID),
        ("clip_protect", CLIP_ID),
        ("clip_delete", CLIP_ID),
        ("stream_credential", None),
    ]
    assert all((e.detail or {}).get("user") == USER for e in entries), entries
    assert all(e.client_id == "pytest" for e in entries)
    # The detail of a change still holds what changed, next to who changed it.
    assert entries[1].detail == {"threshold": 40, "user": USER}
    assert entries[2].detail == {"enabled": True, "post_roll": 2, "user": USER}
    assert entries[6].detail == {"enabled": False, "user": USER}


async def test_without_a_user_the_entry_names_nobody(service: Service, wire: Wire) -> None:
    await wire.ok(Command.RING, camera="front_door", user=None)
    await wire.ok(Command.SET_AUDIO, camera="front_door", enabled=True)
    entries = service.audit.query(limit=10).items
    assert [(e.action, e.detail) for e in entries] == [
        ("audio", {"enabled": True}),
        ("ring", None),
    ]


async def test_a_bad_user_is_refused_before_anything_runs(service: Service, wire: Wire) -> None:
    bad_users = ["", "x" * (MAX_USER_CHARS + 1), "Ada\nLovelace", 7, ["Ada"], {"name": USER}]
    for command in sorted(AUDITED_COMMANDS):
        for user in bad_users:
            reply = await wire.send(command, user=user)
            assert reply["error"]["code"] == ErrorCode.INVALID_ARGS, (command, reply)
            assert reply["error"]["message"].startswith("'user': must be printable"), reply
    assert service.audit.query(limit=10).items == []


@pytest.mark.parametrize("command", [Command.PING, Command.LIST_CLIPS, Command.GET_STATE])
async def test_commands_that_are_not_audited_refuse_a_user(wire: Wire, command: Command) -> None:
    reply = await wire.send(command, user=USER)
    assert reply["error"]["code"] == ErrorCode.INVALID_ARGS, reply
    assert reply["error"]["message"] == "'user': unknown argument"


async def test_older_clients_get_no_entries_of_actions_they_do_not_know(
    service: Service, session: aiohttp.ClientSession, wire: Wire
) -> None:
    await wire.ok(Command.RING, camera="front_door", user=USER)
    await wire.ok(Command.SET_PRIVACY_MODE, camera="front_door", enabled=True, user=USER)
    current = await wire.ok(Command.GET_AUDIT_LOG)  # connect_ws announces this version
    ws = await session.ws_connect(url(service, "/api/websocket"))
    await ws.receive_json(timeout=10)
    await ws.send_json({"type": "auth", "token": TOKEN, "client": "pytest"})  # no version: 1.0
    assert (await ws.receive_json(timeout=10))["type"] == "auth_ok"
    older = await Wire(ws).ok(Command.GET_AUDIT_LOG)
    await ws.close()
    assert [e["action"] for e in older["entries"]] == ["privacy_mode"]
    assert [e["action"] for e in current["entries"]] == ["privacy_mode", "ring"]
