"""Doorbell event entity: fires `ring` when someone presses the button."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, override

from homeassistant.components.event import (
    EventDeviceClass,
    EventEntity,
    EventEntityDescription,
)
from homeassistant.core import HomeAssistant, callback

from .entity import PorchlightEntity
from .protocol import EventMessage, EventType

if TYPE_CHECKING:
    from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

    from .data import PorchlightConfigEntry

# Pushed by the add-on; nothing here talks to it.
PARALLEL_UPDATES = 0

DOORBELL = EventEntityDescription(
    key="doorbell",
    translation_key="doorbell",
    device_class=EventDeviceClass.DOORBELL,
    event_types=[EventType.RING.value],
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: PorchlightConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    async_add_entities(
        PorchlightDoorbellEvent(entry, camera, DOORBELL) for camera in entry.runtime_data.cameras
    )


class PorchlightDoorbellEvent(PorchlightEntity, EventEntity):
    """Rings once per `ring` event (replayed ones included: each arrives exactly once)."""

    @override
    async def async_added_to_hass(self) -> None:
        await super().async_added_to_hass()
        self.async_on_remove(
            self.data.async_add_event_listener(self.camera_name, self._handle_event)
        )

    @callback
    def _handle_event(self, event: EventMessage) -> None:
        if event["event"] != EventType.RING:
            return
        self._trigger_event(
            EventType.RING.value,
            {
                "source": event["data"].get("source"),
                # When the button was pressed, which for a replayed event is not now.
                "rang_at": datetime.fromtimestamp(event["time"], UTC).isoformat(),
                "seq": event["seq"],
            },
        )
        # The listener registry writes the state right after every event.
