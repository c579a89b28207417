"""An event the add-on announced is listed at once (read-your-writes), on a real socket.

A ring reaches Home Assistant first; a user who taps the notification and opens the media
browser lists events straight away. The recorder's worker thread, which writes clips,
snapshots and the index in one queue, may still be busy with earlier work (a slow snapshot
encode, a clip waiting for its keyframe) or, with recording off, never see the event:
`list_events` must list it anyway, with its clip (`recording`), paged and filtered as usual,
and once the worker catches up, once only.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
import threading

import aiohttp
import pytest

from porchlight_edge.protocol import ClipState, EventType
from porchlight_edge.recorder import worker
from porchlight_edge.service import Service
from tests.helpers.footage import make_h264
from tests.helpers.holding import held
from tests.helpers.recording_client import TOKEN, Client
from tests.helpers.service import file_camera, loopback_options, running_service
from tests.helpers.waiting import wait_until

STUCK_SECONDS = 30.0
"""Longest the held snapshot encode waits for the test (bounded if the test fails)."""


@pytest.fixture(scope="module")
def far_keyframes(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """8 s of 320x180 H.264 at 10 fps with one keyframe every 4 s."""
    path = tmp_path_factory.mktemp("far_keyframes") / "porch.mp4"
    return make_h264(path, seconds=8, fps=10, width=320, height=180, gop=40)


@pytest.fixture
def held_snapshots(
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[tuple[threading.Event, threading.Event]]:
    """The worker's snapshot encodes wait (a slow disk or a big picture on a busy machine).

    Yields (entered, release): set when the worker is held, and what lets it go on.
    """
    with held(monkeypatch, worker, "encode_jpeg", STUCK_SECONDS) as events:
        yield events


def event_id(service: Service, seq: int) -> str:
    return f"{service.bus.boot_id}:{seq}"


async def test_a_ring_is_listed_while_the_worker_is_busy(
    tmp_path: Path,
    far_keyframes: Path,
    session: aiohttp.ClientSession,
    held_snapshots: tuple[threading.Event, threading.Event],
) -> None:
    entered, release = held_snapshots
    camera = {
        **file_camera("porch", far_keyframes),
        "motion": {"enabled": False},
        "recording": {"pre_roll": 0, "post_roll": 60},
    }
    options = loopback_options(TOKEN, [camera])
    async with (
        running_service(options, tmp_path / "data") as service,
        Client(session, service) as client,
    ):
        await wait_until(
            lambda: service.cameras["porch"].last_frame is not None, 10, "a frame from the camera"
        )
        try:
            first = event_id(service, (await client.ok("ring"))["seq"])
            await wait_until(entered.is_set, 15, "the worker held in the first ring's snapshot")
            second_seq = (await client.ok("ring"))["seq"]
            second = event_id(service, second_seq)

            # No waiting: the worker is held, the second ring only announced.
            events = (await client.ok("list_events", kind="ring"))["events"]
            assert [e["id"] for e in events] == [second, first]
            clip_id = events[1]["clip_id"]
            assert clip_id is not None
            assert [(e["clip_id"], e["clip_state"]) for e in events] == [
                (clip_id, ClipState.RECORDING),
                (clip_id, ClipState.RECORDING),
            ]
            # Every clip_id of list_events is in list_clips (the protocol's promise).
            clips = (await client.ok("list_clips", camera="porch"))["clips"]
            assert [(c["id"], c["state"]) for c in clips] == [(clip_id, ClipState.RECORDING)]
            # Paging and filters as for any indexed event.
            page = await client.ok("list_events", kind="ring", limit=1)
            assert ([e["id"] for e in page["events"]], page["next_offset"]) == ([second], 1)
            page = await client.ok("list_events", kind="ring", limit=1, offset=1)
            assert ([e["id"] for e in page["events"]], page["next_offset"]) == ([first], None)
            assert (await client.ok("list_events", camera="garden"))["events"] == []
            assert (await client.ok("list_events", kind="motion"))["events"] == []
            before = events[1]["time"] - 1.0
            assert (await client.ok("list_events", end=before))["events"] == []
            assert [e["id"] for e in (await client.ok("list_events", start=before))["events"]] == [
                second,
                first,
            ]
        finally:
            release.set()  # a failed check must not hold the worker until the stop
        await client.wait_event(EventType.SNAPSHOT_READY, event_id=second)
        events = (await client.ok("list_events"))["events"]
        assert [(e["id"], e["clip_id"]) for e in events] == [(second, clip_id), (first, clip_id)]
        assert all(e["snapshot"] for e in events)


async def test_events_are_listed_at_once_with_recording_off(
    tmp_path: Path, porch_h264: Path, session: aiohttp.ClientSession
) -> None:
    camera = {**file_camera("porch", porch_h264), "recording": {"enabled": False}}
    options = loopback_options(TOKEN, [camera])
    async with (
        running_service(options, tmp_path / "data") as service,
        Client(session, service) as client,
    ):
        ring = event_id(service, (await client.ok("ring"))["seq"])
        events = (await client.ok("list_events", kind="ring"))["events"]
        assert [(e["id"], e["clip_id"], e["clip_state"]) for e in events] == [(ring, None, None)]

        # Motion the camera announces is listed the moment it is published, too.
        motion = await client.wait_event(EventType.MOTION, active=True)
        motion_id = event_id(service, motion["seq"])
        listed = (await client.ok("list_events", kind="motion", limit=200))["events"]
        assert motion_id in [e["id"] for e in listed]
        assert (await client.ok("list_events", kind="ring"))["events"] == events
