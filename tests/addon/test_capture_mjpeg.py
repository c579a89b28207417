"""MJPEG over HTTP from a real aiohttp server on 127.0.0.1, JPEGs made with cv2.imencode."""

from __future__ import annotations

import asyncio
import base64
import logging
from typing import TYPE_CHECKING

from aiohttp import web
import cv2
import numpy as np
import pytest

from porchlight_edge.capture import CameraConfig, Frame, open_source
from tests.helpers.camera_session import drain

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from tests.addon.conftest import HttpHandler

SECRET = "hunter2pass"
COLORS = [(0, 0, 255), (0, 255, 0), (255, 0, 0), (0, 255, 255), (255, 255, 255)]  # BGR


def jpeg(color: tuple[int, int, int], size: tuple[int, int] = (160, 120)) -> bytes:
    img = np.zeros((size[1], size[0], 3), np.uint8)
    img[:] = color
    ok, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, 90])
    assert ok
    return bytes(buf)


def multipart_handler(
    *, boundary: str = "frame", header_boundary: str | None = None, lengths: bool = True,
    chunk: int = 700, count: int = len(COLORS), auth: str | None = None,
) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:  # fmt: skip
    async def handler(request: web.Request) -> web.StreamResponse:
        if auth is not None and request.headers.get("Authorization") != auth:
            return web.Response(status=401)
        resp = web.StreamResponse()
        resp.content_type = "multipart/x-mixed-replace"
        ctype = f"multipart/x-mixed-replace; boundary={header_boundary or boundary}"
        resp.headers["Content-Type"] = ctype
        await resp.prepare(request)
        for i in range(count):
            body = jpeg(COLORS[i % len(COLORS)])
            head = f"--{boundary}\r\nContent-Type: image/jpeg\r\n"
            if lengths:
                head += f"Content-Length: {len(body)}\r\n"
            data = head.encode() + b"\r\n" + body + b"\r\n"
            # Small writes with pauses: parts straddle the reader's chunk boundaries.
            for start in range(0, len(data), chunk):
                await resp.write(data[start : start + chunk])
                await asyncio.sleep(0.001)
        return resp

    return handler


def mjpeg_cfg(url: str, **kw: object) -> CameraConfig:
    return CameraConfig.from_dict({"name": "mj", "source": "mjpeg", "url": url, **kw})


def center_bgr(frame: Frame) -> tuple[int, int, int]:
    img = frame.to_bgr()
    b, g, r = img[img.shape[0] // 2, img.shape[1] // 2]
    return int(b), int(g), int(r)


@pytest.mark.parametrize(
    ("lengths", "header_boundary"),
    [(True, None), (False, None), (True, "--frame"), (False, '"frame"')],
    ids=["content-length", "no-length", "dashed-boundary", "quoted-boundary"],
)
async def test_multipart_stream_decodes_every_jpeg(
    capture_http: Callable[[HttpHandler], Awaitable[str]],
    lengths: bool,
    header_boundary: str | None,
) -> None:
    base = await capture_http(multipart_handler(lengths=lengths, header_boundary=header_boundary))
    frames, ended = await drain(open_source(mjpeg_cfg(f"{base}/video")), 100)
    assert len(frames) == len(COLORS)
    for frame, color in zip(frames, COLORS, strict=True):
        assert (frame.width, frame.height) == (160, 120)
        assert center_bgr(frame) == pytest.approx(color, abs=6)
    assert ended is not None
    assert "ended the stream" in ended
    assert [f.pts for f in frames] == sorted(f.pts for f in frames)


async def test_basic_auth_from_url_and_redacted_errors(
    capture_http: Callable[[HttpHandler], Awaitable[str]], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    token = "Basic " + base64.b64encode(f"user:{SECRET}".encode()).decode()
    base = await capture_http(multipart_handler(auth=token, count=2))
    port = base.rsplit(":", 1)[1]
    frames, _ = await drain(open_source(mjpeg_cfg(f"http://user:{SECRET}@127.0.0.1:{port}/v")), 2)
    assert [center_bgr(f) for f in frames] == [pytest.approx(c, abs=6) for c in COLORS[:2]]

    wrong = open_source(mjpeg_cfg(f"http://user:wrong{SECRET}@127.0.0.1:{port}/v"))
    frames, ended = await drain(wrong, 1)
    assert frames == []
    assert ended == f"mj: http://***@127.0.0.1:{port}/v answered HTTP 401"
    assert SECRET not in caplog.text


async def test_snapshot_url_is_polled(
    capture_http: Callable[[HttpHandler], Awaitable[str]],
) -> None:
    served = 0

    async def snapshot(request: web.Request) -> web.Response:
        nonlocal served
        served += 1
        return web.Response(body=jpeg(COLORS[served % len(COLORS)]), content_type="image/jpeg")

    base = await capture_http(snapshot)
    frames, ended = await drain(open_source(mjpeg_cfg(f"{base}/snap.jpg", fps=50)), 3)
    assert ended is None
    assert served == 3
    assert [center_bgr(f) for f in frames] == [pytest.approx(c, abs=6) for c in COLORS[1:4]]


async def test_connection_refused_is_a_capture_error() -> None:
    source = open_source(mjpeg_cfg("http://127.0.0.1:9/video", open_timeout=2, read_timeout=2))
    frames, ended = await drain(source, 1)
    assert frames == []
    assert ended is not None
    assert ended.startswith("mj: http://127.0.0.1:9/video failed")


async def test_stalled_server_times_out(
    capture_http: Callable[[HttpHandler], Awaitable[str]],
) -> None:
    async def silent(request: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse()
        resp.headers["Content-Type"] = "multipart/x-mixed-replace; boundary=frame"
        await resp.prepare(request)
        await asyncio.sleep(2.5)  # longer than read_timeout; cleanup waits for it
        return resp

    base = await capture_http(silent)
    frames, ended = await drain(open_source(mjpeg_cfg(f"{base}/v", read_timeout=1)), 1)
    assert frames == []
    assert ended is not None
    assert "failed" in ended
