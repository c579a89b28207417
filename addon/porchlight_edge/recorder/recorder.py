"""One camera's recorder: pre-roll, event clips, snapshots, manual clips.

`on_frame` runs on the event loop for every frame and only does bookkeeping:
packets are copied into the pre-roll buffer (or frames handed to the encoder
thread), and everything slow (muxing, JPEG, fsync, SQLite) runs on one worker
thread per camera, in order. Events reach the service through the store's listener.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
import contextlib
from dataclasses import dataclass, field
import logging
import sqlite3
import threading
import time
from typing import TYPE_CHECKING, Any, Final

from porchlight_edge.protocol import LIMITS, Setting

from porchlight_edge.capture.frame import encode_jpeg
from porchlight_edge.diskfull import is_disk_full

from .buffer import PrerollBuffer
from .codecs import PASSTHROUGH_DEFAULT
from .encoder import EncodeSettings, FrameEncoder
from .ids import new_id, validate_camera, validate_event_id
from .index import ClipRecord, ClipState
from .notices import (
    ClipFailed,
    ClipFailedData,
    ClipFinished,
    ClipFinishedData,
    ClipStarted,
    ClipStartedData,
    SnapshotReady,
    SnapshotReadyData,
    TriggerEvent,
)
from .snapshot import with_comment, write_atomic
from .tap import PacketTap
from .writer import ClipWriter, WriteError, replace_durably

if TYPE_CHECKING:
    from collections.abc import Callable

    from porchlight_edge.capture.base import StreamInfo
    from porchlight_edge.capture.frame import Frame

    from .packets import EncodedPacket, StreamParams
    from .storage import ClipStore

_LOGGER = logging.getLogger(__name__)
MAX_PREROLL: Final = LIMITS[Setting.PRE_ROLL].high
_POSTROLL: Final = LIMITS[Setting.POST_ROLL]


class RecordingError(Exception):
    """A clip could not be recorded (message says why)."""


@dataclass(frozen=True, slots=True)
class RecorderSettings:
    preroll: float = 5.0
    postroll: float = 10.0
    max_clip_seconds: float = 600.0
    preroll_max_bytes: int = 48 * 1024 * 1024
    snapshot_window: float = 3.0
    """Motion snapshots: the frame with the largest motion within this many seconds."""
    snapshot_quality: int = 85
    snapshot_max_width: int | None = None
    stall_seconds: float = 3.0
    """Finish a clip this long after its end when the camera stops sending frames."""
    encode: EncodeSettings = field(default_factory=EncodeSettings)
    passthrough_codecs: frozenset[str] = PASSTHROUGH_DEFAULT
    """Codecs whose packets clips keep (others are re-encoded to H.264)."""

    def __post_init__(self) -> None:
        if not 0.0 <= self.preroll <= MAX_PREROLL:
            raise ValueError(f"preroll must be 0-{MAX_PREROLL:g} seconds")
        # One limit for post-roll and for record_clip's seconds, both of which end here.
        if not _POSTROLL.low <= self.postroll <= _POSTROLL.high:
            raise ValueError(f"postroll must be {_POSTROLL.low:g}-{_POSTROLL.high:g} seconds")
        if self.max_clip_seconds <= 0:
            raise ValueError("max_clip_seconds must be positive")


@dataclass(slots=True)
class _Clip:
    """A clip in progress. `writer` is touched only by the worker thread."""

    id: str
    kind: str
    mode: str
    trigger_at: float
    end_at: float
    limit_at: float
    events: list[TriggerEvent]
    writer: ClipWriter | None = None
    failed: str | None = None
    done: asyncio.Future[ClipRecord] | None = None
    started: float = field(default_factory=time.monotonic)
    announced: bool = False


@dataclass(frozen=True, slots=True)
class _SnapshotEvent:
    """An event that shares the JPEG of an earlier one in the same burst."""

    event_id: str
    kind: str
    at: float
    clip_id: str | None


@dataclass(slots=True)
class _SnapshotPick:
    event_id: str
    kind: str
    at: float
    deadline: float
    clip_id: str | None
    frame: Frame | None = None
    area: float = -1.0
    seq: int | None = None
    name: str = field(default_factory=lambda: f"{new_id()}.jpg")
    followers: list[_SnapshotEvent] = field(default_factory=list)
    """Events of the same burst; only the loop appends, and only until `submitted`."""
    submitted: bool = False


class Recorder:
    def __init__(
        self, camera: str, store: ClipStore, settings: RecorderSettings | None = None
    ) -> None:
        self.camera = validate_camera(camera)
        self.store = store
        self.settings = settings or RecorderSettings()
        self._buffer = PrerollBuffer(
            self.settings.preroll + self.settings.encode.keyframe_interval,
            self.settings.preroll_max_bytes,
        )
        self._params: StreamParams | None = None
        self._last_dts: int | None = None
        self._last_wallclock: float | None = None
        self._last_mono = 0.0
        self._tap = PacketTap(self.settings.passthrough_codecs)
        self._encoder: FrameEncoder | None = None
        self._clip: _Clip | None = None
        self._snapshots: list[_SnapshotPick] = []
        self._burst: _SnapshotPick | None = None
        """The last ring/manual snapshot: events within `snapshot_window` of it share it
        (so at most one JPEG per window, and none older than the window)."""
        self._last_frame: Frame | None = None
        self._worker = ThreadPoolExecutor(1, thread_name_prefix=f"recorder-{camera}")
        self._loop: asyncio.AbstractEventLoop | None = None
        self._tick_task: asyncio.Task[None] | None = None
        self._pending: set[asyncio.Future[Any]] = set()
        self.mode: str | None = None
        """"passthrough" or "encode", from the last frame."""
        self.on_encoded: Callable[[list[EncodedPacket]], None] | None = None
        """Also called (on the loop) with every batch of the recorder's own encoder, so the
        live stream shares it instead of encoding the same masked frames again."""

    # --- lifecycle -------------------------------------------------------------------------
    def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._tick_task = asyncio.create_task(self._ticker(), name=f"recorder-{self.camera}")

    async def stop(self) -> None:
        """Finish the current clip, flush pending snapshots, stop threads."""
        if self._tick_task is not None:
            self._tick_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._tick_task
        for pick in list(self._snapshots):
            self._take_snapshot(pick)
        self._snapshots.clear()
        if self._clip is not None:
            self._finish("stopped")
        if self._encoder is not None:
            await asyncio.to_thread(self._encoder.close)
            self._encoder = None
        if self._pending:
            await asyncio.gather(*self._pending, return_exceptions=True)
        await asyncio.to_thread(self._worker.shutdown, True)

    def set_settings(self, settings: RecorderSettings) -> None:
        """New pre-/post-roll etc.; the pre-roll buffer grows or shrinks to match."""
        self.settings = settings
        self._tap.codecs = settings.passthrough_codecs
        self._buffer.seconds = settings.preroll + settings.encode.keyframe_interval

    def set_stream_info(self, info: StreamInfo | None) -> None:
        """Codec parameters of packets that do not say which stream they came from."""
        self._tap.stream_info = info

    @property
    def recording(self) -> str | None:
        """Id of the clip being recorded, if any."""
        return self._clip.id if self._clip is not None else None

    def stats(self) -> dict[str, Any]:
        enc = self._encoder
        return {
            "mode": self.mode,
            "recording": self.recording,
            "preroll_bytes": self._buffer.bytes,
            "preroll_peak_bytes": self._buffer.peak_bytes,
            "preroll_packets": len(self._buffer),
            "encoder_dropped": enc.dropped if enc else 0,
        }

    # --- frames ----------------------------------------------------------------------------
    def on_frame(self, frame: Frame, motion_area: float | None = None) -> None:
        """Every frame, on the loop. `motion_area`: motion inside the zones (0 = none).

        Frames that carry packets of a passthrough codec (H.264, H.265) are recorded by
        passthrough; others (masked frames, which never carry packets, and other
        sources) are encoded to H.264.
        """
        self._last_frame = frame
        packets = self._tap.packets(frame)
        if packets is not None:
            self._set_mode("passthrough")
            self._on_packets(packets)
        else:
            self._set_mode("encode")
            if self._encoder is None:
                self._encoder = FrameEncoder(
                    self.settings.encode, self._from_encoder, f"encoder-{self.camera}"
                )
            self._encoder.submit(frame)
        clip = self._clip
        if clip is not None and motion_area and motion_area > 0:
            clip.end_at = min(
                clip.limit_at, max(clip.end_at, frame.wallclock + self.settings.postroll)
            )
        if self._snapshots:
            self._consider_snapshot(frame, motion_area)

    def _set_mode(self, mode: str) -> None:
        if mode == self.mode:
            return
        self.mode = mode
        if mode == "passthrough" and self._encoder is not None:
            encoder, self._encoder = self._encoder, None
            threading.Thread(target=encoder.close, daemon=True).start()

    def _from_encoder(self, packets: list[EncodedPacket]) -> None:
        loop = self._loop
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(self._encoded, packets)

    def _encoded(self, packets: list[EncodedPacket]) -> None:
        self._on_packets(packets)
        if self.on_encoded is not None:
            self.on_encoded(packets)

    def _on_packets(self, packets: list[EncodedPacket]) -> None:
        batch: list[EncodedPacket] = []
        for pkt in packets:
            new_stream = self._params is not None and pkt.params != self._params
            if new_stream or (self._last_dts is not None and pkt.dts < self._last_dts):
                # A new stream (reconnect, mask switched on/off, file looped): old packets
                # cannot continue into it, so the pre-roll restarts and the clip ends here.
                self._buffer.clear()
                if self._clip is not None:
                    self._write(batch)
                    batch = []
                    self._continue_clip("the video stream changed", pkt.wallclock)
            self._params = pkt.params
            self._last_dts = pkt.dts
            self._buffer.append(pkt)
            self._last_wallclock, self._last_mono = pkt.wallclock, time.monotonic()
            clip = self._clip
            if clip is None:
                continue
            if pkt.wallclock > clip.end_at or pkt.wallclock > clip.limit_at:
                self._write(batch)
                batch = []
                self._finish(None)
                continue
            batch.append(pkt)
        if batch:
            self._write(batch)

    # --- triggers --------------------------------------------------------------------------
    def trigger(
        self,
        kind: str,
        event_id: str,
        at: float | None = None,
        *,
        seq: int | None = None,
        preroll: float | None = None,
        postroll: float | None = None,
        snapshot: bool = True,
    ) -> str | None:
        """An event that wants a clip (ring, motion in a zone...). Returns the clip id.

        A trigger while a clip is recording extends and joins that clip. Returns
        None (and emits clip_failed) when recording is paused for lack of space.
        """
        validate_event_id(event_id)
        if at is None:
            # The camera's clock (frame wallclock) when frames flow, so replayed footage works.
            last = self._last_frame
            at = last.wallclock if last is not None else time.time()
        pre = self.settings.preroll if preroll is None else min(max(preroll, 0.0), MAX_PREROLL)
        post = self.settings.postroll if postroll is None else max(postroll, 0.0)
        event: TriggerEvent = {"id": event_id, "seq": seq, "kind": kind, "time": at}
        clip = self._clip
        if clip is not None and clip.failed is not None:
            # The worker failed it (e.g. disk full) and its hand-back has not run yet.
            self._drop_failed(clip)
            clip = None
        if self.store.paused:
            self._submit(self._index_event, event, None)
            failed: ClipFailedData = {
                "clip_id": None,
                "reason": f"recording paused: {self.store.pause_reason}",
                "events": [event],
            }
            self.store.emit(ClipFailed(self.camera, failed))
            return None
        if clip is not None:
            clip.events.append(event)
            clip.end_at = min(clip.limit_at, max(clip.end_at, at + post))
            self._submit(self._index_event, event, clip.id)
            clip_id: str = clip.id
        else:
            clip_id = self._start(kind, event, at, pre, post)
        if snapshot and not self._join_burst(kind, event_id, at, clip_id):
            pick = _SnapshotPick(
                event_id,
                kind,
                at,
                at + (self.settings.snapshot_window if kind == "motion" else 1.0),
                clip_id,
                seq=seq,
            )
            self._snapshots.append(pick)
            if kind != "motion":
                self._burst = pick
                if self._last_frame is not None:
                    self._consider_snapshot(self._last_frame, None)
        return clip_id

    def _join_burst(self, kind: str, event_id: str, at: float, clip_id: str | None) -> bool:
        """Share the burst's JPEG (a visitor ringing ten times is one picture). True if shared."""
        leader = self._burst
        if kind == "motion" or leader is None:
            return False
        if abs(at - leader.at) > self.settings.snapshot_window:
            return False
        follower = _SnapshotEvent(event_id, kind, at, clip_id)
        if leader.submitted:
            self._submit(self._link_snapshot, leader.name, follower)
        else:
            leader.followers.append(follower)
        return True

    def snapshot(self, event_id: str, kind: str = "manual", at: float | None = None) -> bool:
        """Index an event and save the current frame as its snapshot (no clip).

        False when there is no frame yet or recording is paused for lack of space.
        """
        validate_event_id(event_id)
        last = self._last_frame
        if last is None or self.store.paused:
            return False
        at = last.wallclock if at is None else at
        self._submit(
            self._index_event, {"id": event_id, "seq": None, "kind": kind, "time": at}, None
        )
        if not self._join_burst(kind, event_id, at, None):
            pick = _SnapshotPick(event_id, kind, at, at, None, frame=last)
            self._burst = pick
            self._take_snapshot(pick)
        return True

    async def record_manual(self, seconds: float, event_id: str | None = None) -> ClipRecord:
        """Record `seconds` from now (joining a clip in progress) and return the clip."""
        if not 0 < seconds <= self.settings.max_clip_seconds:
            raise ValueError(f"seconds must be 0-{self.settings.max_clip_seconds:g}")
        eid = event_id or f"manual-{new_id()}"
        clip_id = self.trigger("manual", eid, preroll=0.0, postroll=seconds, snapshot=False)
        if clip_id is None or self._clip is None or self._clip.done is None:
            raise RecordingError(f"recording paused: {self.store.pause_reason}")
        return await asyncio.shield(self._clip.done)

    def _start(self, kind: str, event: TriggerEvent, at: float, pre: float, post: float) -> str:
        loop = asyncio.get_running_loop()
        clip = _Clip(
            id=new_id(),
            kind=kind,
            mode=self.mode or "passthrough",
            trigger_at=at,
            end_at=at + post,
            limit_at=at + self.settings.max_clip_seconds,
            events=[event],
            done=loop.create_future(),
        )
        self._clip = clip
        self.store.register_active(clip.id)
        preroll_packets = self._buffer.since(at - pre) if self._buffer else []
        if pre == 0.0:
            preroll_packets = self._buffer.since(at)
        self._submit(self._open_clip, clip, preroll_packets)
        return clip.id

    def _write(self, packets: list[EncodedPacket]) -> None:
        if packets and self._clip is not None:
            self._submit(self._write_packets, self._clip, packets)

    def _continue_clip(self, reason: str, at: float) -> None:
        """End the clip at a stream change and record the rest into a new segment.

        The segment has its own header (the new stream's); the events stay linked to
        the first segment, whose index entry is partial with `reason`.
        """
        old = self._clip
        self._finish(reason)
        if old is None or at > old.end_at:
            return
        loop = asyncio.get_running_loop()
        clip = _Clip(
            id=new_id(),
            kind=old.kind,
            mode=self.mode or old.mode,
            trigger_at=at,
            end_at=old.end_at,
            limit_at=old.limit_at,
            events=[],
            done=loop.create_future(),
        )
        self._clip = clip
        self.store.register_active(clip.id)
        self._submit(self._open_clip, clip, [])

    def _finish(self, reason: str | None) -> None:
        clip, self._clip = self._clip, None
        if clip is not None:
            self._submit(self._close_clip, clip, reason)

    # --- snapshots -------------------------------------------------------------------------
    def _consider_snapshot(self, frame: Frame, motion_area: float | None) -> None:
        for pick in list(self._snapshots):
            if pick.kind == "motion":
                area = motion_area or 0.0
                if frame.wallclock >= pick.at - 1.0 and area > pick.area:
                    pick.frame, pick.area = frame, area
                if frame.wallclock >= pick.deadline:
                    self._take_snapshot(pick)
            else:
                # The ring frame: the first one at or after the press (the visitor at the
                # door, at most one frame interval away); until it comes, the latest before.
                pick.frame = frame
                if frame.wallclock >= pick.at:
                    self._take_snapshot(pick)

    def _take_snapshot(self, pick: _SnapshotPick) -> None:
        if pick in self._snapshots:
            self._snapshots.remove(pick)
        if pick.frame is None or self.store.paused:
            if self._burst is pick:
                self._burst = None  # no picture: the next event starts a burst of its own
            return
        pick.submitted = True  # later events of its burst link to the file instead
        self._submit(self._write_snapshot, pick)

    # --- worker thread (everything below runs there) -----------------------------------------
    def _submit(self, fn: Any, *args: Any) -> None:
        fut = asyncio.wrap_future(self._worker.submit(fn, *args))
        self._pending.add(fut)
        fut.add_done_callback(self._job_done)

    def _job_done(self, fut: asyncio.Future[Any]) -> None:
        self._pending.discard(fut)
        if not fut.cancelled() and fut.exception() is not None:
            _LOGGER.error("%s: recorder job failed", self.camera, exc_info=fut.exception())

    def _index_event(self, event: TriggerEvent, clip_id: str | None) -> None:
        try:
            self.store.index.add_event(
                event["id"],
                seq=event["seq"],
                kind=event["kind"],
                camera=self.camera,
                time=event["time"],
                clip_id=clip_id,
            )
        except sqlite3.Error as err:
            _LOGGER.warning("%s: cannot index event %s: %s", self.camera, event["id"], err)
            if is_disk_full(err):
                self.store.report_disk_full()

    def _open_clip(self, clip: _Clip, packets: list[EncodedPacket]) -> None:
        store = self.store
        try:
            store.index.add_clip(
                clip.id, self.camera, clip.trigger_at, store.clip_path(clip.id).name, clip.mode
            )
            for event in clip.events:
                self._index_event(event, clip.id)
            # The events go into the file too: a lost index is rebuilt from the clips.
            meta = {"clip_id": clip.id, "camera": self.camera, "mode": clip.mode}
            clip.writer = ClipWriter(
                store.part_path(clip.id), {**meta, "events": list(clip.events)}
            )
            for pkt in packets:
                clip.writer.write(pkt)
        except (WriteError, sqlite3.Error, OSError) as err:
            self._fail(clip, err)
            return
        self._announce(clip)

    def _announce(self, clip: _Clip) -> None:
        """clip_started, once the file exists with its first keyframe (and pre-roll) in it."""
        if clip.announced or clip.writer is None or not clip.writer.started:
            return
        clip.announced = True
        data: ClipStartedData = {
            "clip_id": clip.id,
            "start": clip.writer.first_wallclock,
            "mode": clip.mode,
            "events": list(clip.events),
        }
        self.store.emit(ClipStarted(self.camera, data))

    def _write_packets(self, clip: _Clip, packets: list[EncodedPacket]) -> None:
        if clip.failed is not None or clip.writer is None:
            return
        try:
            for pkt in packets:
                clip.writer.write(pkt)
        except WriteError as err:
            self._fail(clip, err)
            return
        self._announce(clip)

    def _close_clip(self, clip: _Clip, reason: str | None) -> None:
        store = self.store
        try:
            if clip.failed is not None or clip.writer is None:
                return
            writer = clip.writer
            if not writer.started:
                self._fail(clip, RecordingError("no video arrived for the clip"))
                return
            try:
                writer.close()
                final = store.clip_path(clip.id)
                replace_durably(writer.part, final)
                start = writer.first_wallclock or clip.trigger_at
                end = writer.last_wallclock or start
                state = ClipState.COMPLETE if reason is None else ClipState.PARTIAL
                store.index.finish_clip(
                    clip.id,
                    start=start,
                    end=end,
                    path=final.name,
                    size=final.stat().st_size,
                    state=state,
                    reason=reason,
                )
                record = store.index.get_clip(clip.id)
            except (WriteError, sqlite3.Error, OSError) as err:
                self._fail(clip, err)
                return
            assert record is not None
            finished: ClipFinishedData = {
                "clip_id": record.id,
                "start": record.start,
                "end": record.end,
                "size": record.size,
                "state": str(record.state),
                "events": [e.id for e in record.events],
            }
            store.emit(ClipFinished(self.camera, finished))
            self._resolve(clip, record, None)
        finally:
            store.unregister_active(clip.id)

    def _fail(self, clip: _Clip, err: BaseException) -> None:
        clip.failed = str(err)
        enospc = (isinstance(err, WriteError) and err.enospc) or is_disk_full(err)
        if clip.writer is not None:
            clip.writer.abort()
        _LOGGER.warning("%s: clip %s failed: %s", self.camera, clip.id, err)
        if enospc:
            # Keep the .part: once space is back, reconciliation salvages what was written
            # (so the clip stops being active now: nothing writes to it any more).
            self.store.report_disk_full()
        else:
            self.store.part_path(clip.id).unlink(missing_ok=True)
            with contextlib.suppress(sqlite3.Error):
                self.store.index.remove_clip(clip.id)
        self.store.unregister_active(clip.id)
        loop = self._loop
        if loop is not None and not loop.is_closed():
            # The clip ends now: the next trigger starts a new one instead of joining it.
            loop.call_soon_threadsafe(self._drop_failed, clip)
        reason = "disk full" if enospc else str(err)
        data: ClipFailedData = {"clip_id": clip.id, "reason": reason, "events": list(clip.events)}
        self.store.emit(ClipFailed(self.camera, data))
        self._resolve(clip, None, RecordingError(reason))

    def _drop_failed(self, clip: _Clip) -> None:
        """On the loop: forget a clip the worker failed, if it is still the current one."""
        if self._clip is clip:
            self._clip = None

    def _resolve(self, clip: _Clip, record: ClipRecord | None, err: Exception | None) -> None:
        done, loop = clip.done, self._loop
        if done is None or loop is None or loop.is_closed():
            return

        def settle() -> None:
            if done.done():
                return
            if err is not None:
                done.set_exception(err)
                done.exception()  # mark retrieved: nobody may be waiting
            else:
                assert record is not None
                done.set_result(record)

        loop.call_soon_threadsafe(settle)

    def _write_snapshot(self, pick: _SnapshotPick) -> None:
        assert pick.frame is not None
        name = pick.name
        meta = {
            "event_id": pick.event_id,
            "seq": pick.seq,
            "kind": pick.kind,
            "camera": self.camera,
            "time": pick.at,
            "clip_id": pick.clip_id,
        }
        try:
            data = encode_jpeg(
                pick.frame, self.settings.snapshot_quality, self.settings.snapshot_max_width
            )
            write_atomic(self.store.snapshot_path(name), with_comment(data, meta))
            self.store.index.set_snapshot(pick.event_id, name)
        except (OSError, ValueError, sqlite3.Error) as err:
            _LOGGER.warning("%s: snapshot for %s failed: %s", self.camera, pick.event_id, err)
            if is_disk_full(err):
                self.store.report_disk_full()
            return
        finally:
            pick.frame = None
        self._snapshot_ready(name, _SnapshotEvent(pick.event_id, pick.kind, pick.at, pick.clip_id))
        for follower in pick.followers:
            self._link_snapshot(name, follower)

    def _link_snapshot(self, name: str, event: _SnapshotEvent) -> None:
        """Give `event` the JPEG its burst already wrote (nothing if that write failed)."""
        try:
            if not self.store.snapshot_path(name).exists():
                return
            self.store.index.set_snapshot(event.event_id, name)
        except sqlite3.Error as err:
            _LOGGER.warning("%s: snapshot for %s failed: %s", self.camera, event.event_id, err)
            return
        self._snapshot_ready(name, event)

    def _snapshot_ready(self, name: str, event: _SnapshotEvent) -> None:
        data: SnapshotReadyData = {
            "event_id": event.event_id,
            "kind": event.kind,
            "snapshot": name,
            "time": event.at,
            "clip_id": event.clip_id,
        }
        self.store.emit(SnapshotReady(self.camera, data))

    # --- housekeeping ----------------------------------------------------------------------
    async def _ticker(self) -> None:
        while True:
            await asyncio.sleep(0.5)
            # Camera time, advanced by real time since the last packet: a stalled camera
            # still ends its clip, and replayed footage with old timestamps works too.
            clip = self._clip
            if self._last_wallclock is None:
                if clip is not None and time.monotonic() - clip.started > (
                    clip.end_at - clip.trigger_at + self.settings.stall_seconds
                ):
                    self._finish(None)  # no video at all: fails as "no video arrived"
                continue
            now = self._last_wallclock + time.monotonic() - self._last_mono
            if clip is not None and now > clip.end_at + self.settings.stall_seconds:
                self._finish(None)  # the camera stopped sending: end on time anyway
            for pick in list(self._snapshots):
                if now > pick.deadline + self.settings.stall_seconds:
                    self._take_snapshot(pick)
