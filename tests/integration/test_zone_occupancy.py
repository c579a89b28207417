"""Zone occupancy: a binary sensor per zone, bus events and device triggers (the logbook
lines are in test_logbook)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from homeassistant.components.device_automation.exceptions import (
    InvalidDeviceAutomationConfig,
)
from homeassistant.const import STATE_OFF, STATE_ON
from homeassistant.helpers import entity_registry as er
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.porchlight.const import DOMAIN
from custom_components.porchlight.device_trigger import async_validate_trigger_config
from custom_components.porchlight.pyporchlight.protocol import EventType

from .conftest import setup_integration, wait_for_state
from .fake_addon import BASE_TIME, FakeAddon
from .test_runtime import bus_events, camera_device, record_triggers

if TYPE_CHECKING:
    from homeassistant.core import HomeAssistant

DOORSTEP = "binary_sensor.front_door_doorstep_occupancy"


def state_of(hass: HomeAssistant, entity_id: str) -> str | None:
    state = hass.states.get(entity_id)
    return None if state is None else state.state


async def test_zone_sensor_follows_occupancy_events(hass: HomeAssistant, loaded: FakeAddon) -> None:
    state = hass.states.get(DOORSTEP)
    assert state is not None
    assert state.state == STATE_OFF
    assert state.attributes["device_class"] == "occupancy"
    assert state.attributes["friendly_name"] == "Front door doorstep occupancy"
    fired = bus_events(hass)
    device = camera_device(hass, loaded, "front_door")
    loaded.occupancy("front_door", "doorstep", True)
    await wait_for_state(hass, lambda: state_of(hass, DOORSTEP) == STATE_ON)
    # Motion ends (the visitor stands still: here the add-on says so) but the zone stays.
    loaded.motion("front_door", False)
    loaded.occupancy("front_door", "elsewhere", True)  # a zone this camera does not list
    loaded.publish(EventType.OCCUPANCY, "front_door", {"zone": "doorstep"})  # malformed
    await wait_for_state(hass, lambda: loaded.seq == 4 and len(fired) == 3)
    assert state_of(hass, DOORSTEP) == STATE_ON
    loaded.occupancy("front_door", "doorstep", False)
    await wait_for_state(hass, lambda: state_of(hass, DOORSTEP) == STATE_OFF)
    zone_events = [e for e in fired if e["type"].startswith("zone_")]
    assert zone_events == [
        {
            "device_id": device.id,
            "type": "zone_occupied",
            "camera": "front_door",
            "time": BASE_TIME + 1,
            "zone": "doorstep",
        },
        {
            "device_id": device.id,
            "type": "zone_occupied",
            "camera": "front_door",
            "time": BASE_TIME + 3,
            "zone": "elsewhere",
        },
        {
            "device_id": device.id,
            "type": "zone_cleared",
            "camera": "front_door",
            "time": BASE_TIME + 5,
            "zone": "doorstep",
        },
    ]


async def test_older_addon_without_zones_has_no_zone_sensors(
    hass: HomeAssistant,
    fake_addon: FakeAddon,
    mock_config_entry: MockConfigEntry,
    entity_registry: er.EntityRegistry,
) -> None:
    del fake_addon.cameras["front_door"]["zones"]
    await setup_integration(hass, mock_config_entry)
    entries = er.async_entries_for_config_entry(entity_registry, mock_config_entry.entry_id)
    assert not [e for e in entries if "occupancy" in e.entity_id]
    assert any(e.entity_id == "binary_sensor.front_door_motion" for e in entries)


async def test_zone_device_triggers_run_once_per_change(
    hass: HomeAssistant, loaded: FakeAddon
) -> None:
    device = camera_device(hass, loaded, "front_door")
    base = {"platform": "device", "domain": DOMAIN, "device_id": device.id}
    # A zone trigger names its zone; the others take none.
    for bad in ({"type": "zone_occupied"}, {"type": "ring", "subtype": "doorstep"}):
        with pytest.raises(InvalidDeviceAutomationConfig):
            await async_validate_trigger_config(hass, {**base, **bad})
    calls = await record_triggers(
        hass,
        [
            ({**base, "type": kind, "subtype": zone}, f"{zone} {kind}")
            for kind in ("zone_occupied", "zone_cleared")
            for zone in ("doorstep", "path")
        ],
    )
    loaded.occupancy("front_door", "doorstep", True)
    loaded.occupancy("front_door", "doorstep", False)
    await wait_for_state(hass, lambda: len(calls) == 2)
    assert sorted(calls) == ["doorstep zone_cleared", "doorstep zone_occupied"]


async def test_a_zone_drawn_later_gets_its_sensor_at_once(
    hass: HomeAssistant, loaded: FakeAddon, mock_config_entry: MockConfigEntry
) -> None:
    """A zone saved in the panel reaches HA as the camera's new state: its occupancy
    sensor is added then, without a reload, and only once; a zone deleted goes."""
    path = "binary_sensor.front_door_path_occupancy"
    assert hass.states.get(path) is None
    loaded.cameras["front_door"]["zones"].append({"name": "path", "occupied": False})
    loaded.camera_state_changed("front_door")
    await wait_for_state(hass, lambda: state_of(hass, path) == STATE_OFF)
    loaded.occupancy("front_door", "path", True)
    await wait_for_state(hass, lambda: state_of(hass, path) == STATE_ON)
    loaded.camera_state_changed("front_door")  # the same zones again: nothing new
    await wait_for_state(hass, lambda: loaded.seq == 3)
    await hass.async_block_till_done()
    registry = er.async_get(hass)
    zone_sensors = [
        e.entity_id
        for e in er.async_entries_for_config_entry(registry, mock_config_entry.entry_id)
        if e.entity_id.endswith("_occupancy")
    ]
    assert sorted(zone_sensors) == [DOORSTEP, path]
    # Deleted (or renamed) in the panel: its sensor goes, it does not stay "off" forever.
    loaded.cameras["front_door"]["zones"] = [{"name": "doorstep", "occupied": False}]
    loaded.camera_state_changed("front_door")
    await wait_for_state(hass, lambda: hass.states.get(path) is None)
    assert registry.async_get(path) is None
    assert state_of(hass, DOORSTEP) == STATE_OFF
