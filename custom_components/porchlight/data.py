"""Runtime data of a Porchlight config entry: the client, the latest state, listeners.

Everything is pushed by the add-on: `PorchlightData` applies events and resyncs to its
copy of the state and calls the listeners that entities registered. Nothing polls.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import CALLBACK_TYPE, callback

from .protocol import CameraState, EventMessage, EventType, ServerInfo, ServerState

if TYPE_CHECKING:
    from .client import PorchlightClient

type PorchlightConfigEntry = ConfigEntry[PorchlightData]
type UpdateListener = Callable[[], None]
type EventListener = Callable[[EventMessage], None]


@dataclass
class PorchlightData:
    """What the entities of one add-on share."""

    client: PorchlightClient
    server_info: ServerInfo
    state: ServerState
    connected: bool = True
    cameras: dict[str, CameraState] = field(default_factory=dict)
    _update_listeners: dict[str, list[UpdateListener]] = field(default_factory=dict)
    _event_listeners: dict[str, list[EventListener]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.cameras = {camera["name"]: camera for camera in self.state["cameras"]}

    @property
    def instance_id(self) -> str:
        return self.server_info["instance_id"]

    # --- listeners ------------------------------------------------------------------------

    @callback
    def async_add_listener(self, camera: str, listener: UpdateListener) -> CALLBACK_TYPE:
        """Call `listener` whenever the camera's state or the connection changes."""
        return _add(self._update_listeners, camera, listener)

    @callback
    def async_add_event_listener(self, camera: str, listener: EventListener) -> CALLBACK_TYPE:
        """Call `listener` with every event of the camera, as it arrives."""
        return _add(self._event_listeners, camera, listener)

    def _notify(self, camera: str | None = None) -> None:
        cameras = self._update_listeners if camera is None else (camera,)
        for name in tuple(cameras):
            for listener in tuple(self._update_listeners.get(name, ())):
                listener()

    # --- inputs from the client -------------------------------------------------------------

    @callback
    def handle_state(self, state: ServerState) -> None:
        """A full resync: replace everything we knew."""
        self.state = state
        self.cameras = {camera["name"]: camera for camera in state["cameras"]}
        self._notify()

    @callback
    def handle_connection(self, connected: bool) -> None:
        self.connected = connected
        self._notify()

    @callback
    def handle_event(self, event: EventMessage) -> None:
        camera = event["camera"]
        if camera is None:
            return
        if not self._folded_into_state(event):
            self._apply(camera, event)
        for listener in tuple(self._event_listeners.get(camera, ())):
            listener(event)
        self._notify(camera)

    def _folded_into_state(self, event: EventMessage) -> bool:
        """Whether the last resync already reflects this (replayed) event.

        Replayed events can be older than the state read just before them; applying
        them again would flip motion back and forth for a moment.
        """
        return event["boot_id"] == self.state["boot_id"] and event["seq"] <= self.state["seq"]

    def _apply(self, camera: str, event: EventMessage) -> None:
        current = self.cameras.get(camera)
        if current is None:
            return
        data = event["data"]
        if event["event"] == EventType.MOTION and isinstance(data.get("active"), bool):
            self.cameras[camera] = {**current, "motion": data["active"]}
        elif event["event"] == EventType.CAMERA_STATUS and isinstance(data.get("status"), str):
            self.cameras[camera] = {
                **current,
                "status": data["status"],
                "status_reason": data.get("reason"),
            }


def _add[T](registry: dict[str, list[T]], camera: str, listener: T) -> CALLBACK_TYPE:
    registry.setdefault(camera, []).append(listener)

    @callback
    def remove() -> None:
        registry[camera].remove(listener)

    return remove
