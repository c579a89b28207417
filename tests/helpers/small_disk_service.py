"""A service with one demo camera on a small real disk, and a plain websocket client of it
(the settings fault tests, and the audio and audit tests on a full disk)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
import contextlib
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from porchlight_edge.service import Service
from tests.helpers.disk import fill, tmpfs
from tests.helpers.service import connect_ws, demo_cameras, loopback_options, running_service

TOKEN = "settings-faults-token-01"


def raw_options(data_dir: Path, media_dir: Path, **camera: Any) -> dict[str, Any]:
    """One 64x64 demo camera `porch` (`camera` adds keys), clips in `media_dir`, no
    free-space floor (a small disk would otherwise be "too full")."""
    (demo,) = demo_cameras(64, 64, "porch")
    return loopback_options(
        TOKEN,
        [{**demo, **camera}],
        media_dir=str(media_dir),
        retention={"min_free_gb": 0},  # the small disk would otherwise be "too full"
    )


def running(data_dir: Path, media_dir: Path, **camera: Any) -> AbstractAsyncContextManager[Service]:
    """The service of `raw_options`, running with its data in `data_dir`."""
    return running_service(raw_options(data_dir, media_dir, **camera), data_dir)


class Client:
    """Commands over one websocket, one at a time; events are skipped."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws, self.next_id = ws, 0

    async def call(self, command: str, **args: Any) -> dict[str, Any]:
        """The result message (success or error) of `command`."""
        self.next_id += 1
        await self.ws.send_json({"message_id": self.next_id, "command": command, "args": args})
        while True:
            reply: dict[str, Any] = await self.ws.receive_json(timeout=10)
            if reply.get("type") == "result" and reply["message_id"] == self.next_id:
                return reply


@contextlib.asynccontextmanager
async def client(service: Service) -> AsyncIterator[Client]:
    """A `Client` of `service`, signed in, for the `async with` block."""
    async with aiohttp.ClientSession() as session:
        ws, _ = await connect_ws(session, service, TOKEN, client="pytest")
        yield Client(ws)
        await ws.close()


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A real 2 MiB tmpfs (a fixture; skips where tmpfs cannot be mounted)."""
    with tmpfs(tmp_path / "small", "2m") as disk:
        yield disk


def fill_up(disk: Path) -> Path:
    """Fill the disk completely; returns the filler to delete for space again."""
    fill(disk, leave=0)
    return disk / "filler"
