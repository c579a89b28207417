"""Integration actions: snapshots to a file, manual clips, protect, export and delete.

Each action targets an add-on by `config_entry_id` or by a device (a camera's device also
names the camera); with one Porchlight entry and one camera neither is needed. Export and
delete are admin-only: they hand footage out of the add-on or destroy it for good.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, cast

from homeassistant.const import ATTR_DEVICE_ID
from homeassistant.core import HomeAssistant, ServiceCall, ServiceResponse, SupportsResponse
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import config_validation as cv, device_registry as dr
from homeassistant.helpers.service import async_register_admin_service
from homeassistant.util import dt as dt_util
from homeassistant.util.json import JsonValueType
import probatio

from .const import DOMAIN
from .entity import camera_identifier
from .errors import translate_errors
from .pyporchlight.commands import on_behalf_of
from .pyporchlight.http import CLIP_ID_RE
from .pyporchlight.protocol import LIMITS, Setting
from .views import acting_user

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Coroutine

    from .data import PorchlightConfigEntry

ATTR_CONFIG_ENTRY_ID: Final = "config_entry_id"
ATTR_FILENAME: Final = "filename"
ATTR_SECONDS: Final = "seconds"
ATTR_CLIP_ID: Final = "clip_id"
ATTR_CLIP_IDS: Final = "clip_ids"
ATTR_EVENT_IDS: Final = "event_ids"
ATTR_START: Final = "start"
ATTR_END: Final = "end"

SERVICE_SNAPSHOT: Final = "snapshot"
SERVICE_RECORD_CLIP: Final = "record_clip"
SERVICE_PROTECT_CLIP: Final = "protect_clip"
SERVICE_UNPROTECT_CLIP: Final = "unprotect_clip"
SERVICE_EXPORT_CLIP: Final = "export_clip"
SERVICE_DELETE_CLIPS: Final = "delete_clips"
SERVICE_ROTATE_STREAM_CREDENTIAL: Final = "rotate_stream_credential"

_TARGET: Final = {
    probatio.Optional(ATTR_CONFIG_ENTRY_ID): cv.string,
    probatio.Optional(ATTR_DEVICE_ID): cv.string,
}
SNAPSHOT_SCHEMA: Final = probatio.Schema({**_TARGET, probatio.Required(ATTR_FILENAME): cv.string})
TARGET_SCHEMA: Final = probatio.Schema(_TARGET)
_RECORD_SECONDS: Final = LIMITS[Setting.RECORD_SECONDS]
RECORD_CLIP_SCHEMA: Final = probatio.Schema(
    {
        **_TARGET,
        probatio.Required(ATTR_SECONDS): probatio.All(
            probatio.Coerce(int),
            probatio.Range(min=_RECORD_SECONDS.low, max=_RECORD_SECONDS.high),
        ),
    }
)
CLIP_SCHEMA: Final = probatio.Schema({**_TARGET, probatio.Required(ATTR_CLIP_ID): cv.string})
DELETE_SCHEMA: Final = probatio.Schema(
    {
        **_TARGET,
        probatio.Optional(ATTR_CLIP_IDS): probatio.All(cv.ensure_list, [cv.string]),
        probatio.Optional(ATTR_EVENT_IDS): probatio.All(cv.ensure_list, [cv.string]),
        probatio.Optional(ATTR_START): cv.datetime,
        probatio.Optional(ATTR_END): cv.datetime,
    }
)


def _invalid(key: str, **placeholders: str) -> ServiceValidationError:
    return ServiceValidationError(
        translation_domain=DOMAIN, translation_key=key, translation_placeholders=placeholders
    )


def resolve_target(
    hass: HomeAssistant, call: ServiceCall, *, need_camera: bool
) -> tuple[PorchlightConfigEntry, str | None]:
    """The add-on (config entry) and, when given or needed, the camera an action is for."""
    camera: str | None = None
    if device_id := call.data.get(ATTR_DEVICE_ID):
        entry, camera = _from_device(hass, device_id)
    elif entry_id := call.data.get(ATTR_CONFIG_ENTRY_ID):
        found = hass.config_entries.async_get_entry(entry_id)
        if found is None or found.domain != DOMAIN:
            raise _invalid("entry_not_found", entry_id=entry_id)
        if found not in hass.config_entries.async_loaded_entries(DOMAIN):
            raise _invalid("entry_not_loaded", title=found.title)
        entry = found
    else:
        loaded = hass.config_entries.async_loaded_entries(DOMAIN)
        if len(loaded) != 1:
            raise _invalid("entry_required")
        entry = loaded[0]
    if need_camera and camera is None:
        cameras = list(entry.runtime_data.cameras)
        if len(cameras) != 1:
            raise _invalid("camera_required", title=entry.title)
        camera = cameras[0]
    return entry, camera


def _from_device(hass: HomeAssistant, device_id: str) -> tuple[PorchlightConfigEntry, str | None]:
    device = dr.async_get(hass).async_get(device_id)
    if device is not None:
        for entry in hass.config_entries.async_loaded_entries(DOMAIN):
            if entry.entry_id not in device.config_entries:
                continue
            data = entry.runtime_data
            if (DOMAIN, data.instance_id) in device.identifiers:
                return entry, None  # the add-on's own device
            for camera in data.cameras:
                if camera_identifier(data.instance_id, camera) in device.identifiers:
                    return entry, camera
    raise _invalid("device_not_found", device_id=device_id)


async def run_action[T](
    entry: PorchlightConfigEntry, action: str, awaitable: Awaitable[T], camera: str | None = None
) -> T:
    """Await an add-on command of an action; failures become translated HA errors.

    Args:
        entry: The add-on the action targets.
        action: The action's name (a translation placeholder).
        awaitable: The client call.
        camera: The camera the action is for, if any (else the add-on's title is named).

    Returns:
        The command's result.

    Raises:
        ServiceValidationError: the add-on refused the input (unknown id, bad value).
        HomeAssistantError: the add-on is unreachable, rejected the token (reauth starts)
            or failed; see `errors.ha_error`.
    """
    with translate_errors(entry.runtime_data, action=action, target=camera or entry.title):
        return await awaitable


def _clip_id(call: ServiceCall) -> str:
    clip_id = str(call.data[ATTR_CLIP_ID]).strip().lower()
    if not CLIP_ID_RE.match(clip_id):
        raise _invalid("invalid_clip_id", clip_id=clip_id)
    return clip_id


def _acting[R](
    handler: Callable[[ServiceCall], Awaitable[R]],
) -> Callable[[ServiceCall], Coroutine[Any, Any, R]]:
    """`handler`, its add-on commands naming who called the action (`views.acting_user`).

    Automations have no user: nobody is named.
    """

    async def run(call: ServiceCall) -> R:
        with on_behalf_of(await acting_user(call.hass, call.context)):
            return await handler(call)

    return run


def _write_file(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


async def async_snapshot(call: ServiceCall) -> ServiceResponse:
    """`porchlight.snapshot`: save the camera's current JPEG to an allowed absolute path.

    Returns:
        `path`, `size` (bytes) and `camera`.

    Raises:
        ServiceValidationError: the path is relative or not allowed, or the target is unclear.
        HomeAssistantError: the add-on failed, or the file could not be written.
    """
    hass = call.hass
    entry, camera = resolve_target(hass, call, need_camera=True)
    assert camera is not None
    filename = call.data[ATTR_FILENAME]
    # Relative paths would depend on Home Assistant's working directory: refuse them.
    if not Path(filename).is_absolute() or not await hass.async_add_executor_job(
        hass.config.is_allowed_path, filename
    ):
        raise _invalid("path_not_allowed", path=filename)
    jpeg = await run_action(
        entry,
        SERVICE_SNAPSHOT,
        entry.runtime_data.client.snapshot(camera, await acting_user(hass, call.context)),
        camera,
    )
    try:
        await hass.async_add_executor_job(_write_file, Path(filename), jpeg)
    except OSError as err:
        raise HomeAssistantError(
            translation_domain=DOMAIN,
            translation_key="write_failed",
            translation_placeholders={"path": filename, "error": str(err)},
        ) from err
    return {"path": filename, "size": len(jpeg), "camera": camera}


async def async_record_clip(call: ServiceCall) -> ServiceResponse:
    """`porchlight.record_clip`: record a manual clip of `seconds` (1-300).

    Returns:
        `clip_id`, `event_id` and `camera`.
    """
    entry, camera = resolve_target(call.hass, call, need_camera=True)
    assert camera is not None
    result = await run_action(
        entry,
        SERVICE_RECORD_CLIP,
        entry.runtime_data.client.record_clip(camera, call.data[ATTR_SECONDS]),
        camera,
    )
    return {"clip_id": result["clip_id"], "event_id": result["event_id"], "camera": camera}


async def _set_protected(call: ServiceCall, protected: bool) -> None:
    entry, _camera = resolve_target(call.hass, call, need_camera=False)
    action = SERVICE_PROTECT_CLIP if protected else SERVICE_UNPROTECT_CLIP
    await run_action(
        entry, action, entry.runtime_data.client.protect_clip(_clip_id(call), protected)
    )


async def async_protect_clip(call: ServiceCall) -> None:
    """`porchlight.protect_clip`: keep a clip from retention."""
    await _set_protected(call, True)


async def async_unprotect_clip(call: ServiceCall) -> None:
    """`porchlight.unprotect_clip`: let retention delete a clip again."""
    await _set_protected(call, False)


async def async_export_clip(call: ServiceCall) -> ServiceResponse:
    """`porchlight.export_clip` (admin): export a clip with its SHA-256 manifest.

    Returns:
        The add-on's `path` of the export and the `manifest`.
    """
    entry, _camera = resolve_target(call.hass, call, need_camera=False)
    user = await acting_user(call.hass, call.context)
    result = await run_action(
        entry, SERVICE_EXPORT_CLIP, entry.runtime_data.client.export_clip(_clip_id(call), user)
    )
    # A TypedDict of JSON values is JSON, which mypy cannot see through.
    return {"path": result["path"], "manifest": cast(JsonValueType, result["manifest"])}


async def async_delete_clips(call: ServiceCall) -> ServiceResponse:
    """`porchlight.delete_clips` (admin): delete by clip ids, event ids or time range.

    Returns:
        `deleted`: the ids of the clips that are gone.
    """
    entry, camera = resolve_target(call.hass, call, need_camera=False)
    target = _delete_target(call, camera)
    deleted = await run_action(
        entry, SERVICE_DELETE_CLIPS, entry.runtime_data.client.delete_clips(**target), camera
    )
    return {"deleted": list[JsonValueType](deleted)}


async def async_rotate_stream_credential(call: ServiceCall) -> None:
    """Revoke the add-on's live stream URLs; open HA streams switch to new ones."""
    entry, _ = resolve_target(call.hass, call, need_camera=False)
    await run_action(
        entry, SERVICE_ROTATE_STREAM_CREDENTIAL, entry.runtime_data.async_rotate_stream_credential()
    )


def _delete_target(call: ServiceCall, camera: str | None) -> dict[str, Any]:
    """Exactly one way of choosing clips: clip ids, event ids, or a time range."""
    data = call.data
    ranged = ATTR_START in data or ATTR_END in data
    chosen = [key for key in (ATTR_CLIP_IDS, ATTR_EVENT_IDS) if data.get(key)] + (
        ["range"] if ranged else []
    )
    if len(chosen) != 1:
        raise _invalid("delete_target_required")
    if clip_ids := data.get(ATTR_CLIP_IDS):
        for clip_id in clip_ids:
            if not CLIP_ID_RE.match(clip_id):
                raise _invalid("invalid_clip_id", clip_id=clip_id)
        return {"clip_ids": list(clip_ids)}
    if event_ids := data.get(ATTR_EVENT_IDS):
        return {"event_ids": list(event_ids)}
    start, end = data.get(ATTR_START), data.get(ATTR_END)
    if start is None or end is None:
        raise _invalid("invalid_time_range")
    # Naive datetimes are local time, as everywhere in Home Assistant's UI.
    first, last = dt_util.as_utc(start).timestamp(), dt_util.as_utc(end).timestamp()
    if first >= last:
        raise _invalid("invalid_time_range")
    return {"start": first, "end": last, "camera": camera}


def async_setup_services(hass: HomeAssistant) -> None:
    """Register the actions once, at integration setup (they outlive config entries)."""
    optional = SupportsResponse.OPTIONAL
    hass.services.async_register(
        DOMAIN,
        SERVICE_SNAPSHOT,
        _acting(async_snapshot),
        SNAPSHOT_SCHEMA,
        supports_response=optional,
    )
    hass.services.async_register(
        DOMAIN,
        SERVICE_RECORD_CLIP,
        _acting(async_record_clip),
        RECORD_CLIP_SCHEMA,
        supports_response=optional,
    )
    hass.services.async_register(
        DOMAIN, SERVICE_PROTECT_CLIP, _acting(async_protect_clip), CLIP_SCHEMA
    )
    hass.services.async_register(
        DOMAIN, SERVICE_UNPROTECT_CLIP, _acting(async_unprotect_clip), CLIP_SCHEMA
    )
    async_register_admin_service(
        hass, DOMAIN, SERVICE_EXPORT_CLIP, _acting(async_export_clip), CLIP_SCHEMA, optional
    )
    async_register_admin_service(
        hass, DOMAIN, SERVICE_DELETE_CLIPS, _acting(async_delete_clips), DELETE_SCHEMA, optional
    )
    async_register_admin_service(
        hass,
        DOMAIN,
        SERVICE_ROTATE_STREAM_CREDENTIAL,
        _acting(async_rotate_stream_credential),
        TARGET_SCHEMA,
    )
