"""The add-on's stable identity and access token, kept in its data folder."""

from __future__ import annotations

from dataclasses import dataclass
import logging
import os
import secrets
from typing import TYPE_CHECKING
import uuid

if TYPE_CHECKING:
    from pathlib import Path

_LOGGER = logging.getLogger(__name__)

TOKEN_FILE = "token"
INSTANCE_FILE = "instance_id"


@dataclass(frozen=True, slots=True)
class Identity:
    """This add-on's stable instance id and its API token (both from the data folder)."""

    instance_id: str
    token: str


def redact_token(token: str) -> str:
    """The first four characters of `token` and an ellipsis, for logs; `<none>` when empty."""
    return f"{token[:4]}…" if token else "<none>"


def _write_private(path: Path, text: str) -> None:
    """Create `path` with mode 0600 from the start, so the secret is never world-readable."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())


def _read_or_create(path: Path, make: str) -> tuple[str, bool]:
    try:
        value = path.read_text().strip()
    except FileNotFoundError:
        value = ""
    if value:
        return value, False
    path.unlink(missing_ok=True)
    _write_private(path, make)
    return make, True


def load_identity(data_dir: Path, token_override: str | None = None) -> Identity:
    """Read (or create on first start) the instance id and the access token."""
    data_dir.mkdir(parents=True, exist_ok=True)
    instance_id, _ = _read_or_create(data_dir / INSTANCE_FILE, uuid.uuid4().hex)
    if token_override:
        token = token_override
    else:
        token_path = data_dir / TOKEN_FILE
        token, created = _read_or_create(token_path, secrets.token_urlsafe(32))
        if token_path.stat().st_mode & 0o077:
            token_path.chmod(0o600)
        if created:
            _LOGGER.info("Generated a new access token %s in %s", redact_token(token), token_path)
    return Identity(instance_id, token)
