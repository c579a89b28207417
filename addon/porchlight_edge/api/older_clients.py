"""What a client of an older protocol minor receives: only values its version knows.

Within a major, fields are only added (docs/protocol.md, Versions and upgrades), but new
*values* of existing fields reach an older client unasked. To clients before 1.2 they go
as the 1.1 add-on sent them: camera status `privacy` as `offline` with reason
`PRIVACY_REASON` (`PRIVACY_STATUS_VERSION`), and `list_clips` without the clips still
recording (`RECORDING_CLIPS_VERSION`: an older client takes every listed clip as finished),
and `get_audit_log` without the entries of actions it has no word for
(`COMMAND_AUDIT_VERSION`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from porchlight_edge.audit import ACTIONS_SINCE_1_2
from porchlight_edge.protocol import (
    COMMAND_AUDIT_VERSION,
    PRIVACY_REASON,
    PRIVACY_STATUS_VERSION,
    RECORDING_CLIPS_VERSION,
    CameraStatus,
    ClipState,
    EventType,
    MessageType,
    ProtocolVersion,
)

if TYPE_CHECKING:
    from collections.abc import Callable

# Where a camera's status travels: the camera_status event's data (`status`, `reason`),
# and CameraState (`status`, `status_reason`) in camera_state events and get_state.
_STATUS_EVENT_REASON = "reason"
_CAMERA_STATE_REASON = "status_reason"


def for_client(message: Any, version: ProtocolVersion) -> Any:
    """`message` (a result or event, as sent) as a client speaking `version` may read it.

    Returns the message itself when nothing changes, else a changed copy (the message
    may be shared by every session: it is never modified).
    """
    if not isinstance(message, dict):
        return message
    if version < RECORDING_CLIPS_VERSION:
        message = _without_recording_clips(message)
    if version < COMMAND_AUDIT_VERSION:
        message = _without_listed(message, "entries", _entry_since_1_2)
    if version >= PRIVACY_STATUS_VERSION:
        return message
    match message.get("type"), message.get("event"):
        case MessageType.EVENT, EventType.CAMERA_STATUS:
            return _replaced(message, "data", _STATUS_EVENT_REASON)
        case MessageType.EVENT, EventType.CAMERA_STATE:
            return _replaced(message, "data", _CAMERA_STATE_REASON)
        case MessageType.RESULT, _ if isinstance(result := message.get("result"), dict):
            cameras = result.get("cameras")
            if isinstance(cameras, list) and any(map(_private, cameras)):
                older = [_older(camera, _CAMERA_STATE_REASON) for camera in cameras]
                return {**message, "result": {**result, "cameras": older}}
    return message


def _private(camera: Any) -> bool:
    return isinstance(camera, dict) and camera.get("status") == CameraStatus.PRIVACY


def _older(camera: Any, reason_key: str) -> Any:
    if not _private(camera):
        return camera
    return {**camera, "status": CameraStatus.OFFLINE, reason_key: PRIVACY_REASON}


def _replaced(message: dict[str, Any], key: str, reason_key: str) -> dict[str, Any]:
    data = message.get(key)
    if not _private(data):
        return message
    return {**message, key: _older(data, reason_key)}


def _recording_clip(clip: Any) -> bool:
    return isinstance(clip, dict) and clip.get("state") == ClipState.RECORDING


def _entry_since_1_2(entry: Any) -> bool:
    return isinstance(entry, dict) and entry.get("action") in ACTIONS_SINCE_1_2


def _without_recording_clips(message: dict[str, Any]) -> dict[str, Any]:
    return _without_listed(message, "clips", _recording_clip)


def _without_listed(
    message: dict[str, Any], key: str, unknown: Callable[[Any], bool]
) -> dict[str, Any]:
    """`message` without the items of its result's list `key` that `unknown` picks."""
    result = message.get("result")
    if message.get("type") != MessageType.RESULT or not isinstance(result, dict):
        return message
    items = result.get(key)
    if not isinstance(items, list):
        return message
    kept = [item for item in items if not unknown(item)]
    if len(kept) == len(items):
        return message
    return {**message, "result": {**result, key: kept}}
