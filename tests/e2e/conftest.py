"""Fixtures: a real add-on process on the demo scene, and a config entry pointing at it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from .addon_process import AddonProcess
from .entries import entry_for

# A short demo loop (visitor in view for a few seconds) and quick motion-off, so a test
# sees motion start and stop well within its time limit.
DEMO_OPTIONS = {
    "cameras": [
        {
            "name": "front_door",
            "title": "Front door",
            "source": "demo",
            "demo": {"width": 640, "height": 360, "loop_seconds": 14},
            "motion": {"off_seconds": 1.5},
        }
    ]
}


@pytest.fixture(autouse=True)
def _custom_integrations(enable_custom_integrations: None) -> None:
    """Load custom_components/porchlight in every e2e test."""


@pytest.fixture
def addon(tmp_path: Path) -> Iterator[AddonProcess]:
    process = AddonProcess(tmp_path / "addon", DEMO_OPTIONS)
    process.start()
    yield process
    process.stop()


@pytest.fixture
def config_entry(addon: AddonProcess) -> MockConfigEntry:
    return entry_for(addon)
