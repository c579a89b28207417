"""Serving an aiohttp app on 127.0.0.1 for a test: a fake camera, add-on or proxy."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
import contextlib

from aiohttp import web


async def start_on_loopback(
    app: web.Application,
    *,
    port: int = 0,
    shutdown_timeout: float = 0.5,
    reuse_address: bool | None = None,
) -> tuple[web.AppRunner, int]:
    """Serve `app` on 127.0.0.1:`port` (0: a free port). Returns the runner (`cleanup()` it
    to stop) and the port bound; `shutdown_timeout` (s) is how long cleanup waits for
    handlers still running."""
    runner = web.AppRunner(app, handle_signals=False, shutdown_timeout=shutdown_timeout)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", port, reuse_address=reuse_address)
    await site.start()
    server = site._server
    assert isinstance(server, asyncio.Server)
    return runner, int(server.sockets[0].getsockname()[1])


@contextlib.asynccontextmanager
async def serving_on_loopback(
    app: web.Application, shutdown_timeout: float = 0.5
) -> AsyncIterator[int]:
    """`app` served on 127.0.0.1 (a free port) while the block runs; yields the port."""
    runner, port = await start_on_loopback(app, shutdown_timeout=shutdown_timeout)
    try:
        yield port
    finally:
        await runner.cleanup()
