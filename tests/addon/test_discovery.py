"""Discovery: Supervisor API under the Supervisor, zeroconf standalone."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestServer
import pytest

from porchlight_edge.discovery import SERVICE, ZEROCONF_TYPE, Discovery


@pytest.fixture
async def supervisor() -> AsyncIterator[tuple[TestServer, list[tuple[str, str, Any]]]]:
    calls: list[tuple[str, str, Any]] = []

    async def post(request: web.Request) -> web.Response:
        assert request.headers["Authorization"] == "Bearer sup-token"
        calls.append(("POST", request.path, await request.json()))
        return web.json_response({"result": "ok", "data": {"uuid": "abc123"}})

    async def delete(request: web.Request) -> web.Response:
        calls.append(("DELETE", request.path, None))
        return web.json_response({"result": "ok", "data": {}})

    app = web.Application()
    app.router.add_post("/discovery", post)
    app.router.add_delete("/discovery/{uuid}", delete)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    yield server, calls
    await server.close()


def _discovery(**kw: Any) -> Discovery:
    return Discovery(
        port=8765,
        token="tok",
        instance_id="0123456789abcdef",
        name="Porchlight",
        version="0.1.0",
        protocol_version=1,
        **kw,
    )


async def test_supervisor_discovery_published_and_withdrawn(
    supervisor: tuple[TestServer, list[tuple[str, str, Any]]], monkeypatch: pytest.MonkeyPatch
) -> None:
    server, calls = supervisor
    monkeypatch.setenv("SUPERVISOR_TOKEN", "sup-token")
    monkeypatch.setenv("SUPERVISOR_URL", str(server.make_url("")).rstrip("/"))
    discovery = _discovery()
    await discovery.start()
    assert calls[0][0:2] == ("POST", "/discovery")
    body = calls[0][2]
    assert body["service"] == SERVICE
    assert body["config"]["port"] == 8765
    assert body["config"]["token"] == "tok"
    assert body["config"]["host"]
    assert discovery.discovery_uuid == "abc123"
    await discovery.stop()
    assert calls[1][0:2] == ("DELETE", "/discovery/abc123")


async def test_supervisor_unreachable_is_not_fatal(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("SUPERVISOR_TOKEN", "sup-token")
    monkeypatch.setenv("SUPERVISOR_URL", "http://127.0.0.1:9")
    discovery = _discovery()
    await discovery.start()
    assert discovery.discovery_uuid is None
    assert "Supervisor discovery failed" in caplog.text
    await discovery.stop()


async def test_zeroconf_advertises_service(monkeypatch: pytest.MonkeyPatch) -> None:
    from zeroconf.asyncio import AsyncZeroconf

    monkeypatch.delenv("SUPERVISOR_TOKEN", raising=False)
    # The HA test plugin forbids DNS look-ups; advertise the loopback address.
    monkeypatch.setattr("porchlight_edge.discovery._local_addresses", lambda: ["127.0.0.1"])
    discovery = _discovery(zeroconf=True, zeroconf_interfaces=["127.0.0.1"])
    await discovery.start()
    assert discovery._zeroconf is not None
    browser = AsyncZeroconf(interfaces=["127.0.0.1"])
    try:
        name = f"Porchlight 012345.{ZEROCONF_TYPE}"
        info = await browser.async_get_service_info(ZEROCONF_TYPE, name, timeout=3000)
        assert info is not None
        assert info.port == 8765
        assert info.properties[b"instance_id"] == b"0123456789abcdef"
        assert b"token" not in info.properties
    finally:
        await browser.async_close()
        await discovery.stop()
