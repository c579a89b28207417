"""Doorbell event entity."""

from __future__ import annotations

from typing import TYPE_CHECKING
from unittest.mock import patch

from homeassistant.const import STATE_UNKNOWN, Platform
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
)

from .conftest import setup_integration, wait_for_state as wait_for
from .fake_addon import FakeAddon

if TYPE_CHECKING:
    from homeassistant.core import HomeAssistant

DOORBELL = "event.front_door_doorbell"


@pytest.fixture(autouse=True)
def only_event_platform() -> object:
    with patch("custom_components.porchlight.PLATFORMS", [Platform.EVENT]):
        yield


async def test_ring_fires_event(hass: HomeAssistant, loaded: FakeAddon) -> None:
    assert hass.states.get(DOORBELL).state == STATE_UNKNOWN  # type: ignore[union-attr]

    event = loaded.ring(source="button")
    await wait_for(hass, lambda: hass.states.get(DOORBELL).state != STATE_UNKNOWN)  # type: ignore[union-attr]
    state = hass.states.get(DOORBELL)
    assert state is not None
    assert state.attributes["event_type"] == "ring"
    assert state.attributes["source"] == "button"
    assert state.attributes["seq"] == event["seq"]
    assert state.attributes["rang_at"] == "2025-11-27T19:00:01+00:00"
    first = state.state

    # Motion is not a ring: the doorbell entity must not fire for it.
    loaded.motion("front_door", True)
    loaded.ring(source="api")
    await wait_for(hass, lambda: hass.states.get(DOORBELL).attributes["source"] == "api")  # type: ignore[union-attr]
    state = hass.states.get(DOORBELL)
    assert state is not None
    assert state.attributes["seq"] == event["seq"] + 2
    assert state.state != first


async def test_ring_missed_while_disconnected_is_delivered_once(
    hass: HomeAssistant, fake_addon: FakeAddon, mock_config_entry: MockConfigEntry
) -> None:
    await setup_integration(hass, mock_config_entry)
    fired: list[int] = []
    hass.bus.async_listen(
        "state_changed",
        lambda e: fired.append(e.data["new_state"].attributes.get("seq"))
        if e.data["entity_id"] == DOORBELL and e.data["new_state"].state not in ("unavailable",)
        else None,
    )
    await fake_addon.stop()
    await wait_for(hass, lambda: hass.states.get(DOORBELL).state == "unavailable")  # type: ignore[union-attr]
    missed = fake_addon.ring()
    await fake_addon.start()
    await wait_for(hass, lambda: missed["seq"] in fired)
    fake_addon.ring()
    await wait_for(hass, lambda: missed["seq"] + 1 in fired)
    rings = [seq for seq in fired if seq is not None]
    assert rings.count(missed["seq"]) == 1
