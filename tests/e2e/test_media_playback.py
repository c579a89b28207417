"""The media browser against the real add-on: a ring records real H.264, the browser
lists it under camera / day / type, and playback through Home Assistant's proxy seeks
with Range requests and lands in the add-on's audit log with the HA user's name."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
import time
from typing import TYPE_CHECKING, Any

import aiohttp
import av
from homeassistant.components import media_source
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.porchlight.media_source import local_time
from custom_components.porchlight.pyporchlight.client import PorchlightClient
from custom_components.porchlight.pyporchlight.protocol import EventMessage, EventType
from tests.helpers.footage import make_h264
from tests.helpers.waiting import wait_until, wait_until_async

from .addon_process import AddonProcess, running_async
from .entries import entry_for, setup_entry, unload_entry

if TYPE_CHECKING:
    from homeassistant.auth.models import User
    from homeassistant.components.media_player.browse_media import BrowseMedia
    from homeassistant.core import HomeAssistant
    from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

pytestmark = [pytest.mark.e2e, pytest.mark.enable_socket]


@pytest.fixture(scope="module")
def video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("video") / "porch.mp4"
    return make_h264(path, seconds=4, fps=10, width=320, height=180, gop=10)


def recording_options(video: Path) -> dict[str, Any]:
    """A file camera that records real H.264 clips: 1 s before a ring, 1 s after."""
    return {
        "cameras": [
            {
                "name": "front_door",
                "title": "Front door",
                "source": "file",
                "path": str(video),
                "loop": True,
                "realtime": True,
                "recording": {"pre_roll": 1, "post_roll": 1},
            }
        ]
    }


def kids(node: BrowseMedia) -> list[BrowseMedia]:
    """A browse node's children (a folder always has a list, maybe empty)."""
    assert node.children is not None
    return list(node.children)


async def first_frame(client: PorchlightClient) -> None:
    """Wait until the add-on's first camera has delivered a frame."""

    async def framed() -> bool:
        return (await client.get_state())["cameras"][0]["last_frame"] is not None

    await wait_until_async(framed, 10, "the camera's first frame")


@pytest.fixture
async def recording_addon(tmp_path: Path, video: Path) -> AsyncIterator[AddonProcess]:
    addon = AddonProcess(tmp_path / "addon", recording_options(video))
    async with running_async(addon):
        yield addon


async def record_ring(entry: MockConfigEntry) -> dict[str, Any]:
    """Ring once the pre-roll has frames; return the ring's finished clip event data
    once its snapshot is written too."""
    data = entry.runtime_data
    finished: list[EventMessage] = []
    snapshots: list[str] = []

    def seen(event: EventMessage) -> None:
        if event["event"] == EventType.CLIP_FINISHED:
            finished.append(event)
        elif event["event"] == EventType.SNAPSHOT_READY:
            snapshots.append(event["data"]["event_id"])

    remove = data.async_add_event_listener("front_door", seen)
    try:
        await first_frame(data.client)
        await asyncio.sleep(1.2)  # let the 1 s pre-roll fill
        seq = await data.client.ring("front_door")
        ring_id = f"{data.server_info['boot_id']}:{seq}"
        await wait_until(
            lambda: ring_id in snapshots and any(ring_id in e["data"]["events"] for e in finished),
            15,
            "the ring's clip and snapshot",
        )
    finally:
        remove()
    clip = next(e["data"] for e in finished if ring_id in e["data"]["events"])
    return {**clip, "ring_id": ring_id}


async def test_browse_play_seek_and_audit(
    hass: HomeAssistant,
    recording_addon: AddonProcess,
    hass_client: ClientSessionGenerator,
    hass_admin_user: User,
    tmp_path: Path,
) -> None:
    assert await async_setup_component(hass, "media_source", {})
    entry = entry_for(recording_addon)
    await setup_entry(hass, entry)
    clip = await record_ring(entry)

    # camera -> day -> type -> the ring's clip, as the media browser walks it
    root = await media_source.async_browse_media(hass, "media-source://porchlight")
    (camera,) = kids(root)
    assert camera.title == "Front door"
    days = await media_source.async_browse_media(hass, camera.media_content_id)
    today = local_time(clip["start"]).date()
    day = next(d for d in kids(days) if d.media_content_id.endswith(today.isoformat()))
    kinds = await media_source.async_browse_media(hass, day.media_content_id)
    rings = next(k for k in kids(kinds) if k.media_content_id.endswith("/ring"))
    events = await media_source.async_browse_media(hass, rings.media_content_id)
    leaf = next(e for e in kids(events) if e.media_content_id.endswith(clip["clip_id"]))
    assert leaf.can_play
    assert leaf.media_content_type == "video/mp4"

    played = await media_source.async_resolve_media(hass, leaf.media_content_id, None)
    client = await hass_client()
    response = await client.get(played.url.split("?")[0])
    assert response.status == 200
    body = await response.read()
    assert len(body) == clip["size"]
    saved = tmp_path / "played.mp4"
    saved.write_bytes(body)
    with av.open(str(saved)) as container:
        frames = sum(1 for _ in container.decode(video=0))
    assert frames >= 15  # about 2 s of real 10 fps H.264 (pre-roll + post-roll)

    response = await client.get(
        played.url.split("?")[0], headers={"Range": f"bytes=100-{len(body) - 1}"}
    )
    assert response.status == 206
    assert response.headers["Content-Range"] == f"bytes 100-{len(body) - 1}/{len(body)}"
    assert await response.read() == body[100:]

    # The snapshot thumbnail comes through the proxy too.
    assert leaf.thumbnail is not None
    thumbnail = await client.get(leaf.thumbnail)
    assert thumbnail.status == 200
    assert (await thumbnail.read())[:2] == b"\xff\xd8"

    # The add-on's audit log names the Home Assistant user, never the add-on token.
    async with aiohttp.ClientSession() as session:
        auditor = PorchlightClient(
            session, "127.0.0.1", recording_addon.port, recording_addon.token
        )
        await auditor.connect()
        try:
            log = await auditor.get_audit_log(action="clip_download")
        finally:
            await auditor.disconnect()
    (download,) = [e for e in log["entries"] if e["target"] == clip["clip_id"]]
    assert download["detail"] == {"user": hass_admin_user.name}
    assert download["client_id"] == "http"
    assert recording_addon.token not in str(log)
    await unload_entry(hass, entry)


async def test_the_newest_ring_plays_while_it_records(
    hass: HomeAssistant, tmp_path: Path, video: Path, hass_client: ClientSessionGenerator
) -> None:
    """Issue 14 item 1: the ring's clip is still recording (a long post-roll); the media
    browser marks it and it plays through Home Assistant's proxy, never `unknown clip`."""
    options = recording_options(video)
    options["cameras"][0]["recording"] = {"pre_roll": 2, "post_roll": 60}
    addon = AddonProcess(tmp_path / "addon", options)
    async with running_async(addon):
        assert await async_setup_component(hass, "media_source", {})
        entry = entry_for(addon)
        await setup_entry(hass, entry)
        data = entry.runtime_data
        started: list[str] = []
        remove = data.async_add_event_listener(
            "front_door",
            lambda e: started.append(e["data"]["clip_id"])
            if e["event"] == EventType.CLIP_STARTED
            else None,
        )
        await first_frame(data.client)
        await asyncio.sleep(2.2)  # let the 2 s pre-roll fill
        await data.client.ring("front_door")
        await wait_until(lambda: bool(started), 15, "clip_started")
        remove()
        clip_id = started[0]

        day = local_time(time.time()).date().isoformat()
        folder = f"media-source://porchlight/{entry.entry_id}/front_door/{day}/ring"
        # clip_started goes out before the worker thread has indexed the event

        async def leaves() -> list[BrowseMedia]:
            node = await media_source.async_browse_media(hass, folder)
            return [e for e in kids(node) if e.media_content_id.endswith(clip_id)]

        (leaf,) = await wait_until_async(leaves, 15, "the clip in the media browser")
        assert leaf.title.endswith(" · Recording…")
        assert leaf.can_play
        played = await media_source.async_resolve_media(hass, leaf.media_content_id, None)
        client = await hass_client()
        for _ in range(10):  # 503 + Retry-After until the first whole fragment is written
            response = await client.get(played.url.split("?")[0])
            if response.status != 503:
                break
            await asyncio.sleep(float(response.headers["Retry-After"]))
        assert response.status == 200
        assert response.headers["Cache-Control"] == "no-store"
        saved = tmp_path / "growing.mp4"
        saved.write_bytes(await response.read())
        with av.open(str(saved)) as container:
            assert sum(1 for _ in container.decode(video=0)) >= 10  # a whole 1 s fragment
        events = (await data.client.list_events(camera="front_door", kind="ring"))["events"]
        assert [(e["clip_id"], e.get("clip_state")) for e in events] == [(clip_id, "recording")]
        await unload_entry(hass, entry)
