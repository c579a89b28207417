"""Image entity: the snapshot of the latest visitor (ring), fetched when it is ready.

A ring never waits for it: the add-on publishes the ring first and `snapshot_ready` later.
It is fetched from the add-on for every view, not kept: each look is audited with the
Home Assistant user (`views.acting_user`). Until a camera's first ring there is no image:
no `image_last_updated` (state unknown) and no `entity_picture`, so the frontend shows
the icon instead of asking for a picture that does not exist.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, override

from homeassistant.components.image import ImageEntity, ImageEntityDescription

from .entity import PorchlightEntity, add_camera_entities
from .views import acting_user

if TYPE_CHECKING:
    from homeassistant.core import HomeAssistant
    from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

    from .data import PorchlightConfigEntry

PARALLEL_UPDATES = 0

LAST_VISITOR = ImageEntityDescription(key="last_visitor", translation_key="last_visitor")


async def async_setup_entry(
    hass: HomeAssistant,
    entry: PorchlightConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the last-visitor image of every camera, now and later."""
    add_camera_entities(
        entry,
        async_add_entities,
        lambda camera: (PorchlightVisitorImage(hass, entry, camera, LAST_VISITOR),),
    )


class PorchlightVisitorImage(PorchlightEntity, ImageEntity):
    """The JPEG the add-on took at a camera's latest ring, fetched (and audited) per view."""

    _attr_content_type = "image/jpeg"

    def __init__(
        self,
        hass: HomeAssistant,
        entry: PorchlightConfigEntry,
        camera: str,
        description: ImageEntityDescription,
    ) -> None:
        PorchlightEntity.__init__(self, entry, camera, description)
        ImageEntity.__init__(self, hass)

    @property
    @override
    def image_last_updated(self) -> datetime | None:
        visitor = self.data.last_visitor.get(self.camera_name)
        return None if visitor is None else datetime.fromtimestamp(visitor.time, UTC)

    @property
    @override
    def entity_picture(self) -> str | None:
        # Home Assistant's image view answers 500 for an image entity without an image.
        if self.image_last_updated is None:
            return None
        return super().entity_picture

    @override
    async def async_image(self) -> bytes | None:
        visitor = self.data.last_visitor.get(self.camera_name)
        if visitor is None:
            return None
        user = await acting_user(self.hass, None, self.entity_id)
        return await self.run_command(
            "event_snapshot", self.data.client.event_snapshot(visitor.event_id, user)
        )
