"""One camera's live stream: compressed packets fanned out to every HA stream viewer.

Without privacy masks a frame carries the camera's own H.264 packets, and those
are passed through untouched (`PacketTap`, the recorder's passthrough path). A
masked frame has no packets (the masker drops them: they show what the mask
hides), so it is encoded once per camera and every viewer gets the same
packets, like the MJPEG view's shared JPEG: while the recorder encodes those
frames anyway (recording on), its packets are shared (`on_encoded`); otherwise
the hub's own `FrameEncoder` runs, only while somebody watches.

Each viewer starts at a keyframe: the hub keeps the current GOP while viewers
exist. A viewer's mailbox is bounded; a viewer that falls behind loses packets
up to the next keyframe, never holding up capture or other viewers.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from typing import TYPE_CHECKING

from porchlight_edge.live import TooManyViewers
from porchlight_edge.recorder.audio import AudioPacket, AudioParams, copy_audio
from porchlight_edge.recorder.buffer import PrerollBuffer
from porchlight_edge.recorder.encoder import EncodeSettings, FrameEncoder
from porchlight_edge.recorder.packets import EncodedPacket
from porchlight_edge.recorder.tap import PacketTap

if TYPE_CHECKING:
    from porchlight_edge.capture.frame import Frame


_LOGGER = logging.getLogger(__name__)
MAILBOX_PACKETS = 300
"""Packets a viewer may lag behind (about 10 s at 30 fps) before it skips to a keyframe."""
GOP_MAX_BYTES = 16 * 1024 * 1024
"""Memory bound of the kept GOP (a 20 s GOP at 6 Mbit/s)."""
PASSTHROUGH_CODECS = frozenset({"h264"})


class StreamViewer:
    """One open live stream: packets from its first keyframe on, None at the end."""

    def __init__(self, audio: AudioParams | None = None) -> None:
        self.mailbox: asyncio.Queue[EncodedPacket | AudioPacket | None] = asyncio.Queue(
            MAILBOX_PACKETS
        )
        self.audio = audio
        """The sound track this viewer's stream carries (fixed at open), or None."""
        self.started = False
        self.skipped = 0

    def offer_audio(self, packet: AudioPacket) -> None:
        """Sound once the picture started, never at the cost of video (dropped when full)."""
        if self.audio is not None and self.started and not self.mailbox.full():
            self.mailbox.put_nowait(packet)

    def offer(self, packet: EncodedPacket) -> None:
        """Queue `packet`, from the viewer's first keyframe on.

        A viewer that falls behind drops what is queued and skips to the next keyframe.
        """
        if not self.started:
            if not packet.keyframe:
                return
            self.started = True
        if self.mailbox.full():
            # Behind: drop what is queued and wait for the next keyframe.
            self.skipped += self.mailbox.qsize()
            while not self.mailbox.empty():
                self.mailbox.get_nowait()
            self.started = packet.keyframe
            if not packet.keyframe:
                return
        self.mailbox.put_nowait(packet)

    def end(self) -> None:
        """End this viewer's stream (a None after what is queued)."""
        while self.mailbox.full():
            self.mailbox.get_nowait()
        self.mailbox.put_nowait(None)

    async def next(self) -> EncodedPacket | AudioPacket | None:
        """The next packet, None once the stream ended. Safe to cancel (loses nothing)."""
        return await self.mailbox.get()


class LiveStream:
    """One camera's live stream: the camera's own H.264 packets, or encoded masked frames.

    Each viewer starts at a keyframe (the newest GOP is kept for that);
    TooManyViewers past `max_viewers`.
    """

    def __init__(self, camera: str, max_viewers: int, encode: EncodeSettings | None = None) -> None:
        self.camera = camera
        self.max_viewers = max_viewers
        self.encode_settings = encode or EncodeSettings()
        self._tap = PacketTap(PASSTHROUGH_CODECS)
        self._gop = PrerollBuffer(0.0, GOP_MAX_BYTES)  # 0 s: only the newest GOP is kept
        self._viewers: set[StreamViewer] = set()
        self._encoder: FrameEncoder | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self.mode: str | None = None
        """"passthrough" or "encode" while viewers watch, from the last frame."""
        self.encoders_started = 0
        """How many of the hub's own encoders were started (one per watched masked session
        while the recorder does not encode)."""
        self.packets_out = 0
        self._closing: list[threading.Thread] = []
        self._shared = False
        self.audio = False
        """Streams carry the camera's sound (the camera's audio setting)."""
        self._audio_params: AudioParams | None = None

    @property
    def viewers(self) -> int:
        """Viewers watching now."""
        return len(self._viewers)

    # --- frames in (event loop) --------------------------------------------------------------
    def on_frame(self, frame: Frame, recorder_encodes: bool = False) -> None:
        """Every frame after the privacy masks; costs nothing while nobody watches.

        `recorder_encodes`: the recorder gets this frame and encodes it if it has no
        packets; its packets then come through `on_encoded`.
        """
        if self.audio and frame.audio:
            sound = copy_audio(frame)
            if sound:
                self._audio_params = sound[0].params
        if not self._viewers:
            return
        if self.audio and frame.audio:
            for viewer in self._viewers:
                for packet in sound:
                    viewer.offer_audio(packet)
        packets = self._tap.packets(frame)
        if packets is not None:
            self.mode = "passthrough"
            self._shared = False
            self._stop_encoder()
            self._publish(packets)
            return
        self.mode = "encode"
        self._shared = recorder_encodes
        if recorder_encodes:
            self._stop_encoder()
            return
        if self._encoder is None:
            self._loop = asyncio.get_running_loop()
            self._encoder = FrameEncoder(
                self.encode_settings, self._from_encoder, f"stream-{self.camera}"
            )
            self.encoders_started += 1
        self._encoder.submit(frame)

    def on_encoded(self, packets: list[EncodedPacket]) -> None:
        """The recorder's encoder output (on the loop); used while it is the source."""
        if self._shared and self._viewers:
            self._publish(packets)

    def _from_encoder(self, packets: list[EncodedPacket]) -> None:
        # Encoder thread → loop: the one crossing, through call_soon_threadsafe.
        loop = self._loop
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(self._publish, packets)

    def _publish(self, packets: list[EncodedPacket]) -> None:
        for packet in packets:
            self._gop.append(packet)
            self.packets_out += 1
            for viewer in self._viewers:
                viewer.offer(packet)

    def _stop_encoder(self) -> None:
        encoder, self._encoder = self._encoder, None
        if encoder is not None:
            # close() joins the encoder thread: never on the loop.
            closer = threading.Thread(
                target=encoder.close, name=f"stream-{self.camera}-close", daemon=True
            )
            closer.start()
            self._closing = [t for t in self._closing if t.is_alive()] + [closer]

    # --- viewers ------------------------------------------------------------------------------
    def open(self) -> StreamViewer:
        """A new viewer, primed with the current GOP. Raises `TooManyViewers`."""
        if len(self._viewers) >= self.max_viewers:
            raise TooManyViewers(f"at most {self.max_viewers} stream viewers per camera")
        viewer = StreamViewer(self._audio_params if self.audio else None)
        for packet in self._gop.since(float("-inf")):  # -inf: the whole kept GOP
            if isinstance(packet, EncodedPacket):  # the live GOP holds video only
                viewer.offer(packet)
        self._viewers.add(viewer)
        return viewer

    def close_viewer(self, viewer: StreamViewer) -> None:
        """Forget a viewer; the last one stops the hub's encoder and kept packets."""
        self._viewers.discard(viewer)
        if not self._viewers:
            # Nobody watches: no encoder, no kept packets.
            self._stop_encoder()
            self._gop.clear()
            self.mode = None
            self._shared = False

    def end_all(self) -> None:
        """End every open stream (privacy mode, credential rotated, shutdown)."""
        for viewer in list(self._viewers):
            viewer.end()
            self.close_viewer(viewer)

    async def close(self) -> None:
        """End every stream and wait until the encoder thread is gone (shutdown)."""
        self.end_all()
        for closer in self._closing:
            await asyncio.to_thread(closer.join, 10.0)
        self._closing = []
