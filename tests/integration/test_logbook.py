"""The Activity log (logbook) with the recorder and logbook loaded: one ring is one line,
the doorbell's; one motion start is the motion sensor's line and the motion event's.

What Home Assistant already shows as an entity's state change is not repeated by a
Porchlight line of its own, and the timestamp sensors that duplicate the event entities are
off by default (as UniFi Protect's are).
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from homeassistant.core import Event, callback
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.components.recorder.common import (
    async_wait_recording_done,
)

from custom_components.porchlight.const import (
    ATTR_TYPE,
    BUS_CLIP_FINISHED,
    EVENT_PORCHLIGHT,
    TRIGGER_RING,
)
from custom_components.porchlight.pyporchlight.protocol import EventType

from .conftest import setup_subscribed, wait_for_state

if TYPE_CHECKING:
    from homeassistant.core import HomeAssistant
    from pytest_homeassistant_custom_component.common import MockConfigEntry
    from pytest_homeassistant_custom_component.typing import (
        RecorderInstanceContextManager,
        WebSocketGenerator,
    )

    from .fake_addon import FakeAddon


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(recorder_db_url: str, request: pytest.FixtureRequest) -> None:
    """The recorder's database comes before Home Assistant starts (the conftest's version
    starts Home Assistant first)."""
    request.getfixturevalue("enable_custom_integrations")


@pytest.fixture
async def activity(
    recorder_mock: RecorderInstanceContextManager,
    hass: HomeAssistant,
    fake_addon: FakeAddon,
    mock_config_entry: MockConfigEntry,
) -> FakeAddon:
    assert await async_setup_component(hass, "logbook", {})
    fake_addon.ring_snapshots = True
    await setup_subscribed(hass, fake_addon, mock_config_entry)
    return fake_addon


async def logbook_lines(
    hass: HomeAssistant, hass_ws_client: WebSocketGenerator, since: datetime
) -> list[dict[str, Any]]:
    """Every logbook entry from `since` on, as the Activity panel asks for them."""
    await hass.async_block_till_done()
    await async_wait_recording_done(hass)
    client = await hass_ws_client(hass)
    await client.send_json_auto_id({"type": "logbook/get_events", "start_time": since.isoformat()})
    response = await client.receive_json()
    assert response["success"], response
    lines: list[dict[str, Any]] = response["result"]
    return lines


async def test_one_ring_is_one_line(
    hass: HomeAssistant,
    activity: FakeAddon,
    mock_config_entry: MockConfigEntry,
    hass_ws_client: WebSocketGenerator,
) -> None:
    fired: list[str] = []

    @callback  # in the loop, in order (a plain function would run in the executor)
    def listen(event: Event) -> None:
        fired.append(event.data[ATTR_TYPE])

    hass.bus.async_listen(EVENT_PORCHLIGHT, listen)
    since = dt_util.utcnow()
    ring = activity.ring()  # with its snapshot
    clip = {"clip_id": "0b0c4b59-8a38-4d3c-9d0b-3f1d6c2b7a10", "events": [f"b:{ring['seq']}"]}
    activity.publish(EventType.CLIP_FINISHED, "front_door", clip)  # and its clip
    data = mock_config_entry.runtime_data
    await wait_for_state(
        hass,
        lambda: fired == [TRIGGER_RING, BUS_CLIP_FINISHED] and "front_door" in data.last_visitor,
    )
    lines = await logbook_lines(hass, hass_ws_client, since)
    assert [(line.get("entity_id"), line.get("attributes")) for line in lines] == [
        ("event.front_door_doorbell", {"event_type": "ring"})
    ]


async def test_one_motion_start_is_the_motion_lines(
    hass: HomeAssistant,
    activity: FakeAddon,
    mock_config_entry: MockConfigEntry,
    hass_ws_client: WebSocketGenerator,
) -> None:
    since = dt_util.utcnow()
    activity.motion("front_door", True)
    activity.occupancy("front_door", "doorstep", True)
    await wait_for_state(
        hass,
        lambda: hass.states.get("binary_sensor.front_door_doorstep_occupancy").state == "on",  # type: ignore[union-attr]
    )
    lines = await logbook_lines(hass, hass_ws_client, since)
    # Listeners run in no set order: the lines are compared as a set of (entity, state).
    assert sorted(line.get("entity_id") for line in lines) == [
        "binary_sensor.front_door_doorstep_occupancy",
        "binary_sensor.front_door_motion",
        "event.front_door_motion_event",
    ]
    since = dt_util.utcnow()
    activity.occupancy("front_door", "doorstep", False)
    activity.motion("front_door", False)
    await wait_for_state(
        hass,
        lambda: hass.states.get("binary_sensor.front_door_motion").state == "off",  # type: ignore[union-attr]
    )
    lines = await logbook_lines(hass, hass_ws_client, since)
    assert sorted((line.get("entity_id"), line.get("state")) for line in lines) == [
        ("binary_sensor.front_door_doorstep_occupancy", "off"),
        ("binary_sensor.front_door_motion", "off"),
    ]
