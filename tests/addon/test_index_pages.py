"""A page of events or clips is one snapshot of the index, while other threads write it.

The event journal and each camera's recorder worker insert rows in their own threads while
the API lists them. A page's `total` and its items must come from the same moment: else a
page can hold more items than its `total` says, and a client paging by `next_offset` stops
one page early and never sees the newest event. Real SQLite file, real threads.
"""

from __future__ import annotations

from pathlib import Path
import threading

from porchlight_edge.protocol import ClipState
from porchlight_edge.recorder.index import ClipIndex

WRITES = 3000
"""Rows the writer thread inserts (bounded; the reader stops when it is done)."""
LIMIT = 4


def test_a_page_agrees_with_its_total_while_rows_arrive(tmp_path: Path) -> None:
    index = ClipIndex(tmp_path / "index.db")
    done = threading.Event()

    def write() -> None:
        try:
            for n in range(WRITES):
                clip_id = f"clip-{n}"
                index.add_clip(clip_id, "porch", float(n), f"{clip_id}.mp4", "passthrough")
                index.add_event(
                    f"event-{n}", seq=n, kind="ring", camera="porch", time=float(n), clip_id=None
                )
        finally:
            done.set()

    writer = threading.Thread(target=write, name="test-writer")
    writer.start()
    wrong: list[str] = []
    try:
        while not done.is_set() and len(wrong) < 5:
            events = index.list_events(limit=LIMIT)
            clips = index.list_clips(limit=LIMIT)
            # Rows arrive in order, newest last: the newest listed, n, says n + 1 are there.
            for name, newest, total in (
                ("events", events.items[0].id if events.items else None, events.total),
                ("clips", clips.items[0].id if clips.items else None, clips.total),
            ):
                there = 0 if newest is None else int(newest.rsplit("-", 1)[1]) + 1
                if total != there:
                    wrong.append(f"{name}: newest {newest}, total {total}")
    finally:
        writer.join()
        index.close()
    assert wrong == []
    assert all(c.state is ClipState.RECORDING for c in clips.items)
