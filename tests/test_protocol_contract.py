"""The two halves share one protocol definition, and docs/protocol.md describes it.

The add-on and the integration cannot import each other at run time, so the
integration carries a copy; these tests keep the copy and the document honest.
"""

from pathlib import Path
import re

import pytest

from custom_components.porchlight.pyporchlight import protocol as client_protocol
from porchlight_edge import protocol as server_protocol

ROOT = Path(__file__).resolve().parents[1]
DOC = (ROOT / "docs" / "protocol.md").read_text()


def test_integration_copy_is_identical() -> None:
    source = ROOT / "addon" / "porchlight_edge" / "protocol.py"
    copy = ROOT / "custom_components" / "porchlight" / "pyporchlight" / "protocol.py"
    assert copy.read_bytes() == source.read_bytes(), "run scripts/sync-protocol"


def test_both_sides_agree_on_constants() -> None:
    for name in ("PROTOCOL_VERSION", "MAX_MESSAGE_BYTES", "EVENT_BUFFER_SIZE", "WS_PATH"):
        assert getattr(client_protocol, name) == getattr(server_protocol, name)


def test_doc_states_the_version_and_limits() -> None:
    assert f"# Porchlight protocol, version {server_protocol.PROTOCOL_VERSION}" in DOC
    assert f"**{server_protocol.MAX_MESSAGE_BYTES} bytes**" in DOC
    assert f"**{server_protocol.EVENT_BUFFER_SIZE}**" in DOC
    assert f"`GET {server_protocol.WS_PATH}`" in DOC


def _doc_table_names(heading: str) -> set[str]:
    """First-column code names of the table that follows `| heading |`."""
    section = DOC.split(f"| {heading} |", 1)[1].split("\n\n", 1)[0]
    return set(re.findall(r"^\| `([a-z_]+)` \|", section, flags=re.MULTILINE))


@pytest.mark.parametrize(
    ("heading", "enum"),
    [
        ("command", server_protocol.Command),
        ("event", server_protocol.EventType),
        ("code", server_protocol.ErrorCode),
    ],
)
def test_doc_tables_match_code(heading: str, enum: type) -> None:
    assert _doc_table_names(heading) == {member.value for member in enum}


def test_every_command_has_a_server_handler() -> None:
    from porchlight_edge.api.commands import COMMANDS

    assert set(COMMANDS) == {c.value for c in server_protocol.Command}
