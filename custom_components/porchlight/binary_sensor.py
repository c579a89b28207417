"""Motion binary sensor, one per camera, driven by `motion` events and resyncs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, override

from homeassistant.components.binary_sensor import (
    BinarySensorEntity,
    BinarySensorEntityDescription,
)
from homeassistant.components.binary_sensor.const import BinarySensorDeviceClass

from .entity import PorchlightEntity

if TYPE_CHECKING:
    from collections.abc import Callable

    from homeassistant.core import HomeAssistant
    from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

    from .data import PorchlightConfigEntry
    from .protocol import CameraState

PARALLEL_UPDATES = 0


@dataclass(frozen=True, kw_only=True)
class PorchlightBinarySensorEntityDescription(BinarySensorEntityDescription):
    """How to read one binary sensor from a camera's state."""

    is_on_fn: Callable[[CameraState], bool]


DESCRIPTIONS = (
    PorchlightBinarySensorEntityDescription(
        key="motion",
        device_class=BinarySensorDeviceClass.MOTION,
        is_on_fn=lambda camera: camera["motion"],
    ),
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: PorchlightConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    async_add_entities(
        PorchlightBinarySensor(entry, camera, description)
        for camera in entry.runtime_data.cameras
        for description in DESCRIPTIONS
    )


class PorchlightBinarySensor(PorchlightEntity, BinarySensorEntity):
    entity_description: PorchlightBinarySensorEntityDescription

    @property
    @override
    def is_on(self) -> bool | None:
        camera = self.camera_state
        return None if camera is None else self.entity_description.is_on_fn(camera)
