"""Motion binary sensor."""

from __future__ import annotations

from typing import TYPE_CHECKING
from unittest.mock import patch

from homeassistant.const import STATE_OFF, STATE_ON, Platform
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
)

from .conftest import setup_integration, wait_for_state as wait_for
from .fake_addon import FakeAddon

if TYPE_CHECKING:
    from homeassistant.core import HomeAssistant

MOTION = "binary_sensor.front_door_motion"


@pytest.fixture(autouse=True)
def only_binary_sensor_platform() -> object:
    with patch("custom_components.porchlight.PLATFORMS", [Platform.BINARY_SENSOR]):
        yield


async def test_initial_state_comes_from_the_addon(
    hass: HomeAssistant, fake_addon: FakeAddon, mock_config_entry: MockConfigEntry
) -> None:
    fake_addon.cameras["front_door"]["motion"] = True
    await setup_integration(hass, mock_config_entry)
    assert hass.states.get(MOTION).state == STATE_ON  # type: ignore[union-attr]


async def test_motion_events_turn_sensor_on_and_off(hass: HomeAssistant, loaded: FakeAddon) -> None:
    assert hass.states.get(MOTION).state == STATE_OFF  # type: ignore[union-attr]

    loaded.motion("front_door", True)
    await wait_for(hass, lambda: hass.states.get(MOTION).state == STATE_ON)  # type: ignore[union-attr]
    loaded.motion("front_door", False)
    await wait_for(hass, lambda: hass.states.get(MOTION).state == STATE_OFF)  # type: ignore[union-attr]
