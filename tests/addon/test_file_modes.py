"""Personal data is private: everything the real service creates (token, index, audit log,
settings, clips, snapshots, exports and their folders) is 0600 / 0700, even when started with
the usual 022 umask."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Any

import aiohttp

from tests.e2e.addon_process import AddonProcess
from tests.helpers.file_modes import loose_modes


async def _call(
    ws: aiohttp.ClientWebSocketResponse, message_id: int, command: str, **args: Any
) -> Any:
    await ws.send_json({"message_id": message_id, "command": command, "args": args})
    async with asyncio.timeout(30):
        while True:
            message = await ws.receive_json()
            if message.get("message_id") == message_id and "success" in message:
                assert message["success"], message
                return message.get("result")


async def _make_everything(addon: AddonProcess) -> None:
    """A ring (snapshot and clip), a settings change and an export."""
    base = f"http://127.0.0.1:{addon.port}"
    async with (
        aiohttp.ClientSession() as session,
        session.ws_connect(f"{base}/api/websocket") as ws,
    ):
        await ws.receive_json()
        token = (addon.data_dir / "token").read_text().strip()  # generated on first start
        await ws.send_json({"type": "auth", "token": token})
        assert (await ws.receive_json())["type"] == "auth_ok"
        await _call(ws, 1, "subscribe")
        await _call(ws, 2, "set_motion_settings", camera="door", threshold=40)
        await _call(ws, 3, "ring", camera="door")
        seen: dict[str, dict[str, Any]] = {}
        async with asyncio.timeout(60):
            while not {"clip_finished", "snapshot_ready"} <= set(seen):
                message = await ws.receive_json()
                if "event" in message:
                    seen[message["event"]] = message
        clip_id = seen["clip_finished"]["data"]["clip_id"]
        await _call(ws, 4, "export_clip", clip_id=clip_id)


async def test_everything_the_service_writes_is_private(tmp_path: Path) -> None:
    data = tmp_path / "addon"
    options = {
        "cameras": [
            {
                "name": "door",
                "source": "demo",
                "demo": {"width": 320, "height": 180},
                "recording": {"pre_roll": 1, "post_roll": 1},
            }
        ]
    }
    addon = AddonProcess(data, options, token="")  # "": the service generates its token file
    old = os.umask(0o022)  # what a shell usually has; the child inherits it
    try:
        await asyncio.to_thread(addon.start)
    finally:
        os.umask(old)
    try:
        await _make_everything(addon)
    finally:
        await asyncio.to_thread(addon.stop)
    recordings = data / "recordings"
    names = {p.name for p in data.iterdir()}
    assert {"token", "instance_id", "audit.db", "settings.json", "recordings"} <= names
    assert any((recordings / "clips").glob("*.mp4"))
    assert any((recordings / "snapshots").iterdir())
    assert any((recordings / "exports").iterdir())
    # The test harness's own files (options, log, ready file) aside: those are ours.
    ours = {"options.json", "addon.log", "ready.json"}
    loose = [entry for entry in loose_modes(data) if entry.split()[0] not in ours]
    assert loose == []
