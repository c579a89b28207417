"""The Porchlight blueprints, loaded and run by Home Assistant's automation engine.

The doorbell and motion are Porchlight event entities; here they are states set the way
the integration's event entities write them (state = time of the event, attributes
`event_type` and the event's data), so each blueprint is tested on its own.
"""

from __future__ import annotations

from typing import Any

from homeassistant.core import HomeAssistant, ServiceCall
from homeassistant.helpers import device_registry as dr, entity_registry as er
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_mock_service

from .conftest import Clock, Notifications, settle, use_blueprint

DOORBELL = "event.front_door_doorbell"
VISITOR = "image.front_door_last_visitor"
CAMERA = "camera.front_door"
MOTION = "event.front_door_motion"
SILENCE = f"PORCHLIGHT_SILENCE_{DOORBELL}"

pytestmark = pytest.mark.usefixtures("blueprint_folder")


def fire_event_entity(
    hass: HomeAssistant, entity_id: str, event_type: str, **attributes: Any
) -> None:
    """What an EventEntity writes when it fires: the time as state, the type as attribute."""
    hass.states.async_set(
        entity_id,
        dt_util.utcnow().isoformat(timespec="microseconds"),
        {"event_type": event_type, "friendly_name": "Front door", **attributes},
        force_update=True,
    )


def doorbell_entity(hass: HomeAssistant) -> None:
    hass.states.async_set(
        DOORBELL,
        "unknown",
        {
            "event_types": ["ring"],
            "event_type": None,
            "device_class": "doorbell",
            "friendly_name": "Front door",
        },
    )


# --- Announce ---------------------------------------------------------------------------------


async def _setup_announce(
    hass: HomeAssistant, inputs: dict[str, Any]
) -> tuple[list[ServiceCall], list[ServiceCall]]:
    """The doorbell, the announce blueprint with `inputs` for it, and the calls it makes:
    (satellite announcements, TTS speeches)."""
    doorbell_entity(hass)
    announce = async_mock_service(hass, "assist_satellite", "announce")
    speak = async_mock_service(hass, "tts", "speak")
    await use_blueprint(hass, "ring_announce.yaml", {"doorbell": DOORBELL, **inputs})
    return announce, speak


async def test_announce_ring_on_satellites_and_speakers(hass: HomeAssistant, clock: Clock) -> None:
    announce, speak = await _setup_announce(
        hass,
        {
            "satellites": ["assist_satellite.kitchen"],
            "speakers": ["media_player.living_room", "media_player.office"],
            "tts_engine": "tts.piper",
            "message": "Ding dong: {{ camera }}!",
            "cooldown": 30,
        },
    )

    fire_event_entity(hass, DOORBELL, "ring", source="button")
    await settle(hass)
    assert len(announce) == 1
    assert len(speak) == 1
    assert announce[0].data == {
        "entity_id": ["assist_satellite.kitchen"],
        "message": "Ding dong: Front door!",
    }
    assert speak[0].data == {
        "entity_id": ["tts.piper"],
        "media_player_entity_id": ["media_player.living_room", "media_player.office"],
        "message": "Ding dong: Front door!",
    }

    # A second ring inside the cooldown stays quiet...
    await clock.advance(10)
    fire_event_entity(hass, DOORBELL, "ring", source="button")
    await settle(hass)
    assert len(announce) == 1
    assert len(speak) == 1
    # ...one after it is announced again.
    await clock.advance(25)
    fire_event_entity(hass, DOORBELL, "ring", source="api")
    await settle(hass)
    assert len(announce) == 2
    assert len(speak) == 2


async def test_announce_ignores_restores_and_needs_a_target(
    hass: HomeAssistant, clock: Clock
) -> None:
    # Speakers without a TTS engine: nothing to speak with, so only satellites announce.
    announce, speak = await _setup_announce(
        hass,
        {
            "satellites": ["assist_satellite.hall"],
            "speakers": ["media_player.kitchen"],
            "cooldown": 0,
        },
    )
    # Coming back from unavailable (add-on restart) is not a ring.
    hass.states.async_set(DOORBELL, "unavailable", {"event_types": ["ring"]})
    await settle(hass)
    fire_event_entity(hass, DOORBELL, "ring")
    await settle(hass)
    assert announce == []
    assert speak == []
    # Another event type on the entity is not a ring either.
    fire_event_entity(hass, DOORBELL, "test")
    await settle(hass)
    assert announce == []
    fire_event_entity(hass, DOORBELL, "ring")
    await settle(hass)
    await clock.advance(1)
    assert len(announce) == 1
    assert speak == []
    assert announce[0].data["message"] == "Someone is at the Front door."


# --- Phone notification on ring ---------------------------------------------------------------


async def _setup_notify(hass: HomeAssistant, phone: dr.DeviceEntry) -> None:
    doorbell_entity(hass)
    hass.states.async_set(VISITOR, "2026-01-01T00:00:00+00:00")
    await use_blueprint(
        hass,
        "ring_notify.yaml",
        {
            "doorbell": DOORBELL,
            "visitor_image": VISITOR,
            "camera": CAMERA,
            "notify_device": phone.id,
            "cooldown": 60,
            "silence_minutes": 30,
            "snapshot_wait": 3,
        },
    )


async def test_ring_notification_with_snapshot_and_actions(
    hass: HomeAssistant, phone: dr.DeviceEntry, notifications: Notifications, clock: Clock
) -> None:
    await _setup_notify(hass, phone)
    fire_event_entity(hass, DOORBELL, "ring")
    await settle(hass)
    # It waits for the new visitor's snapshot rather than attaching the previous one.
    assert notifications.sent == []
    hass.states.async_set(VISITOR, dt_util.utcnow().isoformat())
    await settle(hass)
    assert len(notifications.sent) == 1
    sent = notifications.sent[0]
    assert sent["device_id"] == phone.id
    assert sent["title"] == "Doorbell"
    assert sent["message"] == "Someone is at the Front door."
    data = sent["data"]
    assert data["image"] == f"/api/image_proxy/{VISITOR}"
    assert data["actions"] == [
        {"action": "URI", "title": "Live view", "uri": f"entityId:{CAMERA}"},
        {"action": SILENCE, "title": "Silence"},
    ]

    # Cooldown: a second ring a little later sends nothing.
    await clock.advance(20)
    fire_event_entity(hass, DOORBELL, "ring")
    await settle(hass)
    await clock.advance(5)
    assert len(notifications.sent) == 1
    # After the cooldown a ring notifies again; without a new snapshot it goes out after
    # the snapshot wait.
    await clock.advance(40)
    fire_event_entity(hass, DOORBELL, "ring")
    await settle(hass)
    await clock.advance(4)
    assert len(notifications.sent) == 2


@pytest.mark.parametrize("tap_after", [10, 120], ids=["during_cooldown", "after_cooldown"])
async def test_silence_action(
    hass: HomeAssistant,
    phone: dr.DeviceEntry,
    notifications: Notifications,
    clock: Clock,
    tap_after: int,
) -> None:
    await _setup_notify(hass, phone)
    fire_event_entity(hass, DOORBELL, "ring")
    await settle(hass)
    await clock.advance(4)
    assert len(notifications.sent) == 1

    await clock.advance(tap_after)
    hass.bus.async_fire("mobile_app_notification_action", {"action": SILENCE})
    await settle(hass)
    # Silenced: rings through the next 30 minutes send nothing (well past the cooldown).
    for _ in range(3):
        await clock.advance(9 * 60)
        fire_event_entity(hass, DOORBELL, "ring")
        await settle(hass)
        await clock.advance(4)
    assert len(notifications.sent) == 1
    # Another notification's action does not silence this one.
    await clock.advance(5 * 60)
    fire_event_entity(hass, DOORBELL, "ring")
    await settle(hass)
    await clock.advance(4)
    assert len(notifications.sent) == 2


async def test_other_actions_do_not_silence(
    hass: HomeAssistant, phone: dr.DeviceEntry, notifications: Notifications, clock: Clock
) -> None:
    await _setup_notify(hass, phone)
    hass.bus.async_fire("mobile_app_notification_action", {"action": "PORCHLIGHT_SILENCE_x"})
    await settle(hass)
    fire_event_entity(hass, DOORBELL, "ring")
    await settle(hass)
    await clock.advance(4)
    assert len(notifications.sent) == 1


# --- Motion while nobody is home --------------------------------------------------------------


@pytest.fixture
def motion_device(
    hass: HomeAssistant, device_registry: dr.DeviceRegistry, entity_registry: er.EntityRegistry
) -> dr.DeviceEntry:
    """The camera's device with its motion event entity, as the integration registers them."""
    entry = MockConfigEntry(domain="porchlight", data={})
    entry.add_to_hass(hass)
    device = device_registry.async_get_or_create(
        config_entry_id=entry.entry_id,
        identifiers={("porchlight", "x:front_door")},
        name="Front door",
    )
    entity_registry.async_get_or_create(
        "event",
        "porchlight",
        "x:front_door:motion_event",
        device_id=device.id,
        suggested_object_id="front_door_motion",
        config_entry=entry,
    )
    hass.states.async_set(MOTION, "unknown", {"event_types": ["motion"], "device_class": "motion"})
    hass.states.async_set("person.alice", "not_home")
    hass.states.async_set("person.bob", "work")
    return device


async def _setup_motion(hass: HomeAssistant, phone: dr.DeviceEntry) -> None:
    await use_blueprint(
        hass,
        "motion_away_clip.yaml",
        {
            "motion": MOTION,
            "zones": ["porch", "path"],
            "people": ["person.alice", "person.bob"],
            "notify_device": phone.id,
            "clip_wait": 300,
            "cooldown": 120,
        },
    )


def clip_finished(hass: HomeAssistant, device: dr.DeviceEntry, clip_id: str, **extra: Any) -> None:
    hass.bus.async_fire(
        "porchlight_event",
        {
            "device_id": device.id,
            "type": "clip_finished",
            "camera": "front_door",
            "clip_id": clip_id,
            "time": 1764270000.0,
            **extra,
        },
    )


async def motion_with_clip(
    hass: HomeAssistant, device: dr.DeviceEntry, zones: list[str], clip_id: str, **extra: Any
) -> None:
    """Motion in `zones`, then its clip `clip_id` finishing; each handled before the next."""
    fire_event_entity(hass, MOTION, "motion", zones=zones)
    await settle(hass)
    clip_finished(hass, device, clip_id, **extra)
    await settle(hass)


async def test_motion_away_sends_the_clip(
    hass: HomeAssistant,
    phone: dr.DeviceEntry,
    motion_device: dr.DeviceEntry,
    notifications: Notifications,
    clock: Clock,
) -> None:
    assert hass.states.get(MOTION) is not None
    await _setup_motion(hass, phone)
    fire_event_entity(hass, MOTION, "motion", zones=["street", "porch"], area=3.0)
    await settle(hass)
    assert notifications.sent == []  # waiting for the clip
    # Another camera's clip is not this one.
    hass.bus.async_fire(
        "porchlight_event", {"device_id": "other", "type": "clip_finished", "clip_id": "nope"}
    )
    await settle(hass)
    assert notifications.sent == []
    clip_finished(hass, motion_device, "0f5c2a4e-1111-4222-8333-444455556666")
    await settle(hass)
    assert len(notifications.sent) == 1
    sent = notifications.sent[0]
    assert sent["message"] == "Motion at the Front door while nobody is home."
    url = "/media/local/porchlight/clips/0f5c2a4e-1111-4222-8333-444455556666.mp4"
    assert sent["data"]["video"] == url

    # Cooldown: more motion and another clip within it send nothing.
    await clock.advance(30)
    await motion_with_clip(hass, motion_device, ["porch"], "a")
    assert len(notifications.sent) == 1
    # After it: the integration's own clip URL wins when the event carries one.
    await clock.advance(120)
    await motion_with_clip(
        hass, motion_device, ["porch"], "b", clip_url="/api/porchlight/e1/clips/b.mp4"
    )
    assert len(notifications.sent) == 2
    assert notifications.sent[1]["data"]["video"] == "/api/porchlight/e1/clips/b.mp4"


async def test_motion_filters_zone_and_presence(
    hass: HomeAssistant,
    phone: dr.DeviceEntry,
    motion_device: dr.DeviceEntry,
    notifications: Notifications,
    clock: Clock,
) -> None:
    await _setup_motion(hass, phone)
    # Only outside the chosen zones.
    await motion_with_clip(hass, motion_device, ["street"], "a")
    assert notifications.sent == []
    # In a chosen zone, but Bob is home.
    hass.states.async_set("person.bob", "home")
    await motion_with_clip(hass, motion_device, ["path"], "b")
    assert notifications.sent == []
    # Bob leaves; no clip comes (recording off): the notification goes out without one.
    hass.states.async_set("person.bob", "not_home")
    fire_event_entity(hass, MOTION, "motion", zones=["path"])
    await settle(hass)
    await clock.advance(299)
    assert notifications.sent == []
    await clock.advance(2)
    assert len(notifications.sent) == 1
    assert notifications.sent[0]["data"]["video"] == ""
