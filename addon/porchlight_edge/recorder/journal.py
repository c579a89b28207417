"""The event journal: an announced event is in the index before anyone can list it.

A ring or motion event is published on the bus first (the ring-first latency), then the
recorder's worker writes clips, snapshots and the index in one queue, where an event can
wait behind earlier clip work. The journal is a second, index-only lane: on the loop,
`announce` queues the event (and the clip it starts) and returns a ticket; its own thread
inserts the rows at once. Readers (`list_events`, `list_clips`) and the recorder's worker
`wait` for the tickets issued before them, so what was announced is listed
(read-your-writes) and the worker's own writes of those rows always come second.

The thread boundary is one explicit queue; the one shared value is the count of tickets
done, behind a `threading.Condition`.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
import logging
import queue
import sqlite3
import threading
from typing import TYPE_CHECKING, Final

from porchlight_edge.diskfull import is_disk_full

if TYPE_CHECKING:
    from collections.abc import Callable

    from .index import ClipIndex
    from .notices import TriggerEvent

_LOGGER = logging.getLogger(__name__)
WAIT_SECONDS: Final = 5.0
"""Longest a reader or the worker waits for the journal (a stuck disk): then it goes on."""
# A worker that went on has written (or deleted) those rows itself: the journal skips them,
# or its late insert would bring back a clip the worker finished and retention deleted.


@dataclass(frozen=True, slots=True)
class NewClip:
    """The clip an announced event starts: indexed as `recording` until the worker ends it."""

    clip_id: str
    start: float
    """Unix seconds (camera clock) of the trigger."""
    path: str
    """The clip's file name."""
    mode: str


@dataclass(frozen=True, slots=True)
class Announcement:
    """An event the add-on announced, with its clip id (None: no clip) and new clip, if any."""

    camera: str
    event: TriggerEvent
    clip_id: str | None
    clip: NewClip | None = None


_STOP: Final = None


class EventJournal:
    """Index announced events at once, in their own thread; tickets order readers after them.

    `announce` runs on the loop; `wait` in any thread but the journal's. `on_disk_full` is
    called (journal thread) when an insert fails for lack of space.
    """

    def __init__(self, index: ClipIndex, on_disk_full: Callable[[], None]) -> None:
        self._index = index
        self._on_disk_full = on_disk_full
        self._queue: queue.SimpleQueue[Announcement | None] = queue.SimpleQueue()
        self._issued = 0  # loop thread only
        self._done = 0
        self._passed = 0
        """Tickets up to this one a worker stopped waiting for: skipped, never written late."""
        self._cond = threading.Condition()
        self._thread = threading.Thread(target=self._run, name="event-journal", daemon=True)

    @property
    def ticket(self) -> int:
        """The ticket of the last announcement (0: none yet); `wait(ticket)` waits for it."""
        return self._issued

    def announce(self, announcement: Announcement) -> int:
        """Queue `announcement` for the index (loop thread); its ticket."""
        if self._thread.ident is None:
            self._thread.start()
        self._issued += 1
        self._queue.put(announcement)
        return self._issued

    def wait(self, ticket: int, *, writer: bool = False) -> bool:
        """Block until every announcement up to `ticket` is written (or failed to be).

        False when WAIT_SECONDS passed first: the caller goes on without them. A `writer`
        (the recorder's worker, which writes the same rows) that goes on has the journal skip
        those not written yet, so they never land after its own writes; later waits for
        them return at once (True).
        """
        with self._cond:
            if self._cond.wait_for(
                lambda: self._done >= ticket or self._passed >= ticket, WAIT_SECONDS
            ):
                return True
            if writer:
                self._passed = max(self._passed, ticket)
            return False

    def _wanted(self, ticket: int) -> bool:
        """False once a writer went on without announcement `ticket` (see `wait`)."""
        with self._cond:
            return ticket > self._passed

    def close(self) -> None:
        """Write what is queued, then end the thread. Blocking: call it in a thread."""
        if self._thread.ident is None:
            return
        self._queue.put(_STOP)
        self._thread.join()

    def _run(self) -> None:
        while (item := self._queue.get()) is not _STOP:
            wanted = partial(self._wanted, self._done + 1)  # the item's ticket
            try:
                self._index.announce(item.camera, item.event, item.clip_id, item.clip, wanted)
            except sqlite3.Error as err:  # the worker writes the same rows again later
                _LOGGER.warning("Cannot index event %s yet: %s", item.event["id"], err)
                if is_disk_full(err):
                    self._on_disk_full()
            except Exception:  # never end the thread: every later wait would time out
                _LOGGER.exception("Cannot index event %s", item.event["id"])
            finally:
                with self._cond:
                    self._done += 1
                    self._cond.notify_all()
