"""Buttons per camera: ring the doorbell (to test automations) and take a snapshot.

"Take snapshot" is unavailable while privacy mode is on: there is no picture to take,
and pressing it could only fail. The add-on's own device has one more: rotate the live
stream credential (revokes every stream URL; HA's open streams switch to new ones).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, override

from homeassistant.components.button import ButtonEntity, ButtonEntityDescription
from homeassistant.const import EntityCategory

from .entity import PorchlightEntity, PorchlightServerEntity, add_camera_entities
from .errors import translate_errors
from .pyporchlight.commands import on_behalf_of
from .pyporchlight.protocol import Command
from .views import acting_user

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from homeassistant.core import HomeAssistant
    from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

    from .data import PorchlightConfigEntry
    from .pyporchlight.client import PorchlightClient

PARALLEL_UPDATES = 0


@dataclass(frozen=True, kw_only=True)
class PorchlightButtonEntityDescription(ButtonEntityDescription):
    """A button that sends one command.

    Attributes:
        command: The protocol command (named in errors).
        press_fn: Sends it for (client, camera name); its result is not used (what it
            causes arrives as events).
        needs_picture: Unavailable while the camera is in privacy mode.
    """

    command: Command
    press_fn: Callable[[PorchlightClient, str], Awaitable[Any]]
    needs_picture: bool = False


DESCRIPTIONS = (
    PorchlightButtonEntityDescription(
        key="test_ring",
        translation_key="test_ring",
        command=Command.RING,
        press_fn=lambda client, camera: client.ring(camera),
    ),
    PorchlightButtonEntityDescription(
        key="take_snapshot",
        translation_key="take_snapshot",
        command=Command.TAKE_SNAPSHOT,
        press_fn=lambda client, camera: client.take_snapshot(camera),
        needs_picture=True,
    ),
)


ROTATE_STREAM_CREDENTIAL = ButtonEntityDescription(
    key="rotate_stream_credential",
    translation_key="rotate_stream_credential",
    entity_category=EntityCategory.CONFIG,
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: PorchlightConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the test-ring and snapshot buttons of every camera, now and later."""
    data = entry.runtime_data
    # Add-ons without a live stream have no stream credential to rotate.
    if any(camera.get("live_stream", False) for camera in data.cameras.values()):
        async_add_entities([RotateStreamCredentialButton(entry, ROTATE_STREAM_CREDENTIAL)])
    add_camera_entities(
        entry,
        async_add_entities,
        lambda camera: (PorchlightButton(entry, camera, d) for d in DESCRIPTIONS),
    )


class PorchlightButton(PorchlightEntity, ButtonEntity):
    """Presses a camera's command on the add-on (ring, take a snapshot)."""

    entity_description: PorchlightButtonEntityDescription

    @property
    @override
    def available(self) -> bool:
        camera = self.camera_state
        if camera is not None and self.entity_description.needs_picture:
            return super().available and not camera.get("privacy_mode", False)
        return super().available

    @override
    async def async_press(self) -> None:
        # The result (a ring, a snapshot) arrives as events, like any other.
        description = self.entity_description
        await self.run_command(
            description.command, description.press_fn(self.data.client, self.camera_name)
        )


class RotateStreamCredentialButton(PorchlightServerEntity, ButtonEntity):
    """Revokes the add-on's live stream URLs; cameras fetch new ones."""

    def __init__(self, entry: PorchlightConfigEntry, description: ButtonEntityDescription) -> None:
        super().__init__(entry, description)
        self._title = entry.title

    @property
    @override
    def available(self) -> bool:
        return self.data.connected

    @override
    async def async_press(self) -> None:
        user = await acting_user(self.hass, self._context)
        action, target = Command.ROTATE_STREAM_CREDENTIAL, self._title
        with on_behalf_of(user), translate_errors(self.data, action=action, target=target):
            await self.data.async_rotate_stream_credential()
