"""Buttons per camera: ring the doorbell (to test automations) and take a snapshot."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, override

from homeassistant.components.button import ButtonEntity, ButtonEntityDescription

from .entity import PorchlightEntity, add_camera_entities
from .pyporchlight.protocol import Command

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
    """

    command: Command
    press_fn: Callable[[PorchlightClient, str], Awaitable[Any]]


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
    ),
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: PorchlightConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the test-ring and snapshot buttons of every camera, now and later."""
    add_camera_entities(
        entry,
        async_add_entities,
        lambda camera: (PorchlightButton(entry, camera, d) for d in DESCRIPTIONS),
    )


class PorchlightButton(PorchlightEntity, ButtonEntity):
    """Presses a camera's command on the add-on (ring, take a snapshot)."""

    entity_description: PorchlightButtonEntityDescription

    @override
    async def async_press(self) -> None:
        # The result (a ring, a snapshot) arrives as events, like any other.
        description = self.entity_description
        await self.run_command(
            description.command, description.press_fn(self.data.client, self.camera_name)
        )
