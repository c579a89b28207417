"""Which clips to delete: a pure plan, so the order is easy to test and reason about.

Order: unprotected clips oldest first, then protected clips oldest first. Age
never deletes a protected clip (protection exists to keep it); size and free-space
limits do, as a last resort: the store warns first and deletes it only if the
limit still needs it a grace period later. A limit no deletion can meet (a disk
smaller than `min_free_bytes`) deletes nothing: the store reports it instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Sequence

    from .index import ClipRecord

DAY = 86400.0


@dataclass(frozen=True, slots=True)
class RetentionPolicy:
    """Retention limits: age in days, total clip bytes, free bytes to keep (None: no limit).

    ValueError for a non-positive age or a negative size.
    """

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


class DeletionReason(StrEnum):
    """Why a clip was deleted (`clip_deleted` and `retention_warning` events)."""

    MAX_AGE = "max_age"
    MAX_SIZE = "max_size"
    MIN_FREE = "min_free"
    USER = "user"


@dataclass(frozen=True, slots=True)
class Deletion:
    """One clip the plan deletes, and why."""

    clip: ClipRecord
    reason: DeletionReason


@dataclass(frozen=True, slots=True)
class RetentionPlan:
    """The clips retention would delete now, in order."""

    deletions: list[Deletion]
    """In deletion order; protected clips last (the store warns before deleting them)."""
    unreachable: bool = False
    """A limit cannot be met even by deleting every clip: nothing recorded could be kept.
    No clip is deleted for that limit (it would destroy footage and still miss it)."""


def plan_retention(
    clips: Sequence[ClipRecord],
    policy: RetentionPolicy,
    now: float,
    free_bytes: int,
    other_bytes: int = 0,
) -> RetentionPlan:
    """Clips to delete, in deletion order. `clips` are finished clips (any order).

    `other_bytes`: what else the store keeps (snapshots, exports), counted against
    `max_total_bytes` but not deletable here.
    """
    ordered = sorted(clips, key=lambda c: (c.protected, c.start, c.id))
    out: list[Deletion] = []
    kept: list[ClipRecord] = []
    cutoff = None if policy.max_age_days is None else now - policy.max_age_days * DAY
    for clip in ordered:
        if cutoff is not None and not clip.protected and (clip.end or clip.start) < cutoff:
            out.append(Deletion(clip, DeletionReason.MAX_AGE))
            free_bytes += clip.size
        else:
            kept.append(clip)
    held = sum(c.size for c in kept)
    limit = policy.max_total_bytes
    size_reachable = limit is None or other_bytes <= limit
    free_reachable = free_bytes + held >= policy.min_free_bytes
    total = held + other_bytes
    for clip in kept:
        if size_reachable and limit is not None and total > limit:
            reason = DeletionReason.MAX_SIZE
        elif free_reachable and free_bytes < policy.min_free_bytes:
            reason = DeletionReason.MIN_FREE
        else:
            break
        out.append(Deletion(clip, reason))
        total -= clip.size
        free_bytes += clip.size
    return RetentionPlan(out, not (size_reachable and free_reachable))
