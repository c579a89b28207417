"""A newer integration with an older add-on: the recorded protocol 1.0 add-on (see
recorded_addon.py) served to the current client and to Home Assistant."""

from __future__ import annotations

from collections.abc import AsyncGenerator

import aiohttp
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import CONF_HOST, CONF_PORT, CONF_TOKEN
from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.porchlight.const import DOMAIN
from custom_components.porchlight.pyporchlight.client import PorchlightClient
from custom_components.porchlight.pyporchlight.protocol import (
    CURRENT_VERSION,
    MIN_SUPPORTED_VERSION,
    EventMessage,
)
from tests.helpers.waiting import wait_until as wait_for

from .conftest import setup_integration, wait_for_state
from .recorded_addon import RecordedAddon, recorded


@pytest.fixture
async def old_addon(socket_enabled: None) -> AsyncGenerator[RecordedAddon]:
    addon = RecordedAddon()
    await addon.start()
    yield addon
    await addon.stop()


async def test_client_talks_to_a_1_0_add_on(old_addon: RecordedAddon) -> None:
    events: list[EventMessage] = []
    async with aiohttp.ClientSession() as session:
        client = PorchlightClient(session, "127.0.0.1", old_addon.port, old_addon.token)
        info = await client.connect()
        assert info["instance_id"] == recorded("server_info")["instance_id"]
        # The client announced its own version and minimum at auth.
        auth = old_addon.auth_seen[-1]
        assert (auth["protocol_version"], auth["protocol_minor"]) == tuple(CURRENT_VERSION)
        assert auth["min_supported_version"] == str(MIN_SUPPORTED_VERSION)

        state = await client.get_state()
        assert [camera["name"] for camera in state["cameras"]] == ["front_door", "garage"]
        assert (await client.get_storage())["paused"] is False
        assert await client.take_snapshot("front_door")
        clips = await client.record_clip("front_door", 1)
        assert set(clips) == {"clip_id", "event_id"}
        await client.disconnect()

        client.start(
            on_event=events.append, on_state=lambda _state: None, on_connection=lambda _c: None
        )
        await wait_for(lambda: len(old_addon.subscribers) == 1)
        await old_addon.play()
        await wait_for(lambda: len(events) == len(old_addon.events))
        assert [event["event"] for event in events] == [e["event"] for e in old_addon.events]
        await client.stop()


async def test_home_assistant_loads_a_1_0_add_on_and_gets_its_ring(
    hass: HomeAssistant, old_addon: RecordedAddon
) -> None:
    entry = MockConfigEntry(
        domain=DOMAIN,
        title="Porchlight",
        unique_id=recorded("server_info")["instance_id"],
        data={CONF_HOST: "127.0.0.1", CONF_PORT: old_addon.port, CONF_TOKEN: old_addon.token},
    )
    await setup_integration(hass, entry)
    assert entry.state is ConfigEntryState.LOADED
    ring = recorded("events")["ring"]
    await wait_for_state(hass, lambda: len(old_addon.subscribers) == 1)
    await old_addon.play()
    await wait_for_state(
        hass,
        lambda: (state := hass.states.get("event.front_door_doorbell")) is not None
        and state.attributes.get("seq") == ring["seq"],
    )
    assert hass.states.get("camera.front_door") is not None
    await hass.config_entries.async_unload(entry.entry_id)
