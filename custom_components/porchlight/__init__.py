"""The Porchlight integration: a local video doorbell served by the Porchlight add-on."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from homeassistant.const import ATTR_DEVICE_ID, CONF_HOST, CONF_PORT, Platform
from homeassistant.core import HomeAssistant, callback
from homeassistant.exceptions import ConfigEntryAuthFailed, ConfigEntryNotReady
from homeassistant.helpers import (
    config_validation as cv,
    device_registry as dr,
    issue_registry as ir,
)
from homeassistant.helpers.aiohttp_client import async_get_clientsession

from .const import (
    ATTR_CAMERA,
    ATTR_CLIP_ID,
    ATTR_CLIP_URL,
    ATTR_TIME,
    ATTR_TYPE,
    ATTR_ZONE,
    BACKOFF_MAX,
    BACKOFF_MIN,
    BUS_CLIP_FINISHED,
    CONF_TOKEN,
    DOMAIN,
    EVENT_PORCHLIGHT,
    LOGGER,
    TRIGGER_MOTION_STARTED,
    TRIGGER_MOTION_STOPPED,
    TRIGGER_RING,
    TRIGGER_ZONE_CLEARED,
    TRIGGER_ZONE_OCCUPIED,
)
from .data import PorchlightConfigEntry, PorchlightData
from .entity import camera_identifier, server_device_info
from .pyporchlight.client import PorchlightClient
from .pyporchlight.exceptions import (
    PorchlightAuthError,
    PorchlightError,
    PorchlightUnsupportedVersion,
)
from .pyporchlight.protocol import EventMessage, EventType, Peer
from .services import async_setup_services
from .views import ClipView, SnapshotView, clip_url
from .voice import async_setup_voice

if TYPE_CHECKING:
    from homeassistant.helpers.typing import ConfigType

PLATFORMS = [
    Platform.BINARY_SENSOR,
    Platform.BUTTON,
    Platform.CAMERA,
    Platform.EVENT,
    Platform.IMAGE,
    Platform.NUMBER,
    Platform.SENSOR,
    Platform.SWITCH,
]

CONFIG_SCHEMA = cv.config_entry_only_config_schema(DOMAIN)


async def async_setup(hass: HomeAssistant, config: ConfigType) -> bool:
    """What exists once for all add-ons: actions, the footage proxy, Assist sentences."""
    async_setup_services(hass)
    hass.http.register_view(ClipView(hass))
    hass.http.register_view(SnapshotView(hass))
    async_setup_voice(hass)
    return True


def version_issue_id(entry: PorchlightConfigEntry) -> str:
    """The repair issue id of an entry's protocol-version mismatch (one per entry)."""
    return f"unsupported_version_{entry.entry_id}"


@callback
def async_report_version_mismatch(
    hass: HomeAssistant, entry: PorchlightConfigEntry, err: PorchlightUnsupportedVersion
) -> None:
    """Raise a repair issue that says which side to update.

    The side is the one whose version falls below the other side's oldest supported
    version (`err.outdated`), not simply the older one: an older add-on within the
    integration's supported range needs nothing.
    """
    addon_older = err.outdated is Peer.SERVER
    ir.async_create_issue(
        hass,
        DOMAIN,
        version_issue_id(entry),
        is_fixable=False,
        severity=ir.IssueSeverity.ERROR,
        translation_key="addon_outdated" if addon_older else "integration_outdated",
        translation_placeholders={
            "title": entry.title,
            "server_version": err.server_version,
            "client_version": err.client_version,
        },
    )


async def async_setup_entry(hass: HomeAssistant, entry: PorchlightConfigEntry) -> bool:
    """Connect once (so errors surface here), then keep the connection in the background."""
    client = PorchlightClient(
        async_get_clientsession(hass),
        entry.data[CONF_HOST],
        entry.data[CONF_PORT],
        entry.data[CONF_TOKEN],
        backoff_min=BACKOFF_MIN,
        backoff_max=BACKOFF_MAX,
    )
    try:
        server_info = await client.connect()
        state = await client.get_state()
    except PorchlightAuthError as err:
        await client.disconnect()
        raise ConfigEntryAuthFailed(
            translation_domain=DOMAIN, translation_key="invalid_auth"
        ) from err
    except PorchlightUnsupportedVersion as err:
        await client.disconnect()
        async_report_version_mismatch(hass, entry, err)
        raise ConfigEntryNotReady(
            translation_domain=DOMAIN,
            translation_key="unsupported_version",
            translation_placeholders={
                "server_version": err.server_version,
                "client_version": err.client_version,
                "side": "add-on" if err.outdated is Peer.SERVER else "integration",
            },
        ) from err
    except PorchlightError as err:
        await client.disconnect()
        raise ConfigEntryNotReady(
            translation_domain=DOMAIN,
            translation_key="cannot_connect",
            translation_placeholders={"error": str(err)},
        ) from err
    ir.async_delete_issue(hass, DOMAIN, version_issue_id(entry))

    # The add-on's own device first: every camera device hangs off it (via_device).
    hub = dr.async_get(hass).async_get_or_create(
        config_entry_id=entry.entry_id, **server_device_info(server_info, entry.title)
    )

    @callback
    def cameras_removed(_names: set[str]) -> None:
        _remove_stale_devices(hass, entry, entry.runtime_data)

    @callback
    def storage_stale() -> None:
        entry.async_create_background_task(
            hass, _refresh_storage(entry.runtime_data), name="porchlight storage refresh"
        )

    @callback
    def auth_failed() -> None:
        LOGGER.debug("Starting reauthentication for %s", entry.title)
        entry.async_start_reauth(hass)

    data = PorchlightData(
        client=client,
        server_info=server_info,
        state=state,
        hub_device_id=hub.id,
        on_storage_stale=storage_stale,
        on_cameras_removed=cameras_removed,
        on_auth_failed=auth_failed,
    )
    entry.runtime_data = data
    _remove_stale_devices(hass, entry, data)

    @callback
    def handle_event(event: EventMessage) -> None:
        data.handle_event(event)
        if event["event"] == EventType.CAMERAS_CHANGED:
            # A camera added or removed in the panel: its device and entities follow now.
            entry.async_create_background_task(
                hass, _resync(data), name="porchlight cameras resync"
            )
        _fire_bus_event(hass, entry, event)

    @callback
    def handle_connection(connected: bool) -> None:
        if connected:
            ir.async_delete_issue(hass, DOMAIN, version_issue_id(entry))
        data.handle_connection(connected)

    @callback
    def unsupported_version(err: PorchlightUnsupportedVersion) -> None:
        async_report_version_mismatch(hass, entry, err)

    entry.async_create_background_task(
        hass,
        client.run(
            on_event=handle_event,
            on_state=data.handle_state,
            on_connection=handle_connection,
            on_auth_failed=data.on_auth_failed,
            on_unsupported_version=unsupported_version,
        ),
        name=f"Porchlight {entry.title} connection",
    )
    # Stop the loop and close the socket even if a platform fails to unload.
    entry.async_on_unload(client.stop)

    await hass.config_entries.async_forward_entry_setups(entry, PLATFORMS)
    return True


async def async_unload_entry(hass: HomeAssistant, entry: PorchlightConfigEntry) -> bool:
    """Unload the platforms; the connection is stopped by `async_on_unload`.

    Returns:
        True when every platform unloaded.
    """
    return await hass.config_entries.async_unload_platforms(entry, PLATFORMS)


async def async_remove_config_entry_device(
    hass: HomeAssistant, entry: PorchlightConfigEntry, device: dr.DeviceEntry
) -> bool:
    """Let the user delete a camera's device only once the add-on no longer has it."""
    data = entry.runtime_data
    return not device.identifiers & _current_identifiers(data)


def _current_identifiers(data: PorchlightData) -> set[tuple[str, str]]:
    return {(DOMAIN, data.instance_id)} | {
        camera_identifier(data.instance_id, camera) for camera in data.cameras
    }


@callback
def _remove_stale_devices(
    hass: HomeAssistant, entry: PorchlightConfigEntry, data: PorchlightData
) -> None:
    """Drop the devices (and so the entities) of cameras the add-on no longer has."""
    device_registry = dr.async_get(hass)
    current = _current_identifiers(data)
    for device in dr.async_entries_for_config_entry(device_registry, entry.entry_id):
        if not device.identifiers & current:
            LOGGER.debug("Removing device %s: its camera is gone", device.name)
            device_registry.async_update_device(device.id, remove_config_entry_id=entry.entry_id)


async def _resync(data: PorchlightData) -> None:
    try:
        data.handle_state(await data.client.get_state())
    except PorchlightError as err:
        # The resync after the next reconnect brings the cameras; nothing to retry here.
        LOGGER.debug("Could not read the cameras: %s", err)


async def _refresh_storage(data: PorchlightData) -> None:
    try:
        data.handle_storage(await data.client.get_storage())
    except PorchlightError as err:
        # The next clip event or resync brings the numbers; nothing to retry here.
        LOGGER.debug("Could not read the storage status: %s", err)


@callback
def _fire_bus_event(hass: HomeAssistant, entry: PorchlightConfigEntry, event: EventMessage) -> None:
    """`porchlight_event` on the bus, for device triggers and automations."""
    kind = event["event"]
    extra: dict[str, Any] = {}
    if kind == EventType.RING:
        trigger = TRIGGER_RING
    elif kind == EventType.MOTION and isinstance(active := event["data"].get("active"), bool):
        trigger = TRIGGER_MOTION_STARTED if active else TRIGGER_MOTION_STOPPED
    elif (
        kind == EventType.OCCUPANCY
        and isinstance(occupied := event["data"].get("occupied"), bool)
        and isinstance(zone := event["data"].get("zone"), str)
    ):
        trigger = TRIGGER_ZONE_OCCUPIED if occupied else TRIGGER_ZONE_CLEARED
        extra = {ATTR_ZONE: zone}
    elif kind == EventType.CLIP_FINISHED and isinstance(clip := event["data"].get("clip_id"), str):
        # Automations (the motion blueprint) send the clip once it is on disk; the URL is
        # Home Assistant's own audited proxy, never the add-on's.
        trigger = BUS_CLIP_FINISHED
        extra = {ATTR_CLIP_ID: clip, ATTR_CLIP_URL: clip_url(entry.entry_id, clip)}
    else:
        return
    camera = event["camera"]
    if camera is None:
        return
    device = dr.async_get(hass).async_get_device_by_identifier(
        camera_identifier(entry.runtime_data.instance_id, camera), entry.entry_id
    )
    if device is None:  # a camera the add-on has but this entry has not set up yet
        return
    hass.bus.async_fire(
        EVENT_PORCHLIGHT,
        {
            ATTR_DEVICE_ID: device.id,
            ATTR_TYPE: trigger,
            ATTR_CAMERA: camera,
            # When it happened, which for an event replayed after a reconnect is not now.
            ATTR_TIME: event["time"],
            **extra,
        },
    )
