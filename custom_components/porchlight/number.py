"""Numbers per camera: motion sensitivity and minimum area, recording pre- and post-roll."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, override

from homeassistant.components.number import (
    NumberDeviceClass,
    NumberEntity,
    NumberEntityDescription,
    NumberMode,
)
from homeassistant.const import PERCENTAGE, EntityCategory, UnitOfTime

from .entity import PorchlightEntity, add_camera_entities
from .pyporchlight.protocol import LIMITS, Command, Setting

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from homeassistant.core import HomeAssistant
    from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

    from .data import PorchlightConfigEntry
    from .pyporchlight.client import PorchlightClient
    from .pyporchlight.protocol import CameraState

PARALLEL_UPDATES = 0


type SetFn = Callable[[PorchlightClient, str, float], Awaitable[None]]


def _motion(key: str) -> SetFn:
    async def set_value(client: PorchlightClient, camera: str, value: float) -> None:
        # The threshold is an integer on the wire; the area a float.
        wire = int(value) if key == "threshold" else value
        await client.set_motion_settings(camera, **{key: wire})

    return set_value


def _recording(key: str) -> SetFn:
    async def set_value(client: PorchlightClient, camera: str, value: float) -> None:
        await client.set_recording_settings(camera, **{key: value})

    return set_value


def _recording_value(key: str) -> Callable[[CameraState], float | None]:
    def value(camera: CameraState) -> float | None:
        recording = camera.get("recording")
        return None if recording is None else float(recording[key])  # type: ignore[literal-required]

    return value


@dataclass(frozen=True, kw_only=True)
class PorchlightNumberEntityDescription(NumberEntityDescription):
    """A camera setting: how to read it and which command sets it.

    Attributes:
        command: The protocol command `set_fn` sends (named in errors).
        value_fn: The value from a `CameraState` (native unit); None when unknown.
        set_fn: Sends the command for (client, camera name, value). The new value is not
            taken from its result: it arrives as the add-on's `camera_state` event.
    """

    command: Command
    value_fn: Callable[[CameraState], float | None]
    set_fn: SetFn


# Ranges are the protocol's table (LIMITS): the add-on rejects anything outside them.
DESCRIPTIONS = (
    PorchlightNumberEntityDescription(
        key="motion_threshold",
        translation_key="motion_threshold",
        entity_category=EntityCategory.CONFIG,
        native_min_value=LIMITS[Setting.THRESHOLD].low,
        native_max_value=LIMITS[Setting.THRESHOLD].high,
        native_step=LIMITS[Setting.THRESHOLD].step,
        mode=NumberMode.BOX,
        command=Command.SET_MOTION_SETTINGS,
        value_fn=lambda camera: camera["motion_settings"]["threshold"],
        set_fn=_motion("threshold"),
    ),
    PorchlightNumberEntityDescription(
        key="motion_min_area",
        translation_key="motion_min_area",
        entity_category=EntityCategory.CONFIG,
        native_min_value=LIMITS[Setting.MIN_AREA].low,
        native_max_value=LIMITS[Setting.MIN_AREA].high,
        native_step=LIMITS[Setting.MIN_AREA].step,
        native_unit_of_measurement=PERCENTAGE,
        mode=NumberMode.BOX,
        command=Command.SET_MOTION_SETTINGS,
        value_fn=lambda camera: camera["motion_settings"]["min_area"],
        set_fn=_motion("min_area"),
    ),
    PorchlightNumberEntityDescription(
        key="pre_roll",
        translation_key="pre_roll",
        entity_category=EntityCategory.CONFIG,
        device_class=NumberDeviceClass.DURATION,
        native_unit_of_measurement=UnitOfTime.SECONDS,
        native_min_value=LIMITS[Setting.PRE_ROLL].low,
        native_max_value=LIMITS[Setting.PRE_ROLL].high,
        native_step=LIMITS[Setting.PRE_ROLL].step,
        command=Command.SET_RECORDING_SETTINGS,
        value_fn=_recording_value("pre_roll"),
        set_fn=_recording("pre_roll"),
    ),
    PorchlightNumberEntityDescription(
        key="post_roll",
        translation_key="post_roll",
        entity_category=EntityCategory.CONFIG,
        device_class=NumberDeviceClass.DURATION,
        native_unit_of_measurement=UnitOfTime.SECONDS,
        native_min_value=LIMITS[Setting.POST_ROLL].low,
        native_max_value=LIMITS[Setting.POST_ROLL].high,
        native_step=LIMITS[Setting.POST_ROLL].step,
        mode=NumberMode.BOX,
        command=Command.SET_RECORDING_SETTINGS,
        value_fn=_recording_value("post_roll"),
        set_fn=_recording("post_roll"),
    ),
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: PorchlightConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the motion and recording setting numbers of every camera, now and later."""
    add_camera_entities(
        entry,
        async_add_entities,
        lambda camera: (PorchlightNumber(entry, camera, d) for d in DESCRIPTIONS),
    )


class PorchlightNumber(PorchlightEntity, NumberEntity):
    """A camera setting as a number; its value comes from the add-on's state events."""

    entity_description: PorchlightNumberEntityDescription

    @property
    @override
    def native_value(self) -> float | None:
        return self.camera_value(self.entity_description.value_fn)

    @override
    async def async_set_native_value(self, value: float) -> None:
        description = self.entity_description
        # The add-on's camera_state event writes the new value (the one writer).
        await self.run_command(
            description.command, description.set_fn(self.data.client, self.camera_name, value)
        )
