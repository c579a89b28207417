"""Clip and event thumbnails on a real service: small JPEGs of real footage, behind the
token, audited once per viewing, and gone with their clip."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import aiohttp
import cv2
import numpy as np

from porchlight_edge.protocol import CLIP_THUMBNAIL_ROUTE, EVENT_THUMBNAIL_ROUTE, THUMBNAIL_WIDTH
from tests.helpers.service import connect_ws, demo_cameras, loopback_options, running_service, url
from tests.helpers.waiting import wait_until, wait_until_async

TOKEN = "thumb-token-abcdefghijklmnop"
_ids = itertools.count(1)


async def _call(ws: aiohttp.ClientWebSocketResponse, command: str, **args: Any) -> Any:
    message_id = next(_ids)
    await ws.send_json({"message_id": message_id, "command": command, "args": args})
    while True:
        reply: dict[str, Any] = await ws.receive_json(timeout=20)
        if reply.get("type") == "result" and reply["message_id"] == message_id:
            assert reply["success"], reply
            return reply["result"]


def _decode(data: bytes) -> np.ndarray[Any, Any]:
    img = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    assert img is not None
    return img


async def test_thumbnails_of_a_clip_and_its_event(tmp_path: Path) -> None:
    cameras = demo_cameras(640, 360, "front_door")
    cameras[0]["recording"] = {"pre_roll": 1, "post_roll": 1}
    options = loopback_options(TOKEN, cameras)
    auth = {"Authorization": f"Bearer {TOKEN}"}
    async with running_service(options, tmp_path) as service, aiohttp.ClientSession() as session:
        ws, _ = await connect_ws(session, service, TOKEN)
        await wait_until(lambda: service.cameras["front_door"].last_frame is not None, 10)
        made = await _call(ws, "record_clip", camera="front_door", seconds=1)
        clip_id, event_id = made["clip_id"], made["event_id"]
        finished: list[Any] = []

        async def clip_done() -> bool:
            clips = (await _call(ws, "list_clips"))["clips"]
            finished[:] = [c for c in clips if c["id"] == clip_id and c["state"] == "complete"]
            return bool(finished) and finished[0]["events"][0]["snapshot"] is not None

        # the clip is 2-3 s long
        await wait_until_async(clip_done, 20, "the clip finished, with its snapshot")

        clip_url = url(service, CLIP_THUMBNAIL_ROUTE.format(clip_id=clip_id))
        async with session.get(clip_url) as response:
            assert response.status == 401  # pictures need the token
        for _ in range(3):  # one viewing: one audit entry
            async with session.get(clip_url, headers=auth) as response:
                assert response.status == 200
                assert response.content_type == "image/jpeg"
                clip_thumb = _decode(await response.read())
        assert clip_thumb.shape[:2] == (THUMBNAIL_WIDTH * 360 // 640, THUMBNAIL_WIDTH)

        async with session.get(
            url(service, EVENT_THUMBNAIL_ROUTE.format(event_id=event_id)), headers=auth
        ) as r:
            assert r.status == 200
            event_thumb = _decode(await r.read())
        assert event_thumb.shape[1] == THUMBNAIL_WIDTH

        entries = (await _call(ws, "get_audit_log", action="snapshot"))["entries"]
        assert [e["target"] for e in entries].count(clip_id) == 1
        assert [e["target"] for e in entries].count(event_id) == 1

        bad = url(service, "/api/clips/not-a-clip/thumbnail.jpg")
        async with session.get(bad, headers=auth) as response:
            assert response.status == 400
        await _call(ws, "delete_clips", clip_ids=[clip_id])
        async with session.get(clip_url, headers=auth) as response:
            assert response.status == 404  # the cached thumbnail went with its clip
        await ws.close()


async def test_a_clip_still_recording_has_a_thumbnail(tmp_path: Path) -> None:
    cameras = demo_cameras(640, 360, "front_door")
    cameras[0]["recording"] = {"pre_roll": 1, "post_roll": 1}
    auth = {"Authorization": f"Bearer {TOKEN}"}
    options = loopback_options(TOKEN, cameras)
    async with running_service(options, tmp_path) as service, aiohttp.ClientSession() as session:
        ws, _ = await connect_ws(session, service, TOKEN)
        await wait_until(lambda: service.cameras["front_door"].last_frame is not None, 10)
        clip_id = (await _call(ws, "record_clip", camera="front_door", seconds=20))["clip_id"]
        clip_url = url(service, CLIP_THUMBNAIL_ROUTE.format(clip_id=clip_id))

        async def thumbnail() -> bytes | None:
            async with session.get(clip_url, headers=auth) as response:
                return await response.read() if response.status == 200 else None

        # the first fragment is written soon
        thumb = _decode(await wait_until_async(thumbnail, 15, "the recording clip's thumbnail"))
        assert thumb.shape[1] == THUMBNAIL_WIDTH
        clips = (await _call(ws, "list_clips"))["clips"]
        assert [c["state"] for c in clips if c["id"] == clip_id] == ["recording"]
        await ws.close()
