"""The add-on's commands as typed methods (docs/protocol.md), and who they are sent for.

A mixin of `PorchlightClient`: each method is one command through `command()`, which the
client implements over its websocket. Errors as `PorchlightClient.command` raises them.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any, cast

from .protocol import (
    AuditPage,
    ClipRecord,
    Command,
    EventPage,
    ExportResult,
    MotionSettings,
    RecordClipResult,
    RecordingSettings,
    StorageStatus,
    StreamUrl,
)

if TYPE_CHECKING:
    from collections.abc import Iterator

_ON_BEHALF: ContextVar[str | None] = ContextVar("porchlight_on_behalf", default=None)


@contextmanager
def on_behalf_of(user: str | None) -> Iterator[None]:
    """Audited commands sent inside this block name `user` (a person's name) to the add-on.

    `PorchlightClient.command` adds it as `USER_ARG` (through `user_arg`: only to add-ons
    that take it). None: nobody is named (automations).
    """
    token = _ON_BEHALF.set(user)
    try:
        yield
    finally:
        _ON_BEHALF.reset(token)


def acting_user() -> str | None:
    """The user of the innermost `on_behalf_of` block; None outside any."""
    return _ON_BEHALF.get()


class CommandsApi(ABC):
    """Typed wrappers of the add-on's commands over `command()`."""

    @property
    @abstractmethod
    def base_url(self) -> str:
        """`http://host:port` of the add-on's API."""

    @abstractmethod
    async def command(self, command: str, **args: Any) -> Any:
        """Send `command` with `args`; its result (see `PorchlightClient.command`)."""

    async def set_motion_settings(self, camera: str, **settings: Any) -> MotionSettings:
        """Change any of `enabled`, `threshold` (1-255), `min_area` (0-100 %).

        Returns:
            The camera's new motion settings; a `camera_state` event follows a change.
        """
        result = await self.command(Command.SET_MOTION_SETTINGS, camera=camera, **settings)
        return cast(MotionSettings, result)

    async def set_recording_settings(self, camera: str, **settings: Any) -> RecordingSettings:
        """Change any of `enabled`, `pre_roll` and `post_roll` (seconds).

        Returns:
            The camera's new recording settings; a `camera_state` event follows a change.
        """
        result = await self.command(Command.SET_RECORDING_SETTINGS, camera=camera, **settings)
        return cast(RecordingSettings, result)

    async def set_privacy_mode(self, camera: str, enabled: bool) -> bool:
        """Turn the lens off (True) or on; returns the new privacy mode."""
        result = await self.command(Command.SET_PRIVACY_MODE, camera=camera, enabled=enabled)
        return bool(result["privacy_mode"])

    async def set_audio(self, camera: str, enabled: bool) -> bool:
        """Record the camera's sound (True) or not; returns the new audio setting."""
        result = await self.command(Command.SET_AUDIO, camera=camera, enabled=enabled)
        return bool(result["audio"])

    async def take_snapshot(self, camera: str) -> str:
        """Record a `manual` event with a snapshot; returns its event id."""
        result = await self.command(Command.TAKE_SNAPSHOT, camera=camera)
        return str(result["event_id"])

    async def get_storage(self) -> StorageStatus:
        """The add-on's disk usage (bytes used and free, clip count)."""
        return cast(StorageStatus, await self.command(Command.GET_STORAGE))

    async def record_clip(self, camera: str, seconds: float) -> RecordClipResult:
        """Start a manual clip of `seconds` (1-300); returns `event_id` and `clip_id`."""
        result = await self.command(Command.RECORD_CLIP, camera=camera, seconds=seconds)
        return cast(RecordClipResult, result)

    async def list_events(self, **query: Any) -> EventPage:
        """One page of indexed events, newest first.

        Args:
            **query: Any of `camera`, `kind`, `start` and `end` (Unix seconds), `limit`,
                `offset`; None values are left out.

        Returns:
            `events` (event records) and `next_offset` (None on the last page).
        """
        args = {key: value for key, value in query.items() if value is not None}
        return cast(EventPage, await self.command(Command.LIST_EVENTS, **args))

    async def protect_clip(self, clip_id: str, protected: bool) -> ClipRecord:
        """Keep a clip from retention (or release it); returns the clip record."""
        result = await self.command(Command.PROTECT_CLIP, clip_id=clip_id, protected=protected)
        return cast(ClipRecord, result)

    async def delete_clips(self, **target: Any) -> list[str]:
        """Delete by `clip_ids`, `event_ids`, or `start` + `end` (+ `camera`).

        Returns:
            The ids of the clips that are gone.
        """
        args = {key: value for key, value in target.items() if value is not None}
        result = await self.command(Command.DELETE_CLIPS, **args)
        return [str(clip_id) for clip_id in result["deleted"]]

    async def export_clip(self, clip_id: str, user: str | None = None) -> ExportResult:
        """Export a finished clip; the add-on's `path` and `manifest` (`user`: who exports)."""
        with on_behalf_of(user):
            return cast(ExportResult, await self.command(Command.EXPORT_CLIP, clip_id=clip_id))

    async def get_stream_url(self, camera: str, user: str | None = None) -> str:
        """The URL of the camera's live stream (MPEG-TS over HTTP) for HA's `stream`.

        It carries the add-on's scoped stream credential (never the access token). `user`,
        a viewer, is audited by the add-on (see `on_behalf_of`); None names nobody, whoever
        acts around the call (a stream is not fetched on an action's behalf).

        Raises:
            PorchlightCommandError: `unknown_command` from add-ons without a live stream.
        """
        with on_behalf_of(user):
            result = cast(StreamUrl, await self.command(Command.GET_STREAM_URL, camera=camera))
        return self.base_url + result["path"]

    async def rotate_stream_credential(self) -> None:
        """Revoke every live stream URL (open streams end); fetch new ones after this."""
        await self.command(Command.ROTATE_STREAM_CREDENTIAL)

    async def get_audit_log(self, **query: Any) -> AuditPage:
        """One page of the add-on's audit log (`limit`, `offset`), newest first.

        Returns:
            `entries` and `next_offset` (None on the last page).
        """
        args = {key: value for key, value in query.items() if value is not None}
        return cast(AuditPage, await self.command(Command.GET_AUDIT_LOG, **args))
