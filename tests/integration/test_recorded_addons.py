"""A newer integration with an older add-on: the recorded protocol 1.0 and 1.1 (0.2.0)
add-ons (see recorded_addon.py) served to the current client and to Home Assistant. The
integration sends them nothing of 1.2: no 1.2 command, no `user` argument."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Any

import aiohttp
from homeassistant.components import media_source
from homeassistant.components.media_player.browse_media import BrowseMedia
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import CONF_HOST, CONF_PORT, CONF_TOKEN, STATE_OFF, STATE_ON
from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.porchlight.const import DOMAIN
from custom_components.porchlight.pyporchlight.client import PorchlightClient
from custom_components.porchlight.pyporchlight.exceptions import PorchlightCommandError
from custom_components.porchlight.pyporchlight.protocol import (
    CURRENT_VERSION,
    MIN_SUPPORTED_VERSION,
    PRIVACY_REASON,
    CameraStatus,
    Command,
    ErrorCode,
    EventMessage,
)
from tests.helpers.waiting import wait_until as wait_for

from .conftest import setup_integration, wait_for_state
from .recorded_addon import RECORDINGS, RecordedAddon, recorded

NEW_IN_1_2 = frozenset(
    {
        Command.GET_CAMERA_SOURCES,
        Command.TEST_CAMERA,
        Command.SAVE_CAMERA_SOURCE,
        Command.ADD_CAMERA,
        Command.REMOVE_CAMERA,
        Command.GET_CAMERA_LAYOUT,
        Command.SET_CAMERA_LAYOUT,
    }
)
"""Commands an add-on before protocol 1.2 does not know."""


@pytest.fixture(params=sorted(RECORDINGS))
async def old_addon(
    request: pytest.FixtureRequest, socket_enabled: None
) -> AsyncGenerator[RecordedAddon]:
    addon = RecordedAddon(request.param)
    await addon.start()
    yield addon
    await addon.stop()


def assert_nothing_of_1_2(addon: RecordedAddon) -> None:
    """No 1.2 command and no `user` argument reached the older add-on."""
    assert addon.commands, "the integration sent nothing"
    for command in addon.commands:
        assert command["command"] not in NEW_IN_1_2, command
        assert "user" not in command.get("args", {}), command


async def test_client_talks_to_an_older_add_on(old_addon: RecordedAddon) -> None:
    events: list[EventMessage] = []
    version = old_addon.version
    async with aiohttp.ClientSession() as session:
        client = PorchlightClient(session, "127.0.0.1", old_addon.port, old_addon.token)
        info = await client.connect()
        assert info["instance_id"] == recorded("server_info", version)["instance_id"]
        # The client announced its own version and minimum at auth.
        auth = old_addon.auth_seen[-1]
        assert (auth["protocol_version"], auth["protocol_minor"]) == tuple(CURRENT_VERSION)
        assert auth["min_supported_version"] == str(MIN_SUPPORTED_VERSION)

        state = await client.get_state()
        assert [camera["name"] for camera in state["cameras"]] == ["front_door", "garage"]
        assert (await client.get_storage())["paused"] is False
        assert await client.take_snapshot("front_door")
        clips = await client.record_clip("front_door", 1)
        assert set(clips) == {"clip_id", "event_id"}
        # Who asks is not sent to an add-on that refuses unknown arguments.
        for call in (
            client.export_clip(clips["clip_id"], user="Ann"),
            client.get_stream_url("front_door", user="Ann"),
        ):
            with pytest.raises(PorchlightCommandError) as refused:
                await call  # the recording holds neither answer: unknown_command
            assert refused.value.code == ErrorCode.UNKNOWN_COMMAND
        assert [c["command"] for c in old_addon.commands[-2:]] == ["export_clip", "get_stream_url"]
        assert_nothing_of_1_2(old_addon)
        await client.disconnect()

        client.start(
            on_event=events.append, on_state=lambda _state: None, on_connection=lambda _c: None
        )
        await wait_for(lambda: len(old_addon.subscribers) == 1)
        await old_addon.play()
        await wait_for(lambda: len(events) == len(old_addon.events))
        assert [event["event"] for event in events] == [e["event"] for e in old_addon.events]
        await client.stop()


async def _load(hass: HomeAssistant, addon: RecordedAddon) -> MockConfigEntry:
    entry = MockConfigEntry(
        domain=DOMAIN,
        title="Porchlight",
        unique_id=addon.server_info["instance_id"],
        data={CONF_HOST: "127.0.0.1", CONF_PORT: addon.port, CONF_TOKEN: addon.token},
    )
    await setup_integration(hass, entry)
    assert entry.state is ConfigEntryState.LOADED
    await wait_for_state(hass, lambda: len(addon.subscribers) == 1)
    return entry


async def _play(hass: HomeAssistant, entry: MockConfigEntry, addon: RecordedAddon) -> None:
    """Send the recorded events and wait until the integration has taken the last one."""
    await addon.play()
    last = addon.events[-1]["seq"]
    client = entry.runtime_data.client
    await wait_for_state(hass, lambda: (client.last_event or ("", 0))[1] == last)


def _state(hass: HomeAssistant, entity_id: str) -> Any:
    state = hass.states.get(entity_id)
    assert state is not None, entity_id
    return state


async def test_home_assistant_gets_an_older_add_on_s_ring_motion_and_clips(
    hass: HomeAssistant, old_addon: RecordedAddon
) -> None:
    assert await async_setup_component(hass, "media_source", {})
    entry = await _load(hass, old_addon)
    events = recorded("events", old_addon.version)
    ring = events["ring"]
    await _play(hass, entry, old_addon)
    assert _state(hass, "event.front_door_doorbell").attributes.get("seq") == ring["seq"]
    assert _state(hass, "camera.front_door").state != "unavailable"
    assert _state(hass, "binary_sensor.front_door_camera_problem").state == STATE_OFF
    # A 1.1 add-on's privacy mode (camera_status offline, reason privacy mode) is no problem.
    if (status := events.get("camera_status")) and status["data"]["reason"] == PRIVACY_REASON:
        problem = _state(hass, f"binary_sensor.{status['camera']}_camera_problem")
        assert (problem.state, problem.attributes["status"]) == (STATE_OFF, CameraStatus.OFFLINE)
    motion = events["motion"]
    camera = motion["camera"]
    motion_on = STATE_ON if motion["data"]["active"] else STATE_OFF
    assert _state(hass, f"binary_sensor.{camera}_motion").state == motion_on

    # The recorded clips are listed in the media browser and resolve to the clip proxy.
    playable: list[BrowseMedia] = []
    folders = [await media_source.async_browse_media(hass, "media-source://porchlight")]
    for _ in range(6):  # root, camera, day, type: bounded
        children = [kid for node in folders for kid in node.children or []]
        playable += [kid for kid in children if kid.can_play]
        expand = [kid for kid in children if kid.can_expand]
        folders = [await media_source.async_browse_media(hass, k.media_content_id) for k in expand]
    ids = {item.media_content_id.rpartition("clip~")[2] for item in playable}
    listed = old_addon.replies["list_events"]["result"]["events"]
    clips = {event["clip_id"] for event in listed if event.get("clip_id")}
    assert clips, "the recording lists a clip"
    assert clips <= ids, playable
    resolved = await media_source.async_resolve_media(hass, playable[0].media_content_id, None)
    assert resolved.url.startswith(f"/api/porchlight/{entry.entry_id}/")
    assert_nothing_of_1_2(old_addon)
    await hass.config_entries.async_unload(entry.entry_id)


async def test_privacy_mode_of_a_1_1_add_on_is_privacy_not_a_problem(
    hass: HomeAssistant, socket_enabled: None
) -> None:
    addon = RecordedAddon("1.1")
    await addon.start()
    try:
        addon.answer_last("get_state")  # recorded after the garage went into privacy mode
        entry = await _load(hass, addon)
        problem = _state(hass, "binary_sensor.garage_camera_problem")
        assert problem.state == STATE_OFF
        assert (problem.attributes["status"], problem.attributes["reason"]) == (
            CameraStatus.OFFLINE,
            PRIVACY_REASON,
        )
        assert _state(hass, "switch.garage_privacy_mode").state == STATE_ON
        assert_nothing_of_1_2(addon)
        await hass.config_entries.async_unload(entry.entry_id)
    finally:
        await addon.stop()
