"""Filtered, paged SQLite queries shared by the clip index and the audit log."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

MAX_PAGE = 500


@dataclass(frozen=True, slots=True)
class Page[T]:
    """One page of a list: `items`, the `total` matching, and the `offset`/`limit` asked for."""

    items: list[T]
    total: int
    offset: int
    limit: int

    @property
    def next_offset(self) -> int | None:
        """Offset of the next page, or None when this is the last."""
        end = self.offset + len(self.items)
        return end if end < self.total else None


def check_paging(limit: int, offset: int) -> tuple[int, int]:
    """`limit` capped at MAX_PAGE; ValueError for a limit below 1 or a negative offset."""
    if limit < 1 or offset < 0:
        raise ValueError("limit must be >= 1 and offset >= 0")
    return min(limit, MAX_PAGE), offset


def where(*filters: tuple[str, str, Any]) -> tuple[str, list[Any]]:
    """SQL condition and arguments for the (column, operator, value) filters that are set."""
    used = [(column, op, value) for column, op, value in filters if value is not None]
    cond = " AND ".join(f"{column} {op} ?" for column, op, _ in used) or "1"
    return cond, [value for _, _, value in used]
