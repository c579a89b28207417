"""Config flow: manual, Supervisor and zeroconf discovery, reauth and reconfigure.

Manual setup asks for host, port and token; every path proves the settings by
connecting to the add-on.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, override

from homeassistant.config_entries import ConfigFlow, ConfigFlowResult
from homeassistant.const import CONF_HOST, CONF_PORT
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.selector import (
    NumberSelector,
    NumberSelectorConfig,
    NumberSelectorMode,
    TextSelector,
    TextSelectorConfig,
    TextSelectorType,
)
import probatio

from .const import CONF_TOKEN, DEFAULT_NAME, DOMAIN
from .pyporchlight.client import PorchlightClient
from .pyporchlight.exceptions import (
    PorchlightAuthError,
    PorchlightConnectionError,
    PorchlightUnsupportedVersion,
)
from .pyporchlight.protocol import DEFAULT_PORT, ServerInfo

if TYPE_CHECKING:
    from collections.abc import Mapping

    from homeassistant.helpers.service_info.hassio import HassioServiceInfo
    from homeassistant.helpers.service_info.zeroconf import ZeroconfServiceInfo

TOKEN_SELECTOR = TextSelector(TextSelectorConfig(type=TextSelectorType.PASSWORD))
TOKEN_SCHEMA = probatio.Schema({probatio.Required(CONF_TOKEN): TOKEN_SELECTOR})


def _address_schema(defaults: Mapping[str, Any]) -> dict[Any, Any]:
    return {
        probatio.Required(CONF_HOST, default=defaults.get(CONF_HOST, "")): TextSelector(
            TextSelectorConfig(autocomplete="off")
        ),
        probatio.Required(CONF_PORT, default=defaults.get(CONF_PORT, DEFAULT_PORT)): NumberSelector(
            NumberSelectorConfig(min=1, max=65535, mode=NumberSelectorMode.BOX)
        ),
    }


class PorchlightConfigFlow(ConfigFlow, domain=DOMAIN):
    """Add a Porchlight add-on by address and token, or from a discovery."""

    VERSION = 1

    def __init__(self) -> None:
        self._discovered: dict[str, Any] = {}
        self._name = DEFAULT_NAME

    # --- manual -----------------------------------------------------------------------------

    @override
    async def async_step_user(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        errors: dict[str, str] = {}
        if user_input is not None:
            user_input = {**user_input, CONF_PORT: int(user_input[CONF_PORT])}
            info, error = await self._async_try_connect(user_input)
            if info is None:
                errors["base"] = error
            else:
                await self.async_set_unique_id(info["instance_id"], raise_on_progress=False)
                self._abort_if_unique_id_configured(
                    updates={CONF_HOST: user_input[CONF_HOST], CONF_PORT: user_input[CONF_PORT]}
                )
                return self.async_create_entry(
                    title=info.get("name") or DEFAULT_NAME, data=user_input
                )
        else:
            user_input = {}

        return self.async_show_form(
            step_id="user",
            data_schema=probatio.Schema(
                {**_address_schema(user_input), probatio.Required(CONF_TOKEN): TOKEN_SELECTOR}
            ),
            errors=errors,
        )

    # --- Supervisor discovery (the add-on publishes host, port and token) ------------------

    async def async_step_hassio(self, discovery_info: HassioServiceInfo) -> ConfigFlowResult:
        """Start from the Supervisor's discovery (host, port and token of the add-on).

        Aborts when the settings do not work or the add-on is already configured (its
        entry's host, port and token are updated instead).
        """
        config = discovery_info.config
        data = {
            CONF_HOST: str(config["host"]),
            CONF_PORT: int(config["port"]),
            CONF_TOKEN: str(config["token"]),
        }
        info, error = await self._async_try_connect(data)
        if info is None:
            return self.async_abort(reason=error)
        await self.async_set_unique_id(info["instance_id"])
        # A known add-on that moved or got a new token: follow it.
        self._abort_if_unique_id_configured(updates=data)
        self._discovered = data
        self._name = info.get("name") or discovery_info.name or DEFAULT_NAME
        self.context["title_placeholders"] = {"name": self._name}
        return await self.async_step_hassio_confirm()

    async def async_step_hassio_confirm(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Ask the user to confirm a Supervisor-discovered add-on, then create the entry."""
        if user_input is not None:
            return self.async_create_entry(title=self._name, data=self._discovered)
        return self.async_show_form(
            step_id="hassio_confirm", description_placeholders={"name": self._name}
        )

    # --- zeroconf (standalone add-on; no token in the advertisement) ------------------------

    async def async_step_zeroconf(self, discovery_info: ZeroconfServiceInfo) -> ConfigFlowResult:
        """Start from a zeroconf advertisement (`_porchlight._tcp`, `instance_id` property).

        The advertisement has no token; an already configured add-on gets its new address.
        """
        instance_id = discovery_info.properties.get("instance_id")
        if not instance_id or discovery_info.port is None:
            return self.async_abort(reason="not_porchlight")
        host = str(discovery_info.ip_address)
        await self.async_set_unique_id(str(instance_id))
        self._abort_if_unique_id_configured(
            updates={CONF_HOST: host, CONF_PORT: discovery_info.port}
        )
        self._discovered = {CONF_HOST: host, CONF_PORT: discovery_info.port}
        self._name = discovery_info.name.removesuffix("." + discovery_info.type) or DEFAULT_NAME
        self.context["title_placeholders"] = {"name": self._name}
        return await self.async_step_zeroconf_confirm()

    async def async_step_zeroconf_confirm(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Ask for the access token of a zeroconf-discovered add-on and prove it by connecting."""
        errors: dict[str, str] = {}
        if user_input is not None:
            data = {**self._discovered, CONF_TOKEN: user_input[CONF_TOKEN]}
            info, error = await self._async_try_connect(data)
            if info is None:
                errors["base"] = error
            elif info["instance_id"] != self.unique_id:
                return self.async_abort(reason="different_device")
            else:
                return self.async_create_entry(title=info.get("name") or self._name, data=data)
        return self.async_show_form(
            step_id="zeroconf_confirm",
            data_schema=TOKEN_SCHEMA,
            description_placeholders={
                "name": self._name,
                "host": self._discovered[CONF_HOST],
                "port": str(self._discovered[CONF_PORT]),
            },
            errors=errors,
        )

    # --- reauth and reconfigure -------------------------------------------------------------

    async def async_step_reauth(self, entry_data: Mapping[str, Any]) -> ConfigFlowResult:
        """The add-on rejected the token (its data folder was reset, or it was rotated)."""
        return await self.async_step_reauth_confirm()

    async def async_step_reauth_confirm(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Ask for a new access token for the entry and prove it; update and reload on success."""
        errors: dict[str, str] = {}
        entry = self._get_reauth_entry()
        if user_input is not None:
            data = {**entry.data, CONF_TOKEN: user_input[CONF_TOKEN]}
            info, error = await self._async_try_connect(data)
            if info is None:
                errors["base"] = error
            else:
                await self.async_set_unique_id(info["instance_id"])
                self._abort_if_unique_id_mismatch(reason="different_device")
                return self.async_update_reload_and_abort(entry, data=data)

        return self.async_show_form(
            step_id="reauth_confirm",
            data_schema=TOKEN_SCHEMA,
            description_placeholders={"name": entry.title},
            errors=errors,
        )

    async def async_step_reconfigure(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """A new host or port for the same add-on (the token stays)."""
        errors: dict[str, str] = {}
        entry = self._get_reconfigure_entry()
        if user_input is not None:
            address = {CONF_HOST: user_input[CONF_HOST], CONF_PORT: int(user_input[CONF_PORT])}
            info, error = await self._async_try_connect({**entry.data, **address})
            if info is None:
                errors["base"] = error
            else:
                await self.async_set_unique_id(info["instance_id"])
                self._abort_if_unique_id_mismatch(reason="different_device")
                return self.async_update_reload_and_abort(entry, data_updates=address)
        defaults = user_input if user_input is not None else entry.data
        return self.async_show_form(
            step_id="reconfigure",
            data_schema=probatio.Schema(_address_schema(defaults)),
            errors=errors,
        )

    # --- helpers ----------------------------------------------------------------------------

    async def _async_try_connect(self, data: Mapping[str, Any]) -> tuple[ServerInfo | None, str]:
        """Connect and authenticate once; return the server info or an error key."""
        client = PorchlightClient(
            async_get_clientsession(self.hass),
            data[CONF_HOST],
            int(data[CONF_PORT]),
            data[CONF_TOKEN],
        )
        try:
            return await client.connect(), ""
        except PorchlightAuthError:
            return None, "invalid_auth"
        except PorchlightUnsupportedVersion:
            return None, "unsupported_version"
        except PorchlightConnectionError:
            return None, "cannot_connect"
        finally:
            await client.disconnect()
