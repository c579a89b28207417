"""The Porchlight integration: a local video doorbell served by the Porchlight add-on."""

from __future__ import annotations

from homeassistant.const import CONF_HOST, CONF_PORT, Platform
from homeassistant.core import HomeAssistant, callback
from homeassistant.exceptions import ConfigEntryAuthFailed, ConfigEntryNotReady
from homeassistant.helpers.aiohttp_client import async_get_clientsession

from .client import PorchlightClient
from .const import BACKOFF_MAX, BACKOFF_MIN, CONF_TOKEN, DOMAIN, LOGGER
from .data import PorchlightConfigEntry, PorchlightData
from .exceptions import (
    PorchlightAuthError,
    PorchlightError,
    PorchlightUnsupportedVersion,
)

PLATFORMS = [Platform.BINARY_SENSOR, Platform.CAMERA, Platform.EVENT]


async def async_setup_entry(hass: HomeAssistant, entry: PorchlightConfigEntry) -> bool:
    """Connect once (so errors surface here), then keep the connection in the background."""
    client = PorchlightClient(
        async_get_clientsession(hass),
        entry.data[CONF_HOST],
        entry.data[CONF_PORT],
        entry.data[CONF_TOKEN],
        backoff_min=BACKOFF_MIN,
        backoff_max=BACKOFF_MAX,
    )
    try:
        server_info = await client.connect()
        state = await client.get_state()
    except PorchlightAuthError as err:
        await client.disconnect()
        raise ConfigEntryAuthFailed(
            translation_domain=DOMAIN, translation_key="invalid_auth"
        ) from err
    except PorchlightUnsupportedVersion as err:
        await client.disconnect()
        raise ConfigEntryNotReady(
            translation_domain=DOMAIN,
            translation_key="unsupported_version",
            translation_placeholders={
                "server_version": str(err.server_version),
                "client_version": str(err.client_version),
            },
        ) from err
    except PorchlightError as err:
        await client.disconnect()
        raise ConfigEntryNotReady(
            translation_domain=DOMAIN,
            translation_key="cannot_connect",
            translation_placeholders={"error": str(err)},
        ) from err

    data = PorchlightData(client=client, server_info=server_info, state=state)
    entry.runtime_data = data

    @callback
    def auth_failed() -> None:
        LOGGER.debug("Starting reauthentication for %s", entry.title)
        entry.async_start_reauth(hass)

    entry.async_create_background_task(
        hass,
        client.run(
            on_event=data.handle_event,
            on_state=data.handle_state,
            on_connection=data.handle_connection,
            on_auth_failed=auth_failed,
        ),
        name=f"Porchlight {entry.title} connection",
    )
    # Stop the loop and close the socket even if a platform fails to unload.
    entry.async_on_unload(client.stop)

    await hass.config_entries.async_forward_entry_setups(entry, PLATFORMS)
    return True


async def async_unload_entry(hass: HomeAssistant, entry: PorchlightConfigEntry) -> bool:
    return await hass.config_entries.async_unload_platforms(entry, PLATFORMS)
