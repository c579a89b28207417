"""Serve the playable beginning of a clip that is still being recorded.

The clip is a fragmented MP4 growing on disk (`<id>.mp4.part`); its first `length`
bytes (up to its last whole fragment) are a valid MP4 a browser plays. aiohttp's
FileResponse would send the whole file, including a fragment cut short, so this
answers the request's one Range itself against `length`.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Final

from aiohttp import hdrs, web

if TYPE_CHECKING:
    from pathlib import Path

CHUNK: Final = 256 * 1024
"""Bytes read and sent at a time."""


async def serve_growing(request: web.Request, path: Path, length: int) -> web.StreamResponse:
    """Send bytes [0, `length`) of `path`, or the request's one satisfiable Range of them.

    200 without Range, else 206 with `Content-Range: bytes first-last/length`. Not cacheable:
    the clip grows. The caller has already answered unsatisfiable ranges (416).
    FileNotFoundError (before anything is sent) when `path` is gone: the clip finished.
    """
    ranged = hdrs.RANGE in request.headers
    first, stop, _ = request.http_range.indices(length) if ranged else (0, length, 1)
    # Opened before answering: the file is renamed when the clip finishes, and an open
    # file keeps reading the same bytes.
    f = await asyncio.to_thread(open, path, "rb")
    try:
        headers = {
            hdrs.CONTENT_TYPE: "video/mp4",
            hdrs.CONTENT_LENGTH: str(stop - first),
            hdrs.ACCEPT_RANGES: "bytes",
            hdrs.CACHE_CONTROL: "no-store",
        }
        if ranged:
            headers[hdrs.CONTENT_RANGE] = f"bytes {first}-{stop - 1}/{length}"
        response = web.StreamResponse(status=206 if ranged else 200, headers=headers)
        await response.prepare(request)
        await asyncio.to_thread(f.seek, first)
        offset = first
        while offset < stop:
            data = await asyncio.to_thread(f.read, min(CHUNK, stop - offset))
            if not data:  # cannot happen to a file that only grows; never loop on it
                break
            await response.write(data)
            offset += len(data)
        await response.write_eof()
        return response
    finally:
        f.close()
