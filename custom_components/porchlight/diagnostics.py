"""Diagnostics: the entry (token redacted), connection, server info and full state."""

from __future__ import annotations

from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from homeassistant.components.diagnostics import async_redact_data

from .const import CONF_TOKEN

if TYPE_CHECKING:
    from homeassistant.core import HomeAssistant

    from .data import PorchlightConfigEntry

TO_REDACT = {CONF_TOKEN}


async def async_get_config_entry_diagnostics(
    hass: HomeAssistant, entry: PorchlightConfigEntry
) -> dict[str, Any]:
    """What support needs of an entry: connection, server info, state (token redacted)."""
    data = entry.runtime_data
    client = data.client
    return {
        "entry": async_redact_data(entry.as_dict(), TO_REDACT),
        "connected": data.connected,
        "last_event": list(client.last_event) if client.last_event else None,
        "server_info": dict(data.server_info),
        # Camera states as the entities show them: status reasons already redacted.
        "state": {**data.state, "cameras": list(data.cameras.values()), "storage": data.storage},
        "last_visitor": {camera: asdict(v) for camera, v in data.last_visitor.items()},
    }
