"""Export with a verifiable manifest; clip ids that could escape the folder are refused."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from porchlight_edge.recorder.export import export_clip, verify_export
from porchlight_edge.recorder.ids import new_id, validate_clip_id
from porchlight_edge.recorder.index import ClipRecord, ClipState
from porchlight_edge.recorder.storage import ClipStore


async def test_export_manifest_verifies_and_detects_tampering(tmp_path: Path) -> None:
    store = ClipStore(tmp_path / "rec")
    await store.open()
    try:
        cid = new_id()
        store.clip_path(cid).write_bytes(b"\x00\x01fake mp4 payload" * 100)
        store.index.adopt_clip(
            ClipRecord(
                cid,
                "front",
                100.0,
                110.0,
                f"{cid}.mp4",
                1700,
                False,
                ClipState.COMPLETE,
                "passthrough",
                None,
            )
        )
        store.index.add_event("ev-1", seq=4, kind="ring", camera="front", time=101.0, clip_id=cid)
        video, manifest_path = export_clip(store, cid, tmp_path / "out")
        manifest = json.loads(manifest_path.read_text())
        assert manifest["clip_id"] == cid
        assert manifest["camera"] == "front"
        assert (manifest["start"], manifest["end"]) == (100.0, 110.0)
        assert manifest["events"][0]["seq"] == 4
        assert manifest["exported_at"] > 0
        assert verify_export(manifest_path)
        data = bytearray(video.read_bytes())
        data[5] ^= 0xFF
        video.write_bytes(bytes(data))
        assert not verify_export(manifest_path)
        with pytest.raises(KeyError):
            export_clip(store, new_id())
    finally:
        await store.close()


@pytest.mark.parametrize(
    "bad",
    [
        "../../etc/passwd",
        "..",
        "",
        "ABCDEF00-0000-0000-0000-000000000000",
        "00000000-0000-0000-0000-000000000000/../x",
        "a" * 36,
        None,
        5,
    ],
)
async def test_path_traversal_in_ids_is_rejected(tmp_path: Path, bad: object) -> None:
    store = ClipStore(tmp_path / "rec")
    with pytest.raises(ValueError, match="invalid clip id"):
        validate_clip_id(bad)
    with pytest.raises(ValueError, match="invalid clip id"):
        store.clip_path(bad)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="invalid"):
        store.snapshot_path(f"{bad}.jpg")
