"""Bad input against the real add-on on a socket: every command's args go through one
schema (invalid_args, never internal_error or a dropped connection), ids are never
echoed unchecked, and every HTTP error is the protocol's JSON body."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
import json
from pathlib import Path
import time
from typing import Any

import aiohttp
import pytest

from porchlight_edge.api.schemas import SCHEMAS
from porchlight_edge.config import parse_options
from porchlight_edge.protocol import NO_MESSAGE_ID, Command, ErrorCode
from porchlight_edge.service import Service
from tests.helpers.footage import FOREIGN_CLIP_ID as CLIP_ID, make_h264, write_foreign_clip
from tests.helpers.service import connect_ws, demo_cameras, loopback_options, running_service, url
from tests.helpers.waiting import wait_until

TOKEN = "hygiene-test-token-0123"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
async def service(tmp_path: Path) -> AsyncIterator[Service]:
    # A clip someone left in the media folder, whose metadata names a traversal "camera".
    write_foreign_clip(tmp_path / "media" / "clips" / f"{CLIP_ID}.mp4", "x/../../../escape")
    cameras = demo_cameras(64, 64, "front_door", "garage")
    raw = loopback_options(TOKEN, cameras, media_dir=str(tmp_path / "media"))
    async with running_service(raw, tmp_path / "data") as svc:
        yield svc


async def connect(session: aiohttp.ClientSession, service: Service) -> Any:
    ws, _ = await connect_ws(session, service, TOKEN, client="pytest")
    return ws


async def send(ws: Any, message: object) -> dict[str, Any]:
    """Send one message and return the next result (the session has no subscription)."""
    await ws.send_str(message if isinstance(message, str) else json.dumps(message))
    reply: dict[str, Any] = await ws.receive_json(timeout=5)
    assert reply["type"] == "result", reply
    return reply


async def still_up(ws: Any) -> None:
    reply = await send(ws, {"message_id": 99, "command": "ping"})
    assert reply["success"]
    assert reply["message_id"] == 99


BAD_ARGS: list[tuple[str, dict[str, Any]]] = [
    ("list_events", {"kind": []}),
    ("list_events", {"kind": {"a": 1}}),
    ("list_events", {"limit": True}),
    ("list_events", {"start": "yesterday"}),
    ("list_events", {"offset": 10**30}),
    ("list_events", {"end": 1e400}),
    ("list_events", {"camera": ["front_door"]}),
    ("list_clips", {"protected": "yes"}),
    ("get_audit_log", {"action": []}),
    ("get_audit_log", {"limit": 10**40}),
    ("subscribe", {"since": {"boot_id": [], "seq": 1}}),
    ("subscribe", {"since": {"boot_id": "b", "seq": 1.5}}),
    ("subscribe", {"since": "latest"}),
    ("ring", {"camera": 7}),
    ("ring", {"camera": "front_door", "extra": 1}),
    ("set_motion_settings", {"camera": "front_door", "threshold": 10**400}),
    ("set_motion_settings", {"camera": "front_door", "min_area": "big"}),
    ("set_recording_settings", {"camera": "front_door", "pre_roll": [1]}),
    ("set_privacy_mode", {"camera": "front_door", "enabled": "on"}),
    ("set_privacy_mode", {"camera": "front_door"}),
    ("record_clip", {"camera": "front_door", "seconds": True}),
    ("record_clip", {"camera": "front_door", "seconds": 1e308}),
    ("protect_clip", {"clip_id": {"id": 1}, "protected": True}),
    ("delete_clips", {"event_ids": [{"x": 1}]}),
    ("delete_clips", {"event_ids": [None]}),
    ("delete_clips", {"clip_ids": "all"}),
    ("delete_clips", {"start": 0, "end": 10**30}),
    ("export_clip", {"clip_id": 5}),
    ("export_clip", {"clip_id": CLIP_ID, "user": "Mallory\r\nX-Injected: 1"}),
    ("export_clip", {"clip_id": CLIP_ID, "user": "x" * 65}),
    ("export_clip", {"clip_id": CLIP_ID, "user": ""}),
    ("export_clip", {"clip_id": CLIP_ID, "user": ["Alice"]}),
    ("get_stream_url", {"camera": "front_door", "user": "a\x1b[31mred"}),
    ("get_storage", {"verbose": True}),
]


async def test_bad_args_get_invalid_args_and_the_connection_stays(
    service: Service, session: aiohttp.ClientSession
) -> None:
    ws = await connect(session, service)
    for number, (command, args) in enumerate(BAD_ARGS):
        reply = await send(ws, {"message_id": number, "command": command, "args": args})
        assert not reply["success"], (command, args, reply)
        assert reply["error"]["code"] == ErrorCode.INVALID_ARGS, (command, args, reply)
        assert reply["message_id"] == number
    await still_up(ws)


def test_every_command_has_one_schema() -> None:
    assert set(SCHEMAS) == set(Command)


async def test_message_id_is_never_echoed_unless_usable(
    service: Service, session: aiohttp.ClientSession
) -> None:
    ws = await connect(session, service)
    for bad in (True, 1.5, -3, 2**60, "7", None, [1]):
        reply = await send(ws, {"message_id": bad, "command": "ping"})
        assert reply["message_id"] == NO_MESSAGE_ID, (bad, reply)
        assert reply["error"]["code"] == ErrorCode.INVALID_FORMAT
    deep = "[" * 100_000 + "]" * 100_000
    reply = await send(ws, deep[:60_000])
    assert reply["error"]["code"] in (ErrorCode.INVALID_FORMAT, ErrorCode.MESSAGE_TOO_LARGE)
    reply = await send(ws, "[" * 30_000 + "]" * 30_000)
    assert reply["error"]["code"] == ErrorCode.INVALID_FORMAT
    await still_up(ws)


@pytest.mark.parametrize("token", [123, None, [], {"t": TOKEN}, True, 1.5])
async def test_auth_with_a_non_string_token_gets_auth_invalid(
    service: Service, session: aiohttp.ClientSession, token: object
) -> None:
    ws = await session.ws_connect(url(service, "/api/websocket"))
    await ws.receive_json(timeout=5)
    await ws.send_json({"type": "auth", "token": token})
    reply = await ws.receive_json(timeout=5)
    assert reply["type"] == "auth_invalid"
    assert reply["error"]["code"] == ErrorCode.INVALID_AUTH


async def raw_request(service: Service, request: bytes) -> tuple[int, bytes]:
    reader, writer = await asyncio.open_connection("127.0.0.1", service.port)
    try:
        writer.write(request)
        await writer.drain()
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
        length = int(
            next(
                (
                    line.split(b":")[1]
                    for line in head.split(b"\r\n")
                    if line.lower().startswith(b"content-length:")
                ),
                b"0",
            )
        )
        body = await asyncio.wait_for(reader.readexactly(length), 5)
    finally:
        writer.close()
    return int(head.split(b" ")[1]), body


async def test_non_utf8_authorization_gets_401(service: Service) -> None:
    for header in (b"Bearer \xff\xfe" + TOKEN.encode(), b"\xc3\x28 x", b"Bearer " + b"\x80" * 20):
        status, body = await raw_request(
            service,
            b"GET /api/cameras/front_door/snapshot.jpg HTTP/1.1\r\nHost: x\r\n"
            b"Authorization: " + header + b"\r\nConnection: close\r\n\r\n",
        )
        assert status == 401, header
        assert json.loads(body)["error"]["code"] == ErrorCode.INVALID_AUTH


async def assert_json_error(response: aiohttp.ClientResponse, status: int, code: str) -> None:
    assert response.status == status
    assert response.content_type == "application/json"
    body = await response.json()
    assert body["error"]["code"] == code, body
    assert body["error"]["message"]


async def test_every_http_error_is_the_protocol_json(
    service: Service, session: aiohttp.ClientSession, tmp_path: Path
) -> None:
    async with session.get(url(service, "/nothing/here"), headers=AUTH) as resp:
        await assert_json_error(resp, 404, ErrorCode.NOT_FOUND)
    async with session.post(url(service, "/healthz")) as resp:
        await assert_json_error(resp, 405, ErrorCode.INVALID_FORMAT)
        assert "GET" in resp.headers["Allow"]
    async with session.get(url(service, "/api/websocket")) as resp:  # no upgrade
        await assert_json_error(resp, 400, ErrorCode.INVALID_FORMAT)
    clip = url(service, f"/api/clips/{CLIP_ID}.mp4")
    size = (tmp_path / "media" / "clips" / f"{CLIP_ID}.mp4").stat().st_size
    for bad_range in (f"bytes={size + 10}-", "bytes=abc", f"bytes={size}-{size + 5}"):
        async with session.get(clip, headers={**AUTH, "Range": bad_range}) as resp:
            await assert_json_error(resp, 416, ErrorCode.INVALID_ARGS)
            assert resp.headers["Content-Range"] == f"bytes */{size}"
    async with session.get(clip, headers={**AUTH, "Range": "bytes=0-9"}) as resp:
        assert resp.status == 206
        assert len(await resp.read()) == 10
    (tmp_path / "media" / "clips" / f"{CLIP_ID}.mp4").unlink()
    async with session.get(clip, headers=AUTH) as resp:
        await assert_json_error(resp, 404, ErrorCode.NOT_FOUND)


async def test_export_of_a_clip_whose_file_is_gone_is_not_found(
    service: Service, session: aiohttp.ClientSession, tmp_path: Path
) -> None:
    ws = await connect(session, service)
    (tmp_path / "media" / "clips" / f"{CLIP_ID}.mp4").unlink()
    reply = await send(
        ws, {"message_id": 1, "command": "export_clip", "args": {"clip_id": CLIP_ID}}
    )
    assert reply["error"]["code"] == ErrorCode.NOT_FOUND, reply
    await still_up(ws)


async def test_export_names_the_user_in_the_audit_log(
    service: Service, session: aiohttp.ClientSession
) -> None:
    ws = await connect(session, service)
    for number, user in enumerate(("Ada Lovelace", None)):
        args = {"clip_id": CLIP_ID, "user": user}
        reply = await send(ws, {"message_id": number, "command": "export_clip", "args": args})
        assert reply["success"], reply
    newest_first = service.audit.query(action="clip_export").items
    assert [(e.detail or {}).get("user") for e in newest_first] == [None, "Ada Lovelace"]
    assert all(e.target == CLIP_ID and e.client_id == "pytest" for e in newest_first)


async def test_a_stream_viewer_is_audited_before_the_url(
    service: Service, session: aiohttp.ClientSession
) -> None:
    ws = await connect(session, service)
    for number, user in enumerate(("Grace Hopper", None)):
        args = {"camera": "front_door", "user": user}
        reply = await send(ws, {"message_id": number, "command": "get_stream_url", "args": args})
        assert reply["success"], reply
        assert "credential=" in reply["result"]["path"]
    (entry,) = service.audit.query(action="live_stream").items  # only the named viewer
    assert (entry.camera, entry.target, entry.detail) == (
        "front_door",
        "stream.ts",
        {"user": "Grace Hopper"},
    )


async def test_adopted_clip_camera_cannot_steer_the_export_path(
    service: Service, session: aiohttp.ClientSession, tmp_path: Path
) -> None:
    """C6: the adopted clip's metadata names `x/../../../escape`; export stays inside."""
    record = service.store.index.get_clip(CLIP_ID)
    assert record is not None
    assert record.camera == "unknown"
    ws = await connect(session, service)
    reply = await send(
        ws, {"message_id": 1, "command": "export_clip", "args": {"clip_id": CLIP_ID}}
    )
    assert reply["success"], reply
    exported = Path(reply["result"]["path"])
    exports = (tmp_path / "media" / "exports").resolve()
    assert exported.parent == exports
    assert exported.name == f"porchlight-unknown-{CLIP_ID}.mp4"
    assert not list(tmp_path.glob("**/escape*"))
    await wait_until(lambda: exported.is_file(), 5, "the export")


@pytest.mark.parametrize(
    "facts",
    [
        {"camera": "Front Door", "start": "yesterday"},
        {"camera": None, "start": float("nan")},
        {"camera": ["a"], "start": 1e308},
        {"camera": "../..", "start": True},
    ],
)
async def test_untrusted_clip_metadata_cannot_stop_the_start(
    tmp_path: Path, facts: dict[str, Any]
) -> None:
    """Adoption trusts nothing in a foreign file's metadata: bad values are replaced."""
    clip = tmp_path / "media" / "clips" / f"{CLIP_ID}.mp4"
    clip.parent.mkdir(parents=True)
    make_h264(clip, seconds=1, fps=10, width=64, height=64,
              metadata={"comment": json.dumps({"clip_id": CLIP_ID, **facts})})  # fmt: skip
    options = parse_options(
        {"port": 0, "host": "127.0.0.1", "zeroconf": False, "media_dir": str(tmp_path / "media")},
        tmp_path / "data",
    )
    service = Service(options)
    await service.start()
    try:
        record = service.store.index.get_clip(CLIP_ID)
        assert record is not None
        assert record.camera == "unknown"
        assert abs(record.start - time.time()) < 3600  # from the file's time, not the metadata
    finally:
        await service.stop()
