"""Nothing leaves the machine: the add-on talks only to its cameras and its clients.

The real add-on runs as a process with an audit hook (tests/addon/nethook) that
logs every socket connect, send and name look-up. With a network camera, rings,
clips, snapshots and the live view all in use, the only destinations may be that
camera and link-local mDNS (the standalone zeroconf advertisement).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
import json
from pathlib import Path
import re
import subprocess
from typing import Any

import aiohttp
import pytest

from tests.e2e.addon_process import AddonProcess, running_async
from tests.helpers.mjpeg_camera import mjpeg_camera, solid_jpeg

HOOK = Path(__file__).parent / "nethook"
# mDNS groups; loopback; None = a send on an already connected socket (checked as a connect).
LOCAL_SENDS = ("224.0.0.251", "ff02::fb", "'127.0.0.1'", "'::1'")


@pytest.fixture
async def street_camera() -> AsyncIterator[int]:
    async with mjpeg_camera({"/video": solid_jpeg(320, 240)}) as port:
        yield port


async def _use_everything(addon: AddonProcess) -> None:
    base = f"http://127.0.0.1:{addon.port}"
    headers = {"Authorization": f"Bearer {addon.token}"}
    async with aiohttp.ClientSession() as session:
        async with session.ws_connect(f"{base}/api/websocket") as ws:
            await ws.receive_json()
            await ws.send_json({"type": "auth", "token": addon.token})
            await ws.receive_json()
            for message_id, command in enumerate(("subscribe", "ring", "get_storage"), 1):
                camera: dict[str, Any] = {"camera": "street"} if command == "ring" else {}
                await ws.send_json({"message_id": message_id, "command": command, "args": camera})
            seen: set[str] = set()
            async with asyncio.timeout(30):
                while "clip_finished" not in seen:
                    msg = await ws.receive_json()
                    seen.add(msg.get("event", ""))
        for path in ("/api/cameras/street/snapshot.jpg", "/api/cameras/front/snapshot.jpg"):
            async with session.get(base + path, headers=headers) as resp:
                assert resp.status == 200
        async with session.get(base + "/api/cameras/street/stream.mjpeg", headers=headers) as r:
            await r.content.read(10_000)


def _own_addresses() -> list[str]:
    """This machine's interface addresses (the HA test plugin hides them from ifaddr)."""
    out = subprocess.run(["ip", "-o", "addr"], capture_output=True, text=True, check=True)
    return re.findall(r"inet6? ([0-9a-f.:]+)/", out.stdout)


async def test_only_cameras_and_local_mdns(tmp_path: Path, street_camera: int) -> None:
    log = tmp_path / "net.jsonl"
    options = {
        "cameras": [
            {
                "name": "street",
                "source": "mjpeg",
                "url": f"http://127.0.0.1:{street_camera}/video",
                "recording": {"pre_roll": 1, "post_roll": 1},
            },
            {"name": "front", "source": "demo", "demo": {"width": 320, "height": 180}},
        ]
    }
    addon = AddonProcess(
        tmp_path / "addon",
        options,
        env={"PORCHLIGHT_NET_LOG": str(log)},
        pythonpath=[str(HOOK)],
        zeroconf=True,
    )
    async with running_async(addon):
        await _use_everything(addon)

    entries = [json.loads(line) for line in log.read_text().splitlines()]
    connects = [e["target"] for e in entries if e["event"] == "socket.connect"]
    sends = [e["target"] for e in entries if e["event"] in ("socket.sendto", "socket.sendmsg")]
    lookups = [e["target"] for e in entries if e["event"] == "socket.getaddrinfo"]
    # The camera was really used (the hook works), and it is the only peer.
    assert f"('127.0.0.1', {street_camera})" in connects
    assert set(connects) == {f"('127.0.0.1', {street_camera})"}, connects
    own = [f"'{address}'" for address in _own_addresses()]
    local = (*LOCAL_SENDS, *own)  # this machine's own interfaces are not "outside"
    assert [t for t in sends if t != "None" and not any(a in t for a in local)] == []
    assert all("127.0.0.1" in t or "localhost" in t or "0.0.0.0" in t for t in lookups), lookups
