"""The panel's serving: the ingress port (Supervisor address only, its user in the audit
log, the ingress prefix), the standalone page session and the security headers.

A real Service on loopback: its ingress port trusts 127.0.0.2 (standing in for the
Supervisor's 172.30.32.2), and clients connect from 127.0.0.1 or 127.0.0.2.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
import contextlib
from pathlib import Path
import time
import tomllib

import aiohttp
import pytest
import yaml  # type: ignore[import-untyped]

from porchlight_edge.__main__ import build_parser, load
from porchlight_edge.audit import AuditAction
from porchlight_edge.config import parse_options
from porchlight_edge.panel.ingress import INGRESS_PORT, SUPERVISOR_INGRESS_ADDRESS, same_address
from porchlight_edge.panel.routes import PANEL_PATH, STATIC_DIR
from porchlight_edge.panel.sessions import COOKIE_NAME, PanelSessions
from porchlight_edge.protocol import POLYGON_PATTERN, ZONE_PATTERN
from porchlight_edge.service import Service
from tests.helpers.addon_files import ADDON
from tests.helpers.footage import make_h264
from tests.helpers.service import demo_cameras, loopback_options
from tests.helpers.waiting import wait_until

TOKEN = "panel-test-token-0123456789"
SUPERVISOR = "127.0.0.2"
USER = {"X-Remote-User-Id": "8d2f0c1e", "X-Remote-User-Name": "alice"}


@pytest.fixture
async def service(tmp_path: Path) -> AsyncIterator[Service]:
    options = parse_options(loopback_options(TOKEN, demo_cameras(160, 120, "door")), tmp_path)
    options.ingress_port = 0
    options.ingress_peers = frozenset({SUPERVISOR})
    service = Service(options)
    await service.start()
    try:
        yield service
    finally:
        await service.stop()


@contextlib.asynccontextmanager
async def client(source: str) -> AsyncIterator[aiohttp.ClientSession]:
    connector = aiohttp.TCPConnector(local_addr=(source, 0), force_close=True)
    # unsafe: keep cookies of an IP address host, as a browser does.
    jar = aiohttp.CookieJar(unsafe=True)
    async with aiohttp.ClientSession(connector=connector, cookie_jar=jar) as session:
        yield session


def ingress(service: Service, path: str) -> str:
    return f"http://127.0.0.1:{service.ingress_port}{path}"


def api(service: Service, path: str) -> str:
    return f"http://127.0.0.1:{service.port}{path}"


async def _first_frame(service: Service) -> None:
    await wait_until(lambda: service.cameras["door"].frames > 0, 10, "a frame")


async def test_only_the_ingress_address_is_let_in(service: Service) -> None:
    await _first_frame(service)
    paths = ("/panel/", "/panel/app.js", "/api/cameras/door/snapshot.jpg", "/api/websocket")
    async with client("127.0.0.1") as other:
        for path in paths:
            async with other.get(ingress(service, path), headers=USER) as resp:
                assert resp.status == 403, path
                assert (await resp.json())["error"]["code"] == "invalid_auth"
    async with client(SUPERVISOR) as supervisor:
        for path in paths[:3]:
            async with supervisor.get(ingress(service, path), headers=USER) as resp:
                assert resp.status == 200, path
        ws = await supervisor.ws_connect(ingress(service, "/api/websocket"))
        await ws.close()


async def test_the_ingress_prefix_is_where_the_panel_lives(service: Service) -> None:
    async with client(SUPERVISOR) as supervisor:
        prefix = {"X-Ingress-Path": "/api/hassio_ingress/AbC-123_x"}
        async with supervisor.get(
            ingress(service, "/"), headers=prefix, allow_redirects=False
        ) as resp:
            assert resp.status == 302
            assert resp.headers["Location"] == "/api/hassio_ingress/AbC-123_x/panel/"
        # A header that is not a plain path leaves the redirect relative (never off-site).
        for odd in ("//evil.example/x", "https://evil.example", "/a/../b", "/a b"):
            headers = {"X-Ingress-Path": odd}
            async with supervisor.get(
                ingress(service, "/"), headers=headers, allow_redirects=False
            ) as resp:
                assert resp.headers["Location"] == "panel/", odd
        async with supervisor.get(ingress(service, "/panel/")) as resp:
            page = await resp.text()
    # Every URL in the page is relative, so it works under any prefix.
    assert 'src="app.js"' in page
    assert 'href="/' not in page
    assert 'src="/' not in page
    # On the API port the header means nothing.
    async with (
        client("127.0.0.1") as anyone,
        anyone.get(api(service, "/"), headers=prefix, allow_redirects=False) as resp,
    ):
        assert resp.headers["Location"] == "panel/"


async def test_through_ingress_the_user_needs_no_token_and_is_audited(service: Service) -> None:
    await _first_frame(service)
    async with client(SUPERVISOR) as supervisor:
        ws = await supervisor.ws_connect(ingress(service, "/api/websocket"), headers=USER)
        await ws.receive_json()
        await ws.send_json({"type": "auth", "client": "panel"})
        assert (await ws.receive_json())["type"] == "auth_ok"
        await ws.send_json(
            {"message_id": 1, "command": "set_privacy_mode", "args": {"enabled": True}}
        )
        assert (await ws.receive_json())["success"]
        await ws.close()
        # The Supervisor names the user: a client's own user header does not count.
        headers = {**USER, "X-Porchlight-User": "mallory"}
        async with supervisor.get(
            ingress(service, "/api/cameras/door/snapshot.jpg"), headers=headers
        ):
            pass
    entries = service.audit.query().items
    by_action = {e.action: e for e in entries}
    privacy, snapshot = by_action["privacy_mode"], by_action["snapshot"]
    assert privacy.client_id == "panel"
    assert privacy.detail == {"enabled": True, "user": "alice", "user_id": "8d2f0c1e"}
    assert snapshot.client_id == "ingress"
    assert snapshot.detail == {"user": "alice", "user_id": "8d2f0c1e"}


async def test_each_ingress_user_seeing_a_clip_is_audited(tmp_path: Path) -> None:
    # Every ingress request comes from the Supervisor's one address: a second user playing
    # the same clip within a playback's gap is a new playback, not the first user's seek.
    clip_id = "0b7a3c2e-1d4f-4a5b-8c6d-7e8f9a0b1c2d"
    media = tmp_path / "media"
    (media / "clips").mkdir(parents=True)
    make_h264(media / "clips" / f"{clip_id}.mp4", seconds=1, fps=5, width=64, height=64)
    raw = loopback_options(TOKEN, demo_cameras(160, 120, "door"), media_dir=str(media))
    options = parse_options(raw, tmp_path / "data")
    options.ingress_port, options.ingress_peers = 0, frozenset({SUPERVISOR})
    service = Service(options)
    await service.start()
    bob = {"X-Remote-User-Id": "0c4e9a77", "X-Remote-User-Name": "bob"}
    try:
        async with client(SUPERVISOR) as supervisor:
            for user in (USER, bob, USER):  # alice's second request: her own seek
                for path in (f"/api/clips/{clip_id}.mp4", f"/api/clips/{clip_id}/thumbnail.jpg"):
                    async with supervisor.get(ingress(service, path), headers=user) as resp:
                        assert resp.status == 200, path
                        await resp.read()
        downloads = service.audit.query(action=AuditAction.CLIP_DOWNLOAD).items
        thumbnails = service.audit.query(action=AuditAction.SNAPSHOT).items
    finally:
        await service.stop()
    for entries in (downloads, thumbnails):
        assert sorted(e.detail["user"] for e in entries if e.detail) == ["alice", "bob"]
        assert len(entries) == 2


async def test_on_the_api_port_the_websocket_still_needs_the_token(service: Service) -> None:
    async with client("127.0.0.1") as anyone:
        ws = await anyone.ws_connect(api(service, "/api/websocket"), headers=USER)
        await ws.receive_json()
        await ws.send_json({"type": "auth", "client": "panel"})
        assert (await ws.receive_json())["type"] == "auth_invalid"
        await ws.close()


async def test_security_headers_and_caching(service: Service) -> None:
    await _first_frame(service)
    auth = {"Authorization": f"Bearer {TOKEN}"}
    async with client("127.0.0.1") as anyone:
        for path, kind, cache in (
            ("/panel/", "text/html", "no-cache"),
            ("/panel/api.js", "text/javascript", "no-cache"),
            ("/panel/style.css", "text/css", "no-cache"),
            ("/api/cameras/door/snapshot.jpg", "image/jpeg", "no-store"),
            ("/api/cameras/nowhere/snapshot.jpg", "application/json", "no-store"),
        ):
            async with anyone.get(api(service, path), headers=auth) as resp:
                assert resp.content_type == kind, path
                assert resp.headers["Cache-Control"] == cache, path
                assert resp.headers["Content-Security-Policy"].startswith("default-src 'self';")
                assert resp.headers["X-Content-Type-Options"] == "nosniff"
                assert resp.headers["Referrer-Policy"] == "no-referrer"
        for path in ("/panel/..%2f__init__.py", "/panel/ingress.py", "/panel/missing.js"):
            async with anyone.get(api(service, path)) as resp:
                assert resp.status == 404, path


async def test_streamed_answers_carry_the_security_headers_too(service: Service) -> None:
    # A stream sends its headers from inside the handler: the live view must not be
    # embeddable by another origin of the same host (same-site for the session cookie).
    await _first_frame(service)
    async with client("127.0.0.1") as anyone:
        auth = {"Authorization": f"Bearer {TOKEN}"}
        async with anyone.get(api(service, "/api/cameras/door/stream.mjpeg"), headers=auth) as resp:
            assert resp.status == 200
            assert resp.headers["Cross-Origin-Resource-Policy"] == "same-origin"
            assert resp.headers["X-Content-Type-Options"] == "nosniff"
            assert resp.headers["Cache-Control"] == "no-store"
    mjpeg = ingress(service, "/api/cameras/door/stream.mjpeg")
    async with client(SUPERVISOR) as proxy, proxy.get(mjpeg) as resp:
        assert resp.status == 200
        assert resp.headers["Cross-Origin-Resource-Policy"] == "same-origin"


async def test_the_standalone_page_session(service: Service) -> None:
    await _first_frame(service)
    snapshot = api(service, "/api/cameras/door/snapshot.jpg")
    async with client("127.0.0.1") as browser:
        async with browser.post(api(service, "/panel/session")) as resp:
            assert resp.status == 401
        async with browser.get(snapshot) as resp:
            assert resp.status == 401
        auth = {"Authorization": f"Bearer {TOKEN}"}
        async with browser.post(api(service, "/panel/session"), headers=auth) as resp:
            assert resp.status == 204
            cookie = resp.cookies[COOKIE_NAME]
        assert cookie["httponly"]
        assert cookie["samesite"] == "Strict"
        assert TOKEN not in cookie.value
        async with browser.get(snapshot) as resp:
            assert resp.status == 200
        # The cookie stands for the token only where a browser loads by itself (GET).
        async with browser.post(api(service, "/panel/session")) as resp:
            assert resp.status == 401
        async with browser.delete(api(service, "/panel/session"), headers=auth) as resp:
            assert resp.status == 204
        browser.cookie_jar.update_cookies({COOKIE_NAME: cookie.value})
        async with browser.get(snapshot) as resp:
            assert resp.status == 401


def test_sessions_expire_and_are_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    sessions = PanelSessions(lifetime=60, size=3)
    first = sessions.open()
    assert sessions.valid(first)
    assert not sessions.valid(first[:-1] + "x")
    assert not sessions.valid(None)
    now = time.monotonic()
    monkeypatch.setattr(time, "monotonic", lambda: now + 61)
    assert not sessions.valid(first)
    opened = [sessions.open() for _ in range(4)]
    assert not sessions.valid(opened[0])  # the oldest made room
    assert all(sessions.valid(s) for s in opened[1:])


def test_config_yaml_declares_the_panel_and_the_image_ships_it() -> None:
    config = yaml.safe_load((ADDON / "config.yaml").read_text())
    assert config["ingress"] is True
    assert config["ingress_port"] == INGRESS_PORT
    assert config["ingress_entry"] == PANEL_PATH.lstrip("/")  # HA opens the page itself
    assert config["panel_title"] == "Porchlight"
    assert config["panel_icon"].startswith("mdi:")
    assert f"{INGRESS_PORT}/tcp" not in config["ports"]  # reached through ingress only
    # The editor's polygons follow the options' own grammar.
    camera = config["schema"]["cameras"][0]
    assert camera["privacy_masks"] == [f"match({POLYGON_PATTERN})?"]
    assert camera["motion"]["zones"] == [f"match({ZONE_PATTERN})?"]
    assert camera["motion"]["masks"] == [f"match({POLYGON_PATTERN})?"]
    # Packaged: the image copies the package folder, a wheel takes the static files.
    assert (
        "COPY porchlight_edge /opt/porchlight/porchlight_edge" in (ADDON / "Dockerfile").read_text()
    )
    project = tomllib.loads((ADDON / "pyproject.toml").read_text())
    assert project["tool"]["setuptools"]["package-data"]["porchlight_edge.panel"] == ["static/*"]
    shipped = {p.name for p in STATIC_DIR.iterdir()}
    assert {"index.html", "app.js", "api.js", "cameras.js", "timeline.js", "setup.js"} <= shipped


def test_the_ingress_port_is_set_by_a_hidden_hook_only(tmp_path: Path) -> None:
    parser = build_parser()
    assert "--ingress" not in parser.format_help()
    args = parser.parse_args(["--demo", "--data-dir", str(tmp_path)])
    assert load(args).ingress_port is None  # standalone: no ingress port
    hook = ["--ingress-port", "0", "--ingress-peer", "127.0.0.2"]
    options = load(parser.parse_args(["--demo", "--data-dir", str(tmp_path), *hook]))
    assert (options.ingress_port, options.ingress_peers) == (0, frozenset({"127.0.0.2"}))
    assert parse_options({}, tmp_path).ingress_peers == frozenset({SUPERVISOR_INGRESS_ADDRESS})
    assert SUPERVISOR_INGRESS_ADDRESS == "172.30.32.2"


@pytest.mark.parametrize(
    ("peer", "allowed"),
    [
        ("172.30.32.2", True),
        ("::ffff:172.30.32.2", True),  # the same address on a dual-stack socket
        ("172.30.32.3", False),
        ("172.30.32.20", False),
        ("::1", False),
        ("not an address", False),
        (None, False),
    ],
)
def test_only_that_very_address_counts(peer: str | None, allowed: bool) -> None:
    assert same_address(peer, frozenset({SUPERVISOR_INGRESS_ADDRESS})) is allowed
