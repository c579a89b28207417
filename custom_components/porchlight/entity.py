"""Base entities: one device per doorbell camera (and one for the add-on), state pushed."""

from __future__ import annotations

from typing import TYPE_CHECKING, override

from homeassistant.helpers.device_registry import DeviceEntryType, DeviceInfo
from homeassistant.helpers.entity import Entity, EntityDescription

from .const import DOMAIN, MANUFACTURER
from .data import SERVER
from .errors import translate_errors
from .pyporchlight.commands import on_behalf_of
from .views import acting_user

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Iterable

    from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

    from .data import PorchlightConfigEntry, PorchlightData
    from .pyporchlight.protocol import CameraState, ServerInfo


def camera_identifier(instance_id: str, camera: str) -> tuple[str, str]:
    """The device registry identifier of a camera: (DOMAIN, `<instance_id>_<camera>`)."""
    return (DOMAIN, f"{instance_id}_{camera}")


def server_device_info(server_info: ServerInfo, title: str) -> DeviceInfo:
    """The add-on itself: storage lives here, and every camera hangs off it."""
    return DeviceInfo(
        identifiers={(DOMAIN, server_info["instance_id"])},
        manufacturer=MANUFACTURER,
        model="Porchlight add-on",
        name=title,
        sw_version=server_info["server_version"],
        entry_type=DeviceEntryType.SERVICE,
    )


class PorchlightEntity(Entity):
    """An entity of one camera; it is written whenever that camera's data changes."""

    _attr_has_entity_name = True
    _attr_should_poll = False

    def __init__(
        self, entry: PorchlightConfigEntry, camera: str, description: EntityDescription
    ) -> None:
        self.entity_description = description
        self.data: PorchlightData = entry.runtime_data
        self.camera_name = camera
        instance_id = self.data.instance_id
        self._attr_unique_id = f"{instance_id}_{camera}_{description.key}"
        camera_state = self.data.cameras[camera]
        self._attr_device_info = DeviceInfo(
            identifiers={camera_identifier(instance_id, camera)},
            manufacturer=MANUFACTURER,
            model="Video doorbell",
            name=camera_state["title"] or camera,
            sw_version=self.data.server_info["server_version"],
            via_device_id=self.data.hub_device_id,
        )

    @property
    def camera_state(self) -> CameraState | None:
        """This camera's latest `CameraState`, or None while the add-on does not list it."""
        return self.data.cameras.get(self.camera_name)

    def camera_value[T](self, value_fn: Callable[[CameraState], T]) -> T | None:
        """`value_fn` of this camera's state; None while the add-on does not list it."""
        camera = self.camera_state
        return None if camera is None else value_fn(camera)

    @property
    @override
    def available(self) -> bool:
        return self.data.connected and self.camera_state is not None

    @override
    async def async_added_to_hass(self) -> None:
        await super().async_added_to_hass()
        self.async_on_remove(self.data.async_add_listener(self.camera_name, self._handle_update))

    def _handle_update(self) -> None:
        self.async_write_ha_state()

    async def run_command[T](self, command: str, action: Awaitable[T]) -> T:
        """Await one of this camera's commands; failures become translated HA errors.

        The command names the Home Assistant user who acted (the entity's context) for
        the add-on's audit log.

        Args:
            command: The protocol command (a translation placeholder).
            action: The client call that sends it.

        Returns:
            The command's result.

        Raises:
            HomeAssistantError: see `errors.ha_error` (a 401 also starts reauth).
        """
        user = await acting_user(self.hass, self._context)
        with (
            on_behalf_of(user),
            translate_errors(self.data, action=command, target=self.camera_name),
        ):
            return await action


class PorchlightServerEntity(Entity):
    """An entity of the add-on itself (storage), written when that changes."""

    _attr_has_entity_name = True
    _attr_should_poll = False

    def __init__(self, entry: PorchlightConfigEntry, description: EntityDescription) -> None:
        self.entity_description = description
        self.data: PorchlightData = entry.runtime_data
        self._attr_unique_id = f"{self.data.instance_id}_{description.key}"
        self._attr_device_info = server_device_info(self.data.server_info, entry.title)

    @property
    @override
    def available(self) -> bool:
        return self.data.connected and self.data.storage is not None

    @override
    async def async_added_to_hass(self) -> None:
        await super().async_added_to_hass()
        self.async_on_remove(self.data.async_add_listener(SERVER, self.async_write_ha_state))


def add_camera_entities(
    entry: PorchlightConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
    factory: Callable[[str], Iterable[Entity]],
) -> None:
    """Add a platform's entities for every camera now, and for cameras that appear later."""

    def add(cameras: Iterable[str]) -> None:
        async_add_entities([entity for camera in cameras for entity in factory(camera)])

    add(entry.runtime_data.cameras)
    entry.async_on_unload(entry.runtime_data.async_add_cameras_listener(add))
