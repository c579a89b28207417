"""Assist: "when did the doorbell last ring?" and "who was at the door?", answered locally.

Home Assistant does not load sentence files shipped inside a custom integration, so the
English sentences are registered as conversation sentence triggers (the mechanism behind
the `conversation` automation trigger); they run before any intent matching, also for
LLM agents that prefer local handling. Each trigger calls an intent handler, which is
registered by itself too: custom sentences in other languages can use the intents
`PorchlightLastRing` and `PorchlightWhoWasAtDoor` (docs/integration.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final, override

from homeassistant.const import EVENT_COMPONENT_LOADED
from homeassistant.core import Event, HomeAssistant, callback
from homeassistant.helpers import intent
from homeassistant.util import dt as dt_util

from .const import DOMAIN, LOGGER
from .pyporchlight.exceptions import PorchlightError
from .pyporchlight.protocol import EventKind

if TYPE_CHECKING:
    from datetime import datetime

    from hassil.recognize import RecognizeResult
    from homeassistant.components.conversation import ConversationInput

    from .data import PorchlightData

INTENT_LAST_RING: Final = "PorchlightLastRing"
INTENT_WHO_WAS_AT_DOOR: Final = "PorchlightWhoWasAtDoor"

SENTENCES: Final = {
    INTENT_LAST_RING: [
        "when did [the] [front] door[ ]bell [last] ring",
        "when did [the] [front] door[ ]bell ring last",
        "when did [someone] [last] ring [the] [front] door[ ]bell",
        "when was [the] [front] door[ ]bell last rung",
        "when did someone last ring [at] [the] [front] door",
    ],
    INTENT_WHO_WAS_AT_DOOR: [
        "who (was|is|came) [at|to] [the] [front] door",
        "who rang [the] [front] [door[ ]]bell",
        "who was [at] [the] [front] door [last]",
    ],
}
MOTION_WINDOW: Final = 600.0
"""Motion up to this many seconds before a ring counts as the visitor approaching."""


@dataclass(frozen=True)
class Visit:
    """The latest ring of all cameras, and what the integration knows around it."""

    camera_title: str
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
    for intent_type, sentences in SENTENCES.items():

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
        response = intent_obj.create_response()
        response.async_set_speech(
            describe(visit, who=self.intent_type == INTENT_WHO_WAS_AT_DOOR, now=now())
        )
        return response


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
    return Visit(camera["title"] or name, ring, motion, snapshot)


def describe(visit: Visit | None, *, who: bool, now: datetime) -> str:
    """The spoken answer (English)."""
    if visit is None:
        return "Nobody has rung the doorbell yet." if who else "The doorbell has not rung yet."
    title = visit.camera_title
    place = title[:1].lower() + title[1:] if not title[:2].isupper() else title
    when = spoken_time(visit.ring, now)
    text = f"Someone rang the {place} {when}" if who else f"The {place} rang {when}"
    if visit.motion_before is not None:
        text += f"; motion was seen {spoken_gap(visit.ring - visit.motion_before)} before"
    text += "."
    if who:
        text += (
            " A snapshot of the visitor is available."
            if visit.snapshot
            else " There is no snapshot of the visitor."
        )
    return text


def spoken_time(timestamp: float, now: datetime) -> str:
    """A timestamp as Assist says it: `at 3:05 PM`, `yesterday at ...`, `on May 4 at ...`."""
    moment = dt_util.as_local(dt_util.utc_from_timestamp(timestamp))
    clock = f"{(moment.hour % 12) or 12}:{moment.minute:02d} {'AM' if moment.hour < 12 else 'PM'}"
    days = (now.date() - moment.date()).days
    if days == 0:
        return f"at {clock}"
    if days == 1:
        return f"yesterday at {clock}"
    if 1 < days < 7:
        return f"on {moment:%A} at {clock}"
    return f"on {moment:%B} {moment.day} at {clock}"


def spoken_gap(seconds: float) -> str:
    """A duration in seconds as spoken minutes (`less than a minute`, `1 minute`, `5 minutes`)."""
    minutes = round(seconds / 60)
    if minutes < 1:
        return "less than a minute"
    return "1 minute" if minutes == 1 else f"{minutes} minutes"
