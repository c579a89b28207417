"""Cameras added or removed in the add-on's panel at runtime (`cameras_changed`, protocol
1.2): their devices and entities appear and go without a reconnect."""

from __future__ import annotations

from typing import TYPE_CHECKING

from homeassistant.helpers import device_registry as dr, entity_registry as er

from custom_components.porchlight.const import DOMAIN
from custom_components.porchlight.pyporchlight.protocol import Command, ErrorCode

from .conftest import wait_for_state
from .fake_addon import FakeAddon, make_camera

if TYPE_CHECKING:
    from homeassistant.core import HomeAssistant


def _device(hass: HomeAssistant, addon: FakeAddon, camera: str) -> dr.DeviceEntry | None:
    (entry,) = hass.config_entries.async_entries(DOMAIN)
    return dr.async_get(hass).async_get_device_by_identifier(
        (DOMAIN, f"{addon.instance_id}_{camera}"), entry.entry_id
    )


async def test_a_camera_added_and_removed_at_runtime(
    hass: HomeAssistant, loaded: FakeAddon, entity_registry: er.EntityRegistry
) -> None:
    connections = loaded.connection_count
    loaded.cameras["garage"] = make_camera("garage", "Garage")
    loaded.cameras_changed(added=["garage"], removed=[])
    await wait_for_state(hass, lambda: hass.states.get("event.garage_doorbell") is not None)
    device = _device(hass, loaded, "garage")
    assert device is not None
    assert len(er.async_entries_for_device(entity_registry, device.id)) > 10
    assert hass.states.get("camera.garage") is not None

    del loaded.cameras["garage"]
    loaded.cameras_changed(added=[], removed=["garage"])
    await wait_for_state(hass, lambda: _device(hass, loaded, "garage") is None)
    assert hass.states.get("event.garage_doorbell") is None
    assert not er.async_entries_for_device(entity_registry, device.id)
    assert _device(hass, loaded, "front_door") is not None
    assert loaded.connection_count == connections  # no reconnect was needed


async def test_a_failed_read_waits_for_the_next_resync(
    hass: HomeAssistant, loaded: FakeAddon
) -> None:
    loaded.failing_commands[Command.GET_STATE] = ErrorCode.UNAVAILABLE
    loaded.cameras["garage"] = make_camera("garage", "Garage")
    loaded.cameras_changed(added=["garage"], removed=[])
    await wait_for_state(
        hass, lambda: [c["command"] for c in loaded.commands].count(Command.GET_STATE) == 2
    )
    assert hass.states.get("event.garage_doorbell") is None
    del loaded.failing_commands[Command.GET_STATE]
    await loaded.drop_connections()
    await wait_for_state(hass, lambda: hass.states.get("event.garage_doorbell") is not None)
