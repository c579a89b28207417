"""A logging filter that keeps secrets out of every log line, whoever logs it.

Sources redact what they report (`capture.urls.redact_url`), but tracebacks and
third-party messages (FFmpeg via PyAV, aiohttp, asyncio) can embed a camera URL or
a header verbatim. The filter rewrites each record's message and traceback text
with `protocol.redact_secrets`, and blanks the access token wherever it appears.
"""

from __future__ import annotations

import logging

from porchlight_edge.protocol import REDACTED, redact_secrets


class RedactSecrets(logging.Filter):
    """Rewrites records in place; never drops one. `secrets`: literal strings to blank."""

    def __init__(self, secrets: tuple[str, ...] = ()) -> None:
        super().__init__()
        self.secrets = tuple(s for s in secrets if s)

    def _clean(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, REDACTED)
        return redact_secrets(text)

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite `record`'s message with secrets redacted; always True (the record is kept)."""
        try:
            message = record.getMessage()
        except (TypeError, ValueError):  # a bad format string: keep the raw template
            message = str(record.msg)
        record.msg, record.args = self._clean(message), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self._clean(record.exc_text)
        if record.stack_info:
            record.stack_info = self._clean(record.stack_info)
        return True


def install(secrets: tuple[str, ...] = ()) -> RedactSecrets:
    """Attach one filter to every handler of the root logger (call after basicConfig)."""
    redactor = RedactSecrets(secrets)
    for handler in logging.getLogger().handlers:
        handler.addFilter(redactor)
    return redactor
