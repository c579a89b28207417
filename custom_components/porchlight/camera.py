"""Camera entity: stills from the add-on's snapshot endpoint, live view via its stream.

`stream_source()` is the add-on's live MPEG-TS stream (with the scoped stream
credential, never the access token), which HA's `stream` integration serves as HLS
and go2rtc as WebRTC. MJPEG stays as the fallback, and is all that add-ons without a
live stream offer. Turning the camera off turns the add-on's privacy mode on (no
capture, no recording, no stream), and on turns it off.

While privacy mode is on, the camera stays on for Home Assistant: it refuses every
picture and stream of a camera that is off (HTTP 503, "Camera is off"), so the
frontend would show a broken image and log errors, and a camera's state never shows
on/off anyway. Instead it offers no live stream (no STREAM feature, not streaming)
and its still image and MJPEG stream are the "privacy mode on" placeholder, which
every picture in the frontend (dialog, dashboard card, device page) then shows.

Every picture and stream fetched through Home Assistant names the Home Assistant user
for the add-on's audit log (`views.acting_user`; live stream viewers: `views.viewer`).
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Final, override

from aiohttp import hdrs, web
from homeassistant.components.camera import Camera, async_get_still_stream
from homeassistant.components.camera.const import CameraEntityFeature
from homeassistant.helpers.aiohttp_client import async_aiohttp_proxy_stream
from homeassistant.helpers.entity import CONTEXT_RECENT_TIME_SECONDS, EntityDescription

from .const import MANUFACTURER
from .entity import PorchlightEntity, add_camera_entities
from .errors import translate_http_errors
from .placeholder import async_privacy_placeholder
from .pyporchlight.protocol import CameraStatus, Command
from .views import acting_user, viewer

if TYPE_CHECKING:
    from homeassistant.components.stream import Stream
    from homeassistant.core import HomeAssistant
    from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

    from .data import PorchlightConfigEntry

# Snapshots and streams go straight to the add-on, which serves many viewers at once.
PARALLEL_UPDATES = 0

CAMERA = EntityDescription(key="camera", name=None)
PLACEHOLDER_INTERVAL: Final = 1.0
"""Seconds between checks whether a placeholder MJPEG stream should end (privacy off)."""


async def async_setup_entry(
    hass: HomeAssistant,
    entry: PorchlightConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the camera entity of every camera, now and later."""
    add_camera_entities(
        entry, async_add_entities, lambda camera: (PorchlightCamera(entry, camera, CAMERA),)
    )


class PorchlightCamera(PorchlightEntity, Camera):
    """The doorbell's picture: HLS/WebRTC from the add-on's live stream, MJPEG as fallback."""

    _attr_brand = MANUFACTURER

    def __init__(
        self, entry: PorchlightConfigEntry, camera: str, description: EntityDescription
    ) -> None:
        PorchlightEntity.__init__(self, entry, camera, description)
        Camera.__init__(self)

    @property
    def privacy_mode(self) -> bool:
        """True while the owner has switched the camera off (the add-on's privacy mode)."""
        camera = self.camera_state
        return camera is not None and bool(camera.get("privacy_mode", False))

    @property
    @override
    def supported_features(self) -> CameraEntityFeature:
        # STREAM only when the add-on serves a live stream (older ones: MJPEG only) and
        # privacy mode is off: the frontend then asks for no stream that would be refused.
        camera = self.camera_state
        if camera is not None and camera.get("live_stream", False) and not self.privacy_mode:
            return CameraEntityFeature.ON_OFF | CameraEntityFeature.STREAM
        return CameraEntityFeature.ON_OFF

    @property
    @override
    def is_streaming(self) -> bool:
        camera = self.camera_state
        return (
            camera is not None and camera["status"] == CameraStatus.ONLINE and not self.privacy_mode
        )

    @property
    @override
    def motion_detection_enabled(self) -> bool:
        camera = self.camera_state
        return camera is not None and camera["motion_settings"]["enabled"]

    @override
    async def stream_source(self) -> str | None:
        # HA asks on a viewer's behalf (HLS, a WebRTC offer): the add-on audits the viewer.
        return await self._stream_url(viewer())

    async def _stream_url(self, user: str | None) -> str | None:
        # Never the camera's own URL: that would bypass the privacy masks and the audit.
        if CameraEntityFeature.STREAM not in self.supported_features:
            return None
        return await self.run_command(
            Command.GET_STREAM_URL, self.data.client.get_stream_url(self.camera_name, user)
        )

    @override
    async def async_create_stream(self) -> Stream | None:
        # HA's one stream serves every HLS viewer: each later viewer is audited here.
        existed = self.stream is not None
        stream = await super().async_create_stream()
        if existed and stream is not None and (user := viewer()) is not None:
            await self._stream_url(user)
        return stream

    @override
    async def async_added_to_hass(self) -> None:
        await super().async_added_to_hass()
        self.async_on_remove(
            self.data.async_add_stream_listener(self.camera_name, self._refresh_stream_source)
        )

    @override
    def _handle_update(self) -> None:
        super()._handle_update()
        # Privacy mode ends the add-on's live stream and refuses it: HA's stream would
        # retry it, logging an error each time, so its viewers are ended here too.
        if self.privacy_mode and self.stream is not None and self.stream.outputs():
            self.hass.async_create_task(self.stream.stop(), "porchlight stream stop")

    async def _refresh_stream_source(self) -> None:
        # The credential rotated: an open HA stream would retry a revoked URL forever.
        if self.stream is not None and (source := await self._stream_url(None)) is not None:
            self.stream.update_source(source)

    @override
    async def async_turn_on(self) -> None:
        await self._set_privacy(False)

    @override
    async def async_turn_off(self) -> None:
        await self._set_privacy(True)

    async def _set_privacy(self, enabled: bool) -> None:
        # The add-on's camera_state event writes the new state (the one writer).
        await self.run_command(
            Command.SET_PRIVACY_MODE, self.data.client.set_privacy_mode(self.camera_name, enabled)
        )

    @override
    async def async_enable_motion_detection(self) -> None:
        await self._set_motion(True)

    @override
    async def async_disable_motion_detection(self) -> None:
        await self._set_motion(False)

    async def _set_motion(self, enabled: bool) -> None:
        await self.run_command(
            Command.SET_MOTION_SETTINGS,
            self.data.client.set_motion_settings(self.camera_name, enabled=enabled),
        )

    async def _user(self) -> str | None:
        # An action's context (camera.snapshot) is set on the entity while it runs.
        context = self._context
        if self._context_set is None or time.time() - self._context_set > (
            CONTEXT_RECENT_TIME_SECONDS
        ):
            context = None
        return await acting_user(self.hass, context, self.entity_id)

    @override
    async def async_camera_image(
        self, width: int | None = None, height: int | None = None
    ) -> bytes | None:
        # Full size unless Home Assistant asks for a size: the add-on scales to fit it.
        if self.privacy_mode:
            return await async_privacy_placeholder(self.hass)
        return await self.run_command(
            "snapshot",
            self.data.client.snapshot(
                self.camera_name, await self._user(), width=width, height=height
            ),
        )

    @override
    async def handle_async_mjpeg_stream(self, request: web.Request) -> web.StreamResponse | None:
        if self.privacy_mode:
            return await async_get_still_stream(
                request, self._placeholder_while_private, "image/jpeg", PLACEHOLDER_INTERVAL
            )
        # Always a request of its own: never an earlier action's context.
        user = await acting_user(self.hass, None, self.entity_id)
        with translate_http_errors(self.data):
            upstream = await self.data.client.open_mjpeg(self.camera_name, user=user)
        try:
            return await async_aiohttp_proxy_stream(
                self.hass, request, upstream.content, upstream.headers.get(hdrs.CONTENT_TYPE)
            )
        finally:
            upstream.close()

    async def _placeholder_while_private(self) -> bytes | None:
        # None ends the placeholder stream once privacy mode is off: the next view gets the
        # live picture (HA's camera dialog keeps its last frame until it is reopened).
        if not self.privacy_mode:
            return None
        return await async_privacy_placeholder(self.hass)
