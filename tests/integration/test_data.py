"""PorchlightData: how events and resyncs change what entities see."""

from __future__ import annotations

from typing import Any, cast

import pytest

from custom_components.porchlight.data import PorchlightData
from custom_components.porchlight.pyporchlight.client import PorchlightClient
from custom_components.porchlight.pyporchlight.protocol import EventMessage, ServerInfo, ServerState

from .fake_addon import make_camera, make_storage

INFO: ServerInfo = {
    "type": "server_info",
    "protocol_version": 1,
    "server_version": "0.1.0",
    "instance_id": "abc",
    "boot_id": "boot-1",
    "name": "Porchlight",
}


def make_data(seq: int, motion: bool) -> PorchlightData:
    camera = make_camera("front_door", "Front door")
    camera["motion"] = motion
    state: ServerState = {
        "instance_id": "abc",
        "boot_id": "boot-1",
        "seq": seq,
        "cameras": [camera],
        "storage": make_storage(),
    }
    return PorchlightData(
        client=cast(PorchlightClient, object()),
        server_info=INFO,
        state=state,
        hub_device_id="hub",
        on_storage_stale=lambda: None,
        on_cameras_removed=lambda _names: None,
        on_auth_failed=lambda: None,
    )


def motion(seq: int, active: bool, boot_id: str = "boot-1") -> EventMessage:
    data: dict[str, Any] = {"active": active, "pts": 0.0, "boxes": [], "area": 1.0, "zones": []}
    return {
        "type": "event",
        "event": "motion",
        "boot_id": boot_id,
        "seq": seq,
        "time": 0.0,
        "camera": "front_door",
        "data": data,
    }


def test_replayed_events_older_than_the_state_do_not_flip_motion() -> None:
    data = make_data(seq=5, motion=False)
    seen: list[bool] = []
    data.async_add_listener("front_door", lambda: seen.append(data.cameras["front_door"]["motion"]))
    events: list[int] = []
    data.async_add_event_listener("front_door", lambda e: events.append(e["seq"]))

    data.handle_event(motion(4, True))  # replayed, already folded into the state
    data.handle_event(motion(5, False))
    assert seen == [False, False]
    data.handle_event(motion(6, True))  # newer than the state
    assert seen == [False, False, True]
    assert events == [4, 5, 6]  # event listeners still get every event


def test_events_of_a_new_boot_always_apply() -> None:
    data = make_data(seq=50, motion=False)
    data.handle_event(motion(1, True, boot_id="boot-2"))
    assert data.cameras["front_door"]["motion"] is True


def test_resync_replaces_state_and_notifies() -> None:
    data = make_data(seq=1, motion=False)
    calls: list[str] = []
    remove = data.async_add_listener("front_door", lambda: calls.append("update"))
    data.handle_state({**data.state, "seq": 9, "cameras": []})
    assert data.cameras == {}
    data.handle_connection(False)
    assert calls == ["update", "update"]
    assert data.connected is False
    remove()
    data.handle_connection(True)
    assert calls == ["update", "update"]


def test_events_and_results_for_unknown_cameras_change_nothing() -> None:
    data = make_data(seq=0, motion=False)
    calls: list[str] = []
    data.async_add_listener("garage", lambda: calls.append("garage"))
    unknown: EventMessage = {**motion(1, True), "camera": "garage"}
    data.handle_event(unknown)  # a camera this entry does not know (yet)
    assert set(data.cameras) == {"front_door"}
    assert calls == ["garage"]  # the event is still passed on to listeners


def test_camera_state_event_for_another_name_is_ignored() -> None:
    data = make_data(seq=0, motion=False)
    other = make_camera("back_door", "Back door")
    event: EventMessage = {**motion(1, True), "event": "camera_state", "data": dict(other)}
    data.handle_event(event)
    assert data.cameras["front_door"]["title"] == "Front door"


def test_runtime_data_is_built_complete() -> None:
    """Nothing is assigned after construction: every collaborator is a required argument."""
    camera = make_camera("front_door", "Front door")
    state: ServerState = {"instance_id": "abc", "boot_id": "b", "seq": 0, "cameras": [camera]}
    with pytest.raises(TypeError, match="hub_device_id"):
        PorchlightData(  # type: ignore[call-arg]
            client=cast(PorchlightClient, object()), server_info=INFO, state=state
        )
    stale: list[str] = []
    removed: list[set[str]] = []
    data = PorchlightData(
        client=cast(PorchlightClient, object()),
        server_info=INFO,
        state=state,
        hub_device_id="hub",
        on_storage_stale=lambda: stale.append("stale"),
        on_cameras_removed=removed.append,
        on_auth_failed=lambda: None,
    )
    clip = {**motion(1, True), "event": "clip_finished", "data": {"clip_id": "x"}}
    data.handle_event(cast(EventMessage, clip))
    assert stale == ["stale"]
    data.handle_state({**state, "cameras": []})
    assert removed == [{"front_door"}]
