"""Numbers per camera: motion sensitivity and minimum area, recording pre- and post-roll."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, override

from homeassistant.components.number import (
    NumberDeviceClass,
    NumberEntity,
    NumberEntityDescription,
    NumberMode,
)
from homeassistant.const import PERCENTAGE, EntityCategory, UnitOfTime

from .entity import PorchlightEntity, add_camera_entities

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from homeassistant.core import HomeAssistant
    from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

    from .client import PorchlightClient
    from .data import PorchlightConfigEntry
    from .protocol import CameraState

PARALLEL_UPDATES = 0


def _motion(key: str) -> Callable[[PorchlightClient, str, float], Awaitable[dict[str, Any]]]:
    async def set_value(client: PorchlightClient, camera: str, value: float) -> dict[str, Any]:
        # The threshold is an integer on the wire; the area a float.
        wire = int(value) if key == "threshold" else value
        return {"motion_settings": await client.set_motion_settings(camera, **{key: wire})}

    return set_value


def _recording(key: str) -> Callable[[PorchlightClient, str, float], Awaitable[dict[str, Any]]]:
    async def set_value(client: PorchlightClient, camera: str, value: float) -> dict[str, Any]:
        return {"recording": await client.set_recording_settings(camera, **{key: value})}

    return set_value


def _recording_value(key: str) -> Callable[[CameraState], float | None]:
    def value(camera: CameraState) -> float | None:
        recording = camera.get("recording")
        return None if recording is None else float(recording[key])  # type: ignore[literal-required]

    return value


@dataclass(frozen=True, kw_only=True)
class PorchlightNumberEntityDescription(NumberEntityDescription):
    """A camera setting; `set_fn` returns the camera-state fields its command changed."""

    command: str
    value_fn: Callable[[CameraState], float | None]
    set_fn: Callable[[PorchlightClient, str, float], Awaitable[dict[str, Any]]]


# Ranges are the protocol's (docs/protocol.md): the add-on rejects anything outside them.
DESCRIPTIONS = (
    PorchlightNumberEntityDescription(
        key="motion_threshold",
        translation_key="motion_threshold",
        entity_category=EntityCategory.CONFIG,
        native_min_value=1,
        native_max_value=255,
        native_step=1,
        mode=NumberMode.BOX,
        command="set_motion_settings",
        value_fn=lambda camera: camera["motion_settings"]["threshold"],
        set_fn=_motion("threshold"),
    ),
    PorchlightNumberEntityDescription(
        key="motion_min_area",
        translation_key="motion_min_area",
        entity_category=EntityCategory.CONFIG,
        native_min_value=0,
        native_max_value=100,
        native_step=0.5,
        native_unit_of_measurement=PERCENTAGE,
        mode=NumberMode.BOX,
        command="set_motion_settings",
        value_fn=lambda camera: camera["motion_settings"]["min_area"],
        set_fn=_motion("min_area"),
    ),
    PorchlightNumberEntityDescription(
        key="pre_roll",
        translation_key="pre_roll",
        entity_category=EntityCategory.CONFIG,
        device_class=NumberDeviceClass.DURATION,
        native_unit_of_measurement=UnitOfTime.SECONDS,
        native_min_value=0,
        native_max_value=30,
        native_step=1,
        command="set_recording_settings",
        value_fn=_recording_value("pre_roll"),
        set_fn=_recording("pre_roll"),
    ),
    PorchlightNumberEntityDescription(
        key="post_roll",
        translation_key="post_roll",
        entity_category=EntityCategory.CONFIG,
        device_class=NumberDeviceClass.DURATION,
        native_unit_of_measurement=UnitOfTime.SECONDS,
        native_min_value=1,
        native_max_value=300,
        native_step=1,
        mode=NumberMode.BOX,
        command="set_recording_settings",
        value_fn=_recording_value("post_roll"),
        set_fn=_recording("post_roll"),
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
        lambda camera: (PorchlightNumber(entry, camera, d) for d in DESCRIPTIONS),
    )


class PorchlightNumber(PorchlightEntity, NumberEntity):
    entity_description: PorchlightNumberEntityDescription

    @property
    @override
    def native_value(self) -> float | None:
        return self.camera_value(self.entity_description.value_fn)

    @override
    async def async_set_native_value(self, value: float) -> None:
        description = self.entity_description
        changes = await self.run_command(
            description.command, description.set_fn(self.data.client, self.camera_name, value)
        )
        self.data.update_camera(self.camera_name, **changes)
