"""The add-on's API on a real socket: handshake, auth, commands, errors, replay, HTTP."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
import json
from pathlib import Path

import aiohttp
import cv2
import numpy as np
import pytest

from porchlight_edge.protocol import MAX_MESSAGE_BYTES, PROTOCOL_VERSION, EventType, RingSource
from porchlight_edge.service import Service
from tests.helpers.api_calls import TOKEN, call, connect
from tests.helpers.service import demo_cameras, loopback_options, running_service, url
from tests.helpers.waiting import wait_until


@pytest.fixture
async def service(tmp_path: Path) -> AsyncIterator[Service]:
    raw = loopback_options(TOKEN, demo_cameras(320, 180, "front_door", "garage"))
    async with running_service(raw, tmp_path) as svc:
        yield svc


async def test_handshake_sends_server_info_first(
    service: Service, session: aiohttp.ClientSession
) -> None:
    _, info = await connect(session, service)
    assert info["type"] == "server_info"
    assert info["protocol_version"] == PROTOCOL_VERSION
    assert info["instance_id"] == service.identity.instance_id
    assert info["boot_id"] == service.bus.boot_id


async def test_wrong_token_is_rejected_and_closed(
    service: Service, session: aiohttp.ClientSession
) -> None:
    ws = await session.ws_connect(url(service, "/api/websocket"))
    await ws.receive_json(timeout=5)
    await ws.send_json({"type": "auth", "token": "wrong"})
    reply = await ws.receive_json(timeout=5)
    assert reply["type"] == "auth_invalid"
    assert reply["error"]["code"] == "invalid_auth"
    msg = await ws.receive(timeout=5)
    assert msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)
    await ws.close()


async def test_commands_get_one_result_each(
    service: Service, session: aiohttp.ClientSession
) -> None:
    ws, _ = await connect(session, service)
    assert (await call(ws, 1, "ping"))["result"] == {"pong": True}
    state = (await call(ws, 2, "get_state"))["result"]
    assert [c["name"] for c in state["cameras"]] == ["front_door", "garage"]
    assert state["boot_id"] == service.bus.boot_id
    ring = await call(ws, 3, "ring", camera="garage")
    assert ring["success"]
    assert service.bus.history()[-1]["camera"] == "garage"


@pytest.mark.parametrize(
    ("payload", "code"),
    [
        ("not json", "invalid_format"),
        ("[1, 2]", "invalid_format"),
        ('{"message_id": "x", "command": "ping"}', "invalid_format"),
        ('{"message_id": 5, "command": "explode"}', "unknown_command"),
        ('{"message_id": 5, "command": "ring", "args": {}}', "invalid_args"),
        ('{"message_id": 5, "command": "ring", "args": {"camera": "attic"}}', "not_found"),
        (
            '{"message_id": 5, "command": "set_motion_settings", '
            '"args": {"camera": "garage", "threshold": 900}}',
            "invalid_args",
        ),
        (
            json.dumps({"message_id": 5, "command": "ping", "pad": "x" * MAX_MESSAGE_BYTES}),
            "message_too_large",
        ),
    ],
)
async def test_bad_messages_get_error_and_connection_stays(
    service: Service, session: aiohttp.ClientSession, payload: str, code: str
) -> None:
    ws, _ = await connect(session, service)
    await ws.send_str(payload)
    reply = await ws.receive_json(timeout=5)
    assert reply["type"] == "result"
    assert reply["success"] is False
    assert reply["error"]["code"] == code
    assert (await call(ws, 99, "ping"))["success"]


async def test_motion_settings_change_at_run_time(
    service: Service, session: aiohttp.ClientSession
) -> None:
    ws, _ = await connect(session, service)
    reply = await call(ws, 1, "set_motion_settings", camera="garage", threshold=42, min_area=1.5)
    assert reply["result"] == {"enabled": True, "threshold": 42, "min_area": 1.5}
    assert service.cameras["garage"].engine.config.threshold == 42


async def test_subscribe_replays_missed_events_exactly_once(
    service: Service, session: aiohttp.ClientSession
) -> None:
    ws, _ = await connect(session, service)
    await call(ws, 1, "subscribe")
    seen = (await call(ws, 2, "ring", camera="front_door"))["result"]["seq"]
    await ws.close()
    # While disconnected: two rings (each also starts clip work, which publishes events).
    missed = [service.ring("front_door", RingSource.API)["seq"] for _ in range(2)]
    ws, _ = await connect(session, service)
    reply = await call(ws, 1, "subscribe", since={"boot_id": service.bus.boot_id, "seq": seen})
    assert reply["result"]["gap"] is False
    assert reply["result"]["replayed"] == reply["result"]["seq"] - seen
    live = service.ring("front_door", RingSource.API)["seq"]
    seqs: list[int] = []
    rings: list[int] = []
    while live not in rings:
        msg = await ws.receive_json(timeout=5)
        if msg["type"] == "event":
            seqs.append(msg["seq"])
            if msg["event"] == EventType.RING:
                rings.append(msg["seq"])
    assert rings == [*missed, live]
    # Every event after the last one seen arrives once, in order, with no gap.
    assert seqs == list(range(seen + 1, seqs[-1] + 1))


async def test_http_needs_bearer_token(service: Service, session: aiohttp.ClientSession) -> None:
    snap = url(service, "/api/cameras/front_door/snapshot.jpg")
    async with session.get(snap) as resp:
        assert resp.status == 401
        assert (await resp.json())["error"]["code"] == "invalid_auth"
    async with session.get(snap, headers={"Authorization": "Bearer nope"}) as resp:
        assert resp.status == 401
    async with session.get(url(service, "/api/cameras/nope/snapshot.jpg")) as resp:
        assert resp.status == 401  # no hint about which cameras exist without a token


async def _wait_for_frame(service: Service, camera: str) -> None:
    await wait_until(
        lambda: service.cameras[camera].last_frame is not None, 5, "a frame from the demo camera"
    )


async def test_snapshot_is_a_decodable_jpeg(
    service: Service, session: aiohttp.ClientSession
) -> None:
    await _wait_for_frame(service, "front_door")
    headers = {"Authorization": f"Bearer {TOKEN}"}
    async with session.get(
        url(service, "/api/cameras/front_door/snapshot.jpg"), headers=headers
    ) as resp:
        assert resp.status == 200
        assert resp.content_type == "image/jpeg"
        data = await resp.read()
    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    assert image.shape == (180, 320, 3)
    async with session.get(
        url(service, "/api/cameras/attic/snapshot.jpg"), headers=headers
    ) as resp:
        assert resp.status == 404


async def test_mjpeg_stream_delivers_jpeg_parts(
    service: Service, session: aiohttp.ClientSession
) -> None:
    await _wait_for_frame(service, "front_door")
    headers = {"Authorization": f"Bearer {TOKEN}"}
    async with session.get(
        url(service, "/api/cameras/front_door/stream.mjpeg"), headers=headers
    ) as resp:
        assert resp.status == 200
        assert resp.headers["Content-Type"].startswith("multipart/x-mixed-replace")
        reader = aiohttp.MultipartReader.from_response(resp)
        frames = []
        for _ in range(3):
            part = await reader.next()
            assert part is not None
            frames.append(await part.read())  # type: ignore[union-attr]
    for data in frames:
        assert cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR) is not None


async def test_health_needs_no_token(service: Service, session: aiohttp.ClientSession) -> None:
    async with session.get(url(service, "/healthz")) as resp:
        assert resp.status == 200
        assert await resp.text() == "ok"


async def test_client_that_falls_behind_is_disconnected(
    service: Service, session: aiohttp.ClientSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    limits = service.connections.limits
    monkeypatch.setattr(service.connections, "limits", replace(limits, outbox_bytes=400))
    ws, _ = await connect(session, service)
    await call(ws, 1, "subscribe")
    for _ in range(20):  # in one go: more than the outbox holds before the writer runs
        service.bus.publish(EventType.RING, "front_door", {"source": "api"})
    kinds = []
    while (msg := await ws.receive(timeout=5)).type is aiohttp.WSMsgType.TEXT:
        kinds.append(msg.json()["type"])
    assert msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)
    assert len(kinds) < 20  # dropped, to reconnect and replay what it missed
    await ws.close()
