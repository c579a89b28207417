"""Export a clip with a manifest (SHA-256, camera, time range) proving it is unaltered."""

from __future__ import annotations

import hashlib
import json
import shutil
import time
from typing import TYPE_CHECKING, Any

from porchlight_edge.protocol import CAMERA_NAME_RE

from .index import UNKNOWN_CAMERA
from .snapshot import write_atomic
from .writer import replace_durably

if TYPE_CHECKING:
    from pathlib import Path

    from .storage import ClipStore

MANIFEST_VERSION = 1


class ExportError(ValueError):
    """The export would be written outside its folder."""


def export_name(camera: str, clip_id: str) -> str:
    """`porchlight-<camera>-<clip id>.mp4`, the file name of an export.

    A camera name that breaks the camera-name rule (an adopted clip's metadata is not
    trusted) is replaced by `unknown`.
    """
    label = camera if CAMERA_NAME_RE.fullmatch(camera) else UNKNOWN_CAMERA
    return f"porchlight-{label}-{clip_id}.mp4"


def _inside(folder: Path, name: str) -> Path:
    """`folder / name`, checked to resolve to a direct child of `folder`."""
    root = folder.resolve()
    target = (root / name).resolve()
    if target.parent != root:
        raise ExportError(f"export path {name!r} leaves the exports folder")
    return target


def sha256_file(path: Path) -> str:
    """Hex SHA-256 of the file at `path`, read in 1 MiB blocks; OSError if unreadable."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def export_clip(store: ClipStore, clip_id: str, dest: Path | None = None) -> tuple[Path, Path]:
    """Copy a finished clip to `dest` (default: the store's exports folder) + manifest.

    Returns (video path, manifest path). Blocking (hashing): run it in a thread.
    KeyError for an unknown or unfinished clip, ValueError for a malformed id,
    FileNotFoundError when the clip's file is gone, ExportError for a path that would
    leave `dest`, OSError if the copy fails (then nothing of it is left, no `.part` either).
    The export is deleted with its clip (`ClipStore.delete_clip_sync`).
    """
    record, source = store.clip_file(clip_id)
    folder = dest or store.exports_dir
    folder.mkdir(parents=True, exist_ok=True)
    video = _inside(folder, export_name(record.camera, record.id))
    tmp = video.with_name(video.name + ".part")
    try:
        shutil.copyfile(source, tmp)
        replace_durably(tmp, video)
    except BaseException:
        tmp.unlink(missing_ok=True)  # e.g. disk full: no half copy stays behind
        raise
    manifest: dict[str, Any] = {
        "version": MANIFEST_VERSION,
        "file": video.name,
        "size": video.stat().st_size,
        "sha256": sha256_file(video),
        "clip_id": record.id,
        "camera": record.camera,
        "start": record.start,
        "end": record.end,
        "state": str(record.state),
        "events": [
            {"id": e.id, "seq": e.seq, "kind": e.kind, "time": e.time} for e in record.events
        ],
        "exported_at": time.time(),
    }
    manifest_path = video.with_suffix(".manifest.json")
    try:
        write_atomic(manifest_path, json.dumps(manifest, indent=1).encode())
    except BaseException:
        video.unlink(missing_ok=True)  # an export without its manifest proves nothing
        raise
    return video, manifest_path


def verify_export(manifest_path: Path) -> bool:
    """True when the file named in the manifest (next to it) matches size and hash."""
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    name = str(manifest["file"])
    if "/" in name or "\\" in name or name.startswith("."):
        return False
    video = manifest_path.parent / name
    if not video.is_file() or video.stat().st_size != manifest["size"]:
        return False
    return sha256_file(video) == str(manifest["sha256"])
