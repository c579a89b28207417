"""The newest ring plays while its clip is still recording (issue 14, item 1).

A real service on a socket records a file camera; while the ring's clip is still being
written, list_clips and list_events both show it as `recording`, and its URL serves the
whole fragments so far: an MP4 that decodes, with Range for seeking, audited like any play.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import av
import pytest

from porchlight_edge.protocol import ClipState, EventType
from porchlight_edge.recordings import NotPlayableYet
from porchlight_edge.service import Service
from tests.helpers.recording_client import AUTH, TOKEN, Client
from tests.helpers.service import file_camera, loopback_options, running_service
from tests.helpers.waiting import wait_until


@pytest.fixture
async def service(tmp_path: Path, porch_h264: Path) -> AsyncIterator[Service]:
    # A long post-roll: the clip is still recording for the whole test.
    camera = {**file_camera("porch", porch_h264), "recording": {"pre_roll": 2, "post_roll": 120}}
    async with running_service(loopback_options(TOKEN, [camera]), tmp_path / "data") as svc:
        yield svc


async def test_a_clip_still_recording_is_listed_and_plays(
    service: Service, session: aiohttp.ClientSession, tmp_path: Path
) -> None:
    async with Client(session, service) as client:
        await wait_until(
            lambda: service.cameras["porch"].recorder.stats()["preroll_packets"] >= 20,
            10,
            "the pre-roll to fill",
        )
        await client.ok("ring")
        started = await client.wait_event(EventType.CLIP_STARTED)
        clip_id = started["data"]["clip_id"]

        clips = (await client.ok("list_clips", camera="porch"))["clips"]
        assert [(c["id"], c["state"]) for c in clips] == [(clip_id, ClipState.RECORDING)]
        # Listed the moment it is announced (the event journal), no waiting on the worker.
        events = (await client.ok("list_events", kind="ring"))["events"]
        assert [(e["clip_id"], e["clip_state"]) for e in events] == [(clip_id, ClipState.RECORDING)]

        def playable() -> bool:
            try:
                service.recordings.clip_media(clip_id)
            except NotPlayableYet:
                return False
            return True

        await wait_until(playable, 10, "the first whole fragment")
        url = client.url(f"/api/clips/{clip_id}.mp4")
        async with session.get(url, headers=AUTH) as resp:
            assert resp.status == 200
            assert resp.headers["Cache-Control"] == "no-store"
            body = await resp.read()
            assert int(resp.headers["Content-Length"]) == len(body)
        # Seeking: a range of the bytes so far; the prefix never changes as the clip grows.
        async with session.get(url, headers={**AUTH, "Range": "bytes=100-199"}) as resp:
            assert resp.status == 206
            first_last, _, total = resp.headers["Content-Range"].partition("/")
            assert first_last == "bytes 100-199"
            assert int(total) >= len(body)
            assert await resp.read() == body[100:200]
        async with session.get(url, headers={**AUTH, "Range": f"bytes={10**9}-"}) as resp:
            assert resp.status == 416
        saved = tmp_path / "growing.mp4"
        saved.write_bytes(body)
        with av.open(str(saved)) as container:
            frames = sum(1 for _ in container.decode(video=0))
        assert frames >= 10  # at least one whole 1 s fragment

        # Still recording, and the plays were audited as one playback.
        record = service.store.index.get_clip(clip_id)
        assert record is not None
        assert record.state is ClipState.RECORDING
        entries = (await client.ok("get_audit_log"))["entries"]
        plays = [e for e in entries if e["action"] == "clip_download" and e["target"] == clip_id]
        assert len(plays) == 1
