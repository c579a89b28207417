"""Binary sensors per camera: motion, and a problem sensor for a stalled or offline feed."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, override

from homeassistant.components.binary_sensor import (
    BinarySensorEntity,
    BinarySensorEntityDescription,
)
from homeassistant.components.binary_sensor.const import BinarySensorDeviceClass

from .entity import PorchlightEntity, add_camera_entities
from .protocol import CameraStatus

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
    attributes_fn: Callable[[CameraState], dict[str, Any]] | None = None


DESCRIPTIONS = (
    PorchlightBinarySensorEntityDescription(
        key="motion",
        device_class=BinarySensorDeviceClass.MOTION,
        is_on_fn=lambda camera: camera["motion"],
    ),
    # A problem sensor rather than connectivity: "online" is the normal state of a camera,
    # and the add-on says *why* it is not (the reason attribute).
    PorchlightBinarySensorEntityDescription(
        key="problem",
        translation_key="camera_problem",
        device_class=BinarySensorDeviceClass.PROBLEM,
        is_on_fn=lambda camera: camera["status"] != CameraStatus.ONLINE,
        attributes_fn=lambda camera: {
            "status": camera["status"],
            "reason": camera["status_reason"],
        },
    ),
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: PorchlightConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    add_camera_entities(
        entry,
        async_add_entities,
        lambda camera: (
            PorchlightBinarySensor(entry, camera, description) for description in DESCRIPTIONS
        ),
    )


class PorchlightBinarySensor(PorchlightEntity, BinarySensorEntity):
    entity_description: PorchlightBinarySensorEntityDescription

    @property
    @override
    def is_on(self) -> bool | None:
        return self.camera_value(self.entity_description.is_on_fn)

    @property
    @override
    def extra_state_attributes(self) -> dict[str, Any] | None:
        attributes_fn = self.entity_description.attributes_fn
        return None if attributes_fn is None else self.camera_value(attributes_fn)
