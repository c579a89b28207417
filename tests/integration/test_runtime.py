"""Runtime behaviour against the fake add-on: bus events, device triggers, the
visitor image, storage, cameras coming and going, and the version repair issue."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any
from unittest.mock import patch

from homeassistant.components.device_automation import DeviceAutomationType
from homeassistant.components.device_automation.exceptions import (
    InvalidDeviceAutomationConfig,
)
from homeassistant.components.image import async_get_image
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import STATE_UNKNOWN
from homeassistant.core import Event, callback
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import device_registry as dr, entity_registry as er, issue_registry as ir
from homeassistant.helpers.entity import Entity
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_get_device_automations,
)

from custom_components.porchlight import async_remove_config_entry_device
from custom_components.porchlight.const import DOMAIN, EVENT_PORCHLIGHT
from custom_components.porchlight.device_trigger import async_validate_trigger_config
from custom_components.porchlight.pyporchlight.protocol import (
    CURRENT_VERSION,
    EventType,
    VersionInfo,
    version_info,
)

from .conftest import setup_integration, wait_for_state
from .fake_addon import BASE_TIME, FakeAddon, decode_jpeg, make_camera

if TYPE_CHECKING:
    from homeassistant.auth.models import User
    from homeassistant.core import HomeAssistant
    from pytest_homeassistant_custom_component.typing import ClientSessionGenerator


def entry_state(entry: MockConfigEntry) -> ConfigEntryState:
    return entry.state  # type: ignore[no-any-return]


def camera_device(hass: HomeAssistant, addon: FakeAddon, camera: str) -> dr.DeviceEntry:
    (entry,) = hass.config_entries.async_entries(DOMAIN)
    device = dr.async_get(hass).async_get_device_by_identifier(
        (DOMAIN, f"{addon.instance_id}_{camera}"), entry.entry_id
    )
    assert isinstance(device, dr.DeviceEntry)
    return device


def bus_events(hass: HomeAssistant) -> list[dict[str, Any]]:
    fired: list[dict[str, Any]] = []

    @callback
    def listen(event: Event) -> None:
        fired.append(dict(event.data))

    hass.bus.async_listen(EVENT_PORCHLIGHT, listen)
    return fired


TOO_OLD_ADDON: VersionInfo = {"protocol_version": 0, "protocol_minor": 9}
DROPPED_US_ADDON: VersionInfo = {
    "protocol_version": 1,
    "protocol_minor": 9,
    "min_supported_version": "1.8",
}


@pytest.fixture
def every_entity_enabled() -> Iterator[None]:
    """Entities that are off by default (the last ring and motion sensors) are added too."""
    with patch.object(Entity, "entity_registry_enabled_default", property(lambda _: True)):
        yield


async def test_ring_and_motion_fire_bus_events(
    hass: HomeAssistant, every_entity_enabled: None, loaded: FakeAddon
) -> None:
    fired = bus_events(hass)
    device = camera_device(hass, loaded, "front_door")
    ring = loaded.ring()
    loaded.motion("front_door", True)
    loaded.motion("front_door", False)
    loaded.publish(EventType.MOTION, "front_door", {"active": "bogus"})  # ignored
    loaded.publish(EventType.RING, None, {})  # no camera: nothing to fire for
    await wait_for_state(hass, lambda: len(fired) == 3 and loaded.seq == 5)
    assert fired == [
        {"device_id": device.id, "type": t, "camera": "front_door", "time": BASE_TIME + seq}
        for t, seq in (("ring", ring["seq"]), ("motion_started", 2), ("motion_stopped", 3))
    ]
    motion_event = hass.states.get("event.front_door_motion_event")
    assert motion_event is not None
    assert motion_event.attributes["event_type"] == "motion"
    assert motion_event.attributes["started_at"] == "2025-11-27T19:00:02+00:00"
    last_ring = hass.states.get("sensor.front_door_last_ring")
    assert last_ring is not None
    assert last_ring.state == "2025-11-27T19:00:01+00:00"
    last_motion = hass.states.get("sensor.front_door_last_motion")
    assert last_motion is not None
    assert last_motion.state == "2025-11-27T19:00:02+00:00"


async def test_finished_clip_fires_bus_event_with_proxy_url(
    hass: HomeAssistant, loaded: FakeAddon
) -> None:
    fired = bus_events(hass)
    device = camera_device(hass, loaded, "front_door")
    clip_id = "0b0c4b59-8a38-4d3c-9d0b-3f1d6c2b7a10"
    loaded.publish(EventType.CLIP_FINISHED, "front_door", {"clip_id": clip_id, "events": []})
    loaded.publish(EventType.CLIP_FINISHED, "front_door", {"clip_id": None})  # ignored
    await wait_for_state(hass, lambda: len(fired) == 1 and loaded.seq == 2)
    (entry,) = hass.config_entries.async_entries(DOMAIN)
    assert fired == [
        {
            "device_id": device.id,
            "type": "clip_finished",
            "camera": "front_door",
            "time": BASE_TIME + 1,
            "clip_id": clip_id,
            "clip_url": f"/api/porchlight/{entry.entry_id}/clips/{clip_id}.mp4",
        }
    ]


async def test_camera_problem_sensor(hass: HomeAssistant, loaded: FakeAddon) -> None:
    entity_id = "binary_sensor.front_door_camera_problem"
    loaded.status("front_door", "stalled", "no frame for 5 s")
    await wait_for_state(hass, lambda: hass.states.get(entity_id).state == "on")  # type: ignore[union-attr]
    state = hass.states.get(entity_id)
    assert state is not None
    assert state.attributes["reason"] == "no frame for 5 s"
    assert state.attributes["status"] == "stalled"
    assert hass.states.get("camera.front_door").state == "idle"  # type: ignore[union-attr]
    loaded.status("front_door", "online", None)
    await wait_for_state(hass, lambda: hass.states.get(entity_id).state == "off")  # type: ignore[union-attr]


async def test_camera_state_event_replaces_camera(hass: HomeAssistant, loaded: FakeAddon) -> None:
    loaded.cameras["front_door"]["motion_settings"]["threshold"] = 77
    loaded.camera_state_changed("front_door")
    entity_id = "number.front_door_motion_sensitivity_threshold"
    await wait_for_state(hass, lambda: hass.states.get(entity_id).state == "77")  # type: ignore[union-attr]


async def test_device_triggers(hass: HomeAssistant, loaded: FakeAddon) -> None:
    device = camera_device(hass, loaded, "front_door")
    triggers = await async_get_device_automations(hass, DeviceAutomationType.TRIGGER, device.id)
    ours = sorted((t["type"], t.get("subtype")) for t in triggers if t["domain"] == DOMAIN)
    assert ours == [
        ("motion_started", None),
        ("motion_stopped", None),
        ("ring", None),
        ("zone_cleared", "doorstep"),
        ("zone_occupied", "doorstep"),
    ]
    # The add-on's own device (storage) has no triggers.
    (entry,) = hass.config_entries.async_entries(DOMAIN)
    hub = dr.async_get(hass).async_get_device_by_identifier(
        (DOMAIN, loaded.instance_id), entry.entry_id
    )
    assert hub is not None
    hub_triggers = await async_get_device_automations(hass, DeviceAutomationType.TRIGGER, hub.id)
    assert not [t for t in hub_triggers if t["domain"] == DOMAIN]
    with pytest.raises(InvalidDeviceAutomationConfig):
        await async_validate_trigger_config(
            hass, {"platform": "device", "domain": DOMAIN, "device_id": hub.id, "type": "ring"}
        )

    trigger = {"platform": "device", "domain": DOMAIN, "device_id": device.id}
    kinds = ("ring", "motion_started", "motion_stopped")
    calls = await record_triggers(hass, [({**trigger, "type": kind}, kind) for kind in kinds])
    loaded.ring()
    loaded.motion("front_door", True)
    loaded.motion("front_door", False)
    await wait_for_state(hass, lambda: len(calls) == 3)
    # Each automation runs in its own task, so their service calls may interleave.
    assert sorted(calls) == ["motion_started", "motion_stopped", "ring"]


async def record_triggers(
    hass: HomeAssistant, automations: list[tuple[dict[str, Any], str]]
) -> list[str]:
    """One automation per (trigger, label), each calling test.record with its label.

    Returns the list the labels are appended to as the automations run."""
    calls: list[str] = []
    hass.services.async_register("test", "record", lambda call: calls.append(call.data["what"]))
    actions = [{"service": "test.record", "data": {"what": what}} for _, what in automations]
    assert await async_setup_component(
        hass,
        "automation",
        {
            "automation": [
                {"triggers": trigger, "actions": action}
                for (trigger, _), action in zip(automations, actions, strict=True)
            ]
        },
    )
    return calls


async def test_last_visitor_image(
    hass: HomeAssistant, loaded: FakeAddon, mock_config_entry: MockConfigEntry
) -> None:
    entity_id = "image.front_door_last_visitor"
    assert hass.states.get(entity_id).state == STATE_UNKNOWN  # type: ignore[union-attr]
    with pytest.raises(HomeAssistantError):
        await async_get_image(hass, entity_id)  # no visitor yet
    loaded.ring_snapshots = True
    ring = loaded.ring()
    await wait_for_state(hass, lambda: hass.states.get(entity_id).state != STATE_UNKNOWN)  # type: ignore[union-attr]
    assert hass.states.get(entity_id).state == "2025-11-27T19:00:02+00:00"  # type: ignore[union-attr]
    image = await async_get_image(hass, entity_id)
    expected = 10 + ring["seq"]
    assert abs(float(decode_jpeg(image.content).mean()) - expected) < 3
    await async_get_image(hass, entity_id)
    assert loaded.event_snapshots_served == 2  # every look is the add-on's (audited)

    # A manual snapshot is not a visitor; the image stays on the ring.
    loaded.snapshot_ready("front_door", ring, "manual")
    loaded.event_snapshots.clear()  # the add-on lost it (e.g. retention)
    second = loaded.ring()
    await wait_for_state(
        hass,
        lambda: mock_config_entry.runtime_data.last_visitor["front_door"].event_id
        == f"boot-1:{second['seq']}",
    )
    loaded.event_snapshots.clear()
    with pytest.raises(HomeAssistantError) as raised:
        await async_get_image(hass, entity_id)
    assert "not_found" in str(raised.value.__cause__)


async def test_last_visitor_offers_no_picture_before_the_first_ring(
    hass: HomeAssistant, loaded: FakeAddon, hass_client_no_auth: ClientSessionGenerator
) -> None:
    """An image entity without an image has no picture URL: HA's image view would answer
    500 for it, which the entity search and device page would show as a broken image."""
    entity_id = "image.front_door_last_visitor"
    state = hass.states.get(entity_id)
    assert state is not None
    assert state.state == STATE_UNKNOWN
    assert "entity_picture" not in state.attributes
    loaded.ring_snapshots = True
    loaded.ring()
    await wait_for_state(hass, lambda: hass.states.get(entity_id).state != STATE_UNKNOWN)  # type: ignore[union-attr]
    picture = hass.states.get(entity_id).attributes["entity_picture"]  # type: ignore[union-attr]
    assert picture.startswith(f"/api/image_proxy/{entity_id}?token=")
    response = await (await hass_client_no_auth()).get(picture)
    assert response.status == 200
    assert response.content_type == "image/jpeg"


async def test_every_look_at_the_last_visitor_names_the_user(
    hass: HomeAssistant,
    loaded: FakeAddon,
    hass_client: ClientSessionGenerator,
    hass_client_no_auth: ClientSessionGenerator,
    hass_admin_user: User,
) -> None:
    entity_id = "image.front_door_last_visitor"
    loaded.ring_snapshots = True
    loaded.ring()
    await wait_for_state(hass, lambda: hass.states.get(entity_id).state != STATE_UNKNOWN)  # type: ignore[union-attr]
    client = await hass_client()
    assert (await client.get(f"/api/image_proxy/{entity_id}")).status == 200
    assert loaded.last_user == hass_admin_user.name
    # The dashboard's <img> is let in by the entity's access token: it says so.
    picture = hass.states.get(entity_id).attributes["entity_picture"]  # type: ignore[union-attr]
    assert (await (await hass_client_no_auth()).get(picture)).status == 200
    assert loaded.last_user == f"{entity_id} access token"
    assert loaded.event_snapshots_served == 2


async def test_invalid_event_id_is_refused(
    hass: HomeAssistant, loaded: FakeAddon, mock_config_entry: MockConfigEntry
) -> None:
    from custom_components.porchlight.pyporchlight.exceptions import PorchlightCommandError

    with pytest.raises(PorchlightCommandError, match="invalid event id"):
        await mock_config_entry.runtime_data.client.event_snapshot("../../etc/passwd")


async def test_storage_sensors_follow_clip_and_storage_events(
    hass: HomeAssistant, loaded: FakeAddon
) -> None:
    clips = "sensor.porchlight_clips_stored"
    assert hass.states.get(clips).state == "3"  # type: ignore[union-attr]
    assert loaded.storage is not None
    loaded.storage["clips"] = 4
    loaded.publish(EventType.CLIP_FINISHED, "front_door", {"clip_id": "c4"})
    await wait_for_state(hass, lambda: hass.states.get(clips).state == "4")  # type: ignore[union-attr]
    paused = {**loaded.storage, "paused": True, "reason": "disk full", "clips": 5}
    loaded.publish(EventType.STORAGE_STATUS, None, paused)
    await wait_for_state(hass, lambda: hass.states.get(clips).state == "5")  # type: ignore[union-attr]


async def test_storage_refresh_failure_is_quiet(
    hass: HomeAssistant, loaded: FakeAddon, caplog: pytest.LogCaptureFixture
) -> None:
    loaded.silent_commands.add("get_storage")
    loaded.storage = None  # an add-on that lost the command answers unknown_command
    loaded.silent_commands.clear()
    loaded.publish(EventType.CLIP_DELETED, "front_door", {"clip_id": "c1", "reason": "user"})
    await wait_for_state(hass, lambda: "Could not read the storage status" in caplog.text)
    assert hass.states.get("sensor.porchlight_clips_stored").state == "3"  # type: ignore[union-attr]


async def test_older_addon_without_storage(
    hass: HomeAssistant, fake_addon: FakeAddon, mock_config_entry: MockConfigEntry
) -> None:
    fake_addon.storage = None
    for key in ("privacy_mode", "recording", "last_ring", "last_motion"):
        del fake_addon.cameras["front_door"][key]  # type: ignore[misc]
    await setup_integration(hass, mock_config_entry)
    assert hass.states.get("sensor.porchlight_clips_stored") is None
    assert hass.states.get("switch.front_door_recording").state == STATE_UNKNOWN  # type: ignore[union-attr]
    assert hass.states.get("number.front_door_pre_roll").state == STATE_UNKNOWN  # type: ignore[union-attr]
    assert hass.states.get("switch.front_door_privacy_mode").state == STATE_UNKNOWN  # type: ignore[union-attr]
    assert hass.states.get("camera.front_door").state == "streaming"  # type: ignore[union-attr]


async def test_cameras_added_and_removed_by_resync(
    hass: HomeAssistant,
    loaded: FakeAddon,
    mock_config_entry: MockConfigEntry,
    device_registry: dr.DeviceRegistry,
    entity_registry: er.EntityRegistry,
) -> None:
    loaded.cameras["back_door"] = make_camera("back_door", "Back door")
    await loaded.drop_connections()  # the resync after the reconnect brings the new camera
    await wait_for_state(hass, lambda: hass.states.get("event.back_door_doorbell") is not None)
    back = camera_device(hass, loaded, "back_door")
    assert back.via_device_id is not None
    assert len(er.async_entries_for_device(entity_registry, back.id)) > 10

    # The user may delete a device only when its camera is gone.
    assert not await async_remove_config_entry_device(hass, mock_config_entry, back)

    del loaded.cameras["back_door"]
    await loaded.drop_connections()
    await wait_for_state(hass, lambda: device_registry.async_get(back.id) is None)
    assert hass.states.get("event.back_door_doorbell") is None
    assert not er.async_entries_for_device(entity_registry, back.id)
    front = camera_device(hass, loaded, "front_door")
    assert front is not None
    stale = device_registry.async_get_or_create(
        config_entry_id=mock_config_entry.entry_id,
        identifiers={(DOMAIN, f"{loaded.instance_id}_garage")},
    )
    assert await async_remove_config_entry_device(hass, mock_config_entry, stale)


async def test_stale_device_removed_at_setup(
    hass: HomeAssistant,
    fake_addon: FakeAddon,
    mock_config_entry: MockConfigEntry,
    device_registry: dr.DeviceRegistry,
) -> None:
    mock_config_entry.add_to_hass(hass)
    gone = device_registry.async_get_or_create(
        config_entry_id=mock_config_entry.entry_id,
        identifiers={(DOMAIN, f"{fake_addon.instance_id}_garage")},
    )
    await hass.config_entries.async_setup(mock_config_entry.entry_id)
    await hass.async_block_till_done()
    assert device_registry.async_get(gone.id) is None


@pytest.mark.parametrize(
    ("announced", "server_version", "issue"),
    [
        # An add-on older than the integration's oldest supported version.
        (TOO_OLD_ADDON, "0.9", "addon_outdated"),
        # A newer major.
        ({"protocol_version": 2, "min_supported_version": "2.0"}, "2.0", "integration_outdated"),
        # Same major, but the add-on dropped this integration's minor: the integration is
        # the side to update although the majors match.
        (DROPPED_US_ADDON, "1.9", "integration_outdated"),
    ],
)
async def test_version_mismatch_at_setup_raises_repair_issue(
    hass: HomeAssistant,
    fake_addon: FakeAddon,
    mock_config_entry: MockConfigEntry,
    issue_registry: ir.IssueRegistry,
    announced: VersionInfo,
    server_version: str,
    issue: str,
) -> None:
    fake_addon.version = announced
    await setup_integration(hass, mock_config_entry)
    assert mock_config_entry.state is ConfigEntryState.SETUP_RETRY
    issue_id = f"unsupported_version_{mock_config_entry.entry_id}"
    found = issue_registry.async_get_issue(DOMAIN, issue_id)
    assert found is not None
    assert found.translation_key == issue
    assert found.translation_placeholders == {
        "title": "Porchlight",
        "server_version": server_version,
        "client_version": str(CURRENT_VERSION),
    }

    # The add-on (or the integration) was updated: the retry succeeds, the issue goes.
    fake_addon.version = version_info()
    await hass.config_entries.async_reload(mock_config_entry.entry_id)
    await hass.async_block_till_done()
    assert entry_state(mock_config_entry) is ConfigEntryState.LOADED
    assert issue_registry.async_get_issue(DOMAIN, issue_id) is None


async def test_version_mismatch_on_reconnect_raises_then_clears_issue(
    hass: HomeAssistant,
    loaded: FakeAddon,
    mock_config_entry: MockConfigEntry,
    issue_registry: ir.IssueRegistry,
) -> None:
    issue_id = f"unsupported_version_{mock_config_entry.entry_id}"
    loaded.version = DROPPED_US_ADDON  # the add-on was updated past us
    await loaded.drop_connections()
    await wait_for_state(hass, lambda: issue_registry.async_get_issue(DOMAIN, issue_id) is not None)
    found = issue_registry.async_get_issue(DOMAIN, issue_id)
    assert found is not None
    assert found.translation_key == "integration_outdated"
    loaded.version = version_info()
    await wait_for_state(hass, lambda: issue_registry.async_get_issue(DOMAIN, issue_id) is None)
    assert mock_config_entry.runtime_data.connected


async def test_ring_of_a_camera_not_set_up_fires_nothing(
    hass: HomeAssistant, loaded: FakeAddon
) -> None:
    fired = bus_events(hass)
    loaded.cameras["garage"] = make_camera("garage", "Garage")  # appears before any resync
    loaded.ring("garage")
    loaded.ring("front_door")
    await wait_for_state(hass, lambda: len(fired) == 1)
    assert [f["camera"] for f in fired] == ["front_door"]


async def test_mjpeg_proxy_reports_the_addons_failure(
    hass: HomeAssistant, loaded: FakeAddon, hass_client: Any
) -> None:
    camera = loaded.cameras.pop("front_door")  # the add-on answers 404 for the stream
    client = await hass_client()
    response = await client.get("/api/camera_proxy_stream/camera.front_door")
    assert response.status == 404
    await loaded.stop()  # and an add-on that is gone is a bad gateway
    response = await client.get("/api/camera_proxy_stream/camera.front_door")
    assert response.status == 502
    loaded.cameras["front_door"] = camera


async def test_mjpeg_proxy_passes_the_user_for_the_audit_log(
    hass: HomeAssistant, loaded: FakeAddon, hass_client: Any
) -> None:
    client = await hass_client()
    response = await client.get("/api/camera_proxy_stream/camera.front_door")
    assert response.status == 200
    await response.read()
    assert loaded.last_user  # the signed-in Home Assistant user's name
