"""Adding and removing cameras from the panel, on a real service with a real RTSP camera:
the new camera runs at once and after a restart, a removed one stops but keeps its
clips, both are audited and announced (`cameras_changed`), and the options win over the
panel for a camera they name."""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from porchlight_edge.camera_store import ADDED, REMOVED, CameraStore
from porchlight_edge.config import parse_options
from porchlight_edge.protocol import RingSource
from porchlight_edge.service import load_cameras
from tests.helpers.rtp_camera import RtpCamera, encode_units
from tests.helpers.service import connect_ws, demo_cameras, loopback_options, running_service, url
from tests.helpers.waiting import wait_until

TOKEN = "admin-token-abcdefghijklmnop"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
PASSWORD = "s3cret/pw"
_ids = itertools.count(1)


class Session:
    """One websocket with its events kept, for a short conversation."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws
        self.events: list[dict[str, Any]] = []

    async def call(self, command: str, **args: Any) -> dict[str, Any]:
        message_id = next(_ids)
        await self.ws.send_json({"message_id": message_id, "command": command, "args": args})
        while True:
            reply: dict[str, Any] = await self.ws.receive_json(timeout=20)
            if reply.get("type") == "event":
                self.events.append(reply)
            elif reply.get("type") == "result" and reply["message_id"] == message_id:
                return reply

    async def ok(self, command: str, **args: Any) -> Any:
        reply = await self.call(command, **args)
        assert reply["success"], reply
        return reply["result"]


async def test_add_run_restart_remove_keeps_the_clips(tmp_path: Path) -> None:
    with RtpCamera(encode_units(450), credentials=("admin", PASSWORD)) as camera:
        options = loopback_options(TOKEN, demo_cameras(320, 240, "porch"))
        async with (
            running_service(options, tmp_path) as service,
            aiohttp.ClientSession() as http,
        ):
            ws, _ = await connect_ws(http, service, TOKEN, client="panel")
            s = Session(ws)
            await s.ok("subscribe")
            added = await s.ok(
                "add_camera", camera="garage", source="rtsp", url=camera.url,
                username="admin", password=PASSWORD,
            )  # fmt: skip
            assert added == {
                "name": "garage",
                "source": "rtsp",
                "url": camera.url,
                "username": "admin",
                "password_set": True,
                "rtsp_transport": "tcp",
            }
            await wait_until(
                lambda: service.cameras["garage"].status.value == "online", 20, "garage online"
            )
            state = await s.ok("get_state")
            assert [c["name"] for c in state["cameras"]] == ["porch", "garage"]
            changed = [e for e in s.events if e["event"] == "cameras_changed"]
            assert [e["data"] for e in changed] == [
                {"added": ["garage"], "removed": [], "cameras": ["porch", "garage"]}
            ]
            assert changed[0]["camera"] is None
            # Its live picture, at once.
            async with http.get(
                url(service, "/api/cameras/garage/snapshot.jpg"), headers=AUTH
            ) as r:
                assert r.status == 200
                assert (await r.read())[:2] == b"\xff\xd8"

            taken = await s.call("add_camera", camera="garage", source="rtsp", url=camera.url)
            assert taken["error"]["code"] == "invalid_args"
            assert "exists" in taken["error"]["message"]
            bad = await s.call("add_camera", camera="Garage 2", source="rtsp", url=camera.url)
            assert bad["error"]["code"] == "invalid_args"
            leaky = await s.call(
                "add_camera", camera="side", source="mjpeg", url="ftp://admin:pw@cam.local/x"
            )
            assert leaky["error"]["code"] == "invalid_args"
            assert "side" not in service.cameras
            for reply in (added, state, taken, bad, leaky):
                assert PASSWORD not in json.dumps(reply)
                assert "s3cret" not in json.dumps(reply)
            await ws.close()

        # It survives a restart, password and all.
        async with (
            running_service(options, tmp_path) as service,
            aiohttp.ClientSession() as http,
        ):
            assert list(service.cameras) == ["porch", "garage"]
            await wait_until(
                lambda: service.cameras["garage"].status.value == "online", 20, "garage online"
            )
            ws, _ = await connect_ws(http, service, TOKEN, client="panel")
            s = Session(ws)
            await s.ok("subscribe")
            clip = await s.ok("record_clip", camera="garage", seconds=1)

            def finished() -> bool:
                return any(
                    e["event"] == "clip_finished" and e["data"]["clip_id"] == clip["clip_id"]
                    for e in s.events
                )

            while not finished():  # bounded by the receive timeout in `call`
                await s.call("ping")

            removed = await s.ok("remove_camera", camera="garage")
            assert removed == {"removed": "garage"}
            assert "garage" not in service.cameras
            assert [e["data"]["removed"] for e in s.events if e["event"] == "cameras_changed"] == [
                ["garage"]
            ]
            state = await s.ok("get_state")
            assert [c["name"] for c in state["cameras"]] == ["porch"]
            # Its clips stay, listed and playable.
            clips = (await s.ok("list_clips", camera="garage"))["clips"]
            assert clip["clip_id"] in [c["id"] for c in clips]
            clip_url = url(service, f"/api/clips/{clip['clip_id']}.mp4")
            async with http.get(clip_url, headers=AUTH) as r:
                assert r.status == 200
                assert len(await r.read()) > 1000
            # A ring queued for it (a button press in flight) is dropped, in order.
            service.rings.publish_ring("garage", RingSource.BUTTON)
            service.rings.publish_ring("porch", RingSource.BUTTON)
            rings = [e for e in s.events if e["event"] == "ring"]
            while not any(e["data"]["source"] == "button" for e in rings):  # bounded by `call`
                await s.call("ping")
                rings = [e for e in s.events if e["event"] == "ring"]
            assert {e["camera"] for e in rings} == {"porch"}
            last = await s.call("remove_camera", camera="porch")
            assert last["error"]["code"] == "invalid_args"
            gone = await s.call("remove_camera", camera="garage")
            assert gone["error"]["code"] == "not_found"
            audit = (await s.ok("get_audit_log"))["entries"]
            actions = [(e["action"], e["camera"]) for e in audit]
            assert ("camera_remove", "garage") in actions
            await ws.close()

        async with (
            running_service(options, tmp_path) as service,
            aiohttp.ClientSession() as http,
        ):
            assert list(service.cameras) == ["porch"]
            clip_url = url(service, f"/api/clips/{clip['clip_id']}.mp4")
            async with http.get(clip_url, headers=AUTH) as r:
                assert r.status == 200


async def test_the_options_win_over_the_panel_for_a_camera_they_name(tmp_path: Path) -> None:
    dead = "rtsp://127.0.0.1:9/panel"
    options = loopback_options(TOKEN, demo_cameras(320, 240, "porch", "yard"))
    async with (
        running_service(options, tmp_path) as service,
        aiohttp.ClientSession() as http,
    ):
        ws, _ = await connect_ws(http, service, TOKEN, client="panel")
        s = Session(ws)
        await s.ok("add_camera", camera="garage", source="rtsp", url=dead)
        await s.ok("remove_camera", camera="yard")
        again = await s.call("add_camera", camera="yard", source="rtsp", url=dead)
        assert again["error"]["code"] == "invalid_args"  # the options' name, removed or not
        assert "yard" not in service.cameras
        audit = (await s.ok("get_audit_log"))["entries"]
        assert [(e["action"], e["camera"]) for e in audit][:2] == [
            ("camera_remove", "yard"),
            ("camera_add", "garage"),
        ]
        await ws.close()
    store = json.loads((tmp_path / "cameras.json").read_text())
    assert ADDED in store["garage"]
    assert REMOVED in store["yard"]

    # Unchanged options: the panel's cameras stand.
    async with running_service(options, tmp_path) as service:
        assert list(service.cameras) == ["porch", "garage"]

    # The owner then names "garage" in the options and edits "yard": the later edits win.
    edited = demo_cameras(320, 240, "porch", "yard", "garage")
    edited[1]["title"] = "Back yard"
    async with running_service(loopback_options(TOKEN, edited), tmp_path) as service:
        assert list(service.cameras) == ["porch", "yard", "garage"]
        assert service.cameras["garage"].config.source == "demo"
        assert service.camera_options["yard"].title == "Back yard"
    store = json.loads((tmp_path / "cameras.json").read_text())
    assert "garage" not in store
    assert "yard" not in store


def test_a_damaged_panel_camera_is_skipped_and_something_always_runs(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (tmp_path / "cameras.json").write_text(
        json.dumps(
            {
                # A hand edit the options' parser refuses, and a removal of the only camera.
                "side": {ADDED: {"value": {"name": "side", "source": "rtsp", "url": "ftp://x"}}},
                "porch": {REMOVED: {"value": True, "seed": demo_cameras(320, 240, "porch")[0]}},
            }
        )
    )
    options = parse_options(loopback_options(TOKEN, demo_cameras(320, 240, "porch")), tmp_path)
    cameras = load_cameras(CameraStore(tmp_path / "cameras.json"), options.cameras)
    assert list(cameras) == ["porch"]
    assert "Skipping a camera added in the panel" in caplog.text
