"""Finish a clip that ended abnormally (disk full, write error, crash of its job) at once.

The index must never keep such a clip as `recording` until space returns or the add-on
restarts: the clip list and the event list would disagree, and the clip could not be
played. The `.part` is a fragmented MP4, so it is kept in place up to its last whole
fragment: truncating frees space and renaming needs none, which works on a full disk
(a salvage copy, as reconciliation makes after a crash, would not).
"""

from __future__ import annotations

import logging
import os
import sqlite3
from typing import TYPE_CHECKING

from .index import ClipRecord, ClipState
from .recover import complete_fragments_end, probe
from .writer import replace_durably

if TYPE_CHECKING:
    from .storage import ClipStore

_LOGGER = logging.getLogger(__name__)


def finish_cut_clip(
    store: ClipStore, clip_id: str, reason: str, start: float | None
) -> ClipRecord | None:
    """Keep what a cut clip holds as a `partial` clip with `reason`, or drop it.

    `start`: Unix seconds of the clip's first frame if known (else the file's own).
    Returns the finished record; None when nothing in it plays (file and index row
    removed; its events stay, unlinked) or when the file or index could not be changed
    (the row stays `recording` and the next reconciliation finishes the job).
    Blocking: call it on the recorder's worker thread.
    """
    part, final = store.part_path(clip_id), store.clip_path(clip_id)
    try:
        if part.exists():
            end = complete_fragments_end(part)
            if end is not None and end < part.stat().st_size:
                os.truncate(part, end)
            facts = probe(part) if end is not None else None
            if facts is not None:
                replace_durably(part, final)
        else:  # renamed before the index update failed
            facts = probe(final) if final.exists() else None
        if facts is None:
            _LOGGER.info("clip %s holds no whole fragment: dropped", clip_id)
            part.unlink(missing_ok=True)
            store.index.remove_clip(clip_id)
            return None
        first = start if start is not None else facts.start(final)
        store.index.finish_clip(
            clip_id,
            start=first,
            end=first + facts.duration,
            path=final.name,
            size=final.stat().st_size,
            state=ClipState.PARTIAL,
            reason=reason,
        )
    except (OSError, sqlite3.Error) as err:
        _LOGGER.warning("cannot finish the cut clip %s yet: %s", clip_id, err)
        return None
    return store.index.get_clip(clip_id)
