"""Salvage clips a crash (or a full disk) left behind, and probe adopted files.

A fragmented MP4 cut off mid-write is readable up to its last whole fragment;
salvaging remuxes the packets that still decode into a clean file, so every clip
the index lists plays from start to end.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
import json
import logging
import os
import struct
from typing import TYPE_CHECKING, Any

import av

from porchlight_edge.diskfull import is_disk_full

from .codecs import SAMPLE_ENTRY, VideoCodec
from .writer import MOVFLAGS, WriteError

if TYPE_CHECKING:
    from pathlib import Path

_LOGGER = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ClipFacts:
    """What a clip file holds: decodable frames, duration and the writer's metadata."""

    frames: int
    duration: float
    """Seconds from the first to the last packet (plus one frame)."""
    metadata: dict[str, Any]
    """What the writer stored in the file: clip_id, camera, start, mode."""

    def start(self, path: Path) -> float:
        """Epoch seconds of the first frame.

        The writer's `start` when it is a finite positive number (the file is not trusted),
        else the file's mtime minus its length.
        """
        value = self.metadata.get("start")
        # Comparisons are false for NaN; 1e11 s is beyond the year 5000.
        if isinstance(value, int | float) and not isinstance(value, bool) and 0 < value < 1e11:
            return float(value)
        return path.stat().st_mtime - self.duration


def _metadata(container: Any) -> dict[str, Any]:
    raw = container.metadata.get("comment", "")
    try:
        meta = json.loads(raw) if raw else {}
    except ValueError:
        meta = {}
    return meta if isinstance(meta, dict) else {}


def probe(path: Path) -> ClipFacts | None:
    """Metadata and packet span of a finished clip (no decoding), None if unreadable."""
    try:
        with av.open(str(path), "r") as container:
            if not container.streams.video:
                return None
            stream = container.streams.video[0]
            first = last = None
            count = 0
            step = 0.0
            for packet in container.demux(stream):
                if packet.pts is None or not packet.size:
                    continue
                t = float(packet.pts * packet.time_base)
                first = t if first is None else min(first, t)
                if last is not None and t > last:
                    step = t - last
                last = t if last is None else max(last, t)
                count += 1
            if count == 0 or first is None or last is None:
                return None
            return ClipFacts(count, last - first + step, _metadata(container))
    except (av.FFmpegError, OSError) as err:
        _LOGGER.info("cannot read %s: %s", path.name, err)
        return None


_BOX_HEADER = struct.Struct(">I4s")
_HEADER_BOXES = frozenset({b"ftyp", b"moov"})


def complete_fragments_end(path: Path) -> int | None:
    """Byte offset just past the last whole `moof`+`mdat` pair of a fragmented MP4.

    Own code on purpose: FFmpeg's demuxer refuses (or misreads) a file whose last
    box is cut short, e.g. a `.part` that a full disk or `kill -9` ended inside a
    `moof`, so it cannot tell us where the good part ends. Walking the top-level
    ISO-BMFF boxes (32-bit size + type, or size 1 + 64-bit size) only reads
    headers: a fragment counts once its `moof` and the `mdat` right after it are
    both inside the file. None when the header (`ftyp`, `moov`) is incomplete or
    no fragment is whole. Raises OSError if the file cannot be read.
    """
    size = os.path.getsize(path)
    header_seen: set[bytes] = set()
    good: int | None = None
    pending_moof = False
    offset = 0
    with open(path, "rb") as f:
        while offset + _BOX_HEADER.size <= size:
            f.seek(offset)
            box_size, kind = _BOX_HEADER.unpack(f.read(_BOX_HEADER.size))
            if box_size == 1:  # 64-bit size follows the type
                raw = f.read(8)
                if len(raw) < 8:
                    break
                box_size = struct.unpack(">Q", raw)[0]
            if box_size < _BOX_HEADER.size or offset + box_size > size:
                break  # cut short (or size 0, "to the end of the file": never whole)
            offset += box_size
            if kind in _HEADER_BOXES:
                header_seen.add(kind)
            elif kind == b"moof":
                pending_moof = True
                continue
            elif kind == b"mdat" and pending_moof and header_seen == _HEADER_BOXES:
                good = offset
            pending_moof = False
    return good


def salvage(src: Path, dst: Path) -> ClipFacts | None:
    """Copy the decodable prefix of `src` into a new fragmented MP4 `dst`.

    `src` is first truncated after its last whole fragment (see
    `complete_fragments_end`): the bytes after it are a fragment cut short, which
    nothing can play. Every packet is then decoded before it is copied and
    copying stops at the first one that fails, so `dst` holds only footage that
    plays. None (and no `dst`) when nothing decodes. Raises `WriteError` (no
    `dst`, `src` kept) when `dst` cannot be written, e.g. the disk is full: try later.
    """
    try:
        end = complete_fragments_end(src)
        if end is None:
            _LOGGER.info("%s: no whole fragment to salvage", src.name)
            return None
        if end < os.path.getsize(src):
            os.truncate(src, end)
    except OSError as err:
        _LOGGER.info("cannot salvage %s: %s", src.name, err)
        return None
    count = 0
    first: float | None = None
    last = 0.0
    step = 0.0
    meta: dict[str, Any] = {}
    try:
        with av.open(str(src), "r") as inp:
            if not inp.streams.video:
                return None
            ins = inp.streams.video[0]
            meta = _metadata(inp)
            decoder = ins.codec_context
            # A raw Python file, as in the writer: a full disk raises here instead of
            # FFmpeg's file protocol swallowing it (and a short `dst` passing as salvaged).
            with open(dst, "wb", buffering=0) as raw:
                out = av.open(raw, "w", format="mp4", options={"movflags": MOVFLAGS})
                try:
                    out.metadata["title"] = str(meta.get("camera", ""))
                    out.metadata["comment"] = inp.metadata.get("comment", "")
                    outs = out.add_stream_from_template(ins)
                    # The template's tag is not kept: without this, hvc1 comes back as hev1.
                    with contextlib.suppress(ValueError):
                        outs.codec_tag = SAMPLE_ENTRY[VideoCodec(decoder.name)]
                    try:
                        for packet in inp.demux(ins):
                            if not packet.size or packet.is_corrupt or packet.pts is None:
                                break
                            decoder.decode(packet)
                            t = float(packet.pts * packet.time_base)
                            packet.stream = outs
                            _mux(out, packet, dst)
                            first = t if first is None else first
                            if count and t > last:
                                step = t - last
                            last = max(last, t)
                            count += 1
                    except av.FFmpegError as err:
                        _LOGGER.info("%s: stopped salvaging at packet %d: %s", src.name, count, err)
                finally:
                    _close(out, dst)
                os.fsync(raw.fileno())
    except WriteError:
        dst.unlink(missing_ok=True)
        raise
    except (av.FFmpegError, OSError) as err:
        if is_disk_full(err):
            dst.unlink(missing_ok=True)
            raise WriteError(f"cannot salvage {src.name}: {err}", enospc=True) from err
        _LOGGER.info("cannot salvage %s: %s", src.name, err)
    if count == 0 or first is None:
        dst.unlink(missing_ok=True)
        return None
    return ClipFacts(count, last - first + step, meta)


def _mux(out: Any, packet: Any, dst: Path) -> None:
    try:
        out.mux(packet)
    except OSError as err:  # the output file; FFmpeg's own errors end the salvage instead
        raise WriteError(f"writing {dst.name} failed: {err}", is_disk_full(err)) from err


def _close(out: Any, dst: Path) -> None:
    try:
        out.close()
    except OSError as err:
        raise WriteError(f"closing {dst.name} failed: {err}", is_disk_full(err)) from err
