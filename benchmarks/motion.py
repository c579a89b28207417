"""Motion engine vs a Frigate-style reference: quality on real sequences and speed.

Quality: every sequence of both manifests in ../shared/data (or
$PORCHLIGHT_SHARED_DATA) runs through both detectors at its native size; pixel F1
(ROI and temporal ROI, CDnet rules), frame-level F1 and onset delay. The
reference's pixel mask is its kept contours filled (what its boxes stand for); the
raw thresholded+dilated image is shown too.
Speed, side by side in the same run: on every sequence the detectors take each
frame in turn (BGR to luma included for both), median ms per frame and the ratio
per sequence; then synthetic I420 frames at 720p and 1080p, interleaved per frame.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from typing import TYPE_CHECKING

import cv2
import numpy as np

from benchmarks.datasets import Scores, Sequence, data_root, load_sequences, run_side_by_side
from benchmarks.reference.frigate_motion import FrigateStyleMotion
from porchlight_edge.capture.frame import Frame
from porchlight_edge.motion import MotionConfig, MotionEngine

if TYPE_CHECKING:
    from collections.abc import Callable

    from numpy.typing import NDArray


def engine_detector(
    config: MotionConfig | None = None, outline: bool = False
) -> Callable[[NDArray[np.uint8], float], tuple[NDArray[np.uint8], bool]]:
    """The engine as the product runs it; with `outline` its mask is redrawn at
    `outline_height` rows (`MotionEngine.outline`), an optional extra step."""
    engine = MotionEngine(config or MotionConfig())

    def detect(img: NDArray[np.uint8], pts: float) -> tuple[NDArray[np.uint8], bool]:
        frame = Frame.from_bgr(img, pts, pts)
        result = engine.process(frame.luma(engine.config.detect_height), pts)
        if outline:
            # Full-size luma: kept by Frame.luma when it converted the whole picture.
            return engine.outline(frame.luma(frame.height)), result.has_motion
        return result.mask, result.has_motion

    return detect


def reference_detector(
    filled: bool = True,
) -> Callable[[NDArray[np.uint8], float], tuple[NDArray[np.uint8], bool]]:
    ref = FrigateStyleMotion()

    def detect(img: NDArray[np.uint8], pts: float) -> tuple[NDArray[np.uint8], bool]:
        frame = Frame.from_bgr(img, pts, pts)
        result = ref.process(frame.luma(frame.height))
        return (result.filled if filled else result.mask), bool(result.boxes)

    return detect


MIN_TIMED_FRAMES = 200
"""Short sequences are replayed (timing only) until this many frames were timed."""


def score_all(
    sequences: list[Sequence], limit: int | None = None
) -> list[tuple[str, Scores, Scores, Scores, Scores]]:
    """Per sequence: (name, engine, reference, reference raw mask, engine + outline)."""
    out = []
    for seq in sequences:
        # Timed together: the engine, the reference and the engine with the outline
        # step take turns on every frame.
        eng, ref, fine = run_side_by_side(
            seq,
            [engine_detector, reference_detector, lambda: engine_detector(outline=True)],
            limit=limit,
            min_timed=MIN_TIMED_FRAMES,
        )
        # The reference's raw mask is a quality figure only: a pass of its own.
        (raw,) = run_side_by_side(seq, [lambda: reference_detector(filled=False)], limit=limit)
        out.append((seq.name, eng, ref, raw, fine))
    return out


def speed_ratio(eng: Scores, ref: Scores) -> float:
    """Median engine time over median reference time on the same frames."""
    return statistics.median(eng.times_ms) / statistics.median(ref.times_ms)


def pr_text(scores: Scores) -> str:
    """Pixel precision/recall as "0.80/0.92": which of the two a low F1 comes from."""
    return f"{scores.precision:.2f}/{scores.recall:.2f}"


def _delay_text(delays: list[int | None]) -> str:
    if not delays:
        return "-"
    hit = [d for d in delays if d is not None]
    med = f"{statistics.median(hit):.0f}" if hit else "-"
    return f"{med} ({len(hit)}/{len(delays)})"


def synth_i420(width: int, height: int, count: int, seed: int = 1) -> list[NDArray[np.uint8]]:
    """Textured scene with sensor noise and a figure walking across: plausible camera frames."""
    rng = np.random.default_rng(seed)
    small = rng.integers(40, 200, (height // 16, width // 16), dtype=np.uint8)
    scene = cv2.resize(small, (width, height), interpolation=cv2.INTER_CUBIC)
    scene = cv2.GaussianBlur(scene, (0, 0), 2.0)
    chroma = np.full((height // 2, width), 128, np.uint8)
    frames = []
    for i in range(count):
        y = scene.copy()
        x0 = int((0.1 + 0.8 * i / count) * width)
        cv2.rectangle(y, (x0, height // 3), (x0 + width // 12, height - height // 10), 30, -1)
        noise = rng.normal(0, 3, y.shape)
        y = np.clip(y + noise, 0, 255).astype(np.uint8)
        frames.append(np.concatenate([y, chroma]))
    return frames


def time_detectors(width: int, height: int, count: int = 150) -> tuple[float, float, float]:
    """Median ms per frame: (engine, reference, engine with the outline step)."""
    frames = synth_i420(width, height, count)
    engine = MotionEngine()
    fine_engine = MotionEngine()
    ref = FrigateStyleMotion()
    eng_ms: list[float] = []
    ref_ms: list[float] = []
    out_ms: list[float] = []
    for i, buf in enumerate(frames):
        pts = i / 25.0
        # Interleave them so all see the same cache and CPU state.
        t0 = time.perf_counter()
        f = Frame.from_i420(buf, pts, pts)
        engine.process(f.luma(engine.config.detect_height), pts)
        t1 = time.perf_counter()
        g = Frame.from_i420(buf, pts, pts)
        ref.process(g.luma(g.height))
        t2 = time.perf_counter()
        k = Frame.from_i420(buf, pts, pts)
        fine_engine.process(k.luma(fine_engine.config.detect_height), pts)
        fine_engine.outline(buf[:height])
        t3 = time.perf_counter()
        if i >= 10:  # skip warm-up (allocations, first calibration)
            eng_ms.append((t1 - t0) * 1000)
            ref_ms.append((t2 - t1) * 1000)
            out_ms.append((t3 - t2) * 1000)
    return statistics.median(eng_ms), statistics.median(ref_ms), statistics.median(out_ms)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--limit", type=int, default=None, help="scored frames per sequence")
    parser.add_argument("--frames", type=int, default=300, help="frames per timing run")
    parser.add_argument("--only", nargs="*", help="sequences whose name contains one of these")
    args = parser.parse_args()

    root = data_root()
    sequences: list[Sequence] = []
    if root is None:
        print("no ../shared/data (set PORCHLIGHT_SHARED_DATA): quality part skipped")
    else:
        sequences = load_sequences(root)
    if args.only:
        sequences = [s for s in sequences if any(o in s.name for o in args.only)]
    results = score_all(sequences, args.limit)

    header = (
        f"{'sequence':<24} {'size':>8} {'pixF1 eng':>9} {'P/R eng':>9} "
        f"{'pixF1 ref':>9} {'(raw)':>6} "
        f"{'frmF1 eng':>9} {'frmF1 ref':>9} {'onset eng':>10} {'onset ref':>10} "
        f"{'ms eng':>7} {'ms ref':>7} {'ratio':>6} {'pixF1 +outline':>14} {'ratio':>6}"
    )
    print(header)
    print("-" * len(header))
    for name, eng, ref, raw, fine in results:
        size = next(f"{s.size[0]}x{s.size[1]}" for s in sequences if s.name == name)
        print(
            f"{name:<24} {size:>8} {eng.pixel_f1:>9.3f} {pr_text(eng):>9} "
            f"{ref.pixel_f1:>9.3f} {raw.pixel_f1:>6.3f} "
            f"{eng.frame_f1:>9.3f} {ref.frame_f1:>9.3f} "
            f"{_delay_text(eng.onset_delays()):>10} {_delay_text(ref.onset_delays()):>10} "
            f"{statistics.median(eng.times_ms):>7.3f} {statistics.median(ref.times_ms):>7.3f} "
            f"{speed_ratio(eng, ref):>6.2f} {fine.pixel_f1:>14.3f} {speed_ratio(fine, ref):>6.2f}"
        )

    def mean(values: list[float]) -> float:
        return float(np.mean(values)) if values else float("nan")

    pe = mean([e.pixel_f1 for _, e, _, _, _ in results])
    pr = mean([r.pixel_f1 for _, _, r, _, _ in results])
    fe = mean([e.frame_f1 for _, e, _, _, _ in results])
    fr = mean([r.frame_f1 for _, _, r, _, _ in results])
    po = mean([o.pixel_f1 for _, _, _, _, o in results])
    worst = min((e.pixel_f1 - r.pixel_f1 for _, e, r, _, _ in results), default=float("nan"))
    worst_frame = min((e.frame_f1 - r.frame_f1 for _, e, r, _, _ in results), default=float("nan"))
    worst_speed = max((speed_ratio(e, r) for _, e, r, _, _ in results), default=float("nan"))
    worst_outline = max((speed_ratio(o, r) for _, _, r, _, o in results), default=float("nan"))
    print("-" * len(header))
    print(
        f"{'mean':<24} {'':>8} {pe:>9.3f} {'':>9} {pr:>9.3f} {'':>6} {fe:>9.3f} {fr:>9.3f} "
        f"{'':>10} {'':>10} {'':>7} {'':>7} {'':>6} {po:>14.3f}"
    )
    print(f"worst per-sequence pixel F1 margin (engine - reference): {worst:+.3f}")
    print(f"worst per-sequence frame F1 margin (engine - reference): {worst_frame:+.3f}")
    print(f"worst per-sequence speed ratio (engine / reference): {worst_speed:.3f}")
    print("P/R: the engine's pixel precision / recall")
    print("onset: median frames from ground-truth onset to detection (onsets hit / onsets)")
    print("+outline: the mask redrawn at outline_height rows (MotionEngine.outline, optional)")
    print()

    timings = {}
    print(
        f"{'input':<8} {'engine ms':>10} {'reference ms':>13} {'ratio':>7} {'+outline ratio':>15}"
    )
    for label, (w, h) in (("720p", (1280, 720)), ("1080p", (1920, 1080))):
        e_ms, r_ms, o_ms = time_detectors(w, h, args.frames)
        timings[label] = (e_ms, r_ms, o_ms)
        print(f"{label:<8} {e_ms:>10.3f} {r_ms:>13.3f} {e_ms / r_ms:>7.2f} {o_ms / r_ms:>15.2f}")
    e1080, r1080, o1080 = timings["1080p"]
    print(
        f"RESULT sequences={len(results)} pixel_f1_engine={pe:.3f} pixel_f1_reference={pr:.3f} "
        f"frame_f1_engine={fe:.3f} frame_f1_reference={fr:.3f} "
        f"worst_pixel_margin={worst:+.3f} worst_frame_margin={worst_frame:+.3f} "
        f"speed_ratio_worst={worst_speed:.3f} speed_ratio_1080p={e1080 / r1080:.3f} "
        f"pixel_f1_outline={po:.3f} speed_ratio_outline_worst={worst_outline:.3f} "
        f"speed_ratio_outline_1080p={o1080 / r1080:.3f}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
