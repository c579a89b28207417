"""The audio switch on a real add-on over its websocket, with a real RTSP camera that
sends G.711 before its video: off by default, switched at run time (the camera is reopened
with its audio track), audited both ways, and stopped by privacy mode."""

from __future__ import annotations

from collections.abc import AsyncIterator
import contextlib
from pathlib import Path
from typing import Any

import pytest

from porchlight_edge.config import parse_options
from porchlight_edge.protocol import ErrorCode
from porchlight_edge.service import Service
from tests.helpers.disk import fill
from tests.helpers.rtp_camera import RtpCamera, audio_track, encode_units
from tests.helpers.small_disk_service import TOKEN, client, running as demo_running, small_disk
from tests.helpers.waiting import wait_until

__all__ = ["small_disk"]  # the fixture
FPS = 15
SECONDS = 60  # served at most; the test ends long before


@pytest.fixture
def camera_server() -> Any:
    units = encode_units(SECONDS * FPS, fps=FPS, gop=FPS)
    with RtpCamera(units, fps=FPS, audio=audio_track("pcm_mulaw", SECONDS)) as server:
        yield server


@contextlib.asynccontextmanager
async def running(tmp_path: Path, url: str, **camera: Any) -> AsyncIterator[Service]:
    """The add-on on a real socket with one RTSP camera "porch" (`camera`: more options)."""
    options = {
        "host": "127.0.0.1",
        "port": 0,
        "token": TOKEN,
        "zeroconf": False,
        "media_dir": str(tmp_path / "media"),
        "cameras": [{"name": "porch", "source": "rtsp", "url": url, "read_timeout": 5, **camera}],
    }
    service = Service(parse_options(options, tmp_path / "data"))
    await service.start()
    try:
        yield service
    finally:
        await service.stop()


async def test_audio_switch_is_runtime_audited_and_stopped_by_privacy(
    tmp_path: Path, camera_server: RtpCamera
) -> None:
    async with running(tmp_path, camera_server.url) as service, client(service) as api:
        camera = service.cameras["porch"]
        await wait_until(lambda: camera.frames > 10, 20, "video frames")
        state = (await api.call("get_state"))["result"]["cameras"][0]
        assert state["audio"] is False
        assert camera.last_frame is not None
        assert camera.last_frame.audio == ()  # off: the audio track is not even set up

        reply = await api.call("set_audio", enabled=True)
        assert reply["result"] == {"audio": True}, reply
        assert camera.recorder.settings.audio is True
        await wait_until(
            lambda: camera.last_frame is not None and len(camera.last_frame.audio) > 0,
            20,
            "frames carrying sound after the camera was reopened",
        )

        # Privacy mode stops capture, sound included.
        assert (await api.call("set_privacy_mode", enabled=True))["success"]
        assert camera.last_frame is None
        frames = camera.frames
        assert (await api.call("get_state"))["success"]
        assert camera.frames == frames

        reply = await api.call("set_audio", enabled=False)
        assert reply["result"] == {"audio": False}, reply
        assert camera.recorder.settings.audio is False

        log = (await api.call("get_audit_log", action="audio"))["result"]["entries"]
        assert sorted(e["detail"]["enabled"] for e in log) == [False, True]
        assert {e["camera"] for e in log} == {"porch"}
        assert {e["client_id"] for e in log} == {"pytest"}

    # The choice is saved: a restart keeps audio off (and privacy on).
    async with running(tmp_path, camera_server.url) as service:
        assert service.cameras["porch"].settings.audio is False
        assert service.cameras["porch"].config.audio is False


async def test_audio_set_in_the_options_is_on_at_start(
    tmp_path: Path, camera_server: RtpCamera
) -> None:
    async with running(tmp_path, camera_server.url, audio=True) as service:
        camera = service.cameras["porch"]
        await wait_until(
            lambda: camera.last_frame is not None and len(camera.last_frame.audio) > 0,
            20,
            "frames carrying sound",
        )
        assert camera.state()["audio"] is True


async def test_sound_on_is_refused_without_an_audit_entry_off_always_works(
    small_disk: Path, tmp_path: Path
) -> None:
    data, media = small_disk / "data", tmp_path / "media"
    async with demo_running(data, media) as service, client(service) as api:
        camera = service.cameras["porch"]
        assert (await api.call("set_audio", enabled=True))["result"] == {"audio": True}
        fill(small_disk, leave=0)
        # Off works on a full disk (nothing to save it in: it lasts until a restart)...
        reply = await api.call("set_audio", enabled=False)
        if reply["success"]:
            assert camera.settings.audio is False
        else:  # ... or the settings file could not be written: then nothing changed
            assert reply["error"]["code"] == ErrorCode.UNAVAILABLE
            assert camera.settings.audio is True
        (small_disk / "filler").unlink()
        assert (await api.call("set_audio", enabled=False))["result"] == {"audio": False}
        fill(small_disk, leave=0)
        # On must be audited first: refused, the microphone stays off.
        reply = await api.call("set_audio", enabled=True)
        assert reply["error"]["code"] == ErrorCode.UNAVAILABLE, reply
        assert camera.settings.audio is False
        assert camera.recorder.settings.audio is False
