"""Config flow against the fake add-on."""

from __future__ import annotations

from typing import TYPE_CHECKING

from homeassistant.config_entries import SOURCE_USER
from homeassistant.const import CONF_HOST, CONF_PORT
from homeassistant.data_entry_flow import FlowResultType
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
)

from custom_components.porchlight.const import CONF_TOKEN, DOMAIN
from custom_components.porchlight.protocol import PROTOCOL_VERSION

from .conftest import setup_integration
from .fake_addon import FakeAddon

if TYPE_CHECKING:
    from homeassistant.core import HomeAssistant


def user_input(addon: FakeAddon, **overrides: object) -> dict[str, object]:
    return {CONF_HOST: "127.0.0.1", CONF_PORT: addon.port, CONF_TOKEN: addon.token, **overrides}


async def test_user_flow_creates_entry(hass: HomeAssistant, fake_addon: FakeAddon) -> None:
    fake_addon.name = "Front porch"
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "user"
    assert result["errors"] == {}

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], user_input(fake_addon)
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "Front porch"
    assert result["data"] == user_input(fake_addon)
    assert result["result"].unique_id == fake_addon.instance_id
    await hass.async_block_till_done()
    # The flow's probe connection is closed; only the set-up entry's remains.
    assert fake_addon.connection_count == 1


async def test_user_flow_errors_then_recovers(hass: HomeAssistant, fake_addon: FakeAddon) -> None:
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], user_input(fake_addon, **{CONF_TOKEN: "wrong"})
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "invalid_auth"}

    fake_addon.protocol_version = PROTOCOL_VERSION + 1
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], user_input(fake_addon)
    )
    assert result["errors"] == {"base": "unsupported_version"}
    fake_addon.protocol_version = PROTOCOL_VERSION

    await fake_addon.stop()
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], user_input(fake_addon)
    )
    assert result["errors"] == {"base": "cannot_connect"}

    await fake_addon.start()
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], user_input(fake_addon)
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()


async def test_user_flow_aborts_when_already_configured(
    hass: HomeAssistant, fake_addon: FakeAddon, mock_config_entry: MockConfigEntry
) -> None:
    await setup_integration(hass, mock_config_entry)
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], user_input(fake_addon)
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"
    assert len(hass.config_entries.async_entries(DOMAIN)) == 1


async def test_reauth_flow_updates_token(
    hass: HomeAssistant, fake_addon: FakeAddon, mock_config_entry: MockConfigEntry
) -> None:
    await setup_integration(hass, mock_config_entry)
    fake_addon.token = "new-token"
    result = await mock_config_entry.start_reauth_flow(hass)
    assert result["step_id"] == "reauth_confirm"

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_TOKEN: "still-wrong"}
    )
    assert result["errors"] == {"base": "invalid_auth"}

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_TOKEN: "new-token"}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reauth_successful"
    assert mock_config_entry.data[CONF_TOKEN] == "new-token"
    await hass.async_block_till_done()
