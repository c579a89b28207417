"""A late event journal: nothing it was late with comes back, and what it announced is known.

The worker waits for the journal's rows at most `journal.WAIT_SECONDS` (a stuck disk), then
writes the same rows itself. A journal insert that lands after that (its thread starved or
held) must be skipped: else a clip the worker finished and the user deleted comes back as
`recording`, forever, in `list_clips` (no file behind it, never deletable, never finished).
A clip id `record_clip` returned is known at once to the readers by id (protect_clip,
playing it), as it is to the lists: they wait for the journal too.
Real add-on on a real socket; only the journal's insert is held.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from pathlib import Path
import threading
from typing import Any

import aiohttp
import pytest

from porchlight_edge.protocol import ClipState, EventType
from porchlight_edge.recorder import journal
from porchlight_edge.recorder.index import ClipIndex
from porchlight_edge.recorder.journal import EventJournal
from tests.helpers.holding import held
from tests.helpers.recording_client import TOKEN, porch_served
from tests.helpers.waiting import wait_until

STUCK_SECONDS = 30.0
"""Longest the held journal insert waits for the test (bounded if the test fails)."""


@pytest.fixture
def held_journal(
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[tuple[threading.Event, threading.Event]]:
    """The journal's inserts wait for the test; the worker waits for them only briefly.

    Yields (entered, release): set when the journal is held, and what lets it go on.
    """
    monkeypatch.setattr(journal, "WAIT_SECONDS", 0.5)
    with held(monkeypatch, ClipIndex, "announce", STUCK_SECONDS) as events:
        yield events


async def test_a_late_journal_does_not_bring_back_a_deleted_clip(
    tmp_path: Path,
    porch_h264: Path,
    session: aiohttp.ClientSession,
    held_journal: tuple[threading.Event, threading.Event],
) -> None:
    entered, release = held_journal
    async with porch_served(
        session,
        tmp_path / "data",
        porch_h264,
        motion={"enabled": False},
        recording={"pre_roll": 0, "post_roll": 1},
    ) as (service, client):
        try:
            started = await client.ok("record_clip", camera="porch", seconds=1)
            clip_id, event = started["clip_id"], started["event_id"]
            await wait_until(entered.is_set, 15, "the journal held in the clip's insert")
            # The worker went on without the journal: the clip is written and finished.
            await client.wait_event(EventType.CLIP_FINISHED, timeout=30, clip_id=clip_id)
            assert (await client.ok("delete_clips", clip_ids=[clip_id]))["deleted"] == [clip_id]
        finally:
            release.set()
        await asyncio.to_thread(service.store.journal.close)  # the held insert ran (or not)

        assert service.store.index.get_clip(clip_id) is None
        assert (await client.ok("list_clips"))["clips"] == []
        events = (await client.ok("list_events"))["events"]
        assert [(e["id"], e["clip_id"]) for e in events] == [(event, None)]
        assert ClipState.RECORDING not in {c.state for c in service.store.index.all_clips()}


@pytest.fixture
def released_by_a_reader(
    monkeypatch: pytest.MonkeyPatch, held_journal: tuple[threading.Event, threading.Event]
) -> Iterator[threading.Event]:
    """The held journal goes on once a reader (not the worker) waits for it; yields `waited`.

    The worker waits long (it must not write the rows itself during the test).
    """
    _, release = held_journal
    waited = threading.Event()
    real: Callable[..., bool] = EventJournal.wait

    def watched_wait(self: EventJournal, ticket: int, **kwargs: Any) -> bool:
        if not threading.current_thread().name.startswith("recorder-"):
            waited.set()
        return real(self, ticket, **kwargs)

    monkeypatch.setattr(EventJournal, "wait", watched_wait)
    monkeypatch.setattr(journal, "WAIT_SECONDS", STUCK_SECONDS)

    def release_once_a_reader_waits() -> None:
        if waited.wait(STUCK_SECONDS):
            release.set()

    releaser = threading.Thread(target=release_once_a_reader_waits)
    releaser.start()
    yield waited
    waited.set()
    releaser.join()


@pytest.mark.parametrize("reader", ["protect_clip", "play"])
async def test_a_clip_record_clip_returned_is_known_at_once(
    reader: str,
    tmp_path: Path,
    porch_h264: Path,
    session: aiohttp.ClientSession,
    held_journal: tuple[threading.Event, threading.Event],
    released_by_a_reader: threading.Event,
) -> None:
    entered, _ = held_journal
    async with porch_served(session, tmp_path / "data", porch_h264, motion={"enabled": False}) as (
        service,
        client,
    ):
        clip_id = (await client.ok("record_clip", camera="porch", seconds=1))["clip_id"]
        await wait_until(entered.is_set, 15, "the journal held in the clip's insert")
        if reader == "protect_clip":
            record = await client.ok("protect_clip", clip_id=clip_id, protected=True)
            assert (record["id"], record["protected"]) == (clip_id, True)
        else:
            headers = {"Authorization": f"Bearer {TOKEN}"}
            async with session.get(client.url(f"/api/clips/{clip_id}.mp4"), headers=headers) as r:
                assert r.status in (200, 503), await r.text()  # 503: not one fragment yet
        assert released_by_a_reader.is_set()
        finished = await client.wait_event(EventType.CLIP_FINISHED, timeout=30, clip_id=clip_id)
        assert finished["data"]["clip_id"] == clip_id
        assert service.store.index.get_clip(clip_id) is not None
