"""The stream credential: a scoped, read-only secret for the live stream URL only.

HA's `stream` integration (FFmpeg) and go2rtc open a URL and cannot send an
`Authorization` header, so the live stream is authenticated by a query parameter.
That parameter must never be the API token: URLs end up in logs, diagnostics and
go2rtc's config. A separate random secret lives in the data folder as
`stream_secret` (mode 0600); each camera's credential is an HMAC of the camera's
name under that secret, so a URL opens one camera's stream and nothing else.
Rotating replaces the secret atomically, which revokes every URL at once.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path

SECRET_FILE = "stream_secret"
SECRET_BYTES = 32


def _write_secret(path: Path, secret: str) -> None:
    """Write `secret` to `path` atomically with mode 0600 from the first byte."""
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.unlink(missing_ok=True)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(secret)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)


class StreamCredential:
    """Per-camera stream credentials derived from one rotatable secret in `data_dir`."""

    def __init__(self, data_dir: Path) -> None:
        self.path = data_dir / SECRET_FILE
        try:
            secret = self.path.read_text().strip()
        except FileNotFoundError:
            secret = ""
        if not secret:
            secret = secrets.token_urlsafe(SECRET_BYTES)
            _write_secret(self.path, secret)
        elif self.path.stat().st_mode & 0o077:
            self.path.chmod(0o600)
        self._secret = secret

    def for_camera(self, camera: str) -> str:
        """The credential (URL-safe, 43 characters) that opens `camera`'s live stream."""
        digest = hmac.new(self._secret.encode(), camera.encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()

    def matches(self, camera: str, given: str | None) -> bool:
        """True when `given` is `camera`'s current credential (constant-time compare)."""
        return given is not None and hmac.compare_digest(
            self.for_camera(camera).encode(), given.encode()
        )

    def rotate(self) -> None:
        """Replace the secret: every earlier stream URL stops working."""
        secret = secrets.token_urlsafe(SECRET_BYTES)
        _write_secret(self.path, secret)
        self._secret = secret
