"""Integration actions against the fake add-on: what reaches the add-on, what comes back,
and every kind of bad input as a translated validation error."""

from __future__ import annotations

from datetime import UTC, datetime
import hashlib
from pathlib import Path
from typing import TYPE_CHECKING, Any

from homeassistant.const import ATTR_DEVICE_ID
from homeassistant.core import Context
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError, Unauthorized
from homeassistant.helpers import device_registry as dr
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.porchlight.const import DOMAIN
from custom_components.porchlight.pyporchlight.protocol import ErrorCode

from .conftest import addon_entry, running_addon, setup_integration
from .fake_addon import BASE_TIME, FakeAddon, decode_jpeg

if TYPE_CHECKING:
    from homeassistant.auth.models import User
    from homeassistant.core import HomeAssistant

MISSING_CLIP = "00000000-0000-4000-8000-000000000000"


async def act(
    hass: HomeAssistant, service: str, context: Context | None = None, **data: Any
) -> Any:
    return await hass.services.async_call(
        DOMAIN, service, data, blocking=True, return_response=True, context=context
    )


def camera_device(hass: HomeAssistant, addon: FakeAddon, camera: str = "front_door") -> str:
    (device,) = (
        d
        for d in dr.async_get(hass).devices
        if (DOMAIN, f"{addon.instance_id}_{camera}") in d.identifiers
    )
    return device.id


async def test_snapshot_writes_the_current_picture(
    hass: HomeAssistant, loaded: FakeAddon, tmp_path: Path, hass_admin_user: User
) -> None:
    hass.config.allowlist_external_dirs = {str(tmp_path)}
    target = tmp_path / "porch" / "now.jpg"  # the folder is created
    response = await act(
        hass, "snapshot", Context(user_id=hass_admin_user.id), filename=str(target)
    )
    assert response == {"path": str(target), "size": target.stat().st_size, "camera": "front_door"}
    assert decode_jpeg(target.read_bytes()).mean() == pytest.approx(200, abs=2)
    assert loaded.last_user == hass_admin_user.name  # the audit log names who saved it
    assert loaded.snapshots_served == 1


@pytest.mark.parametrize("filename", ["/etc/porchlight.jpg", "relative.jpg"])
async def test_snapshot_refuses_paths_outside_the_allowlist(
    hass: HomeAssistant, loaded: FakeAddon, tmp_path: Path, filename: str
) -> None:
    hass.config.allowlist_external_dirs = {str(tmp_path)}
    with pytest.raises(ServiceValidationError) as raised:
        await act(hass, "snapshot", filename=filename)
    assert raised.value.translation_key == "path_not_allowed"
    assert loaded.snapshots_served == 0


async def test_snapshot_write_failure(
    hass: HomeAssistant, loaded: FakeAddon, tmp_path: Path
) -> None:
    hass.config.allowlist_external_dirs = {str(tmp_path)}
    (tmp_path / "taken").write_text("a file, not a folder")
    with pytest.raises(HomeAssistantError) as raised:
        await act(hass, "snapshot", filename=str(tmp_path / "taken" / "x.jpg"))
    assert raised.value.translation_key == "write_failed"


async def test_record_clip_returns_its_id(hass: HomeAssistant, loaded: FakeAddon) -> None:
    response = await act(hass, "record_clip", seconds=45, device_id=camera_device(hass, loaded))
    assert response["clip_id"] in loaded.clips
    assert response["camera"] == "front_door"
    assert loaded.commands[-1]["args"] == {"camera": "front_door", "seconds": 45}


@pytest.mark.parametrize("seconds", [0, 301])
async def test_record_clip_length_is_checked(
    hass: HomeAssistant, loaded: FakeAddon, seconds: int
) -> None:
    with pytest.raises(Exception, match="value must be"):
        await act(hass, "record_clip", seconds=seconds)
    assert all(c["command"] != "record_clip" for c in loaded.commands)


async def test_protect_and_unprotect(
    hass: HomeAssistant, loaded: FakeAddon, mock_config_entry: MockConfigEntry
) -> None:
    clip_id = loaded.add_recording("ring", BASE_TIME, clip=b"c")["clip_id"]
    entry = {"config_entry_id": mock_config_entry.entry_id}
    await hass.services.async_call(
        DOMAIN, "protect_clip", {"clip_id": clip_id.upper(), **entry}, blocking=True
    )
    assert loaded.clips[clip_id]["protected"] is True
    await hass.services.async_call(
        DOMAIN, "unprotect_clip", {"clip_id": clip_id, **entry}, blocking=True
    )
    assert loaded.clips[clip_id]["protected"] is False
    with pytest.raises(ServiceValidationError) as raised:
        await hass.services.async_call(
            DOMAIN, "protect_clip", {"clip_id": MISSING_CLIP}, blocking=True
        )
    assert raised.value.translation_key == "addon_not_found"
    with pytest.raises(ServiceValidationError) as raised:
        await hass.services.async_call(
            DOMAIN, "protect_clip", {"clip_id": "../../etc"}, blocking=True
        )
    assert raised.value.translation_key == "invalid_clip_id"


async def test_export_returns_path_and_verifiable_manifest(
    hass: HomeAssistant, loaded: FakeAddon, hass_admin_user: User, hass_read_only_user: User
) -> None:
    clip_id = loaded.add_recording("ring", BASE_TIME, clip=b"footage" * 100)["clip_id"]
    response = await act(hass, "export_clip", Context(user_id=hass_admin_user.id), clip_id=clip_id)
    exported = Path(response["path"]).read_bytes()
    assert hashlib.sha256(exported).hexdigest() == response["manifest"]["sha256"]
    assert response["manifest"]["clip_id"] == clip_id
    with pytest.raises(Unauthorized):
        await act(hass, "export_clip", Context(user_id=hass_read_only_user.id), clip_id=clip_id)
    (export,) = (e for e in loaded.audit if e["action"] == "clip_export")
    assert export["detail"] == {"user": hass_admin_user.name}  # who exported it


@pytest.mark.parametrize(
    ("loaded_at_minor", "sent"), [(1, False), (2, True)], indirect=["loaded_at_minor"]
)
async def test_export_user_goes_only_to_add_ons_that_take_it(
    hass: HomeAssistant, loaded_at_minor: FakeAddon, hass_admin_user: User, sent: bool
) -> None:
    # A 1.1 add-on refuses an unknown argument: it must not be sent one.
    clip_id = loaded_at_minor.add_recording("ring", BASE_TIME, clip=b"footage")["clip_id"]
    await act(hass, "export_clip", Context(user_id=hass_admin_user.id), clip_id=clip_id)
    (args,) = loaded_at_minor.sent("export_clip")
    assert ("user" in args) is sent


async def test_delete_by_events_by_range_and_by_clips(
    hass: HomeAssistant, loaded: FakeAddon
) -> None:
    # Copies: deleting a clip clears it from the (shared) event records.
    ring = dict(loaded.add_recording("ring", BASE_TIME, clip=b"r"))
    early = dict(loaded.add_recording("motion", BASE_TIME - 3600, clip=b"e"))
    late = dict(loaded.add_recording("motion", BASE_TIME + 3600, clip=b"l"))
    response = await act(hass, "delete_clips", event_ids=[ring["id"]])
    assert response == {"deleted": [ring["clip_id"]]}

    # A naive start is Home Assistant's local time; the end is given with its offset.
    start = dt_util.as_local(dt_util.utc_from_timestamp(BASE_TIME - 4000)).replace(tzinfo=None)
    end = datetime.fromtimestamp(BASE_TIME, UTC).isoformat()
    response = await act(
        hass,
        "delete_clips",
        start=start.isoformat(),
        end=end,
        device_id=camera_device(hass, loaded),
    )
    assert response == {"deleted": [early["clip_id"]]}
    assert loaded.commands[-1]["args"]["camera"] == "front_door"

    response = await act(hass, "delete_clips", clip_ids=[late["clip_id"]])
    assert response == {"deleted": [late["clip_id"]]}
    assert loaded.clips == {}


@pytest.mark.parametrize(
    ("data", "key"),
    [
        ({}, "delete_target_required"),
        ({"event_ids": ["b:1"], "clip_ids": [MISSING_CLIP]}, "delete_target_required"),
        ({"start": "2025-11-27T10:00:00"}, "invalid_time_range"),
        ({"start": "2025-11-27T10:00:00", "end": "2025-11-27T09:00:00"}, "invalid_time_range"),
        ({"clip_ids": ["nope"]}, "invalid_clip_id"),
    ],
)
async def test_delete_needs_one_clear_target(
    hass: HomeAssistant, loaded: FakeAddon, data: dict[str, Any], key: str
) -> None:
    with pytest.raises(ServiceValidationError) as raised:
        await act(hass, "delete_clips", **data)
    assert raised.value.translation_key == key
    assert all(c["command"] != "delete_clips" for c in loaded.commands)


async def test_targets(
    hass: HomeAssistant, loaded: FakeAddon, mock_config_entry: MockConfigEntry
) -> None:
    hub = dr.async_get(hass).async_get_device_by_identifier(
        (DOMAIN, loaded.instance_id), mock_config_entry.entry_id
    )
    assert hub is not None
    clip_id = loaded.add_recording("ring", BASE_TIME, clip=b"c")["clip_id"]
    # The add-on's own device targets the add-on.
    await hass.services.async_call(
        DOMAIN, "protect_clip", {"clip_id": clip_id, ATTR_DEVICE_ID: hub.id}, blocking=True
    )
    assert loaded.clips[clip_id]["protected"] is True

    other = MockConfigEntry(domain="other")
    other.add_to_hass(hass)
    foreign = dr.async_get(hass).async_get_or_create(
        config_entry_id=other.entry_id, identifiers={("other", "x")}
    )
    failures = {
        "device_not_found": {ATTR_DEVICE_ID: foreign.id},
        "entry_not_found": {"config_entry_id": other.entry_id},
    }
    for key, target in failures.items():
        with pytest.raises(ServiceValidationError) as raised:
            await act(hass, "record_clip", seconds=5, **target)
        assert raised.value.translation_key == key

    await hass.config_entries.async_unload(mock_config_entry.entry_id)
    with pytest.raises(ServiceValidationError) as raised:
        await act(hass, "record_clip", seconds=5, config_entry_id=mock_config_entry.entry_id)
    assert raised.value.translation_key == "entry_not_loaded"
    with pytest.raises(ServiceValidationError) as raised:
        await act(hass, "record_clip", seconds=5)
    assert raised.value.translation_key == "entry_required"


async def test_camera_is_required_with_several(hass: HomeAssistant, socket_enabled: None) -> None:
    async with running_addon(
        cameras=(("front_door", "Front door"), ("back_door", "Back door"))
    ) as addon:
        entry = addon_entry(addon, title="Porchlight")
        await setup_integration(hass, entry)
        with pytest.raises(ServiceValidationError) as raised:
            await act(hass, "record_clip", seconds=5)
        assert raised.value.translation_key == "camera_required"
        response = await act(
            hass, "record_clip", seconds=5, device_id=camera_device(hass, addon, "back_door")
        )
        assert response["camera"] == "back_door"
        await hass.config_entries.async_unload(entry.entry_id)


async def test_addon_failures(
    hass: HomeAssistant, loaded: FakeAddon, mock_config_entry: MockConfigEntry
) -> None:
    loaded.silent_commands.add("record_clip")
    mock_config_entry.runtime_data.client.request_timeout = 0.2
    with pytest.raises(HomeAssistantError) as raised:
        await act(hass, "record_clip", seconds=5)
    assert raised.value.translation_key == "addon_unreachable"
    assert "no answer" in str(raised.value)
    # A refusal that is not about the input (privacy mode, disk full) is no validation error.
    loaded.failing_commands["record_clip"] = ErrorCode.UNAVAILABLE
    loaded.silent_commands.clear()
    with pytest.raises(HomeAssistantError) as raised:
        await act(hass, "record_clip", seconds=5)
    assert not isinstance(raised.value, ServiceValidationError)
    assert raised.value.translation_key == "addon_failed"
    assert "unavailable" in str(raised.value)
