"""Snapshots of every platform's entities (registry entries and states) and diagnostics."""

from __future__ import annotations

from typing import TYPE_CHECKING
from unittest.mock import patch

from homeassistant.const import Platform
from homeassistant.helpers import entity_registry as er
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, snapshot_platform
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
)
from syrupy.assertion import SnapshotAssertion
from syrupy.filters import props

from custom_components.porchlight import PLATFORMS
from custom_components.porchlight.pyporchlight.protocol import Command, ErrorCode

from .conftest import setup_integration, setup_subscribed, wait_for_state
from .fake_addon import BASE_TIME, FakeAddon

if TYPE_CHECKING:
    from homeassistant.core import HomeAssistant
    from pytest_homeassistant_custom_component.typing import ClientSessionGenerator


@pytest.fixture(autouse=True)
def stable_tokens() -> object:
    """Camera and image entities put a random access token in entity_picture."""
    with (
        patch("homeassistant.components.camera._RND.getrandbits", return_value=0xABC),
        patch("homeassistant.components.image._RND.getrandbits", return_value=0xABC),
    ):
        yield


@pytest.mark.parametrize("platform", PLATFORMS)
async def test_entities(
    hass: HomeAssistant,
    fake_addon: FakeAddon,
    mock_config_entry: MockConfigEntry,
    entity_registry: er.EntityRegistry,
    snapshot: SnapshotAssertion,
    platform: Platform,
) -> None:
    with patch("custom_components.porchlight.PLATFORMS", [platform]):
        await setup_integration(hass, mock_config_entry)
        # Enable the entities that are off by default, so their states are covered too.
        for entry in er.async_entries_for_config_entry(entity_registry, mock_config_entry.entry_id):
            if entry.disabled_by is not None:
                entity_registry.async_update_entity(entry.entity_id, disabled_by=None)
        await hass.config_entries.async_reload(mock_config_entry.entry_id)
        await hass.async_block_till_done()
        await snapshot_platform(hass, entity_registry, snapshot, mock_config_entry.entry_id)


async def test_diagnostics(
    hass: HomeAssistant,
    fake_addon: FakeAddon,
    mock_config_entry: MockConfigEntry,
    hass_client: ClientSessionGenerator,
    snapshot: SnapshotAssertion,
) -> None:
    fake_addon.ring_snapshots = True
    await setup_subscribed(hass, fake_addon, mock_config_entry)
    fake_addon.ring()
    data = mock_config_entry.runtime_data
    await wait_for_state(hass, lambda: "front_door" in data.last_visitor)
    diagnostics = await get_diagnostics_for_config_entry(hass, hass_client, mock_config_entry)
    assert diagnostics["entry"]["data"]["token"] == "**REDACTED**"
    assert fake_addon.token not in str(diagnostics)
    assert diagnostics == snapshot(exclude=props("created_at", "modified_at", "port"))


async def test_camera_credentials_in_status_reasons_are_redacted(
    hass: HomeAssistant,
    fake_addon: FakeAddon,
    mock_config_entry: MockConfigEntry,
    hass_client: ClientSessionGenerator,
) -> None:
    """A status reason that embeds a camera URL (as an older add-on sent it) is redacted on
    the way in, whichever way it comes: full state, camera_status or camera_state."""
    leak = "rtsp://admin:Sunny/Day42@cam.lan/s?usr=admin&pwd=hunter2 refused"
    clean = "rtsp://***@cam.lan/s?usr=***&pwd=*** refused"
    fake_addon.cameras["front_door"]["status_reason"] = leak
    await setup_subscribed(hass, fake_addon, mock_config_entry)
    data = mock_config_entry.runtime_data
    assert data.cameras["front_door"]["status_reason"] == clean  # from get_state
    fake_addon.status("front_door", "online", None)
    await wait_for_state(hass, lambda: data.cameras["front_door"]["status_reason"] is None)
    fake_addon.status("front_door", "offline", leak)
    await wait_for_state(hass, lambda: data.cameras["front_door"]["status_reason"] == clean)
    fake_addon.cameras["front_door"]["status_reason"] = "x " + leak
    fake_addon.camera_state_changed("front_door")
    await wait_for_state(hass, lambda: data.cameras["front_door"]["status_reason"] == "x " + clean)
    diagnostics = await get_diagnostics_for_config_entry(hass, hass_client, mock_config_entry)
    for secret in ("Sunny", "Day42", "hunter2"):
        assert secret not in str(diagnostics)
        assert all(secret not in str(state.attributes) for state in hass.states.async_all())


async def test_diagnostics_fetch_the_current_state(
    hass: HomeAssistant,
    loaded: FakeAddon,
    mock_config_entry: MockConfigEntry,
    hass_client: ClientSessionGenerator,
) -> None:
    fake_addon = loaded
    # The add-on moves on: frames, the last frame and seq change without any event.
    camera = fake_addon.cameras["front_door"]
    camera["frames"], camera["last_frame"] = 4321, BASE_TIME + 600
    fake_addon.ring()
    diagnostics = await get_diagnostics_for_config_entry(hass, hass_client, mock_config_entry)
    assert diagnostics["state_source"] == "add-on"
    assert diagnostics["state_error"] is None
    state = diagnostics["state"]
    assert state["seq"] == fake_addon.seq
    (front_door,) = state["cameras"]
    assert (front_door["frames"], front_door["last_frame"]) == (4321, BASE_TIME + 600)
    assert front_door["last_ring"] is not None
    assert state["storage"] == fake_addon.storage

    # The add-on cannot answer: the last known state, marked as such.
    fake_addon.failing_commands[Command.GET_STATE] = ErrorCode.INTERNAL_ERROR
    diagnostics = await get_diagnostics_for_config_entry(hass, hass_client, mock_config_entry)
    assert diagnostics["state_source"] == "cached"
    assert "it failed" in diagnostics["state_error"]
    assert [c["name"] for c in diagnostics["state"]["cameras"]] == ["front_door"]
    assert fake_addon.token not in str(diagnostics)
