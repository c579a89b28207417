"""A camera added and removed in the panel while Home Assistant runs, end to end: the real
add-on process, the real integration, a real RTSP camera. The device and its entities
come and go without a reconnect, and the new camera's picture reaches Home Assistant."""

from __future__ import annotations

import aiohttp
from homeassistant.components.camera import async_get_image
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.porchlight.const import DOMAIN
from custom_components.porchlight.pyporchlight.client import PorchlightClient
from custom_components.porchlight.pyporchlight.protocol import Command
from tests.helpers.rtp_camera import RtpCamera, encode_units
from tests.helpers.waiting import wait_until

from .addon_process import AddonProcess
from .entries import setup_entry, unload_entry

pytestmark = [pytest.mark.e2e, pytest.mark.enable_socket]


async def test_a_camera_added_and_removed_in_the_panel(
    hass: HomeAssistant, addon: AddonProcess, config_entry: MockConfigEntry
) -> None:
    await setup_entry(hass, config_entry)
    devices = dr.async_get(hass)
    garage_id = (DOMAIN, f"{config_entry.unique_id}_garage")
    with RtpCamera(encode_units(450), credentials=("admin", "pw")) as camera:
        async with aiohttp.ClientSession() as session:
            panel = PorchlightClient(session, "127.0.0.1", addon.port, addon.token)
            await panel.connect()
            try:
                await panel.command(
                    Command.ADD_CAMERA, camera="garage", source="rtsp", url=camera.url,
                    username="admin", password="pw",
                )  # fmt: skip
                await wait_until(
                    lambda: hass.states.get("camera.garage") is not None, 20, "camera.garage"
                )
                assert (
                    devices.async_get_device_by_identifier(garage_id, config_entry.entry_id)
                    is not None
                )
                await wait_until(
                    lambda: hass.states.get("event.garage_doorbell") is not None, 10, "entities"
                )
                cameras = config_entry.runtime_data.cameras
                await wait_until(
                    lambda: cameras.get("garage", {}).get("status") == "online", 20, "online"
                )
                image = await async_get_image(hass, "camera.garage", timeout=15)
                assert image.content[:2] == b"\xff\xd8"

                await panel.command(Command.REMOVE_CAMERA, camera="garage")
                await wait_until(
                    lambda: devices.async_get_device_by_identifier(garage_id, config_entry.entry_id)
                    is None,
                    20,
                    "the garage device to go",
                )
                await hass.async_block_till_done()
                assert hass.states.get("camera.garage") is None
                assert hass.states.get("camera.front_door") is not None
            finally:
                await panel.disconnect()
    await unload_entry(hass, config_entry)
