"""Assist: the built-in sentences go through Home Assistant's own conversation agent and
are answered from the integration's state and the add-on's event index, in the
conversation's language, naming the camera as Home Assistant shows it."""

from __future__ import annotations

from datetime import datetime
import json
from pathlib import Path
import re
from string import Formatter
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from homeassistant.components import conversation
from homeassistant.core import Context
from homeassistant.helpers import device_registry as dr, entity_registry as er, intent
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.porchlight import voice
from custom_components.porchlight.const import DOMAIN
from custom_components.porchlight.data import VisitorSnapshot
from custom_components.porchlight.pyporchlight.protocol import ErrorCode
from custom_components.porchlight.voice import (
    ANSWER_LANGUAGES,
    Visit,
    async_phrases,
    describe,
    spoken_time,
)

from .conftest import (
    addon_entry,
    running_addon,
    setup_integration,
    setup_subscribed,
    wait_for_state,
)
from .fake_addon import FakeAddon

if TYPE_CHECKING:
    from homeassistant.core import HomeAssistant

NEW_YORK = ZoneInfo("America/New_York")
WHEN = "when did the doorbell last ring?"
WHO = "Who was at the door?"


async def ask(hass: HomeAssistant, text: str, language: str = "en") -> str:
    result = await conversation.async_converse(hass, text, None, Context(), language=language)
    speech: str = result.response.speech["plain"]["speech"]
    return speech


@pytest.fixture
async def assist(
    hass: HomeAssistant, fake_addon: FakeAddon, mock_config_entry: MockConfigEntry
) -> FakeAddon:
    await setup_subscribed(
        hass,
        fake_addon,
        mock_config_entry,
        "homeassistant",
        "conversation",
        time_zone="America/New_York",
    )
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
    assert await ask(hass, WHEN) == "Front door rang at 2:00 PM; motion was seen 2 minutes before."
    assert await ask(hass, "who rang the doorbell") == (
        "Someone rang Front door at 2:00 PM; motion was seen 2 minutes before."
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
        "Someone rang Front door yesterday at 2:00 PM;"
        " motion was seen less than a minute before. There is no snapshot of the visitor."
    )
    # A snapshot the integration saw live counts without the index.
    data.last_visitor["front_door"] = VisitorSnapshot("boot-1:9", ring["time"] + 1)
    assert (await ask(hass, WHO)).endswith("A snapshot of the visitor is available.")
    # Motion long before the ring is not the visitor approaching.
    data.cameras["front_door"]["last_motion"] = ring["time"] - 3600
    assert await ask(hass, WHEN) == "Front door rang yesterday at 2:00 PM."


async def test_latest_ring_over_all_cameras(
    hass: HomeAssistant, socket_enabled: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    await hass.config.async_set_time_zone("America/New_York")
    async with running_addon(
        cameras=(("front_door", "Front door"), ("gate", "Garden gate"))
    ) as addon:
        entry = addon_entry(addon)
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
            "Garden gate rang at 2:00 PM."
        )
        await hass.config_entries.async_unload(entry.entry_id)


async def test_intents_are_usable_from_custom_sentences(
    hass: HomeAssistant, assist: FakeAddon
) -> None:
    response = await intent.async_handle(hass, "test", "PorchlightWhoWasAtDoor", {})
    assert response.speech["plain"]["speech"] == "Nobody has rung the doorbell yet."


@pytest.mark.parametrize(
    ("language", "moment", "spoken"),
    [
        ("en", datetime(2025, 11, 27, 0, 5), "at 12:05 AM"),
        ("en", datetime(2025, 11, 27, 12, 30), "at 12:30 PM"),
        ("en", datetime(2025, 11, 26, 23, 59), "yesterday at 11:59 PM"),
        ("en", datetime(2025, 11, 23, 8, 0), "on Sunday at 8:00 AM"),
        ("en", datetime(2025, 10, 2, 17, 45), "on October 2 at 5:45 PM"),
        ("de", datetime(2025, 11, 27, 0, 5), "um 0:05 Uhr"),
        ("de", datetime(2025, 11, 26, 23, 59), "gestern um 23:59 Uhr"),
        ("de", datetime(2025, 11, 23, 8, 0), "am Sonntag um 8:00 Uhr"),
        ("de-CH", datetime(2025, 3, 2, 17, 45), "am 2. März um 17:45 Uhr"),
        ("fr", datetime(2025, 11, 27, 12, 30), "at 12:30 PM"),  # no French: English
    ],
)
async def test_spoken_time(
    hass: HomeAssistant, language: str, moment: datetime, spoken: str
) -> None:
    await hass.config.async_set_time_zone("America/New_York")
    now = datetime(2025, 11, 27, 20, 0, tzinfo=NEW_YORK)
    say = await async_phrases(hass, language)
    assert spoken_time(moment.replace(tzinfo=NEW_YORK).timestamp(), now, say) == spoken


async def test_describe_long_gaps_and_names(hass: HomeAssistant) -> None:
    await hass.config.async_set_time_zone("America/New_York")
    now = datetime(2025, 11, 27, 20, 0, tzinfo=NEW_YORK)
    ring = datetime(2025, 11, 27, 19, 0, tzinfo=NEW_YORK).timestamp()
    say = await async_phrases(hass, "en")
    visit = Visit("front door", ring, ring - 60, snapshot=False)
    assert describe(visit, who=False, now=now, say=say) == (
        "front door rang at 7:00 PM; motion was seen 1 minute before."
    )
    assert describe(Visit("NE porch", ring, None, False), who=False, now=now, say=say) == (
        "NE porch rang at 7:00 PM."
    )
    visit = Visit("Haustür", ring, ring - 300, snapshot=True)
    assert describe(visit, who=True, now=now, say=await async_phrases(hass, "de")) == (
        "Haustür: Jemand hat um 19:00 Uhr geklingelt; 5 Minuten vorher wurde eine Bewegung"
        " erkannt. Ein Schnappschuss des Besuchers ist verfügbar."
    )


async def test_answers_name_the_camera_as_home_assistant_shows_it(
    hass: HomeAssistant,
    assist: FakeAddon,
    mock_config_entry: MockConfigEntry,
    device_registry: dr.DeviceRegistry,
    entity_registry: er.EntityRegistry,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The user's name for the device, capitals and all, in English and in German."""
    device = device_registry.async_get_device_by_identifier(
        (DOMAIN, f"{assist.instance_id}_front_door"), mock_config_entry.entry_id
    )
    assert device is not None
    device_registry.async_update_device(device.id, name_by_user="Front Door")
    await hass.async_block_till_done()
    ring = assist.ring()
    data = mock_config_entry.runtime_data
    await wait_for_state(hass, lambda: data.cameras["front_door"]["last_ring"] == ring["time"])
    monkeypatch.setattr(voice, "now", lambda: datetime(2025, 11, 27, 18, 0, tzinfo=NEW_YORK))
    assert await ask(hass, WHEN) == "Front Door rang at 2:00 PM."
    assert await ask(hass, WHO) == (
        "Someone rang Front Door at 2:00 PM. There is no snapshot of the visitor."
    )
    assert await ask(hass, "Wann hat es zuletzt geklingelt?", "de") == (
        "Front Door: Es hat um 14:00 Uhr geklingelt."
    )
    assert await ask(hass, "Wer war an der Haustür?", "de") == (
        "Front Door: Jemand hat um 14:00 Uhr geklingelt. Es gibt keinen Schnappschuss des"
        " Besuchers."
    )
    # English sentences in a German conversation: the answer follows the conversation.
    assert await ask(hass, WHEN, "de") == "Front Door: Es hat um 14:00 Uhr geklingelt."
    # Without its camera entity (disabled by the user) the camera is the add-on's title.
    camera = entity_registry.async_get_entity_id(
        "camera", DOMAIN, f"{assist.instance_id}_front_door_camera"
    )
    assert camera is not None
    entity_registry.async_update_entity(camera, disabled_by=er.RegistryEntryDisabler.USER)
    await hass.config_entries.async_reload(mock_config_entry.entry_id)
    await wait_for_state(hass, lambda: assist.subscriber_count == 1)
    assert await ask(hass, WHEN) == "Front door rang at 2:00 PM."


async def test_never_rang_in_german(hass: HomeAssistant, assist: FakeAddon) -> None:
    assert await ask(hass, "wann hat die Klingel zuletzt geklingelt", "de") == (
        "Es hat noch nicht geklingelt."
    )
    assert await ask(hass, "wer hat geklingelt", "de") == "Es hat noch niemand geklingelt."


@pytest.mark.parametrize(
    ("language", "canonical", "asked"),
    [
        ("en", WHEN, "When did the front door ring?"),
        ("en", WHEN, "when did the door last ring"),
        ("en", WHO, "Who rang the front door?"),
        ("en", WHO, "who rang at the door"),
        ("de", "wann hat es zuletzt geklingelt", "Wann hat die Haustür geklingelt?"),
        ("de", "wann hat es zuletzt geklingelt", "wann hat die Tür zuletzt geklingelt"),
    ],
)
async def test_the_door_itself_may_ring(
    hass: HomeAssistant, assist: FakeAddon, language: str, canonical: str, asked: str
) -> None:
    """People say the door rang ("When did the front door ring?"), not only the bell."""
    assert await ask(hass, asked, language) == await ask(hass, canonical, language)


def test_every_answer_language_has_every_phrase() -> None:
    """The translations of each built-in language have every English key (no English
    words in a German answer), and the same placeholders."""
    folder = Path(voice.__file__).parent / "translations"
    english = voice_phrases(folder / "en.json")
    assert "de" in ANSWER_LANGUAGES
    for language in ANSWER_LANGUAGES:
        phrases = voice_phrases(folder / f"{language}.json")
        assert phrases.keys() == english.keys(), language
        for key, text in phrases.items():
            assert placeholders(text) == placeholders(english[key]), (language, key)


def voice_phrases(path: Path) -> dict[str, str]:
    common: dict[str, str] = json.loads(path.read_text())["common"]
    # hassfest allows `common` only as slug keys with string values.
    assert all(re.fullmatch(r"[a-z0-9_]+", key) and isinstance(v, str) for key, v in common.items())
    return {key: text for key, text in common.items() if key.startswith("voice_")}


def placeholders(text: str) -> set[str]:
    return {field for _, field, _, _ in Formatter().parse(text) if field}
