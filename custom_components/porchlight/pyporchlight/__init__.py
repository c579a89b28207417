"""pyporchlight: the Porchlight add-on's client library, free of Home Assistant.

It lives inside the integration because HACS ships that one folder, and it imports
nothing outside itself (relative imports only; aiohttp and the standard library), so
it also works as a top-level package: put `custom_components/porchlight` on `sys.path`
and `import pyporchlight` (benchmarks/latency.py does). Importing it as
`custom_components.porchlight.pyporchlight` runs the integration's `__init__`, which
needs Home Assistant; the top-level path does not.

Modules, one job each: `protocol` (the wire contract, synced from the add-on),
`exceptions`, `transport` (one websocket), `reconnect` (the backoff state machine),
`http` (snapshots, clips, MJPEG), `commands` (the typed commands and `on_behalf_of`)
and `client` (the connection, `command()` and `run()`).
"""

from .client import PorchlightClient
from .exceptions import (
    PorchlightAuthError,
    PorchlightCommandError,
    PorchlightConnectionError,
    PorchlightError,
    PorchlightUnsupportedVersion,
)
from .reconnect import Backoff, ReconnectLogic, ReconnectState

__all__ = [
    "Backoff",
    "PorchlightAuthError",
    "PorchlightClient",
    "PorchlightCommandError",
    "PorchlightConnectionError",
    "PorchlightError",
    "PorchlightUnsupportedVersion",
    "ReconnectLogic",
    "ReconnectState",
]
