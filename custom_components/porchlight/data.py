"""Runtime data of a Porchlight config entry: the client, the latest state, listeners.

Everything is pushed by the add-on: `PorchlightData` applies events and resyncs to its
copy of the state and calls the listeners that entities registered. Nothing polls.
The add-on is the one writer of camera state (its events and resyncs): entity actions
never write their commands' results, which could be older than an event already applied.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, cast

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import CALLBACK_TYPE, callback

from .pyporchlight.protocol import (
    CameraState,
    EventKind,
    EventMessage,
    EventType,
    ServerInfo,
    ServerState,
    StorageStatus,
    ZoneState,
    redact_secrets,
)

if TYPE_CHECKING:
    from .pyporchlight.client import PorchlightClient

type PorchlightConfigEntry = ConfigEntry[PorchlightData]
type UpdateListener = Callable[[], None]
type EventListener = Callable[[EventMessage], None]
type CamerasListener = Callable[[set[str]], None]
type StreamListener = Callable[[], Awaitable[None]]

SERVER = ""
"""Listener key of the add-on itself (storage); never a valid camera name."""

# Clips come and go with these; the storage numbers are then re-read (no event has them).
_STORAGE_EVENTS = frozenset({EventType.CLIP_FINISHED, EventType.CLIP_DELETED})


@dataclass(frozen=True)
class VisitorSnapshot:
    """The snapshot of the latest ring of a camera."""

    event_id: str
    time: float


@dataclass(kw_only=True)
class PorchlightData:
    """What the entities of one add-on share, built complete by `async_setup_entry`.

    Attributes:
        client: The connection to the add-on.
        server_info: The add-on's `server_info` from the handshake.
        state: The latest full state (`get_state`), replaced on every resync.
        hub_device_id: Device registry id of the add-on's own device (the cameras'
            `via_device`).
        on_storage_stale: Called when clips came or went, so the storage numbers are
            re-read (no event carries them).
        on_cameras_removed: Called with the names of cameras a resync no longer lists.
        on_auth_failed: Called when the add-on rejected the token (starts reauth).
        connected: Whether the websocket is up (entities are unavailable otherwise).
        cameras: Camera name to its latest `CameraState`.
        storage: The add-on's disk usage, or None from add-ons without storage.
        last_visitor: Camera name to the snapshot of its latest ring.
    """

    client: PorchlightClient
    server_info: ServerInfo
    state: ServerState
    hub_device_id: str
    on_storage_stale: Callable[[], None]
    on_cameras_removed: Callable[[set[str]], None]
    on_auth_failed: Callable[[], None]
    connected: bool = True
    cameras: dict[str, CameraState] = field(default_factory=dict)
    storage: StorageStatus | None = None
    last_visitor: dict[str, VisitorSnapshot] = field(default_factory=dict)
    _update_listeners: dict[str, list[UpdateListener]] = field(default_factory=dict)
    _event_listeners: dict[str, list[EventListener]] = field(default_factory=dict)
    _cameras_listeners: list[CamerasListener] = field(default_factory=list)
    _stream_listeners: dict[str, list[StreamListener]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.cameras = {camera["name"]: camera for camera in self.state["cameras"]}
        # Older add-ons (before storage existed) leave it out of the state.
        self.storage = self.state.get("storage")

    @property
    def instance_id(self) -> str:
        """The add-on's stable id (`server_info.instance_id`), the root of unique ids."""
        return self.server_info["instance_id"]

    # --- listeners ------------------------------------------------------------------------

    @callback
    def async_add_listener(self, camera: str, listener: UpdateListener) -> CALLBACK_TYPE:
        """Call `listener` whenever a camera's state or the connection changes.

        Args:
            camera: The camera's name, or SERVER for the add-on's own state (storage).
            listener: Called without arguments, on the event loop.

        Returns:
            A callback that removes the listener.
        """
        return _add(self._update_listeners, camera, listener)

    @callback
    def async_add_event_listener(self, camera: str, listener: EventListener) -> CALLBACK_TYPE:
        """Call `listener` with every event of the camera, as it arrives."""
        return _add(self._event_listeners, camera, listener)

    @callback
    def async_add_stream_listener(self, camera: str, listener: StreamListener) -> CALLBACK_TYPE:
        """Await `listener` after the stream credential rotated (the camera fetches a new URL)."""
        return _add(self._stream_listeners, camera, listener)

    async def async_rotate_stream_credential(self) -> None:
        """Revoke every live stream URL of the add-on, then let the cameras fetch new ones.

        Raises:
            PorchlightError: from the client; callers translate it (errors.py).
        """
        await self.client.rotate_stream_credential()
        for listeners in list(self._stream_listeners.values()):
            for listener in list(listeners):
                await listener()

    @callback
    def async_add_cameras_listener(self, listener: CamerasListener) -> CALLBACK_TYPE:
        """Call `listener` with the names of cameras that appear in a resync."""
        self._cameras_listeners.append(listener)
        return lambda: self._cameras_listeners.remove(listener)

    def _notify(self, camera: str | None = None) -> None:
        cameras = self._update_listeners if camera is None else (camera,)
        for name in tuple(cameras):
            for listener in tuple(self._update_listeners.get(name, ())):
                listener()

    # --- inputs from the client -------------------------------------------------------------

    @callback
    def handle_state(self, state: ServerState) -> None:
        """A full resync: replace everything we knew, and add or drop cameras."""
        before = set(self.cameras)
        # A full state means a live connection: replayed events that follow must be
        # written as available states, not as "unavailable".
        self.connected = True
        self.state = state
        self.cameras = {camera["name"]: _redacted(camera) for camera in state["cameras"]}
        self.storage = state.get("storage")
        after = set(self.cameras)
        if added := after - before:
            for listener in tuple(self._cameras_listeners):
                listener(added)
        if removed := before - after:
            self.on_cameras_removed(removed)
        self._notify()

    @callback
    def handle_connection(self, connected: bool) -> None:
        """The websocket went up (True) or down; entities follow (available or not)."""
        self.connected = connected
        self._notify()

    @callback
    def handle_storage(self, storage: StorageStatus) -> None:
        """New storage numbers (a `storage_status` event or a re-read); notifies SERVER."""
        self.storage = storage
        self._notify(SERVER)

    @callback
    def handle_event(self, event: EventMessage) -> None:
        """Apply one event of the add-on (delivered once, in order) and notify listeners.

        Storage status updates the add-on's numbers; clip events make the numbers stale
        (`on_storage_stale`); camera events change that camera's state (unless a resync
        already folded them in) and go to the camera's event listeners.
        """
        kind = event["event"]
        if kind == EventType.STORAGE_STATUS:
            self.handle_storage(cast(StorageStatus, event["data"]))
            return
        if kind in _STORAGE_EVENTS:
            self.on_storage_stale()
        camera = event["camera"]
        if camera is None:
            return
        if kind == EventType.SNAPSHOT_READY:
            self._apply_snapshot(camera, event)
        elif not self._folded_into_state(event):
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

    def _apply_snapshot(self, camera: str, event: EventMessage) -> None:
        data = event["data"]
        event_id = data.get("event_id")
        if data.get("kind") == EventKind.RING and isinstance(event_id, str):
            self.last_visitor[camera] = VisitorSnapshot(event_id, event["time"])

    def _apply(self, camera: str, event: EventMessage) -> None:
        current = self.cameras.get(camera)
        if current is None:
            return
        data = event["data"]
        match event["event"]:
            case EventType.RING:
                self.cameras[camera] = {**current, "last_ring": event["time"]}
            case EventType.MOTION if isinstance(active := data.get("active"), bool):
                updated: CameraState = {**current, "motion": active}
                if active:
                    updated["last_motion"] = event["time"]
                self.cameras[camera] = updated
            case EventType.OCCUPANCY if isinstance(occupied := data.get("occupied"), bool):
                zone = data.get("zone")
                zones: list[ZoneState] = [
                    {"name": z["name"], "occupied": occupied} if z["name"] == zone else z
                    for z in current.get("zones", [])
                ]
                self.cameras[camera] = {**current, "zones": zones}
            case EventType.CAMERA_STATUS if isinstance(data.get("status"), str):
                self.cameras[camera] = {
                    **current,
                    "status": data["status"],
                    "status_reason": data.get("reason"),
                }
                self.cameras[camera] = _redacted(self.cameras[camera])
            case EventType.CAMERA_STATE if data.get("name") == camera:
                self.cameras[camera] = _redacted(cast(CameraState, data))


def _redacted(camera: CameraState) -> CameraState:
    """Return the camera with credentials blanked in its status reason.

    An older add-on could send a camera URL there, and the reason becomes a state
    attribute that the recorder keeps in history.
    """
    reason = camera.get("status_reason")
    if not reason:
        return camera
    return {**camera, "status_reason": redact_secrets(str(reason))}


def _add[T](registry: dict[str, list[T]], camera: str, listener: T) -> CALLBACK_TYPE:
    registry.setdefault(camera, []).append(listener)

    @callback
    def remove() -> None:
        registry[camera].remove(listener)

    return remove
