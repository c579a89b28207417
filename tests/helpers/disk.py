"""A small real disk for disk-full tests (a tmpfs), and a store + recorder on it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
import contextlib
import os
import subprocess
from typing import TYPE_CHECKING

import pytest

from porchlight_edge.recorder.recorder import Recorder, RecorderSettings
from porchlight_edge.recorder.retention import RetentionPolicy
from porchlight_edge.recorder.storage import ClipStore, StoreSettings

if TYPE_CHECKING:
    from pathlib import Path

    from porchlight_edge.recorder.notices import RecordingNotice

KB = 1024


@contextlib.contextmanager
def tmpfs(path: Path, size: str) -> Iterator[Path]:
    """A tmpfs of `size` (mount's syntax, e.g. "2m") at `path`; skips the test if it cannot."""
    path.mkdir(parents=True, exist_ok=True)
    if os.geteuid() != 0:
        pytest.skip("a disk-full test needs a small tmpfs: mounting one needs root")
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)],
        capture_output=True,
        check=False,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.decode().strip()}")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)


def fill(disk: Path, leave: int) -> None:
    """Write `disk/filler` so that about `leave` bytes stay free."""
    st = os.statvfs(disk)
    (disk / "filler").write_bytes(b"\0" * max(0, st.f_bavail * st.f_frsize - leave))


@contextlib.asynccontextmanager
async def recording(
    root: Path,
    events: list[RecordingNotice],
    recorder: RecorderSettings,
    *,
    pause_free_bytes: int = 20 * KB,
    resume_free_bytes: int = 500 * KB,
    check_interval: float = 0.1,
) -> AsyncIterator[tuple[ClipStore, Recorder]]:
    """An open store at `root` (monitor on, no free-space or age retention) and a started
    camera "front" recorder; both stopped on exit."""
    settings = StoreSettings(
        # No age limit: the test footage's camera clock is in 1970.
        retention=RetentionPolicy(min_free_bytes=0, max_age_days=None),
        pause_free_bytes=pause_free_bytes,
        resume_free_bytes=resume_free_bytes,
        check_interval=check_interval,
    )
    store = ClipStore(root, settings, listener=events.append)
    await store.open()
    rec = Recorder("front", store, recorder)
    rec.start()
    try:
        yield store, rec
    finally:
        await rec.stop()
        await store.close()
