"""Sensors: last ring and motion per camera, camera health, and the add-on's storage."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, override

from homeassistant.components.sensor import (
    SensorDeviceClass,
    SensorEntity,
    SensorEntityDescription,
    SensorStateClass,
)
from homeassistant.const import EntityCategory, UnitOfFrequency, UnitOfInformation, UnitOfTime

from .entity import PorchlightEntity, PorchlightServerEntity, add_camera_entities

if TYPE_CHECKING:
    from collections.abc import Callable

    from homeassistant.core import HomeAssistant
    from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
    from homeassistant.helpers.typing import StateType

    from .data import PorchlightConfigEntry
    from .pyporchlight.protocol import CameraState, StorageStatus

PARALLEL_UPDATES = 0


def _timestamp(value: float | None) -> datetime | None:
    return None if value is None else datetime.fromtimestamp(value, UTC)


@dataclass(frozen=True, kw_only=True)
class PorchlightSensorEntityDescription(SensorEntityDescription):
    """A camera sensor.

    Attributes:
        value_fn: The native value from a `CameraState` (units per description).
    """

    value_fn: Callable[[CameraState], StateType | datetime]


@dataclass(frozen=True, kw_only=True)
class PorchlightStorageSensorEntityDescription(SensorEntityDescription):
    """A sensor of the add-on's storage.

    Attributes:
        value_fn: The native value from the `StorageStatus` (bytes, or a count).
    """

    value_fn: Callable[[StorageStatus], StateType]


CAMERA_SENSORS = (
    # The doorbell and motion event entities' states are these times already, and every
    # change of a timestamp sensor is another Activity line: off unless wanted.
    PorchlightSensorEntityDescription(
        key="last_ring",
        translation_key="last_ring",
        device_class=SensorDeviceClass.TIMESTAMP,
        entity_registry_enabled_default=False,
        value_fn=lambda camera: _timestamp(camera.get("last_ring")),
    ),
    PorchlightSensorEntityDescription(
        key="last_motion",
        translation_key="last_motion",
        device_class=SensorDeviceClass.TIMESTAMP,
        entity_registry_enabled_default=False,
        value_fn=lambda camera: _timestamp(camera.get("last_motion")),
    ),
    PorchlightSensorEntityDescription(
        key="fps",
        translation_key="fps",
        entity_category=EntityCategory.DIAGNOSTIC,
        native_unit_of_measurement=UnitOfFrequency.HERTZ,
        state_class=SensorStateClass.MEASUREMENT,
        suggested_display_precision=1,
        value_fn=lambda camera: camera["fps"],
    ),
    # Changes with every frame batch and matters only when tuning: off unless wanted.
    PorchlightSensorEntityDescription(
        key="latency",
        translation_key="latency",
        entity_category=EntityCategory.DIAGNOSTIC,
        device_class=SensorDeviceClass.DURATION,
        native_unit_of_measurement=UnitOfTime.MILLISECONDS,
        state_class=SensorStateClass.MEASUREMENT,
        suggested_display_precision=0,
        entity_registry_enabled_default=False,
        value_fn=lambda camera: camera.get("latency_ms"),
    ),
    PorchlightSensorEntityDescription(
        key="dropped_frames",
        translation_key="dropped_frames",
        entity_category=EntityCategory.DIAGNOSTIC,
        state_class=SensorStateClass.TOTAL_INCREASING,
        entity_registry_enabled_default=False,
        value_fn=lambda camera: camera.get("dropped"),
    ),
)

STORAGE_SENSORS = (
    PorchlightStorageSensorEntityDescription(
        key="clips",
        translation_key="clips",
        state_class=SensorStateClass.MEASUREMENT,
        value_fn=lambda storage: storage["clips"],
    ),
    PorchlightStorageSensorEntityDescription(
        key="storage_used",
        translation_key="storage_used",
        entity_category=EntityCategory.DIAGNOSTIC,
        device_class=SensorDeviceClass.DATA_SIZE,
        native_unit_of_measurement=UnitOfInformation.BYTES,
        suggested_unit_of_measurement=UnitOfInformation.MEGABYTES,
        suggested_display_precision=0,
        state_class=SensorStateClass.MEASUREMENT,
        value_fn=lambda storage: storage["used_bytes"],
    ),
    PorchlightStorageSensorEntityDescription(
        key="storage_free",
        translation_key="storage_free",
        entity_category=EntityCategory.DIAGNOSTIC,
        device_class=SensorDeviceClass.DATA_SIZE,
        native_unit_of_measurement=UnitOfInformation.BYTES,
        suggested_unit_of_measurement=UnitOfInformation.GIGABYTES,
        suggested_display_precision=1,
        state_class=SensorStateClass.MEASUREMENT,
        value_fn=lambda storage: storage["free_bytes"],
    ),
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: PorchlightConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the add-on's storage sensors and every camera's sensors, now and later."""
    if entry.runtime_data.storage is not None:  # older add-ons have no storage
        async_add_entities(PorchlightStorageSensor(entry, d) for d in STORAGE_SENSORS)
    add_camera_entities(
        entry,
        async_add_entities,
        lambda camera: (PorchlightSensor(entry, camera, d) for d in CAMERA_SENSORS),
    )


class PorchlightSensor(PorchlightEntity, SensorEntity):
    """A camera's measurement or timestamp (frame rate, latency, last ring...)."""

    entity_description: PorchlightSensorEntityDescription

    @property
    @override
    def native_value(self) -> StateType | datetime:
        return self.camera_value(self.entity_description.value_fn)


class PorchlightStorageSensor(PorchlightServerEntity, SensorEntity):
    """The add-on's storage numbers; unavailable from add-ons without storage."""

    entity_description: PorchlightStorageSensorEntityDescription

    @property
    @override
    def native_value(self) -> StateType:
        storage = self.data.storage
        return None if storage is None else self.entity_description.value_fn(storage)
