"""Base entity: one device per doorbell camera, state pushed by the add-on."""

from __future__ import annotations

from typing import TYPE_CHECKING, override

from homeassistant.helpers.device_registry import DeviceInfo
from homeassistant.helpers.entity import Entity, EntityDescription

from .const import DOMAIN, MANUFACTURER

if TYPE_CHECKING:
    from .data import PorchlightConfigEntry, PorchlightData
    from .protocol import CameraState


class PorchlightEntity(Entity):
    """An entity of one camera; it is written whenever that camera's data changes."""

    _attr_has_entity_name = True
    _attr_should_poll = False

    def __init__(
        self, entry: PorchlightConfigEntry, camera: str, description: EntityDescription
    ) -> None:
        self.entity_description = description
        self.data: PorchlightData = entry.runtime_data
        self.camera_name = camera
        instance_id = self.data.instance_id
        self._attr_unique_id = f"{instance_id}_{camera}_{description.key}"
        camera_state = self.data.cameras[camera]
        self._attr_device_info = DeviceInfo(
            identifiers={(DOMAIN, f"{instance_id}_{camera}")},
            manufacturer=MANUFACTURER,
            model="Video doorbell",
            name=camera_state["title"] or camera,
            sw_version=self.data.server_info["server_version"],
        )

    @property
    def camera_state(self) -> CameraState | None:
        return self.data.cameras.get(self.camera_name)

    @property
    @override
    def available(self) -> bool:
        return self.data.connected and self.camera_state is not None

    @override
    async def async_added_to_hass(self) -> None:
        await super().async_added_to_hass()
        self.async_on_remove(self.data.async_add_listener(self.camera_name, self._handle_update))

    def _handle_update(self) -> None:
        self.async_write_ha_state()
