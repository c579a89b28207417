"""Config flow: host, port and the add-on's access token, checked by connecting."""

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

from .client import PorchlightClient
from .const import CONF_TOKEN, DEFAULT_NAME, DOMAIN, LOGGER
from .exceptions import (
    PorchlightAuthError,
    PorchlightConnectionError,
    PorchlightError,
    PorchlightUnsupportedVersion,
)
from .protocol import DEFAULT_PORT, ServerInfo

if TYPE_CHECKING:
    from collections.abc import Mapping


class PorchlightConfigFlow(ConfigFlow, domain=DOMAIN):
    """Add a Porchlight add-on by address and token."""

    VERSION = 1

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
                {
                    probatio.Required(
                        CONF_HOST, default=user_input.get(CONF_HOST, "")
                    ): TextSelector(TextSelectorConfig(autocomplete="off")),
                    probatio.Required(
                        CONF_PORT, default=user_input.get(CONF_PORT, DEFAULT_PORT)
                    ): NumberSelector(
                        NumberSelectorConfig(min=1, max=65535, mode=NumberSelectorMode.BOX)
                    ),
                    probatio.Required(CONF_TOKEN): TextSelector(
                        TextSelectorConfig(type=TextSelectorType.PASSWORD)
                    ),
                }
            ),
            errors=errors,
        )

    async def async_step_reauth(self, entry_data: Mapping[str, Any]) -> ConfigFlowResult:
        """The add-on rejected the token (its data folder was reset, or it was rotated)."""
        return await self.async_step_reauth_confirm()

    async def async_step_reauth_confirm(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
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
            data_schema=probatio.Schema(
                {
                    probatio.Required(CONF_TOKEN): TextSelector(
                        TextSelectorConfig(type=TextSelectorType.PASSWORD)
                    )
                }
            ),
            errors=errors,
        )

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
        except PorchlightError:
            LOGGER.exception("Unexpected error talking to the add-on")
            return None, "unknown"
        finally:
            await client.disconnect()
