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
