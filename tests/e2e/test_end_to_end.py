"""The real add-on (demo camera) and the integration in Home Assistant, end to end."""

from __future__ import annotations

from collections.abc import Callable

import aiohttp
import cv2
from homeassistant.components.camera import Image, async_get_image
from homeassistant.config_entries import SOURCE_USER
from homeassistant.const import CONF_HOST, CONF_PORT, STATE_OFF, STATE_ON, STATE_UNKNOWN
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import entity_registry as er
import numpy as np
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.porchlight.const import CONF_TOKEN, DOMAIN
from custom_components.porchlight.pyporchlight.client import PorchlightClient
from tests.helpers.waiting import wait_until, wait_until_async

from .addon_process import AddonProcess
from .entries import setup_entry, unload_entry

pytestmark = [pytest.mark.e2e, pytest.mark.enable_socket]


async def _setup(hass: HomeAssistant, entry: MockConfigEntry) -> dict[str, str]:
    """Set up the entry; return the demo camera's doorbell, motion and camera entity ids."""
    await setup_entry(hass, entry)
    entities = er.async_entries_for_config_entry(er.async_get(hass), entry.entry_id)
    prefix = f"{entry.unique_id}_front_door_"
    by_key = {
        (e.domain, e.unique_id.removeprefix(prefix)): e.entity_id
        for e in entities
        if e.unique_id.startswith(prefix)
    }
    wanted = {
        "event": ("event", "doorbell"),
        "binary_sensor": ("binary_sensor", "motion"),
        "camera": ("camera", "camera"),
    }
    ids = {name: by_key.get(key) for name, key in wanted.items()}
    assert all(ids.values()), sorted(by_key)
    return {name: str(entity_id) for name, entity_id in ids.items()}


async def test_ring_reaches_event_entity(
    hass: HomeAssistant, addon: AddonProcess, config_entry: MockConfigEntry
) -> None:
    ids = await _setup(hass, config_entry)
    before = hass.states.get(ids["event"])
    assert before is not None

    # Press the doorbell through the add-on's API, from a separate client.
    async with aiohttp.ClientSession() as session:
        presser = PorchlightClient(session, "127.0.0.1", addon.port, addon.token)
        await presser.connect()
        seq = await presser.ring("front_door")
        await presser.disconnect()
    assert seq > 0

    def rang() -> bool:
        state = hass.states.get(ids["event"])
        return (
            state is not None
            and state.state not in (STATE_UNKNOWN, before.state)
            and state.attributes.get("event_type") == "ring"
        )

    await wait_until(rang, 5, "the ring to reach the event entity")
    await unload_entry(hass, config_entry)


async def test_demo_motion_turns_sensor_on_then_off(
    hass: HomeAssistant, addon: AddonProcess, config_entry: MockConfigEntry
) -> None:
    ids = await _setup(hass, config_entry)
    motion = ids["binary_sensor"]

    def state_is(value: str) -> Callable[[], bool]:
        return lambda: (s := hass.states.get(motion)) is not None and s.state == value

    # The demo visitor walks in, rings, waits and leaves within one 14 s loop.
    await wait_until(state_is(STATE_ON), 30, "motion on")
    await wait_until(state_is(STATE_OFF), 30, "motion off")
    await unload_entry(hass, config_entry)


async def test_camera_returns_decodable_jpeg(
    hass: HomeAssistant, addon: AddonProcess, config_entry: MockConfigEntry
) -> None:
    ids = await _setup(hass, config_entry)

    async def first_image() -> Image | None:
        try:
            return await async_get_image(hass, ids["camera"])
        except Exception:  # whatever the camera answers before its first frame
            return None

    image = await wait_until_async(first_image, 10, "the camera's first image", 0.1)
    assert image.content_type == "image/jpeg"
    picture = cv2.imdecode(np.frombuffer(image.content, np.uint8), cv2.IMREAD_COLOR)
    assert picture is not None
    assert picture.shape[:2] == (360, 640)
    await unload_entry(hass, config_entry)


async def test_wrong_token_gives_invalid_auth(hass: HomeAssistant, addon: AddonProcess) -> None:
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {CONF_HOST: "127.0.0.1", CONF_PORT: addon.port, CONF_TOKEN: "not-the-token"},
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "invalid_auth"}

    # And the right token creates the entry, keyed by the add-on's instance id.
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {CONF_HOST: "127.0.0.1", CONF_PORT: addon.port, CONF_TOKEN: addon.token},
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["result"].unique_id == addon.instance_id
    await hass.async_block_till_done()
    await unload_entry(hass, result["result"])
