"""Switches per camera: motion detection, recording, audio and privacy mode."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, override

from homeassistant.components.switch import SwitchEntity, SwitchEntityDescription
from homeassistant.const import EntityCategory

from .entity import PorchlightEntity, add_camera_entities
from .pyporchlight.protocol import Command

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from homeassistant.core import HomeAssistant
    from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

    from .data import PorchlightConfigEntry
    from .pyporchlight.client import PorchlightClient
    from .pyporchlight.protocol import CameraState

# Each action is one websocket command; the add-on handles them concurrently.
PARALLEL_UPDATES = 0


async def _set_motion(client: PorchlightClient, camera: str, on: bool) -> None:
    await client.set_motion_settings(camera, enabled=on)


async def _set_recording(client: PorchlightClient, camera: str, on: bool) -> None:
    await client.set_recording_settings(camera, enabled=on)


async def _set_privacy(client: PorchlightClient, camera: str, on: bool) -> None:
    await client.set_privacy_mode(camera, on)


async def _set_audio(client: PorchlightClient, camera: str, on: bool) -> None:
    await client.set_audio(camera, on)


def _recording_enabled(camera: CameraState) -> bool | None:
    recording = camera.get("recording")
    return None if recording is None else recording["enabled"]


@dataclass(frozen=True, kw_only=True)
class PorchlightSwitchEntityDescription(SwitchEntityDescription):
    """How to read a switch from a camera's state and which command sets it.

    Attributes:
        command: The protocol command `set_fn` sends (named in errors).
        is_on_fn: The switch's state from a `CameraState`; None when unknown.
        set_fn: Sends the command for (client, camera name, on). The new state is not
            taken from its result: it arrives as the add-on's `camera_state` event.
    """

    command: Command
    is_on_fn: Callable[[CameraState], bool | None]
    set_fn: Callable[[PorchlightClient, str, bool], Awaitable[None]]


DESCRIPTIONS = (
    PorchlightSwitchEntityDescription(
        key="motion_detection",
        translation_key="motion_detection",
        entity_category=EntityCategory.CONFIG,
        command=Command.SET_MOTION_SETTINGS,
        is_on_fn=lambda camera: camera["motion_settings"]["enabled"],
        set_fn=_set_motion,
    ),
    PorchlightSwitchEntityDescription(
        key="recording",
        translation_key="recording",
        entity_category=EntityCategory.CONFIG,
        command=Command.SET_RECORDING_SETTINGS,
        is_on_fn=_recording_enabled,
        set_fn=_set_recording,
    ),
    # Off by default in the add-on: recording passers-by's voices is especially intrusive.
    PorchlightSwitchEntityDescription(
        key="audio",
        translation_key="audio",
        entity_category=EntityCategory.CONFIG,
        command=Command.SET_AUDIO,
        is_on_fn=lambda camera: camera.get("audio"),
        set_fn=_set_audio,
    ),
    # Not a config switch: turning the lens off is an everyday control.
    PorchlightSwitchEntityDescription(
        key="privacy_mode",
        translation_key="privacy_mode",
        command=Command.SET_PRIVACY_MODE,
        is_on_fn=lambda camera: camera.get("privacy_mode"),
        set_fn=_set_privacy,
    ),
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: PorchlightConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the motion, recording, audio and privacy switches of every camera, now and later."""
    add_camera_entities(
        entry,
        async_add_entities,
        lambda camera: (PorchlightSwitch(entry, camera, d) for d in DESCRIPTIONS),
    )


class PorchlightSwitch(PorchlightEntity, SwitchEntity):
    """A camera setting as a switch; its state comes from the add-on's state events."""

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
        # The add-on's camera_state event is the one writer of the state: a result
        # written here could be older than an event that already arrived.
        await self.run_command(
            description.command, description.set_fn(self.data.client, self.camera_name, on)
        )
