"""A real add-on Service on loopback for tests and scripts: options, start/stop, URLs and
an authenticated websocket client."""

from __future__ import annotations

from collections.abc import AsyncIterator
import contextlib
from pathlib import Path
from typing import Any

import aiohttp

from porchlight_edge.config import parse_options
from porchlight_edge.protocol import version_info
from porchlight_edge.service import Service


def demo_cameras(width: int, height: int, *names: str) -> list[dict[str, Any]]:
    """Demo cameras of one picture size (pixels), one per name."""
    return [
        {"name": name, "source": "demo", "demo": {"width": width, "height": height}}
        for name in names
    ]


def loopback_options(token: str, cameras: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    """Raw add-on options: loopback, a free port, no zeroconf; `extra` adds top-level keys."""
    return {
        "host": "127.0.0.1",
        "port": 0,
        "token": token,
        "zeroconf": False,
        **extra,
        "cameras": cameras,
    }


@contextlib.asynccontextmanager
async def running_service(raw: dict[str, Any], data_dir: Path) -> AsyncIterator[Service]:
    """A started Service of the raw options, stopped on exit."""
    service = Service(parse_options(raw, data_dir))
    await service.start()
    try:
        yield service
    finally:
        await service.stop()


def url(service: Service, path: str) -> str:
    """The service's HTTP URL of `path` (which starts with "/")."""
    return f"http://127.0.0.1:{service.port}{path}"


async def connect_ws(
    session: aiohttp.ClientSession,
    service: Service,
    token: str,
    *,
    client: str | None = None,
    timeout: float = 5,
) -> tuple[aiohttp.ClientWebSocketResponse, dict[str, Any]]:
    """An authenticated websocket: (the socket, the server_info message it sent first).

    Raises AssertionError when the reply to auth is not auth_ok."""
    ws = await session.ws_connect(url(service, "/api/websocket"))
    info: dict[str, Any] = await ws.receive_json(timeout=timeout)
    # a current client announces its version (one that does not is served as protocol 1.0)
    auth: dict[str, Any] = {"type": "auth", "token": token, **version_info()}
    if client is not None:
        auth["client"] = client
    await ws.send_json(auth)
    reply = await ws.receive_json(timeout=timeout)
    assert reply["type"] == "auth_ok", reply
    return ws, info


def file_camera(name: str, path: Path) -> dict[str, Any]:
    """A camera that plays the video file at `path` in real time, looping."""
    return {"name": name, "source": "file", "path": str(path), "loop": True, "realtime": True}
