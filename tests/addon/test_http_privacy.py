"""Footage over HTTP leaves only with an audit entry, never in privacy mode, and no request
value (a token, a header) reaches the log. Real service, real socket, real H.264 clip."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
import json
import logging
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from porchlight_edge.protocol import EventKind
from porchlight_edge.recorder.index import ClipState
from porchlight_edge.service import Service
from tests.helpers.service import connect_ws, file_camera, loopback_options, running_service, url
from tests.helpers.waiting import wait_until

TOKEN = "http-privacy-token-0123456789"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
async def service(tmp_path: Path, porch_h264: Path) -> AsyncIterator[Service]:
    camera = {**file_camera("porch", porch_h264), "recording": {"pre_roll": 1, "post_roll": 1}}
    async with running_service(loopback_options(TOKEN, [camera]), tmp_path / "data") as svc:
        await wait_until(lambda: svc.cameras["porch"].last_frame is not None, 10, "a first frame")
        yield svc


async def command(session: aiohttp.ClientSession, service: Service, name: str, **args: Any) -> Any:
    ws, _ = await connect_ws(session, service, TOKEN, client="pytest")
    async with ws:
        await ws.send_json({"message_id": 1, "command": name, "args": args})
        reply = await ws.receive_json(timeout=10)
    assert reply["success"], reply
    return reply["result"]


def downloads(service: Service) -> list[str | None]:
    """Targets of the clip_download audit entries."""
    return [e.target for e in service.audit.query(action="clip_download", limit=200).items]


async def recorded_clip(service: Service) -> tuple[str, int]:
    """A finished clip of the file camera: (id, size in bytes)."""
    clip_id = service.cameras["porch"].recorder.trigger(
        EventKind.MANUAL, "manual-test", postroll=1.0
    )
    assert clip_id is not None
    await wait_until(
        lambda: (c := service.store.index.get_clip(clip_id)) is not None
        and c.state is not ClipState.RECORDING,
        20,
        "the clip to finish",
    )
    _, path = service.store.clip_file(clip_id)
    return clip_id, path.stat().st_size


async def test_every_range_form_that_serves_bytes_is_audited(
    service: Service, session: aiohttp.ClientSession
) -> None:
    clip_id, size = await recorded_clip(service)
    clip_url = url(service, f"/api/clips/{clip_id}.mp4")
    # Each request from a different user: each is a playback of its own.
    served = {
        "bytes=-0": None,  # asks for nothing: was the whole file, unaudited
        "bytes=1-": (1, size - 1),
        "bytes=-100": (size - 100, size - 1),
        f"bytes=-{size * 4}": (0, size - 1),
        "bytes=50-99": (50, 99),
        f"bytes=10-{size * 4}": (10, size - 1),
        "BYTES=0-0": (0, 0),
    }
    for number, (value, expected) in enumerate(served.items()):
        headers = {**AUTH, "Range": value, "X-Porchlight-User": f"user{number}"}
        async with session.get(clip_url, headers=headers) as resp:
            body = await resp.read()
            if expected is None:
                assert resp.status == 416, value
                assert resp.content_type == "application/json"
                assert (await resp.json())["error"]["code"] == "invalid_args"
                assert resp.headers["Content-Range"] == f"bytes */{size}"
                continue
            assert resp.status == 206, value
            first, last = expected
            assert resp.headers["Content-Range"] == f"bytes {first}-{last}/{size}"
            assert len(body) == last - first + 1
    # One entry for every request that served bytes, none for the refused one.
    assert downloads(service) == [clip_id] * (len(served) - 1)


@pytest.mark.parametrize(
    "value",
    ["bytes=-0", "bytes=5-2", "bytes={size}-", "bytes={size}-{size}", "bytes=0-1,5-9", "lines=1-2"],
)
async def test_ranges_with_no_bytes_get_416_json(
    service: Service, session: aiohttp.ClientSession, value: str
) -> None:
    clip_id, size = await recorded_clip(service)
    headers = {**AUTH, "Range": value.format(size=size)}
    async with session.get(url(service, f"/api/clips/{clip_id}.mp4"), headers=headers) as resp:
        assert resp.status == 416
        assert (await resp.json())["error"]["code"] == "invalid_args"
    assert downloads(service) == []


async def test_event_snapshot_ranges_with_no_bytes_get_416_json(
    service: Service, session: aiohttp.ClientSession
) -> None:
    assert service.cameras["porch"].recorder.snapshot("manual-range", EventKind.MANUAL)
    await wait_until(
        lambda: (e := service.store.index.get_event("manual-range")) is not None
        and e.snapshot is not None,
        10,
        "the snapshot",
    )
    picture = url(service, "/api/events/manual-range/snapshot.jpg")
    async with session.get(picture, headers={**AUTH, "Range": "bytes=-0"}) as resp:
        assert resp.status == 416
        assert (await resp.json())["error"]["code"] == "invalid_args"
    async with session.get(picture, headers={**AUTH, "Range": "bytes=-2"}) as resp:
        assert resp.status == 206
        assert await resp.read() == b"\xff\xd9"  # the end of a JPEG
    assert len(service.audit.query(action="snapshot").items) == 1


async def test_seeks_of_one_playback_make_one_entry(
    service: Service, session: aiohttp.ClientSession
) -> None:
    clip_id, size = await recorded_clip(service)
    headers = {**AUTH, "X-Porchlight-User": "alice"}
    for value in ("bytes=0-", f"bytes={size // 2}-", "bytes=-50"):
        async with session.get(
            url(service, f"/api/clips/{clip_id}.mp4"), headers={**headers, "Range": value}
        ) as resp:
            assert resp.status == 206
            await resp.read()
    assert downloads(service) == [clip_id]


async def test_mjpeg_in_privacy_mode_is_refused_like_the_snapshot(
    service: Service, session: aiohttp.ClientSession
) -> None:
    camera = service.cameras["porch"]
    live = url(service, "/api/cameras/porch/stream.mjpeg")
    # A viewer that is watching when privacy mode goes on is ended, not left waiting.
    async with session.get(live, headers=AUTH) as watching:
        assert watching.status == 200
        await watching.content.readuntil(b"\r\n\r\n")
        assert camera.live.viewers == 1
        await command(session, service, "set_privacy_mode", camera="porch", enabled=True)
        async with asyncio.timeout(10):
            while await watching.content.read(65536):
                pass
    await wait_until(lambda: camera.live.viewers == 0, 10, "the viewer's place to be freed")
    audited = len(service.audit.query(action="live_stream").items)
    for _ in range(3):
        async with asyncio.timeout(10), session.get(live, headers=AUTH) as resp:
            assert resp.status == 503
            assert "privacy" in (await resp.json())["error"]["message"]
    assert camera.live.viewers == 0
    assert len(service.audit.query(action="live_stream").items) == audited
    await command(session, service, "set_privacy_mode", camera="porch", enabled=False)
    await wait_until(lambda: camera.last_frame is not None, 10, "frames after privacy mode")
    async with session.get(live, headers=AUTH) as resp:
        assert resp.status == 200
        assert (await resp.content.readuntil(b"\r\n\r\n")).startswith(b"--frame")


async def raw_request(service: Service, request: bytes) -> bytes:
    """Send raw bytes as a request; the whole answer (the server closes after an error)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", service.port)
    writer.write(request)
    await writer.drain()
    async with asyncio.timeout(10):
        answer = await reader.read()
    writer.close()
    return answer


@pytest.mark.parametrize(
    "request_bytes",
    [
        b"GET /healthz HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer TOKEN\x00\r\n\r\n",
        b"GET /healthz HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer TOKEN\x01\x7f\r\n\r\n",
        b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Token: TOKEN" + b"a" * 9000 + b"\r\n\r\n",
        b"GET /healthz HTTP/1.1\r\nHost: x\r\nBad Header TOKEN: 1\r\n\r\n",
        b"GET /healthz?t=TOKEN\x00 HTTP/1.1\r\nHost: x\r\n\r\n",
        b"GET /healthz?t=TOKEN" + b"a" * 9000 + b" HTTP/1.1\r\nHost: x\r\n\r\n",
        b"TOKEN /healthz HTTP/1.1\r\nHost: x\r\n\r\n",
        b"GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: TOKEN\r\n\r\n",
    ],
    ids=["nul", "controls", "too-long", "bad-name", "nul-url", "long-url", "method", "length"],
)
async def test_malformed_requests_never_log_or_echo_what_was_sent(
    service: Service, caplog: pytest.LogCaptureFixture, request_bytes: bytes
) -> None:
    caplog.set_level(logging.DEBUG)
    answer = await raw_request(service, request_bytes.replace(b"TOKEN", TOKEN.encode()))
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith((b"HTTP/1.0 4", b"HTTP/1.1 4")), head
    assert b"application/json" in head
    assert json.loads(body)["error"]["code"] == "invalid_format"
    assert TOKEN.encode() not in answer
    formatter = logging.Formatter("%(name)s %(levelname)s %(message)s")
    logged = "\n".join(formatter.format(record) for record in caplog.records)
    assert "Rejected a request" in logged  # it is logged, by its kind
    assert TOKEN not in logged
    # Not even a recognisable piece of it.
    assert TOKEN[:12] not in logged
