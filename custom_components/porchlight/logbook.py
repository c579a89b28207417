"""Logbook lines for rings, motion and zones.

For example "Front door: doorbell pressed" or "Front door: doorstep occupied".
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from homeassistant.components.logbook.const import LOGBOOK_ENTRY_MESSAGE, LOGBOOK_ENTRY_NAME
from homeassistant.const import ATTR_DEVICE_ID
from homeassistant.core import Event, HomeAssistant, callback
from homeassistant.helpers import device_registry as dr

from .const import (
    ATTR_CAMERA,
    ATTR_TYPE,
    ATTR_ZONE,
    BUS_CLIP_FINISHED,
    DOMAIN,
    EVENT_PORCHLIGHT,
    TRIGGER_MOTION_STARTED,
    TRIGGER_MOTION_STOPPED,
    TRIGGER_RING,
    TRIGGER_ZONE_CLEARED,
    TRIGGER_ZONE_OCCUPIED,
)

if TYPE_CHECKING:
    from collections.abc import Callable

MESSAGES = {
    TRIGGER_RING: "doorbell pressed",
    TRIGGER_MOTION_STARTED: "motion detected",
    TRIGGER_MOTION_STOPPED: "motion cleared",
    BUS_CLIP_FINISHED: "clip recorded",
    TRIGGER_ZONE_OCCUPIED: "{zone} occupied",
    TRIGGER_ZONE_CLEARED: "{zone} cleared",
}


@callback
def async_describe_events(
    hass: HomeAssistant,
    async_describe_event: Callable[[str, str, Callable[[Event], dict[str, str]]], None],
) -> None:
    """Describe `porchlight_event` bus events (rings, motion) in the logbook."""

    @callback
    def describe(event: Event) -> dict[str, str]:
        data = event.data
        device = dr.async_get(hass).async_get(data[ATTR_DEVICE_ID])
        name = (device.name_by_user or device.name) if device is not None else None
        return {
            LOGBOOK_ENTRY_NAME: name or data[ATTR_CAMERA],
            LOGBOOK_ENTRY_MESSAGE: MESSAGES.get(data[ATTR_TYPE], data[ATTR_TYPE]).format(
                zone=data.get(ATTR_ZONE, "")
            ),
        }

    async_describe_event(DOMAIN, EVENT_PORCHLIGHT, describe)
