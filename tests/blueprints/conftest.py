"""Fixtures for the blueprint tests: the repository's blueprints in a fresh config folder."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
import shutil
from typing import Any
from unittest.mock import patch

from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import device_registry as dr, template
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
)

BLUEPRINTS = Path(__file__).resolve().parents[2] / "blueprints" / "automation" / "porchlight"


@pytest.fixture
def blueprint_folder(hass: HomeAssistant, tmp_path: Path) -> Path:
    """Home Assistant's config folder moved to tmp_path, with our blueprints in it
    (where a user's copy would be: blueprints/automation/porchlight/)."""
    hass.config.config_dir = str(tmp_path)
    target = Path(hass.config.path("blueprints", "automation", "porchlight"))
    shutil.copytree(BLUEPRINTS, target)
    return target


async def use_blueprint(hass: HomeAssistant, file: str, inputs: dict[str, Any]) -> None:
    assert await async_setup_component(
        hass,
        "automation",
        {"automation": {"use_blueprint": {"path": f"porchlight/{file}", "input": inputs}}},
    )
    await hass.async_block_till_done()
    state = hass.states.get("automation.automation_0")
    assert state is not None, "the blueprint did not load"
    assert state.state == "on"


async def settle(hass: HomeAssistant) -> None:
    """Let running automations reach their next wait (block_till_done would wait out
    the cooldown delays)."""
    for _ in range(30):
        await asyncio.sleep(0)


class Clock:
    """Moves Home Assistant's timers forward (delays, wait timeouts)."""

    def __init__(self, hass: HomeAssistant) -> None:
        self.hass = hass
        self.now = dt_util.utcnow()

    async def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)
        async_fire_time_changed(self.hass, self.now)
        await settle(self.hass)


@pytest.fixture
def clock(hass: HomeAssistant) -> Clock:
    return Clock(hass)


@pytest.fixture
def phone(hass: HomeAssistant, device_registry: dr.DeviceRegistry) -> dr.DeviceEntry:
    """A phone with the companion app (only its device entry matters to the blueprint)."""
    entry = MockConfigEntry(domain="mobile_app", data={})
    entry.mock_state(hass, ConfigEntryState.LOADED)
    entry.add_to_hass(hass)
    return device_registry.async_get_or_create(
        config_entry_id=entry.entry_id,
        connections={(dr.CONNECTION_NETWORK_MAC, "00:00:00:00:00:01")},
        name="Phone",
    )


class Notifications:
    """Notifications the mobile_app device action would have sent, rendered."""

    def __init__(self, hass: HomeAssistant) -> None:
        self.hass = hass
        self.sent: list[dict[str, Any]] = []

    @callback
    def record(
        self, hass: HomeAssistant, config: dict[str, Any], variables: Any, context: Any
    ) -> None:
        rendered: dict[str, Any] = {}
        for key in ("title", "message", "data"):
            if key in config:
                rendered[key] = template.render_complex(config[key], variables)
        rendered["device_id"] = config["device_id"]
        self.sent.append(rendered)


@pytest.fixture
def notifications(hass: HomeAssistant) -> Iterator[Notifications]:
    box = Notifications(hass)

    async def fake_call(
        hass: HomeAssistant, config: dict[str, Any], variables: Any, context: Any
    ) -> None:
        box.record(hass, config, variables, context)

    with patch(
        "homeassistant.components.mobile_app.device_action.async_call_action_from_config",
        fake_call,
    ):
        yield box
