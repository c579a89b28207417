"""Fixtures for the integration tests: a fake add-on on 127.0.0.1 and a config entry."""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator, Callable
import contextlib
from typing import TYPE_CHECKING, Any

from homeassistant.const import CONF_HOST, CONF_PORT
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
)
from pytest_homeassistant_custom_component.syrupy import (
    HomeAssistantSnapshotExtension,
)
from syrupy.assertion import SnapshotAssertion

from custom_components import porchlight
from custom_components.porchlight.const import CONF_TOKEN, DOMAIN
from tests.helpers.waiting import wait_until as wait_for

from .fake_addon import FakeAddon

if TYPE_CHECKING:
    from aiohttp import web
    from aiohttp.test_utils import TestClient
    from homeassistant.core import HomeAssistant
    from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

ENTRY_ID = "01JPORCHLIGHT0000000000000"

type HttpClient = TestClient[web.Request, web.Application]
"""Home Assistant's HTTP API as a test sees it (`hass_client()`)."""


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(request: pytest.FixtureRequest) -> None:
    # Only tests that use `hass` need it; the client tests run without Home Assistant.
    if "hass" in request.fixturenames:
        request.getfixturevalue("enable_custom_integrations")


@pytest.fixture
def snapshot(snapshot: SnapshotAssertion) -> SnapshotAssertion:
    """Home Assistant's serializer (stable ids, no timestamps), stored in snapshots/.

    The plugin's own override of this fixture is not the one pytest picks here.
    """
    return snapshot.use_extension(HomeAssistantSnapshotExtension)


@pytest.fixture(autouse=True)
def fast_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    """Reconnect within milliseconds, so disconnect tests stay fast."""
    monkeypatch.setattr(porchlight, "BACKOFF_MIN", 0.01)
    monkeypatch.setattr(porchlight, "BACKOFF_MAX", 0.05)


@pytest.fixture
async def fake_addon(socket_enabled: None) -> AsyncGenerator[FakeAddon]:
    async with running_addon() as addon:
        yield addon


@contextlib.asynccontextmanager
async def running_addon(**options: Any) -> AsyncIterator[FakeAddon]:
    """Another fake add-on (`FakeAddon(**options)`), started; stopped and its files removed
    on exit. Tests that use it need `socket_enabled`."""
    addon = FakeAddon(**options)
    await addon.start()
    try:
        yield addon
    finally:
        await addon.stop()
        addon.cleanup_files()


def addon_entry(
    addon: FakeAddon, title: str = "Mock Title", entry_id: str | None = None
) -> MockConfigEntry:
    """A config entry (not added yet) for `addon` on 127.0.0.1 with its token."""
    return MockConfigEntry(
        domain=DOMAIN,
        title=title,
        entry_id=entry_id,
        unique_id=addon.instance_id,
        data={CONF_HOST: "127.0.0.1", CONF_PORT: addon.port, CONF_TOKEN: addon.token},
    )


@pytest.fixture
def mock_config_entry(fake_addon: FakeAddon) -> MockConfigEntry:
    return addon_entry(fake_addon, title="Porchlight", entry_id=ENTRY_ID)


async def setup_integration(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    entry.add_to_hass(hass)
    await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()


async def wait_for_state(hass: HomeAssistant, condition: Callable[[], bool]) -> None:
    await wait_for(condition)
    await hass.async_block_till_done()


async def setup_subscribed(
    hass: HomeAssistant,
    addon: FakeAddon,
    entry: MockConfigEntry,
    *components: str,
    time_zone: str | None = None,
) -> None:
    """Set up the integration, after Home Assistant's `components` and in `time_zone` (an
    IANA name; None: the test default), and wait until it subscribes to `addon`'s events."""
    if time_zone is not None:
        await hass.config.async_set_time_zone(time_zone)
    for component in components:
        assert await async_setup_component(hass, component, {})
    await setup_integration(hass, entry)
    await wait_for_state(hass, lambda: addon.subscriber_count == 1)


@pytest.fixture
async def loaded(
    hass: HomeAssistant, fake_addon: FakeAddon, mock_config_entry: MockConfigEntry
) -> FakeAddon:
    """The integration set up and subscribed to the fake add-on's events."""
    await setup_subscribed(hass, fake_addon, mock_config_entry)
    return fake_addon


@pytest.fixture
async def loaded_at_minor(
    hass: HomeAssistant,
    fake_addon: FakeAddon,
    mock_config_entry: MockConfigEntry,
    request: pytest.FixtureRequest,
) -> FakeAddon:
    """The integration set up against an add-on speaking protocol 1.`minor`.

    Parametrize it indirectly with the minor version (an int): a 1.1 add-on refuses
    arguments added since, such as the acting user.
    """
    fake_addon.version = {"protocol_version": 1, "protocol_minor": request.param}
    await setup_integration(hass, mock_config_entry)
    return fake_addon


@pytest.fixture
async def ha_http(
    hass: HomeAssistant, mock_config_entry: MockConfigEntry, hass_client: ClientSessionGenerator
) -> HttpClient:
    """The integration set up; an HTTP client of Home Assistant, signed in as the test user."""
    await setup_integration(hass, mock_config_entry)
    client: HttpClient = await hass_client()
    return client
