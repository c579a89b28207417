"""Standalone page sessions: a cookie that stands for the token in `<img>` and `<video>`.

Pictures and clips are loaded by the browser itself, which cannot add an `Authorization`
header. The standalone page (no Supervisor) posts the token once to `SESSION_PATH` with
that header; the answer sets a random session id as an HttpOnly, SameSite=Strict cookie,
which the HTTP routes then accept like the token. The token itself never goes into a
cookie, a URL or a log. Sessions live in memory only: after a restart the page posts
the token again (kept in the tab's sessionStorage).
"""

from __future__ import annotations

import hmac
import secrets
import time
from typing import Final

SESSION_PATH: Final = "/panel/session"
COOKIE_NAME: Final = "porchlight_panel"
SESSION_SECONDS: Final = 12 * 3600.0
"""A session ends this long after it was opened (the page then posts the token again)."""
MAX_SESSIONS: Final = 64
"""Sessions kept at once; opening one more ends the oldest."""


class PanelSessions:
    """Open session ids with their expiry (monotonic seconds), oldest first."""

    def __init__(self, lifetime: float = SESSION_SECONDS, size: int = MAX_SESSIONS) -> None:
        self.lifetime = lifetime
        self.size = size
        self._expiry: dict[str, float] = {}

    def open(self) -> str:
        """A new session id (43 URL-safe characters), valid for `lifetime` seconds."""
        self._drop_expired()
        while len(self._expiry) >= self.size:
            del self._expiry[next(iter(self._expiry))]
        session = secrets.token_urlsafe(32)
        self._expiry[session] = time.monotonic() + self.lifetime
        return session

    def valid(self, session: str | None) -> bool:
        """Whether `session` is an open, unexpired session id (constant-time per entry)."""
        if not session:
            return False
        now = time.monotonic()
        found = False
        for known, expiry in self._expiry.items():
            if hmac.compare_digest(known, session) and expiry > now:
                found = True
        return found

    def close(self, session: str | None) -> None:
        """End `session` (logging out); unknown ids are ignored."""
        if session:
            self._expiry.pop(session, None)

    def _drop_expired(self) -> None:
        now = time.monotonic()
        for known in [k for k, expiry in self._expiry.items() if expiry <= now]:
            del self._expiry[known]
