"""Footage downloads whose client stops reading end: a clip or snapshot download that
takes nothing for `stall_timeout` seconds is dropped, so it frees its connection (and
its open file) instead of holding them until the add-on stops. Real service, real
clip, real loopback socket with a tiny receive buffer."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
import socket
import struct

import aiohttp
import pytest

from porchlight_edge.api.connections import ConnectionLimits
from porchlight_edge.config import parse_options
from porchlight_edge.protocol import EventType
from porchlight_edge.service import Service
from tests.helpers.recording_client import TOKEN, Client, options, video
from tests.helpers.waiting import wait_until

__all__ = ["video"]  # the module-scoped fixture, shared

STALL = 2.0
PADDING = 64 * 1024 * 1024
"""A `free` box this large (valid MP4) makes the clip outgrow every socket buffer."""


@pytest.fixture
async def service(tmp_path: Path, video: Path) -> AsyncIterator[Service]:
    opts = parse_options(options(tmp_path, video), tmp_path / "data")
    opts.connections = ConnectionLimits(stall_timeout=STALL)
    svc = Service(opts)
    await svc.start()
    await wait_until(lambda: svc.cameras["porch"].last_frame is not None, 10, "a frame")
    yield svc
    await svc.stop()


async def test_a_clip_download_that_stops_reading_is_dropped(
    service: Service, tmp_path: Path
) -> None:
    async with aiohttp.ClientSession() as session, Client(session, service) as client:
        await client.ok("record_clip", camera="porch", seconds=1)
        finished = await client.wait_event(EventType.CLIP_FINISHED, timeout=30)
    clip_id = finished["data"]["clip_id"]
    _, path = service.store.clip_file(clip_id)
    with path.open("ab") as file:
        file.write(struct.pack(">I4s", PADDING, b"free"))
        file.truncate(path.stat().st_size + PADDING - 8)

    loop = asyncio.get_running_loop()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.setblocking(False)
    try:
        await loop.sock_connect(sock, ("127.0.0.1", service.port or 0))
        request = (
            f"GET /api/clips/{clip_id}.mp4 HTTP/1.1\r\nHost: x\r\n"
            f"Authorization: Bearer {TOKEN}\r\n\r\n"
        )
        await loop.sock_sendall(sock, request.encode())
        await wait_until(lambda: service.connections.trusted == 1, 10, "the download")
        # Never read: the download must be dropped and its connection freed.
        await wait_until(
            lambda: service.connections.trusted == 0, STALL + 20, "the stalled download dropped"
        )
    finally:
        sock.close()
