"""Device triggers for the automation editor: doorbell, motion and zone occupancy.

The triggers: doorbell pressed, motion started/stopped, and per motion zone
"<zone> occupied" / "<zone> cleared" (the zone is the `subtype`).

They listen for `porchlight_event` on the bus, which the integration fires once per
event (replayed ones included), so an automation runs exactly once per ring.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from homeassistant.components.device_automation import DEVICE_TRIGGER_BASE_SCHEMA
from homeassistant.components.device_automation.exceptions import InvalidDeviceAutomationConfig
from homeassistant.components.homeassistant.triggers import event as event_trigger
from homeassistant.const import (
    CONF_DEVICE_ID,
    CONF_DOMAIN,
    CONF_EVENT_DATA,
    CONF_PLATFORM,
    CONF_TYPE,
)
from homeassistant.helpers import device_registry as dr
import probatio

from .const import ATTR_ZONE, DOMAIN, EVENT_PORCHLIGHT, TRIGGER_TYPES, ZONE_TRIGGER_TYPES
from .entity import camera_identifier

CONF_SUBTYPE = "subtype"
"""The device-automation key the editor translates via `trigger_subtype` (here: a zone)."""

if TYPE_CHECKING:
    from homeassistant.core import CALLBACK_TYPE, HomeAssistant
    from homeassistant.helpers.trigger import TriggerActionType, TriggerInfo
    from homeassistant.helpers.typing import ConfigType

TRIGGER_SCHEMA = DEVICE_TRIGGER_BASE_SCHEMA.extend(
    {
        probatio.Required(CONF_TYPE): probatio.In(TRIGGER_TYPES),
        probatio.Optional(CONF_SUBTYPE): str,
    }
)


def _is_camera_device(hass: HomeAssistant, device_id: str) -> bool:
    device = dr.async_get(hass).async_get(device_id)
    # The add-on's own device is a service; the cameras are the doorbells.
    return (
        isinstance(device, dr.DeviceEntry)
        and device.entry_type is None
        and any(domain == DOMAIN for domain, _ in device.identifiers)
    )


def _zones(hass: HomeAssistant, device_id: str) -> list[str]:
    """The motion zones of the camera behind `device_id`, as the add-on lists them now."""
    device = dr.async_get(hass).async_get(device_id)
    assert device is not None  # checked by _is_camera_device
    return [
        zone["name"]
        for entry in hass.config_entries.async_loaded_entries(DOMAIN)
        for name, camera in entry.runtime_data.cameras.items()
        if camera_identifier(entry.runtime_data.instance_id, name) in device.identifiers
        for zone in camera.get("zones", [])
    ]


async def async_validate_trigger_config(hass: HomeAssistant, config: ConfigType) -> ConfigType:
    """Validate a device trigger; the device must be a Porchlight camera.

    Raises:
        InvalidDeviceAutomationConfig: the device is not a camera of a Porchlight entry.
    """
    config = TRIGGER_SCHEMA(config)
    if not _is_camera_device(hass, config[CONF_DEVICE_ID]):
        raise InvalidDeviceAutomationConfig(f"{config[CONF_DEVICE_ID]} is not a Porchlight camera")
    # A zone trigger names its zone; the others have none. (Whether the zone still exists
    # is not checked: the add-on may be offline while automations load.)
    if (config[CONF_TYPE] in ZONE_TRIGGER_TYPES) != (CONF_SUBTYPE in config):
        raise InvalidDeviceAutomationConfig(
            f"{config[CONF_TYPE]}: a zone trigger needs the zone as subtype, others take none"
        )
    return config


async def async_get_triggers(hass: HomeAssistant, device_id: str) -> list[dict[str, str]]:
    """The triggers of a camera device (ring, motion started, motion stopped); none otherwise."""
    if not _is_camera_device(hass, device_id):
        return []
    base = {CONF_PLATFORM: "device", CONF_DOMAIN: DOMAIN, CONF_DEVICE_ID: device_id}
    zones = _zones(hass, device_id)
    return [
        {**base, CONF_TYPE: kind} for kind in TRIGGER_TYPES if kind not in ZONE_TRIGGER_TYPES
    ] + [
        {**base, CONF_TYPE: kind, CONF_SUBTYPE: zone}
        for zone in zones
        for kind in ZONE_TRIGGER_TYPES
    ]


async def async_attach_trigger(
    hass: HomeAssistant,
    config: ConfigType,
    action: TriggerActionType,
    trigger_info: TriggerInfo,
) -> CALLBACK_TYPE:
    """Listen for `porchlight_event` of this device and trigger type.

    Returns:
        A callback that detaches the trigger.
    """
    event_config = event_trigger.TRIGGER_SCHEMA(
        {
            CONF_PLATFORM: "event",
            event_trigger.CONF_EVENT_TYPE: EVENT_PORCHLIGHT,
            CONF_EVENT_DATA: {
                CONF_DEVICE_ID: config[CONF_DEVICE_ID],
                CONF_TYPE: config[CONF_TYPE],
                **({ATTR_ZONE: config[CONF_SUBTYPE]} if CONF_SUBTYPE in config else {}),
            },
        }
    )
    return await event_trigger.async_attach_trigger(
        hass, event_config, action, trigger_info, platform_type="device"
    )
