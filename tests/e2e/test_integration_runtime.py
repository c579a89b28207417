"""The integration in Home Assistant against the real add-on process, end to end:
rings while connected, during a dropped connection and across an add-on restart (each
delivered exactly once), reauth after a token change, settings and actions, the visitor
snapshot, and a stalled camera."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
import contextlib
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web
import cv2
from homeassistant.components.camera import async_get_image as async_get_camera_image
from homeassistant.components.image import async_get_image as async_get_entity_image
from homeassistant.const import ATTR_ENTITY_ID, STATE_UNAVAILABLE
from homeassistant.core import Event, HomeAssistant, callback
from homeassistant.helpers import entity_registry as er
import numpy as np
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.porchlight.const import CONF_TOKEN, DOMAIN, EVENT_PORCHLIGHT
from custom_components.porchlight.placeholder import privacy_placeholder
from custom_components.porchlight.pyporchlight.client import PorchlightClient
from custom_components.porchlight.pyporchlight.protocol import CameraStatus
from tests.helpers.loopback_http import start_on_loopback
from tests.helpers.waiting import wait_until

from .addon_process import AddonProcess, running_async
from .entries import entry_for, setup_entry, unload_entry

pytestmark = [pytest.mark.e2e, pytest.mark.enable_socket]

DOORBELL = "event.front_door_doorbell"


async def press(addon: AddonProcess) -> int:
    """Ring through the add-on's API from a separate client (not the integration's)."""
    async with aiohttp.ClientSession() as session:
        presser = PorchlightClient(session, "127.0.0.1", addon.port, addon.token)
        await presser.connect()
        try:
            return await presser.ring("front_door")
        finally:
            await presser.disconnect()


def record_rings(hass: HomeAssistant) -> list[dict[str, Any]]:
    """Every API ring the doorbell entity fired (the demo camera also rings by itself).

    A fired event changes the entity's state (the time it fired); the same state coming
    back after being unavailable is not a new ring.
    """
    rings: list[dict[str, Any]] = []
    seen: set[str] = set()

    @callback
    def changed(event: Event) -> None:
        new = event.data["new_state"]
        if (
            event.data["entity_id"] == DOORBELL
            and new is not None
            and new.state != STATE_UNAVAILABLE
            and new.attributes.get("source") == "api"
            and new.state not in seen
        ):
            seen.add(new.state)
            rings.append(dict(new.attributes))

    hass.bus.async_listen("state_changed", changed)
    return rings


async def test_ring_connected_and_during_a_dropped_connection(
    hass: HomeAssistant, addon: AddonProcess, config_entry: MockConfigEntry
) -> None:
    await setup_entry(hass, config_entry)
    rings = record_rings(hass)
    bus: list[dict[str, Any]] = []
    # a callback runs in the loop at once; a plain lambda would go to the executor, late under load
    hass.bus.async_listen(EVENT_PORCHLIGHT, callback(lambda e: bus.append(dict(e.data))))
    data = config_entry.runtime_data

    first = await press(addon)
    await wait_until(lambda: len(rings) == 1, 5, "the first ring")
    assert rings[0]["seq"] == first
    assert len([b for b in bus if b["type"] == "ring"]) >= 1

    # Drop the integration's websocket (same add-on run, same boot id) and ring in the gap.
    client = data.client
    assert client.transport is not None
    boot_id = data.server_info["boot_id"]
    await client.transport.ws.close()
    await wait_until(lambda: not data.connected, 5, "the disconnect to be noticed")
    assert hass.states.get(DOORBELL).state == STATE_UNAVAILABLE  # type: ignore[union-attr]
    missed = await press(addon)
    pressed_at = asyncio.get_running_loop().time()
    assert not data.connected  # the ring happened while the integration was away
    await wait_until(lambda: any(r["seq"] == missed for r in rings), 10, "the replayed ring")
    assert asyncio.get_running_loop().time() - pressed_at > 0.2  # it came after reconnecting
    assert client.server_info is not None
    assert client.server_info["boot_id"] == boot_id

    live = await press(addon)
    await wait_until(lambda: any(r["seq"] == live for r in rings), 5, "the next ring")
    seqs = [r["seq"] for r in rings]
    assert seqs == [first, missed, live]  # each exactly once, in order
    rang_at = {r["seq"]: r["rang_at"] for r in rings}
    assert rang_at[first] < rang_at[missed] < rang_at[live]
    ring_times = [b["time"] for b in bus if b["type"] == "ring"]
    assert len(ring_times) == len(set(ring_times))  # no ring reached the bus twice
    await unload_entry(hass, config_entry)


async def test_addon_restart_starts_fresh_without_duplicates(
    hass: HomeAssistant, addon: AddonProcess, config_entry: MockConfigEntry
) -> None:
    await setup_entry(hass, config_entry)
    rings = record_rings(hass)
    data = config_entry.runtime_data
    before = await press(addon)
    await wait_until(lambda: len(rings) == 1, 5, "the ring before the restart")
    old_boot = data.server_info["boot_id"]

    addon.stop()
    await wait_until(lambda: not data.connected, 10, "the add-on to be gone")
    await asyncio.to_thread(addon.start)  # same data folder and port: a new run
    await wait_until(lambda: data.connected, 15, "the reconnect")
    assert data.state["boot_id"] != old_boot
    after = await press(addon)
    await wait_until(lambda: len(rings) == 2, 5, "the ring after the restart")
    await asyncio.sleep(0.3)  # anything duplicated would arrive now
    assert [r["seq"] for r in rings] == [before, after]
    await unload_entry(hass, config_entry)


async def test_token_change_starts_reauth(
    hass: HomeAssistant, addon: AddonProcess, config_entry: MockConfigEntry
) -> None:
    await setup_entry(hass, config_entry)
    addon.stop()
    addon.token = "a-rotated-token-0123456789"
    await asyncio.to_thread(addon.start)
    await wait_until(
        lambda: bool(hass.config_entries.flow.async_progress_by_handler(DOMAIN)),
        15,
        "a reauth flow",
    )
    (flow,) = hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    assert flow["context"]["source"] == "reauth"
    result = await hass.config_entries.flow.async_configure(
        flow["flow_id"], {CONF_TOKEN: addon.token}
    )
    assert result["reason"] == "reauth_successful"
    await hass.async_block_till_done()
    assert config_entry.data[CONF_TOKEN] == addon.token
    await wait_until(lambda: config_entry.runtime_data.connected, 10, "the new connection")
    await unload_entry(hass, config_entry)


async def test_settings_actions_and_visitor_snapshot(
    hass: HomeAssistant, addon: AddonProcess, config_entry: MockConfigEntry
) -> None:
    await setup_entry(hass, config_entry)
    ids = {
        e.entity_id
        for e in er.async_entries_for_config_entry(er.async_get(hass), config_entry.entry_id)
    }
    for expected in (
        "switch.front_door_privacy_mode",
        "switch.front_door_recording",
        "number.front_door_pre_roll",
        "image.front_door_last_visitor",
        "sensor.porchlight_clips_stored",
    ):
        assert expected in ids, expected
    data = config_entry.runtime_data

    async def call(domain: str, service: str, entity_id: str, **extra: Any) -> None:
        await hass.services.async_call(
            domain, service, {ATTR_ENTITY_ID: entity_id, **extra}, blocking=True
        )

    # A ring gets its snapshot a little later; the image entity then serves it.
    image_id = "image.front_door_last_visitor"
    await call("button", "press", "button.front_door_test_ring")
    await wait_until(lambda: "front_door" in data.last_visitor, 20, "the visitor snapshot")
    await hass.async_block_till_done()
    image = await async_get_entity_image(hass, image_id)
    picture = cv2.imdecode(np.frombuffer(image.content, np.uint8), cv2.IMREAD_COLOR)
    assert picture is not None
    assert picture.shape[1] > 0
    await call("number", "set_value", "number.front_door_motion_sensitivity_threshold", value=42)
    await call("number", "set_value", "number.front_door_post_roll", value=12)
    await call("switch", "turn_off", "switch.front_door_recording")
    fresh = await data.client.get_state()  # the add-on's own view
    camera = fresh["cameras"][0]
    assert camera["motion_settings"]["threshold"] == 42
    assert camera["recording"]["post_roll"] == 12
    assert camera["recording"]["enabled"] is False

    await call("camera", "turn_off", "camera.front_door")  # privacy on: the lens is off
    assert (await data.client.get_state())["cameras"][0]["privacy_mode"] is True
    assert hass.states.get("switch.front_door_privacy_mode").state == "on"  # type: ignore[union-attr]
    # A state the owner chose: no camera problem, and the picture says why it is dark.
    await wait_until(
        lambda: data.cameras["front_door"]["status"] == CameraStatus.PRIVACY, 10, "privacy"
    )
    await hass.async_block_till_done()
    problem = hass.states.get("binary_sensor.front_door_camera_problem")
    assert problem is not None
    assert (problem.state, problem.attributes["status"]) == ("off", CameraStatus.PRIVACY)
    placeholder = await async_get_camera_image(hass, "camera.front_door")
    assert placeholder.content == privacy_placeholder()
    await call("camera", "turn_on", "camera.front_door")
    assert (await data.client.get_state())["cameras"][0]["privacy_mode"] is False

    await call("button", "press", "button.front_door_take_snapshot")
    await unload_entry(hass, config_entry)


# --- a camera that stops sending ----------------------------------------------------------------


class MjpegSource:
    """An MJPEG camera on 127.0.0.1 that sends frames until told to freeze."""

    def __init__(self) -> None:
        self.frozen = asyncio.Event()
        self.released = asyncio.Event()
        self.port = 0
        self._runner: web.AppRunner | None = None
        ok, jpeg = cv2.imencode(".jpg", np.full((120, 160, 3), 128, np.uint8))
        assert ok
        self.jpeg = jpeg.tobytes()

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/stream", self._stream)
        self._runner, self.port = await start_on_loopback(app, shutdown_timeout=0.1)

    async def stop(self) -> None:
        self.frozen.set()
        self.released.set()
        assert self._runner is not None
        await self._runner.cleanup()

    async def _stream(self, request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(
            headers={"Content-Type": "multipart/x-mixed-replace; boundary=frame"}
        )
        await response.prepare(request)
        with contextlib.suppress(ConnectionError):
            while not self.frozen.is_set():
                await response.write(
                    b"--frame\r\nContent-Type: image/jpeg\r\nContent-Length: "
                    + str(len(self.jpeg)).encode()
                    + b"\r\n\r\n"
                    + self.jpeg
                    + b"\r\n"
                )
                await asyncio.sleep(0.1)
            await self.released.wait()  # connected but silent: a stall, not an outage
        return response


@pytest.fixture
async def mjpeg_source() -> AsyncGenerator[MjpegSource]:
    source = MjpegSource()
    await source.start()
    yield source
    await source.stop()


async def test_stalled_camera_turns_problem_on_and_snapshot_goes_stale(
    hass: HomeAssistant, tmp_path: Path, mjpeg_source: MjpegSource
) -> None:
    options = {
        "cameras": [
            {
                "name": "front_door",
                "title": "Front door",
                "source": "mjpeg",
                "url": f"http://127.0.0.1:{mjpeg_source.port}/stream",
                "stall_seconds": 1,
            }
        ]
    }
    addon = AddonProcess(tmp_path / "stall", options)
    async with running_async(addon):
        entry = entry_for(addon)
        await setup_entry(hass, entry)
        problem = "binary_sensor.front_door_camera_problem"
        data = entry.runtime_data
        await wait_until(
            lambda: data.cameras["front_door"].get("last_frame") is not None
            or hass.states.get(problem).state == "off",  # type: ignore[union-attr]
            10,
            "frames",
        )
        await wait_until(lambda: hass.states.get(problem).state == "off", 10, "online")  # type: ignore[union-attr]

        mjpeg_source.frozen.set()
        await wait_until(lambda: hass.states.get(problem).state == "on", 10, "the stall")  # type: ignore[union-attr]
        state = hass.states.get(problem)
        assert state is not None
        assert state.attributes["status"] in ("stalled", "offline")
        assert state.attributes["reason"]
        jpeg, stale = await data.client.snapshot_info("front_door")
        assert stale  # the last good frame, marked as such
        assert cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR) is not None
        assert hass.states.get("camera.front_door").state == "idle"  # type: ignore[union-attr]
        await unload_entry(hass, entry)
