"""Camera entity: stills from the add-on's snapshot endpoint, live view via its MJPEG."""

from __future__ import annotations

from typing import TYPE_CHECKING, override

from aiohttp import hdrs, web
from homeassistant.components.camera import Camera
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers.aiohttp_client import async_aiohttp_proxy_stream
from homeassistant.helpers.entity import EntityDescription

from .const import DOMAIN, MANUFACTURER
from .entity import PorchlightEntity
from .exceptions import PorchlightError
from .protocol import CameraStatus

if TYPE_CHECKING:
    from homeassistant.core import HomeAssistant
    from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

    from .data import PorchlightConfigEntry

# Snapshots and streams go straight to the add-on, which serves many viewers at once.
PARALLEL_UPDATES = 0

CAMERA = EntityDescription(key="camera", name=None)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: PorchlightConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    async_add_entities(
        PorchlightCamera(entry, camera, CAMERA) for camera in entry.runtime_data.cameras
    )


class PorchlightCamera(PorchlightEntity, Camera):
    """The doorbell's picture; no HLS/WebRTC (the add-on serves MJPEG only)."""

    _attr_brand = MANUFACTURER

    def __init__(
        self, entry: PorchlightConfigEntry, camera: str, description: EntityDescription
    ) -> None:
        PorchlightEntity.__init__(self, entry, camera, description)
        Camera.__init__(self)

    @property
    @override
    def is_streaming(self) -> bool:
        camera = self.camera_state
        return camera is not None and camera["status"] == CameraStatus.ONLINE

    @property
    @override
    def motion_detection_enabled(self) -> bool:
        camera = self.camera_state
        return camera is not None and camera["motion_settings"]["enabled"]

    @override
    async def async_camera_image(
        self, width: int | None = None, height: int | None = None
    ) -> bytes | None:
        # The add-on sends its native size; the camera component scales when asked to.
        try:
            return await self.data.client.snapshot(self.camera_name)
        except PorchlightError as err:
            raise HomeAssistantError(
                translation_domain=DOMAIN,
                translation_key="snapshot_failed",
                translation_placeholders={"camera": self.camera_name, "error": str(err)},
            ) from err

    @override
    async def handle_async_mjpeg_stream(self, request: web.Request) -> web.StreamResponse | None:
        try:
            upstream = await self.data.client.open_mjpeg(self.camera_name)
        except PorchlightError as err:
            raise web.HTTPBadGateway(text=str(err)) from err
        try:
            return await async_aiohttp_proxy_stream(
                self.hass, request, upstream.content, upstream.headers.get(hdrs.CONTENT_TYPE)
            )
        finally:
            upstream.close()
