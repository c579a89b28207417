"""Salvage keeps every whole fragment of a `.part`, wherever the cut fell.

A real clip is written by the recorder's `ClipWriter`, then cut at every byte
offset of one fragment (and a little into the next, across the moof/mdat
boundaries); each cut is salvaged and decoded with PyAV.
"""

from __future__ import annotations

from pathlib import Path
import struct

import av
import pytest

from porchlight_edge.recorder.packets import EncodedPacket, params_from_stream
from porchlight_edge.recorder.recover import complete_fragments_end, salvage
from porchlight_edge.recorder.writer import ClipWriter
from tests.helpers.footage import make_h264

GOP = 3


def write_clip(tmp: Path) -> Path:
    """A clip as the recorder writes it: one fragment per GOP of `GOP` frames."""
    source = make_h264(tmp / "cam.mp4", seconds=1.5, fps=10, width=32, height=32, gop=GOP)
    writer = ClipWriter(tmp / "clip.mp4.part", {"camera": "front", "clip_id": "x"})
    with av.open(str(source)) as container:
        stream = container.streams.video[0]
        params = params_from_stream(stream)
        for pkt in container.demux(stream):
            if pkt.size and pkt.pts is not None:
                wall = 1e6 + float(pkt.pts * pkt.time_base)
                data = EncodedPacket(bytes(pkt), pkt.pts, pkt.dts, pkt.is_keyframe, wall, params)
                writer.write(data)
    writer.close()
    return writer.part


def boxes(data: bytes) -> list[tuple[int, bytes, int]]:
    """(offset, type, size) of the top-level boxes (test-side reading, 32-bit sizes only)."""
    out, offset = [], 0
    while offset < len(data):
        size, kind = struct.unpack(">I4s", data[offset : offset + 8])
        out.append((offset, kind, size))
        offset += size
    return out


def decoded_frames(path: Path) -> int:
    with av.open(str(path)) as container:
        return sum(1 for _ in container.decode(video=0))


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    return write_clip(tmp_path_factory.mktemp("salvage")).read_bytes()


def test_every_cut_inside_a_fragment_keeps_the_whole_ones(clip: bytes, tmp_path: Path) -> None:
    table = boxes(clip)
    moofs = [off for off, kind, _ in table if kind == b"moof"]
    assert len(moofs) >= 4, table
    k = 2  # cut through the third fragment, and just into the fourth
    start, stop = moofs[k], moofs[k + 1] + 24
    cut, out = tmp_path / "cut.mp4.part", tmp_path / "out.mp4"
    checked = 0
    for offset in range(start, stop + 1):
        whole = sum(1 for m in moofs if m < offset and _fragment_end(table, m) <= offset)
        cut.write_bytes(clip[:offset])
        facts = salvage(cut, out)
        assert facts is not None, f"cut at {offset} lost the clip"
        assert facts.frames == whole * GOP, offset
        assert decoded_frames(out) == whole * GOP, offset
        checked += 1
    assert checked == stop - start + 1


def _fragment_end(table: list[tuple[int, bytes, int]], moof: int) -> int:
    i = next(i for i, (off, _, _) in enumerate(table) if off == moof)
    mdat_off, kind, size = table[i + 1]
    assert kind == b"mdat"
    return mdat_off + size


def test_box_walker_on_every_prefix(clip: bytes, tmp_path: Path) -> None:
    """Every prefix of the whole file: the walker never overshoots a whole fragment."""
    table = boxes(clip)
    ends = sorted(_fragment_end(table, off) for off, kind, _ in table if kind == b"moof")
    cut = tmp_path / "cut.part"
    for offset in range(0, len(clip) + 1, 7):
        cut.write_bytes(clip[:offset])
        expected = max((e for e in ends if e <= offset), default=None)
        assert complete_fragments_end(cut) == expected, offset


def test_a_cut_inside_the_header_salvages_nothing(clip: bytes, tmp_path: Path) -> None:
    moov_end = next(off + size for off, kind, size in boxes(clip) if kind == b"moov")
    cut = tmp_path / "cut.mp4.part"
    cut.write_bytes(clip[: moov_end - 1])
    assert salvage(cut, tmp_path / "out.mp4") is None
    assert not (tmp_path / "out.mp4").exists()
