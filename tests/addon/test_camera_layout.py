"""Masks and zones saved from the panel: `get/set_camera_layout`, the camera store (one
source over the options' seeds), restarts, bad input and the audit log.

A real Service on loopback with a demo camera, its real data folder.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import aiohttp
import cv2
import numpy as np
import pytest

from porchlight_edge.camera_store import CameraStore
from porchlight_edge.capture.frame import Frame
from porchlight_edge.config import parse_options
from porchlight_edge.protocol import MAX_SHAPES, EventKind
from porchlight_edge.recorder.jobs import SnapshotEvent, WriteSnapshot
from porchlight_edge.recorder.settings import RecorderSettings
from porchlight_edge.recorder.snapshots import SnapshotPicker
from porchlight_edge.service import Service
from tests.helpers.service import connect_ws, demo_cameras, loopback_options, running_service
from tests.helpers.waiting import wait_until

TOKEN = "layout-test-token-0123456789"
STREET = "0,0 1,0 1,0.3"
HAND_WRITTEN = ".5,.5 1,0.5 1.0,1"  # the config.yaml grammar allows these spellings


def options(**camera: Any) -> dict[str, Any]:
    cameras = demo_cameras(160, 120, "door")
    cameras[0].update(camera)
    return loopback_options(TOKEN, cameras)


async def call(service: Service, command: str, **args: Any) -> dict[str, Any]:
    async with aiohttp.ClientSession() as session:
        ws, _ = await connect_ws(session, service, TOKEN, client="panel")
        await ws.send_json({"message_id": 1, "command": command, "args": args})
        reply: dict[str, Any] = await ws.receive_json(timeout=10)
        await ws.close()
    return reply


async def test_the_options_form_is_read_and_written_as_is(tmp_path: Path) -> None:
    raw = options(privacy_masks=[HAND_WRITTEN], motion={"zones": ["porch=0,0.5 1,0.5 1,1"]})
    async with running_service(raw, tmp_path) as service:
        reply = await call(service, "get_camera_layout", camera="door")
    assert reply["result"] == {
        "camera": "door",
        "privacy_masks": ["0.5,0.5 1,0.5 1,1"],
        "zones": ["porch=0,0.5 1,0.5 1,1"],
        "motion_masks": [],
    }


async def test_saved_layout_applies_at_once_and_after_a_restart(tmp_path: Path) -> None:
    raw = options()
    layout = {
        "privacy_masks": ["0.1,0.1 0.4,0.1 0.4,0.4"],
        "zones": ["path=0,0.5 0.5,0.5 0.5,1", "drive=0.5,0.5 1,0.5 1,1"],
        "motion_masks": ["0.9,0 1,0 1,0.1"],
    }
    async with running_service(raw, tmp_path) as service:
        reply = await call(service, "set_camera_layout", camera="door", **layout)
        assert reply["success"], reply
        camera = service.cameras["door"]
        assert camera.masker.polygons == (((0.1, 0.1), (0.4, 0.1), (0.4, 0.4)),)
        assert [z.name for z in camera.engine.config.zones] == ["path", "drive"]
        assert [z["name"] for z in camera.state()["zones"]] == ["path", "drive"]
    async with running_service(raw, tmp_path) as service:
        reply = await call(service, "get_camera_layout", camera="door")
        assert reply["result"] == {"camera": "door", **layout}
        assert service.cameras["door"].masker.active
        # Motion is ignored under privacy masks too, as with masks from the options.
        assert len(service.cameras["door"].engine.config.masks) == 2


async def test_a_later_edit_of_the_options_wins(tmp_path: Path, caplog: Any) -> None:
    async with running_service(options(privacy_masks=[STREET]), tmp_path) as service:
        reply = await call(service, "set_camera_layout", camera="door", privacy_masks=[])
        assert reply["success"], reply
        assert not service.cameras["door"].masker.active
    # Unchanged options: the panel's change stands. An empty list is the same as no key
    # (the Supervisor's UI writes one where a file leaves it out).
    async with running_service(options(privacy_masks=[STREET]), tmp_path) as service:
        assert not service.cameras["door"].masker.active
    saved = json.loads((tmp_path / "cameras.json").read_text())
    assert saved["door"]["privacy_masks"] == {"value": [], "seed": [STREET]}
    # The owner edits the option afterwards: the newer edit wins, and the log says so.
    newer = "0,0.7 1,0.7 1,1"
    with caplog.at_level(logging.WARNING):
        async with running_service(options(privacy_masks=[newer]), tmp_path) as service:
            assert service.cameras["door"].masker.polygons == (((0, 0.7), (1, 0.7), (1, 1)),)
    assert "changed since the panel saved them" in caplog.text
    assert "privacy_masks" not in json.loads((tmp_path / "cameras.json").read_text()).get(
        "door", {}
    )


async def test_the_owner_is_told_what_a_later_option_edit_replaced(
    tmp_path: Path, caplog: Any
) -> None:
    drawn = {
        "privacy_masks": ["0.1,0.1 0.4,0.1 0.4,0.4", "0.6,0.1 0.9,0.1 0.9,0.4"],
        "zones": ["path=0,0.5 0.5,0.5 0.5,1"],
        "motion_masks": ["0.9,0 1,0 1,0.1"],
    }
    async with running_service(options(), tmp_path) as service:
        reply = await call(service, "set_camera_layout", camera="door", **drawn)
        assert "replaced_by_options" not in reply["result"]  # nothing replaced
    # The owner then edits the privacy masks and zones in the options (not motion masks).
    edited = options(privacy_masks=[STREET], motion={"zones": ["drive=0,0 1,0 1,1"]})
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        async with running_service(edited, tmp_path) as service:
            layout = (await call(service, "get_camera_layout", camera="door"))["result"]
            assert layout["replaced_by_options"] == ["privacy_masks", "zones"]
            assert layout["privacy_masks"] == [STREET]
            assert layout["motion_masks"] == drawn["motion_masks"]  # still the panel's
            # Drawn and saved again in the panel: that part of the notice is answered.
            reply = await call(service, "set_camera_layout", camera="door", zones=[])
            assert reply["result"]["replaced_by_options"] == ["privacy_masks"]
            reply = await call(service, "set_camera_layout", camera="door", privacy_masks=[STREET])
            assert "replaced_by_options" not in reply["result"]
    (warning,) = [r for r in caplog.records if "the options apply" in r.getMessage()]
    assert warning.levelno == logging.WARNING
    text = warning.getMessage()
    assert text.startswith("door: ")
    assert "privacy masks, zones" in text
    assert "2 privacy masks; 1 zone)" in text  # what the panel had, now replaced


def test_no_value_and_an_empty_list_are_the_same_seed(tmp_path: Path) -> None:
    store = CameraStore(tmp_path / "cameras.json")
    camera = parse_options(options(), tmp_path).cameras[0]
    store.save(camera, {"privacy_masks": [STREET]})
    for seed in ([], None):
        raw = {**camera.raw, "privacy_masks": seed}
        assert CameraStore(tmp_path / "cameras.json").overlay(raw)["privacy_masks"] == [STREET]


@pytest.mark.parametrize(
    ("args", "says"),
    [
        ({"privacy_masks": ["0,0 1,0"]}, "privacy_masks.0"),  # two corners
        ({"privacy_masks": ["0,0 0.5,0.5 1,1"]}, "no area"),  # on one line
        ({"privacy_masks": ["0,0 1.5,0 1,1"]}, "privacy_masks.0"),  # outside the picture
        ({"privacy_masks": [[0, 0]]}, "privacy_masks.0"),  # not the string form
        ({"zones": ["a=0,0 1,0 1,1", "a=0,0 0,1 1,1"]}, "own name"),
        ({"zones": ["bad name=0,0 1,0 1,1"]}, "zones.0"),
        ({"motion_masks": ["0,0 1,0 1,1"] * (MAX_SHAPES + 1)}, "motion_masks"),
        ({"privacy_masks": [" ".join(["0,0", "1,0"] * 40)]}, "at most"),
        ({"camera": "garage", "privacy_masks": []}, "unknown camera"),
    ],
)
async def test_bad_layouts_are_refused_and_nothing_changes(
    tmp_path: Path, args: dict[str, Any], says: str
) -> None:
    async with running_service(options(privacy_masks=[STREET]), tmp_path) as service:
        reply = await call(service, "set_camera_layout", **{"camera": "door", **args})
        assert not reply["success"]
        assert reply["error"]["code"] in ("invalid_args", "not_found")
        assert says in reply["error"]["message"]
        assert len(service.cameras["door"].masker.polygons) == 1
    assert not (tmp_path / "cameras.json").exists()


async def test_a_layout_that_cannot_be_saved_changes_nothing(tmp_path: Path) -> None:
    async with running_service(options(), tmp_path) as service:
        (tmp_path / "cameras.json.tmp").mkdir()  # the atomic write's temporary file cannot be made
        reply = await call(service, "set_camera_layout", camera="door", privacy_masks=[STREET])
        assert reply["error"]["code"] == "unavailable"
        assert not service.cameras["door"].masker.active
        layout = await call(service, "get_camera_layout", camera="door")
        assert layout["result"]["privacy_masks"] == []


async def test_showing_more_is_audited_first_and_less_after(tmp_path: Path) -> None:
    async with running_service(options(), tmp_path) as service:
        for masks in ([STREET], []):
            reply = await call(service, "set_camera_layout", camera="door", privacy_masks=masks)
            assert reply["success"]
        entries = service.audit.query(action="privacy_masks").items
    assert [(e.client_id, e.camera, e.detail) for e in entries] == [
        ("panel", "door", {"privacy_masks": 0, "zones": 0, "motion_masks": 0}),
        ("panel", "door", {"privacy_masks": 1, "zones": 0, "motion_masks": 0}),
    ]


def test_an_unreadable_store_is_kept_aside_and_the_options_apply(tmp_path: Path) -> None:
    path = tmp_path / "cameras.json"
    path.write_text("{not json")
    store = CameraStore(path)
    camera = parse_options(options(privacy_masks=[STREET]), tmp_path).cameras[0]
    assert store.apply(camera, 0) is camera
    [kept] = tmp_path.glob("cameras.json.unreadable-*")
    assert kept.read_text() == "{not json"


def test_a_saved_value_the_parser_refuses_is_ignored(tmp_path: Path, caplog: Any) -> None:
    path = tmp_path / "cameras.json"
    path.write_text(json.dumps({"door": {"privacy_masks": {"value": ["0,0 1,1"], "seed": None}}}))
    camera = parse_options(options(), tmp_path).cameras[0]
    with caplog.at_level(logging.WARNING):
        assert CameraStore(path).apply(camera, 0) is camera
    assert "ignoring the saved settings" in caplog.text


def _frame(at: float) -> Frame:
    return Frame.from_bgr(np.zeros((48, 64, 3), np.uint8), at, at)


def test_new_masks_drop_the_frame_a_waiting_snapshot_holds() -> None:
    jobs: list[Any] = []
    picker = SnapshotPicker(RecorderSettings(), jobs.append, lambda: False)
    before = _frame(10.1)
    picker.want(SnapshotEvent("b:1", EventKind.MOTION, 10.0, None), 1, None)
    picker.consider(before, 0.9)  # the best frame so far: much motion
    picker.forget_frames()  # masks change here
    after = [_frame(10.1 + i * 0.1) for i in range(1, 40)]
    for frame in after:
        picker.consider(frame, 0.1)
    written = [job for job in jobs if isinstance(job, WriteSnapshot)]
    assert len(written) == 1
    assert written[0].frame in after


def test_a_ring_after_new_masks_does_not_share_the_earlier_rings_picture() -> None:
    jobs: list[Any] = []
    picker = SnapshotPicker(RecorderSettings(), jobs.append, lambda: False)
    picker.want(SnapshotEvent("b:1", EventKind.RING, 10.0, None), 1, _frame(9.9))
    picker.consider(_frame(10.1), None)  # the first ring's picture, taken
    picker.forget_frames()  # masks change here
    picker.want(SnapshotEvent("b:2", EventKind.RING, 11.0, None), 2, _frame(10.9))
    picker.consider(_frame(11.1), None)
    assert [type(job) for job in jobs] == [WriteSnapshot, WriteSnapshot]


async def test_a_snapshot_right_after_new_masks_waits_for_the_masked_picture(
    tmp_path: Path,
) -> None:
    """Saving drops the picture taken with the old masks; a snapshot asked for before the
    next one arrives (a slow camera: 2 fps) gets that next, masked picture, not a 503."""
    raw = options(fps=2)
    async with running_service(raw, tmp_path) as service, aiohttp.ClientSession() as http:
        camera = service.cameras["door"]
        await wait_until(lambda: camera.live.frame is not None, 10, "a first picture")
        ws, _ = await connect_ws(http, service, TOKEN, client="panel")
        await ws.send_json(
            {
                "message_id": 1,
                "command": "set_camera_layout",
                "args": {"camera": "door", "privacy_masks": ["0,0 1,0 1,1 0,1"]},
            }
        )
        assert (await ws.receive_json(timeout=10))["success"]
        url = f"http://127.0.0.1:{service.port}/api/cameras/door/snapshot.jpg"
        async with http.get(url, headers={"Authorization": f"Bearer {TOKEN}"}) as resp:
            assert resp.status == 200, await resp.text()
            jpeg = await resp.read()
        await ws.close()
    picture = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_GRAYSCALE)
    assert picture.max() < 24  # all of it under the mask: black
