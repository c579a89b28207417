"""Fixtures: a real add-on process on the demo scene, and a config entry pointing at it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from .addon_process import AddonProcess, front_door_demo, running_addon
from .entries import entry_for

# A short demo loop (visitor in view for a few seconds) and quick motion-off, so a test
# sees motion start and stop well within its time limit.
DEMO_OPTIONS = front_door_demo(640, 360, motion={"off_seconds": 1.5})


@pytest.fixture(autouse=True)
def _custom_integrations(enable_custom_integrations: None) -> None:
    """Load custom_components/porchlight in every e2e test."""


@pytest.fixture
def addon(tmp_path: Path) -> Iterator[AddonProcess]:
    with running_addon(tmp_path / "addon", DEMO_OPTIONS) as process:
        yield process


@pytest.fixture
def config_entry(addon: AddonProcess) -> MockConfigEntry:
    return entry_for(addon)
