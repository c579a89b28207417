"""Constants for the Porchlight integration."""

from __future__ import annotations

import logging
from typing import Final

DOMAIN: Final = "porchlight"
LOGGER = logging.getLogger(__package__)

CONF_TOKEN: Final = "token"
DEFAULT_NAME: Final = "Porchlight"
MANUFACTURER: Final = "Porchlight"

# Reconnect backoff of the background connection, in seconds (doubles up to the cap).
BACKOFF_MIN: Final = 1.0
BACKOFF_MAX: Final = 60.0

# Fired on the bus for every ring, motion start/stop, zone change and finished clip (device
# triggers, automations; the Activity log shows the entities' state changes instead).
EVENT_PORCHLIGHT: Final = "porchlight_event"
ATTR_TYPE: Final = "type"
ATTR_CAMERA: Final = "camera"
ATTR_TIME: Final = "time"
ATTR_CLIP_ID: Final = "clip_id"
ATTR_CLIP_URL: Final = "clip_url"
TRIGGER_RING: Final = "ring"
TRIGGER_MOTION_STARTED: Final = "motion_started"
TRIGGER_MOTION_STOPPED: Final = "motion_stopped"
TRIGGER_ZONE_OCCUPIED: Final = "zone_occupied"
TRIGGER_ZONE_CLEARED: Final = "zone_cleared"
ZONE_TRIGGER_TYPES: Final = (TRIGGER_ZONE_OCCUPIED, TRIGGER_ZONE_CLEARED)
"""Per zone: the trigger's `subtype` (and the bus event's `zone`) is the zone name."""
TRIGGER_TYPES: Final = (
    TRIGGER_RING,
    TRIGGER_MOTION_STARTED,
    TRIGGER_MOTION_STOPPED,
    *ZONE_TRIGGER_TYPES,
)
ATTR_ZONE: Final = "zone"
BUS_CLIP_FINISHED: Final = "clip_finished"
"""Also on the bus (not a device trigger): a clip is on disk; data has clip_id and clip_url."""
