"""Standalone, footage and secrets that an older version left readable by others (0644
files in 0755 folders) are made private at the next start; foreign files are left alone.
Real service, real files written by a first run."""

from __future__ import annotations

import os
from pathlib import Path
import stat

from porchlight_edge.config import parse_options
from porchlight_edge.service import Service
from tests.helpers.file_modes import loose_modes
from tests.helpers.waiting import wait_until


def _options() -> dict[str, object]:
    return {
        "host": "127.0.0.1",
        "port": 0,
        "zeroconf": False,
        "cameras": [{"name": "door", "source": "demo"}],
    }


async def test_files_left_readable_are_made_private(tmp_path: Path) -> None:
    data = tmp_path / "data"
    service = Service(parse_options(_options(), data))
    await service.start()
    try:
        await wait_until(lambda: service.cameras["door"].last_frame is not None, 10, "a frame")
    finally:
        await service.stop()
    foreign = data / "recordings" / "snapshots" / "family-photo.jpg"
    foreign.write_bytes(b"not ours")
    for path in [data, *data.rglob("*")]:  # what an older version left
        path.chmod(0o755 if path.is_dir() else 0o644)
    assert loose_modes(data)

    service = Service(parse_options(_options(), data))
    await service.start()
    await service.stop()
    left = set(loose_modes(data))
    assert left <= {"recordings 755", "recordings/snapshots/family-photo.jpg 644"}, left
    assert stat.S_IMODE(os.stat(foreign).st_mode) == 0o644  # not ours: untouched
