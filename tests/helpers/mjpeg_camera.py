"""A network camera on 127.0.0.1 that serves MJPEG streams, one per path."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
import contextlib

from aiohttp import web
import cv2
import numpy as np

from tests.helpers.loopback_http import serving_on_loopback


def solid_jpeg(width: int, height: int, value: int = 120) -> bytes:
    ok, data = cv2.imencode(".jpg", np.full((height, width, 3), value, np.uint8))
    assert ok
    return data.tobytes()


@contextlib.asynccontextmanager
async def mjpeg_camera(streams: dict[str, bytes], fps: float = 10) -> AsyncIterator[int]:
    """Serve `path -> jpeg` as endless multipart streams; yields the port."""

    def handler(jpeg: bytes) -> web.Handler:
        head = f"--cam\r\nContent-Type: image/jpeg\r\nContent-Length: {len(jpeg)}\r\n\r\n"

        async def stream(request: web.Request) -> web.StreamResponse:
            response = web.StreamResponse(
                headers={"Content-Type": "multipart/x-mixed-replace; boundary=cam"}
            )
            await response.prepare(request)
            with contextlib.suppress(ConnectionResetError):
                while True:
                    await response.write(head.encode() + jpeg + b"\r\n")
                    await asyncio.sleep(1 / fps)
            return response

        return stream

    app = web.Application()
    for path, jpeg in streams.items():
        app.router.add_get(path, handler(jpeg))
    async with serving_on_loopback(app) as port:
        yield port
