"""Diagnostics: the entry (token redacted), connection, server info and the add-on's state.

The state is fetched from the add-on when diagnostics are downloaded (`get_state`), so
`seq`, frame counts, the last frame and `last_ring` are all of the same moment. When the
add-on cannot answer, the entities' last known state is given instead, marked as such.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from homeassistant.components.diagnostics import async_redact_data

from .const import CONF_TOKEN
from .pyporchlight.exceptions import PorchlightError
from .pyporchlight.protocol import redact_secrets

if TYPE_CHECKING:
    from homeassistant.core import HomeAssistant

    from .data import PorchlightConfigEntry
    from .pyporchlight.protocol import CameraState

TO_REDACT = {CONF_TOKEN}


def _redacted(camera: CameraState) -> dict[str, Any]:
    # A status reason may embed a camera URL (older add-ons): no credential leaves.
    reason = camera.get("status_reason")
    return {**camera, "status_reason": redact_secrets(str(reason)) if reason else reason}


async def async_get_config_entry_diagnostics(
    hass: HomeAssistant, entry: PorchlightConfigEntry
) -> dict[str, Any]:
    """What support needs of an entry: connection, server info, state (token redacted).

    `state_source` is `add-on` for a state fetched now, or `cached` (with `state_error`)
    when the add-on could not be asked.
    """
    data = entry.runtime_data
    client = data.client
    error: str | None = None
    try:
        fresh = await client.get_state()
    except PorchlightError as err:
        state: dict[str, Any] = {
            **data.state,
            "cameras": list(data.cameras.values()),
            "storage": data.storage,
        }
        source, error = "cached", str(err)
    else:
        state, source = dict(fresh), "add-on"
    state["cameras"] = [_redacted(camera) for camera in state["cameras"]]
    return {
        "entry": async_redact_data(entry.as_dict(), TO_REDACT),
        "connected": data.connected,
        "last_event": list(client.last_event) if client.last_event else None,
        "server_info": dict(data.server_info),
        "state_source": source,
        "state_error": error,
        "state": state,
        "last_visitor": {camera: asdict(v) for camera, v in data.last_visitor.items()},
    }
