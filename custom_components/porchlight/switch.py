"""Switches per camera: motion detection, recording and privacy mode."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, override

from homeassistant.components.switch import SwitchEntity, SwitchEntityDescription
from homeassistant.const import EntityCategory

from .entity import PorchlightEntity, add_camera_entities

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from homeassistant.core import HomeAssistant
    from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

    from .client import PorchlightClient
    from .data import PorchlightConfigEntry
    from .protocol import CameraState

# Each action is one websocket command; the add-on handles them concurrently.
PARALLEL_UPDATES = 0


async def _set_motion(client: PorchlightClient, camera: str, on: bool) -> dict[str, Any]:
    return {"motion_settings": await client.set_motion_settings(camera, enabled=on)}


async def _set_recording(client: PorchlightClient, camera: str, on: bool) -> dict[str, Any]:
    return {"recording": await client.set_recording_settings(camera, enabled=on)}


async def _set_privacy(client: PorchlightClient, camera: str, on: bool) -> dict[str, Any]:
    return {"privacy_mode": await client.set_privacy_mode(camera, on)}


def _recording_enabled(camera: CameraState) -> bool | None:
    recording = camera.get("recording")
    return None if recording is None else recording["enabled"]


@dataclass(frozen=True, kw_only=True)
class PorchlightSwitchEntityDescription(SwitchEntityDescription):
    """How to read a switch from a camera's state and which command sets it.

    `set_fn` returns the camera-state fields its command's result changed.
    """

    command: str
    is_on_fn: Callable[[CameraState], bool | None]
    set_fn: Callable[[PorchlightClient, str, bool], Awaitable[dict[str, Any]]]


DESCRIPTIONS = (
    PorchlightSwitchEntityDescription(
        key="motion_detection",
        translation_key="motion_detection",
        entity_category=EntityCategory.CONFIG,
        command="set_motion_settings",
        is_on_fn=lambda camera: camera["motion_settings"]["enabled"],
        set_fn=_set_motion,
    ),
    PorchlightSwitchEntityDescription(
        key="recording",
        translation_key="recording",
        entity_category=EntityCategory.CONFIG,
        command="set_recording_settings",
        is_on_fn=_recording_enabled,
        set_fn=_set_recording,
    ),
    # Not a config switch: turning the lens off is an everyday control.
    PorchlightSwitchEntityDescription(
        key="privacy_mode",
        translation_key="privacy_mode",
        command="set_privacy_mode",
        is_on_fn=lambda camera: camera.get("privacy_mode"),
        set_fn=_set_privacy,
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
        lambda camera: (PorchlightSwitch(entry, camera, d) for d in DESCRIPTIONS),
    )


class PorchlightSwitch(PorchlightEntity, SwitchEntity):
    entity_description: PorchlightSwitchEntityDescription

    @property
    @override
    def is_on(self) -> bool | None:
        return self.camera_value(self.entity_description.is_on_fn)

    @override
    async def async_turn_on(self, **kwargs: Any) -> None:
        await self._set(True)

    @override
    async def async_turn_off(self, **kwargs: Any) -> None:
        await self._set(False)

    async def _set(self, on: bool) -> None:
        description = self.entity_description
        changes = await self.run_command(
            description.command, description.set_fn(self.data.client, self.camera_name, on)
        )
        self.data.update_camera(self.camera_name, **changes)
