"""A running service with one demo camera and small, chosen connection limits, and raw TCP
connections to it (the API availability and pre-auth budget tests)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
import socket

import pytest

from porchlight_edge.api.connections import ConnectionLimits
from porchlight_edge.config import parse_options
from porchlight_edge.service import Service
from tests.helpers.waiting import wait_until

TOKEN = "availability-token-0123456789"
Starter = Callable[..., Awaitable[Service]]
"""The `start` fixture's value: `await start(limits=..., max_viewers=..., width=...)`."""


@pytest.fixture
async def start(tmp_path: Path) -> AsyncIterator[Starter]:
    """`await start(limits=ConnectionLimits(...), max_viewers=8, width=320)`: a running
    service with one demo camera `width` pixels wide (16:9); its live view at full width."""
    started: list[Service] = []

    async def run(
        limits: ConnectionLimits | None = None, max_viewers: int = 8, width: int = 320
    ) -> Service:
        raw = {
            "host": "127.0.0.1",
            "port": 0,
            "token": TOKEN,
            "zeroconf": False,
            "live": {"max_viewers": max_viewers, "width": width, "quality": 100},
            "cameras": [
                {
                    "name": "front_door",
                    "source": "demo",
                    "demo": {"width": width, "height": width * 9 // 16},
                }
            ],
        }
        options = parse_options(raw, tmp_path / f"data{len(started)}")
        if limits is not None:
            options.connections = limits
        service = Service(options)
        await service.start()
        started.append(service)
        await wait_until(
            lambda: service.cameras["front_door"].last_frame is not None, 10, "a first frame"
        )
        return service

    yield run
    for service in started:
        await service.stop()


async def open_socket(
    service: Service, source: str = "127.0.0.1", rcvbuf: int | None = None
) -> socket.socket:
    """A raw TCP connection to the service, from `source` (any 127.x address is local)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if rcvbuf is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    sock.bind((source, 0))
    sock.setblocking(False)
    await asyncio.get_running_loop().sock_connect(sock, ("127.0.0.1", service.port or 0))
    return sock
