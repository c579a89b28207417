"""Binary sensors per camera: motion, camera problem, and zone occupancy.

The problem sensor is on for a stalled or offline feed, never for privacy mode (a state
the owner chose: the camera entity is off instead). There is one occupancy sensor
per motion zone ("someone on the doorstep", as Frigate's zone occupancy sensors), on
while someone moving or standing still is in the zone.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any, override

from homeassistant.components.binary_sensor import (
    BinarySensorEntity,
    BinarySensorEntityDescription,
)
from homeassistant.components.binary_sensor.const import BinarySensorDeviceClass
from homeassistant.core import callback
from homeassistant.helpers import entity_registry as er

from .entity import PorchlightEntity, add_camera_entities
from .pyporchlight.protocol import CameraStatus, dark_by_choice

if TYPE_CHECKING:
    from collections.abc import Callable

    from homeassistant.core import HomeAssistant
    from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

    from .data import PorchlightConfigEntry
    from .pyporchlight.protocol import CameraState

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
        is_on_fn=lambda camera: (
            camera["status"] != CameraStatus.ONLINE and not dark_by_choice(camera)
        ),
        attributes_fn=lambda camera: {
            "status": camera["status"],
            "reason": camera["status_reason"],
        },
    ),
)


def zone_occupied(zone: str, camera: CameraState) -> bool:
    """The zone's occupancy; False for a zone the add-on no longer lists."""
    return any(z["name"] == zone and z["occupied"] for z in camera.get("zones", []))


def zone_descriptions(camera: CameraState) -> list[PorchlightBinarySensorEntityDescription]:
    """One occupancy sensor per configured zone (none from add-ons without zone state)."""
    return [
        PorchlightBinarySensorEntityDescription(
            key=f"zone_{zone['name']}_occupancy",
            translation_key="zone_occupancy",
            translation_placeholders={"zone": zone["name"]},
            device_class=BinarySensorDeviceClass.OCCUPANCY,
            is_on_fn=partial(zone_occupied, zone["name"]),
        )
        for zone in camera.get("zones", [])
    ]


async def async_setup_entry(
    hass: HomeAssistant,
    entry: PorchlightConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the motion and camera-problem sensors of every camera, now and later.

    A zone saved later (the add-on's panel) arrives as the camera's new state: its
    occupancy sensor is added then, without a reload; a deleted zone's is removed.
    """
    data = entry.runtime_data
    zones: dict[str, dict[str, PorchlightBinarySensor]] = {}
    """Per camera, its zone sensors by key (a camera listens once)."""

    def new_zones(camera: str) -> list[PorchlightBinarySensor]:
        known = zones[camera]
        fresh = [
            PorchlightBinarySensor(entry, camera, d)
            for d in zone_descriptions(data.cameras[camera])
            if d.key not in known
        ]
        known.update((sensor.entity_description.key, sensor) for sensor in fresh)
        return fresh

    @callback
    def state_changed(camera: str) -> None:
        if camera not in data.cameras:
            return
        listed = {d.key for d in zone_descriptions(data.cameras[camera])}
        registry = er.async_get(hass)
        for key in set(zones[camera]) - listed:  # deleted or renamed: not "off" for ever
            if registry.async_get(entity_id := zones[camera].pop(key).entity_id):
                registry.async_remove(entity_id)
        if added := new_zones(camera):
            async_add_entities(added)

    def entities(camera: str) -> list[PorchlightBinarySensor]:
        if camera not in zones:
            remove = data.async_add_listener(camera, partial(state_changed, camera))
            entry.async_on_unload(remove)
        zones[camera] = {}  # (again) added: all of its sensors are new
        fixed = [PorchlightBinarySensor(entry, camera, d) for d in DESCRIPTIONS]
        return [*fixed, *new_zones(camera)]

    add_camera_entities(entry, async_add_entities, entities)


class PorchlightBinarySensor(PorchlightEntity, BinarySensorEntity):
    """A camera's boolean state (motion, a camera problem), pushed by the add-on."""

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
