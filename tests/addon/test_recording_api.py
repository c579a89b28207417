"""Recording, privacy and audit through the real API: a service on a socket, real H.264."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
import hashlib
from pathlib import Path
from typing import Any

import aiohttp
import av
import cv2
import numpy as np
import pytest

from porchlight_edge.config import parse_options
from porchlight_edge.protocol import EventType
from porchlight_edge.service import Service
from tests.helpers.recording_client import AUTH, TOKEN, Client, options, video
from tests.helpers.waiting import wait_until

__all__ = ["video"]  # the module-scoped fixture


async def start(tmp_path: Path, raw: dict[str, Any]) -> Service:
    service = Service(parse_options(raw, tmp_path / "data"))
    await service.start()
    await wait_until(
        lambda: service.cameras["porch"].last_frame is not None, 5, "a frame from the file camera"
    )
    return service


@pytest.fixture
async def service(tmp_path: Path, video: Path) -> AsyncIterator[Service]:
    svc = await start(tmp_path, options(tmp_path, video))
    yield svc
    await svc.stop()


async def test_ring_records_clip_served_with_range_requests(
    service: Service, session: aiohttp.ClientSession, tmp_path: Path
) -> None:
    await asyncio.sleep(2.5)  # let the pre-roll fill
    async with Client(session, service) as client:
        ring_seq = (await client.ok("ring"))["seq"]
        finished = await client.wait_event(EventType.CLIP_FINISHED)
        clip_id = finished["data"]["clip_id"]
        assert f"{service.bus.boot_id}:{ring_seq}" in finished["data"]["events"]
        clips = (await client.ok("list_clips", camera="porch"))["clips"]
        # The looping file may have started a new segment, listed while it records.
        assert [c["id"] for c in clips if c["state"] != "recording"] == [clip_id]
        clip = next(c for c in clips if c["id"] == clip_id)
        assert "ring" in [e["kind"] for e in clip["events"]]
        events = (await client.ok("list_events", kind="ring"))["events"]
        assert events[0]["clip_id"] == clip_id

        url = client.url(f"/api/clips/{clip_id}.mp4")
        async with session.get(url, headers=AUTH) as resp:
            assert resp.status == 200
            assert resp.headers["Accept-Ranges"] == "bytes"
            body = await resp.read()
        async with session.get(url, headers={**AUTH, "Range": "bytes=100-199"}) as resp:
            assert resp.status == 206
            assert resp.headers["Content-Range"] == f"bytes 100-199/{len(body)}"
            assert await resp.read() == body[100:200]

    saved = tmp_path / "clip.mp4"
    saved.write_bytes(body)
    with av.open(str(saved)) as container:
        stream = container.streams.video[0]
        times = [float(f.pts * stream.time_base) for f in container.decode(stream)]
    # Pre-roll 2 s (from the keyframe at or before it) + post-roll 1 s.
    assert times[-1] - times[0] >= 2.5


async def test_snapshot_export_delete_and_audit(
    service: Service, session: aiohttp.ClientSession
) -> None:
    async with Client(session, service) as client:
        await client.ok("ring")
        ready = await client.wait_event(EventType.SNAPSHOT_READY, kind="ring")
        headers = {**AUTH, "X-Porchlight-User": "Alice"}
        async with session.get(client.url(ready["data"]["path"]), headers=headers) as resp:
            assert resp.status == 200
            picture = cv2.imdecode(np.frombuffer(await resp.read(), np.uint8), cv2.IMREAD_COLOR)
        assert picture.shape[:2] == (360, 640)

        clip_id = (await client.wait_event(EventType.CLIP_FINISHED))["data"]["clip_id"]
        protected = await client.ok("protect_clip", clip_id=clip_id, protected=True)
        assert protected["protected"] is True
        exported = await client.ok("export_clip", clip_id=clip_id)
        data = Path(exported["path"]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == exported["manifest"]["sha256"]
        assert exported["manifest"]["clip_id"] == clip_id
        async with session.get(client.url(f"/api/clips/{clip_id}.mp4"), headers=headers):
            pass
        async with session.get(client.url("/api/cameras/porch/snapshot.jpg"), headers=AUTH):
            pass
        deleted = await client.ok("delete_clips", clip_ids=[clip_id])
        assert deleted == {"deleted": [clip_id]}
        listed = (await client.ok("list_clips"))["clips"]
        assert [c["id"] for c in listed if c["state"] != "recording"] == []
        await client.wait_event(EventType.CLIP_DELETED, clip_id=clip_id)

        entries = (await client.ok("get_audit_log"))["entries"]
    actions = [e["action"] for e in entries]
    for action in ("snapshot", "clip_protect", "clip_export", "clip_download", "clip_delete"):
        assert action in actions, actions
    download = next(e for e in entries if e["action"] == "clip_download")
    assert download["detail"] == {"user": "Alice"}
    assert download["address"] == "127.0.0.1"
    assert download["target"] == clip_id
    delete = next(e for e in entries if e["action"] == "clip_delete")
    assert delete["client_id"] == "pytest"
    assert TOKEN not in str(entries)


@pytest.mark.parametrize(
    "path",
    [
        "/api/clips/..%2F..%2Findex.db.mp4",
        "/api/clips/not-a-clip.mp4",
        "/api/events/..%2Findex.db/snapshot.jpg",
        "/api/events/a%20b/snapshot.jpg",
    ],
)
async def test_traversal_and_malformed_ids_rejected(
    service: Service, session: aiohttp.ClientSession, path: str
) -> None:
    url = f"http://127.0.0.1:{service.port}{path}"
    async with session.get(url, headers=AUTH) as resp:
        assert resp.status in (400, 404)
        assert (await resp.json())["error"]["code"] in ("invalid_args", "not_found")


async def test_bad_clip_ids_in_commands(service: Service, session: aiohttp.ClientSession) -> None:
    async with Client(session, service) as client:
        for command, args in (
            ("protect_clip", {"clip_id": "../../index.db", "protected": True}),
            ("export_clip", {"clip_id": "x"}),
            ("delete_clips", {"clip_ids": ["../a"]}),
            ("delete_clips", {}),
            ("list_events", {"limit": 0}),
            ("record_clip", {"seconds": 0}),
        ):
            reply = await client.call(command, **args)
            assert reply["error"]["code"] == "invalid_args", (command, reply)
        missing = await client.call("export_clip", clip_id="00000000-0000-4000-8000-000000000000")
        assert missing["error"]["code"] == "not_found"


async def test_privacy_mode_turns_the_lens_off(
    service: Service, session: aiohttp.ClientSession
) -> None:
    camera = service.cameras["porch"]
    async with Client(session, service) as client:
        assert await client.ok("set_privacy_mode", camera="porch", enabled=True) == {
            "privacy_mode": True
        }
        state = await client.wait_event(EventType.CAMERA_STATE)
        assert state["data"]["privacy_mode"] is True
        frames = camera.frames
        await asyncio.sleep(0.5)
        assert camera.frames == frames  # capture stopped
        async with session.get(client.url("/api/cameras/porch/snapshot.jpg"), headers=AUTH) as r:
            assert r.status == 503
            assert "privacy" in (await r.json())["error"]["message"]
        assert (await client.call("ring"))["success"]  # the bell still rings...
        assert camera.recorder.recording is None  # ...but nothing is recorded
        assert (await client.call("take_snapshot"))["error"]["code"] == "unavailable"
        await client.ok("set_privacy_mode", camera="porch", enabled=False)
        await client.wait_event(EventType.CAMERA_STATUS, status="online")
        entries = (await client.ok("get_audit_log", action="privacy_mode"))["entries"]
    assert [e["detail"]["enabled"] for e in entries] == [False, True]


async def test_privacy_mask_blacks_out_live_view(
    tmp_path: Path, video: Path, session: aiohttp.ClientSession
) -> None:
    left_half = [[0, 0], [0.5, 0], [0.5, 1], [0, 1]]
    svc = await start(tmp_path, options(tmp_path, video, privacy_masks=[left_half]))
    try:
        url = f"http://127.0.0.1:{svc.port}/api/cameras/porch/snapshot.jpg"
        async with session.get(url, headers=AUTH) as resp:
            picture = cv2.imdecode(np.frombuffer(await resp.read(), np.uint8), cv2.IMREAD_COLOR)
    finally:
        await svc.stop()
    width = picture.shape[1]
    assert picture[:, : width // 2 - 8].max() <= 24  # black, up to JPEG ringing
    assert picture[:, width // 2 + 8 :].mean() > 40


async def test_settings_survive_a_restart(
    tmp_path: Path, video: Path, session: aiohttp.ClientSession
) -> None:
    svc = await start(tmp_path, options(tmp_path, video))
    async with Client(session, svc) as client:
        result = await client.ok("set_recording_settings", camera="porch", pre_roll=3, post_roll=4)
        assert result == {"enabled": True, "pre_roll": 3.0, "post_roll": 4.0}
        bad = await client.call("set_recording_settings", camera="porch", pre_roll=99)
        assert bad["error"]["code"] == "invalid_args"
        storage = await client.ok("get_storage")
        assert storage["free_bytes"] > 0
        assert storage["paused"] is False
    await svc.stop()
    svc = await start(tmp_path, options(tmp_path, video))
    try:
        assert svc.cameras["porch"].recording_settings()["pre_roll"] == 3.0
        assert svc.cameras["porch"].recorder.settings.postroll == 4.0
    finally:
        await svc.stop()


async def test_audit_log_retention_runs_at_start(tmp_path: Path, video: Path) -> None:
    from porchlight_edge.audit import AuditAction, AuditLog

    data = tmp_path / "data"
    data.mkdir()
    old = AuditLog(data / "audit.db", retention_days=30)
    old.record(AuditAction.SNAPSHOT, client_id="x", address="127.0.0.1", at=1.0)
    old.record(AuditAction.SNAPSHOT, client_id="x", address="127.0.0.1")
    old.close()
    svc = await start(tmp_path, {**options(tmp_path, video), "audit_retention_days": 30})
    try:
        await wait_until(lambda: svc.audit.query().total == 1, 2.5, "the audit prune")
        assert [e.time > 1.0 for e in svc.audit.query().items] == [True]
    finally:
        await svc.stop()
