"""Assist: "when did the doorbell last ring?" and "who was at the door?", answered locally.

Home Assistant does not load sentence files shipped inside a custom integration, so the
built-in sentences (English and German) are registered as conversation sentence triggers
(the mechanism behind the `conversation` automation trigger); they run before any intent
matching, also for LLM agents that prefer local handling. Each trigger calls an intent
handler, which is registered by itself too: custom sentences in other languages can use the
intents `PorchlightLastRing` and `PorchlightWhoWasAtDoor` (docs/integration.md).

Answers are in the conversation's language, from the `voice_*` phrases in the `common`
section of the integration's translations (English where there is none), and name the camera as Home
Assistant shows it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final, override

from homeassistant.const import EVENT_COMPONENT_LOADED, Platform
from homeassistant.core import Event, HomeAssistant, callback
from homeassistant.helpers import entity_registry as er, intent, translation
from homeassistant.util import dt as dt_util, language as language_util

from .const import DOMAIN, LOGGER
from .pyporchlight.exceptions import PorchlightError
from .pyporchlight.protocol import EventKind

if TYPE_CHECKING:
    from collections.abc import Mapping
    from datetime import datetime

    from hassil.recognize import RecognizeResult
    from homeassistant.components.conversation import ConversationInput

    from .data import PorchlightData

INTENT_LAST_RING: Final = "PorchlightLastRing"
INTENT_WHO_WAS_AT_DOOR: Final = "PorchlightWhoWasAtDoor"

SENTENCES: Final = {
    "en": {
        INTENT_LAST_RING: [
            "when did [the] [front] door[ ]bell [last] ring",
            "when did [the] [front] door[ ]bell ring last",
            "when did [someone] [last] ring [the] [front] door[ ]bell",
            "when was [the] [front] door[ ]bell last rung",
            "when did someone last ring [at] [the] [front] door",
            # The door itself rings, as people say it.
            "when did [the] [front] door [last] ring",
            "when did [the] [front] door ring last",
        ],
        INTENT_WHO_WAS_AT_DOOR: [
            "who (was|is|came) [at|to] [the] [front] door",
            "who rang [the] [front] [door[ ]]bell",
            "who rang [at] [the] [front] door",
            "who was [at] [the] [front] door [last]",
        ],
    },
    "de": {
        INTENT_LAST_RING: [
            "wann hat es [zuletzt] [an der [Haus|Vorder]tür] geklingelt",
            "wann hat (jemand|wer) [zuletzt] [an der [Haus|Vorder]tür] geklingelt",
            "wann hat [die] [Tür]klingel [zuletzt] geklingelt",
            "wann hat [die] [Haus|Vorder]tür [zuletzt] geklingelt",
        ],
        INTENT_WHO_WAS_AT_DOOR: [
            "wer (war|ist) [gerade|zuletzt] an der [Haus|Vorder]tür",
            "wer hat [gerade|zuletzt] [an der [Haus|Vorder]tür] geklingelt",
        ],
    },
}
"""Built-in sentences by language; the answer's language is the conversation's, not these."""
ANSWER_LANGUAGES: Final = tuple(SENTENCES)
"""Languages with the `voice_*` phrases in translations/ (English is the fallback)."""
MOTION_WINDOW: Final = 600.0
"""Motion up to this many seconds before a ring counts as the visitor approaching."""


@dataclass(frozen=True)
class Visit:
    """The latest ring of all cameras, and what the integration knows around it."""

    name: str
    """The camera as Home Assistant shows it (its camera entity's name)."""
    ring: float
    motion_before: float | None
    snapshot: bool


def async_setup_voice(hass: HomeAssistant) -> None:
    """Register the intents now and the sentences once `conversation` is loaded."""
    intent.async_register(hass, PorchlightIntentHandler(INTENT_LAST_RING))
    intent.async_register(hass, PorchlightIntentHandler(INTENT_WHO_WAS_AT_DOOR))
    if "conversation" in hass.config.components:
        _register_sentences(hass)
        return

    @callback
    def loaded(event: Event[Any]) -> None:
        if event.data.get("component") == "conversation":
            unsubscribe()
            _register_sentences(hass)

    unsubscribe = hass.bus.async_listen(EVENT_COMPONENT_LOADED, loaded)


def _register_sentences(hass: HomeAssistant) -> None:
    # Imported here: the conversation integration (and hassil) is only needed with Assist.
    from homeassistant.components.conversation.agent_manager import (
        get_agent_manager,
    )

    manager = get_agent_manager(hass)
    for intent_type in (INTENT_LAST_RING, INTENT_WHO_WAS_AT_DOOR):
        sentences = [s for by_intent in SENTENCES.values() for s in by_intent[intent_type]]

        async def answer(
            user_input: ConversationInput, _result: RecognizeResult, intent_type: str = intent_type
        ) -> str | None:
            response = await intent.async_handle(
                hass,
                DOMAIN,
                intent_type,
                {},
                user_input.text,
                user_input.context,
                user_input.language,
            )
            speech: str = response.speech.get("plain", {}).get("speech", "")
            return speech

        manager.register_trigger(sentences, answer)
    LOGGER.debug("Registered the Porchlight Assist sentences")


class PorchlightIntentHandler(intent.IntentHandler):
    """Answers from the integration's state and the add-on's event index."""

    def __init__(self, intent_type: str) -> None:
        self.intent_type = intent_type
        self.description = (
            "When the doorbell last rang"
            if intent_type == INTENT_LAST_RING
            else "Who was at the door: the latest ring, motion before it, its snapshot"
        )

    @override
    async def async_handle(self, intent_obj: intent.Intent) -> intent.IntentResponse:
        hass = intent_obj.hass
        visit = await latest_visit(hass)
        phrases = await async_phrases(hass, intent_obj.language or hass.config.language)
        response = intent_obj.create_response()
        response.async_set_speech(
            describe(visit, who=self.intent_type == INTENT_WHO_WAS_AT_DOOR, now=now(), say=phrases)
        )
        return response


class Phrases:
    """The Assist answers of one language, filled in by key.

    `say("rang", name=..., when=...)` is the translation of
    `component.porchlight.common.voice_rang` with its placeholders replaced (`common`: the
    one free-form section hassfest allows in strings.json).
    """

    def __init__(self, translations: Mapping[str, str]) -> None:
        self._translations = translations

    def __call__(self, key: str, **placeholders: object) -> str:
        """The phrase `key` with `placeholders` filled in.

        Raises:
            KeyError: `key` is not in the English translations (other languages fall back
                to English key by key), or the phrase has a placeholder not given.
        """
        return self._translations[f"component.{DOMAIN}.common.voice_{key}"].format_map(placeholders)


async def async_phrases(hass: HomeAssistant, language: str) -> Phrases:
    """The answers in the built-in language closest to `language`, else English.

    `language` is a BCP 47 tag; `de-CH` gets German.
    """
    matches = language_util.matches(language, ANSWER_LANGUAGES)
    chosen = matches[0] if matches else "en"
    return Phrases(await translation.async_get_translations(hass, chosen, "common", [DOMAIN]))


def now() -> datetime:
    """The local time "today" and "yesterday" are relative to (a seam for tests)."""
    return dt_util.now()


async def latest_visit(hass: HomeAssistant) -> Visit | None:
    """The most recent ring over every loaded add-on and camera, None if none ever rang."""
    latest: tuple[float, PorchlightData, str] | None = None
    for entry in hass.config_entries.async_loaded_entries(DOMAIN):
        data: PorchlightData = entry.runtime_data
        for name, camera in data.cameras.items():
            ring = camera.get("last_ring")
            if ring is not None and (latest is None or ring > latest[0]):
                latest = (ring, data, name)
    if latest is None:
        return None
    ring, data, name = latest
    camera = data.cameras[name]
    # What the integration saw live: motion before the ring, the ring's snapshot.
    last_motion = camera.get("last_motion")
    motion = last_motion if last_motion is not None and last_motion <= ring else None
    visitor = data.last_visitor.get(name)
    snapshot = visitor is not None and visitor.time >= ring
    try:
        # The add-on's index also knows what happened before Home Assistant (re)started,
        # and motion that came before the ring even when more motion followed it.
        page = await data.client.list_events(
            camera=name, start=ring - MOTION_WINDOW, end=ring + 1, limit=50
        )
    except PorchlightError as err:
        LOGGER.debug("Answering from the live state only: %s", err)
    else:
        events = page["events"]
        motions = [e["time"] for e in events if e["kind"] == EventKind.MOTION and e["time"] <= ring]
        motion = max(motions, default=motion)
        snapshot = snapshot or any(
            e["kind"] == EventKind.RING and abs(e["time"] - ring) < 1 and e.get("snapshot")
            for e in events
        )
    if motion is not None and ring - motion > MOTION_WINDOW:
        motion = None
    return Visit(shown_name(hass, data, name), ring, motion, snapshot)


def shown_name(hass: HomeAssistant, data: PorchlightData, camera: str) -> str:
    """The camera as Home Assistant shows it, capitals and all.

    That is its camera entity's name (the device's name, or the user's), else the add-on's
    title for it.
    """
    unique_id = f"{data.instance_id}_{camera}_camera"
    entity_id = er.async_get(hass).async_get_entity_id(Platform.CAMERA, DOMAIN, unique_id)
    state = hass.states.get(entity_id) if entity_id is not None else None
    if state is not None:
        return state.name
    return data.cameras[camera]["title"] or camera


def describe(visit: Visit | None, *, who: bool, now: datetime, say: Phrases) -> str:
    """The spoken answer, in the language of `say`."""
    if visit is None:
        return say("nobody_rang") if who else say("never_rang")
    key = "someone_rang" if who else "rang"
    when = spoken_time(visit.ring, now, say)
    if visit.motion_before is None:
        text = say(key, name=visit.name, when=when)
    else:
        gap = spoken_gap(visit.ring - visit.motion_before, say)
        text = say(f"{key}_after_motion", name=visit.name, when=when, gap=gap)
    if who:
        text += " " + (say("snapshot") if visit.snapshot else say("no_snapshot"))
    return text


WEEKDAYS: Final = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def spoken_time(timestamp: float, now: datetime, say: Phrases) -> str:
    """A timestamp as Assist says it, e.g. `at 3:05 PM`, `yesterday at ...`, `on May 4 at ...`.

    The words, their order and the 12- or 24-hour clock are the translation's.
    """
    moment = dt_util.as_local(dt_util.utc_from_timestamp(timestamp))
    # Every language has the same placeholders (Home Assistant checks): a 24-hour
    # language's "am"/"pm" are what follows the time, e.g. German "Uhr".
    twelve = say("hour_cycle") == "12"
    clock = say(
        "clock",
        hour=(moment.hour % 12 or 12) if twelve else moment.hour,
        minute=f"{moment.minute:02d}",
        am_pm=say("am" if moment.hour < 12 else "pm"),
    )
    days = (now.date() - moment.date()).days
    if days == 0:
        return say("today", clock=clock)
    if days == 1:
        return say("yesterday", clock=clock)
    if 1 < days < 7:
        weekday = say(WEEKDAYS[moment.weekday()])
        return say("this_week", weekday=weekday, clock=clock)
    month = say(f"month_{moment.month}")
    return say("earlier", month=month, day=moment.day, clock=clock)


def spoken_gap(seconds: float, say: Phrases) -> str:
    """A duration in seconds as spoken minutes (`less than a minute`, `1 minute`, `5 minutes`)."""
    minutes = round(seconds / 60)
    if minutes < 1:
        return say("gap_under_a_minute")
    return say("gap_one_minute") if minutes == 1 else say("gap_minutes", minutes=minutes)
