"""Identifiers for clips, snapshots and events, and their validation.

Clip and snapshot ids become file names, so anything coming from a client is
checked against a strict pattern before it gets near a path (no traversal).
"""

from __future__ import annotations

import re
import uuid

_UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
# Event ids come from the service (e.g. "<boot_id>:<seq>"); they never name a file.
_EVENT_ID_RE = re.compile(r"^[A-Za-z0-9_.:-]{1,80}$")
_CAMERA_RE = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")


def new_id() -> str:
    """A fresh clip / snapshot id: a lowercase UUID4 string."""
    return str(uuid.uuid4())


def validate_clip_id(value: object) -> str:
    """Return `value` if it is a well-formed clip id, else raise ValueError."""
    if not isinstance(value, str) or not _UUID_RE.fullmatch(value):
        raise ValueError("invalid clip id: expected a lowercase UUID like 'xxxxxxxx-xxxx-...'")
    return value


def is_clip_id(value: object) -> bool:
    return isinstance(value, str) and _UUID_RE.fullmatch(value) is not None


def validate_event_id(value: object) -> str:
    if not isinstance(value, str) or not _EVENT_ID_RE.fullmatch(value):
        raise ValueError("invalid event id: 1-80 characters of letters, digits and _.:-")
    return value


def validate_camera(value: object) -> str:
    if not isinstance(value, str) or not _CAMERA_RE.fullmatch(value) or value in {".", ".."}:
        raise ValueError("invalid camera name: 1-64 characters of letters, digits and _.-")
    return value
