"""What listing a recording clip costs: the events' clip state, and the fragment walk.

1. `list_events`' query (a page of 200, newest first, and one camera's day) on an index
   of 20 000 events and 5 000 clips: the events as before (`SELECT * FROM events`) side
   by side with events carrying their clip's state (the subquery `ClipIndex` runs now);
   and the whole `list_events` (count, page, records) for scale.
2. `complete_fragments_end` on a growing clip of 1 s fragments, 5 minutes long (the
   longest clip): what `GET /api/clips/<id>.mp4` reads before it answers for a clip
   still recording.

Usage: scripts/bench clip_state [--repeat 50]
"""

from __future__ import annotations

import argparse
from pathlib import Path
import statistics
import sys
import tempfile
import time
from typing import TYPE_CHECKING

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "addon")]

from porchlight_edge.recorder.index import _EVENTS, ClipIndex  # noqa: E402
from porchlight_edge.recorder.recover import complete_fragments_end  # noqa: E402
from porchlight_edge.recorder.tap import PacketTap  # noqa: E402
from porchlight_edge.recorder.writer import ClipWriter  # noqa: E402
from tests.helpers.footage import make_h264, play  # noqa: E402

if TYPE_CHECKING:
    from collections.abc import Callable

EVENTS, CLIPS = 20_000, 5_000
T0 = 1_700_000_000.0


def median_ms(run: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def fill(index: ClipIndex) -> None:
    for n in range(CLIPS):
        index.add_clip(f"{n:08d}-0000-4000-8000-000000000000", "front", T0 + n * 60, "x", "")
    for n in range(EVENTS):
        clip = f"{n % CLIPS:08d}-0000-4000-8000-000000000000" if n % 2 else None
        index.add_event(
            f"boot:{n}", seq=n, kind="ring", camera="front", time=T0 + n * 15, clip_id=clip
        )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=50)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        index = ClipIndex(Path(tmp) / "index.db")
        fill(index)
        db = index._db  # the old query, on the same connection and data

        def query(select: str) -> Callable[..., object]:
            def run(where: str, *params: object) -> object:
                sql = f"{select} WHERE {where} ORDER BY time DESC, id LIMIT 200"
                return list(db.execute(sql, params))

            return run

        before, now = query("SELECT * FROM events"), query(_EVENTS)
        day = ("camera = ? AND time >= ? AND time <= ?", "front", T0 + 100_000, T0 + 186_400)
        old_page = median_ms(lambda: before("1"), args.repeat)
        new_page = median_ms(lambda: now("1"), args.repeat)
        old_day = median_ms(lambda: before(*day), args.repeat)
        new_day = median_ms(lambda: now(*day), args.repeat)
        whole = median_ms(lambda: index.list_events(limit=200), args.repeat)
        index.close()

        video = make_h264(Path(tmp) / "v.mp4", seconds=300, fps=15, width=640, height=360, gop=15)
        writer = ClipWriter(Path(tmp) / "c.mp4.part", {"clip_id": "bench"})
        tap = PacketTap(frozenset({"h264"}))
        for frame in play(video, decode=False):
            for packet in tap.packets(frame) or []:
                writer.write(packet)
        size = writer.part.stat().st_size
        walk = median_ms(lambda: complete_fragments_end(writer.part), args.repeat)
        writer.abort()

    print(f"page of 200 of {EVENTS} events: before {old_page:.2f} ms, now {new_page:.2f} ms")
    print(f"one camera's day: before {old_day:.2f} ms, now {new_day:.2f} ms")
    print(f"list_events (count, page, records) now: {whole:.2f} ms")
    print(f"fragment walk, 300 s clip ({size / 1e6:.1f} MB): {walk:.2f} ms")
    print(
        f"RESULT page_before_ms={old_page:.3f} page_now_ms={new_page:.3f}"
        f" page_ratio={new_page / old_page:.2f} day_before_ms={old_day:.3f}"
        f" day_now_ms={new_day:.3f} day_ratio={new_day / old_day:.2f}"
        f" list_events_ms={whole:.3f} walk_300s_ms={walk:.3f}"
    )


if __name__ == "__main__":
    main()
