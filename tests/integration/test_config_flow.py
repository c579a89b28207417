"""Config flow against the fake add-on."""

from __future__ import annotations

from collections.abc import Callable
from ipaddress import ip_address
from typing import TYPE_CHECKING

from homeassistant.config_entries import SOURCE_HASSIO, SOURCE_USER, SOURCE_ZEROCONF
from homeassistant.const import CONF_HOST, CONF_PORT
from homeassistant.data_entry_flow import BaseServiceInfo, FlowResultType
from homeassistant.helpers.service_info.hassio import HassioServiceInfo
from homeassistant.helpers.service_info.zeroconf import ZeroconfServiceInfo
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
)

from custom_components.porchlight.const import CONF_TOKEN, DOMAIN
from custom_components.porchlight.pyporchlight.protocol import version_info

from .conftest import running_addon, setup_integration
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

    fake_addon.version = {"protocol_version": 2, "min_supported_version": "2.0"}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], user_input(fake_addon)
    )
    assert result["errors"] == {"base": "unsupported_version"}
    fake_addon.version = version_info()

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


# --- Supervisor discovery ---------------------------------------------------------------------


def hassio_info(addon: FakeAddon, **config: object) -> HassioServiceInfo:
    return HassioServiceInfo(
        config={"host": "127.0.0.1", "port": addon.port, "token": addon.token, **config},
        name="Porchlight Edge",
        slug="porchlight_edge",
        uuid="1234",
    )


async def test_hassio_discovery_confirms_and_creates_entry(
    hass: HomeAssistant, fake_addon: FakeAddon
) -> None:
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_HASSIO}, data=hassio_info(fake_addon)
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "hassio_confirm"
    assert result["description_placeholders"] == {"name": "Porchlight"}
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["result"].unique_id == fake_addon.instance_id
    assert result["data"] == user_input(fake_addon)
    await hass.async_block_till_done()


async def test_hassio_discovery_aborts_when_addon_unreachable(
    hass: HomeAssistant, fake_addon: FakeAddon
) -> None:
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_HASSIO}, data=hassio_info(fake_addon, token="stale")
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "invalid_auth"


# --- zeroconf ---------------------------------------------------------------------------------


def zeroconf_info(addon: FakeAddon, **properties: str) -> ZeroconfServiceInfo:
    return ZeroconfServiceInfo(
        ip_address=ip_address("127.0.0.1"),
        ip_addresses=[ip_address("127.0.0.1")],
        port=addon.port,
        hostname="porch.local.",
        type="_porchlight._tcp.local.",
        name="Porch._porchlight._tcp.local.",
        properties={"instance_id": addon.instance_id, "version": "0.1.0", "protocol": "1"}
        | properties,
    )


async def test_zeroconf_asks_for_token(hass: HomeAssistant, fake_addon: FakeAddon) -> None:
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_ZEROCONF}, data=zeroconf_info(fake_addon)
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "zeroconf_confirm"
    assert result["description_placeholders"] == {
        "name": "Porch",
        "host": "127.0.0.1",
        "port": str(fake_addon.port),
    }
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_TOKEN: "wrong"}
    )
    assert result["errors"] == {"base": "invalid_auth"}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_TOKEN: fake_addon.token}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"] == user_input(fake_addon)
    assert result["result"].unique_id == fake_addon.instance_id
    await hass.async_block_till_done()


async def test_zeroconf_token_of_another_addon_aborts(
    hass: HomeAssistant, fake_addon: FakeAddon
) -> None:
    result = await hass.config_entries.flow.async_init(
        DOMAIN,
        context={"source": SOURCE_ZEROCONF},
        data=zeroconf_info(fake_addon, instance_id="somebody-else"),
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_TOKEN: fake_addon.token}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "different_device"


@pytest.mark.parametrize(
    ("source", "discovery", "old_token"),
    [
        (SOURCE_HASSIO, hassio_info, "old-token"),  # the Supervisor's token replaces it
        (SOURCE_ZEROCONF, zeroconf_info, None),  # no token in zeroconf: the entry's stays
    ],
)
async def test_discovery_updates_the_entry_of_a_known_addon(
    hass: HomeAssistant,
    fake_addon: FakeAddon,
    source: str,
    discovery: Callable[[FakeAddon], BaseServiceInfo],
    old_token: str | None,
) -> None:
    entry = MockConfigEntry(
        domain=DOMAIN,
        unique_id=fake_addon.instance_id,
        data={CONF_HOST: "10.0.0.9", CONF_PORT: 1, CONF_TOKEN: old_token or fake_addon.token},
    )
    entry.add_to_hass(hass)
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": source}, data=discovery(fake_addon)
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"
    assert entry.data == user_input(fake_addon)


async def test_zeroconf_without_instance_id_aborts(
    hass: HomeAssistant, fake_addon: FakeAddon
) -> None:
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_ZEROCONF}, data=zeroconf_info(fake_addon, instance_id="")
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "not_porchlight"


# --- reconfigure and reauth -------------------------------------------------------------------


async def test_reconfigure_changes_address(
    hass: HomeAssistant, fake_addon: FakeAddon, mock_config_entry: MockConfigEntry
) -> None:
    await setup_integration(hass, mock_config_entry)
    result = await mock_config_entry.start_reconfigure_flow(hass)
    assert result["step_id"] == "reconfigure"
    old_port = fake_addon.port
    await fake_addon.stop()
    fake_addon.port = 0  # the add-on comes back on another port
    await fake_addon.start()
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_HOST: "127.0.0.1", CONF_PORT: old_port}
    )
    assert result["errors"] == {"base": "cannot_connect"}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_HOST: "127.0.0.1", CONF_PORT: fake_addon.port}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    assert mock_config_entry.data[CONF_PORT] == fake_addon.port
    assert mock_config_entry.data[CONF_TOKEN] == fake_addon.token
    await hass.async_block_till_done()


async def test_reconfigure_to_another_addon_aborts(
    hass: HomeAssistant, fake_addon: FakeAddon, mock_config_entry: MockConfigEntry
) -> None:
    await setup_integration(hass, mock_config_entry)
    async with running_addon(instance_id="another-one") as other:
        result = await mock_config_entry.start_reconfigure_flow(hass)
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], {CONF_HOST: "127.0.0.1", CONF_PORT: other.port}
        )
        assert result["type"] is FlowResultType.ABORT
        assert result["reason"] == "different_device"
        assert mock_config_entry.data[CONF_PORT] == fake_addon.port


async def test_reauth_with_token_of_another_addon_aborts(
    hass: HomeAssistant, fake_addon: FakeAddon, mock_config_entry: MockConfigEntry
) -> None:
    await setup_integration(hass, mock_config_entry)
    result = await mock_config_entry.start_reauth_flow(hass)
    assert result["description_placeholders"] == {"name": "Porchlight"}
    fake_addon.instance_id = "reset-data-folder"  # same address, a different add-on now
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_TOKEN: fake_addon.token}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "different_device"
