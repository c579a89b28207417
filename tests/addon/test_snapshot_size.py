"""A camera snapshot is the full-size latest frame unless a size is asked for; privacy mode
is its own camera status. Real service on a real socket, demo camera wider than the live view."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import cv2
import numpy as np
import pytest

from porchlight_edge.protocol import (
    LIMITS,
    PRIVACY_REASON,
    CameraStatus,
    EventType,
    Setting,
    snapshot_path,
)
from porchlight_edge.service import Service
from tests.helpers.service import connect_ws, demo_cameras, loopback_options, running_service, url
from tests.helpers.waiting import wait_until

TOKEN = "snapshot-size-token-0123456789"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
# Wider than the live view, so a snapshot cut to the live view's width shows.
WIDTH, HEIGHT, LIVE_WIDTH = 640, 360, 320


@pytest.fixture
async def service(tmp_path: Path) -> AsyncIterator[Service]:
    raw = loopback_options(TOKEN, demo_cameras(WIDTH, HEIGHT, "porch"), live={"width": LIVE_WIDTH})
    async with running_service(raw, tmp_path) as svc:
        await wait_until(lambda: svc.cameras["porch"].last_frame is not None, 10, "a frame")
        yield svc


async def fetch(
    session: aiohttp.ClientSession, service: Service, query: str = ""
) -> tuple[int, bytes]:
    async with session.get(url(service, snapshot_path("porch") + query), headers=AUTH) as resp:
        return resp.status, await resp.read()


def size_of(jpeg: bytes) -> tuple[int, int]:
    image = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR)
    assert image is not None
    return image.shape[1], image.shape[0]


async def test_snapshot_is_full_size_unless_a_size_is_asked(
    service: Service, session: aiohttp.ClientSession
) -> None:
    status, jpeg = await fetch(session, service)
    assert status == 200
    assert size_of(jpeg) == (WIDTH, HEIGHT)  # not the live view's 320
    # A box: the picture is scaled down to fit it, aspect kept.
    for query, expected in (
        ("?width=160&height=90", (160, 90)),
        ("?width=160", (160, 90)),
        ("?height=180", (320, 180)),
        ("?width=400&height=100", (176, 100)),  # height bounds; 176x99 rounds to 4s
        ("?width=4000&height=4000", (WIDTH, HEIGHT)),  # never scaled up
    ):
        status, jpeg = await fetch(session, service, query)
        assert status == 200, query
        width, height = size_of(jpeg)
        assert width <= expected[0], (query, width, height)
        assert height <= expected[1], (query, width, height)
        assert abs(width / height - WIDTH / HEIGHT) < 0.05, (query, width, height)
        assert width >= expected[0] - 2, (query, width, height)
    audited = service.audit.query(action="snapshot", limit=50).items
    assert len(audited) == 6


@pytest.mark.parametrize(
    "query",
    [
        "?width=0",
        "?width=-5",
        "?width=abc",
        "?height=1.5",
        f"?width={int(LIMITS[Setting.SNAPSHOT_WIDTH].high) + 1}",
        f"?height={int(LIMITS[Setting.SNAPSHOT_HEIGHT].low) - 1}",
        "?width=%EF%BC%91%EF%BC%96",  # full-width digits: not ASCII
        "?width=" + "9" * 40,
    ],
)
async def test_a_size_outside_the_limits_is_refused(
    service: Service, session: aiohttp.ClientSession, query: str
) -> None:
    async with session.get(url(service, snapshot_path("porch") + query), headers=AUTH) as resp:
        assert resp.status == 400
        body: dict[str, Any] = await resp.json()
    assert body["error"]["code"] == "invalid_args"
    assert not service.audit.query(action="snapshot").items  # nothing left


async def test_privacy_mode_is_a_status_of_its_own(
    service: Service, session: aiohttp.ClientSession
) -> None:
    ws, _ = await connect_ws(session, service, TOKEN)
    async with ws:
        await ws.send_json({"message_id": 1, "command": "subscribe", "args": {}})
        await ws.send_json(
            {
                "message_id": 2,
                "command": "set_privacy_mode",
                "args": {"camera": "porch", "enabled": True},
            }
        )
        statuses: list[dict[str, Any]] = []
        state: dict[str, Any] | None = None
        while state is None:
            message = await ws.receive_json(timeout=10)
            if message.get("event") == EventType.CAMERA_STATUS:
                statuses.append(message["data"])
            elif message.get("event") == EventType.CAMERA_STATE:
                state = message["data"]
    assert statuses == [{"status": CameraStatus.PRIVACY, "reason": PRIVACY_REASON}]
    assert state["status"] == CameraStatus.PRIVACY
    assert state["privacy_mode"] is True
    status, _ = await fetch(session, service)
    assert status == 503
    # Off again: `privacy` until the camera reports, then online (never a fault between).
    camera = service.cameras["porch"]
    statuses_seq = service.bus.seq
    await camera.update_settings(privacy_mode=False)
    await wait_until(lambda: camera.status is CameraStatus.ONLINE, 10, "the camera back online")
    status, _ = await fetch(session, service)
    assert status == 200
    after = [
        e["data"]["status"]
        for e in service.bus.history()
        if e["event"] == EventType.CAMERA_STATUS and e["seq"] > statuses_seq
    ]
    assert after == [CameraStatus.ONLINE]
