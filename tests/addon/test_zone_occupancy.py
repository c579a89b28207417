"""Zone occupancy: on while someone, moving or standing still, is in the zone."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import numpy as np
import pytest

from porchlight_edge.motion import MotionConfig, MotionEngine, Zone
from porchlight_edge.protocol import EventType
from porchlight_edge.service import Service
from tests.helpers.api_calls import TOKEN, call, connect
from tests.helpers.motion_scenes import FPS, visitor_frames
from tests.helpers.service import loopback_options, running_service

DOORSTEP = Zone("doorstep", [(0.15, 0.2), (0.5, 0.2), (0.5, 1.0), (0.15, 1.0)])
STREET = Zone("street", [(0.7, 0.0), (1.0, 0.0), (1.0, 0.25), (0.7, 0.25)])


def test_still_visitor_keeps_the_zone_occupied_other_zone_stays_clear() -> None:
    rng = np.random.default_rng(11)
    walk, wait = 20, 300  # 30 s standing still at 10 fps
    frames = visitor_frames(rng, walk=walk, wait=wait)
    # Then the visitor is gone: the empty scene again.
    frames += visitor_frames(rng, walk=0, wait=0)[:10] * 4
    engine = MotionEngine(MotionConfig(zones=(DOORSTEP, STREET), off_seconds=1.0))
    state = {"doorstep": False, "street": False}
    history: list[dict[str, bool]] = []
    changes: list[tuple[int, str, bool]] = []
    for i, f in enumerate(frames):
        res = engine.process(f, i / FPS)
        for zone, occupied in res.occupancy_changed.items():
            changes.append((i, zone, occupied))
            state[zone] = occupied
        history.append(dict(state))
    arrived = 10 + 5
    standing = range(arrived, 10 + walk + wait)
    assert all(history[i]["doorstep"] for i in standing), changes
    assert not any(h["street"] for h in history), changes
    left = 10 + walk + wait
    assert history[-1] == {"doorstep": False, "street": False}, changes
    # Cleared about off_seconds after the visitor left, reported once each way.
    assert [(z, o) for _, z, o in changes] == [("doorstep", True), ("doorstep", False)]
    assert left < changes[-1][0] <= left + int(1.5 * FPS)
    assert engine.occupancy.occupied == {"doorstep": False, "street": False}


def test_reset_clears_occupied_zones_and_reports_them() -> None:
    rng = np.random.default_rng(12)
    engine = MotionEngine(MotionConfig(zones=(DOORSTEP, STREET)))
    for i, f in enumerate(visitor_frames(rng, walk=20, wait=20)):
        engine.process(f, i / FPS)
    assert engine.occupancy.occupied == {"doorstep": True, "street": False}
    assert engine.reset() == {"doorstep": False}
    assert engine.occupancy.occupied == {"doorstep": False, "street": False}
    # A zone removed while occupied is reported clear.
    for i, f in enumerate(visitor_frames(rng, walk=20, wait=20)):
        engine.process(f, 100 + i / FPS)
    assert engine.set_zones([STREET]) == {"doorstep": False}
    assert engine.occupancy.occupied == {"street": False}


@pytest.fixture
async def service(tmp_path: Path) -> AsyncIterator[Service]:
    demo = {"width": 320, "height": 180, "variant": "waiting",
            "phases": {"empty_before": 2, "walk_in": 3, "empty_after": 3}}  # fmt: skip
    camera = {
        "name": "front_door",
        "source": "demo",
        "realtime": False,
        "demo": demo,
        "motion": {
            "off_seconds": 1.0,
            # Where the demo visitor stands, and the sky above the roof.
            "zones": ["doorstep=0.45,0.3 0.75,0.3 0.75,1 0.45,1", "sky=0,0 1,0 1,0.12"],
        },
        "recording": {"enabled": False},
    }
    async with running_service(loopback_options(TOKEN, [camera]), tmp_path) as svc:
        yield svc


async def test_occupancy_events_and_state_over_the_api(service: Service) -> None:
    async with aiohttp.ClientSession() as session:
        ws, _ = await connect(session, service)
        state = (await call(ws, 1, "get_state"))["result"]
        zones = state["cameras"][0]["zones"]
        assert [z["name"] for z in zones] == ["doorstep", "sky"]
        await call(ws, 2, "subscribe")
        seen: list[dict[str, Any]] = []
        # One visit: the doorstep is occupied through the 60 s wait, then clear; bounded.
        for _ in range(5000):
            # A minute of stream time passes between the two events: generous under load.
            msg = await ws.receive_json(timeout=60)
            if msg.get("event") == EventType.OCCUPANCY:
                seen.append(msg["data"])
                if not msg["data"]["occupied"]:
                    break
        await ws.close()
    assert [(d["zone"], d["occupied"]) for d in seen] == [("doorstep", True), ("doorstep", False)]
    # The visitor stood there for the whole wait: a minute of stream time in between.
    assert seen[1]["pts"] - seen[0]["pts"] > 60.0
