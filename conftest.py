"""Repository-wide pytest set-up.

pytest-homeassistant-custom-component ships its own `testing_config/custom_components`
package; importing ours first makes `custom_components.porchlight` resolve to this repo.
"""

from pathlib import Path

import pytest

import custom_components.porchlight  # noqa: F401

_ROOT = Path(__file__).parent
# The HA test plugin blocks socket creation in every test. The add-on and end-to-end tests
# run real servers and clients, and the browser and panel tests drive a browser over
# WebDriver, so they may open sockets (still only to 127.0.0.1).
_SOCKET_SUITES = tuple(_ROOT / "tests" / suite for suite in ("addon", "e2e", "panel", "browser"))


@pytest.fixture(autouse=True)
def _real_sockets(request: pytest.FixtureRequest) -> None:
    if any(request.path.is_relative_to(suite) for suite in _SOCKET_SUITES):
        request.getfixturevalue("socket_enabled")
