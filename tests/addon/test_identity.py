"""Access token and instance id: created once, private, stable, never logged in full."""

import logging
from pathlib import Path
import stat

import pytest

from porchlight_edge.identity import load_identity, redact_token


def test_token_created_private_and_stable(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    first = load_identity(tmp_path)
    token_file = tmp_path / "token"
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
    assert len(first.token) >= 40
    assert first.token not in caplog.text
    assert first.token[:4] in caplog.text
    again = load_identity(tmp_path)
    assert again == first


def test_loose_permissions_are_tightened(tmp_path: Path) -> None:
    load_identity(tmp_path)
    (tmp_path / "token").chmod(0o644)
    load_identity(tmp_path)
    assert stat.S_IMODE((tmp_path / "token").stat().st_mode) == 0o600


def test_empty_token_file_is_replaced(tmp_path: Path) -> None:
    (tmp_path / "token").write_text("\n")
    ident = load_identity(tmp_path)
    assert ident.token
    assert (tmp_path / "token").read_text() == ident.token


def test_override_token_does_not_touch_file(tmp_path: Path) -> None:
    ident = load_identity(tmp_path, token_override="fixed-token")
    assert ident.token == "fixed-token"
    assert not (tmp_path / "token").exists()


def test_redact() -> None:
    assert redact_token("abcdefgh") == "abcd…"
    assert "efgh" not in redact_token("abcdefgh")
