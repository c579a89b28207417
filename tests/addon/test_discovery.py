"""Discovery: Supervisor API under the Supervisor, zeroconf standalone."""

from __future__ import annotations

from collections.abc import AsyncIterator
import logging
from pathlib import Path
import secrets
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestServer
import pytest

from porchlight_edge.config import parse_options
from porchlight_edge.discovery import (
    SERVICE,
    ZEROCONF_TYPE,
    Discovery,
    _dns_label,
    advertised_addresses,
)
from porchlight_edge.service import Service


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
    args: dict[str, Any] = {
        "port": 8765,
        "token": "tok",
        "instance_id": "0123456789abcdef",
        "name": "Porchlight",
        "version": "0.1.0",
        "protocol_version": 1,
    }
    return Discovery(**(args | kw))


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
    # The mDNS mechanics, kept on loopback: the address is given explicitly (a service that
    # listens on loopback only would not advertise itself, see below).
    # A fresh id per run: another test run on this host must not answer for our name.
    instance_id = secrets.token_hex(8)
    discovery = _discovery(
        zeroconf=True,
        zeroconf_interfaces=["127.0.0.1"],
        addresses=["127.0.0.1"],
        instance_id=instance_id,
    )
    await discovery.start()
    assert discovery._zeroconf is not None
    name = f"Porchlight {instance_id[:6]}.{ZEROCONF_TYPE}"
    assert discovery.advertised_name == name
    browser = AsyncZeroconf(interfaces=["127.0.0.1"])
    try:
        info = await browser.async_get_service_info(ZEROCONF_TYPE, name, timeout=3000)
        assert info is not None
        assert info.port == 8765
        assert info.properties[b"instance_id"] == instance_id.encode()
        assert b"token" not in info.properties
    finally:
        await browser.async_close()
        await discovery.stop()
    assert discovery.advertised_name is None


def test_dns_label_fits_63_bytes_on_a_character_boundary() -> None:
    assert _dns_label("Porchlight", "0a1b2c") == "Porchlight 0a1b2c"
    long = _dns_label("Ünïcödé porch " * 6, "0a1b2c")
    assert len(long.encode()) <= 63
    assert long.endswith(" 0a1b2c")
    assert long.startswith("Ünïcödé porch Ünïcödé porch")


async def test_zeroconf_unavailable_is_a_warning(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.delenv("SUPERVISOR_TOKEN", raising=False)
    # TEST-NET-3: no interface of this machine has it, so the socket cannot join the group.
    discovery = _discovery(
        zeroconf=True, zeroconf_interfaces=["203.0.113.1"], addresses=["127.0.0.1"]
    )
    await discovery.start()
    assert discovery._zeroconf is None
    assert discovery.advertised_name is None
    assert "Zeroconf advertisement unavailable" in caplog.text
    await discovery.stop()


LAN = ["127.0.0.1", "192.168.1.5", "10.0.0.2", "fe80::1"]


@pytest.mark.parametrize(
    ("listen", "expected"),
    [
        (["127.0.0.1"], []),  # loopback only: nobody else can reach it
        (["127.0.0.2"], []),  # any loopback address
        (["::1"], []),
        (["0.0.0.0"], ["10.0.0.2", "192.168.1.5"]),  # every interface, loopback aside
        (["0.0.0.0", "::"], ["10.0.0.2", "192.168.1.5"]),  # aiohttp's host=None binds both
        (["192.168.1.5"], ["192.168.1.5"]),  # one interface: only that one
        (["203.0.113.9"], []),  # not this machine's
        (["::"], []),  # IPv6 only: the advertisement is IPv4
        ([], []),
    ],
)
def test_advertised_addresses_are_the_ones_listened_on(
    listen: list[str], expected: list[str]
) -> None:
    assert advertised_addresses(listen, LAN) == expected


async def test_loopback_only_service_does_not_advertise(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """`scripts/develop` runs the add-on on 127.0.0.1: it must not be "discovered" on the LAN,
    where nobody can reach it."""
    monkeypatch.delenv("SUPERVISOR_TOKEN", raising=False)
    caplog.set_level(logging.INFO, logger="porchlight_edge.discovery")
    options = parse_options(
        {
            "host": "127.0.0.1",
            "port": 0,
            "zeroconf": True,
            "cameras": [{"name": "a", "source": "demo", "demo": {"width": 160, "height": 90}}],
        },
        tmp_path,
    )
    service = Service(options)
    await service.start()
    try:
        assert service._discovery is not None
        assert service._discovery.listen_addresses == ("127.0.0.1",)
        assert service._discovery._zeroconf is None
        assert service._discovery.advertised_name is None
        assert "Not advertising over zeroconf: listening on 127.0.0.1" in caplog.text
    finally:
        await service.stop()
