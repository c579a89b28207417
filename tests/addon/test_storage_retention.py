"""Retention: oldest first, protected clips last with a warning, age never deletes protected."""

from __future__ import annotations

import asyncio
import dataclasses
from pathlib import Path
import time

import pytest

from porchlight_edge.config import parse_options
from porchlight_edge.protocol import EventType, StorageReason
from porchlight_edge.recorder.ids import new_id
from porchlight_edge.recorder.index import ClipRecord, ClipState
from porchlight_edge.recorder.notices import NoticeType as T, RecordingNotice
from porchlight_edge.recorder.retention import DAY, RetentionPolicy, plan_retention
from porchlight_edge.recorder.storage import ClipStore, StoreSettings
from porchlight_edge.service import Service
from tests.addon.conftest import opened_store
from tests.helpers.recording_client import options
from tests.helpers.waiting import wait_until

NOW = 2_000_000_000.0


def _clip(start: float, size: int, protected: bool = False) -> ClipRecord:
    cid = new_id()
    return ClipRecord(
        cid,
        "front",
        start,
        start + 10,
        f"{cid}.mp4",
        size,
        protected,
        ClipState.COMPLETE,
        "passthrough",
        None,
    )


def test_plan_deletes_old_unprotected_then_protected_for_size() -> None:
    old = _clip(NOW - 40 * DAY, 100)
    old_protected = _clip(NOW - 50 * DAY, 100, protected=True)
    a, b, c = _clip(NOW - 3 * DAY, 100), _clip(NOW - 2 * DAY, 100), _clip(NOW - DAY, 100)
    p = _clip(NOW - 5 * DAY, 100, protected=True)
    clips = [c, p, a, old, b, old_protected]
    policy = RetentionPolicy(max_age_days=30, max_total_bytes=150, min_free_bytes=0)
    plan = plan_retention(clips, policy, NOW, free_bytes=10**9)
    assert not plan.unreachable
    order = [(d.clip.id, d.reason) for d in plan.deletions]
    assert order[0] == (old.id, "max_age")
    # Then size: unprotected oldest first (a, b, c), then protected oldest first.
    assert [cid for cid, _ in order[1:]] == [a.id, b.id, c.id, old_protected.id]
    assert all(reason == "max_size" for _, reason in order[1:])
    # p survives: 100 bytes fit in the budget.
    assert p.id not in {cid for cid, _ in order}


def test_plan_min_free_space() -> None:
    a, b = _clip(NOW - 2 * DAY, 300), _clip(NOW - DAY, 300)
    policy = RetentionPolicy(max_age_days=None, min_free_bytes=1000)
    plan = plan_retention([b, a], policy, NOW, free_bytes=800)
    assert [(d.clip.id, d.reason) for d in plan.deletions] == [(a.id, "min_free")]


def test_plan_deletes_nothing_for_a_limit_no_deletion_can_meet() -> None:
    """A disk smaller than min_free: deleting every clip would still miss it."""
    a, b = _clip(NOW - 2 * DAY, 300), _clip(NOW - DAY, 300, protected=True)
    policy = RetentionPolicy(max_age_days=None, min_free_bytes=10_000)
    plan = plan_retention([b, a], policy, NOW, free_bytes=800)
    assert plan.deletions == []
    assert plan.unreachable
    # Snapshots and exports alone over the size limit: the same.
    policy = RetentionPolicy(max_age_days=None, max_total_bytes=500, min_free_bytes=0)
    plan = plan_retention([b, a], policy, NOW, free_bytes=10**9, other_bytes=600)
    assert plan.deletions == []
    assert plan.unreachable
    # ...while snapshots that fit leave less room for clips.
    plan = plan_retention([b, a], policy, NOW, free_bytes=10**9, other_bytes=250)
    assert [d.clip.id for d in plan.deletions] == [a.id, b.id]
    plan = plan_retention([b, a], policy, NOW, free_bytes=10**9, other_bytes=0)
    assert [d.clip.id for d in plan.deletions] == [a.id]


def test_invalid_policy_rejected() -> None:
    with pytest.raises(ValueError, match="max_age_days"):
        RetentionPolicy(max_age_days=0)


async def test_store_warns_before_deleting_a_protected_clip(tmp_path: Path) -> None:
    events: list[RecordingNotice] = []
    settings = StoreSettings(
        retention=RetentionPolicy(max_age_days=30, max_total_bytes=1500, min_free_bytes=0),
        monitor=False,
        protected_grace=3600.0,
    )
    async with opened_store(tmp_path / "rec", settings, events.append) as store:
        made = []
        for i, protected in enumerate([True, False, False, True]):
            clip = _clip(NOW - (10 - i) * DAY, 1000, protected)
            store.clip_path(clip.id).write_bytes(b"x" * 1000)
            store.index.adopt_clip(clip)
            made.append(clip)
        assert await store.set_protected(made[3].id, True)
        deleted = await store.apply_retention(now=NOW)
        # Events come from the worker thread through the loop.
        await wait_until(lambda: any(e.type is T.RETENTION_WARNING for e in events))
        # 4000 bytes > 1500: both unprotected go at once; the oldest protected one is
        # only announced (old code: deleted in the same breath, warning with no id).
        assert deleted == [made[1].id, made[2].id]
        (warning,) = [e for e in events if e.type is T.RETENTION_WARNING]
        assert warning.data["clip_id"] == made[0].id
        assert warning.data["reason"] == "max_size"
        assert warning.data["delete_after"] == NOW + 3600.0
        assert store.clip_path(made[0].id).exists()
        # Within the grace: announced once, kept.
        assert await store.apply_retention(now=NOW) == []
        assert sum(e.type is T.RETENTION_WARNING for e in events) == 1
        # After the grace, and still over the limit: deleted, after its warning.
        store.settings = dataclasses.replace(settings, protected_grace=0.0)
        assert await store.apply_retention(now=NOW) == [made[0].id]
        await wait_until(lambda: sum(e.type is T.CLIP_DELETED for e in events) == 3)
        kinds = [(e.type, e.data.get("clip_id")) for e in events]
        assert kinds.index((T.CLIP_DELETED, made[0].id)) > kinds.index(
            (T.RETENTION_WARNING, made[0].id)
        )
        assert (T.RETENTION_WARNING, made[1].id) not in kinds
        assert store.clip_path(made[3].id).exists()
        assert [c.id for c in store.index.all_clips()] == [made[3].id]


async def test_small_disk_keeps_every_clip_and_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """min_free_bytes larger than the disk: old code deleted every clip, protected too,
    while reporting recording as fine."""
    events: list[RecordingNotice] = []
    monkeypatch.setattr(ClipStore, "free_bytes", lambda self: 100 * 1024 * 1024)
    settings = StoreSettings(
        retention=RetentionPolicy(min_free_bytes=512 * 1024 * 1024),
        pause_free_bytes=1024,
        resume_free_bytes=2048,
        monitor=False,
        protected_grace=0.0,
    )
    async with opened_store(tmp_path / "rec", settings, events.append) as store:
        made = []
        for i, protected in enumerate([False, True, False]):
            clip = _clip(time.time() - (3 - i) * 60, 1000, protected)
            store.clip_path(clip.id).write_bytes(b"x" * 1000)
            store.index.adopt_clip(clip)
            made.append(clip)
        for _ in range(2):
            await asyncio.to_thread(store.check_space_sync)
        assert sorted(c.id for c in store.index.all_clips()) == sorted(c.id for c in made)
        assert store.paused
        assert store.pause_reason is StorageReason.LIMITS_UNREACHABLE
        await wait_until(lambda: any(e.type is T.STORAGE_STATUS for e in events))
        status = [e.data for e in events if e.type is T.STORAGE_STATUS][-1]
        assert status["recording"] is False
        assert status["reason"] == "limits_unreachable"
        assert not [e for e in events if e.type is T.CLIP_DELETED]
        # Limits that fit the disk again: recording resumes.
        store.settings = dataclasses.replace(
            settings, retention=RetentionPolicy(min_free_bytes=1024)
        )
        await asyncio.to_thread(store.check_space_sync)
        assert not store.paused


async def test_service_publishes_the_warned_clip_id(tmp_path: Path) -> None:
    """The store's warning reaches the protocol event with its clip id (old code: null)."""
    video = tmp_path / "unused.mp4"  # never played: the service is not started
    video.write_bytes(b"")
    service = Service(parse_options(options(tmp_path, video), tmp_path / "data"))
    store = service.store
    store.settings = StoreSettings(
        retention=RetentionPolicy(max_age_days=None, max_total_bytes=500, min_free_bytes=0),
        monitor=False,
    )
    await store.open()
    try:
        clip = _clip(NOW - DAY, 1000, protected=True)
        store.clip_path(clip.id).write_bytes(b"x" * 1000)
        store.index.adopt_clip(clip)
        assert await store.apply_retention(now=NOW) == []

        def warnings() -> list[dict[str, object]]:
            history = service.bus.history()
            return [e["data"] for e in history if e["event"] == EventType.RETENTION_WARNING]

        await wait_until(lambda: bool(warnings()), 5, "the retention_warning event")
        assert warnings() == [
            {"clip_id": clip.id, "reason": "max_size", "delete_after": NOW + 3600.0}
        ]
        assert store.clip_path(clip.id).exists()
    finally:
        await store.close()
        service.audit.close()
