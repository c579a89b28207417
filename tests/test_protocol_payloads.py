"""Every event and command result has a TypedDict in protocol.py, and the recorded
protocol 1.0 payloads (tests/fixtures/protocol_v1) fit them: a field a 1.0 add-on left
out must be NotRequired, so the newer integration reads it with `.get()`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from porchlight_edge.protocol import COMMAND_RESULTS, EVENT_DATA, Command, EventType
from tests.helpers.payloads import problems

FIXTURES = Path(__file__).parent / "fixtures" / "protocol_v1"


def recorded(name: str) -> Any:
    return json.loads((FIXTURES / f"{name}.json").read_text())


def test_every_event_and_command_has_a_shape() -> None:
    assert set(EVENT_DATA) == set(EventType)
    assert set(COMMAND_RESULTS) == set(Command)


@pytest.mark.parametrize("event", sorted(recorded("events")))
def test_recorded_1_0_event_fits_its_shape(event: str) -> None:
    message = recorded("events")[event]
    # complete: the 1.0 add-on sent nothing the shapes leave untyped.
    assert problems(EVENT_DATA[EventType(event)], message["data"], complete=True) == []


@pytest.mark.parametrize(
    "step", [s for s in recorded("results") if s["reply"]["success"]], ids=lambda s: s["command"]
)
def test_recorded_1_0_result_fits_its_shape(step: dict[str, Any]) -> None:
    shape = COMMAND_RESULTS[Command(step["command"])]
    assert problems(shape, step["reply"]["result"], complete=True) == []


def test_a_field_an_older_peer_leaves_out_must_be_not_required() -> None:
    state = recorded("results")[1]["reply"]["result"]
    camera = dict(state["cameras"][0])
    # Add-ons before storage status / recording settings / zones left these out.
    del camera["recording"], camera["zones"]
    older = {**{k: v for k, v in state.items() if k != "storage"}, "cameras": [camera]}
    assert problems(COMMAND_RESULTS[Command.GET_STATE], older, complete=True) == []
    # The checker can fail: a required field missing is found.
    del camera["motion_settings"]
    assert problems(COMMAND_RESULTS[Command.GET_STATE], older, complete=True) == [
        ".cameras[0].motion_settings missing (CameraState)"
    ]
