"""Which clips to delete: a pure plan, so the order is easy to test and reason about.

Order: unprotected clips oldest first, then protected clips oldest first. Age
never deletes a protected clip (protection exists to keep it); size and free-space
limits do, as a last resort, and the store warns before each such deletion.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Sequence

    from .index import ClipRecord

DAY = 86400.0


@dataclass(frozen=True, slots=True)
class RetentionPolicy:
    max_age_days: float | None = 30.0
    max_total_bytes: int | None = None
    """Upper bound for all clips together (None: no limit)."""
    min_free_bytes: int = 512 * 1024 * 1024
    """Delete old clips while the disk has less free space than this."""

    def __post_init__(self) -> None:
        if self.max_age_days is not None and self.max_age_days <= 0:
            raise ValueError("max_age_days must be positive or None")
        if self.max_total_bytes is not None and self.max_total_bytes < 0:
            raise ValueError("max_total_bytes must be >= 0 or None")
        if self.min_free_bytes < 0:
            raise ValueError("min_free_bytes must be >= 0")


@dataclass(frozen=True, slots=True)
class Deletion:
    clip: ClipRecord
    reason: str
    """"max_age", "max_size" or "min_free"."""


def plan_retention(
    clips: Sequence[ClipRecord], policy: RetentionPolicy, now: float, free_bytes: int
) -> list[Deletion]:
    """Clips to delete, in deletion order. `clips` are finished clips (any order)."""
    ordered = sorted(clips, key=lambda c: (c.protected, c.start, c.id))
    out: list[Deletion] = []
    kept: list[ClipRecord] = []
    cutoff = None if policy.max_age_days is None else now - policy.max_age_days * DAY
    for clip in ordered:
        if cutoff is not None and not clip.protected and (clip.end or clip.start) < cutoff:
            out.append(Deletion(clip, "max_age"))
            free_bytes += clip.size
        else:
            kept.append(clip)
    total = sum(c.size for c in kept)
    for clip in kept:
        if policy.max_total_bytes is not None and total > policy.max_total_bytes:
            reason = "max_size"
        elif free_bytes < policy.min_free_bytes:
            reason = "min_free"
        else:
            break
        out.append(Deletion(clip, reason))
        total -= clip.size
        free_bytes += clip.size
    return out
