"""Diagnostics: the entry (token redacted), connection, server info and full state."""

from __future__ import annotations

from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from homeassistant.components.diagnostics import async_redact_data

from .const import CONF_TOKEN
from .protocol import redact_secrets

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
    # Camera URLs can surface in status reasons (older add-ons did not redact them all).
    cameras = [
        {**camera, "status_reason": redact_secrets(str(camera["status_reason"]))}
        if camera.get("status_reason")
        else camera
        for camera in data.cameras.values()
    ]
    return {
        "entry": async_redact_data(entry.as_dict(), TO_REDACT),
        "connected": data.connected,
        "last_event": list(client.last_event) if client.last_event else None,
        "server_info": dict(data.server_info),
        "state": {**data.state, "cameras": cameras, "storage": data.storage},
        "last_visitor": {camera: asdict(v) for camera, v in data.last_visitor.items()},
    }
