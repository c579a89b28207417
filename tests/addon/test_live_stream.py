"""The live MPEG-TS stream for HA: passthrough, masked re-encode shared by viewers, access.

Real service on a loopback socket, real footage through PyAV, real HTTP clients.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
import io
from pathlib import Path
import stat
import threading
from typing import Any

import aiohttp
import av
import numpy as np
import pytest

from porchlight_edge.config import parse_options
from porchlight_edge.protocol import (
    STREAM_CREDENTIAL_PARAM,
    Command,
    ErrorCode,
    live_stream_path,
)
from porchlight_edge.recorder.packets import split_annexb
from porchlight_edge.service import Service
from porchlight_edge.stream.credential import SECRET_FILE
from tests.helpers.footage import make_h264
from tests.helpers.rtsp_server import RtspServerProcess
from tests.helpers.waiting import wait_until

TOKEN = "test-token-0123456789"
FPS = 15
# Left half of the picture (relative polygon): the privacy mask of the masked camera.
LEFT_HALF = [[0.0, 0.0], [0.5, 0.0], [0.5, 1.0], [0.0, 1.0]]


def _write_ts(path: Path, frames: int) -> list[bytes]:
    """Annex-B H.264 in MPEG-TS (as an RTSP camera sends it); returns its packets' bytes.

    Every frame differs (grain, moving block), so equal bytes mean the same frame.
    `aud=1`: access unit delimiters are already in place, so the TS muxer adds nothing.
    """
    make_h264(path, seconds=frames / FPS, fps=FPS, width=320, height=240, x264_params="aud=1")
    with av.open(str(path)) as src:
        return [bytes(p) for p in src.demux(video=0) if p.size]


async def _service(tmp_path: Path, camera: dict[str, Any], max_viewers: int = 8) -> Service:
    options = parse_options(
        {
            "host": "127.0.0.1",
            "port": 0,
            "token": TOKEN,
            "zeroconf": False,
            "live": {"max_viewers": max_viewers},
            "cameras": [camera],
        },
        tmp_path / "data",
    )
    svc = Service(options)
    await svc.start()
    return svc


def _masked_demo(recording: bool = True) -> dict[str, Any]:
    return {
        "name": "front_door",
        "source": "demo",
        "demo": {"width": 320, "height": 180},
        "privacy_masks": [LEFT_HALF],
        "recording": {"enabled": recording},
    }


@pytest.fixture
async def demo_masked(tmp_path: Path) -> AsyncIterator[Service]:
    svc = await _service(tmp_path, _masked_demo(), max_viewers=2)
    yield svc
    await svc.stop()


def _encoder_threads() -> list[str]:
    """Live H.264 encoder threads of the camera: the recorder's and the live stream's."""
    names = {"encoder-front_door", "stream-front_door"}
    return [t.name for t in threading.enumerate() if t.name in names and t.is_alive()]


def _url(service: Service, path: str) -> str:
    return f"http://127.0.0.1:{service.port}{path}"


async def _stream_url(session: aiohttp.ClientSession, service: Service, camera: str) -> str:
    result = await _command(session, service, Command.GET_STREAM_URL, camera=camera)
    assert result["success"], result
    assert result["result"]["format"] == "mpegts"
    return _url(service, result["result"]["path"])


async def _command(
    session: aiohttp.ClientSession, service: Service, command: str, **args: Any
) -> dict[str, Any]:
    async with session.ws_connect(_url(service, "/api/websocket")) as ws:
        await ws.receive_json(timeout=5)
        await ws.send_json({"type": "auth", "token": TOKEN, "client": "pytest"})
        assert (await ws.receive_json(timeout=5))["type"] == "auth_ok"
        await ws.send_json({"message_id": 1, "command": command, "args": args})
        for _ in range(100):
            msg: dict[str, Any] = await ws.receive_json(timeout=10)
            if msg.get("type") == "result":
                return msg
    raise AssertionError("no result")


async def _read_ts(resp: aiohttp.ClientResponse, packets: int, timeout: float = 30.0) -> bytes:
    """Read the stream until it holds `packets` demuxable video packets (bounded in time)."""
    data = b""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while _count_packets(data) < packets:
        left = deadline - loop.time()
        assert left > 0, f"only {_count_packets(data)} packets within {timeout} s"
        chunk = await asyncio.wait_for(resp.content.readany(), left)
        assert chunk, "the stream ended early"
        data += chunk
    return data


def _count_packets(data: bytes) -> int:
    return len(_packets(data)) if len(data) > 4096 else 0


def _packets(data: bytes) -> list[tuple[bytes, bool]]:
    try:
        with av.open(io.BytesIO(data), format="mpegts") as ts:
            return [(bytes(p), bool(p.is_keyframe)) for p in ts.demux(video=0) if p.size]
    except av.FFmpegError:
        return []


def _frames(data: bytes) -> list[np.ndarray[Any, np.dtype[np.uint8]]]:
    """Luma planes of every decodable frame."""
    with av.open(io.BytesIO(data), format="mpegts") as ts:
        return [f.to_ndarray(format="gray") for f in ts.decode(video=0)]


async def test_unmasked_stream_passes_the_cameras_packets_through(
    tmp_path: Path, session: aiohttp.ClientSession
) -> None:
    source = _write_ts(tmp_path / "camera.ts", 10 * FPS)
    camera = {"name": "porch", "source": "file", "path": str(tmp_path / "camera.ts"), "loop": True}
    service = await _service(tmp_path, camera)
    try:
        url = await _stream_url(session, service, "porch")
        async with session.get(url) as resp:
            assert resp.status == 200
            assert resp.content_type == "video/mp2t"
            data = await _read_ts(resp, 2 * FPS)
        out = _packets(data)
        assert out[0][1], "the stream starts at a keyframe"
        known = set(source)
        # Byte-identical to the camera's packets: nothing was decoded or re-encoded.
        assert all(packet in known for packet, _ in out)
        assert len({packet for packet, _ in out}) >= 2 * FPS
        hub = service.cameras["porch"].stream
        assert hub.mode == "passthrough"
        assert hub.encoders_started == 0
        assert len(_frames(data)) >= 2 * FPS
    finally:
        await service.stop()


@pytest.mark.parametrize("recording", [True, False], ids=["recording", "not_recording"])
async def test_masked_stream_is_encoded_once_for_two_viewers(
    tmp_path: Path, session: aiohttp.ClientSession, recording: bool
) -> None:
    """One encoder for every viewer: the recorder's while it records, else the stream's own."""
    service = await _service(tmp_path, _masked_demo(recording), max_viewers=2)
    try:
        url = await _stream_url(session, service, "front_door")
        async with session.get(url) as first, session.get(url) as second:
            assert first.status == second.status == 200
            one, two = await asyncio.gather(_read_ts(first, FPS), _read_ts(second, FPS))
            hub = service.cameras["front_door"].stream
            assert hub.viewers == 2
            assert hub.mode == "encode"
            assert len(_encoder_threads()) == 1, _encoder_threads()
            assert hub.encoders_started == (0 if recording else 1)
            # The same encoded packets reach both viewers.
            assert {p for p, _ in _packets(one)} & {p for p, _ in _packets(two)}
        for data in (one, two):
            frames = _frames(data)
            assert len(frames) >= FPS // 2
            for luma in frames:
                half = luma.shape[1] // 2
                assert luma[:, : half - 8].max() <= 24, "the masked half is black (Y 16)"
                assert luma[:, half + 8 :].std() > 5, "the unmasked half shows the scene"
        await wait_until(lambda: hub.viewers == 0, 10, "viewers released")
    finally:
        await service.stop()


async def test_credential_opens_only_the_stream_of_its_camera(
    demo_masked: Service, session: aiohttp.ClientSession, tmp_path: Path
) -> None:
    url = await _stream_url(session, demo_masked, "front_door")
    credential = url.split(f"{STREAM_CREDENTIAL_PARAM}=", 1)[1]
    assert TOKEN not in url
    secret = tmp_path / "data" / SECRET_FILE
    assert stat.S_IMODE(secret.stat().st_mode) == 0o600
    assert credential not in secret.read_text()  # derived, not the stored secret itself
    stream = _url(demo_masked, live_stream_path("front_door"))
    bad = [
        (stream, {}),  # no credential
        (stream, {"Authorization": f"Bearer {TOKEN}"}),  # the API token is not accepted here
        (f"{stream}?{STREAM_CREDENTIAL_PARAM}={TOKEN}", {}),
        (f"{_url(demo_masked, live_stream_path('garage'))}?credential={credential}", {}),
        # ...and the credential opens nothing else:
        (_url(demo_masked, f"/api/cameras/front_door/snapshot.jpg?credential={credential}"), {}),
        (
            _url(demo_masked, "/api/cameras/front_door/snapshot.jpg"),
            {"Authorization": f"Bearer {credential}"},
        ),
        (_url(demo_masked, f"/api/cameras/front_door/stream.mjpeg?credential={credential}"), {}),
    ]
    for target, headers in bad:
        async with session.get(target, headers=headers) as resp:
            assert resp.status == 401, target
            assert (await resp.json())["error"]["code"] == ErrorCode.INVALID_AUTH


async def test_opening_the_stream_is_audited(
    demo_masked: Service, session: aiohttp.ClientSession
) -> None:
    url = await _stream_url(session, demo_masked, "front_door")
    async with session.get(url, headers={"X-Porchlight-User": "Alice"}) as resp:
        assert resp.status == 200
    entries = demo_masked.audit.query(action="live_stream").items
    assert [(e.camera, e.target, e.client_id) for e in entries] == [
        ("front_door", "stream.ts", "http")
    ]
    assert entries[0].detail == {"user": "Alice"}


async def test_rotation_revokes_old_urls_and_ends_open_streams(
    demo_masked: Service, session: aiohttp.ClientSession
) -> None:
    old = await _stream_url(session, demo_masked, "front_door")
    async with session.get(old) as resp:
        assert resp.status == 200
        await _read_ts(resp, 1)
        result = await _command(session, demo_masked, Command.ROTATE_STREAM_CREDENTIAL)
        assert result["success"], result
        # The open stream ends: its bytes run out within a bounded time.
        tail = await asyncio.wait_for(resp.content.read(), 10)
        assert isinstance(tail, bytes)
    async with session.get(old) as resp:
        assert resp.status == 401
    new = await _stream_url(session, demo_masked, "front_door")
    assert new != old
    async with session.get(new) as resp:
        assert resp.status == 200
    entries = demo_masked.audit.query(action="stream_credential").items
    assert [e.client_id for e in entries] == ["pytest"]


async def test_privacy_mode_refuses_and_ends_the_stream(
    demo_masked: Service, session: aiohttp.ClientSession
) -> None:
    url = await _stream_url(session, demo_masked, "front_door")
    async with session.get(url) as resp:
        await _read_ts(resp, 1)
        result = await _command(
            session, demo_masked, Command.SET_PRIVACY_MODE, camera="front_door", enabled=True
        )
        assert result["success"], result
        await asyncio.wait_for(resp.content.read(), 10)
    async with session.get(url) as resp:
        assert resp.status == 503
        assert (await resp.json())["error"]["code"] == ErrorCode.UNAVAILABLE


async def test_stream_viewers_are_bounded(
    demo_masked: Service, session: aiohttp.ClientSession
) -> None:
    url = await _stream_url(session, demo_masked, "front_door")
    async with session.get(url) as one, session.get(url) as two:
        assert one.status == two.status == 200
        async with session.get(url) as third:
            assert third.status == 503
            assert (await third.json())["error"]["code"] == ErrorCode.UNAVAILABLE


async def test_only_a_valid_credential_makes_the_connection_trusted(
    demo_masked: Service, session: aiohttp.ClientSession
) -> None:
    """A long-lived stream must not count as an idle unauthenticated connection."""
    url = await _stream_url(session, demo_masked, "front_door")
    guard = demo_masked.connections
    await wait_until(lambda: guard.trusted == 0, 10, "the command connection closed")
    bad = url.replace("credential=", "credential=x")
    async with aiohttp.ClientSession() as stranger, stranger.get(bad) as resp:
        assert resp.status == 401
        assert guard.trusted == 0
    async with session.get(url) as resp:
        assert resp.status == 200
        assert guard.trusted == 1


def _slices_avcc(path: Path) -> set[bytes]:
    """Coded slices (NAL types 1 and 5) of an MP4's length-prefixed H.264 packets."""
    out: set[bytes] = set()
    with av.open(str(path)) as src:
        for packet in src.demux(video=0):
            data, i = bytes(packet), 0
            while i + 4 <= len(data):
                size = int.from_bytes(data[i : i + 4], "big")
                nal = data[i + 4 : i + 4 + size]
                if nal and nal[0] & 0x1F in (1, 5):
                    out.add(nal)
                i += 4 + size
    return out


async def test_rtsp_camera_slices_pass_through_untouched(
    tmp_path: Path,
    session: aiohttp.ClientSession,
    capture_rtsp_server: RtspServerProcess,
    capture_rtsp_clip: Path,
) -> None:
    """An RTSP camera without masks: every coded slice HA gets is the camera's own."""
    camera = {"name": "porch", "source": "rtsp", "url": capture_rtsp_server.url()}
    service = await _service(tmp_path, camera)
    try:
        url = await _stream_url(session, service, "porch")
        async with session.get(url) as resp:
            assert resp.status == 200
            data = await _read_ts(resp, 2 * FPS)
        known = _slices_avcc(capture_rtsp_clip)
        slices = [
            nal
            for packet, _ in _packets(data)
            for nal in split_annexb(packet)
            if nal[0] & 0x1F in (1, 5)
        ]
        assert len(slices) >= 2 * FPS
        assert all(nal in known for nal in slices)
        assert service.cameras["porch"].stream.mode == "passthrough"
    finally:
        await service.stop()
