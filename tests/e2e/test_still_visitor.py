"""A visitor who rings and then stands still for a minute, through the real add-on and
Home Assistant: the motion sensor and the doorstep zone's occupancy sensor stay on for
the whole wait.

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

from .addon_process import AddonProcess, running_addon
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
            "motion": {
                "off_seconds": 1.5,
                # Where the demo visitor stands, and the sky above the roof.
                "zones": ["doorstep=0.45,0.3 0.75,0.3 0.75,1 0.45,1", "sky=0,0 1,0 1,0.12"],
            },
            "recording": {"enabled": False},
        }
    ]
}


@pytest.fixture
def addon(tmp_path: Path) -> Iterator[AddonProcess]:
    with running_addon(tmp_path / "addon", OPTIONS) as process:
        yield process


async def test_motion_stays_on_while_the_visitor_waits(
    hass: HomeAssistant, addon: AddonProcess
) -> None:
    entry = entry_for(addon)
    await setup_entry(hass, entry)
    registry = er.async_get(hass)
    prefix = f"{entry.unique_id}_front_door_"
    motion = registry.async_get_entity_id("binary_sensor", "porchlight", f"{prefix}motion")
    doorbell = registry.async_get_entity_id("event", "porchlight", f"{prefix}doorbell")
    doorstep = registry.async_get_entity_id(
        "binary_sensor", "porchlight", f"{prefix}zone_doorstep_occupancy"
    )
    sky = registry.async_get_entity_id("binary_sensor", "porchlight", f"{prefix}zone_sky_occupancy")
    assert doorstep is not None
    assert sky is not None
    assert motion is not None
    assert doorbell is not None

    timeline: list[str] = []
    zone_timeline: list[str] = []
    sky_states: set[str] = set()

    @callback
    def seen(event: Event[EventStateChangedData]) -> None:
        new, old = event.data["new_state"], event.data["old_state"]
        if new is None:
            return
        if event.data["entity_id"] == doorbell:
            if old is not None and new.state != old.state:
                timeline.append("ring")
                zone_timeline.append("ring")
        elif event.data["entity_id"] == doorstep:
            if old is None or old.state != new.state:
                zone_timeline.append(new.state)
        elif event.data["entity_id"] == sky:
            sky_states.add(new.state)
        elif new.state in (STATE_ON, STATE_OFF) and (old is None or old.state != new.state):
            timeline.append(new.state)

    unsub = async_track_state_change_event(hass, [motion, doorbell, doorstep, sky], seen)
    # Three rings = two whole visits between them (each about 73 s of scene time).
    await wait_until(lambda: timeline.count("ring") >= 3, 120, "three visits")
    unsub()
    sky_state = hass.states.get(sky)
    assert sky_state is not None
    assert sky_state.state == STATE_OFF
    await unload_entry(hass, entry)

    rings = [i for i, item in enumerate(timeline) if item == "ring"]
    for a, b in itertools.pairwise(rings[:3]):
        between = [item for item in timeline[a + 1 : b] if item != "ring"]
        # Motion goes off once (the visitor left) and on once (the next one arrives);
        # an engine that absorbs the still visitor turns it off and on again mid-wait.
        assert between == [STATE_OFF, STATE_ON], timeline
    # The doorstep is occupied from arrival to departure, once per visit; nobody in the sky.
    zone_rings = [i for i, item in enumerate(zone_timeline) if item == "ring"]
    for a, b in itertools.pairwise(zone_rings[:3]):
        between = [item for item in zone_timeline[a + 1 : b] if item != "ring"]
        assert between == [STATE_OFF, STATE_ON], zone_timeline
    assert STATE_ON not in sky_states
