"""Version negotiation on the real add-on, and a recorded protocol 1.0 client replayed
against it (tests/fixtures/protocol_v1, recorded by scripts/record_protocol_fixtures.py
before protocol 1.1): an older integration keeps working with this add-on."""

from __future__ import annotations

from collections.abc import AsyncIterator
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
    Command,
    ErrorCode,
    EventType,
    MessageType,
    ProtocolVersion,
    peer_version,
)
from porchlight_edge.service import Service
from tests.helpers.payloads import problems

FIXTURES = Path(__file__).parent.parent / "fixtures" / "protocol_v1"
TOKEN = "fixture-token-0123456789"  # the token the fixtures were recorded with


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / f"{name}.json").read_text())


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


async def test_recorded_1_0_client_is_served_with_every_field_it_read(
    service: Service, session: aiohttp.ClientSession
) -> None:
    ws, _, reply = await handshake(session, service, fixture("auth"))
    assert reply["type"] == MessageType.AUTH_OK
    for message_id, step in enumerate(fixture("results"), start=1):
        await ws.send_json(
            {"message_id": message_id, "command": step["command"], "args": step["args"]}
        )
        while (got := await ws.receive_json(timeout=30)).get("message_id") != message_id:
            assert got["type"] == MessageType.EVENT
            # Every event this add-on sends is typed completely by the protocol.
            shape = EVENT_DATA[EventType(got["event"])]
            assert problems(shape, got["data"], complete=True) == [], got
        recorded = step["reply"]
        assert got["success"] == recorded["success"], (step["command"], got)
        if recorded["success"]:
            _covers(_shape(got["result"]), _shape(recorded["result"]), step["command"])
            shape = COMMAND_RESULTS[Command(step["command"])]
            assert problems(shape, got["result"], complete=True) == [], step["command"]
        else:
            assert got["error"]["code"] == recorded["error"]["code"]
    await ws.close()
