"""A stand-in for the Supervisor's ingress proxy, on loopback.

Like Home Assistant's ingress (`hassio/ingress.py`): requests under
`/api/hassio_ingress/<token>/` go to the add-on's ingress port with the prefix stripped,
`X-Ingress-Path` and the signed-in user's `X-Remote-User-*` headers added, from one fixed
source address (here `source`, e.g. 127.0.0.2, standing in for 172.30.32.2). Websockets
and streamed answers (MJPEG) pass through.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
import contextlib
from dataclasses import dataclass
import os
from pathlib import Path
import signal
import subprocess
import sys
import time

import aiohttp
from aiohttp import WSMsgType, web

TOKEN = "ingress-test-token"
PREFIX = f"/api/hassio_ingress/{TOKEN}"
USER = {
    "X-Remote-User-Id": "8d2f0c1e",
    "X-Remote-User-Name": "alice",
    "X-Remote-User-Display-Name": "Alice",
}
_HOP = {
    "host",
    "connection",
    "keep-alive",
    "upgrade",
    "transfer-encoding",
    "content-length",
    "content-encoding",
    "sec-websocket-key",
    "sec-websocket-version",
    "sec-websocket-extensions",
    "sec-websocket-accept",
    "sec-websocket-protocol",
}


def _forwarded(headers: object, user: bool) -> dict[str, str]:
    out = {k: v for k, v in headers.items() if k.lower() not in _HOP}  # type: ignore[attr-defined]
    out["X-Ingress-Path"] = PREFIX
    if user:
        out.update(USER)
    return out


@dataclass
class IngressProxy:
    """The proxy's address; `url` is the panel's public root (ends with "/")."""

    port: int
    addon_port: int

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}{PREFIX}/"


async def _pump_ws(
    src: aiohttp.ClientWebSocketResponse | web.WebSocketResponse, dst: object
) -> None:
    async for msg in src:
        if msg.type is WSMsgType.TEXT:
            await dst.send_str(msg.data)  # type: ignore[attr-defined]
        elif msg.type is WSMsgType.BINARY:
            await dst.send_bytes(msg.data)  # type: ignore[attr-defined]
        else:
            break
    await dst.close()  # type: ignore[attr-defined]


def _app(addon_port: int, source: str) -> web.Application:
    async def startup(app: web.Application) -> None:
        connector = aiohttp.TCPConnector(local_addr=(source, 0), force_close=True)
        app["client"] = aiohttp.ClientSession(connector=connector, auto_decompress=False)

    async def cleanup(app: web.Application) -> None:
        await app["client"].close()

    async def handle(request: web.Request) -> web.StreamResponse:
        client: aiohttp.ClientSession = request.app["client"]
        target = f"http://127.0.0.1:{addon_port}/{request.match_info['tail']}"
        if request.query_string:
            target += f"?{request.query_string}"
        headers = _forwarded(request.headers, user=True)
        if request.headers.get("Upgrade", "").lower() == "websocket":
            server = web.WebSocketResponse()
            await server.prepare(request)
            async with client.ws_connect(target, headers=headers) as upstream:
                await asyncio.gather(_pump_ws(server, upstream), _pump_ws(upstream, server))
            return server
        async with client.request(
            request.method,
            target,
            headers=headers,
            data=await request.read(),
            allow_redirects=False,
        ) as upstream:
            response = web.StreamResponse(
                status=upstream.status,
                headers={k: v for k, v in upstream.headers.items() if k.lower() not in _HOP},
            )
            await response.prepare(request)
            with contextlib.suppress(ConnectionError):
                async for chunk in upstream.content.iter_any():
                    await response.write(chunk)
                await response.write_eof()
            return response

    app = web.Application()
    app.on_startup.append(startup)
    app.on_cleanup.append(cleanup)
    app.router.add_route("*", PREFIX + "/{tail:.*}", handle)
    return app


async def _serve(addon_port: int, source: str, ready: Path) -> None:
    runner = web.AppRunner(_app(addon_port, source), shutdown_timeout=1.0)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    ready.with_suffix(".tmp").write_text(str(port))
    ready.with_suffix(".tmp").replace(ready)
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    await stop.wait()
    await runner.cleanup()


@contextlib.contextmanager
def ingress_proxy(
    addon_port: int, workdir: Path, source: str = "127.0.0.2"
) -> Iterator[IngressProxy]:
    """Run the proxy as a process of its own (outside the test process's socket guard)."""
    ready = workdir / "ingress-proxy.port"
    ready.unlink(missing_ok=True)
    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(root), str(root / "addon")])}
    cmd = [sys.executable, "-m", "tests.helpers.ingress_proxy", str(addon_port), source, str(ready)]
    with (workdir / "ingress-proxy.log").open("ab") as log:
        proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 20
        while not ready.exists():
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the ingress proxy did not start")
            time.sleep(0.05)
        yield IngressProxy(int(ready.read_text()), addon_port)
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


if __name__ == "__main__":
    asyncio.run(_serve(int(sys.argv[1]), sys.argv[2], Path(sys.argv[3])))
