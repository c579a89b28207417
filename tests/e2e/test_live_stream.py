"""Live view through Home Assistant's own pipeline, against the real add-on.

The real `stream` integration opens the camera entity's `stream_source()` (the
add-on's MPEG-TS stream with its scoped credential) and serves HLS; the test
fetches the master and variant playlists and segments through HA's HTTP server,
decodes them with PyAV, and checks that the privacy mask is black, that the URL
carries no API token and opens nothing else, and that the opening was audited; and that a
camera's sound is in the HLS media only while its audio is on.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
import io
from pathlib import Path
import re
from typing import TYPE_CHECKING, Any

import aiohttp
import av
from homeassistant.components.camera.const import DATA_COMPONENT
from homeassistant.setup import async_setup_component
import numpy as np
import pytest

from custom_components.porchlight.const import DOMAIN
from tests.helpers.rtp_camera import RtpCamera, audio_track, encode_units
from tests.helpers.sound import TONE_HZ, dominant_frequency
from tests.helpers.waiting import wait_until_async

from .addon_process import AddonProcess, front_door_demo, running_async
from .entries import entry_for, setup_entry, unload_entry

if TYPE_CHECKING:
    from homeassistant.core import HomeAssistant
    from pytest_homeassistant_custom_component.typing import (
        ClientSessionGenerator,
        WebSocketGenerator,
    )

pytestmark = [pytest.mark.e2e, pytest.mark.enable_socket]

CAMERA = "camera.front_door"
# The left half of the picture is private (relative polygon).
LEFT_HALF = [[0.0, 0.0], [0.5, 0.0], [0.5, 1.0], [0.0, 1.0]]
MASKED_OPTIONS = front_door_demo(320, 180, privacy_masks=[LEFT_HALF])
SEGMENT_RE = re.compile(r"^(?:\./)?(segment/\d+\.m4s)$", re.MULTILINE)


@pytest.fixture
async def masked_addon(tmp_path: Path) -> AsyncIterator[AddonProcess]:
    addon = AddonProcess(tmp_path / "addon", MASKED_OPTIONS)
    async with running_async(addon):
        yield addon


async def _get(client: Any, path: str) -> bytes:
    response = await client.get(path)
    assert response.status == 200, (path, response.status)
    return bytes(await response.read())


async def _segments(client: Any, playlist: str, count: int) -> list[str]:
    """Segment paths of the variant playlist once it lists `count` (bounded wait)."""

    async def listed() -> list[str] | None:
        found: list[str] = SEGMENT_RE.findall((await _get(client, playlist)).decode())
        return found if len(found) >= count else None

    return await wait_until_async(listed, 60, f"HLS playlist to list {count} segments", 0.25)


async def _hls_url(hass: HomeAssistant, hass_ws_client: WebSocketGenerator) -> str:
    """The camera's HLS master playlist URL, as the frontend asks for it."""
    ws = await hass_ws_client(hass)
    await ws.send_json({"id": 1, "type": "camera/stream", "entity_id": CAMERA, "format": "hls"})
    reply = await ws.receive_json()
    assert reply["success"], reply
    url: str = reply["result"]["url"]
    return url


async def _hls_media(client: Any, master_url: str) -> tuple[bytes, list[bytes]]:
    """The init segment and the first two media segments HA's HLS output lists."""
    master = (await _get(client, master_url)).decode()
    variant = next(line for line in master.splitlines() if line.endswith(".m3u8"))
    base = master_url.rsplit("/", 1)[0]
    segments = await _segments(client, f"{base}/{variant}", 2)
    init = await _get(client, f"{base}/init.mp4")
    return init, [await _get(client, f"{base}/{segment}") for segment in segments[:2]]


def _decode(init: bytes, segments: list[bytes]) -> list[np.ndarray[Any, Any]]:
    with av.open(io.BytesIO(init + b"".join(segments)), format="mp4") as media:
        assert media.streams.video, "the HLS media has a video track"
        assert not media.streams.audio, "no audio track while audio is off"
        return [frame.to_ndarray(format="gray") for frame in media.decode(video=0)]


# HA's stream output keeps its idle timer (30 s) after the stream stops, as in HA's own tests.
@pytest.mark.parametrize("expected_lingering_timers", [True])
async def test_hls_from_the_real_addon_with_privacy_mask(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    hass_ws_client: WebSocketGenerator,
    masked_addon: AddonProcess,
) -> None:
    assert await async_setup_component(hass, "stream", {})
    entry = entry_for(masked_addon)
    await setup_entry(hass, entry)
    camera = hass.data[DATA_COMPONENT].get_entity(CAMERA)
    assert camera is not None
    source = await camera.stream_source()
    assert source is not None
    assert masked_addon.token not in source  # the URL never carries the API token

    master_url = await _hls_url(hass, hass_ws_client)
    client = await hass_client()
    try:
        init, data = await _hls_media(client, master_url)
        frames = await asyncio.to_thread(_decode, init, data)
        assert len(frames) >= 10
        for luma in frames:
            half = luma.shape[1] // 2
            # Limited-range black is Y 16; a few pixels of slack at the mask's edge.
            assert luma[:, : half - 8].max() <= 24, "the masked half is black"
            assert luma[:, half + 8 :].std() > 5, "the unmasked half shows the scene"
    finally:
        if camera.stream is not None:
            await camera.stream.stop()

    # The credential in the URL opens the stream route only.
    credential = source.split("credential=", 1)[1]
    snapshot = f"http://127.0.0.1:{masked_addon.port}/api/cameras/front_door/snapshot.jpg"
    async with aiohttp.ClientSession() as session:
        for headers, url in (
            ({}, f"{snapshot}?credential={credential}"),
            ({"Authorization": f"Bearer {credential}"}, snapshot),
        ):
            async with session.get(url, headers=headers) as resp:
                assert resp.status == 401

    # HA's opening of the stream is in the add-on's audit log (written before any byte).
    page = await entry.runtime_data.client.get_audit_log(action="live_stream")
    opened = [e for e in page["entries"] if e["target"] == "stream.ts"]
    assert opened
    assert {e["camera"] for e in opened} == {"front_door"}

    # Rotating from HA revokes the old URL, and HA's stream moves to the new one.
    stream = camera.stream
    assert stream is not None
    await hass.services.async_call(DOMAIN, "rotate_stream_credential", {}, blocking=True)
    assert stream.source != source
    async with aiohttp.ClientSession() as session:
        async with session.get(source) as resp:
            assert resp.status == 401
        async with session.get(stream.source) as resp:
            assert resp.status == 200
            assert resp.content_type == "video/mp2t"
    await unload_entry(hass, entry)


@pytest.fixture
async def sound_camera() -> AsyncIterator[RtpCamera]:
    """An RTSP camera sending G.711 μ-law (listed first in its SDP) beside H.264."""
    units = await asyncio.to_thread(encode_units, 60 * 15, fps=15, gop=15)
    with RtpCamera(units, fps=15, audio=audio_track("pcm_mulaw", 60)) as server:
        yield server


@pytest.mark.parametrize("expected_lingering_timers", [True])
async def test_hls_carries_the_camera_sound_when_audio_is_on(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    hass_ws_client: WebSocketGenerator,
    tmp_path: Path,
    sound_camera: RtpCamera,
) -> None:
    options = {
        "cameras": [
            {"name": "front_door", "source": "rtsp", "url": sound_camera.url, "audio": True}
        ]
    }
    addon = AddonProcess(tmp_path / "addon", options)
    async with running_async(addon):
        assert await async_setup_component(hass, "stream", {})
        entry = entry_for(addon)
        await setup_entry(hass, entry)
        client_api = entry.runtime_data.client

        async def delivered() -> bool:
            return bool((await client_api.get_state())["cameras"][0]["frames"] >= 30)

        # Sound must have reached the add-on before the stream opens (its tracks are fixed).
        await wait_until_async(delivered, 30, "the camera's frames", 0.25)
        master_url = await _hls_url(hass, hass_ws_client)
        client = await hass_client()
        camera = hass.data[DATA_COMPONENT].get_entity(CAMERA)
        try:
            init, data = await _hls_media(client, master_url)
            with av.open(io.BytesIO(init + b"".join(data)), format="mp4") as media:
                assert media.streams.video
                [track] = media.streams.audio
                assert track.codec_context.name == "aac"
                pcm = [f.to_ndarray().mean(axis=0) for f in media.decode(track)]
            samples = np.concatenate(pcm)
            assert dominant_frequency(samples, 8000) == pytest.approx(TONE_HZ, abs=15)
        finally:
            if camera is not None and camera.stream is not None:
                await camera.stream.stop()
        await unload_entry(hass, entry)
