"""Audit log: records who accessed what, filters, pages, retention, refuses tokens."""

from __future__ import annotations

from pathlib import Path

import pytest

from porchlight_edge.audit import AuditAction, AuditLog


def test_record_query_and_prune(tmp_path: Path) -> None:
    log = AuditLog(tmp_path / "audit.db", retention_days=30)
    try:
        t0 = 1_700_000_000.0
        log.record(
            AuditAction.LIVE_STREAM, client_id="ha-1", address="10.0.0.2", camera="front", at=t0
        )
        log.record("clip_download", client_id="ha-1", address="10.0.0.2", target="abc", at=t0 + 10)
        log.record(
            AuditAction.PRIVACY_MODE,
            client_id="tok-7",
            address="10.0.0.3",
            detail={"enabled": True},
            at=t0 + 20,
        )
        page = log.query(limit=2)
        assert page.total == 3
        assert [e.action for e in page.items] == [
            "privacy_mode",
            "clip_download",
        ]
        assert log.query(limit=2, offset=2).items[0].action == "live_stream"
        assert log.query(client_id="tok-7").items[0].detail == {"enabled": True}
        assert log.query(action="clip_download").items[0].target == "abc"
        assert log.query(since=t0 + 5, until=t0 + 15).total == 1
        with pytest.raises(ValueError, match="not a token"):
            log.record("snapshot", client_id="x" * 200, address=None)
        with pytest.raises(ValueError, match="format_disk"):
            log.record("format_disk", client_id="a", address=None)
        assert log.prune(now=t0 + 30 * 86400 + 15) == 2
        assert log.query().total == 1
    finally:
        log.close()
