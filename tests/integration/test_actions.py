"""Entity actions: every switch, number, button and camera action reaches the add-on as
its command, the state follows the result, and failures become translated errors."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from homeassistant.components.camera import async_get_image
from homeassistant.const import ATTR_ENTITY_ID, SERVICE_TURN_OFF, SERVICE_TURN_ON
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.porchlight.errors import translate_errors
from custom_components.porchlight.placeholder import privacy_placeholder
from tests.helpers.waiting import wait_until as wait_for

from .conftest import wait_for_state
from .fake_addon import FakeAddon

if TYPE_CHECKING:
    from homeassistant.core import HomeAssistant


async def call(hass: HomeAssistant, domain: str, service: str, entity_id: str, **data: Any) -> None:
    await hass.services.async_call(
        domain, service, {ATTR_ENTITY_ID: entity_id, **data}, blocking=True
    )


def state(hass: HomeAssistant, entity_id: str) -> str:
    current = hass.states.get(entity_id)
    assert current is not None, entity_id
    return current.state


def privacy(addon: FakeAddon) -> bool:
    return addon.cameras["front_door"]["privacy_mode"]


def motion_enabled(addon: FakeAddon) -> bool:
    return addon.cameras["front_door"]["motion_settings"]["enabled"]


def last_command(addon: FakeAddon) -> tuple[str, dict[str, Any]]:
    command = addon.commands[-1]
    return command["command"], command.get("args", {})


@pytest.mark.parametrize(
    ("entity_id", "command", "on_args", "read"),
    [
        (
            "switch.front_door_motion_detection",
            "set_motion_settings",
            {"enabled": True},
            lambda camera: camera["motion_settings"]["enabled"],
        ),
        (
            "switch.front_door_recording",
            "set_recording_settings",
            {"enabled": True},
            lambda camera: camera["recording"]["enabled"],
        ),
        (
            "switch.front_door_privacy_mode",
            "set_privacy_mode",
            {"enabled": True},
            lambda camera: camera["privacy_mode"],
        ),
        (
            "switch.front_door_audio",
            "set_audio",
            {"enabled": True},
            lambda camera: camera["audio"],
        ),
    ],
)
async def test_switches(
    hass: HomeAssistant,
    loaded: FakeAddon,
    entity_id: str,
    command: str,
    on_args: dict[str, Any],
    read: Any,
) -> None:
    camera = loaded.cameras["front_door"]
    await call(hass, "switch", SERVICE_TURN_OFF, entity_id)
    assert last_command(loaded) == (command, {"camera": "front_door", "enabled": False})
    assert read(camera) is False
    assert state(hass, entity_id) == "off"  # written from the result, no wait
    await call(hass, "switch", SERVICE_TURN_ON, entity_id)
    assert last_command(loaded) == (command, {"camera": "front_door", **on_args})
    assert read(camera) is True
    assert state(hass, entity_id) == "on"


@pytest.mark.parametrize(
    ("entity_id", "command", "key", "value", "wire"),
    [
        (
            "number.front_door_motion_sensitivity_threshold",
            "set_motion_settings",
            "threshold",
            40,
            40,
        ),
        ("number.front_door_motion_minimum_area", "set_motion_settings", "min_area", 2.5, 2.5),
        ("number.front_door_pre_roll", "set_recording_settings", "pre_roll", 7, 7.0),
        ("number.front_door_post_roll", "set_recording_settings", "post_roll", 60, 60.0),
    ],
)
async def test_numbers(
    hass: HomeAssistant,
    loaded: FakeAddon,
    entity_id: str,
    command: str,
    key: str,
    value: float,
    wire: float,
) -> None:
    await call(hass, "number", "set_value", entity_id, value=value)
    sent_command, args = last_command(loaded)
    assert (sent_command, args) == (command, {"camera": "front_door", key: wire})
    assert type(args[key]) is type(wire)  # the threshold is an integer on the wire
    assert float(state(hass, entity_id)) == value


async def test_number_out_of_range_is_refused_by_addon(
    hass: HomeAssistant, loaded: FakeAddon, mock_config_entry: MockConfigEntry
) -> None:
    # Bypass HA's own range check: the add-on's refusal must come back translated.
    data = mock_config_entry.runtime_data
    with (
        pytest.raises(ServiceValidationError) as raised,
        translate_errors(data, action="set_recording_settings", target="front_door"),
    ):
        await data.client.set_recording_settings("front_door", pre_roll=99)
    assert raised.value.translation_key == "addon_rejected"
    assert "pre_roll" in str(raised.value.translation_placeholders)


async def test_buttons(hass: HomeAssistant, loaded: FakeAddon) -> None:
    await call(hass, "button", "press", "button.front_door_test_ring")
    assert last_command(loaded) == ("ring", {"camera": "front_door"})
    await wait_for_state(hass, lambda: state(hass, "event.front_door_doorbell") not in ("unknown",))
    await call(hass, "button", "press", "button.front_door_take_snapshot")
    assert last_command(loaded) == ("take_snapshot", {"camera": "front_door"})


async def test_camera_actions(hass: HomeAssistant, loaded: FakeAddon) -> None:
    camera = loaded.cameras["front_door"]
    await call(hass, "camera", SERVICE_TURN_OFF, "camera.front_door")
    assert last_command(loaded) == ("set_privacy_mode", {"camera": "front_door", "enabled": True})
    assert camera["privacy_mode"] is True
    assert state(hass, "camera.front_door") == "idle"  # the lens is off
    served = loaded.snapshots_served
    image = await async_get_image(hass, "camera.front_door")
    assert image.content == privacy_placeholder()  # not the add-on's: it has no picture
    assert loaded.snapshots_served == served
    assert state(hass, "switch.front_door_privacy_mode") == "on"
    await call(hass, "camera", SERVICE_TURN_ON, "camera.front_door")
    assert privacy(loaded) is False
    assert state(hass, "camera.front_door") == "streaming"

    await call(hass, "camera", "disable_motion_detection", "camera.front_door")
    assert motion_enabled(loaded) is False
    current = hass.states.get("camera.front_door")
    assert current is not None
    assert current.attributes.get("motion_detection") is not True
    await call(hass, "camera", "enable_motion_detection", "camera.front_door")
    assert motion_enabled(loaded) is True
    current = hass.states.get("camera.front_door")
    assert current is not None
    assert current.attributes["motion_detection"] is True


async def test_command_for_unknown_camera_is_translated(
    hass: HomeAssistant, loaded: FakeAddon
) -> None:
    loaded.cameras["front_door"]["name"] = "front_door"
    camera = loaded.cameras.pop("front_door")  # the add-on now answers not_found
    with pytest.raises(HomeAssistantError) as raised:
        await call(hass, "switch", SERVICE_TURN_OFF, "switch.front_door_recording")
    assert raised.value.translation_key == "addon_not_found"
    assert raised.value.translation_placeholders == {
        "target": "front_door",
        "action": "set_recording_settings",
        "error": "not_found: unknown camera 'front_door'",
    }
    loaded.cameras["front_door"] = camera


async def test_command_while_disconnected_is_translated(
    hass: HomeAssistant, loaded: FakeAddon, mock_config_entry: MockConfigEntry
) -> None:
    await loaded.stop()
    await wait_for_state(hass, lambda: not mock_config_entry.runtime_data.connected)
    data = mock_config_entry.runtime_data
    with (
        pytest.raises(HomeAssistantError) as raised,
        translate_errors(data, action="ring", target="front_door"),
    ):
        await data.client.ring("front_door")
    assert raised.value.translation_key == "addon_unreachable"


@pytest.mark.parametrize(
    ("entity_id", "service", "data", "command", "apply", "read"),
    [
        (
            "switch.front_door_privacy_mode",
            SERVICE_TURN_ON,
            {},
            "set_privacy_mode",
            lambda camera, new: camera.update(privacy_mode=new),
            lambda hass: state(hass, "switch.front_door_privacy_mode") == "on",
        ),
        (
            "number.front_door_post_roll",
            "set_value",
            {"value": 42},
            "set_recording_settings",
            lambda camera, new: camera["recording"].update(post_roll=42.0 if new else 10.0),
            lambda hass: float(state(hass, "number.front_door_post_roll")) == 42.0,
        ),
        (
            "camera.front_door",
            "disable_motion_detection",
            {},
            "set_motion_settings",
            lambda camera, new: camera["motion_settings"].update(enabled=not new),
            lambda hass: hass.states.get("camera.front_door").attributes.get("motion_detection")
            is not True,
        ),
    ],
)
async def test_a_late_command_result_cannot_overwrite_a_newer_event(
    hass: HomeAssistant,
    loaded: FakeAddon,
    mock_config_entry: MockConfigEntry,
    entity_id: str,
    service: str,
    data: dict[str, Any],
    command: str,
    apply: Any,
    read: Any,
) -> None:
    """The add-on's camera_state events are the one writer of camera state."""
    client = mock_config_entry.runtime_data.client
    loaded.silent_commands.add(command)
    domain = entity_id.split(".")[0]
    # Not a Home Assistant task: waiting for Home Assistant would wait for the answer.
    task = asyncio.create_task(call(hass, domain, service, entity_id, **data))
    await wait_for(lambda: bool(loaded.commands) and last_command(loaded)[0] == command)
    message_id = loaded.commands[-1]["message_id"]
    # The add-on applies the change and says so; then another client undoes it.
    camera = loaded.cameras["front_door"]
    apply(camera, True)
    loaded.camera_state_changed("front_door")
    await wait_for(lambda: read(hass))
    apply(camera, False)
    loaded.camera_state_changed("front_door")
    await wait_for(lambda: client.last_event == (loaded.boot_id, loaded.seq))
    assert not read(hass)
    # Only now the first command's result arrives, saying what it set back then.
    stale = {
        "set_privacy_mode": {"privacy_mode": True},
        "set_recording_settings": {"enabled": True, "pre_roll": 5.0, "post_roll": 42.0},
        "set_motion_settings": {"enabled": False, "threshold": 25, "min_area": 1.0},
    }[command]
    loaded.answer(message_id, stale)
    await task
    await hass.async_block_till_done()
    assert not read(hass)
