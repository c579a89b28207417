"""Event entities: the doorbell fires `ring`, motion fires `motion` when it starts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, override

from homeassistant.components.event import (
    EventDeviceClass,
    EventEntity,
    EventEntityDescription,
)
from homeassistant.core import HomeAssistant, callback

from .entity import PorchlightEntity, add_camera_entities
from .pyporchlight.protocol import EventMessage, EventType

if TYPE_CHECKING:
    from collections.abc import Callable

    from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

    from .data import PorchlightConfigEntry

# Pushed by the add-on; nothing here talks to it.
PARALLEL_UPDATES = 0


def _iso(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, UTC).isoformat()


def _ring(event: EventMessage) -> dict[str, Any] | None:
    if event["event"] != EventType.RING:
        return None
    return {
        "source": event["data"].get("source"),
        # When the button was pressed, which for a replayed event is not now.
        "rang_at": _iso(event["time"]),
        "seq": event["seq"],
    }


def _motion_start(event: EventMessage) -> dict[str, Any] | None:
    data = event["data"]
    if event["event"] != EventType.MOTION or data.get("active") is not True:
        return None
    return {
        "started_at": _iso(event["time"]),
        "area": data.get("area"),
        "zones": data.get("zones", []),
        "seq": event["seq"],
    }


@dataclass(frozen=True, kw_only=True)
class PorchlightEventEntityDescription(EventEntityDescription):
    """Which add-on events fire the entity, and with what attributes (None: not fired)."""

    fired_type: str
    attributes_fn: Callable[[EventMessage], dict[str, Any] | None]


DESCRIPTIONS = (
    PorchlightEventEntityDescription(
        key="doorbell",
        translation_key="doorbell",
        device_class=EventDeviceClass.DOORBELL,
        event_types=["ring"],
        fired_type="ring",
        attributes_fn=_ring,
    ),
    PorchlightEventEntityDescription(
        key="motion_event",
        translation_key="motion",
        device_class=EventDeviceClass.MOTION,
        event_types=["motion"],
        fired_type="motion",
        attributes_fn=_motion_start,
    ),
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: PorchlightConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the doorbell and motion event entities of every camera, now and later."""
    add_camera_entities(
        entry,
        async_add_entities,
        lambda camera: (
            PorchlightEvent(entry, camera, description) for description in DESCRIPTIONS
        ),
    )


class PorchlightEvent(PorchlightEntity, EventEntity):
    """Fires once per matching event (replayed ones included: each arrives exactly once)."""

    entity_description: PorchlightEventEntityDescription

    @override
    async def async_added_to_hass(self) -> None:
        await super().async_added_to_hass()
        self.async_on_remove(
            self.data.async_add_event_listener(self.camera_name, self._handle_event)
        )

    @callback
    def _handle_event(self, event: EventMessage) -> None:
        attributes = self.entity_description.attributes_fn(event)
        if attributes is None:
            return
        self._trigger_event(self.entity_description.fired_type, attributes)
        # Written right away (not by the update listener after it) for the lowest latency.
        self.async_write_ha_state()
