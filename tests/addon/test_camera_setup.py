"""The set-up commands on a real service: camera sources without passwords, and
`test_camera` keeping a stored password only for its own camera's address."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator, Iterator
import contextlib
import itertools
from pathlib import Path
from typing import Any

import aiohttp
import cv2
import numpy as np
import pytest

from porchlight_edge.capture.userinfo import merge, public_view
from porchlight_edge.service import Service
from tests.helpers.rtp_camera import RtpCamera, encode_units
from tests.helpers.service import connect_ws, loopback_options, running_service
from tests.helpers.waiting import wait_until

TOKEN = "setup-token-abcdefghijklmnop"
STORED = "st0red/pa ss"  # percent-encoded in the URL
ENCODED = "st0red%2Fpa%20ss"
_ids = itertools.count(1)


async def _call(ws: aiohttp.ClientWebSocketResponse, command: str, **args: Any) -> dict[str, Any]:
    message_id = next(_ids)
    await ws.send_json({"message_id": message_id, "command": command, "args": args})
    while True:
        reply: dict[str, Any] = await ws.receive_json(timeout=20)
        if reply.get("type") == "result" and reply["message_id"] == message_id:
            return reply


@contextlib.contextmanager
def _two_cameras() -> Iterator[tuple[RtpCamera, RtpCamera]]:
    """Two RTSP cameras that both take the stored password: the porch's, and one at
    another address."""
    units = encode_units(450)
    with (
        RtpCamera(units, credentials=("admin", STORED)) as camera,
        RtpCamera(units, credentials=("admin", STORED)) as elsewhere,
    ):
        yield camera, elsewhere


def _with_password(url: str) -> str:
    """`url` (rtsp://) with the stored user and password in it, as the options hold it."""
    return url.replace("rtsp://", f"rtsp://admin:{ENCODED}@")


@contextlib.asynccontextmanager
async def _panel(
    options: dict[str, Any], tmp_path: Path
) -> AsyncIterator[tuple[Service, aiohttp.ClientWebSocketResponse]]:
    """A running service of `options` and the panel's websocket to it."""
    async with (
        running_service(options, tmp_path) as service,
        aiohttp.ClientSession() as session,
    ):
        ws, _ = await connect_ws(session, service, TOKEN, client="panel")
        yield service, ws
        await ws.close()


def test_public_view_hides_the_password_and_secret_parameters() -> None:
    url = f"rtsp://admin:{ENCODED}@cam.local:554/live?token=abc&ch=1"
    assert public_view(url) == ("rtsp://cam.local:554/live?token=***&ch=1", "admin", True)
    assert public_view("rtsp://cam.local/live") == ("rtsp://cam.local/live", None, False)


@pytest.mark.parametrize(
    ("url", "password", "expected"),
    [
        # Unchanged address, no new password: the stored one.
        ("rtsp://cam.local:554/live", None, f"rtsp://admin:{ENCODED}@cam.local:554/live"),
        # A new path on the same camera keeps it too.
        ("rtsp://cam.local:554/sub", None, f"rtsp://admin:{ENCODED}@cam.local:554/sub"),
        # Another host or port never gets it.
        ("rtsp://evil.example:554/live", None, "rtsp://admin@evil.example:554/live"),
        ("rtsp://cam.local:8554/live", None, "rtsp://admin@cam.local:8554/live"),
        ("rtsps://cam.local:554/live", None, "rtsps://admin@cam.local:554/live"),
        # A typed password replaces it (percent-encoded).
        ("rtsp://cam.local:554/live", "n:w@/", "rtsp://admin:n%3Aw%40%2F@cam.local:554/live"),
    ],
)
def test_merge_keeps_the_stored_password_only_for_the_same_camera(
    url: str, password: str | None, expected: str
) -> None:
    stored = f"rtsp://admin:{ENCODED}@cam.local:554/live"
    assert merge(url, "admin", password, stored) == expected


def test_merge_refuses_what_would_leak_or_lose_a_secret() -> None:
    stored = "rtsp://cam.local/live?token=s3cret"
    # The redacted form means "unchanged": the stored secret parameter comes back.
    assert merge("rtsp://cam.local/live?token=***", None, None, stored) == stored
    with pytest.raises(ValueError, match=r"\*\*\*"):
        merge("rtsp://other.local/live?token=***", None, None, stored)
    with pytest.raises(ValueError, match="own fields"):
        merge("rtsp://admin:pw@cam.local/live", None, None, None)
    with pytest.raises(ValueError, match="needs a user name"):
        merge("rtsp://cam.local/live", None, "pw", None)


def _jpeg(result: dict[str, Any]) -> np.ndarray[Any, Any]:
    img = cv2.imdecode(np.frombuffer(base64.b64decode(result["jpeg"]), np.uint8), 1)
    assert img is not None
    return img


async def test_test_camera_uses_the_stored_password_only_at_its_own_address(
    tmp_path: Path,
) -> None:
    with _two_cameras() as (camera, elsewhere):
        porch = {
            "name": "porch",
            "source": "rtsp",
            "url": _with_password(camera.url),
            "privacy_masks": ["0,0 0.5,0 0.5,1 0,1"],
        }
        async with _panel(loopback_options(TOKEN, [porch]), tmp_path) as (_, ws):
            sources = await _call(ws, "get_camera_sources")
            assert sources["result"]["cameras"] == [
                {
                    "name": "porch",
                    "source": "rtsp",
                    "url": camera.url,
                    "username": "admin",
                    "password_set": True,
                    "rtsp_transport": "tcp",
                }
            ]

            same = await _call(
                ws, "test_camera", camera="porch", source="rtsp", url=camera.url, username="admin"
            )
            assert same["result"]["ok"], same
            picture = _jpeg(same["result"])
            assert picture[:, :150].max() < 40  # the camera's mask, as everywhere
            assert picture[:, 170:].mean() > 40

            other = await _call(
                ws, "test_camera", camera="porch", source="rtsp", url=elsewhere.url,
                username="admin",
            )  # fmt: skip
            assert other["result"]["reason"] == "wrong_password"
            assert elsewhere.refused > 0  # it was asked, but never with the password

            refused = await _call(
                ws, "test_camera", source="rtsp", url=camera.url.replace("//", "//a:b@")
            )
            assert refused["error"]["code"] == "invalid_args"

            await _call(ws, "set_privacy_mode", camera="porch", enabled=True)
            dark = await _call(ws, "test_camera", camera="porch", source="rtsp", url=camera.url)
            assert dark["error"]["code"] == "unavailable"

            audit = await _call(ws, "get_audit_log", action="snapshot")
            targets = [e["target"] for e in audit["result"]["entries"]]
            assert targets.count("test_camera") == 2  # refused ones show nothing: no entry
            for reply in (sources, same, other, refused, dark, audit):
                assert STORED not in str(reply)
                assert ENCODED not in str(reply)


async def test_a_saved_source_applies_at_once_and_persists(tmp_path: Path) -> None:
    with _two_cameras() as (old, new):
        porch = {
            "name": "porch",
            "source": "rtsp",
            "url": _with_password(old.url),
            "rtsp_transport": "tcp",
        }
        options = loopback_options(TOKEN, [porch])
        async with _panel(options, tmp_path) as (service, ws):
            # Another address: the stored password does not follow, so one is typed.
            saved = await _call(
                ws, "save_camera_source", camera="porch", source="rtsp", url=new.url,
                username="admin", password=STORED, user="Dana",
            )  # fmt: skip
            assert saved["result"]["url"] == new.url
            # The change is audited with who made it, and no secret of the URL.
            audit = await _call(ws, "get_audit_log", action="camera_source")
            (entry,) = audit["result"]["entries"]
            assert (entry["camera"], entry["detail"]) == (
                "porch",
                {"source": "rtsp", "user": "Dana"},
            )
            assert STORED not in str(audit)
            assert ENCODED not in str(audit)
            assert saved["result"]["password_set"]
            assert STORED not in str(saved)
            assert ENCODED not in str(saved)
            await wait_until(lambda: new.sent > 0, 15, "the camera to reopen at the new URL")
            await wait_until(
                lambda: service.cameras["porch"].status.value == "online", 15, "online"
            )
            bad = await _call(ws, "save_camera_source", camera="porch", source="mjpeg", url=new.url)
            assert bad["error"]["code"] == "invalid_args"
        store = tmp_path / "cameras.json"
        assert store.stat().st_mode & 0o777 == 0o600  # it holds the camera's password
        async with running_service(options, tmp_path) as again:
            assert again.cameras["porch"].config.url == _with_password(new.url)
