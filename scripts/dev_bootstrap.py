"""Prepare a development Home Assistant so `scripts/develop` needs no clicks.

`prepare` runs before hass starts and uses Home Assistant's own auth and storage code
(so the files are exactly what HA's loaders expect): an owner/admin user with a password
login, a long-lived access token for scripting, and onboarding marked done.
`add-entry` runs once hass answers and adds the Porchlight config entry through HA's
REST config-flow API, as the UI would.

Both are idempotent: an existing user, token and config entry are kept.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
from dataclasses import dataclass
from datetime import timedelta
import os
from pathlib import Path
import sys
import time
from typing import TYPE_CHECKING, Any, cast

import aiohttp
from homeassistant import runner
from homeassistant.auth import AuthManager, auth_manager_from_config
from homeassistant.auth.const import GROUP_ID_ADMIN
from homeassistant.auth.models import TOKEN_TYPE_LONG_LIVED_ACCESS_TOKEN, RefreshToken, User
from homeassistant.auth.providers.homeassistant import HassAuthProvider
from homeassistant.components.http.config import (
    HTTP_STORAGE_SCHEMA,
    ConfData,
    HTTPConfigStore,
)
from homeassistant.components.onboarding import (
    STORAGE_KEY as ONBOARDING_STORAGE_KEY,
    STORAGE_VERSION as ONBOARDING_STORAGE_VERSION,
    OnboardingStorage,
)
from homeassistant.components.onboarding.const import STEPS as ONBOARDING_STEPS
from homeassistant.config_entries import ConfigEntries
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr, entity_registry as er

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

CLIENT_NAME = "porchlight-develop"
TOKEN_FILE = ".porchlight-dev-token"
# The UI's longest long-lived token lifetime; a dev box should not lose access after a month.
TOKEN_LIFETIME = timedelta(days=3650)


@dataclass(frozen=True, slots=True)
class PrepareResult:
    """What `prepare` left in the config dir."""

    user_id: str
    access_token: str
    created_user: bool
    created_token: bool


async def async_prepare(
    config_dir: Path,
    username: str = "dev",
    password: str = "dev",
    name: str = "Dev",
    http_port: int = 8123,
) -> PrepareResult:
    """Create (or keep) the dev owner, its long-lived token, finished onboarding and a
    confirmed HTTP config listening on 127.0.0.1:`http_port` only."""
    config_dir.mkdir(parents=True, exist_ok=True)
    async with offline_hass(config_dir) as hass:
        auth = hass.auth
        user, created_user = await _ensure_user(auth, username, password, name)
        refresh, created_token = await _ensure_refresh_token(auth, user)
        access_token = _ensure_access_token(auth, refresh, config_dir / TOKEN_FILE)
        await _ensure_onboarded(hass)
        await _ensure_http_config(hass, http_port)
    return PrepareResult(user.id, access_token, created_user, created_token)


@contextlib.asynccontextmanager
async def offline_hass(config_dir: Path) -> AsyncIterator[HomeAssistant]:
    """A HomeAssistant on `config_dir` that is never started, with its config entries,
    registries and auth loaded; its stores are written out on leaving."""
    hass = HomeAssistant(str(config_dir))
    try:
        # As in HA's own `hass --script auth`: the auth store reads the device registry,
        # whose migration waits for the config entries.
        hass.config_entries = ConfigEntries(hass, {})
        await hass.config_entries.async_initialize()
        dr.async_setup(hass)
        await asyncio.gather(dr.async_load(hass), er.async_load(hass))
        hass.auth = await auth_manager_from_config(hass, [{"type": "homeassistant"}], [])
        yield hass
    finally:
        # Stopping fires final_write, which flushes the auth store's delayed save to
        # .storage/auth. `force`: a never-started hass otherwise returns without stopping.
        await hass.async_stop(force=True)


async def _ensure_user(
    auth: AuthManager, username: str, password: str, name: str
) -> tuple[User, bool]:
    provider = auth.get_auth_provider("homeassistant", None)
    if not isinstance(provider, HassAuthProvider):
        raise TypeError("the homeassistant auth provider is not configured")
    await provider.async_initialize()
    assert provider.data is not None
    norm = provider.data.normalize_username(username)
    if not any(
        provider.data.normalize_username(u["username"]) == norm for u in provider.data.users
    ):
        await provider.async_add_auth(username, password)
    credentials = await provider.async_get_or_create_credentials({"username": username})
    user = await auth.async_get_user_by_credentials(credentials)
    if user is not None:
        return user, False
    # Same sequence as the onboarding "create user" step: the first user becomes the owner.
    user = await auth.async_create_user(name, group_ids=[GROUP_ID_ADMIN])
    await auth.async_link_user(user, credentials)
    return user, True


async def _ensure_refresh_token(auth: AuthManager, user: User) -> tuple[RefreshToken, bool]:
    for token in user.refresh_tokens.values():
        if (
            token.token_type == TOKEN_TYPE_LONG_LIVED_ACCESS_TOKEN
            and token.client_name == CLIENT_NAME
        ):
            return token, False
    token = await auth.async_create_refresh_token(
        user,
        client_name=CLIENT_NAME,
        token_type=TOKEN_TYPE_LONG_LIVED_ACCESS_TOKEN,
        access_token_expiration=TOKEN_LIFETIME,
    )
    return token, True


def _ensure_access_token(auth: AuthManager, refresh: RefreshToken, path: Path) -> str:
    """Reuse the saved JWT while it is valid for this refresh token, else sign a new one."""
    if path.exists():
        saved = path.read_text().strip()
        valid = auth.async_validate_access_token(saved) if saved else None
        if valid is not None and valid.id == refresh.id:
            return saved
    token = auth.async_create_access_token(refresh)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as file:
        file.write(token + "\n")
    os.replace(tmp, path)
    return token


async def _ensure_onboarded(hass: HomeAssistant) -> None:
    store = OnboardingStorage(
        hass, ONBOARDING_STORAGE_VERSION, ONBOARDING_STORAGE_KEY, private=True
    )
    data = await store.async_load() or {"done": []}
    missing = [step for step in ONBOARDING_STEPS if step not in data["done"]]
    if missing:
        data["done"].extend(missing)
        await store.async_save(data)


async def _ensure_http_config(hass: HomeAssistant, port: int) -> None:
    """Make loopback-only the *stable* HTTP config.

    Since 2026.x the `http:` YAML is migrated once into .storage/http as a "pending" trial
    that reverts (with a restart) unless confirmed in the UI within 5 minutes; writing it
    as stable through HA's own store skips the trial and the dialog.
    """
    store = HTTPConfigStore(hass)
    await store.async_load()
    wanted = cast(
        ConfData, HTTP_STORAGE_SCHEMA({"server_host": ["127.0.0.1"], "server_port": port})
    )
    meta = ("created_at", "error", "error_message")
    stable = {k: v for k, v in store.stable.items() if k not in meta}
    if stable != wanted or store.pending is not None:
        await store.async_set_pending(wanted)
        if store.pending is not None:
            await store.async_promote_pending()
    if not store.yaml_migration_done:
        await store.async_mark_yaml_migration_done()


class EntryError(RuntimeError):
    """The Porchlight config entry could not be created."""


async def async_wait_for_api(
    session: aiohttp.ClientSession, ha_url: str, max_wait: float, watch_pid: int | None = None
) -> None:
    """Poll `GET /api/` until HA answers 200 (the HTTP server is up and the token works)."""
    deadline = time.monotonic() + max_wait
    last = "no answer"
    while time.monotonic() < deadline:
        try:
            async with session.get(f"{ha_url}/api/") as resp:
                if resp.status == 200:
                    return
                last = f"HTTP {resp.status}"
                if resp.status == 401:
                    raise EntryError("Home Assistant rejected the dev token (HTTP 401)")
        except aiohttp.ClientError as err:
            last = str(err) or type(err).__name__
        if watch_pid is not None and not _is_running(watch_pid):
            raise EntryError("Home Assistant stopped while starting")
        await asyncio.sleep(1)
    raise EntryError(f"Home Assistant did not answer within {max_wait:.0f} s ({last})")


def _is_running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


async def async_get_entries(session: aiohttp.ClientSession, ha_url: str) -> list[dict[str, Any]]:
    """The Porchlight config entries as HA's config API lists them."""
    async with session.get(
        f"{ha_url}/api/config/config_entries/entry", params={"domain": "porchlight"}
    ) as resp:
        resp.raise_for_status()
        entries: list[dict[str, Any]] = await resp.json()
    return entries


async def async_wait_loaded(
    session: aiohttp.ClientSession, ha_url: str, max_wait: float = 60
) -> str:
    """Wait until the entry leaves its start-up states; return the last state seen."""
    deadline = time.monotonic() + max_wait
    state = "missing"
    while time.monotonic() < deadline:
        entries = await async_get_entries(session, ha_url)
        state = str(entries[0].get("state")) if entries else "missing"
        if state not in ("not_loaded", "setup_in_progress", "missing"):
            break
        await asyncio.sleep(0.5)
    return state


async def async_add_entry(
    session: aiohttp.ClientSession, ha_url: str, addon: dict[str, Any]
) -> str:
    """Add the Porchlight entry through the config flow; return a one-line outcome."""
    entries = await async_get_entries(session, ha_url)
    if entries:
        return f"Porchlight entry already present: {entries[0].get('title')}"

    flow_url = f"{ha_url}/api/config/config_entries/flow"
    async with session.post(
        flow_url, json={"handler": "porchlight", "show_advanced_options": False}
    ) as resp:
        if resp.status != 200:
            raise EntryError(f"starting the flow failed: HTTP {resp.status} {await resp.text()}")
        form: dict[str, Any] = await resp.json()
    if form.get("type") != "form":
        raise EntryError(f"unexpected first flow step: {form}")
    async with session.post(f"{flow_url}/{form['flow_id']}", json=addon) as resp:
        if resp.status != 200:
            raise EntryError(f"submitting the flow failed: HTTP {resp.status} {await resp.text()}")
        result: dict[str, Any] = await resp.json()
    if result.get("type") == "create_entry":
        return f"Porchlight entry created: {result.get('title')}"
    if result.get("type") == "abort":
        return f"Porchlight flow aborted: {result.get('reason')}"
    raise EntryError(f"config flow refused the add-on: {result.get('errors') or result}")


async def _async_add_entry_main(args: argparse.Namespace) -> int:
    token = args.token_file.read_text().strip()
    addon = {"host": args.addon_host, "port": args.addon_port, "token": args.addon_token}
    headers = {"Authorization": f"Bearer {token}"}
    timeout = aiohttp.ClientTimeout(total=30)
    async with aiohttp.ClientSession(headers=headers, timeout=timeout) as session:
        try:
            await async_wait_for_api(session, args.ha_url, args.timeout, args.watch_pid)
            print(await async_add_entry(session, args.ha_url, addon))
            state = await async_wait_loaded(session, args.ha_url)
        except (EntryError, aiohttp.ClientError) as err:
            print(f"dev_bootstrap: {err}", file=sys.stderr)
            return 1
    if state != "loaded":
        # Not fatal: HA keeps retrying, and the developer may be fixing the integration.
        print(
            f"dev_bootstrap: WARNING the Porchlight entry is {state!r}, not loaded; see"
            " config/home-assistant.log (a stale entry with an old token/port: delete it in"
            " Settings > Devices & services)",
            file=sys.stderr,
        )
    else:
        print("Porchlight entry loaded")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    prep = sub.add_parser("prepare", help="owner user, long-lived token, onboarding done")
    prep.add_argument("--config-dir", type=Path, required=True)
    prep.add_argument("--username", default="dev")
    prep.add_argument("--password", default="dev")
    prep.add_argument("--http-port", type=int, default=8123)
    add = sub.add_parser("add-entry", help="wait for hass, then add the Porchlight entry")
    add.add_argument("--ha-url", default="http://127.0.0.1:8123")
    add.add_argument("--token-file", type=Path, required=True)
    add.add_argument("--addon-host", default="127.0.0.1")
    add.add_argument("--addon-port", type=int, default=8765)
    add.add_argument("--addon-token", required=True)
    add.add_argument("--timeout", type=float, default=180)
    add.add_argument("--watch-pid", type=int, help="give up early when this process (hass) ends")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "prepare":
        result = asyncio.run(
            async_prepare(
                args.config_dir.resolve(), args.username, args.password, http_port=args.http_port
            ),
            loop_factory=runner.create_event_loop,
        )
        what = "created" if result.created_user else "kept"
        print(f"dev user {args.username!r} {what}; token in {args.config_dir / TOKEN_FILE}")
        return 0
    try:
        return asyncio.run(_async_add_entry_main(args))
    except KeyboardInterrupt:
        return 130  # Ctrl-C while waiting: scripts/develop's trap does the stopping


if __name__ == "__main__":
    sys.exit(main())
