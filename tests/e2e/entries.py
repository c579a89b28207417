"""A Home Assistant config entry for a running add-on process: build, set up, unload."""

from __future__ import annotations

from typing import TYPE_CHECKING

from homeassistant.config_entries import ConfigEntry, ConfigEntryState
from homeassistant.const import CONF_HOST, CONF_PORT
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.porchlight.const import CONF_TOKEN, DOMAIN

if TYPE_CHECKING:
    from homeassistant.core import HomeAssistant

    from .addon_process import AddonProcess


def entry_for(addon: AddonProcess) -> MockConfigEntry:
    """The entry the config flow would create for this add-on."""
    return MockConfigEntry(
        domain=DOMAIN,
        title="Porchlight",
        unique_id=addon.instance_id,
        data={CONF_HOST: "127.0.0.1", CONF_PORT: addon.port, CONF_TOKEN: addon.token},
    )


async def setup_entry(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED


async def unload_entry(hass: HomeAssistant, entry: ConfigEntry) -> None:
    assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()
