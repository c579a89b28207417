"""Assist: the English sentences go through Home Assistant's own conversation agent and
are answered from the integration's state and the add-on's event index."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from homeassistant.components import conversation
from homeassistant.core import Context
from homeassistant.helpers import intent
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.porchlight import voice
from custom_components.porchlight.data import VisitorSnapshot
from custom_components.porchlight.pyporchlight.protocol import ErrorCode
from custom_components.porchlight.voice import Visit, describe, spoken_time

from .conftest import setup_integration, wait_for_state
from .fake_addon import FakeAddon

if TYPE_CHECKING:
    from homeassistant.core import HomeAssistant

NEW_YORK = ZoneInfo("America/New_York")
WHEN = "when did the doorbell last ring?"
WHO = "Who was at the door?"


async def ask(hass: HomeAssistant, text: str) -> str:
    result = await conversation.async_converse(hass, text, None, Context(), language="en")
    speech: str = result.response.speech["plain"]["speech"]
    return speech


@pytest.fixture
async def assist(
    hass: HomeAssistant, fake_addon: FakeAddon, mock_config_entry: MockConfigEntry
) -> FakeAddon:
    await hass.config.async_set_time_zone("America/New_York")
    assert await async_setup_component(hass, "homeassistant", {})
    assert await async_setup_component(hass, "conversation", {})
    await setup_integration(hass, mock_config_entry)
    await wait_for_state(hass, lambda: fake_addon.subscriber_count == 1)
    return fake_addon


async def test_never_rang(hass: HomeAssistant, assist: FakeAddon) -> None:
    assert await ask(hass, WHEN) == "The doorbell has not rung yet."
    assert await ask(hass, WHO) == "Nobody has rung the doorbell yet."


async def test_ring_with_motion_before_and_snapshot(
    hass: HomeAssistant,
    assist: FakeAddon,
    mock_config_entry: MockConfigEntry,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assist.ring_snapshots = True
    ring = assist.ring()  # at 2:00:01 PM New York time
    data = mock_config_entry.runtime_data
    await wait_for_state(hass, lambda: "front_door" in data.last_visitor)
    # The add-on's index knows the motion that came 2 minutes before the visitor rang.
    assist.add_recording("motion", ring["time"] - 121)
    assist.add_recording("ring", ring["time"])
    monkeypatch.setattr(voice, "now", lambda: datetime(2025, 11, 27, 18, 0, tzinfo=NEW_YORK))
    assert (
        await ask(hass, WHEN) == "The front door rang at 2:00 PM; motion was seen 2 minutes before."
    )
    assert await ask(hass, "who rang the doorbell") == (
        "Someone rang the front door at 2:00 PM; motion was seen 2 minutes before."
        " A snapshot of the visitor is available."
    )
    list_events = [c for c in assist.commands if c["command"] == "list_events"]
    assert list_events[-1]["args"]["camera"] == "front_door"


async def test_answers_from_the_live_state_when_the_addon_is_away(
    hass: HomeAssistant,
    assist: FakeAddon,
    mock_config_entry: MockConfigEntry,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assist.motion("front_door", True)
    ring = assist.ring()
    data = mock_config_entry.runtime_data
    await wait_for_state(hass, lambda: data.cameras["front_door"]["last_ring"] == ring["time"])
    assist.failing_commands["list_events"] = ErrorCode.INTERNAL_ERROR
    monkeypatch.setattr(voice, "now", lambda: datetime(2025, 11, 28, 9, 0, tzinfo=NEW_YORK))
    assert await ask(hass, WHO) == (
        "Someone rang the front door yesterday at 2:00 PM;"
        " motion was seen less than a minute before. There is no snapshot of the visitor."
    )
    # A snapshot the integration saw live counts without the index.
    data.last_visitor["front_door"] = VisitorSnapshot("boot-1:9", ring["time"] + 1)
    assert (await ask(hass, WHO)).endswith("A snapshot of the visitor is available.")
    # Motion long before the ring is not the visitor approaching.
    data.cameras["front_door"]["last_motion"] = ring["time"] - 3600
    assert await ask(hass, WHEN) == "The front door rang yesterday at 2:00 PM."


async def test_latest_ring_over_all_cameras(
    hass: HomeAssistant, socket_enabled: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    await hass.config.async_set_time_zone("America/New_York")
    addon = FakeAddon(cameras=(("front_door", "Front door"), ("gate", "Garden gate")))
    await addon.start()
    try:
        entry = MockConfigEntry(
            domain="porchlight",
            unique_id=addon.instance_id,
            data={"host": "127.0.0.1", "port": addon.port, "token": addon.token},
        )
        # Porchlight first, conversation later: the sentences follow when it loads.
        await setup_integration(hass, entry)
        assert await async_setup_component(hass, "homeassistant", {})
        assert await async_setup_component(hass, "conversation", {})
        addon.ring("front_door")
        addon.ring("gate")
        addon.motion("gate", True)  # motion after the ring is not "before" it
        await wait_for_state(hass, lambda: entry.runtime_data.cameras["gate"]["motion"])
        monkeypatch.setattr(voice, "now", lambda: datetime(2025, 11, 27, 15, 0, tzinfo=NEW_YORK))
        assert await ask(hass, "when did someone last ring the front door") == (
            "The garden gate rang at 2:00 PM."
        )
        await hass.config_entries.async_unload(entry.entry_id)
    finally:
        await addon.stop()
        addon.cleanup_files()


async def test_intents_are_usable_from_custom_sentences(
    hass: HomeAssistant, assist: FakeAddon
) -> None:
    response = await intent.async_handle(hass, "test", "PorchlightWhoWasAtDoor", {})
    assert response.speech["plain"]["speech"] == "Nobody has rung the doorbell yet."


@pytest.mark.parametrize(
    ("moment", "spoken"),
    [
        (datetime(2025, 11, 27, 0, 5), "at 12:05 AM"),
        (datetime(2025, 11, 27, 12, 30), "at 12:30 PM"),
        (datetime(2025, 11, 26, 23, 59), "yesterday at 11:59 PM"),
        (datetime(2025, 11, 23, 8, 0), "on Sunday at 8:00 AM"),
        (datetime(2025, 10, 2, 17, 45), "on October 2 at 5:45 PM"),
    ],
)
async def test_spoken_time(hass: HomeAssistant, moment: datetime, spoken: str) -> None:
    await hass.config.async_set_time_zone("America/New_York")
    now = datetime(2025, 11, 27, 20, 0, tzinfo=NEW_YORK)
    assert spoken_time(moment.replace(tzinfo=NEW_YORK).timestamp(), now) == spoken


async def test_describe_long_gaps_and_titles(hass: HomeAssistant) -> None:
    await hass.config.async_set_time_zone("America/New_York")
    now = datetime(2025, 11, 27, 20, 0, tzinfo=NEW_YORK)
    ring = datetime(2025, 11, 27, 19, 0, tzinfo=NEW_YORK).timestamp()
    visit = Visit("Front door", ring, ring - 60, snapshot=False)
    assert describe(visit, who=False, now=now) == (
        "The front door rang at 7:00 PM; motion was seen 1 minute before."
    )
    assert describe(Visit("NE porch", ring, None, False), who=False, now=now) == (
        "The NE porch rang at 7:00 PM."
    )
