"""A scriptable RTSP camera for tests: RTP over TCP interleaved, in pure Python.

It serves a list of H.264 or H.265 access units (`Unit`: Annex-B bytes and the RTP timestamp to
send them with) in real time, one unit per frame interval of wall time, whatever the
RTP timestamps say. So a test can build cameras that misbehave the way real ones do:
clocks that jump, an SPS that changes mid-stream, a long GOP joined in its middle
(`start`), or a URL that has no video track at all (`media="audio"` or
`"application"`, ONVIF metadata). `audio` adds a sound track (`AudioTrack`) before the
video one in the SDP, as many doorbells order them.

Binds 127.0.0.1 only; every client gets its own sender thread; `close()` ends all.
Only what FFmpeg's RTSP client needs is implemented: OPTIONS, DESCRIBE, SETUP
(TCP interleaved), PLAY, GET_PARAMETER, TEARDOWN. PLAY without a session is answered
`454 Session Not Found`, as cameras do.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
import contextlib
from dataclasses import dataclass
from fractions import Fraction
import socket
import struct
import threading
import time

import av
import numpy as np

from porchlight_edge.recorder.codecs import VideoCodec, nal_type, parameter_set_types
from porchlight_edge.recorder.packets import split_annexb

_MTU_PAYLOAD = 1400
_SSRC = 0x1234ABCD


@dataclass(frozen=True, slots=True)
class Unit:
    data: bytes
    """One access unit, Annex-B (start codes), SPS/PPS in-band before keyframes."""
    rtp_time: int
    """90 kHz RTP timestamp (taken modulo 2**32 on the wire)."""


def encode_units(
    frames: int,
    *,
    size: tuple[int, int] = (320, 240),
    fps: int = 15,
    gop: int = 15,
    first: int = 0,
    full_range: bool = False,
    codec: VideoCodec = VideoCodec.H264,
) -> list[Unit]:
    """`frames` access units of a moving white block on a grey ramp (libx264, or libx265
    for `codec=VideoCodec.HEVC`), parameter sets repeated before every keyframe.

    Frame i is numbered `first + i` (content and RTP time), so two calls can be chained.
    """
    width, height = size
    hevc = codec is VideoCodec.HEVC
    ctx = av.CodecContext.create("libx265" if hevc else "libx264", "w")
    ctx.width, ctx.height, ctx.time_base = width, height, Fraction(1, fps)
    ctx.pix_fmt = "yuvj420p" if full_range else "yuv420p"
    ctx.options = {
        "preset": "ultrafast",
        "tune": "zerolatency",
        "g": str(gop),
        "bf": "0",
        "x264-params": "repeat-headers=1",
    }
    if hevc:
        ctx.options = {
            "preset": "ultrafast",
            "tune": "zerolatency",
            "x265-params": f"keyint={gop}:min-keyint={gop}:bframes=0:repeat-headers=1:"
            "log-level=error",
        }
    out: list[Unit] = []
    for i in range(frames):
        n = first + i
        img = np.full((height, width, 3), 40 + (2 * n) % 150, np.uint8)
        x = (8 * n) % max(1, width - 32)
        img[height // 2 - 16 : height // 2 + 16, x : x + 32] = 255
        vframe = av.VideoFrame.from_ndarray(img, format="bgr24").reformat(format=ctx.pix_fmt)
        vframe.pts = i
        out += [Unit(bytes(p), n * 90000 // fps) for p in ctx.encode(vframe)]
    out += [Unit(bytes(p), (first + len(out)) * 90000 // fps) for p in ctx.encode(None)]
    return out


def parameter_sets(units: list[Unit], codec: VideoCodec = VideoCodec.H264) -> list[bytes]:
    """The first parameter sets (H.264: SPS, PPS; H.265: VPS, SPS, PPS; no start codes)."""
    wanted = parameter_set_types(codec)
    found: dict[int, bytes] = {}
    for unit in units:
        for nal in split_annexb(unit.data):
            found.setdefault(nal_type(codec, nal), nal)
        if all(kind in found for kind in wanted):
            return [found[kind] for kind in wanted]
    raise ValueError("no parameter sets in the units")


def _fragments(nal: bytes, codec: VideoCodec) -> list[bytes]:
    """One NAL unit as RTP payloads: itself, or fragmentation units (H.264 FU-A, RFC 6184
    5.8; H.265 FU, RFC 7798 4.4.3: a 2-byte payload header of type 49, then S/E/type)."""
    if len(nal) <= _MTU_PAYLOAD:
        return [nal]
    if codec is VideoCodec.HEVC:
        header, kind, body = (
            bytes([(nal[0] & 0x81) | (49 << 1), nal[1]]),
            nal_type(codec, nal),
            nal[2:],
        )
    else:
        header, kind, body = bytes([(nal[0] & 0xE0) | 28]), nal[0] & 0x1F, nal[1:]
    chunks = [body[i : i + _MTU_PAYLOAD] for i in range(0, len(body), _MTU_PAYLOAD)]
    out = []
    for k, chunk in enumerate(chunks):
        flags = (0x80 if k == 0 else 0) | (0x40 if k == len(chunks) - 1 else 0)
        out.append(header + bytes([flags | kind]) + chunk)
    return out


def rtp_packets(unit: Unit, seq: int, codec: VideoCodec = VideoCodec.H264) -> list[bytes]:
    """RTP packets (single NAL units and fragmentation units) of one access unit."""
    payloads = [frag for nal in split_annexb(unit.data) for frag in _fragments(nal, codec)]
    packets = []
    for k, payload in enumerate(payloads):
        marker = 0x80 if k == len(payloads) - 1 else 0
        header = struct.pack(
            "!BBHII", 0x80, marker | 96, (seq + k) & 0xFFFF, unit.rtp_time % 2**32, _SSRC
        )
        packets.append(header + payload)
    return packets


@dataclass(frozen=True, slots=True)
class AudioTrack:
    """A tone as RTP payloads: G.711 (RFC 3551), AAC (RFC 3640 AAC-hbr) or Opus (RFC 7587)."""

    sdp: list[str]
    """The `m=audio` section (without `a=control`)."""
    clock: int
    payload_type: int
    payloads: list[tuple[int, bytes]]
    """(RTP timestamp, payload) in sending order."""


_RTP_AUDIO = {
    # codec: (payload type, rtpmap, sample rate, RTP clock)
    "pcm_mulaw": (0, "PCMU/8000", 8000, 8000),
    "pcm_alaw": (8, "PCMA/8000", 8000, 8000),
    "aac": (97, "MPEG4-GENERIC/16000/1", 16000, 16000),
    "libopus": (97, "opus/48000/2", 48000, 48000),
}


def audio_track(codec: str, seconds: float, tone_hz: float = 700.0) -> AudioTrack:
    """`seconds` of a `tone_hz` sine encoded with PyAV's `codec`, packetized for RTP."""
    pt, rtpmap, rate, clock = _RTP_AUDIO[codec]
    ctx = av.CodecContext.create(codec, "w")
    assert isinstance(ctx, av.AudioCodecContext)
    formats = ctx.codec.audio_formats or []
    ctx.sample_rate, ctx.layout = rate, "mono"
    ctx.format = "s16" if codec.startswith("pcm") else formats[0].name
    ctx.time_base = Fraction(1, rate)
    ctx.open()
    chunk = ctx.frame_size or rate // 50  # G.711: 20 ms packets
    total = int(seconds * rate)
    resampler = av.AudioResampler(
        format=ctx.format.name, layout="mono", rate=rate, frame_size=chunk
    )
    t = np.arange(total) / rate
    pcm = av.AudioFrame.from_ndarray(
        (0.5 * np.sin(2 * np.pi * tone_hz * t)).astype(np.float32)[None, :], "flt", "mono"
    )
    pcm.sample_rate, pcm.pts = rate, 0
    packets = [
        p for f in [*resampler.resample(pcm), *resampler.resample(None)] for p in ctx.encode(f)
    ]
    packets += ctx.encode(None)
    sdp = [f"m=audio 0 RTP/AVP {pt}", "c=IN IP4 0.0.0.0", f"a=rtpmap:{pt} {rtpmap}"]
    if codec == "aac":
        config = bytes(ctx.extradata or b"").hex()
        sdp.append(
            f"a=fmtp:{pt} streamtype=5;profile-level-id=15;mode=AAC-hbr;config={config};"
            "sizelength=13;indexlength=3;indexdeltalength=3"
        )
    payloads = []
    for packet in packets:
        data = bytes(packet)
        if codec == "aac":  # one AU: AU-headers-length (16 bits) + 13-bit size, 3-bit index
            data = struct.pack("!HH", 16, len(data) << 3) + data
        ts = max(0, int(packet.pts or 0)) * clock // rate
        payloads.append((ts, data))
    return AudioTrack(sdp, clock, pt, payloads)


class RtpCamera:
    """Serves `units` at `fps` to every client, from index `start`; see the module doc.

    `codec`: what `units` hold. `sprop`: announce the parameter sets in the SDP (False: a
    camera whose sets are only in-band, so the client has no extradata). `credentials`
    (user, password): requests without them get `401 Unauthorized` (HTTP Basic, as many
    cameras still offer). `rtpmap`: announce the video track as this encoding instead
    (e.g. `H266/90000`, a codec the client cannot depacketize or decode).
    """

    def __init__(
        self,
        units: list[Unit],
        *,
        fps: float = 15.0,
        start: int = 0,
        media: str = "video",
        codec: VideoCodec = VideoCodec.H264,
        sprop: bool = True,
        audio: AudioTrack | None = None,
        credentials: tuple[str, str] | None = None,
        rtpmap: str | None = None,
    ) -> None:
        self.units, self.fps, self.start, self.media = units, fps, start, media
        self.codec, self.sprop = codec, sprop
        self.audio = audio
        self.rtpmap = rtpmap
        self._authorization = (
            None
            if credentials is None
            else "Basic " + base64.b64encode(":".join(credentials).encode()).decode()
        )
        self.refused = 0
        """Requests answered 401 (wrong or missing credentials)."""
        self._sock = socket.socket()
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(4)
        self._sock.settimeout(0.1)  # so the accept loop sees `close()`
        self.port = int(self._sock.getsockname()[1])
        self._closed = threading.Event()
        self._conns: list[socket.socket] = []
        self._threads: list[threading.Thread] = []
        self.sent = 0
        """Units sent, over all clients."""
        self._spawn(self._accept)

    def _spawn(self, target: Callable[..., None], *args: object) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True)
        self._threads.append(thread)
        thread.start()

    @property
    def busy_threads(self) -> int:
        """Client threads still running (each client has a reader and, once playing, a sender)."""
        return sum(t.is_alive() for t in self._threads[1:])

    @property
    def url(self) -> str:
        return f"rtsp://127.0.0.1:{self.port}/cam"

    def close(self) -> None:
        self._closed.set()
        for conn in self._conns:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        for thread in list(self._threads):
            thread.join(5)
        self._sock.close()

    def __enter__(self) -> RtpCamera:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _sdp(self) -> bytes:
        lines = ["v=0", "o=- 1 1 IN IP4 127.0.0.1", "s=porchlight test", "t=0 0"]
        if self.audio is not None:  # first, before the video
            lines += [*self.audio.sdp, "a=control:trackID=1"]
        if self.media == "video":
            sets = [base64.b64encode(x).decode() for x in parameter_sets(self.units, self.codec)]
            if self.codec is VideoCodec.HEVC:
                fmtp = ";".join(
                    f"sprop-{n}={v}" for n, v in zip(("vps", "sps", "pps"), sets, strict=True)
                )
                rtpmap = "H265/90000"
            else:
                fmtp = "packetization-mode=1;sprop-parameter-sets=" + ",".join(sets)
                rtpmap = "H264/90000"
            rtpmap = self.rtpmap or rtpmap
            lines += ["m=video 0 RTP/AVP 96", "c=IN IP4 0.0.0.0", f"a=rtpmap:96 {rtpmap}"]
            if not self.sprop:
                fmtp = "" if self.codec is VideoCodec.HEVC else "packetization-mode=1"
            if fmtp:
                lines.append(f"a=fmtp:96 {fmtp}")
            lines.append("a=control:trackID=0")
        elif self.media == "audio":  # an audio-only camera URL: G.711 μ-law
            lines += ["m=audio 0 RTP/AVP 0", "c=IN IP4 0.0.0.0", "a=rtpmap:0 PCMU/8000"]
            lines += ["a=control:trackID=1"]
        else:  # an ONVIF metadata-only URL
            lines += ["m=application 0 RTP/AVP 107", "c=IN IP4 0.0.0.0"]
            lines += ["a=rtpmap:107 vnd.onvif.metadata/90000", "a=control:trackID=2"]
        return ("\r\n".join(lines) + "\r\n").encode()

    def _accept(self) -> None:
        while not self._closed.is_set():
            try:
                conn, _ = self._sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            conn.settimeout(None)
            self._conns.append(conn)
            self._spawn(self._serve, conn)

    def _serve(self, conn: socket.socket) -> None:
        lock = threading.Lock()
        reader = conn.makefile("rb")
        session: str | None = None
        channels: dict[str, int] = {}  # track control -> interleaved RTP channel
        try:
            for _ in range(10_000):
                first = reader.read(1)
                if not first:
                    return
                if first == b"$":  # interleaved RTCP from the client: skip it
                    _, length = struct.unpack("!BH", reader.read(3))
                    reader.read(length)
                    continue
                request = [first + reader.readline()]
                while request[-1].strip():
                    request.append(reader.readline())
                text = b"".join(request).decode("latin-1")
                headers = {
                    k.strip().lower(): v.strip()
                    for k, _, v in (line.partition(":") for line in text.splitlines()[1:])
                }
                if int(headers.get("content-length", "0")):
                    reader.read(int(headers["content-length"]))
                method, url = text.split()[:2]
                extra, body, status = "", b"", "200 OK"
                if self._authorization not in (None, headers.get("authorization")):
                    self.refused += 1
                    status = "401 Unauthorized"
                    extra = 'WWW-Authenticate: Basic realm="porchlight test"\r\n'
                elif method == "OPTIONS":
                    extra = "Public: OPTIONS, DESCRIBE, SETUP, PLAY, GET_PARAMETER, TEARDOWN\r\n"
                elif method == "DESCRIBE":
                    body = self._sdp()
                    extra = f"Content-Type: application/sdp\r\nContent-Base: {url}/\r\n"
                elif method == "SETUP":
                    session = "5EC7104"
                    # The channels the client asked for, per track (audio may come first).
                    wanted = headers.get("transport", "").partition("interleaved=")[2]
                    channel = int(wanted.split("-")[0] or 2 * len(channels))
                    channels[url.rsplit("/", 1)[-1]] = channel
                    extra = (
                        f"Transport: RTP/AVP/TCP;unicast;interleaved={channel}-{channel + 1}\r\n"
                    )
                elif method == "PLAY" and "session" not in headers:
                    status = "454 Session Not Found"
                if session is not None and status.startswith("200"):
                    extra += f"Session: {session};timeout=60\r\n"
                head = f"RTSP/1.0 {status}\r\nCSeq: {headers.get('cseq', '0')}\r\n{extra}"
                head += f"Content-Length: {len(body)}\r\n\r\n"
                with lock:
                    conn.sendall(head.encode() + body)
                if method == "PLAY" and status.startswith("200"):
                    self._spawn(self._send, conn, lock, channels)
                if method == "TEARDOWN":
                    return
        except (OSError, ValueError, struct.error):
            return
        finally:
            conn.close()

    def _send(self, conn: socket.socket, lock: threading.Lock, channels: dict[str, int]) -> None:
        t0, seq, heard = time.monotonic(), 0, 0
        video = channels.get("trackID=0", 0)
        audio = self.audio
        for k, unit in enumerate(self.units[self.start :]):
            delay = t0 + k / self.fps - time.monotonic()
            if self._closed.wait(max(0.0, delay)):
                return
            packets = rtp_packets(unit, seq, self.codec)
            seq += len(packets)
            data = b"".join(b"$" + struct.pack("!BH", video, len(p)) + p for p in packets)
            if audio is not None and "trackID=1" in channels:
                # The sound of this frame interval, on the audio track's channel.
                until = (k + 1) / self.fps * audio.clock
                while heard < len(audio.payloads) and audio.payloads[heard][0] < until:
                    ts, payload = audio.payloads[heard]
                    rtp = struct.pack(
                        "!BBHII", 0x80, 0x80 | audio.payload_type, heard & 0xFFFF, ts, _SSRC + 1
                    )
                    chunk = rtp + payload
                    data += b"$" + struct.pack("!BH", channels["trackID=1"], len(chunk)) + chunk
                    heard += 1
            try:
                with lock:
                    conn.sendall(data)
            except OSError:
                return
            self.sent += 1
        # The camera's last unit: leave the connection open until the client goes.
