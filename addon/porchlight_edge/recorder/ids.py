"""Identifiers for clips, snapshots and events, and their validation.

Clip and snapshot ids become file names, so anything coming from a client is
checked against a strict pattern before it gets near a path (no traversal).
"""

from __future__ import annotations

from enum import StrEnum
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
    """True when `value` is a well-formed clip id (a lowercase UUID)."""
    return isinstance(value, str) and _UUID_RE.fullmatch(value) is not None


def validate_event_id(value: object) -> str:
    """Return `value` if it is an event id (1-80 of letters, digits, `_.:-`), else ValueError."""
    if not isinstance(value, str) or not _EVENT_ID_RE.fullmatch(value):
        raise ValueError("invalid event id: 1-80 characters of letters, digits and _.:-")
    return value


def validate_camera(value: object) -> str:
    """Return `value` if it is a camera name (1-64 of letters, digits, `_.-`), else ValueError."""
    if not isinstance(value, str) or not _CAMERA_RE.fullmatch(value) or value in {".", ".."}:
        raise ValueError("invalid camera name: 1-64 characters of letters, digits and _.-")
    return value


class MediaFile(StrEnum):
    """The files the store writes; anything else in its folders is foreign and left alone."""

    CLIP = "clip"
    CLIP_PART = "clip_part"
    """Being written, or cut short by a crash or a full disk."""
    CLIP_SALVAGE = "clip_salvage"
    """A salvage in progress (a leftover if the process died during it)."""
    SNAPSHOT = "snapshot"
    SNAPSHOT_PART = "snapshot_part"
    EXPORT = "export"
    EXPORT_MANIFEST = "export_manifest"
    EXPORT_PART = "export_part"


_ID = r"(?P<id>[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})"
_EXPORT = rf"porchlight-[A-Za-z0-9_.-]{{1,64}}-{_ID}"
_MEDIA_NAMES: tuple[tuple[MediaFile, re.Pattern[str]], ...] = tuple(
    (kind, re.compile(pattern))
    for kind, pattern in (
        (MediaFile.CLIP, rf"^{_ID}\.mp4$"),
        (MediaFile.CLIP_PART, rf"^{_ID}\.mp4\.part$"),
        (MediaFile.CLIP_SALVAGE, rf"^{_ID}\.mp4\.part\.salvage$"),
        (MediaFile.SNAPSHOT, rf"^{_ID}\.jpg$"),
        (MediaFile.SNAPSHOT_PART, rf"^{_ID}\.jpg\.part$"),
        (MediaFile.EXPORT, rf"^{_EXPORT}\.mp4$"),
        (MediaFile.EXPORT_MANIFEST, rf"^{_EXPORT}\.manifest\.json$"),
        (MediaFile.EXPORT_PART, rf"^{_EXPORT}\.(?:mp4|manifest\.json)\.part$"),
    )
)


def media_file(name: str) -> tuple[MediaFile, str] | None:
    """(kind, clip or snapshot id) of a file name the store writes, None for a foreign name."""
    for kind, pattern in _MEDIA_NAMES:
        match = pattern.fullmatch(name)
        if match:
            return kind, match["id"]
    return None
