"""Retention: oldest first, protected clips last with a warning, age never deletes protected."""

from __future__ import annotations

from pathlib import Path

import pytest

from porchlight_edge.recorder.events import RecordingEvent, RecordingEventType as T
from porchlight_edge.recorder.ids import new_id
from porchlight_edge.recorder.index import ClipRecord, ClipState
from porchlight_edge.recorder.retention import DAY, RetentionPolicy, plan_retention
from porchlight_edge.recorder.storage import ClipStore, StoreSettings
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
    order = [(d.clip.id, d.reason) for d in plan]
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
    assert [(d.clip.id, d.reason) for d in plan] == [(a.id, "min_free")]


def test_invalid_policy_rejected() -> None:
    with pytest.raises(ValueError, match="max_age_days"):
        RetentionPolicy(max_age_days=0)


async def test_store_warns_before_deleting_a_protected_clip(tmp_path: Path) -> None:
    events: list[RecordingEvent] = []
    settings = StoreSettings(
        retention=RetentionPolicy(max_age_days=30, max_total_bytes=1500, min_free_bytes=0),
        monitor=False,
    )
    store = ClipStore(tmp_path / "rec", settings, listener=events.append)
    await store.open()
    try:
        made = []
        for i, protected in enumerate([True, False, False, True]):
            clip = _clip(NOW - (10 - i) * DAY, 1000, protected)
            store.clip_path(clip.id).write_bytes(b"x" * 1000)
            store.index.adopt_clip(clip)
            made.append(clip)
        assert await store.set_protected(made[3].id, True)
        deleted = await store.apply_retention(now=NOW)
        # Events come from the worker thread through the loop.
        await wait_until(lambda: sum(e.type == T.CLIP_DELETED for e in events) == 3)
        # 4000 bytes > 1500: both unprotected go first, then the oldest protected one.
        assert deleted == [made[1].id, made[2].id, made[0].id]
        kinds = [(e.type, e.data.get("clip_id") or e.data["clip"]["id"]) for e in events]
        warn = kinds.index((T.RETENTION_WARNING, made[0].id))
        assert kinds.index((T.CLIP_DELETED, made[0].id)) > warn
        assert (T.RETENTION_WARNING, made[1].id) not in kinds
        assert not store.clip_path(made[0].id).exists()
        assert store.clip_path(made[3].id).exists()
        assert [c.id for c in store.index.all_clips()] == [made[3].id]
    finally:
        await store.close()
