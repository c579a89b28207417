"""Setup, unload, availability and reauth of the config entry."""

from __future__ import annotations

from typing import TYPE_CHECKING

from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import STATE_OFF, STATE_ON, STATE_UNAVAILABLE
from homeassistant.helpers import device_registry as dr, entity_registry as er
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
)

from custom_components.porchlight.const import DOMAIN
from custom_components.porchlight.pyporchlight.protocol import CURRENT_VERSION

from .conftest import addon_entry, running_addon, setup_integration, wait_for_state as wait_for
from .fake_addon import FakeAddon

if TYPE_CHECKING:
    from homeassistant.core import HomeAssistant

MOTION = "binary_sensor.front_door_motion"


def entry_state(entry: MockConfigEntry) -> ConfigEntryState:
    return entry.state  # type: ignore[no-any-return]


async def test_setup_and_unload(
    hass: HomeAssistant, fake_addon: FakeAddon, mock_config_entry: MockConfigEntry
) -> None:
    await setup_integration(hass, mock_config_entry)
    assert mock_config_entry.state is ConfigEntryState.LOADED
    await wait_for(hass, lambda: fake_addon.subscriber_count == 1)

    assert await hass.config_entries.async_unload(mock_config_entry.entry_id)
    await hass.async_block_till_done()
    assert entry_state(mock_config_entry) is ConfigEntryState.NOT_LOADED
    await wait_for(hass, lambda: fake_addon.connection_count == 0)


async def test_setup_retries_when_addon_is_down(
    hass: HomeAssistant, fake_addon: FakeAddon, mock_config_entry: MockConfigEntry
) -> None:
    await fake_addon.stop()
    await setup_integration(hass, mock_config_entry)
    assert mock_config_entry.state is ConfigEntryState.SETUP_RETRY


async def test_setup_retries_on_version_mismatch(
    hass: HomeAssistant, fake_addon: FakeAddon, mock_config_entry: MockConfigEntry
) -> None:
    fake_addon.version = {"protocol_version": 2, "min_supported_version": "2.0"}
    await setup_integration(hass, mock_config_entry)
    assert mock_config_entry.state is ConfigEntryState.SETUP_RETRY
    reason = mock_config_entry.reason or ""
    assert "2.0" in reason
    assert str(CURRENT_VERSION) in reason
    assert "Update the integration" in reason


async def test_setup_with_bad_token_starts_reauth(
    hass: HomeAssistant, fake_addon: FakeAddon, mock_config_entry: MockConfigEntry
) -> None:
    fake_addon.token = "rotated"
    await setup_integration(hass, mock_config_entry)
    assert mock_config_entry.state is ConfigEntryState.SETUP_ERROR
    flows = hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    assert [flow["context"]["source"] for flow in flows] == ["reauth"]


async def test_token_rejected_on_reconnect_starts_reauth(
    hass: HomeAssistant, fake_addon: FakeAddon, mock_config_entry: MockConfigEntry
) -> None:
    await setup_integration(hass, mock_config_entry)
    fake_addon.token = "rotated"
    await fake_addon.drop_connections()
    await wait_for(hass, lambda: bool(hass.config_entries.flow.async_progress_by_handler(DOMAIN)))
    assert hass.states.get(MOTION).state == STATE_UNAVAILABLE  # type: ignore[union-attr]


async def test_one_device_per_camera(
    hass: HomeAssistant,
    socket_enabled: None,
    device_registry: dr.DeviceRegistry,
    entity_registry: er.EntityRegistry,
) -> None:
    async with running_addon(
        cameras=(("front_door", "Front door"), ("back_door", "Back door"))
    ) as addon:
        entry = addon_entry(addon)
        await setup_integration(hass, entry)
        devices = dr.async_entries_for_config_entry(device_registry, entry.entry_id)
        (hub,) = [d for d in devices if d.entry_type is dr.DeviceEntryType.SERVICE]
        devices = [d for d in devices if d is not hub]
        assert sorted(d.name for d in devices if d.name) == ["Back door", "Front door"]
        assert {d.via_device_id for d in devices} == {hub.id}
        for device in devices:
            (identifier,) = device.identifiers
            assert identifier[0] == DOMAIN
            entities = er.async_entries_for_device(entity_registry, device.id)
            assert {e.domain for e in entities} == {
                "binary_sensor",
                "button",
                "camera",
                "event",
                "image",
                "number",
                "sensor",
                "switch",
            }
        assert {identifier for d in devices for identifier in d.identifiers} == {
            (DOMAIN, f"{addon.instance_id}_front_door"),
            (DOMAIN, f"{addon.instance_id}_back_door"),
        }
        assert await hass.config_entries.async_unload(entry.entry_id)


async def test_disconnect_makes_entities_unavailable_then_resyncs(
    hass: HomeAssistant, fake_addon: FakeAddon, mock_config_entry: MockConfigEntry
) -> None:
    await setup_integration(hass, mock_config_entry)
    assert hass.states.get(MOTION).state == STATE_OFF  # type: ignore[union-attr]

    await fake_addon.stop()
    await wait_for(hass, lambda: hass.states.get(MOTION).state == STATE_UNAVAILABLE)  # type: ignore[union-attr]
    for entity_id in ("event.front_door_doorbell", "camera.front_door"):
        assert hass.states.get(entity_id).state == STATE_UNAVAILABLE  # type: ignore[union-attr]

    # Motion started while the integration was away: the resync brings it in.
    fake_addon.motion("front_door", True)
    await fake_addon.start()
    await wait_for(hass, lambda: hass.states.get(MOTION).state == STATE_ON)  # type: ignore[union-attr]
    assert hass.states.get("camera.front_door").state != STATE_UNAVAILABLE  # type: ignore[union-attr]
