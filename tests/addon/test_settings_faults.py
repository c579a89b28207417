"""Settings and privacy mode under faults: a full data disk, a broken settings file, the
recording switch. A real service on a socket; the full disk is a real small tmpfs."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import aiohttp
import pytest

from porchlight_edge.protocol import CameraStatus, ErrorCode
from porchlight_edge.settings import CameraSettings, SettingsStore
from tests.helpers.footage import make_h264
from tests.helpers.small_disk_service import TOKEN, client, fill_up, running, small_disk
from tests.helpers.waiting import wait_until

__all__ = ["small_disk"]  # the fixture

# --- C5: one bad neighbour does not undo a saved privacy mode ------------------------------


def test_each_saved_setting_is_checked_on_its_own(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "settings.json"
    saved = {"privacy_mode": True, "threshold": 0, "min_area": "big", "pre_roll": 3, "x": 1}
    path.write_text(json.dumps({"porch": saved}))
    with caplog.at_level(logging.WARNING):
        loaded = SettingsStore(path).load("porch", CameraSettings())
    assert loaded.privacy_mode is True
    assert loaded.pre_roll == 3.0
    assert loaded.threshold == CameraSettings().threshold
    assert loaded.min_area == CameraSettings().min_area
    for name in ("'threshold'", "'min_area'", "'x'"):
        assert name in caplog.text


async def test_saved_privacy_mode_survives_a_restart_next_to_a_bad_value(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / "settings.json").write_text(
        json.dumps({"porch": {"privacy_mode": True, "threshold": 0}})
    )
    async with running(data, tmp_path / "media") as service, client(service) as api:
        state = (await api.call("get_state"))["result"]
        camera = state["cameras"][0]
        assert camera["privacy_mode"] is True
        assert camera["status"] == CameraStatus.PRIVACY
        assert camera["status_reason"] == "privacy mode"
        assert service.cameras["porch"].frames == 0


@pytest.mark.parametrize(
    "content",
    [
        b'{"porch": {"privacy_mode": true, "thresh',  # cut mid-write
        b"\xff\xfe not text",
        b'["porch"]',  # JSON, not an object
        b"",
    ],
    ids=["truncated", "not-utf8", "not-an-object", "empty"],
)
async def test_an_unreadable_settings_file_fails_closed_and_is_kept(
    tmp_path: Path, content: bytes
) -> None:
    """Whether privacy was on cannot be read: every camera starts in privacy mode, across
    restarts too, until the owner turns it off; the damaged file is kept aside."""
    data = tmp_path / "data"
    data.mkdir()
    (data / "settings.json").write_bytes(content)
    for _ in range(2):  # the second start reads what the first one saved
        async with running(data, tmp_path / "media") as service, client(service) as api:
            camera = (await api.call("get_state"))["result"]["cameras"][0]
            assert camera["privacy_mode"] is True
            assert service.cameras["porch"].frames == 0
    kept = list(data.glob("settings.json.unreadable-*"))
    assert [path.read_bytes() for path in kept] == [content]


async def test_a_damaged_privacy_value_fails_closed_for_its_camera(tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    path.write_text(json.dumps({"porch": {"privacy_mode": "yes"}, "yard": {"threshold": 30}}))
    store = SettingsStore(path)
    assert store.load("porch", CameraSettings()).privacy_mode is True
    assert store.load("yard", CameraSettings()).privacy_mode is False


# --- C8: record_clip obeys the recording switch ---------------------------------------------


async def test_record_clip_is_refused_while_recording_is_off(tmp_path: Path) -> None:
    async with running(tmp_path / "data", tmp_path / "media") as service, client(service) as api:
        await wait_until(lambda: service.cameras["porch"].frames > 5, 10, "demo frames")
        assert (await api.call("set_recording_settings", enabled=False))["success"]
        reply = await api.call("record_clip", seconds=2)
        assert not reply["success"], reply
        assert reply["error"]["code"] == ErrorCode.UNAVAILABLE
        assert "recording is switched off" in reply["error"]["message"]
        assert service.store.index.all_clips() == []


# --- C4: privacy on works on a full data disk; nothing else applies unsaved --------------------


async def test_privacy_on_works_when_the_data_disk_is_full(
    small_disk: Path, tmp_path: Path
) -> None:
    data, media = small_disk / "data", tmp_path / "media"
    async with running(data, media) as service, client(service) as api:
        camera = service.cameras["porch"]
        await wait_until(lambda: camera.frames > 5, 10, "demo frames")
        filler = fill_up(small_disk)

        # A plain change that cannot be saved is refused and not applied.
        reply = await api.call("set_motion_settings", threshold=77)
        assert reply["error"]["code"] == ErrorCode.UNAVAILABLE, reply
        assert camera.settings.threshold != 77

        # Privacy on: applied even though neither settings nor audit can be written.
        reply = await api.call("set_privacy_mode", enabled=True)
        assert reply["success"], reply
        assert reply["result"] == {"privacy_mode": True}
        assert camera.status is CameraStatus.PRIVACY
        assert camera.status_reason == "privacy mode"
        assert camera.last_frame is None  # the lens is off, the last picture forgotten

        # Privacy off must be saved and audited first: refused, the lens stays off.
        reply = await api.call("set_privacy_mode", enabled=False)
        assert reply["error"]["code"] == ErrorCode.UNAVAILABLE, reply
        assert camera.settings.privacy_mode is True

        # Space again: the next saved change also keeps privacy mode on disk.
        filler.unlink()
        assert (await api.call("set_motion_settings", threshold=40))["success"]

    async with running(data, media) as service:
        assert service.cameras["porch"].settings.privacy_mode is True
        assert service.cameras["porch"].settings.threshold == 40


async def test_a_full_disk_is_unavailable_not_an_internal_error(small_disk: Path) -> None:
    """Index and audit log on a full disk: commands and HTTP answer `unavailable`, and both
    work again once there is space."""
    data, media = small_disk / "data", small_disk / "media"
    clip_id = "0b7a3c2e-1d4f-4a5b-8c6d-7e8f9a0b1c2d"
    (media / "clips").mkdir(parents=True)
    make_h264(media / "clips" / f"{clip_id}.mp4", seconds=1, fps=5, width=64, height=64)
    async with (
        running(data, media, recording={"enabled": False}) as service,
        client(service) as api,
        aiohttp.ClientSession() as session,
    ):
        assert service.store.index.get_clip(clip_id) is not None  # adopted
        await wait_until(lambda: service.cameras["porch"].frames > 5, 10, "demo frames")
        filler = fill_up(small_disk)
        reply = await api.call("protect_clip", clip_id=clip_id, protected=True)
        assert reply["error"]["code"] == ErrorCode.UNAVAILABLE, reply
        snapshot = f"http://127.0.0.1:{service.port}/api/cameras/porch/snapshot.jpg"
        headers = {"Authorization": f"Bearer {TOKEN}"}
        async with session.get(snapshot, headers=headers) as resp:
            assert resp.status == 503
            assert (await resp.json())["error"]["code"] == ErrorCode.UNAVAILABLE
        filler.unlink()
        reply = await api.call("protect_clip", clip_id=clip_id, protected=True)
        assert reply["success"], reply
        assert reply["result"]["protected"] is True
        async with session.get(snapshot, headers=headers) as resp:
            assert resp.status == 200
