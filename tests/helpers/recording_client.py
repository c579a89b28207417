"""A service with one recording file camera, and a websocket client of it that keeps every
event it sees (the recording API tests and those built on the same set-up)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
import contextlib
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from porchlight_edge.protocol import version_info
from porchlight_edge.service import Service
from tests.helpers.footage import make_h264
from tests.helpers.service import file_camera, loopback_options, running_service
from tests.helpers.waiting import wait_until

TOKEN = "recording-test-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture(scope="module")
def video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """6 s of 640x360 H.264 at 10 fps, a keyframe each second (a module-scoped fixture)."""
    path = tmp_path_factory.mktemp("video") / "porch.mp4"
    return make_h264(path, seconds=6, fps=10, width=640, height=360, gop=10)


def options(tmp_path: Path, video: Path, **camera: Any) -> dict[str, Any]:
    """Raw options: one file camera `porch` playing `video` that records (2 s pre-roll, 1 s
    post-roll); `camera` adds to or overrides the camera's keys."""
    recording = {"pre_roll": 2, "post_roll": 1}
    return loopback_options(
        TOKEN, [{**file_camera("porch", video), "recording": recording, **camera}]
    )


class Client:
    """A websocket client that keeps every event it sees."""

    def __init__(self, session: aiohttp.ClientSession, service: Service) -> None:
        self.session, self.service = session, service
        self.events: list[dict[str, Any]] = []
        self._next_id = 0
        self._results: dict[int, asyncio.Future[dict[str, Any]]] = {}

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.service.port}{path}"

    async def __aenter__(self) -> Client:
        self.ws = await self.session.ws_connect(self.url("/api/websocket"))
        await self.ws.receive_json()
        auth = {"type": "auth", "token": TOKEN, "client": "pytest", **version_info()}
        await self.ws.send_json(auth)
        assert (await self.ws.receive_json())["type"] == "auth_ok"
        self._reader = asyncio.create_task(self._read())
        await self.call("subscribe")
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.ws.close()
        await self._reader

    async def _read(self) -> None:
        async for msg in self.ws:
            data = msg.json()
            if data["type"] == "event":
                self.events.append(data)
            elif data["type"] == "result":
                self._results.pop(data["message_id"]).set_result(data)

    async def call(self, command: str, **args: Any) -> dict[str, Any]:
        self._next_id += 1
        future = asyncio.get_running_loop().create_future()
        self._results[self._next_id] = future
        await self.ws.send_json({"message_id": self._next_id, "command": command, "args": args})
        return await asyncio.wait_for(future, 10)

    async def ok(self, command: str, **args: Any) -> Any:
        reply = await self.call(command, **args)
        assert reply["success"], reply
        return reply["result"]

    async def wait_event(self, event: str, timeout: float = 15, **match: Any) -> dict[str, Any]:
        """The first event `event` seen whose data has the values `match`."""

        def found() -> dict[str, Any] | None:
            return next(
                (
                    item
                    for item in self.events
                    if item["event"] == event
                    and all(item["data"].get(k) == v for k, v in match.items())
                ),
                None,
            )

        await wait_until(found, timeout, f"event {event} {match or ''}".rstrip())
        item = found()
        assert item is not None
        return item


@contextlib.asynccontextmanager
async def porch_served(
    session: aiohttp.ClientSession, data_dir: Path, video: Path, **camera: Any
) -> AsyncIterator[tuple[Service, Client]]:
    """The service with one file camera "porch" (`camera`: its other options) and a client,
    once the camera's first frame is in."""
    options = loopback_options(TOKEN, [{**file_camera("porch", video), **camera}])
    async with running_service(options, data_dir) as service, Client(session, service) as client:
        await wait_until(
            lambda: service.cameras["porch"].last_frame is not None, 10, "a frame from the camera"
        )
        yield service, client
