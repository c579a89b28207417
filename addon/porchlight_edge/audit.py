"""Audit log of footage access and privacy changes (SQLite, WAL, own retention).

Who (client / token *id*, never a token), what, which footage, from where, when.
Records are small single-row transactions, cheap enough to write from the loop.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
import json
import re
import threading
import time
from typing import TYPE_CHECKING, Any

from porchlight_edge.dbfile import open_database
from porchlight_edge.paging import Page, check_paging, where

if TYPE_CHECKING:
    from pathlib import Path

_SCHEMA = """
CREATE TABLE IF NOT EXISTS audit (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    time REAL NOT NULL,
    action TEXT NOT NULL,
    client_id TEXT,
    address TEXT,
    camera TEXT,
    target TEXT,
    detail TEXT
);
CREATE INDEX IF NOT EXISTS audit_time ON audit(time);
CREATE INDEX IF NOT EXISTS audit_action ON audit(action, time);
"""
CLIENT_RE = re.compile(r"^[A-Za-z0-9_.:@-]{1,64}$")


class AuditAction(StrEnum):
    """What an audit entry records: access to footage, and changes made through the API."""

    LIVE_STREAM = "live_stream"
    SNAPSHOT = "snapshot"
    CLIP_DOWNLOAD = "clip_download"
    CLIP_EXPORT = "clip_export"
    CLIP_DELETE = "clip_delete"
    CLIP_PROTECT = "clip_protect"
    PRIVACY_MODE = "privacy_mode"
    AUDIO = "audio"
    PRIVACY_MASKS = "privacy_masks"
    RETENTION_CHANGE = "retention_change"
    STREAM_CREDENTIAL = "stream_credential"
    CAMERA_ADD = "camera_add"
    CAMERA_REMOVE = "camera_remove"
    CAMERA_SOURCE = "camera_source"
    RING = "ring"
    MOTION_SETTINGS = "motion_settings"
    RECORDING_SETTINGS = "recording_settings"
    TAKE_SNAPSHOT = "take_snapshot"
    RECORD_CLIP = "record_clip"


ACTIONS_SINCE_1_2 = frozenset(
    {
        AuditAction.RING,
        AuditAction.MOTION_SETTINGS,
        AuditAction.RECORDING_SETTINGS,
        AuditAction.TAKE_SNAPSHOT,
        AuditAction.RECORD_CLIP,
        AuditAction.CAMERA_ADD,
        AuditAction.CAMERA_REMOVE,
        AuditAction.CAMERA_SOURCE,
    }
)
"""The audit actions added in protocol 1.2 (`COMMAND_AUDIT_VERSION`): commands that change
or trigger something (ring, settings, snapshots, clips) and camera changes (add, remove,
source). A client before 1.2 has no word for them: `get_audit_log` leaves their entries out
for it (api/older_clients.py)."""


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One audit entry; `time` in Unix seconds."""

    id: int
    time: float
    action: str
    client_id: str | None
    address: str | None
    camera: str | None
    target: str | None
    detail: dict[str, Any] | None

    def as_dict(self) -> dict[str, Any]:
        """The entry as the `get_audit_log` result item (JSON-ready dict)."""
        return {
            "id": self.id,
            "time": self.time,
            "action": self.action,
            "client_id": self.client_id,
            "address": self.address,
            "camera": self.camera,
            "target": self.target,
            "detail": self.detail,
        }


class AuditLog:
    """The audit log (SQLite at `path`), entries kept `retention_days` days.

    ValueError for a non-positive retention; sqlite3.Error when the file cannot be used.
    """

    def __init__(self, path: Path, retention_days: float = 90.0) -> None:
        if retention_days <= 0:
            raise ValueError("retention_days must be positive")
        self.retention_days = retention_days
        self._lock = threading.Lock()
        # A corrupt log is moved aside (kept as evidence) and a new one started.
        self._db = open_database(path, _SCHEMA, ("audit",)).connection

    def close(self) -> None:
        """Close the database."""
        with self._lock:
            self._db.close()

    def record(
        self,
        action: AuditAction | str,
        *,
        client_id: str | None,
        address: str | None,
        camera: str | None = None,
        target: str | None = None,
        detail: dict[str, Any] | None = None,
        at: float | None = None,
    ) -> int:
        """Append one entry; returns its id. `client_id` is an id, never a secret token."""
        action = AuditAction(action)
        if client_id is not None and not CLIENT_RE.fullmatch(client_id):
            # Refuse anything that does not look like an id (tokens are long and opaque).
            raise ValueError("client_id must be a short id (1-64 characters), not a token")
        with self._lock:
            cur = self._db.execute(
                "INSERT INTO audit(time, action, client_id, address, camera, target, detail)"
                " VALUES (?,?,?,?,?,?,?)",
                (
                    time.time() if at is None else at,
                    str(action),
                    client_id,
                    address[:64] if address else None,
                    camera,
                    target[:200] if target else None,
                    json.dumps(detail, separators=(",", ":")) if detail else None,
                ),
            )
            return int(cur.lastrowid or 0)

    def query(
        self,
        *,
        action: str | None = None,
        client_id: str | None = None,
        camera: str | None = None,
        since: float | None = None,
        until: float | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> Page[AuditEntry]:
        """Entries newest first, filtered; `limit` is capped at 500."""
        limit, offset = check_paging(limit, offset)
        cond, args = where(
            ("action", "=", action),
            ("client_id", "=", client_id),
            ("camera", "=", camera),
            ("time", ">=", since),
            ("time", "<=", until),
        )
        with self._lock:
            total = int(
                self._db.execute(f"SELECT COUNT(*) FROM audit WHERE {cond}", args).fetchone()[0]
            )
            rows = self._db.execute(
                f"SELECT id, time, action, client_id, address, camera, target, detail FROM audit"
                f" WHERE {cond} ORDER BY time DESC, id DESC LIMIT ? OFFSET ?",
                [*args, limit, offset],
            ).fetchall()
        items = [
            AuditEntry(r[0], r[1], r[2], r[3], r[4], r[5], r[6], json.loads(r[7]) if r[7] else None)
            for r in rows
        ]
        return Page(items, total, offset, limit)

    def prune(self, now: float | None = None) -> int:
        """Delete entries older than the retention; returns how many."""
        cutoff = (time.time() if now is None else now) - self.retention_days * 86400.0
        with self._lock:
            cur = self._db.execute("DELETE FROM audit WHERE time < ?", (cutoff,))
            return cur.rowcount
