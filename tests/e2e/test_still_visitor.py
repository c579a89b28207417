"""A visitor who rings and then stands still for a minute, through the real add-on and
Home Assistant: the motion sensor stays on for the whole wait.

The demo runs as fast as it can (`realtime: false`): the add-on judges time by the
frames' timestamps, so a minute of scene time takes a few seconds here.
"""

from __future__ import annotations

from collections.abc import Iterator
import itertools
from pathlib import Path

from homeassistant.const import STATE_OFF, STATE_ON
from homeassistant.core import Event, EventStateChangedData, HomeAssistant, callback
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.event import async_track_state_change_event
import pytest

from tests.helpers.waiting import wait_until

from .addon_process import AddonProcess
from .entries import entry_for, setup_entry, unload_entry

pytestmark = [pytest.mark.e2e, pytest.mark.enable_socket]

WAIT_SECONDS = 60.0
OPTIONS = {
    "cameras": [
        {
            "name": "front_door",
            "source": "demo",
            "realtime": False,
            "demo": {
                "width": 320,
                "height": 180,
                "variant": "waiting",
                # Short empty spells so several visits pass quickly; the wait stays 60 s.
                "phases": {
                    "empty_before": 3,
                    "walk_in": 3,
                    "press": 1,
                    "leave": 3,
                    "empty_after": 4,
                },
            },
            "motion": {"off_seconds": 1.5},
            "recording": {"enabled": False},
        }
    ]
}


@pytest.fixture
def addon(tmp_path: Path) -> Iterator[AddonProcess]:
    process = AddonProcess(tmp_path / "addon", OPTIONS)
    process.start()
    yield process
    process.stop()


async def test_motion_stays_on_while_the_visitor_waits(
    hass: HomeAssistant, addon: AddonProcess
) -> None:
    entry = entry_for(addon)
    await setup_entry(hass, entry)
    registry = er.async_get(hass)
    prefix = f"{entry.unique_id}_front_door_"
    motion = registry.async_get_entity_id("binary_sensor", "porchlight", f"{prefix}motion")
    doorbell = registry.async_get_entity_id("event", "porchlight", f"{prefix}doorbell")
    assert motion is not None
    assert doorbell is not None

    timeline: list[str] = []

    @callback
    def seen(event: Event[EventStateChangedData]) -> None:
        new, old = event.data["new_state"], event.data["old_state"]
        if new is None:
            return
        if event.data["entity_id"] == doorbell:
            if old is not None and new.state != old.state:
                timeline.append("ring")
        elif new.state in (STATE_ON, STATE_OFF) and (old is None or old.state != new.state):
            timeline.append(new.state)

    unsub = async_track_state_change_event(hass, [motion, doorbell], seen)
    # Three rings = two whole visits between them (each about 73 s of scene time).
    await wait_until(lambda: timeline.count("ring") >= 3, 120, "three visits")
    unsub()
    await unload_entry(hass, entry)

    rings = [i for i, item in enumerate(timeline) if item == "ring"]
    for a, b in itertools.pairwise(rings[:3]):
        between = [item for item in timeline[a + 1 : b] if item != "ring"]
        # Motion goes off once (the visitor left) and on once (the next one arrives);
        # an engine that absorbs the still visitor turns it off and on again mid-wait.
        assert between == [STATE_OFF, STATE_ON], timeline
