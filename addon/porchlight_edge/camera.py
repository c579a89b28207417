"""One camera's pipeline: capture → privacy masks → motion → events and recorder, plus live view.

The capture runner delivers frames on the event loop. Privacy masks are burned
in first, so nothing after this point (live view, snapshots, clips) ever sees
what they hide. The motion engine works on the decimated luma plane; motion
changes and camera status go to the bus, and rings and motion start clips.

Over 400 lines: masks, zones and settings change at run time (`set_layout`,
`update_settings`), and each touches capture, motion, recorder and live view together.
"""

from __future__ import annotations

import asyncio
from collections import deque
import contextlib
from dataclasses import replace
import logging
import statistics
import time
from typing import TYPE_CHECKING, Any

from porchlight_edge.capture import CameraRunner, CameraSource, open_detect_source
from porchlight_edge.capture.demand import DecodeDemand
from porchlight_edge.live import LiveView
from porchlight_edge.motion.engine import MotionEngine
from porchlight_edge.privacy import PrivacyMasker
from porchlight_edge.protocol import (
    PRIVACY_REASON,
    CameraState,
    CameraStatus,
    EventKind,
    EventMessage,
    EventType,
    MotionSettings,
    RecordingSettings,
    ZoneState,
    redact_secrets,
)
from porchlight_edge.recorder.codecs import passthrough_codecs
from porchlight_edge.recorder.recorder import Recorder, RecorderSettings
from porchlight_edge.settings import CameraSettings, SettingsStore, updated
from porchlight_edge.stream.hub import LiveStream

if TYPE_CHECKING:
    from porchlight_edge.capture.config import CameraConfig
    from porchlight_edge.capture.frame import Frame
    from porchlight_edge.config import CameraOptions, LiveOptions
    from porchlight_edge.events import EventBus
    from porchlight_edge.recorder.storage import ClipStore
    from porchlight_edge.rings import RingPublisher

_LOGGER = logging.getLogger(__name__)
RING_PICTURE_SECONDS = 2.0
"""With decoding on demand, the main stream is decoded this long after a ring, so its
snapshot is a full-size picture of the press instant (decoded from the last keyframe)."""


def event_id(event: EventMessage) -> str:
    """The id under which an event's snapshot and clip are indexed."""
    return f"{event['boot_id']}:{event['seq']}"


class CameraPipeline:
    """One camera: capture, privacy masks, motion, recording, live view and its settings.

    Events go to `bus`; rings from a source with a doorbell go to `rings`; settings
    persist in `settings_store`.
    """

    def __init__(
        self,
        options: CameraOptions,
        live: LiveOptions,
        bus: EventBus,
        store: ClipStore,
        settings_store: SettingsStore,
        rings: RingPublisher,
    ) -> None:
        self.name = options.name
        self._hevc = options.hevc
        self.title = options.title
        self.bus = bus
        self._settings_store = settings_store
        self.settings = settings_store.load(options.name, options.defaults)
        # Audio is switched at run time: the saved setting decides what capture takes.
        self.config = replace(options.capture, audio=self.settings.audio)
        self.engine = MotionEngine(options.motion)
        self.engine.set_sensitivity(
            threshold=self.settings.threshold, min_area_pct=self.settings.min_area
        )
        self.masker = PrivacyMasker(options.privacy_masks)
        self.recorder = Recorder(options.name, store, self._recorder_settings())
        self.motion = False
        self.last_ring: float | None = None
        self.last_motion: float | None = None
        # With a detect stream, the main one is decoded only while its pictures are needed.
        self.demand = DecodeDemand() if self.config.detect_url is not None else None
        if self.demand is not None and self.masker.active:
            self.demand.hold()  # masked video is re-encoded from pictures
        self.live = LiveView(live.width, live.quality, live.max_viewers, self.demand)
        self.stream = LiveStream(options.name, live.max_viewers)
        self.recorder.on_encoded = self.stream.on_encoded
        self.stream.audio = self.settings.audio
        self.status = CameraStatus.OFFLINE
        self.status_reason: str | None = "starting"
        self.last_frame: Frame | None = None
        self.frames = 0
        self._frame_times: deque[float] = deque(maxlen=30)
        self._latencies: deque[float] = deque(maxlen=30)
        # The demo visitor's press is published to `rings`, the same queue as a real button.
        self._rings = rings
        self._runner = CameraRunner.for_config(
            self.config, self.on_frame, self.on_status, rings=rings, demand=self.demand
        )
        # Optional low-resolution sub-stream: motion reads it, live view and clips the main one.
        self._detect_runner: CameraRunner | None = None
        self._detect_area: float | None = None
        if self.config.detect_url is not None:
            self._detect_runner = CameraRunner(
                self._open_detect,
                self.on_detect_frame,
                self._on_detect_status,
                name=f"{self.name}:detect",
                stall_seconds=self.config.stall_seconds,
            )
        self._tasks: list[asyncio.Task[None]] = []

    def _open_detect(self) -> CameraSource:
        source = open_detect_source(self.config)
        assert source is not None  # only built when detect_url is set
        return source

    def _recorder_settings(self) -> RecorderSettings:
        return RecorderSettings(
            preroll=self.settings.pre_roll,
            postroll=self.settings.post_roll,
            passthrough_codecs=passthrough_codecs(self._hevc),
            audio=self.settings.audio,
        )

    # --- lifecycle -------------------------------------------------------------------------
    def start(self) -> None:
        """Start the recorder and capture (capture stays off in privacy mode)."""
        self.recorder.start()
        if self.settings.privacy_mode:
            self.on_status(CameraStatus.PRIVACY, PRIVACY_REASON)
        else:
            self._start_capture()

    def _start_capture(self) -> None:
        runners = [r for r in (self._runner, self._detect_runner) if r is not None]
        self._tasks = [
            asyncio.create_task(runner.run(), name=f"camera-{runner.name}") for runner in runners
        ]

    async def _stop_capture(self) -> None:
        for runner in (self._runner, self._detect_runner):
            if runner is not None:
                await runner.stop()
        for task in self._tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []

    async def stop(self) -> None:
        """Stop capture and finish the recorder's clip."""
        await self._stop_capture()
        await self.recorder.stop()
        await self.live.close()
        await self.stream.close()

    # --- data path -------------------------------------------------------------------------
    def on_frame(self, frame: Frame) -> None:
        """A frame of the main stream (on the loop): mask, detect, record, feed the live view."""
        if self.masker.active:
            if not frame.has_picture:
                return  # its packets show what the masks hide: never passed on
            frame = self.masker.apply(frame)
        self.last_frame = frame
        self.frames += 1
        self._frame_times.append(time.monotonic())
        if frame.has_picture:
            self.live.update(frame)
        recording = self.settings.recording_enabled
        self.stream.on_frame(frame, recorder_encodes=recording)
        area = self._detect_area if self._detect_runner is not None else self._detect(frame)
        if recording:
            self.recorder.on_frame(frame, area)

    def on_detect_frame(self, frame: Frame) -> None:
        """A frame of the detection sub-stream: motion is measured on it."""
        self._detect_area = self._detect(frame)

    def _on_detect_status(self, status: CameraStatus, reason: str | None) -> None:
        if status is not CameraStatus.ONLINE:
            _LOGGER.warning("%s: detect stream %s (%s)", self.name, status, reason)
            self._detect_area = None

    def _detect(self, frame: Frame) -> float | None:
        """Run motion on one frame; the motion area (0 when still), None when disabled."""
        if not self.settings.motion_enabled:
            return None
        result = self.engine.process(frame.luma(self.engine.config.detect_height), frame.pts)
        self._latencies.append(time.time() - frame.wallclock)
        if result.changed is not None:
            self._motion_changed(frame, result.changed, result)
        self._occupancy_changed(result.occupancy_changed, frame)
        return result.motion_pct if result.has_motion else 0.0

    def _motion_changed(self, frame: Frame, active: bool, result: Any) -> None:
        self.motion = active
        event = self.bus.publish(
            EventType.MOTION,
            self.name,
            {
                "active": active,
                "pts": frame.pts,
                "boxes": [list(box) for box in result.boxes],
                "area": round(result.motion_pct, 3),
                "zones": list(result.zones_hit),
            },
            at=frame.wallclock,
        )
        if active:
            self.last_motion = frame.wallclock
            if self.demand is not None:  # main-stream pictures for the motion snapshot
                self.demand.request(self.recorder.settings.snapshot_window + 1.0)
            self._record(EventKind.MOTION, event)

    def _occupancy_changed(self, changes: dict[str, bool], frame: Frame | None) -> None:
        for zone, occupied in changes.items():
            self.bus.publish(
                EventType.OCCUPANCY,
                self.name,
                {"zone": zone, "occupied": occupied, "pts": frame.pts if frame else None},
                at=frame.wallclock if frame else None,
            )

    def zone_states(self) -> list[ZoneState]:
        """Occupancy of each motion zone."""
        return [
            {"name": name, "occupied": occupied}
            for name, occupied in self.engine.occupancy.occupied.items()
        ]

    def on_ring(self, event: EventMessage) -> None:
        """Called after the ring event is out: now start the clip and the snapshot."""
        self.last_ring = event["time"]
        if self.demand is not None:
            self.demand.request(RING_PICTURE_SECONDS)
        self._record(EventKind.RING, event)

    def _record(self, kind: EventKind, event: EventMessage) -> str | None:
        """Start the event's clip; with recording off (or privacy mode) only index it.

        Either way the event is listed (`list_events`) from now on.
        """
        eid = event_id(event)
        if not self.settings.recording_enabled or self.settings.privacy_mode:
            self.recorder.index_event(
                {"id": eid, "seq": event["seq"], "kind": kind, "time": event["time"]}
            )
            return None
        return self.recorder.trigger(kind, eid, at=event["time"], seq=event["seq"])

    def on_status(self, status: CameraStatus, reason: str | None) -> None:
        """The capture watchdog's status callback: redact, record and announce a change."""
        # The one way into status_reason and camera_status events: no credential passes.
        reason = redact_secrets(reason) if reason else reason
        if status is self.status and reason == self.status_reason:
            return
        self.status, self.status_reason = status, reason
        if status is not CameraStatus.ONLINE and self._busy():
            self._end_motion()
        self.bus.publish(EventType.CAMERA_STATUS, self.name, {"status": status, "reason": reason})

    def _busy(self) -> bool:
        return self.motion or any(self.engine.occupancy.occupied.values())

    def _end_motion(self) -> None:
        """The picture is gone (offline, motion off): motion and every zone end now."""
        was_active, self.motion = self.motion, False
        cleared = self.engine.reset()
        if was_active:
            self.bus.publish(
                EventType.MOTION,
                self.name,
                {"active": False, "pts": None, "boxes": [], "area": 0.0, "zones": []},
            )
        self._occupancy_changed(cleared, None)

    def set_layout(self, options: CameraOptions) -> None:
        """New privacy masks, zones and motion masks (from `options`), applied at once.

        Motion and occupancy restart (their end is published first). New privacy masks
        also drop every picture taken with the old ones: the live view's last picture,
        the pre-roll and the encoder's queue; a clip being recorded continues in a new
        segment and live streams end (viewers reconnect to the masked picture).
        """
        if self._busy():
            self._end_motion()
        self.engine.set_zones(options.motion.zones, options.motion.masks)
        if options.privacy_masks != self.masker.polygons:
            was_active = self.masker.active
            self.masker = PrivacyMasker(options.privacy_masks)
            self.last_frame = None
            self.live.forget()
            self.recorder.forget_pictures("privacy masks changed")
            self.stream.end_all()
            # Masked video is re-encoded from pictures: decode all the time while masked.
            if self.demand is not None and self.masker.active and not was_active:
                self.demand.hold()
            elif self.demand is not None and was_active and not self.masker.active:
                self.demand.release()
        self.bus.publish(EventType.CAMERA_STATE, self.name, dict(self.state()))

    # --- settings and state ----------------------------------------------------------------
    def motion_settings(self) -> MotionSettings:
        """The motion settings as the protocol shows them (threshold 1-255, min_area %)."""
        s = self.settings
        return {"enabled": s.motion_enabled, "threshold": s.threshold, "min_area": s.min_area}

    def recording_settings(self) -> RecordingSettings:
        """The recording settings as the protocol shows them (pre/post roll in seconds)."""
        s = self.settings
        return {"enabled": s.recording_enabled, "pre_roll": s.pre_roll, "post_roll": s.post_roll}

    async def update_settings(self, **changes: Any) -> CameraSettings:
        """Save, then apply and announce a change. ValueError names a bad value.

        OSError means it could not be saved and nothing changed. One exception, the fail-safe:
        privacy mode on is applied even when it cannot be saved (it then lasts until a restart, and
        is written with the next change that saves).
        """
        old, new = self.settings, updated(self.settings, changes)
        if new == old:
            return new
        try:
            self._settings_store.save(self.name, new)
        except OSError as err:
            if new.privacy_mode == old.privacy_mode or not new.privacy_mode:
                raise
            _LOGGER.error(
                "%s: privacy mode is on, but saving it failed (%s): a restart would undo it",
                self.name,
                err,
            )
            new = replace(old, privacy_mode=True)
        self.settings = new
        self.engine.set_sensitivity(threshold=new.threshold, min_area_pct=new.min_area)
        if (new.pre_roll, new.post_roll) != (old.pre_roll, old.post_roll):
            self.recorder.set_settings(self._recorder_settings())
        if old.motion_enabled and not new.motion_enabled and self._busy():
            self._end_motion()
        if new.audio != old.audio:
            await self._apply_audio(new.audio)
        if new.privacy_mode != old.privacy_mode:
            await self._apply_privacy_mode(new.privacy_mode)
        self.bus.publish(EventType.CAMERA_STATE, self.name, dict(self.state()))
        return new

    async def _apply_audio(self, enabled: bool) -> None:
        """Reopen the camera with or without its audio track; clips and stream follow.

        FFmpeg sets up only what is asked for, so capture restarts (unless in privacy
        mode); the recorder learns whether clips carry sound, and open live streams end
        because a stream's tracks are fixed at its start.
        """
        self.recorder.set_settings(self._recorder_settings())
        self.stream.audio = enabled
        await self.reopen(replace(self.config, audio=enabled))

    async def reopen(self, config: CameraConfig) -> None:
        """Capture from `config` from now on (a new source, or audio on or off).

        Capture restarts unless privacy mode is on; live streams end (a stream's tracks
        are fixed at its start: viewers reconnect).
        """
        self.stream.end_all()
        self.config = replace(config, audio=self.settings.audio)
        running = bool(self._tasks)
        if running:
            await self._stop_capture()
        self._runner = CameraRunner.for_config(
            self.config, self.on_frame, self.on_status, rings=self._rings, demand=self.demand
        )
        if running and not self.settings.privacy_mode:
            self._start_capture()

    async def _apply_privacy_mode(self, enabled: bool) -> None:
        if enabled:
            # The lens is off: stop capture, and forget the last picture so it cannot leak.
            await self._stop_capture()
            self.last_frame = None
            self.live.blank()
            self.stream.end_all()
            self.on_status(CameraStatus.PRIVACY, PRIVACY_REASON)
        else:
            self._start_capture()

    def fps(self) -> float | None:
        """Frames per second over the last 30 frames, or None before two have arrived."""
        times = self._frame_times
        if len(times) < 2 or times[-1] == times[0]:
            return None
        return round((len(times) - 1) / (times[-1] - times[0]), 2)

    def state(self) -> CameraState:
        """The camera's part of the state (`CameraState`): status, settings, motion, zones, fps."""
        frame = self.last_frame
        return {
            "name": self.name,
            "title": self.title,
            "status": self.status,
            "status_reason": self.status_reason,
            "motion": self.motion,
            "motion_settings": self.motion_settings(),
            "width": frame.width if frame else None,
            "height": frame.height if frame else None,
            "fps": self.fps(),
            "last_frame": frame.wallclock if frame else None,
            "frames": self.frames,
            "dropped": self._runner.frames_dropped,
            "latency_ms": (
                round(1000 * statistics.median(self._latencies), 2) if self._latencies else None
            ),
            "privacy_mode": self.settings.privacy_mode,
            "audio": self.settings.audio,
            "recording": self.recording_settings(),
            "last_ring": self.last_ring,
            "last_motion": self.last_motion,
            "preroll_bytes": int(self.recorder.stats()["preroll_bytes"]),
            "zones": self.zone_states(),
            "live_stream": True,
        }
