"""One camera's recorder: the pre-roll and the clip state machine, on the event loop.

`on_frame` runs on the loop for every frame and only does bookkeeping: packets are
copied into the pre-roll buffer (or frames handed to the encoder thread), triggers
start, extend or end clips, and picks of snapshot frames are made (snapshots.py).
Everything slow (muxing, JPEG, fsync, SQLite) runs on the camera's worker thread
(worker.py), reached only through its job queue; outcomes come back as `ClipOutcome`.
An event (and the clip it starts) is also handed to the store's event journal
(journal.py), which indexes it at once so that it is listed before the worker's turn.

Over 400 lines: the camera's audio (a few lines) shares the pre-roll buffer and the open
clip with the video state machine; split apart, one state machine would span two modules.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field
import logging
import threading
import time
from typing import TYPE_CHECKING, Any

from porchlight_edge.protocol import EventKind

from .audio import copy_audio
from .buffer import PrerollBuffer
from .encoder import FrameEncoder
from .ids import new_id, validate_camera, validate_event_id
from .jobs import CloseClip, IndexEvent, JoinClip, OpenClip, SnapshotEvent, WritePackets
from .journal import Announcement, NewClip
from .notices import ClipFailed, ClipFailedData, TriggerEvent
from .settings import MAX_PREROLL, RecorderSettings, RecordingError, RecordingMode
from .snapshots import SnapshotPicker
from .tap import PacketTap
from .worker import ClipOutcome, RecorderWorker

if TYPE_CHECKING:
    from collections.abc import Callable

    from porchlight_edge.capture.base import StreamInfo
    from porchlight_edge.capture.frame import Frame

    from .audio import AudioPacket, AudioParams
    from .index import ClipRecord
    from .packets import EncodedPacket, StreamParams
    from .storage import ClipStore

__all__ = ["MAX_PREROLL", "Recorder", "RecorderSettings", "RecordingError", "RecordingMode"]

_LOGGER = logging.getLogger(__name__)
CAMERA_LOST = "the camera stopped sending"
"""Reason of a clip the camera's silence cut short (state partial)."""


@dataclass(slots=True)
class _Clip:
    """A clip in progress, as the loop knows it (loop only; the worker has its own)."""

    id: str
    kind: str
    mode: str
    trigger_at: float
    end_at: float
    limit_at: float
    done: asyncio.Future[ClipRecord]
    failed: threading.Event = field(default_factory=threading.Event)
    """Set by the worker when the clip failed, before its outcome reaches the loop."""
    started: float = field(default_factory=time.monotonic)
    audio: AudioParams | None = None
    """The audio track the clip's header gets (audio on and heard before the trigger)."""


class Recorder:
    """One camera's recording: pre-roll, event and manual clips, snapshots.

    Methods run on the event loop (after `start`); blocking work goes to the worker.
    """

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
        self._audio_params: AudioParams | None = None
        self._last_dts: int | None = None
        self._last_wallclock: float | None = None
        self._last_mono = 0.0
        self._tap = PacketTap(self.settings.passthrough_codecs)
        self._encoder: FrameEncoder | None = None
        self._clip: _Clip | None = None
        self._done: dict[str, asyncio.Future[ClipRecord]] = {}
        """Clips whose outcome the worker has not reported yet."""
        self._last_frame: Frame | None = None
        self._last_picture: Frame | None = None
        self._worker = RecorderWorker(camera, store, self._post)
        self._picker = SnapshotPicker(self.settings, self._worker.submit, lambda: store.paused)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._tick_task: asyncio.Task[None] | None = None
        self.mode: RecordingMode | None = None  # from the last frame
        self.on_encoded: Callable[[list[EncodedPacket]], None] | None = None
        """Also called (on the loop) with every batch of the recorder's own encoder, so the
        live stream shares it instead of encoding the same masked frames again."""

    # --- lifecycle -------------------------------------------------------------------------
    def start(self) -> None:
        """Start the housekeeping task (on the loop)."""
        self._loop = asyncio.get_running_loop()
        self._tick_task = asyncio.create_task(self._ticker(), name=f"recorder-{self.camera}")

    async def stop(self) -> None:
        """Finish the current clip, flush pending snapshots, stop threads."""
        if self._tick_task is not None:
            self._tick_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._tick_task
        self._picker.flush()
        if self._clip is not None:
            self._finish("stopped")
        if self._encoder is not None:
            await asyncio.to_thread(self._encoder.close)
            self._encoder = None
        await asyncio.to_thread(self._worker.close)

    def set_settings(self, settings: RecorderSettings) -> None:
        """New pre-/post-roll etc.; the pre-roll buffer grows or shrinks to match."""
        self.settings = settings
        self._picker.settings = settings
        self._tap.codecs = settings.passthrough_codecs
        self._buffer.seconds = settings.preroll + settings.encode.keyframe_interval

    def forget_pictures(self, reason: str) -> None:
        """Privacy masks changed: nothing captured before now reaches a later clip.

        The pre-roll restarts, a clip being recorded continues in a new segment, and what
        the encoder still holds is dropped.
        """
        self._buffer.clear()
        self._last_picture = None
        self._picker.forget_frames()
        if self._encoder is not None:
            encoder, self._encoder = self._encoder, None
            encoder.discard = True
            threading.Thread(target=encoder.close, daemon=True).start()
        self._params = None  # the next encoder starts a new stream
        self._last_dts = None
        if self._clip is not None:
            self._continue_clip(reason, self._last_wallclock or time.time())

    def set_stream_info(self, info: StreamInfo | None) -> None:
        """Codec parameters of packets that do not say which stream they came from."""
        self._tap.stream_info = info

    @property
    def recording(self) -> str | None:
        """Id of the clip being recorded, if any."""
        return self._clip.id if self._clip is not None else None

    def stats(self) -> dict[str, Any]:
        """Mode, current clip id, pre-roll size (bytes, peak bytes, packets), encoder drops."""
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

        Frames with packets of a passthrough codec (H.264, H.265) are recorded by passthrough;
        others (masked frames carry no packets; other sources) are encoded to H.264.
        """
        self._last_frame = frame
        self._last_picture = frame if frame.has_picture else self._last_picture
        packets = self._tap.packets(frame)
        if packets is not None:
            self._set_mode(RecordingMode.PASSTHROUGH)
            self._on_packets(packets)
        elif frame.has_picture:
            self._set_mode(RecordingMode.ENCODE)
            if self._encoder is None:
                self._encoder = self._new_encoder()
            self._encoder.submit(frame)
        clip = self._clip
        if clip is not None and motion_area and motion_area > 0:
            clip.end_at = min(
                clip.limit_at, max(clip.end_at, frame.wallclock + self.settings.postroll)
            )
        if self._picker.waiting and frame.has_picture:
            self._picker.consider(frame, motion_area)
        if self.settings.audio and frame.audio:
            self._on_audio(copy_audio(frame))

    def _on_audio(self, packets: list[AudioPacket]) -> None:
        """Audio joins the pre-roll beside the video it arrived with, and the open clip."""
        for pkt in packets:
            self._audio_params = pkt.params
            self._buffer.append(pkt)
        self._write(list(packets))

    def _set_mode(self, mode: RecordingMode) -> None:
        if mode == self.mode:
            return
        self.mode = mode
        if mode is RecordingMode.PASSTHROUGH and self._encoder is not None:
            encoder, self._encoder = self._encoder, None
            threading.Thread(target=encoder.close, daemon=True).start()

    def _new_encoder(self) -> FrameEncoder:
        def deliver(packets: list[EncodedPacket]) -> None:  # encoder thread
            loop = self._loop
            if loop is not None and not loop.is_closed():
                loop.call_soon_threadsafe(self._encoded, encoder, packets)

        encoder = FrameEncoder(self.settings.encode, deliver, f"encoder-{self.camera}")
        return encoder

    def _encoded(self, encoder: FrameEncoder, packets: list[EncodedPacket]) -> None:
        if encoder.discard:
            return  # pictures from before a mask change (forget_pictures)
        self._on_packets(packets)
        if self.on_encoded is not None:
            self.on_encoded(packets)

    def _on_packets(self, packets: list[EncodedPacket]) -> None:
        batch: list[EncodedPacket | AudioPacket] = []
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
        kind: EventKind,
        event_id: str,
        at: float | None = None,
        *,
        seq: int | None = None,
        preroll: float | None = None,
        postroll: float | None = None,
        snapshot: bool = True,
    ) -> str | None:
        """An event that wants a clip (ring, motion in a zone...). Returns the clip id.

        `at` in Unix seconds (camera clock; default the last frame's), pre-/post-roll in
        seconds (default the settings'). A trigger while a clip is recording extends and
        joins that clip. Returns None (and emits clip_failed) when recording is paused
        for lack of space. ValueError for a malformed `event_id`.
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
        if clip is not None and clip.failed.is_set():
            # The worker failed it (e.g. disk full) and its outcome has not arrived yet.
            self._clip = clip = None
        if self.store.paused:
            self.index_event(event)
            failed: ClipFailedData = {
                "clip_id": None,
                "reason": f"recording paused: {self.store.pause_reason}",
                "events": [event],
            }
            self.store.emit(ClipFailed(self.camera, failed))
            return None
        if clip is not None:
            clip.end_at = min(clip.limit_at, max(clip.end_at, at + post))
            self.store.journal.announce(Announcement(self.camera, event, clip.id))
            self._worker.submit(JoinClip(clip.id, event))
            clip_id: str = clip.id
        else:
            clip_id = self._start(kind, event, at, pre, post)
        if snapshot:
            self._picker.want(SnapshotEvent(event_id, kind, at, clip_id), seq, self._last_picture)
        return clip_id

    def snapshot(
        self, event_id: str, kind: EventKind = EventKind.MANUAL, at: float | None = None
    ) -> bool:
        """Index an event and save the current frame as its snapshot (no clip).

        False when there is no frame yet or recording is paused for lack of space.
        """
        validate_event_id(event_id)
        last = self._last_picture
        if last is None or self.store.paused:
            return False
        at = last.wallclock if at is None else at
        self.index_event({"id": event_id, "seq": None, "kind": kind, "time": at})
        self._picker.now(SnapshotEvent(event_id, kind, at, None), last)
        return True

    def index_event(self, event: TriggerEvent) -> None:
        """Index an event without a clip (recording off or paused; a snapshot only).

        Listed at once (the journal); the worker writes it again in its turn, in case the
        journal's write failed. ValueError for a malformed id.
        """
        validate_event_id(event["id"])
        self.store.journal.announce(Announcement(self.camera, event, None))
        self._worker.submit(IndexEvent(event, None))

    async def record_manual(self, seconds: float, event_id: str | None = None) -> ClipRecord:
        """Record `seconds` from now (joining a clip in progress) and return the clip.

        ValueError for seconds outside 0-max_clip_seconds; RecordingError when recording
        is paused or the clip fails.
        """
        if not 0 < seconds <= self.settings.max_clip_seconds:
            raise ValueError(f"seconds must be 0-{self.settings.max_clip_seconds:g}")
        eid = event_id or f"manual-{new_id()}"
        clip_id = self.trigger(EventKind.MANUAL, eid, preroll=0.0, postroll=seconds, snapshot=False)
        if clip_id is None or self._clip is None:
            raise RecordingError(f"recording paused: {self.store.pause_reason}")
        return await asyncio.shield(self._clip.done)

    def _new_clip(self, kind: str, mode: str, at: float, end_at: float, limit_at: float) -> _Clip:
        clip = _Clip(
            id=new_id(),
            kind=kind,
            mode=mode,
            trigger_at=at,
            end_at=end_at,
            limit_at=limit_at,
            done=asyncio.get_running_loop().create_future(),
            audio=self._audio_params if self.settings.audio else None,
        )
        self._clip = clip
        self._done[clip.id] = clip.done
        self.store.register_active(clip.id)
        return clip

    def _start(self, kind: str, event: TriggerEvent, at: float, pre: float, post: float) -> str:
        mode = self.mode or RecordingMode.PASSTHROUGH
        clip = self._new_clip(kind, mode, at, at + post, at + self.settings.max_clip_seconds)
        preroll_packets = self._buffer.since(at - pre) if self._buffer else []
        if pre == 0.0:
            preroll_packets = self._buffer.since(at)
        new = NewClip(clip.id, at, self.store.clip_path(clip.id).name, clip.mode)
        self.store.journal.announce(Announcement(self.camera, event, clip.id, new))
        self._worker.submit(
            OpenClip(clip.id, at, clip.mode, (event,), preroll_packets, clip.failed, clip.audio)
        )
        return clip.id

    def _write(self, packets: list[EncodedPacket | AudioPacket]) -> None:
        if packets and self._clip is not None:
            self._worker.submit(WritePackets(self._clip.id, packets))

    def _continue_clip(self, reason: str, at: float) -> None:
        """End the clip at a stream change and record the rest into a new segment.

        The segment has its own header (the new stream's); the events stay linked to
        the first segment, whose index entry is partial with `reason`.
        """
        old = self._clip
        self._finish(reason)
        if old is None or at > old.end_at:
            return
        clip = self._new_clip(old.kind, self.mode or old.mode, at, old.end_at, old.limit_at)
        self._worker.submit(OpenClip(clip.id, at, clip.mode, (), [], clip.failed, clip.audio))

    def _finish(self, reason: str | None) -> None:
        clip, self._clip = self._clip, None
        if clip is not None:
            self._worker.submit(CloseClip(clip.id, reason))

    # --- worker outcomes -------------------------------------------------------------------
    def _post(self, outcome: ClipOutcome) -> None:  # worker thread: hand it to the loop
        loop = self._loop
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(self._settle, outcome)

    def _settle(self, outcome: ClipOutcome) -> None:
        """On the loop: a clip ended.

        A failed clip is forgotten so the next trigger starts a new one; whoever waits
        for it (record_manual) gets the result.
        """
        current = self._clip
        if outcome.error is not None and current is not None and current.id == outcome.clip_id:
            self._clip = None
        done = self._done.pop(outcome.clip_id, None)
        if done is None or done.done():
            return
        if outcome.error is not None:
            done.set_exception(outcome.error)
            done.exception()  # mark retrieved: nobody may be waiting
        else:
            assert outcome.record is not None
            done.set_result(outcome.record)

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
                # The camera stopped sending before the clip's end (a packet past it would
                # have ended it): end on time anyway, as a clip cut short.
                self._finish(CAMERA_LOST)
            self._picker.overdue(now)
