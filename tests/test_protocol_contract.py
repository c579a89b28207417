"""The two halves share one protocol definition, and docs/protocol.md describes it.

The add-on and the integration cannot import each other at run time, so the
integration carries a copy; these tests keep the copy and the document honest.
"""

import json
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
    for name in (
        "PROTOCOL_VERSION",
        "CURRENT_VERSION",
        "MIN_SUPPORTED_VERSION",
        "LIMITS",
        "MAX_MESSAGE_BYTES",
        "EVENT_BUFFER_SIZE",
        "WS_PATH",
    ):
        assert getattr(client_protocol, name) == getattr(server_protocol, name)


def test_doc_states_the_version_and_limits() -> None:
    assert f"# Porchlight protocol, version {server_protocol.CURRENT_VERSION}\n" in DOC
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


def test_doc_states_the_version_fields_and_minimum() -> None:
    info = server_protocol.version_info()
    for key, value in info.items():
        assert f'"{key}": {json.dumps(value)}' in DOC, key
    assert f"serves {server_protocol.MIN_SUPPORTED_VERSION}" in DOC


def test_doc_limits_table_is_the_code_table() -> None:
    section = DOC.split("| setting | range | step |", 1)[1].split("\n\n", 1)[0]
    rows = re.findall(
        r"^\| `([a-z_.]+)` \| ([\d.]+)\u2013([\d.]+)[^|]*\| ([\d.]+) \|$", section, re.MULTILINE
    )
    table = {name: (float(low), float(high), float(step)) for name, low, high, step in rows}
    assert table == {
        setting.value: (limit.low, limit.high, limit.step)
        for setting, limit in server_protocol.LIMITS.items()
    }


def test_doc_names_every_route_constant_and_its_path() -> None:
    for name in dir(server_protocol):
        if name.endswith("_ROUTE"):
            assert f"`{name}`" in DOC, name
            assert f"`GET {getattr(server_protocol, name)}" in DOC, name
