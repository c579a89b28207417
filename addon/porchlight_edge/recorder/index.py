"""The event and clip index: SQLite in WAL mode, safe to share between threads.

WAL + `synchronous=NORMAL` keeps every committed transaction across a process
crash (`kill -9`); only a power cut can lose the last few, never corrupt the file.
All writes are single short transactions, so readers (the API) are never blocked.
"""

from __future__ import annotations

from contextlib import contextmanager
import logging
import sqlite3
import threading
from typing import TYPE_CHECKING, Any

from porchlight_edge.dbfile import open_database
from porchlight_edge.paging import Page, check_paging, where
from porchlight_edge.protocol import CAMERA_NAME_RE, ClipState

from .records import ClipRecord, EventRecord, clip_from_row, event_from_row

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Sequence
    from pathlib import Path

    from .journal import NewClip
    from .notices import TriggerEvent

_NEW_CLIP = "INSERT OR IGNORE INTO clips(id, camera, start, path, state, mode) VALUES (?,?,?,?,?,?)"
"""A clip being recorded; a row already there (the journal's or the worker's) is kept."""

__all__ = [
    "UNKNOWN_CAMERA",
    "ClipIndex",
    "ClipRecord",
    "ClipState",
    "EventRecord",
    "trusted_camera",
]

_LOGGER = logging.getLogger(__name__)
UNKNOWN_CAMERA = "unknown"
"""Camera of an adopted clip whose file names none (or no valid one)."""


def trusted_camera(name: object, clip_id: str) -> str:
    """A camera name read from a file's metadata, or `unknown` when it breaks the rule.

    The metadata is not trusted (names end up in paths); a rejected name is logged.
    """
    if isinstance(name, str) and CAMERA_NAME_RE.fullmatch(name):
        return name
    _LOGGER.warning(
        "Clip %s names an invalid camera %r: filed as %r", clip_id, str(name)[:40], UNKNOWN_CAMERA
    )
    return UNKNOWN_CAMERA


_EVENTS = (
    "SELECT *, (SELECT state FROM clips WHERE clips.id = events.clip_id) AS clip_state FROM events"
)
"""Events with their clip's state (NULL without a clip): the media browser marks a ring
whose clip is still recording."""

_SCHEMA = """
CREATE TABLE IF NOT EXISTS clips (
    id TEXT PRIMARY KEY,
    camera TEXT NOT NULL,
    start REAL NOT NULL,
    end REAL,
    path TEXT NOT NULL,
    size INTEGER NOT NULL DEFAULT 0,
    protected INTEGER NOT NULL DEFAULT 0,
    state TEXT NOT NULL,
    mode TEXT NOT NULL DEFAULT '',
    reason TEXT
);
CREATE INDEX IF NOT EXISTS clips_start ON clips(start);
CREATE INDEX IF NOT EXISTS clips_camera ON clips(camera, start);
CREATE TABLE IF NOT EXISTS events (
    id TEXT PRIMARY KEY,
    seq INTEGER,
    kind TEXT NOT NULL,
    camera TEXT NOT NULL,
    time REAL NOT NULL,
    snapshot TEXT,
    clip_id TEXT
);
CREATE INDEX IF NOT EXISTS events_time ON events(time);
CREATE INDEX IF NOT EXISTS events_camera ON events(camera, time);
CREATE INDEX IF NOT EXISTS events_clip ON events(clip_id);
"""


class ClipIndex:
    """The clip and event index of one store (SQLite at `path`, WAL mode, thread-safe).

    sqlite3.Error from any method when the database cannot be read or written.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.RLock()
        opened = open_database(path, _SCHEMA, ("clips", "events"))
        self.state = opened.state
        """CREATED or REBUILT: the files on disk are the truth, rebuild the rows from them."""
        self._db = opened.connection
        self._db.row_factory = sqlite3.Row

    def close(self) -> None:
        """Close the database."""
        with self._lock:
            self._db.close()

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def _query(self, sql: str, args: Sequence[Any] = ()) -> list[sqlite3.Row]:
        with self._lock:
            return list(self._db.execute(sql, args))

    # --- clips -----------------------------------------------------------------------------
    def add_clip(self, clip_id: str, camera: str, start: float, path: str, mode: str) -> None:
        """Add a clip being recorded (RECORDING); `start` in Unix seconds, `path` its file name.

        Kept as it is when the journal indexed it already (`announce`).
        """
        with self._tx() as db:
            db.execute(_NEW_CLIP, (clip_id, camera, start, path, ClipState.RECORDING, mode))

    def adopt_clip(self, record: ClipRecord) -> None:
        """Index a clip found on disk; its camera passes `trusted_camera` first."""
        camera = trusted_camera(record.camera, record.id)
        with self._tx() as db:
            db.execute(
                "INSERT OR REPLACE INTO clips(id, camera, start, end, path, size, protected,"
                " state, mode, reason) VALUES (?,?,?,?,?,?,?,?,?,?)",
                (
                    record.id,
                    camera,
                    record.start,
                    record.end,
                    record.path,
                    record.size,
                    int(record.protected),
                    record.state,
                    record.mode,
                    record.reason,
                ),
            )

    def finish_clip(
        self,
        clip_id: str,
        *,
        start: float,
        end: float,
        path: str,
        size: int,
        state: ClipState,
        reason: str | None = None,
    ) -> None:
        """Record a clip's final times (Unix seconds), file name, size (bytes), state and reason."""
        with self._tx() as db:
            db.execute(
                "UPDATE clips SET start=?, end=?, path=?, size=?, state=?, reason=? WHERE id=?",
                (start, end, path, size, state, reason, clip_id),
            )

    def set_protected(self, clip_id: str, protected: bool) -> bool:
        """Set a clip's protection; False when the clip is unknown."""
        with self._tx() as db:
            cur = db.execute("UPDATE clips SET protected=? WHERE id=?", (int(protected), clip_id))
            return cur.rowcount > 0

    def remove_clip(self, clip_id: str) -> None:
        """Forget a clip; its events stay (with their snapshots) but lose the link."""
        with self._tx() as db:
            db.execute("UPDATE events SET clip_id=NULL WHERE clip_id=?", (clip_id,))
            db.execute("DELETE FROM clips WHERE id=?", (clip_id,))

    def get_clip(self, clip_id: str) -> ClipRecord | None:
        """The clip with its events, or None."""
        rows = self._query("SELECT * FROM clips WHERE id=?", (clip_id,))
        return self._clips_with_events(rows)[0] if rows else None

    def clips_in_state(self, state: ClipState) -> list[ClipRecord]:
        """Clips in `state`, oldest first, with their events."""
        return self._clips_with_events(
            self._query("SELECT * FROM clips WHERE state=? ORDER BY start", (str(state),))
        )

    def all_clips(self) -> list[ClipRecord]:
        """Every clip, oldest first, without events (for retention and reconciliation)."""
        return [clip_from_row(r, ()) for r in self._query("SELECT * FROM clips ORDER BY start, id")]

    def list_clips(
        self,
        *,
        camera: str | None = None,
        kind: str | None = None,
        since: float | None = None,
        until: float | None = None,
        protected: bool | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> Page[ClipRecord]:
        """Clips newest first, those still recording too (state `recording`, no end yet).

        `kind` keeps clips with at least one event of that kind.
        """
        limit, offset = check_paging(limit, offset)
        where: list[str] = ["1"]
        args: list[Any] = []
        if camera is not None:
            where.append("camera = ?")
            args.append(camera)
        if since is not None:
            where.append("COALESCE(end, start) >= ?")
            args.append(since)
        if until is not None:
            where.append("start <= ?")
            args.append(until)
        if protected is not None:
            where.append("protected = ?")
            args.append(int(protected))
        if kind is not None:
            where.append(
                "EXISTS (SELECT 1 FROM events e WHERE e.clip_id = clips.id AND e.kind = ?)"
            )
            args.append(kind)
        cond = " AND ".join(where)
        with self._lock:  # total and items of one moment: the journal and workers write
            total = int(self._query(f"SELECT COUNT(*) FROM clips WHERE {cond}", args)[0][0])
            rows = self._query(
                f"SELECT * FROM clips WHERE {cond} ORDER BY start DESC, id LIMIT ? OFFSET ?",
                [*args, limit, offset],
            )
            return Page(self._clips_with_events(rows), total, offset, limit)

    def _clips_with_events(self, rows: list[sqlite3.Row]) -> list[ClipRecord]:
        if not rows:
            return []
        ids = [r["id"] for r in rows]
        marks = ",".join("?" * len(ids))
        events: dict[str, list[EventRecord]] = {}
        for e in self._query(f"{_EVENTS} WHERE clip_id IN ({marks}) ORDER BY time, seq", ids):
            events.setdefault(e["clip_id"], []).append(event_from_row(e))
        return [clip_from_row(r, tuple(events.get(r["id"], ()))) for r in rows]

    def summary(self) -> tuple[int, float | None]:
        """Number of clips and the start of the oldest one."""
        row = self._query("SELECT COUNT(*), MIN(start) FROM clips")[0]
        return int(row[0]), row[1]

    def total_size(self) -> int:
        """Bytes of all clips together."""
        return int(self._query("SELECT COALESCE(SUM(size), 0) FROM clips")[0][0])

    # --- events ----------------------------------------------------------------------------
    def add_event(
        self,
        event_id: str,
        *,
        seq: int | None,
        kind: str,
        camera: str,
        time: float,
        clip_id: str | None,
    ) -> None:
        """Add (or replace) an event; `time` in Unix seconds (camera clock)."""
        with self._tx() as db:
            db.execute(
                "INSERT OR REPLACE INTO events(id, seq, kind, camera, time, clip_id)"
                " VALUES (?,?,?,?,?,?)",
                (event_id, seq, kind, camera, time, clip_id),
            )

    def announce(
        self,
        camera: str,
        event: TriggerEvent,
        clip_id: str | None,
        clip: NewClip | None,
        wanted: Callable[[], bool],
    ) -> None:
        """Index an announced event (and the clip it starts, as RECORDING) unless indexed already.

        Rows the recorder's worker wrote first are left as they are: they are never older.
        Nothing is written unless `wanted()`, asked under the index's lock: a worker that
        writes next writes after this.
        """
        with self._tx() as db:
            if not wanted():
                return
            if clip is not None:
                row = (clip.clip_id, camera, clip.start, clip.path, ClipState.RECORDING, clip.mode)
                db.execute(_NEW_CLIP, row)
            db.execute(
                "INSERT OR IGNORE INTO events(id, seq, kind, camera, time, clip_id)"
                " VALUES (?,?,?,?,?,?)",
                (event["id"], event["seq"], event["kind"], camera, event["time"], clip_id),
            )

    def set_event_clip(self, event_id: str, clip_id: str | None) -> None:
        """Link an event to a clip (None: unlink)."""
        with self._tx() as db:
            db.execute("UPDATE events SET clip_id=? WHERE id=?", (clip_id, event_id))

    def set_snapshot(self, event_id: str, snapshot: str | None) -> None:
        """Set (or clear with None) an event's snapshot file name."""
        with self._tx() as db:
            db.execute("UPDATE events SET snapshot=? WHERE id=?", (snapshot, event_id))

    def clear_snapshot(self, name: str) -> None:
        """Clear the snapshot file `name` from every event that uses it."""
        with self._tx() as db:
            db.execute("UPDATE events SET snapshot=NULL WHERE snapshot=?", (name,))

    def get_event(self, event_id: str) -> EventRecord | None:
        """The event, or None."""
        rows = self._query(f"{_EVENTS} WHERE id=?", (event_id,))
        return event_from_row(rows[0]) if rows else None

    def snapshot_names(self) -> set[str]:
        """File names of every snapshot an event uses."""
        rows = self._query("SELECT snapshot FROM events WHERE snapshot IS NOT NULL")
        return {r[0] for r in rows}

    def snapshot_in_use(self, name: str) -> bool:
        """True when some event uses the snapshot file `name`."""
        return bool(self._query("SELECT 1 FROM events WHERE snapshot=? LIMIT 1", (name,)))

    def snapshot_events(self, limit: int) -> list[EventRecord]:
        """Events without a clip that have a snapshot, oldest first."""
        rows = self._query(
            f"{_EVENTS} WHERE snapshot IS NOT NULL AND clip_id IS NULL ORDER BY time, id LIMIT ?",
            (limit,),
        )
        return [event_from_row(r) for r in rows]

    def events_before(self, when: float) -> list[EventRecord]:
        """Events older than `when` (Unix seconds)."""
        return [event_from_row(r) for r in self._query(f"{_EVENTS} WHERE time < ?", (when,))]

    def remove_event(self, event_id: str) -> None:
        """Forget an event."""
        with self._tx() as db:
            db.execute("DELETE FROM events WHERE id=?", (event_id,))

    def list_events(
        self,
        *,
        camera: str | None = None,
        kind: str | None = None,
        since: float | None = None,
        until: float | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> Page[EventRecord]:
        """Events newest first, filtered by camera, kind and time range [since, until]."""
        limit, offset = check_paging(limit, offset)
        cond, args = where(
            ("camera", "=", camera),
            ("kind", "=", kind),
            ("time", ">=", since),
            ("time", "<=", until),
        )
        with self._lock:  # total and items of one moment (see list_clips)
            total = int(self._query(f"SELECT COUNT(*) FROM events WHERE {cond}", args)[0][0])
            rows = self._query(
                f"{_EVENTS} WHERE {cond} ORDER BY time DESC, id LIMIT ? OFFSET ?",
                [*args, limit, offset],
            )
        return Page([event_from_row(r) for r in rows], total, offset, limit)
