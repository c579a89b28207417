"""Recording cost for one 1080p 15 fps H.264 camera: passthrough vs re-encode, pre-roll, latency;
and for an H.265 camera: passthrough (`recording.hevc: passthrough`) vs conversion to H.264.

CPU is measured as process CPU seconds (`time.process_time`, all threads) per second
of video, with frames fed as fast as possible, recording continuously (motion all the
time), minus a baseline pass that does the same feeding/decoding without a recorder.
So `*_cpu_percent` is the recorder's own share of one core at camera rate.
The test video is made here with libx264 (noisy textured scene + moving block,
~3 Mbit/s constant bitrate, 2 s GOP, no B-frames, like an IP camera's main stream), and
the same scene with libx265 at ~2 Mbit/s for the H.265 figures (skipped without libx265).
"""

from __future__ import annotations

import argparse
import asyncio
from fractions import Fraction
from pathlib import Path
import statistics
import tempfile
import time
from typing import Any

import av
import numpy as np

from porchlight_edge.capture.base import StreamInfo
from porchlight_edge.capture.frame import Frame
from porchlight_edge.privacy import PrivacyMasker
from porchlight_edge.protocol import EventKind
from porchlight_edge.recorder.encoder import EncodeSettings
from porchlight_edge.recorder.notices import (
    NoticeListener,
    NoticeType,
    RecordingNotice,
)
from porchlight_edge.recorder.recorder import Recorder, RecorderSettings
from porchlight_edge.recorder.storage import ClipStore, StoreSettings
from tests.helpers.footage import make_h264

FPS = 15
HAS_X265 = "libx265" in av.codecs_available
W, H = 1920, 1080
MB = 1024 * 1024


class Source:
    """The test video's packets in memory, replayed as Frames for any number of loops."""

    def __init__(self, path: Path) -> None:
        with av.open(str(path)) as c:
            s = c.streams.video[0]
            self.info = StreamInfo(
                str(s.codec_context.name),
                W,
                H,
                float(FPS),
                Fraction(s.time_base.numerator, s.time_base.denominator),
                bytes(s.codec_context.extradata or b""),
            )
            self.packets = [
                (bytes(p), int(p.pts), int(p.dts), bool(p.is_keyframe))
                for p in c.demux(s)
                if p.size and p.pts is not None and p.dts is not None
            ]
        assert self.info.time_base is not None
        self.tb = self.info.time_base
        self.seconds = len(self.packets) / FPS
        self.grey = np.full((H * 3 // 2, W), 128, np.uint8)

    def frames(self, loops: int, wallclock0: float) -> Any:
        span = round(self.seconds / self.tb)
        for loop in range(loops):
            for data, pts, dts, key in self.packets:
                pkt = av.Packet(data)
                pkt.pts, pkt.dts, pkt.is_keyframe = pts + loop * span, dts + loop * span, key
                pkt.time_base = self.tb
                t = float((pts + loop * span) * self.tb)
                yield Frame.from_i420(
                    self.grey, t, wallclock0 + t, packet=pkt, packets=(pkt,), keyframe=key
                )


async def _store(root: Path, listener: NoticeListener | None = None) -> ClipStore:
    settings = StoreSettings(monitor=False)
    store = ClipStore(root, settings, listener=listener)
    await store.open()
    return store


async def passthrough_cpu(src: Source, root: Path, loops: int) -> tuple[float, float]:
    """(baseline cpu s, recorder cpu s) for `loops` passes of the video, always recording."""
    t = time.process_time()
    for _ in src.frames(loops, 1e6):
        pass
    base = time.process_time() - t
    store = await _store(root)
    rec = Recorder("bench", store, RecorderSettings(preroll=5, postroll=10))
    rec.set_stream_info(src.info)
    rec.start()
    t = time.process_time()
    for i, frame in enumerate(src.frames(loops, 1e6)):
        if i == FPS * 6:
            rec.trigger(EventKind.MOTION, "bench-1", frame.wallclock)
        rec.on_frame(frame, 1.0)  # motion all along: one continuous clip
        if i % 15 == 0:
            await asyncio.sleep(0)
    assert rec.mode == "passthrough", f"{src.info.codec} was not passed through"
    await rec.stop()
    used = time.process_time() - t
    await store.close()
    return base, used


async def reencode_cpu(
    path: Path, root: Path, masked: bool
) -> tuple[float, float, float, list[float]]:
    """(video s, baseline decode cpu s, decode+encode cpu s, mask ms per frame)."""
    masker = PrivacyMasker([[(0.6, 0.0), (1.0, 0.0), (1.0, 0.4), (0.6, 0.4)]])

    def decoded() -> Any:
        with av.open(str(path)) as c:
            for vf in c.decode(video=0):
                t = float(vf.time)
                buf: Any = vf.to_ndarray()
                yield Frame.from_i420(buf, t, 1e6 + t)

    t = time.process_time()
    count = sum(1 for _ in decoded())
    base = time.process_time() - t
    store = await _store(root)
    settings = RecorderSettings(preroll=5, postroll=10, encode=EncodeSettings(queue_size=1000))
    rec = Recorder("bench", store, settings)
    rec.start()
    mask_ms: list[float] = []
    t = time.process_time()
    for i, raw in enumerate(decoded()):
        frame = raw
        if masked:
            m0 = time.perf_counter()
            frame = masker.apply(raw)
            mask_ms.append((time.perf_counter() - m0) * 1000)
        if i == FPS * 2:
            rec.trigger(EventKind.MOTION, "bench-2", frame.wallclock)
        rec.on_frame(frame, 1.0)
        await asyncio.sleep(0)
    await rec.stop()
    used = time.process_time() - t
    await store.close()
    return count / FPS, base, used, mask_ms


async def preroll_memory(src: Source, root: Path, seconds: float) -> tuple[float, float]:
    store = await _store(root)
    rec = Recorder("bench", store, RecorderSettings(preroll=seconds))
    rec.set_stream_info(src.info)
    rec.start()
    loops = int(np.ceil((seconds + 10) / src.seconds))
    for frame in src.frames(loops, 1e6):
        rec.on_frame(frame, None)
    stats = rec.stats()
    await rec.stop()
    await store.close()
    return stats["preroll_peak_bytes"] / MB, stats["preroll_bytes"] / MB


async def ring_latency(src: Source, root: Path, trials: int) -> list[float]:
    out = []
    for n in range(trials):
        started = asyncio.Event()

        def listen(event: RecordingNotice, started: asyncio.Event = started) -> None:
            if event.type is NoticeType.CLIP_STARTED:
                started.set()

        store = await _store(root / f"t{n}", listen)
        rec = Recorder("bench", store, RecorderSettings(preroll=5, postroll=2))
        rec.set_stream_info(src.info)
        rec.start()
        frames = src.frames(2, 1e6)
        for i, frame in enumerate(frames):
            rec.on_frame(frame, None)
            if i >= FPS * 8:
                break
        t0 = time.perf_counter()
        clip_id = rec.trigger(EventKind.RING, f"ring-{n}")
        assert clip_id is not None
        await started.wait()
        elapsed = (time.perf_counter() - t0) * 1000
        part = store.part_path(clip_id)
        assert part.exists(), "clip file missing after clip_started"
        out.append(elapsed)
        await rec.stop()
        await store.close()
    return out


def camera_video(path: Path, seconds: float, bitrate: int, preset: str, codec: str) -> Path:
    """A 1080p 15 fps main stream with a 2 s GOP at `bitrate` bit/s, made with `codec`."""
    return make_h264(
        path,
        seconds=seconds,
        fps=FPS,
        width=W,
        height=H,
        gop=2 * FPS,
        bitrate=bitrate,
        preset=preset,
        codec=codec,
    )


async def hevc_costs(root: Path, seconds: float, loops: int) -> tuple[float, float]:
    """(passthrough, convert-to-H.264) % of one core for a 1080p 15 fps H.265 camera."""
    video = camera_video(root / "cam_hevc.mp4", seconds, 2_000_000, "ultrafast", "libx265")
    src = Source(video)
    assert src.info.codec == "hevc"
    base, used = await passthrough_cpu(src, root / "hpt", loops)
    pt_pct = max(0.0, used - base) / (src.seconds * loops) * 100
    vid_s, dec, enc, _ = await reencode_cpu(video, root / "hre", masked=False)
    return pt_pct, max(0.0, enc - dec) / vid_s * 100


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=10.0, help="length of the test video")
    parser.add_argument("--loops", type=int, default=6, help="passthrough passes over the video")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-rec-") as tmp:
        root = Path(tmp)
        t = time.perf_counter()
        video = camera_video(root / "cam.mp4", args.seconds, 3_000_000, "veryfast", "libx264")
        made = time.perf_counter() - t
        src = Source(video)
        kbps = sum(len(p[0]) for p in src.packets) * 8 / src.seconds / 1000
        print(
            f"test video: {W}x{H} {FPS} fps, {src.seconds:.1f} s, {kbps:.0f} kbit/s "
            f"(made in {made:.1f} s)"
        )

        base, used = await passthrough_cpu(src, root / "pt", args.loops)
        pt_video = src.seconds * args.loops
        pt_pct = max(0.0, used - base) / pt_video * 100
        vid_s, dec, enc, _ = await reencode_cpu(video, root / "re", masked=False)
        re_pct = max(0.0, enc - dec) / vid_s * 100
        _, dec_m, enc_m, mask_ms = await reencode_cpu(video, root / "rm", masked=True)
        rm_pct = max(0.0, enc_m - dec_m) / vid_s * 100
        peak30, now30 = await preroll_memory(src, root / "pm", 30.0)
        peak5, _ = await preroll_memory(src, root / "pm5", 5.0)
        lat = await ring_latency(src, root / "lat", 5)

        hevc = await hevc_costs(root, args.seconds, args.loops) if HAS_X265 else None

    rows = [
        (
            "passthrough (remux, recording all the time)",
            f"{pt_pct:.2f} % of one core",
            f"{used - base:.3f} cpu s / {pt_video:.0f} s video",
        ),
        (
            "re-encode libx264 ultrafast crf 26",
            f"{re_pct:.1f} % of one core",
            f"{enc - dec:.2f} cpu s / {vid_s:.0f} s video (decode {dec:.2f} s subtracted)",
        ),
        (
            "re-encode + privacy mask",
            f"{rm_pct:.1f} % of one core",
            f"mask median {statistics.median(mask_ms):.2f} ms/frame",
        ),
        ("ratio re-encode / passthrough", f"{re_pct / max(pt_pct, 1e-3):.0f}x", ""),
        ("pre-roll memory, 30 s", f"{peak30:.1f} MB peak", f"{now30:.1f} MB at end"),
        ("pre-roll memory, 5 s (default)", f"{peak5:.1f} MB peak", ""),
        (
            "ring -> clip file on disk (pre-roll written)",
            f"{statistics.median(lat):.1f} ms median",
            "trials: " + ", ".join(f"{x:.0f}" for x in lat),
        ),
    ]
    if hevc is not None:
        h_pt, h_conv = hevc
        rows += [
            ("H.265 passthrough (hvc1 remux)", f"{h_pt:.2f} % of one core", ""),
            (
                "H.265 converted to H.264 (recording.hevc: convert)",
                f"{h_conv:.1f} % of one core",
                "decode subtracted (motion decodes anyway)",
            ),
            ("ratio H.265 convert / passthrough", f"{h_conv / max(h_pt, 1e-3):.0f}x", ""),
        ]
    width = max(len(r[0]) for r in rows)
    print("\nCPU = process CPU s per s of video, fed as fast as possible, baseline subtracted")
    for name, value, note in rows:
        print(f"  {name:<{width}}  {value:>22}  {note}")
    print(
        f"RESULT passthrough_cpu_percent={pt_pct:.2f} reencode_cpu_percent={re_pct:.1f} "
        f"masked_reencode_cpu_percent={rm_pct:.1f} preroll_mb_30s_1080p={peak30:.1f} "
        f"ring_to_clip_file_ms={statistics.median(lat):.1f} video_kbps={kbps:.0f}"
        + (
            f" hevc_passthrough_cpu_percent={hevc[0]:.2f} hevc_convert_cpu_percent={hevc[1]:.1f}"
            if hevc is not None
            else ""
        )
    )


if __name__ == "__main__":
    asyncio.run(main())
