"""`kill -9` the real add-on in the middle of a clip: nothing else is lost or corrupted."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import aiohttp
import av
import pytest

from tests.helpers.footage import make_h264

from .addon_process import AddonProcess, running_async

pytestmark = pytest.mark.e2e


class Api:
    def __init__(self, session: aiohttp.ClientSession, addon: AddonProcess) -> None:
        self.session, self.addon = session, addon
        self.base = f"http://127.0.0.1:{addon.port}"
        self.events: list[dict[str, Any]] = []
        self._id = 0

    async def open(self) -> None:
        self.ws = await self.session.ws_connect(f"{self.base}/api/websocket")
        await self.ws.receive_json()
        await self.ws.send_json({"type": "auth", "token": self.addon.token})
        await self.ws.receive_json()
        await self.call("subscribe")

    async def call(self, command: str, **args: Any) -> Any:
        self._id += 1
        await self.ws.send_json({"message_id": self._id, "command": command, "args": args})
        while True:
            msg = await self.ws.receive_json(timeout=30)
            if msg["type"] == "event":
                self.events.append(msg)
            elif msg["message_id"] == self._id:
                assert msg["success"], msg
                return msg["result"]

    async def wait_event(self, name: str) -> dict[str, Any]:
        while True:
            for event in self.events:
                if event["event"] == name:
                    self.events.remove(event)
                    return event
            msg = await self.ws.receive_json(timeout=30)
            if msg["type"] == "event":
                self.events.append(msg)

    async def download(self, clip_id: str, dest: Path) -> Path:
        headers = {"Authorization": f"Bearer {self.addon.token}"}
        async with self.session.get(f"{self.base}/api/clips/{clip_id}.mp4", headers=headers) as r:
            assert r.status == 200
            dest.write_bytes(await r.read())
        return dest


def decoded_frames(path: Path) -> int:
    with av.open(str(path)) as container:
        return sum(1 for _ in container.decode(video=0))


async def test_kill_mid_clip_keeps_index_and_other_clips(tmp_path: Path) -> None:
    video = make_h264(tmp_path / "cam.mp4", seconds=4, fps=10, width=640, height=360, gop=10)
    options = {
        "cameras": [
            {
                "name": "porch",
                "source": "file",
                "path": str(video),
                "loop": True,
                "motion": {"enabled": False},
                "recording": {"pre_roll": 1, "post_roll": 1},
            }
        ]
    }
    addon = AddonProcess(tmp_path / "addon", options)
    async with running_async(addon):
        async with aiohttp.ClientSession() as session:
            api = Api(session, addon)
            await api.open()
            await asyncio.sleep(1.5)
            await api.call("ring")
            done = (await api.wait_event("clip_finished"))["data"]["clip_id"]
            await api.call("set_recording_settings", camera="porch", post_roll=120)
            api.events.clear()
            await api.call("ring")
            cut = (await api.wait_event("clip_started"))["data"]["clip_id"]
            await asyncio.sleep(2)  # some fragments of the second clip reach the disk
            await api.ws.close()
        await asyncio.to_thread(addon.kill)  # SIGKILL: no cleanup at all

        await asyncio.to_thread(addon.start)
        async with aiohttp.ClientSession() as session:
            api = Api(session, addon)
            await api.open()
            clips = {c["id"]: c for c in (await api.call("list_clips"))["clips"]}
            storage = await api.call("get_storage")
            assert clips[done]["state"] == "complete"
            # The cut clip is salvaged up to its last written fragment.
            assert clips[cut]["state"] == "partial"
            assert storage["clips"] == len(clips) == 2
            for clip_id in clips:
                path = await api.download(clip_id, tmp_path / f"{clip_id}.mp4")
                assert decoded_frames(path) >= 10, clip_id
            await api.ws.close()
