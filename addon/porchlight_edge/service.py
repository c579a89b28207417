"""The Porchlight edge service: cameras, recordings, the event bus and the API server."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING, Any

from aiohttp import web

from porchlight_edge import __version__
from porchlight_edge.api.connections import ConnectionGuard, GuardedSite, fit_to_file_limit
from porchlight_edge.api.safe_errors import exception_handler
from porchlight_edge.api.server import create_app, create_ingress_app
from porchlight_edge.audit import AuditLog
from porchlight_edge.button import ButtonConfig, ButtonWatcher, open_button
from porchlight_edge.camera import CameraPipeline
from porchlight_edge.camera_store import CameraStore
from porchlight_edge.config import ConfigError, parse_camera
from porchlight_edge.discovery import Discovery
from porchlight_edge.events import EventBus
from porchlight_edge.filemodes import make_private
from porchlight_edge.identity import Identity, load_identity, redact_token
from porchlight_edge.lograte import RateLimitedLog
from porchlight_edge.protocol import (
    PROTOCOL_VERSION,
    EventMessage,
    EventType,
    RingSource,
    ServerState,
    StorageStatus,
    event_snapshot_path,
)
from porchlight_edge.recorder.notices import (
    ClipDeleted,
    ClipFailed,
    ClipFinished,
    ClipStarted,
    RecordingNotice,
    RetentionWarning,
    SnapshotReady,
    StorageChanged,
)
from porchlight_edge.recorder.storage import ClipStore, StoreSettings
from porchlight_edge.recordings import Recordings
from porchlight_edge.rings import RingQueue
from porchlight_edge.settings import SettingsStore
from porchlight_edge.stream.credential import StreamCredential

if TYPE_CHECKING:
    from collections.abc import Callable

    from porchlight_edge.config import CameraOptions, ServiceOptions

_LOGGER = logging.getLogger(__name__)
AUDIT_PRUNE_INTERVAL = 3600.0


def load_cameras(store: CameraStore, configured: list[CameraOptions]) -> dict[str, CameraOptions]:
    """The cameras to run: the options' (less those removed in the panel), then the panel's.

    Saved fields apply over both (`CameraStore.apply`). A panel camera the options parser
    now refuses is skipped with a warning; when nothing would run, removals are ignored.
    """
    kept = [cam for cam in configured if not store.removed(cam.raw)] or configured
    cameras = {cam.name: cam for cam in kept}
    for raw in store.added({cam.name for cam in configured}):
        try:
            cameras[raw["name"]] = parse_camera(raw, len(cameras))
        except ConfigError as err:
            _LOGGER.warning("Skipping a camera added in the panel: %s", err)
    return {name: store.apply(cam, index) for index, (name, cam) in enumerate(cameras.items())}


class Service:
    """The edge service: cameras, the clip store, the event bus, the API server and discovery.

    Built from parsed `ServiceOptions`; `start()` opens storage, binds the API and starts
    the cameras, `stop()` undoes it all. API handlers reach recordings through `recordings`.
    """

    version = __version__

    def __init__(self, options: ServiceOptions, identity: Identity | None = None) -> None:
        self.options = options
        self.name = options.name
        self.identity = identity or load_identity(options.data_dir, options.token)
        self.bus = EventBus()
        self.rings = RingQueue(self._ring_pressed)
        self._ring_task: asyncio.Task[None] | None = None
        media = options.media_dir or options.data_dir / "recordings"
        make_private(options.data_dir, media)
        self.store = ClipStore(
            media, StoreSettings(retention=options.retention), listener=self._on_recording
        )
        self.stream_credential = StreamCredential(options.data_dir)
        self.audit = AuditLog(options.data_dir / "audit.db", options.audit_retention_days)
        self.settings = SettingsStore(options.data_dir / "settings.json")
        # What the panel saved over the options' seeds (camera_store: the single source).
        self.camera_store = CameraStore(options.data_dir / "cameras.json")
        self.camera_options: dict[str, CameraOptions] = load_cameras(
            self.camera_store, options.cameras
        )
        self.cameras: dict[str, CameraPipeline] = {
            name: self._pipeline(cam) for name, cam in self.camera_options.items()
        }
        self.recordings = Recordings(self.store, self.cameras)
        self._button: ButtonWatcher | None = None
        self._runner: web.AppRunner | None = None
        self._ingress_runner: web.AppRunner | None = None
        self.ingress_port: int | None = None
        self.connections = ConnectionGuard(options.connections)
        self.websockets: set[web.WebSocketResponse] = set()
        self._loop_handler: Any = None
        self._discovery: Discovery | None = None
        self._housekeeping: asyncio.Task[None] | None = None
        self.port: int | None = None

    def _pipeline(self, options: CameraOptions) -> CameraPipeline:
        return CameraPipeline(
            options, self.options.live, self.bus, self.store, self.settings, self.rings
        )

    def add_camera(self, options: CameraOptions) -> CameraPipeline:
        """Run a camera added at runtime (capture, motion, recorder, live view) at once.

        Published as `cameras_changed`; the caller has saved it in the camera store.
        """
        camera = self._pipeline(options)
        self.camera_options[options.name] = options
        self.cameras[options.name] = camera
        camera.start()
        self._cameras_changed(added=[options.name], removed=[])
        _LOGGER.info("Camera %s added", options.name)
        return camera

    async def remove_camera(self, name: str) -> None:
        """Stop the camera and forget it; its clips and events stay (retention applies).

        Published as `cameras_changed`; the caller has saved the removal.
        """
        camera = self.cameras.pop(name)
        del self.camera_options[name]
        try:
            await camera.stop()
        finally:
            self._cameras_changed(added=[], removed=[name])
        _LOGGER.info("Camera %s removed (its clips are kept)", name)

    def _cameras_changed(self, *, added: list[str], removed: list[str]) -> None:
        data = {"added": added, "removed": removed, "cameras": list(self.cameras)}
        self.bus.publish(EventType.CAMERAS_CHANGED, None, data)

    def _ring_pressed(self, camera: str, source: RingSource) -> None:
        if camera not in self.cameras:  # removed while its ring was queued
            _LOGGER.info("Ring at %s dropped: the camera was removed", camera)
            return
        self.ring(camera, source)

    def ring(self, camera: str, source: RingSource) -> EventMessage:
        """Publish the ring first: snapshot and recording work only starts after it is out."""
        event = self.bus.publish(EventType.RING, camera, {"source": source})
        _LOGGER.info("Ring at %s (%s)", camera, source)
        self.cameras[camera].on_ring(event)
        return event

    # --- recordings → protocol events ------------------------------------------------------
    def _on_recording(self, notice: RecordingNotice) -> None:
        """Translate a recorder/store notice into its protocol event (on the loop).

        Field by field and typed on both sides: a renamed notice field fails mypy here
        instead of silently changing the wire.
        """
        bus = self.bus
        match notice:
            case ClipStarted(camera, started):
                events = [e["id"] for e in started["events"]]
                bus.publish(
                    EventType.CLIP_STARTED,
                    camera,
                    {"clip_id": started["clip_id"], "events": events},
                )
            case ClipFinished(camera, done):
                payload = {
                    "clip_id": done["clip_id"],
                    "start": done["start"],
                    "end": done["end"],
                    "size": done["size"],
                    "state": done["state"],
                    "events": done["events"],
                }
                bus.publish(EventType.CLIP_FINISHED, camera, payload)
            case ClipFailed(camera, failed):
                _LOGGER.warning("Clip on %s failed: %s", camera, failed["reason"])
            case SnapshotReady(camera, snap):
                eid = snap["event_id"]
                payload = {"event_id": eid, "kind": snap["kind"], "path": event_snapshot_path(eid)}
                bus.publish(EventType.SNAPSHOT_READY, camera, payload)
            case StorageChanged():
                bus.publish(EventType.STORAGE_STATUS, None, dict(self.storage_status()))
            case RetentionWarning(camera, warning):
                payload = {
                    "clip_id": warning["clip_id"],
                    "reason": warning["reason"],
                    "delete_after": warning["delete_after"],
                }
                bus.publish(EventType.RETENTION_WARNING, camera, payload)
            case ClipDeleted(camera, deleted):
                payload = {"clip_id": deleted["clip_id"], "reason": deleted["reason"]}
                bus.publish(EventType.CLIP_DELETED, camera, payload)

    def storage_status(self) -> StorageStatus:
        """The storage part of the state: bytes used and free, clips, pause state and limits."""
        usage = self.store.usage()
        policy = self.options.retention
        clips, oldest = self.recordings.summary()
        return {
            "used_bytes": int(usage["clips_bytes"] or 0),
            "free_bytes": int(usage["free_bytes"] or 0),
            "clips": clips,
            "oldest_clip": oldest,
            "paused": self.store.paused,
            "reason": self.store.pause_reason,
            "max_age_days": policy.max_age_days,
            "max_size_bytes": policy.max_total_bytes,
            "min_free_bytes": policy.min_free_bytes,
        }

    def state(self) -> ServerState:
        """The full state the API sends (`get_state`): cameras, storage and the event position."""
        return {
            "instance_id": self.identity.instance_id,
            "boot_id": self.bus.boot_id,
            "seq": self.bus.seq,
            "cameras": [cam.state() for cam in self.cameras.values()],
            "storage": self.storage_status(),
        }

    # --- lifecycle -------------------------------------------------------------------------
    async def start(self) -> None:
        """Open and reconcile storage, start the API server, cameras, button and discovery.

        OSError when the port cannot be bound.
        """
        report = await self.store.open()
        if report.recovered or report.dropped or report.adopted or report.missing:
            _LOGGER.warning(
                "Recovered after an unclean stop: %d clip(s) salvaged, %d adopted, %d dropped,"
                " %d event(s) restored from the files, %d salvage(s) waiting for disk space",
                len(report.recovered),
                len(report.adopted),
                len(report.dropped),
                report.events_restored,
                len(report.deferred),
            )
        loop = asyncio.get_running_loop()
        self._loop_handler = loop.get_exception_handler()
        loop.set_exception_handler(exception_handler(RateLimitedLog(_LOGGER)))
        self.connections.limits = fit_to_file_limit(self.connections.limits)
        handler_args: dict[str, Any] = {
            "access_log": None,
            "keepalive_timeout": self.connections.limits.idle_timeout,
        }
        self._runner = web.AppRunner(
            create_app(self), handle_signals=False, shutdown_timeout=2.0, **handler_args
        )
        await self._runner.setup()
        site = GuardedSite(
            self._runner, self.options.host, self.options.port, self.connections, handler_args
        )
        await site.start()
        self.port = site.port
        bound = site.addresses
        if self.options.ingress_port is not None:
            await self._start_ingress(self.options.ingress_port, handler_args)
        self.rings.attach(asyncio.get_running_loop())
        self._ring_task = asyncio.create_task(self.rings.run(), name="rings")
        for camera in self.cameras.values():
            camera.start()
        if self.options.button is not None:
            self._button = open_button(self.options.button, self.button_press(self.options.button))
        self._discovery = Discovery(
            port=self.port,
            token=self.identity.token,
            instance_id=self.identity.instance_id,
            name=self.name,
            version=self.version,
            protocol_version=PROTOCOL_VERSION,
            zeroconf=self.options.zeroconf,
            listen_addresses=bound,
        )
        await self._discovery.start()
        self._housekeeping = asyncio.create_task(self._prune_audit_log(), name="audit-retention")
        _LOGGER.info(
            "Porchlight %s listening on %s:%s (token %s, %d camera(s))",
            self.version,
            self.options.host,
            self.port,
            redact_token(self.identity.token),
            len(self.cameras),
        )

    async def _start_ingress(self, port: int, handler_args: dict[str, Any]) -> None:
        """The Home Assistant panel's port: its own app, only the Supervisor's proxy let in."""
        app = create_ingress_app(self, self.options.ingress_peers)
        self._ingress_runner = web.AppRunner(
            app, handle_signals=False, shutdown_timeout=2.0, **handler_args
        )
        await self._ingress_runner.setup()
        site = GuardedSite(
            self._ingress_runner, self.options.host, port, self.connections, handler_args
        )
        await site.start()
        self.ingress_port = site.port

    def button_press(self, button: ButtonConfig) -> Callable[[], None]:
        """The press callback for `button`, called from its watcher thread.

        Each press is a `RingSource.BUTTON` ring at `button.camera` (the first camera
        when unset).
        """
        camera = button.camera or next(iter(self.cameras))

        def pressed() -> None:
            self.rings.publish_ring(camera, RingSource.BUTTON)

        return pressed

    async def _prune_audit_log(self) -> None:
        """The audit log has its own retention: drop old entries at start, then hourly."""
        while True:
            removed = await asyncio.to_thread(self.audit.prune)
            if removed:
                _LOGGER.info("Audit log: removed %d entries past retention", removed)
            await asyncio.sleep(AUDIT_PRUNE_INTERVAL)

    async def stop(self) -> None:
        """Stop everything `start` started, finishing clips; safe after a failed start."""
        for task in (self._ring_task, self._housekeeping):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        if self._discovery is not None:
            await self._discovery.stop()
        if self._button is not None:
            await asyncio.to_thread(self._button.stop)
        await asyncio.gather(*(camera.stop() for camera in self.cameras.values()))
        for runner in (self._ingress_runner, self._runner):
            if runner is not None:
                await runner.cleanup()
        await self.store.close()
        self.audit.close()
        asyncio.get_running_loop().set_exception_handler(self._loop_handler)
