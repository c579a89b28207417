"""scripts/dev_bootstrap.py: the no-click set-up of the development Home Assistant.

`prepare` is checked by loading what it wrote with Home Assistant's own loaders, in a fresh
`HomeAssistant` as after a restart; `add-entry` against a stand-in of HA's config-flow API.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
import contextlib
import importlib.util
from pathlib import Path
import stat
import sys
from types import ModuleType
from typing import Any

import aiohttp
from aiohttp import web
from homeassistant.auth.models import TOKEN_TYPE_LONG_LIVED_ACCESS_TOKEN
from homeassistant.auth.providers.homeassistant import HassAuthProvider, InvalidAuth
from homeassistant.components import onboarding
from homeassistant.components.http.config import HTTPConfigStore
from homeassistant.components.onboarding.const import STEPS as ONBOARDING_STEPS
import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "dev_bootstrap.py"


def _load_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("dev_bootstrap", SCRIPT)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


dev_bootstrap = _load_script()


async def test_prepare_writes_a_login_a_token_and_onboarding_that_ha_accepts(
    tmp_path: Path,
) -> None:
    result = await dev_bootstrap.async_prepare(tmp_path, "dev", "dev")
    assert result.created_user
    assert result.created_token

    token_file = tmp_path / dev_bootstrap.TOKEN_FILE
    assert token_file.read_text().strip() == result.access_token
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600

    async with dev_bootstrap.offline_hass(tmp_path) as hass:
        refresh = hass.auth.async_validate_access_token(result.access_token)
        assert refresh is not None, "HA does not accept the saved access token"
        assert refresh.token_type == TOKEN_TYPE_LONG_LIVED_ACCESS_TOKEN
        assert refresh.client_name == "porchlight-develop"
        user = refresh.user
        assert user.id == result.user_id
        assert user.is_owner
        assert user.is_admin
        assert not user.system_generated

        provider = hass.auth.auth_providers[0]
        assert isinstance(provider, HassAuthProvider)
        await provider.async_validate_login("dev", "dev")
        with pytest.raises(InvalidAuth):
            await provider.async_validate_login("dev", "wrong")
        credentials = await provider.async_get_or_create_credentials({"username": "dev"})
        assert await hass.auth.async_get_user_by_credentials(credentials) == user

        # The onboarding component decides from its own store whether to show the wizard.
        store = onboarding.OnboardingStorage(
            hass, onboarding.STORAGE_VERSION, onboarding.STORAGE_KEY, private=True
        )
        stored = await store.async_load()
        assert stored is not None
        assert set(stored["done"]) == set(ONBOARDING_STEPS)
        assert await onboarding.async_setup(hass, {})
        assert onboarding.async_is_onboarded(hass)

        # HTTP: loopback only, as the confirmed config (no pending trial that auto-reverts).
        http = HTTPConfigStore(hass)
        await http.async_load()
        assert http.pending is None
        assert http.yaml_migration_done
        assert http.stable.get("server_host") == ["127.0.0.1"]
        assert http.stable.get("server_port") == 8123


async def test_prepare_is_idempotent_and_reissues_a_lost_token(tmp_path: Path) -> None:
    first = await dev_bootstrap.async_prepare(tmp_path)
    again = await dev_bootstrap.async_prepare(tmp_path)
    assert again.user_id == first.user_id
    assert again.access_token == first.access_token
    assert not again.created_user
    assert not again.created_token

    (tmp_path / dev_bootstrap.TOKEN_FILE).unlink()
    reissued = await dev_bootstrap.async_prepare(tmp_path)
    assert reissued.user_id == first.user_id
    assert not reissued.created_token

    async with dev_bootstrap.offline_hass(tmp_path) as hass:
        users = [u for u in await hass.auth.async_get_users() if not u.system_generated]
        assert [u.id for u in users] == [first.user_id]
        long_lived = [
            t
            for t in users[0].refresh_tokens.values()
            if t.token_type == TOKEN_TYPE_LONG_LIVED_ACCESS_TOKEN
        ]
        assert len(long_lived) == 1
        # Both JWTs are signed by the one refresh token, so both stay valid.
        for token in (first.access_token, reissued.access_token):
            refresh = hass.auth.async_validate_access_token(token)
            assert refresh is not None
            assert refresh.id == long_lived[0].id


class FakeConfigApi:
    """Stand-in for HA's /api and config-flow endpoints, recording what the script sends."""

    def __init__(self, token: str, flow_result: dict[str, Any]) -> None:
        self.token = token
        self.flow_result = flow_result
        self.entries: list[dict[str, Any]] = []
        self.flow_starts: list[dict[str, Any]] = []
        self.flow_inputs: list[dict[str, Any]] = []
        self.app = web.Application(middlewares=[self._auth])
        self.app.router.add_get("/api/", self._api)
        self.app.router.add_get("/api/config/config_entries/entry", self._entries)
        self.app.router.add_post("/api/config/config_entries/flow", self._start)
        self.app.router.add_post("/api/config/config_entries/flow/{flow_id}", self._step)

    @web.middleware
    async def _auth(self, request: web.Request, handler: Any) -> web.StreamResponse:
        if request.headers.get("Authorization") != f"Bearer {self.token}":
            raise web.HTTPUnauthorized
        response: web.StreamResponse = await handler(request)
        return response

    async def _api(self, request: web.Request) -> web.Response:
        return web.json_response({"message": "API running."})

    async def _entries(self, request: web.Request) -> web.Response:
        domain = request.query.get("domain")
        return web.json_response([e for e in self.entries if e["domain"] == domain])

    async def _start(self, request: web.Request) -> web.Response:
        self.flow_starts.append(await request.json())
        return web.json_response({"type": "form", "flow_id": "f1", "step_id": "user"})

    async def _step(self, request: web.Request) -> web.Response:
        assert request.match_info["flow_id"] == "f1"
        self.flow_inputs.append(await request.json())
        if self.flow_result["type"] == "create_entry":
            self.entries.append({"domain": "porchlight", "title": "Porchlight", "state": "loaded"})
        return web.json_response(self.flow_result)


@contextlib.asynccontextmanager
async def serve(api: FakeConfigApi) -> AsyncIterator[str]:
    runner = web.AppRunner(api.app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    server = site._server
    assert isinstance(server, asyncio.Server)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


ADDON = {"host": "127.0.0.1", "port": 8765, "token": "addon-token"}


@pytest.mark.usefixtures("socket_enabled")
async def test_add_entry_runs_the_config_flow_once() -> None:
    api = FakeConfigApi("ha-token", {"type": "create_entry", "title": "Porchlight"})
    headers = {"Authorization": "Bearer ha-token"}
    async with serve(api) as url, aiohttp.ClientSession(headers=headers) as session:
        await dev_bootstrap.async_wait_for_api(session, url, max_wait=5)
        assert "created" in await dev_bootstrap.async_add_entry(session, url, ADDON)
        assert await dev_bootstrap.async_wait_loaded(session, url, max_wait=5) == "loaded"
        # A second run finds the entry and leaves it alone.
        assert "already present" in await dev_bootstrap.async_add_entry(session, url, ADDON)
    assert api.flow_starts == [{"handler": "porchlight", "show_advanced_options": False}]
    assert api.flow_inputs == [ADDON]


@pytest.mark.usefixtures("socket_enabled")
async def test_add_entry_reports_form_errors_and_a_rejected_token() -> None:
    api = FakeConfigApi("ha-token", {"type": "form", "errors": {"base": "invalid_auth"}})
    async with serve(api) as url:
        good = {"Authorization": "Bearer ha-token"}
        async with aiohttp.ClientSession(headers=good) as session:
            with pytest.raises(dev_bootstrap.EntryError, match="invalid_auth"):
                await dev_bootstrap.async_add_entry(session, url, ADDON)
        bad = {"Authorization": "Bearer stale"}
        async with aiohttp.ClientSession(headers=bad) as session:
            with pytest.raises(dev_bootstrap.EntryError, match="401"):
                await dev_bootstrap.async_wait_for_api(session, url, max_wait=5)
