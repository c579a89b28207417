"""Mixed versions with real processes: the current integration (Home Assistant) against the
released 0.2.0 add-on (protocol 1.1), and the 0.2.0 integration's client (pyporchlight)
against the current add-on. Users update the two halves at different times.

The release is taken from git (`git archive` of `RELEASE_0_2_0`: its `addon/` and the
integration's `pyporchlight/`); without git or that commit the tests skip, saying so.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
import importlib.util
from pathlib import Path
import shutil
import subprocess
import sys
from types import ModuleType
from typing import Any

import aiohttp
import cv2
from homeassistant.components import media_source
from homeassistant.components.camera import async_get_image
from homeassistant.const import STATE_OFF, STATE_ON
from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
import numpy as np
import pytest
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.porchlight.pyporchlight.client import PorchlightClient
from custom_components.porchlight.pyporchlight.protocol import PRIVACY_REASON, CameraStatus
from tests.helpers.waiting import wait_until, wait_until_async

from .addon_process import ROOT, AddonProcess, running_addon
from .conftest import DEMO_OPTIONS
from .entries import entry_for, setup_entry, unload_entry

pytestmark = [pytest.mark.e2e, pytest.mark.enable_socket]

RELEASE_0_2_0 = "705311a"
"""The commit released as 0.2.0 (protocol 1.1)."""
OLD_CLIENT_PACKAGE = "pyporchlight_0_2_0"


@pytest.fixture(scope="module")
def release(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The 0.2.0 sources (`addon/`, the integration's `pyporchlight/`) in a temp folder."""
    git = shutil.which("git")
    if git is None:
        pytest.skip("git is not installed: the 0.2.0 release cannot be checked out")
    out = tmp_path_factory.mktemp("release-0.2.0")
    paths = ["addon", "custom_components/porchlight/pyporchlight"]
    archive = subprocess.run(
        [git, "-C", str(ROOT), "archive", RELEASE_0_2_0, *paths],
        capture_output=True,
        check=False,
        timeout=60,
    )
    if archive.returncode != 0:
        reason = archive.stderr.decode(errors="replace").strip()
        pytest.skip(f"the 0.2.0 release ({RELEASE_0_2_0}) is not in this clone: {reason}")
    subprocess.run(["tar", "-x", "-C", str(out)], input=archive.stdout, check=True, timeout=60)
    return out


@pytest.fixture(scope="module")
def old_addon(release: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[AddonProcess]:
    process = AddonProcess(
        tmp_path_factory.mktemp("old-addon"), DEMO_OPTIONS, pythonpath=[str(release / "addon")]
    )
    try:
        process.start()
    except (RuntimeError, TimeoutError) as err:
        pytest.skip(f"the 0.2.0 add-on does not start here: {err}")
    try:
        yield process
    finally:
        process.stop()


def _state(hass: HomeAssistant, entity_id: str) -> Any:
    state = hass.states.get(entity_id)
    assert state is not None, entity_id
    return state


async def test_current_integration_with_the_0_2_0_add_on(
    hass: HomeAssistant, old_addon: AddonProcess, hass_client: ClientSessionGenerator
) -> None:
    assert await async_setup_component(hass, "media_source", {})
    entry = entry_for(old_addon)
    await setup_entry(hass, entry)
    client: PorchlightClient = entry.runtime_data.client
    assert (client.server_info or {}).get("server_version") == "0.2.0"
    await wait_until(lambda: _state(hass, "camera.front_door").state != "unavailable", 20)

    # A ring reaches the event entity; the demo visitor's motion turns the sensor on.
    seq = await client.ring("front_door")
    await wait_until(
        lambda: _state(hass, "event.front_door_doorbell").attributes.get("seq") == seq, 10
    )
    await wait_until(
        lambda: _state(hass, "binary_sensor.front_door_motion").state == STATE_ON, 30, "motion"
    )

    # A sized picture: 0.2.0 is asked full size and Home Assistant scales it.
    image = await async_get_image(hass, "camera.front_door", width=320, height=180)
    picture = cv2.imdecode(np.frombuffer(image.content, np.uint8), cv2.IMREAD_COLOR)
    assert picture.shape[:2] == (180, 320)

    # A clip is recorded, listed in the media browser, plays through the proxy, and is
    # exported and streamed for a named user (0.2.0 refuses a `user` argument).
    await _short_clips(client)
    recorded = await client.record_clip("front_door", 1)
    clip_id = recorded["clip_id"]
    await _until_listed(client, clip_id)
    played = await media_source.async_resolve_media(
        hass, f"media-source://porchlight/{entry.entry_id}/clip~{clip_id}", None
    )
    assert played.url.startswith(f"/api/porchlight/{entry.entry_id}/clips/")
    response = await (await hass_client()).get(played.url)
    assert response.status == 200
    assert (await response.read())[4:8] == b"ftyp"  # an MP4 from its first box
    assert (await client.export_clip(clip_id, user="Ann"))["path"]
    assert (await client.get_stream_url("front_door", user="Ann")).startswith("http")

    # Privacy mode: 0.2.0 says offline + "privacy mode"; that is no camera problem.
    await hass.services.async_call(
        "switch", "turn_on", {"entity_id": "switch.front_door_privacy_mode"}, blocking=True
    )
    problem = "binary_sensor.front_door_camera_problem"
    await wait_until(
        lambda: _state(hass, problem).attributes.get("reason") == PRIVACY_REASON, 10, "privacy"
    )
    assert _state(hass, problem).state == STATE_OFF
    assert _state(hass, problem).attributes["status"] == CameraStatus.OFFLINE
    await hass.services.async_call(
        "switch", "turn_off", {"entity_id": "switch.front_door_privacy_mode"}, blocking=True
    )
    await unload_entry(hass, entry)


async def _short_clips(client: Any) -> None:
    """One second of pre- and post-roll, so a manual clip ends soon."""
    settings = {"camera": "front_door", "pre_roll": 1.0, "post_roll": 1.0}
    await client.command("set_recording_settings", **settings)


async def _until_listed(client: Any, clip_id: str, timeout: float = 30.0) -> None:
    """Wait until `list_clips` lists the clip (0.2.0 lists a clip once it is finished)."""

    async def listed() -> bool:
        return clip_id in [c["id"] for c in (await client.command("list_clips"))["clips"]]

    await wait_until_async(listed, timeout, f"clip {clip_id} listed", 0.2)


def _old_client_package(release: Path) -> ModuleType:
    """0.2.0's pyporchlight, imported under its own name beside the current one."""
    init = release / "custom_components/porchlight/pyporchlight/__init__.py"
    spec = importlib.util.spec_from_file_location(
        OLD_CLIENT_PACKAGE, init, submodule_search_locations=[str(init.parent)]
    )
    assert spec is not None
    assert spec.loader is not None
    package = importlib.util.module_from_spec(spec)
    sys.modules[OLD_CLIENT_PACKAGE] = package
    spec.loader.exec_module(package)
    return package


def _statuses(message: Any) -> list[str]:
    """Every camera status in a state or a camera_status / camera_state event."""
    body = message.get("data", message) if isinstance(message, dict) else {}
    cameras = body.get("cameras", [body])
    return [c["status"] for c in cameras if isinstance(c, dict) and "status" in c]


async def test_0_2_0_client_with_the_current_add_on(release: Path, tmp_path: Path) -> None:
    """Nothing the 0.2.0 integration's client does is refused, and it reads only values
    it knows: privacy mode arrives as `offline` + `privacy mode`, as 0.2.0 sent it. (The
    0.2.0 integration's problem sensor is on for any status but `online`: with either
    status it showed privacy mode as a problem; `privacy` would also reach its state
    attributes, a value outside its vocabulary.)"""
    _old_client_package(release)
    client_module = importlib.import_module(f"{OLD_CLIENT_PACKAGE}.client")
    protocol = importlib.import_module(f"{OLD_CLIENT_PACKAGE}.protocol")
    known = {status.value for status in protocol.CameraStatus}
    assert known == {"online", "stalled", "offline"}
    events: list[dict[str, Any]] = []
    with running_addon(tmp_path / "addon", DEMO_OPTIONS) as addon:
        async with aiohttp.ClientSession() as session:
            old = client_module.PorchlightClient(session, "127.0.0.1", addon.port, addon.token)
            old.start(
                on_event=events.append, on_state=lambda _s: None, on_connection=lambda _c: None
            )
            try:
                await wait_until(lambda: old.connected, 20, "the 0.2.0 client connected")
                deadline = asyncio.get_running_loop().time() + 20
                while not (await old.get_state())["cameras"][0]["frames"]:
                    assert asyncio.get_running_loop().time() < deadline, addon.log_tail()
                    await asyncio.sleep(0.1)  # polling another process, bounded by the deadline
                seq = await old.ring("front_door")
                assert await old.take_snapshot("front_door")
                await _short_clips(old)
                clip = await old.record_clip("front_door", 1)
                assert (await old.list_events())["events"]
                await _until_listed(old, clip["clip_id"])
                assert (await old.export_clip(clip["clip_id"]))["path"]
                assert (await old.get_stream_url("front_door")).startswith("http")
                assert await old.set_privacy_mode("front_door", True) is True
                state = await old.get_state()
                front = state["cameras"][0]
                assert (front["status"], front["status_reason"]) == ("offline", PRIVACY_REASON)
                await wait_until(
                    lambda: any(
                        e["event"] == "camera_status" and e["data"]["reason"] == PRIVACY_REASON
                        for e in events
                    ),
                    10,
                    "privacy mode's camera_status",
                )
                assert any(e["event"] == "ring" and e["seq"] == seq for e in events)
                seen = {s for message in [state, *events] for s in _statuses(message)}
                assert seen <= known, seen
            finally:
                await old.stop()
