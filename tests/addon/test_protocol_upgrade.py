"""Version negotiation on the real add-on, and recorded protocol 1.0 and 1.1 clients replayed
against it (tests/fixtures/protocol_v1 and protocol_1_1, recorded by
scripts/record_protocol_fixtures.py from those releases): an older integration keeps
working with this add-on and is sent only values its version knows."""

from __future__ import annotations

from collections.abc import AsyncIterator
import itertools
import json
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from porchlight_edge.config import parse_options
from porchlight_edge.protocol import (
    COMMAND_RESULTS,
    CURRENT_VERSION,
    EVENT_DATA,
    MIN_SUPPORTED_VERSION,
    PROTOCOL_VERSION,
    CameraStatus,
    ClipState,
    Command,
    ErrorCode,
    EventType,
    MessageType,
    ProtocolVersion,
    peer_version,
    version_info,
)
from porchlight_edge.service import Service
from tests.helpers.payloads import problems
from tests.helpers.waiting import wait_until_async

FIXTURES = Path(__file__).parent.parent / "fixtures"
RECORDINGS = {"1.0": FIXTURES / "protocol_v1", "1.1": FIXTURES / "protocol_1_1"}
"""Each released protocol's recording, by its version."""
TOKEN = "fixture-token-0123456789"  # the token the fixtures were recorded with
OLD_STATUSES = {CameraStatus.ONLINE, CameraStatus.STALLED, CameraStatus.OFFLINE}
"""The camera statuses of protocols before 1.2."""


def fixture(name: str, version: str = "1.0") -> Any:
    return json.loads((RECORDINGS[version] / f"{name}.json").read_text())


def client_auth(version: str) -> dict[str, Any]:
    """The recorded auth, announcing the protocol version of its recording."""
    info = fixture("server_info", version)
    versions = ("protocol_version", "protocol_minor", "min_supported_version")
    return {**fixture("auth", version), **{key: info[key] for key in versions if key in info}}


@pytest.fixture
async def service(tmp_path: Path) -> AsyncIterator[Service]:
    demo = {"source": "demo", "demo": {"width": 320, "height": 180}}
    options = parse_options(
        {
            "host": "127.0.0.1",
            "port": 0,
            "token": TOKEN,
            "zeroconf": False,
            "cameras": [{"name": "front_door", **demo}, {"name": "garage", **demo}],
        },
        tmp_path,
    )
    svc = Service(options)
    await svc.start()
    yield svc
    await svc.stop()


async def handshake(
    session: aiohttp.ClientSession, service: Service, auth: dict[str, Any]
) -> tuple[aiohttp.ClientWebSocketResponse, dict[str, Any], dict[str, Any]]:
    ws = await session.ws_connect(f"http://127.0.0.1:{service.port}/api/websocket")
    info = await ws.receive_json(timeout=10)
    await ws.send_json(auth)
    return ws, info, await ws.receive_json(timeout=10)


def test_one_minor_back_is_supported() -> None:
    recorded, _ = peer_version(fixture("server_info"))
    assert recorded == ProtocolVersion(1, 0)
    assert MIN_SUPPORTED_VERSION <= recorded < CURRENT_VERSION
    assert CURRENT_VERSION.major == PROTOCOL_VERSION


async def test_server_info_announces_version_and_minimum(
    service: Service, session: aiohttp.ClientSession
) -> None:
    ws, info, reply = await handshake(session, service, fixture("auth"))
    await ws.close()
    assert reply == fixture("auth_ok")
    assert info["protocol_version"] == CURRENT_VERSION.major
    assert info["protocol_minor"] == CURRENT_VERSION.minor
    assert info["min_supported_version"] == str(MIN_SUPPORTED_VERSION)
    # Everything a 1.0 client read is still there, with the same types.
    for key, value in fixture("server_info").items():
        assert type(info[key]) is type(value), key


@pytest.mark.parametrize(
    ("versions", "side"),
    [
        # A future integration that no longer serves this add-on.
        ({"protocol_version": 1, "protocol_minor": 9, "min_supported_version": "1.8"}, "add-on"),
        ({"protocol_version": 2, "protocol_minor": 0}, "add-on"),
        # An integration older than this add-on's oldest supported version.
        ({"protocol_version": 0, "protocol_minor": 9}, "integration"),
        # Malformed version fields are refused with the same code, never served.
        ({"protocol_version": "1"}, None),
        ({"protocol_version": 1, "min_supported_version": "1"}, None),
    ],
)
async def test_client_version_the_server_cannot_serve_is_refused_then_closed(
    service: Service,
    session: aiohttp.ClientSession,
    versions: dict[str, Any],
    side: str | None,
) -> None:
    ws, _, reply = await handshake(session, service, {**fixture("auth"), **versions})
    assert reply["type"] == MessageType.AUTH_INVALID
    assert reply["error"]["code"] == ErrorCode.UNSUPPORTED_VERSION
    if side is not None:
        assert reply["error"]["message"].endswith(f"update the {side}")
    closed = await ws.receive(timeout=10)
    assert closed.type in {aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED}


async def test_wrong_token_is_refused_before_the_version_is_looked_at(
    service: Service, session: aiohttp.ClientSession
) -> None:
    auth = {**fixture("auth"), "token": "wrong-token-0123456789", "protocol_version": 9}
    ws, _, reply = await handshake(session, service, auth)
    await ws.close()
    assert reply["error"]["code"] == ErrorCode.INVALID_AUTH


def _shape(value: Any) -> Any:
    """The keys and types of a JSON value, recursively (lists by their first item)."""
    if isinstance(value, dict):
        return {key: _shape(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_shape(value[0])] if value else []
    return (
        "number"
        if isinstance(value, int | float) and not isinstance(value, bool)
        else type(value).__name__
    )


def _covers(new: Any, old: Any, where: str) -> None:
    """`new` has every field of `old` with the same type (fields are only added)."""
    if isinstance(old, dict):
        assert isinstance(new, dict), where
        for key, item in old.items():
            assert key in new, f"{where}.{key} is gone"
            if item != "NoneType" and new[key] != "NoneType":
                _covers(new[key], item, f"{where}.{key}")
    elif isinstance(old, list):
        assert isinstance(new, list), where
        if old and new:  # an empty list has no item shape to compare
            _covers(new[0], old[0], f"{where}[0]")
    elif old != "NoneType" and new != "NoneType":
        assert new == old, f"{where}: {new} instead of {old}"


def _statuses(message: dict[str, Any]) -> list[str]:
    """Every camera status in a result or event (camera_status, camera_state, get_state)."""
    body = message.get("result") or message.get("data") or {}
    cameras = body.get("cameras", [body]) if isinstance(body, dict) else []
    return [c["status"] for c in cameras if isinstance(c, dict) and "status" in c]


@pytest.mark.parametrize("version", sorted(RECORDINGS))
async def test_recorded_older_client_is_served_with_every_field_and_value_it_read(
    service: Service, session: aiohttp.ClientSession, version: str
) -> None:
    ws, _, reply = await handshake(session, service, client_auth(version))
    assert reply["type"] == MessageType.AUTH_OK
    for message_id, step in enumerate(fixture("results", version), start=1):
        await ws.send_json(
            {"message_id": message_id, "command": step["command"], "args": step["args"]}
        )
        while (got := await ws.receive_json(timeout=30)).get("message_id") != message_id:
            assert got["type"] == MessageType.EVENT
            # Every event this add-on sends is typed completely by the protocol.
            shape = EVENT_DATA[EventType(got["event"])]
            assert problems(shape, got["data"], complete=True) == [], got
            assert set(_statuses(got)) <= OLD_STATUSES, got
        recorded = step["reply"]
        assert got["success"] == recorded["success"], (step["command"], got)
        if recorded["success"]:
            _covers(_shape(got["result"]), _shape(recorded["result"]), step["command"])
            shape = COMMAND_RESULTS[Command(step["command"])]
            assert problems(shape, got["result"], complete=True) == [], step["command"]
            assert set(_statuses(got)) <= OLD_STATUSES, got
            # A camera in privacy mode reads as the old add-on sent it (offline, the reason).
            for old, new in zip(
                recorded["result"].get("cameras", []),
                got["result"].get("cameras", []),
                strict=False,
            ):
                if old["privacy_mode"]:
                    assert (new["status"], new["status_reason"]) == (
                        old["status"],
                        old["status_reason"],
                    )
        else:
            assert got["error"]["code"] == recorded["error"]["code"]
    await ws.close()


async def test_a_1_2_client_gets_status_privacy(
    service: Service, session: aiohttp.ClientSession
) -> None:
    ws, _, reply = await handshake(session, service, {**fixture("auth"), **version_info()})
    assert reply["type"] == MessageType.AUTH_OK
    set_privacy = {"camera": "garage", "enabled": True}
    await ws.send_json({"message_id": 1, "command": "set_privacy_mode", "args": set_privacy})
    await ws.send_json({"message_id": 2, "command": "get_state", "args": {}})
    while (got := await ws.receive_json(timeout=30)).get("message_id") != 2:
        pass
    await ws.close()
    garage = next(c for c in got["result"]["cameras"] if c["name"] == "garage")
    assert garage["status"] == CameraStatus.PRIVACY


async def _call(
    ws: aiohttp.ClientWebSocketResponse, message_id: int, command: str, **args: Any
) -> Any:
    await ws.send_json({"message_id": message_id, "command": command, "args": args})
    while (got := await ws.receive_json(timeout=30)).get("message_id") != message_id:
        pass  # events
    assert got["success"], got
    return got["result"]


async def test_clips_still_recording_are_listed_only_to_1_2_clients(
    service: Service, session: aiohttp.ClientSession
) -> None:
    new, _, _ = await handshake(session, service, {**fixture("auth"), **version_info()})
    old, _, _ = await handshake(session, service, client_auth("1.1"))
    clip = await _call(new, 1, "record_clip", camera="front_door", seconds=30)
    message_ids = itertools.count(2)

    async def listed_state() -> str | None:
        clips = (await _call(new, next(message_ids), "list_clips"))["clips"]
        return next((c["state"] for c in clips if c["id"] == clip["clip_id"]), None)

    # the recorder indexes the clip a moment after the answer
    assert await wait_until_async(listed_state, 20, "the clip in list_clips") == ClipState.RECORDING
    # A 1.1 client takes every listed clip as finished (to play, to export): not sent it.
    assert clip["clip_id"] not in [c["id"] for c in (await _call(old, 1, "list_clips"))["clips"]]
    await new.close()
    await old.close()
