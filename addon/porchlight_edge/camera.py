"""One camera's pipeline: capture → motion → events, plus the live view.

The capture runner delivers frames on the event loop; the motion engine works
on the decimated luma plane; motion changes and camera status go to the bus.
"""

from __future__ import annotations

import asyncio
from collections import deque
import contextlib
import logging
import statistics
import time
from typing import TYPE_CHECKING

from porchlight_edge.capture import CameraRunner
from porchlight_edge.live import LiveView
from porchlight_edge.motion.engine import MotionEngine
from porchlight_edge.protocol import CameraState, CameraStatus, EventType, MotionSettings

if TYPE_CHECKING:
    from collections.abc import Callable

    from porchlight_edge.capture.frame import Frame
    from porchlight_edge.config import CameraOptions, LiveOptions
    from porchlight_edge.events import EventBus

_LOGGER = logging.getLogger(__name__)


class CameraPipeline:
    def __init__(
        self,
        options: CameraOptions,
        live: LiveOptions,
        bus: EventBus,
        on_button: Callable[[], None],
    ) -> None:
        self.name = options.name
        self.title = options.title
        self.bus = bus
        self.config = options.capture
        self.engine = MotionEngine(options.motion)
        self.motion_enabled = options.motion_enabled
        self.motion = False
        self.live = LiveView(live.width, live.quality, live.max_viewers)
        self.status = CameraStatus.OFFLINE
        self.status_reason: str | None = "starting"
        self.last_frame: Frame | None = None
        self._frame_times: deque[float] = deque(maxlen=30)
        self._latencies: deque[float] = deque(maxlen=30)
        self.frames = 0
        # The demo visitor's press reaches `on_button`, the same path as a real button.
        self._runner = CameraRunner.for_config(
            self.config, self.on_frame, self.on_status, on_ring=on_button
        )
        self._task: asyncio.Task[None] | None = None

    # --- lifecycle -------------------------------------------------------------------------
    def start(self) -> None:
        self._task = asyncio.create_task(self._runner.run(), name=f"camera-{self.name}")

    async def stop(self) -> None:
        await self._runner.stop()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self.live.close()

    # --- data path -------------------------------------------------------------------------
    def on_frame(self, frame: Frame) -> None:
        self.last_frame = frame
        self.frames += 1
        self._frame_times.append(time.monotonic())
        self.live.update(frame)
        if not self.motion_enabled:
            return
        result = self.engine.process(frame.luma(self.engine.config.detect_height), frame.pts)
        self._latencies.append(time.time() - frame.wallclock)
        if result.changed is None:
            return
        self.motion = result.changed
        self.bus.publish(
            EventType.MOTION,
            self.name,
            {
                "active": result.changed,
                "pts": frame.pts,
                "boxes": [list(box) for box in result.boxes],
                "area": round(result.motion_pct, 3),
                "zones": list(result.zones_hit),
            },
            at=frame.wallclock,
        )

    def on_status(self, status: CameraStatus, reason: str | None) -> None:
        if status is self.status and reason == self.status_reason:
            return
        self.status, self.status_reason = status, reason
        if status is not CameraStatus.ONLINE and self.motion:
            self._end_motion()
        self.bus.publish(EventType.CAMERA_STATUS, self.name, {"status": status, "reason": reason})

    def _end_motion(self) -> None:
        self.motion = False
        self.engine.reset()
        self.bus.publish(
            EventType.MOTION,
            self.name,
            {"active": False, "pts": None, "boxes": [], "area": 0.0, "zones": []},
        )

    # --- settings and state ----------------------------------------------------------------
    def motion_settings(self) -> MotionSettings:
        cfg = self.engine.config
        return {
            "enabled": self.motion_enabled,
            "threshold": cfg.threshold,
            "min_area": cfg.min_area_pct,
        }

    def set_motion_settings(
        self,
        enabled: object = None,
        threshold: object = None,
        min_area: object = None,
    ) -> MotionSettings:
        """Change sensitivity at run time; raise ValueError naming a bad value."""
        if enabled is not None and not isinstance(enabled, bool):
            raise ValueError("'enabled' must be true or false")
        if threshold is not None and (
            isinstance(threshold, bool) or not isinstance(threshold, int)
        ):
            raise ValueError("'threshold' must be an integer 1-255")
        if min_area is not None and (
            isinstance(min_area, bool) or not isinstance(min_area, int | float)
        ):
            raise ValueError("'min_area' must be a number 0-100")
        cfg = self.engine.config
        self.engine.set_sensitivity(
            threshold=cfg.threshold if threshold is None else threshold,
            min_area_pct=cfg.min_area_pct if min_area is None else float(min_area),
        )
        if enabled is not None and enabled != self.motion_enabled:
            self.motion_enabled = enabled
            if not enabled and self.motion:
                self._end_motion()
        return self.motion_settings()

    def fps(self) -> float | None:
        times = self._frame_times
        if len(times) < 2 or times[-1] == times[0]:
            return None
        return round((len(times) - 1) / (times[-1] - times[0]), 2)

    def state(self) -> CameraState:
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
        }
